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

// sandbox is one goja runtime prepared for exactly one run: hardened
// built-ins, console capture and addHandler, and nothing else — goja has no
// require, fetch, timers, filesystem or network unless the host adds them,
// and this host adds none. A sandbox is never reused: the next run gets a
// fresh runtime, so nothing a script does to globals or built-ins can reach
// another run.
type sandbox struct {
	rt         *goja.Runtime
	lim        *limits
	handler    goja.Callable
	registered bool
	console    consoleBuffer
	watch      *watch        // the current run's limits
	jsonParse  goja.Callable // the original JSON.parse, for json.RawMessage input
	protectFn  goja.Callable
	protected  func()
}

// newSandbox prepares a fresh runtime. It runs no user code.
func newSandbox(l *limits) (*sandbox, error) {
	rt := goja.New()
	rt.SetParserOptions(parser.WithDisableSourceMaps)
	rt.SetMaxCallStackSize(l.maxCallStack)
	s := &sandbox{rt: rt, lim: l, console: consoleBuffer{max: l.maxConsole}}

	v, err := rt.RunProgram(hardenProgram())
	if err != nil {
		return nil, fmt.Errorf("transform: load hardening: %w", err)
	}
	harden, ok := goja.AssertFunction(v)
	if !ok {
		return nil, errors.New("transform: hardening script did not return a function")
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
	return s, nil
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
		// Input is built before any user code runs: nothing the script
		// does to Object.prototype can interfere with it.
		b := inputBuilder{s: s, budget: s.lim.maxPayload}
		var ee *ExecError
		if req, ee = b.request(*in); ee != nil {
			return s.fail(ee)
		}
		ctxArg = b.context(env)
	}
	if _, err := s.rt.RunProgram(prog); err != nil {
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

// jsError classifies an error from goja.
func (s *sandbox) jsError(err error) *ExecError {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
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
		return w.reason()
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
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
	return &ExecError{Kind: KindRuntime, Message: err.Error()}
}
