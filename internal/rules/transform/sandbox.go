package transform

import (
	"errors"
	"fmt"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// limits are the engine's bounds as the sandbox uses them.
type limits struct {
	maxStr       int // longest string a guarded built-in may build, in UTF-16 units
	maxArr       int // most elements a guarded built-in may create
	maxArgs      int // most arguments apply/Reflect.apply/construct may spread
	maxCallStack int
	maxPayload   int
	maxConsole   int
}

// sandbox is one goja runtime prepared for transformations: hardened
// built-ins, console capture and addHandler, then locked down (see
// lockdownSource) so that it can serve many runs without one run seeing
// another's state. goja has no require, fetch, timers, filesystem or
// network unless the host adds them, and this host adds none.
//
// A sandbox serves one run at a time. After a run it goes back to the pool
// only if the run ended normally (returned or threw) and reset succeeded;
// a run stopped by a limit, a stack overflow or an engine panic drops it.
type sandbox struct {
	rt        *goja.Runtime
	lim       *limits
	reset     goja.Callable // deletes globals a run added; false if it cannot
	protectFn goja.Callable
	protected func()
	jsonParse goja.Callable // the original JSON.parse, for json.RawMessage input
	uses      int

	// Per-run state, cleared by begin.
	handler    goja.Callable
	registered bool
	console    consoleBuffer
	watch      *watch
	broken     bool // the runtime must not be reused
}

// maxSandboxUses bounds how many runs one runtime serves before it is
// replaced (goja keeps a few process-lifetime tables per runtime, such as
// the Symbol.for registry, that runs can grow).
const maxSandboxUses = 10000

// newSandbox prepares a runtime. It runs no user code.
func newSandbox(l *limits) (*sandbox, error) {
	rt := goja.New()
	rt.SetParserOptions(parser.WithDisableSourceMaps)
	rt.SetMaxCallStackSize(l.maxCallStack)
	s := &sandbox{rt: rt, lim: l}

	harden, err := setupFunc(rt, hardenProgram())
	if err != nil {
		return nil, err
	}
	if _, err := harden(goja.Undefined(), rt.ToValue(l.maxStr), rt.ToValue(l.maxArr),
		rt.ToValue(l.maxArgs), rt.ToValue(maxJSONDepth)); err != nil {
		return nil, fmt.Errorf("transform: harden runtime: %w", err)
	}
	if err := s.installJSONGuards(l.maxStr); err != nil {
		return nil, err
	}
	console := rt.NewObject()
	for _, m := range consoleMethods {
		define(console, m.name, rt.ToValue(s.consoleFunc(m.name, m.rank)))
	}
	global := rt.GlobalObject()
	if err := global.DefineDataProperty("console", console, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		return nil, fmt.Errorf("transform: install console: %w", err)
	}
	if err := global.DefineDataProperty("addHandler", rt.ToValue(s.addHandler), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		return nil, fmt.Errorf("transform: install addHandler: %w", err)
	}
	s.protectFn, _ = goja.AssertFunction(rt.ToValue(func(goja.FunctionCall) goja.Value {
		s.protected()
		return goja.Undefined()
	}))

	lockdown, err := setupFunc(rt, lockdownProgram())
	if err != nil {
		return nil, err
	}
	resetValue, err := lockdown(goja.Undefined())
	if err != nil {
		return nil, fmt.Errorf("transform: lock down runtime: %w", err)
	}
	var ok bool
	if s.reset, ok = goja.AssertFunction(resetValue); !ok {
		return nil, errors.New("transform: lockdown did not return a reset function")
	}
	return s, nil
}

// setupFunc runs a setup program, which evaluates to a function.
func setupFunc(rt *goja.Runtime, p *goja.Program) (goja.Callable, error) {
	v, err := rt.RunProgram(p)
	if err != nil {
		return nil, fmt.Errorf("transform: load setup script: %w", err)
	}
	fn, ok := goja.AssertFunction(v)
	if !ok {
		return nil, errors.New("transform: setup script did not return a function")
	}
	return fn, nil
}

// begin prepares the sandbox for a run under w.
func (s *sandbox) begin(w *watch) {
	s.uses++
	s.handler, s.registered, s.broken = nil, false, false
	s.console = consoleBuffer{max: s.lim.maxConsole}
	s.watch = w
}

// finish ends a run and reports whether the sandbox may serve another.
func (s *sandbox) finish() bool {
	s.handler, s.protected = nil, nil
	reusable := !s.broken && !s.watch.tripped() && s.uses < maxSandboxUses
	s.watch = nil
	if !reusable {
		return false
	}
	ok, err := s.reset(goja.Undefined())
	if err != nil || !ok.ToBoolean() {
		return false
	}
	s.rt.ClearInterrupt() // none can be pending after watch.stop; be sure
	return true
}

// addHandler is the global addHandler(name, fn). Only 'transform' exists.
func (s *sandbox) addHandler(call goja.FunctionCall) goja.Value {
	name := call.Argument(0)
	if !goja.IsString(name) {
		panic(s.rt.NewTypeError("addHandler: the handler name must be a string, got %s", typeName(name)))
	}
	if name.String() != "transform" {
		panic(s.rt.NewTypeError("addHandler: unknown handler %q; the only handler is 'transform'", truncate(name.String(), 100)))
	}
	fn, ok := goja.AssertFunction(call.Argument(1))
	if !ok {
		panic(s.rt.NewTypeError("addHandler('transform', handler): handler must be a function, got %s", typeName(call.Argument(1))))
	}
	s.handler, s.registered = fn, true
	return goja.Undefined()
}

// protect runs fn as if called from JavaScript, so that exceptions thrown
// and interrupts raised by user code it triggers (getters, toJSON,
// toString) come back as errors instead of Go panics.
func (s *sandbox) protect(fn func()) error {
	s.protected = fn
	_, err := s.protectFn(goja.Undefined())
	return err
}

// execute runs prog and, when in is not nil, calls its transform handler
// with in and env. With in nil it only checks that the code registers a
// handler (Validate).
func (s *sandbox) execute(prog *goja.Program, in *Request, env map[string]string) (Result, error) {
	var req, ctxArg goja.Value
	if in != nil {
		// Input is built before the run's code runs; the built-ins it
		// relies on are frozen anyway.
		b := inputBuilder{s: s, budget: s.lim.maxPayload}
		var ee *ExecError
		if req, ee = b.request(*in); ee != nil {
			return s.fail(ee)
		}
		ctxArg = b.context(env)
	}
	wrapper, err := s.rt.RunProgram(prog)
	if err != nil {
		return s.fail(s.jsError(err))
	}
	body, ok := goja.AssertFunction(wrapper)
	if !ok {
		return s.fail(&ExecError{Kind: KindRuntime, Message: "internal error: compiled code is not a function"})
	}
	if _, err := body(s.rt.GlobalObject()); err != nil {
		return s.fail(s.jsError(err))
	}
	if !s.registered {
		return s.fail(&ExecError{Kind: KindRuntime,
			Message: "the code must call addHandler('transform', (request, context) => { ...; return request; })"})
	}
	if in == nil {
		return s.result(Request{}), nil
	}
	ret, err := s.handler(goja.Undefined(), req, ctxArg)
	if err != nil {
		return s.fail(s.jsError(err))
	}
	x := exporter{s: s, budget: s.lim.maxPayload}
	var out Request
	if err := s.protect(func() { out = x.request(ret, *in) }); err != nil {
		return s.fail(s.jsError(err))
	}
	if x.jsErr != nil {
		return s.fail(s.jsError(x.jsErr))
	}
	if x.err != nil {
		return s.fail(x.err)
	}
	return s.result(out), nil
}

func (s *sandbox) result(req Request) Result {
	return Result{Request: req, Console: s.console.result(), LogLevel: levels[s.console.rank]}
}

// fail is the Result of a failed run: what the code logged, at level fatal.
func (s *sandbox) fail(e *ExecError) (Result, error) {
	return Result{Console: s.console.result(), LogLevel: LevelFatal}, e
}

// jsError classifies an error from goja. Uncatchable errors mark the
// runtime broken.
func (s *sandbox) jsError(err error) *ExecError {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		s.broken = true
		if e, ok := ie.Value().(*ExecError); ok {
			return e
		}
		return &ExecError{Kind: KindTimeout, Message: fmt.Sprint(ie.Value())}
	}
	var ee *ExecError
	if errors.As(err, &ee) {
		return ee
	}
	if w := s.watch; w != nil && w.tripped() {
		// A native guard saw the limit first and threw; report the limit.
		s.broken = true
		return w.reason()
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		s.broken = true
		return exceptionError("RangeError: Maximum call stack size exceeded", so.Stack())
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		desc := "Uncaught exception (its value could not be rendered)"
		if perr := s.protect(func() { desc = describeThrown(ex.Value()) }); perr != nil {
			desc = "Uncaught exception (its value could not be rendered)"
		}
		return exceptionError(desc, ex.Stack())
	}
	s.broken = true
	return &ExecError{Kind: KindRuntime, Message: err.Error()}
}
