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
// # Pool and isolation: locked-down runtimes, reset between runs
//
// Preparing a hardened goja runtime costs milliseconds (goja builds its
// built-ins lazily, and hardening touches most of them), so runtimes are
// pooled and reused: Config.PoolSize of them, each serving up to 10,000
// runs. Compiled programs are cached by code (goja.Compile once; a Program
// is immutable and shared by all runtimes). On the 2-core development VM a
// small transform then costs about 0.1 ms of CPU (BenchmarkRunSmall), most
// of it converting the request between Go and JavaScript, against about
// 8 ms to prepare a runtime (BenchmarkPrepareRuntime).
//
// goja has no realms, so a reused runtime cannot offer a fresh global
// object; instead the runtime makes everything a run could change either
// immutable or reset after the run ("reset what the code can touch"):
//   - every built-in object, function and prototype (everything reachable
//     from the global object, plus the iterator, generator and async
//     intrinsics only syntax reaches) is frozen once, when the runtime is
//     prepared; to keep ordinary assignments like err.name = 'X' or
//     obj.toString = f working on instances, those few prototype properties
//     become accessors whose setter defines an own property (the SES
//     "override mistake" taming);
//   - user code runs in a function scope created afresh for each run, so
//     its top-level declarations are locals of that run; the global
//     object's own properties are read-only, and whatever a run adds to it
//     (implicit globals, globalThis.x) is deleted afterwards;
//   - a run that ends abnormally (time or memory limit, stack overflow,
//     engine panic, ctx cancelled) or that leaves the global object in a
//     state reset cannot undo (non-configurable additions,
//     preventExtensions, a changed prototype) drops its runtime, and a new
//     one is prepared after the caller has been answered.
//
// The price is compatibility at the edges: code cannot add methods to
// built-in prototypes (String.prototype.x = ... fails, silently in sloppy
// mode as on any frozen object) or assign over a built-in prototype
// property other than the tamed ones on an instance; top-level var and
// function declarations do not become properties of globalThis.
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
// its next instruction, so `while (true) {}` ends within the limit, and the
// runtime is dropped. Run answers within the limit plus a 250 ms grace even
// if the script is stuck inside one native built-in call (Interrupt cannot
// stop those); that runtime is abandoned, keeps its pool slot, and its
// goroutine ends when the call returns. Backtracking regular expressions
// (goja's regexp2 engine) give up after 2 s process-wide.
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
// Besides the refusals and lockdown effects above: object key order of a
// Go-map body is sorted
// (a json.RawMessage body keeps its order); the output body is decoded JSON,
// so it loses key order; a handler returning anything but an object fails
// with kind invalid_output (Hookdeck's handling of falsy returns is
// unverified).
package transform
