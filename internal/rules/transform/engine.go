package transform

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/dlclark/regexp2/v2"
)

// Request is the request a transformation sees and returns: Hookdeck's
// {headers, body, path, query, parsed_query}.
type Request struct {
	// Headers are the request headers.
	Headers map[string]string
	// Body is the decoded JSON body (map[string]any, []any, string,
	// float64, json.Number, bool, nil) or a string for a non-JSON body. A
	// json.RawMessage is parsed inside the runtime, which keeps its key
	// order. In a Result, Body is always decoded JSON: map[string]any,
	// []any, string, float64, bool or nil.
	Body any
	// Path is the request path.
	Path string
	// Query is the raw query string, without '?'.
	Query string
	// ParsedQuery is Query as an object (see ParseQuery); when nil on input
	// it is derived from Query. In a Result it is re-derived whenever the
	// transformation changed Query.
	ParsedQuery map[string]any
}

// Result is a successful run's output, or what a failed run logged.
type Result struct {
	// Request is the transformed request (zero when the run failed).
	Request Request
	// Console holds the console.* lines the code wrote, in order.
	Console []ConsoleLine
	// LogLevel is the highest level logged (debug < info < warn < error <
	// fatal): debug when nothing was logged, fatal when the run failed.
	LogLevel string
}

// Defaults for Config.
const (
	DefaultTimeout              = time.Second
	DefaultMaxCodeBytes         = 5 << 20
	DefaultMaxMemoryBytes       = 256 << 20
	DefaultMaxPayloadBytes      = 10 << 20
	DefaultMaxConsoleBytes      = 64 << 10
	DefaultMaxCallStackSize     = 10000
	DefaultMemorySampleInterval = 10 * time.Millisecond
	DefaultProgramCacheSize     = 256
)

// abandonGrace is how long past its time limit (or its context's end) a run
// may take to stop before Run answers without it: a native built-in in the
// middle of a call does not see the interrupt.
const abandonGrace = 250 * time.Millisecond

// regexpMatchTimeout bounds one backtracking regular-expression match. goja
// runs patterns RE2 can handle with Go's linear-time regexp and the rest
// (backreferences, lookaround) with regexp2, which backtracks and can take
// exponential time in one native call that Interrupt cannot stop. regexp2's
// timeout is process-wide and read when a pattern is compiled; NewEngine
// sets it once, only lowering it. A match that times out reports "no match",
// but by then the run has passed its own time limit and is being
// interrupted, so the script never sees that answer.
const regexpMatchTimeout = 2 * time.Second

var setRegexpTimeout sync.Once

// maxV8StringLength is V8's string length limit, in UTF-16 units.
const maxV8StringLength = 1<<29 - 24

// Config bounds the engine. A zero or negative field takes its default.
type Config struct {
	// Timeout is the time limit of one run (Hookdeck: 1 s).
	Timeout time.Duration
	// MaxCodeBytes is the largest code accepted (Hookdeck: 5 MB).
	MaxCodeBytes int
	// PoolSize is the number of runs that may execute at once and of
	// prepared runtimes kept ready (default GOMAXPROCS).
	PoolSize int
	// MaxMemoryBytes is how much a run may grow the heap before the
	// watchdog stops it; it also sizes the guards on one-step allocations
	// (strings up to MaxMemoryBytes/2 UTF-16 units, capped at V8's limit;
	// arrays up to MaxMemoryBytes/32 elements). Best effort: see the
	// package documentation.
	MaxMemoryBytes int64
	// MaxPayloadBytes bounds the request given to and returned by a run,
	// measured as its approximate JSON size.
	MaxPayloadBytes int
	// MaxConsoleBytes bounds the console output kept per run.
	MaxConsoleBytes int
	// MaxCallStackSize is the deepest JavaScript call stack allowed.
	MaxCallStackSize int
	// MemorySampleInterval is how often the memory watchdog samples the
	// heap during a run.
	MemorySampleInterval time.Duration
	// ProgramCacheSize is how many compiled programs are kept.
	ProgramCacheSize int
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxCodeBytes <= 0 {
		c.MaxCodeBytes = DefaultMaxCodeBytes
	}
	if c.PoolSize <= 0 {
		c.PoolSize = runtime.GOMAXPROCS(0)
	}
	if c.MaxMemoryBytes <= 0 {
		c.MaxMemoryBytes = DefaultMaxMemoryBytes
	}
	if c.MaxPayloadBytes <= 0 {
		c.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if c.MaxConsoleBytes <= 0 {
		c.MaxConsoleBytes = DefaultMaxConsoleBytes
	}
	if c.MaxCallStackSize <= 0 {
		c.MaxCallStackSize = DefaultMaxCallStackSize
	}
	if c.MemorySampleInterval <= 0 {
		c.MemorySampleInterval = DefaultMemorySampleInterval
	}
	if c.ProgramCacheSize <= 0 {
		c.ProgramCacheSize = DefaultProgramCacheSize
	}
	return c
}

// Engine runs transformations. It is safe for concurrent use; it keeps no
// background goroutines, so it needs no Close.
type Engine struct {
	cfg      Config
	lim      limits
	programs *programCache
	slots    chan struct{} // one per executing run
	idle     chan *sandbox // prepared, never used runtimes
}

// NewEngine returns an engine bounded by cfg (zero fields take defaults).
func NewEngine(cfg Config) *Engine {
	cfg = cfg.WithDefaults()
	setRegexpTimeout.Do(func() {
		if regexp2.DefaultMatchTimeout > regexpMatchTimeout {
			regexp2.DefaultMatchTimeout = regexpMatchTimeout
		}
	})
	return &Engine{
		cfg: cfg,
		lim: limits{
			maxStr:       int(min(cfg.MaxMemoryBytes/2, maxV8StringLength)),
			maxArr:       int(max(cfg.MaxMemoryBytes/32, 1<<10)),
			maxArgs:      1 << 17,
			maxCallStack: cfg.MaxCallStackSize,
			maxPayload:   cfg.MaxPayloadBytes,
			maxConsole:   cfg.MaxConsoleBytes,
		},
		programs: newProgramCache(cfg.ProgramCacheSize),
		slots:    make(chan struct{}, cfg.PoolSize),
		idle:     make(chan *sandbox, cfg.PoolSize),
	}
}

// Config returns the engine's configuration, defaults applied.
func (e *Engine) Config() Config { return e.cfg }

// Validate checks code the way a run would, without a request: it must
// compile (a *ExecError of kind syntax names the line and column otherwise)
// and, run once in the sandbox under the same limits, register a handler
// with addHandler('transform', fn).
func (e *Engine) Validate(code string) error {
	_, err := e.run(context.Background(), code, nil, nil)
	return err
}

// Run executes code's transform handler on in, with context.env = env.
//
// A failure of the transformation itself (syntax, exception, time or memory
// limit, invalid return value) is a *ExecError, with the Result still
// carrying what the code logged. Any other error is the engine's or ctx's:
// ctx ending while waiting for a free slot or during the run (the run is
// interrupted).
//
// Run answers within Config.Timeout plus a short grace even when the script
// is stuck inside a native built-in; that runtime is then abandoned (it
// keeps its slot until it stops) and never reused.
func (e *Engine) Run(ctx context.Context, code string, env map[string]string, in Request) (Result, error) {
	return e.run(ctx, code, env, &in)
}

type outcome struct {
	res Result
	err error
}

func (e *Engine) run(ctx context.Context, code string, env map[string]string, in *Request) (Result, error) {
	prog, cerr := e.programs.get(code, e.cfg.MaxCodeBytes)
	if cerr != nil {
		return Result{LogLevel: LevelFatal}, cerr
	}
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("transform: waiting for a free runtime: %w", ctx.Err())
	}
	sb, err := e.take()
	if err != nil {
		<-e.slots
		return Result{}, err
	}
	w := startWatch(sb.rt, e.cfg.Timeout, e.cfg.MaxMemoryBytes, e.cfg.MemorySampleInterval)
	sb.begin(w)
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		func() {
			defer func() {
				if x := recover(); x != nil {
					sb.broken = true
					o = outcome{Result{LogLevel: LevelFatal}, &ExecError{Kind: KindRuntime,
						Message: fmt.Sprintf("internal error in the JavaScript engine: %v", x)}}
				}
			}()
			o.res, o.err = sb.execute(prog, in, env)
		}()
		w.stop()
		done <- o
		e.release(sb, w)
	}()

	hard := time.NewTimer(e.cfg.Timeout + abandonGrace)
	defer hard.Stop()
	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		w.trip(&ExecError{Kind: KindTimeout, Message: "run cancelled"})
		select {
		case <-done:
		case <-time.After(abandonGrace):
		}
		return Result{}, fmt.Errorf("transform: run cancelled: %w", ctx.Err())
	case <-hard.C:
		w.trip(&ExecError{Kind: KindTimeout, Message: "time limit"})
		return Result{LogLevel: LevelFatal}, &ExecError{Kind: KindTimeout, Message: fmt.Sprintf(
			"transformation exceeded the %s time limit and did not stop (stuck in a built-in); it was abandoned", e.cfg.Timeout)}
	}
}

// take returns an idle runtime, or prepares one.
func (e *Engine) take() (*sandbox, error) {
	select {
	case sb := <-e.idle:
		return sb, nil
	default:
		return newSandbox(&e.lim)
	}
}

// release ends a run on sb's goroutine, after its caller was answered: sb
// goes back to the pool if it can be reset, otherwise it is dropped and a
// fresh runtime is prepared in its place, so that preparation (a few
// milliseconds) stays off the request path. After a run stopped for memory
// it collects the heap before freeing the slot, so that the next run's
// watchdog starts from an accurate reading instead of one inflated by the
// stopped run's garbage.
func (e *Engine) release(sb *sandbox, w *watch) {
	if !sb.finish() {
		sb = nil
	}
	if r := w.reason(); r != nil && r.Kind == KindMemory {
		collectGarbage()
	}
	<-e.slots
	if sb == nil {
		var err error
		if sb, err = newSandbox(&e.lim); err != nil {
			return
		}
	}
	select {
	case e.idle <- sb:
	default:
	}
}
