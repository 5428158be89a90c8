// Package transform runs Hookdeck transformations: JavaScript that calls
//
//	addHandler('transform', (request, context) => { ...; return request; })
//
// where request is {headers, body, path, query, parsed_query} and context is
// {env}. The returned object replaces the event's headers, body, path and
// query. console.log/info/warn/error/debug are captured, never printed. The
// engine is goja (pure Go, ES2015+ with generators and async functions, no
// Promise job loop needed: handlers are synchronous).
//
// # Isolation: one fresh runtime per run
//
// goja has no realms, so a reused runtime cannot give user code a fresh
// global; "resetting what the code can touch" would mean restoring every
// property of ~60 built-in constructors and prototypes after each run, and
// some changes cannot be undone at all (Object.freeze(Array.prototype),
// Object.preventExtensions(globalThis)). Freezing the built-ins instead
// breaks ordinary code (assigning err.name or obj.toString on an instance
// fails: the "override mistake"). So every run gets a runtime no code has
// touched, and the runtime is dropped afterwards. goja creates its built-ins
// lazily, so a fresh runtime costs microseconds, not milliseconds; the pool
// keeps Config.PoolSize runtimes prepared (created and hardened, never used)
// and refills itself on the goroutine of a run that just finished, after its
// caller was answered. Compiled programs are cached by code (goja.Compile
// once; a Program is immutable and shared by all runtimes).
//
// # Sandbox
//
// goja has no require, fetch, timers, filesystem or network access unless
// the host adds them, and this host adds only console and addHandler. On top
// of that: source maps are disabled (goja would otherwise read the path in a
// "//# sourceMappingURL=" comment from disk); eval and the Function
// constructors throw EvalError; BigInt (literals are refused at compile
// time), ArrayBuffer, DataView and the typed arrays are removed; the call
// stack is bounded (Config.MaxCallStackSize).
//
// # Limits
//
// Time: each run has Config.Timeout; goja's Interrupt stops JavaScript at
// its next instruction, so `while (true) {}` ends within the limit. Run
// answers within the limit plus a 250 ms grace even if the script is stuck
// inside one native built-in call (Interrupt cannot stop those); that
// runtime is abandoned and its goroutine ends when the call returns.
//
// Memory is best effort, in three layers:
//  1. Input and output requests are bounded by Config.MaxPayloadBytes
//     (approximate JSON size), output nesting by 512 levels, console output
//     by Config.MaxConsoleBytes.
//  2. A per-run watchdog samples the process heap every
//     Config.MemorySampleInterval and stops a run whose heap growth,
//     confirmed by a forced collection, exceeds Config.MaxMemoryBytes. This
//     catches allocation driven by JavaScript (loops pushing to arrays,
//     string doubling). It measures the whole process, so concurrent
//     activity counts against a run; the first sample comes one interval in,
//     so short runs are never sampled; the overshoot is whatever is
//     allocated within one interval plus one native step.
//  3. Built-ins that can allocate without bound in one native call are
//     guarded: String.prototype.repeat/padStart/padEnd, Array.prototype
//     fill/join/flat, Array.from, Function.prototype.apply,
//     Reflect.apply/construct, JSON.parse (nesting) and JSON.stringify
//     (nesting, output size, and it stops when a limit trips).
//
// What is not covered, honestly: native built-ins not listed above still
// run to completion once called, so some one-liners can allocate far beyond
// the limit or spin for a long time before the interrupt is seen — for
// example spreading a huge sparse array ([...Array(1e9)]), slicing or
// concatenating one, or catastrophic regular-expression backtracking. goja
// also recurses in Go through long prototype or Proxy chains without a depth
// check; the memory limit bounds how long such a chain can get, and Go's
// stack limit (1 GB) is the last line. A process memory limit (GOMEMLIMIT
// plus a container limit) remains the backstop; transformation authors are
// API-key holders of a self-hosted gateway, not anonymous users.
//
// # Differences from Hookdeck (V8)
//
// Besides the refusals above: object key order of a Go-map body is sorted
// (a json.RawMessage body keeps its order); the output body is decoded JSON,
// so it loses key order; a handler returning anything but an object fails
// with kind invalid_output (Hookdeck's handling of falsy returns is
// unverified).
package transform
