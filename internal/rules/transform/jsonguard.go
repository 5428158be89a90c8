package transform

import (
	"fmt"

	"github.com/dop251/goja"
)

// maxJSONDepth bounds the nesting JSON.parse and JSON.stringify accept.
// goja implements both by recursion in Go without a depth check, so a
// '['.repeat(1e7) or a ten-million-level object would overflow the Go stack
// and crash the process; V8 throws RangeError there instead, as these
// wrappers do.
const maxJSONDepth = 1000

// installJSONGuards replaces JSON.parse and JSON.stringify with native
// wrappers around the originals:
//
//   - parse refuses text nested deeper than maxJSONDepth;
//   - stringify passes its own replacer (composed with the caller's, whose
//     semantics it keeps, including an array replacer's property list) that
//     refuses nesting deeper than maxJSONDepth, charges an estimate of the
//     output against the string limit (a small DAG like a = [a0, a0] nested
//     40 times would otherwise print 2^40 leaves in one native call), and
//     stops as soon as the run's limits trip — the natives themselves never
//     look at the interrupt flag.
//
// The original parse is kept on the sandbox for converting json.RawMessage
// input.
func (s *sandbox) installJSONGuards(maxStr int) error {
	rt := s.rt
	j := rt.Get("JSON").ToObject(rt)
	parse, ok1 := goja.AssertFunction(j.Get("parse"))
	stringify, ok2 := goja.AssertFunction(j.Get("stringify"))
	if !ok1 || !ok2 {
		return fmt.Errorf("transform: JSON.parse/stringify missing")
	}
	s.jsonParse = parse
	rangeError := rt.Get("RangeError").ToObject(rt)
	syntaxError := rt.Get("SyntaxError").ToObject(rt)
	throw := func(ctor *goja.Object, msg string) {
		e, err := rt.New(ctor, rt.ToValue(msg))
		if err != nil {
			panic(err)
		}
		panic(e)
	}

	parseGuard := func(call goja.FunctionCall) goja.Value {
		text := call.Argument(0).String()
		if jsonDepthExceeds(text, maxJSONDepth) {
			throw(syntaxError, fmt.Sprintf("JSON is nested more than %d levels deep", maxJSONDepth))
		}
		v, err := parse(call.This, rt.ToValue(text), call.Argument(1))
		if err != nil {
			panic(err)
		}
		return v
	}

	stringifyGuard := func(call goja.FunctionCall) goja.Value {
		g := stringifyState{s: s, maxStr: maxStr, depths: map[*goja.Object]int{},
			throw: func(msg string) { throw(rangeError, msg) }}
		if ro, ok := call.Argument(1).(*goja.Object); ok {
			if fn, ok := goja.AssertFunction(ro); ok {
				g.user = fn
			} else if ro.ClassName() == "Array" {
				g.allow = propertyList(ro)
			}
		}
		g.gap = gapLength(call.Argument(2))
		v, err := stringify(call.This, call.Argument(0), rt.ToValue(g.replace), call.Argument(2))
		if err != nil {
			panic(err)
		}
		return v
	}

	for name, fn := range map[string]func(goja.FunctionCall) goja.Value{"parse": parseGuard, "stringify": stringifyGuard} {
		f := rt.ToValue(fn).(*goja.Object)
		_ = f.DefineDataProperty("name", rt.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		length := 2
		if name == "stringify" {
			length = 3
		}
		_ = f.DefineDataProperty("length", rt.ToValue(length), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
		if err := j.DefineDataProperty(name, f, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return fmt.Errorf("transform: install JSON.%s guard: %w", name, err)
		}
	}
	return nil
}

// stringifyState is one JSON.stringify call's guard.
type stringifyState struct {
	s      *sandbox
	user   goja.Callable // the caller's replacer function, if any
	allow  []string      // the caller's array replacer as a property list
	gap    int
	maxStr int
	used   int
	depths map[*goja.Object]int // depth of each object met, by identity
	throw  func(msg string)
}

// replace is the replacer handed to the real stringify: it runs the caller's
// replacer, then checks and charges the value about to be serialized.
func (g *stringifyState) replace(call goja.FunctionCall) goja.Value {
	if w := g.s.watch; w != nil && w.tripped() {
		g.throw("transformation stopped: " + w.reason().Message)
	}
	key, v := call.Argument(0), call.Argument(1)
	if g.user != nil {
		r, err := g.user(call.This, key, v)
		if err != nil {
			panic(err)
		}
		v = r
	}
	depth := 0
	if holder, ok := call.This.(*goja.Object); ok {
		depth = g.depths[holder]
	}
	g.used += 4 + g.gap*(depth+1)
	if ks, ok := key.(goja.String); ok {
		g.used += ks.Length()
	}
	switch x := v.(type) {
	case goja.String:
		g.used += x.Length() + 2
	case *goja.Object:
		if _, isFn := goja.AssertFunction(x); isFn {
			break
		}
		if depth+1 > maxJSONDepth {
			g.throw("Maximum call stack size exceeded")
		}
		g.depths[x] = depth + 1
		if g.allow != nil && x.ClassName() != "Array" {
			filtered := g.s.rt.NewObject()
			for _, k := range g.allow {
				if pv := x.Get(k); pv != nil && !goja.IsUndefined(pv) {
					define(filtered, k, pv)
				}
			}
			g.depths[filtered] = depth + 1
			v = filtered
		}
	default:
		g.used += 8
	}
	if g.used > g.maxStr {
		g.throw("Invalid string length")
	}
	return v
}

// propertyList is an array replacer's list of property names, as the spec
// builds it: strings and numbers (or their wrappers), first occurrence wins.
func propertyList(arr *goja.Object) []string {
	n := arrayLength(arr)
	seen := map[string]bool{}
	var list []string
	for i := int64(0); i < n; i++ {
		e := arr.Get(fmt.Sprint(i))
		var k string
		switch {
		case e == nil:
			continue
		case goja.IsString(e) || goja.IsNumber(e):
			k = e.String()
		default:
			o, ok := e.(*goja.Object)
			if !ok || (o.ClassName() != "String" && o.ClassName() != "Number") {
				continue
			}
			k = o.String()
		}
		if !seen[k] {
			seen[k] = true
			list = append(list, k)
		}
	}
	return list
}

// gapLength is the indentation stringify will use per level (at most 10).
func gapLength(space goja.Value) int {
	if space == nil {
		return 0
	}
	if o, ok := space.(*goja.Object); ok {
		switch o.ClassName() {
		case "Number":
			return min(max(int(o.ToFloat()), 0), 10) + 1
		case "String":
			return min(len(o.String()), 10) + 1
		}
		return 0
	}
	switch {
	case goja.IsNumber(space):
		return min(max(int(space.ToFloat()), 0), 10) + 1
	case goja.IsString(space):
		return min(len(space.String()), 10) + 1
	}
	return 0
}

// jsonDepthExceeds reports whether JSON text nests arrays/objects deeper
// than limit, ignoring brackets inside strings.
func jsonDepthExceeds(text string, limit int) bool {
	depth, inString, escaped := 0, false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > limit {
				return true
			}
		case ']', '}':
			depth--
		}
	}
	return false
}
