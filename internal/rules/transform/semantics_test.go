package transform

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// TestLockdownKeepsOrdinaryCodeWorking covers what freezing the built-ins
// could break: assignments that shadow a prototype property (the "override
// mistake"), classes extending built-ins, top-level declarations that
// shadow globals, strict mode.
func TestLockdownKeepsOrdinaryCodeWorking(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{})
	tests := []struct {
		name, code string
		want       any
	}{
		{"error name", `class MyError extends Error { constructor(m) { super(m); this.name = 'MyError' } }
			const e = new MyError('x'); e.message = 'y'; r.body = [e.name, e.message, String(e), e instanceof Error]`,
			[]any{"MyError", "y", "MyError: y", true}},
		{"own toString and constructor", `const o = {}; o.toString = () => 'custom'; o.constructor = 'c'; o.valueOf = () => 41;
			r.body = [String(o), o.constructor, o + 1, ({}).toString()]`,
			[]any{"custom", "c", 42.0, "[object Object]"}},
		{"copying arbitrary keys", `const src = JSON.parse('{"constructor":1,"toString":2,"hasOwnProperty":3,"valueOf":4,"__proto__":5,"a":6}');
			const dst = {}; for (const k in src) dst[k] = src[k]; r.body = Object.keys(dst).map(k => k + '=' + dst[k]).join(',')`,
			"constructor=1,toString=2,hasOwnProperty=3,valueOf=4,a=6"},
		{"hasOwnProperty still works", `const o = {a: 1}; r.body = [o.hasOwnProperty('a'), Object.prototype.hasOwnProperty.call(o, 'b')]`,
			[]any{true, false}},
		{"subclass of Array and Map", `class Stack extends Array { top() { return this[this.length - 1] } }
			const s = Stack.from([1, 2, 3]); const m = new (class extends Map {})([[1, 'a']]);
			r.body = [s.top(), s.map(x => x * 2) instanceof Stack, m.get(1)]`,
			[]any{3.0, true, "a"}},
		{"top-level declarations shadow globals", `let console = 1; const JSON = {x: 2}; var Math = 3;`,
			[]any{1.0, 2.0, 3.0}},
		{"getters, setters, spread, destructuring", `const o = { _v: 1, get v() { return this._v }, set v(x) { this._v = x * 10 } };
			o.v = 2; const {v, ...rest} = {...o, extra: true}; r.body = [v, Object.keys(rest).sort().join('+')]`,
			[]any{20.0, "_v+extra"}},
		{"generators and iterators", `function* g() { yield* [1, 2]; yield 3 } r.body = [...g()].concat(Array.from(new Set([4, 4])))`,
			[]any{1.0, 2.0, 3.0, 4.0}},
		{"regexp, dates, math", `r.body = ['a-b_c'.replace(/[-_]/g, ' '), new Date(Date.UTC(2024, 0, 2)).toISOString(), Math.max(1, 3)]`,
			[]any{"a b c", "2024-01-02T00:00:00.000Z", 3.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code := "addHandler('transform', (r) => { " + tt.code + "; return r })"
			if strings.HasPrefix(tt.name, "top-level") {
				code = tt.code + "\naddHandler('transform', (r) => { r.body = [console, JSON.x, Math]; return r })"
			}
			got := bodyOf(t, e, code)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("body = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestLockdownRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{})
	tests := []struct{ name, code, want string }{
		{"extending a built-in prototype (strict)", `'use strict'; Array.prototype.last = function () {}; addHandler('transform', r => r)`,
			"TypeError"},
		{"extending a built-in prototype (sloppy) fails later", `String.prototype.shout = function () { return 1 }; addHandler('transform', r => { r.body = 'x'.shout(); return r })`,
			"TypeError"},
		{"strict mode is honoured", `'use strict'; undeclared = 1; addHandler('transform', r => r)`,
			"ReferenceError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.Run(context.Background(), tt.code, nil, Request{})
			ee := execErr(t, err, KindRuntime)
			if !strings.HasPrefix(ee.Message, tt.want) {
				t.Fatalf("message = %q, want prefix %q", ee.Message, tt.want)
			}
		})
	}
	// Script rules apply even though the code runs in a function.
	for _, code := range []string{`return 1`, `})(); (function () {`, `}); addHandler('transform', r => r); (function () {`} {
		_, err := e.Run(context.Background(), code, nil, Request{})
		execErr(t, err, KindSyntax)
	}
}
