package transform

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"

	"github.com/dop251/goja"
)

// maxOutputDepth bounds the nesting of a returned body. Conversion recurses
// in Go, and a JavaScript loop can nest objects a million levels deep.
const maxOutputDepth = 512

// inputBuilder turns a Request into fresh JavaScript objects owned by one
// runtime: nothing of the caller's maps is shared with the script, so
// mutations stay inside the run. It counts an estimate of the serialized
// size against a budget.
type inputBuilder struct {
	s      *sandbox
	budget int
	used   int
}

// inputRefused aborts input conversion: past the size budget, or nested
// too deep for the JSON parser.
type inputRefused struct{ msg string }

func (b *inputBuilder) charge(n int) {
	b.used += n
	if b.used > b.budget {
		panic(inputRefused{fmt.Sprintf("request is larger than the %d-byte limit for transformations", b.budget)})
	}
}

// request builds the handler's request argument.
func (b *inputBuilder) request(in Request) (req goja.Value, err *ExecError) {
	defer func() {
		if x := recover(); x != nil {
			refused, ok := x.(inputRefused)
			if !ok {
				panic(x)
			}
			req, err = nil, &ExecError{Kind: KindMemory, Message: refused.msg}
		}
	}()
	rt := b.s.rt
	o := rt.NewObject()
	headers := rt.NewObject()
	for _, k := range sortedKeys(in.Headers) {
		b.charge(len(k) + len(in.Headers[k]) + 6)
		define(headers, k, rt.ToValue(in.Headers[k]))
	}
	define(o, "headers", headers)
	define(o, "body", b.value(in.Body))
	b.charge(len(in.Path) + len(in.Query))
	define(o, "path", rt.ToValue(in.Path))
	define(o, "query", rt.ToValue(in.Query))
	pq := in.ParsedQuery
	if pq == nil {
		pq = ParseQuery(in.Query)
	}
	define(o, "parsed_query", b.value(pq))
	return o, nil
}

// context builds the handler's context argument: {env}.
func (b *inputBuilder) context(env map[string]string) goja.Value {
	rt := b.s.rt
	e := rt.NewObject()
	for _, k := range sortedKeys(env) {
		define(e, k, rt.ToValue(env[k]))
	}
	c := rt.NewObject()
	define(c, "env", e)
	return c
}

// value converts a decoded JSON value (or a string) to JavaScript. Object
// keys come in sorted order: a Go map has none.
func (b *inputBuilder) value(v any) goja.Value {
	rt := b.s.rt
	switch x := v.(type) {
	case nil:
		b.charge(4)
		return goja.Null()
	case string:
		b.charge(len(x) + 2)
		return rt.ToValue(x)
	case bool:
		b.charge(5)
		return rt.ToValue(x)
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		b.charge(8)
		return rt.ToValue(x)
	case json.Number:
		b.charge(len(x))
		f, err := x.Float64()
		if err != nil {
			return rt.ToValue(string(x))
		}
		return rt.ToValue(f)
	case json.RawMessage:
		b.charge(len(x))
		if jsonDepthExceeds(string(x), maxJSONDepth) {
			// goja's JSON.parse recurses in Go without a bound.
			panic(inputRefused{fmt.Sprintf("request body is nested more than %d levels deep", maxJSONDepth)})
		}
		parsed, err := b.s.jsonParse(goja.Undefined(), rt.ToValue(string(x)))
		if err != nil {
			return rt.ToValue(string(x)) // not JSON: hand it over as text
		}
		return parsed
	case []byte:
		b.charge(len(x) + 2)
		return rt.ToValue(string(x))
	case map[string]any:
		b.charge(2)
		o := rt.NewObject()
		for _, k := range sortedKeys(x) {
			b.charge(len(k) + 4)
			define(o, k, b.value(x[k]))
		}
		return o
	case map[string]string:
		b.charge(2)
		o := rt.NewObject()
		for _, k := range sortedKeys(x) {
			b.charge(len(k) + len(x[k]) + 6)
			define(o, k, rt.ToValue(x[k]))
		}
		return o
	case []any:
		b.charge(2)
		items := make([]any, len(x))
		for i, e := range x {
			b.charge(1)
			items[i] = b.value(e)
		}
		return rt.NewArray(items...)
	case []string:
		b.charge(2)
		items := make([]any, len(x))
		for i, e := range x {
			b.charge(len(e) + 3)
			items[i] = rt.ToValue(e)
		}
		return rt.NewArray(items...)
	default:
		// Some other Go value: take it through JSON.
		raw, err := json.Marshal(x)
		if err != nil {
			return goja.Undefined()
		}
		var decoded any
		if json.Unmarshal(raw, &decoded) != nil {
			return goja.Undefined()
		}
		return b.value(decoded)
	}
}

// define creates an own enumerable data property, like JSON.parse does
// (assignment would run a "__proto__" setter instead).
func define(o *goja.Object, k string, v goja.Value) {
	_ = o.DefineDataProperty(k, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ParseQuery renders a raw query string as Hookdeck's parsed_query: one
// value as a string, a repeated key as an array of strings.
func ParseQuery(raw string) map[string]any {
	out := map[string]any{}
	vals, _ := url.ParseQuery(raw)
	for k, vs := range vals {
		if len(vs) == 1 {
			out[k] = vs[0]
		} else {
			out[k] = vs
		}
	}
	return out
}

// exporter converts the handler's return value to a Request, checking its
// shape. It follows JSON.stringify's rules for the body (toJSON is called;
// undefined, functions and symbols are dropped from objects and become null
// in arrays; NaN and Infinity become null) and charges an estimate of the
// serialized size against a budget. It may run user getters and toJSON, so
// it only runs under protect while the run's limits are armed.
type exporter struct {
	s      *sandbox
	budget int
	used   int
	path   []*goja.Object
	err    *ExecError // first shape error
	jsErr  error      // an exception or interrupt from user code
}

func (x *exporter) fail(format string, args ...any) {
	if x.err == nil && x.jsErr == nil {
		x.err = &ExecError{Kind: KindInvalidOutput, Message: fmt.Sprintf(format, args...)}
	}
}

func (x *exporter) failed() bool { return x.err != nil || x.jsErr != nil }

func (x *exporter) charge(n int) {
	x.used += n
	if x.used > x.budget {
		x.fail("the returned request is larger than the %d-byte limit", x.budget)
	}
	if x.s.watch != nil && x.s.watch.tripped() {
		x.jsErr = x.s.watch.reason()
	}
}

// request converts the returned value. Fields that are absent or undefined
// keep the input's value.
func (x *exporter) request(v goja.Value, in Request) Request {
	out := in
	o, ok := v.(*goja.Object)
	if !ok || goja.IsNull(v) {
		x.fail("the transform handler must return the request object, got %s", typeName(v))
		return out
	}
	if _, isFn := goja.AssertFunction(o); isFn || o.ClassName() == "Array" {
		x.fail("the transform handler must return the request object, got %s", typeName(v))
		return out
	}
	if then := o.Get("then"); then != nil {
		if _, ok := goja.AssertFunction(then); ok {
			x.fail("the transform handler returned a Promise; transformations are synchronous, return the request object")
			return out
		}
	}
	if h := o.Get("headers"); h != nil && !goja.IsUndefined(h) {
		out.Headers = x.headers(h)
	}
	if b := o.Get("body"); b != nil && !goja.IsUndefined(b) {
		body, _ := x.value(b, "body", 0)
		out.Body = body
	}
	if p := o.Get("path"); p != nil && !goja.IsUndefined(p) {
		if !goja.IsString(p) {
			x.fail("request.path must be a string, got %s", typeName(p))
		} else {
			out.Path = p.String()
			x.charge(len(out.Path))
		}
	}
	if q := o.Get("query"); q != nil && !goja.IsUndefined(q) {
		switch {
		case goja.IsNull(q):
			out.Query = ""
		case goja.IsString(q):
			out.Query = q.String()
			x.charge(len(out.Query))
		default:
			x.fail("request.query must be a string (the raw query, without '?'), got %s", typeName(q))
		}
	}
	if out.Query != in.Query || out.ParsedQuery == nil {
		out.ParsedQuery = ParseQuery(out.Query)
	}
	return out
}

// headers converts request.headers: an object whose values are strings.
// Undefined and null values drop the header.
func (x *exporter) headers(v goja.Value) map[string]string {
	out := map[string]string{}
	if goja.IsNull(v) {
		return out
	}
	o, ok := v.(*goja.Object)
	if _, isFn := goja.AssertFunction(v); !ok || isFn || o.ClassName() == "Array" {
		x.fail("request.headers must be an object of strings, got %s", typeName(v))
		return nil
	}
	for _, k := range o.Keys() {
		hv := o.Get(k)
		switch {
		case hv == nil || goja.IsUndefined(hv) || goja.IsNull(hv):
			continue
		case !goja.IsString(hv):
			x.fail("request.headers[%q] must be a string, got %s", k, typeName(hv))
			return nil
		}
		out[k] = hv.String()
		x.charge(len(k) + len(out[k]) + 6)
		if x.failed() {
			return nil
		}
	}
	return out
}

// value converts one body value; omit reports a value JSON leaves out of
// objects (undefined, function, symbol).
func (x *exporter) value(v goja.Value, key string, depth int) (out any, omit bool) {
	if x.failed() {
		return nil, true
	}
	switch {
	case v == nil || goja.IsUndefined(v):
		return nil, true
	case goja.IsNull(v):
		x.charge(4)
		return nil, false
	case goja.IsString(v):
		s := v.String()
		x.charge(len(s) + 2)
		return s, false
	case goja.IsNumber(v):
		x.charge(8)
		f := v.ToFloat()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		if f == 0 {
			f = 0 // JSON has no -0
		}
		return f, false
	}
	o, ok := v.(*goja.Object)
	if !ok {
		if b, isBool := v.Export().(bool); isBool {
			x.charge(5)
			return b, false
		}
		return nil, true // symbol
	}
	if toJSON := o.Get("toJSON"); toJSON != nil {
		if fn, ok := goja.AssertFunction(toJSON); ok {
			r, err := fn(o, x.s.rt.ToValue(key))
			if err != nil {
				x.jsErr = err
				return nil, true
			}
			return x.value(r, key, depth)
		}
	}
	if _, isFn := goja.AssertFunction(o); isFn {
		return nil, true
	}
	switch o.ClassName() {
	case "String":
		return x.value(x.s.rt.ToValue(o.String()), key, depth)
	case "Number":
		return x.value(x.s.rt.ToValue(o.ToFloat()), key, depth)
	case "Boolean":
		if b, ok := o.Export().(bool); ok {
			x.charge(5)
			return b, false
		}
	}
	if depth >= maxOutputDepth {
		x.fail("the returned body is nested more than %d levels deep", maxOutputDepth)
		return nil, true
	}
	for _, p := range x.path {
		if p == o {
			x.fail("the returned body contains a circular reference (at %q)", key)
			return nil, true
		}
	}
	x.path = append(x.path, o)
	defer func() { x.path = x.path[:len(x.path)-1] }()
	if o.ClassName() == "Array" {
		n := arrayLength(o)
		x.charge(2 + 2*int(min(n, int64(x.budget)))) // at least "0," per element
		if x.failed() {
			return nil, true
		}
		arr := make([]any, 0, min(n, 1024))
		for i := int64(0); i < n && !x.failed(); i++ {
			k := strconv.FormatInt(i, 10)
			e, _ := x.value(o.Get(k), k, depth+1)
			arr = append(arr, e)
		}
		return arr, false
	}
	x.charge(2)
	obj := map[string]any{}
	for _, k := range o.Keys() {
		if x.failed() {
			break
		}
		e, omit := x.value(o.Get(k), k, depth+1)
		if !omit {
			x.charge(len(k) + 4)
			obj[k] = e
		}
	}
	return obj, false
}

// typeName names a value's type for error messages.
func typeName(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	case goja.IsString(v):
		return "string"
	case goja.IsNumber(v):
		return "number"
	}
	o, ok := v.(*goja.Object)
	if !ok {
		if _, isBool := v.Export().(bool); isBool {
			return "boolean"
		}
		return "symbol"
	}
	if _, isFn := goja.AssertFunction(o); isFn {
		return "function"
	}
	if o.ClassName() == "Array" {
		return "array"
	}
	return "object"
}
