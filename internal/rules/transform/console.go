package transform

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// ConsoleLine is one console.* call made by a transformation, in the shape
// of Hookdeck's ConsoleLine.
type ConsoleLine struct {
	// Type is the console method: log, info, warn, error or debug.
	Type string `json:"type"`
	// Message is the call's arguments rendered and joined by spaces.
	Message string `json:"message"`
}

// Log levels of a run (Hookdeck's TransformationExecutionLogLevel), lowest
// first. console.log counts as info; a failed run is fatal.
const (
	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
	LevelFatal = "fatal"
)

// levels orders the log levels; index = rank.
var levels = [...]string{LevelDebug, LevelInfo, LevelWarn, LevelError, LevelFatal}

// consoleMethods are the captured console methods and the level each logs at.
var consoleMethods = [...]struct {
	name string
	rank int
}{{"log", 1}, {"info", 1}, {"warn", 2}, {"error", 3}, {"debug", 0}}

// Rendering bounds for one console message.
const (
	maxMessageBytes = 8 << 10
	maxRenderDepth  = 6
	maxRenderItems  = 100
)

// consoleBuffer collects a run's console lines up to a byte budget; lines
// beyond it are counted, not kept, and announced by one final line.
type consoleBuffer struct {
	lines   []ConsoleLine
	bytes   int
	max     int
	dropped int
	rank    int // highest level logged
}

// add records a line unless the budget is spent.
func (c *consoleBuffer) add(typ string, rank int, msg string) {
	if c.bytes+len(msg) > c.max {
		c.drop(rank)
		return
	}
	c.rank = max(c.rank, rank)
	c.bytes += len(msg)
	c.lines = append(c.lines, ConsoleLine{Type: typ, Message: msg})
}

// drop counts a line that does not fit.
func (c *consoleBuffer) drop(rank int) {
	c.rank = max(c.rank, rank)
	c.dropped++
}

// result returns the lines, with a note when some were dropped.
func (c *consoleBuffer) result() []ConsoleLine {
	if c.dropped == 0 {
		return c.lines
	}
	return append(c.lines, ConsoleLine{Type: "warn",
		Message: "console output truncated: " + strconv.Itoa(c.dropped) + " more line(s) over the " + strconv.Itoa(c.max) + "-byte limit"})
}

// consoleFunc returns the native implementation of console[name].
func (s *sandbox) consoleFunc(name string, rank int) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		if s.console.bytes >= s.console.max {
			s.console.drop(rank) // budget spent: count it without rendering
			return goja.Undefined()
		}
		r := renderer{budget: maxMessageBytes}
		for i, arg := range call.Arguments {
			if i > 0 {
				r.b.WriteByte(' ')
			}
			r.value(arg, 0, true)
		}
		s.console.add(name, rank, r.String())
		return goja.Undefined()
	}
}

// renderer turns JavaScript values into console text: strings as they are
// at the top level, everything else in a compact JSON-like form; cycles
// print as [Circular], deep or long structures are elided. It may run user
// getters, so it is only used while the run's limits are armed.
type renderer struct {
	b         strings.Builder
	budget    int
	truncated bool
	path      []*goja.Object
}

func (r *renderer) String() string {
	if r.truncated {
		return r.b.String() + "…"
	}
	return r.b.String()
}

func (r *renderer) write(s string) bool {
	if r.truncated {
		return false
	}
	if r.b.Len()+len(s) > r.budget {
		n := r.budget - r.b.Len()
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		r.b.WriteString(s[:max(n, 0)])
		r.truncated = true
		return false
	}
	r.b.WriteString(s)
	return true
}

func (r *renderer) value(v goja.Value, depth int, top bool) {
	if r.truncated {
		return
	}
	switch {
	case v == nil || goja.IsUndefined(v):
		r.write("undefined")
		return
	case goja.IsNull(v):
		r.write("null")
		return
	case goja.IsString(v):
		if top {
			r.write(v.String())
		} else {
			r.write(strconv.Quote(v.String()))
		}
		return
	}
	o, ok := v.(*goja.Object)
	if !ok {
		r.write(v.String()) // number, boolean, symbol
		return
	}
	if _, ok := goja.AssertFunction(o); ok {
		name := o.Get("name")
		if name == nil || !goja.IsString(name) || name.String() == "" {
			r.write("[Function (anonymous)]")
		} else {
			r.write("[Function: " + name.String() + "]")
		}
		return
	}
	switch o.ClassName() {
	case "Error", "Date", "RegExp", "String", "Number", "Boolean":
		r.write(o.String())
		return
	}
	for _, p := range r.path {
		if p == o {
			r.write("[Circular]")
			return
		}
	}
	isArray := o.ClassName() == "Array"
	if depth >= maxRenderDepth {
		if isArray {
			r.write("[Array]")
		} else {
			r.write("[Object]")
		}
		return
	}
	r.path = append(r.path, o)
	defer func() { r.path = r.path[:len(r.path)-1] }()
	if isArray {
		n := arrayLength(o)
		r.write("[")
		for i := int64(0); i < n; i++ {
			if i > 0 {
				r.write(",")
			}
			if i == maxRenderItems {
				r.write("… " + strconv.FormatInt(n-i, 10) + " more items")
				break
			}
			r.value(o.Get(strconv.FormatInt(i, 10)), depth+1, false)
		}
		r.write("]")
		return
	}
	r.write("{")
	for i, k := range o.Keys() {
		if i > 0 {
			r.write(",")
		}
		if i == maxRenderItems {
			r.write("…")
			break
		}
		r.write(strconv.Quote(k) + ":")
		r.value(o.Get(k), depth+1, false)
	}
	r.write("}")
}

// arrayLength reads an array's length as an integer.
func arrayLength(o *goja.Object) int64 {
	l := o.Get("length")
	if l == nil {
		return 0
	}
	f := l.ToFloat()
	if math.IsNaN(f) || f < 0 {
		return 0
	}
	return int64(f)
}
