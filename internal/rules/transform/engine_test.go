package transform

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// setup returns an engine with default limits unless cfg says otherwise.
func setup(t *testing.T, cfg Config) *Engine {
	t.Helper()
	return NewEngine(cfg)
}

func sampleRequest() Request {
	return Request{
		Headers: map[string]string{"content-type": "application/json", "x-shop": "acme"},
		Body:    map[string]any{"id": "evt_1", "amount": float64(1200), "items": []any{map[string]any{"sku": "a"}}},
		Path:    "/webhooks/orders",
		Query:   "a=1&b=2&b=3",
	}
}

// execErr asserts err is a *ExecError of kind and returns it.
func execErr(t *testing.T, err error, kind string) *ExecError {
	t.Helper()
	var ee *ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v (%T), want *ExecError of kind %q", err, err, kind)
	}
	if ee.Kind != kind {
		t.Fatalf("kind = %q (%s), want %q", ee.Kind, ee.Message, kind)
	}
	return ee
}

func TestRunContract(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{})
	tests := []struct {
		name  string
		code  string
		env   map[string]string
		in    Request
		check func(t *testing.T, res Result, err error)
	}{
		{
			name: "identity keeps everything",
			code: `addHandler('transform', (request, context) => request)`,
			in:   sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				if err != nil {
					t.Fatal(err)
				}
				want := sampleRequest()
				want.ParsedQuery = map[string]any{"a": "1", "b": []string{"2", "3"}}
				if !reflect.DeepEqual(res.Request, want) {
					t.Fatalf("request = %#v\nwant %#v", res.Request, want)
				}
				if res.LogLevel != LevelDebug || len(res.Console) != 0 {
					t.Fatalf("log level %q console %v, want debug and none", res.LogLevel, res.Console)
				}
			},
		},
		{
			name: "rewrite body and headers",
			code: `addHandler('transform', (request, context) => {
				request.body = { type: 'order', cents: request.body.amount, first: request.body.items[0].sku };
				request.headers['x-shop'] = request.headers['x-shop'].toUpperCase();
				delete request.headers['content-type'];
				request.path = '/orders';
				request.query = 'v=2';
				return request;
			})`,
			in: sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				if err != nil {
					t.Fatal(err)
				}
				want := Request{
					Headers:     map[string]string{"x-shop": "ACME"},
					Body:        map[string]any{"type": "order", "cents": float64(1200), "first": "a"},
					Path:        "/orders",
					Query:       "v=2",
					ParsedQuery: map[string]any{"v": "2"},
				}
				if !reflect.DeepEqual(res.Request, want) {
					t.Fatalf("request = %#v\nwant %#v", res.Request, want)
				}
			},
		},
		{
			name: "add a field",
			code: `addHandler('transform', (request) => { request.body.processed = true; request.body.tags = ['x', 1, null]; return request; })`,
			in:   sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				if err != nil {
					t.Fatal(err)
				}
				body := res.Request.Body.(map[string]any)
				if body["processed"] != true || !reflect.DeepEqual(body["tags"], []any{"x", float64(1), nil}) || body["id"] != "evt_1" {
					t.Fatalf("body = %#v", body)
				}
			},
		},
		{
			name: "env access",
			code: `addHandler('transform', (request, context) => { request.headers.authorization = 'Bearer ' + context.env.TOKEN; return request; })`,
			env:  map[string]string{"TOKEN": "s3cret"},
			in:   sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if got := res.Request.Headers["authorization"]; got != "Bearer s3cret" {
					t.Fatalf("authorization = %q", got)
				}
			},
		},
		{
			name: "string body",
			code: `addHandler('transform', (request) => { request.body = request.body.split('&').length + ' fields'; return request; })`,
			in:   Request{Body: "a=1&b=2"},
			check: func(t *testing.T, res Result, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if res.Request.Body != "2 fields" {
					t.Fatalf("body = %#v", res.Request.Body)
				}
			},
		},
		{
			name: "raw JSON body keeps key order inside the runtime",
			code: `addHandler('transform', (request) => { request.body = Object.keys(request.body).join(','); return request; })`,
			in:   Request{Body: json.RawMessage(`{"z":1,"a":2,"m":3}`)},
			check: func(t *testing.T, res Result, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if res.Request.Body != "z,a,m" {
					t.Fatalf("body = %#v", res.Request.Body)
				}
			},
		},
		{
			name: "parsed_query is given",
			code: `addHandler('transform', (request) => { request.body = request.parsed_query; return request; })`,
			in:   Request{Query: "a=1&b=2&b=3"},
			check: func(t *testing.T, res Result, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(res.Request.Body, map[string]any{"a": "1", "b": []any{"2", "3"}}) {
					t.Fatalf("body = %#v", res.Request.Body)
				}
			},
		},
		{
			name: "JSON rules for the returned body",
			code: `addHandler('transform', (request) => {
				request.body = { d: new Date(0), u: undefined, f() {}, n: NaN, a: [undefined, () => 1], neg: -0, s: new String('x') };
				return request;
			})`,
			in: sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]any{"d": "1970-01-01T00:00:00.000Z", "n": nil, "a": []any{nil, nil}, "neg": float64(0), "s": "x"}
				if !reflect.DeepEqual(res.Request.Body, want) {
					t.Fatalf("body = %#v\nwant %#v", res.Request.Body, want)
				}
			},
		},
		{
			name: "returning a new object keeps absent fields",
			code: `addHandler('transform', (request) => ({ body: { only: 1 } }))`,
			in:   sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if res.Request.Path != "/webhooks/orders" || res.Request.Headers["x-shop"] != "acme" ||
					!reflect.DeepEqual(res.Request.Body, map[string]any{"only": float64(1)}) {
					t.Fatalf("request = %#v", res.Request)
				}
			},
		},
		{
			name: "console capture and log level",
			code: `addHandler('transform', (request) => {
				console.debug('d');
				console.log('hello', 42, {a: [1, 'x']}, null, undefined);
				console.info('i');
				console.warn('careful');
				return request;
			})`,
			in: sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				if err != nil {
					t.Fatal(err)
				}
				want := []ConsoleLine{
					{Type: "debug", Message: "d"},
					{Type: "log", Message: `hello 42 {"a":[1,"x"]} null undefined`},
					{Type: "info", Message: "i"},
					{Type: "warn", Message: "careful"},
				}
				if !reflect.DeepEqual(res.Console, want) {
					t.Fatalf("console = %#v\nwant %#v", res.Console, want)
				}
				if res.LogLevel != LevelWarn {
					t.Fatalf("log level = %q, want warn", res.LogLevel)
				}
			},
		},
		{
			name: "console.error sets level error",
			code: `const o = {}; o.self = o; console.error('bad', o, function named() {}); addHandler('transform', r => r)`,
			in:   sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if res.LogLevel != LevelError || len(res.Console) != 1 ||
					res.Console[0].Message != `bad {"self":[Circular]} [Function: named]` {
					t.Fatalf("level %q console %#v", res.LogLevel, res.Console)
				}
			},
		},
		{
			name: "thrown error carries message, line and stack",
			code: "addHandler('transform', (request) => {\n  const x = 1;\n  throw new Error('boom ' + x);\n})",
			in:   sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				ee := execErr(t, err, KindRuntime)
				if !strings.HasPrefix(ee.Message, "Error: boom 1") || !strings.Contains(ee.Message, "transform.js:3:") || ee.Line != 3 {
					t.Fatalf("error = %q (line %d)", ee.Message, ee.Line)
				}
				if res.LogLevel != LevelFatal {
					t.Fatalf("log level = %q, want fatal", res.LogLevel)
				}
			},
		},
		{
			name: "type error from bad property access",
			code: "addHandler('transform', (request) => {\n  return request.body.missing.deep;\n})",
			in:   sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				ee := execErr(t, err, KindRuntime)
				if !strings.HasPrefix(ee.Message, "TypeError:") || ee.Line != 2 {
					t.Fatalf("error = %q (line %d)", ee.Message, ee.Line)
				}
			},
		},
		{
			name: "thrown non-error value",
			code: `addHandler('transform', () => { throw {code: 7} })`,
			in:   sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				ee := execErr(t, err, KindRuntime)
				if !strings.HasPrefix(ee.Message, `Uncaught {"code":7}`) {
					t.Fatalf("error = %q", ee.Message)
				}
			},
		},
		{
			name: "console lines survive a failure",
			code: `addHandler('transform', () => { console.log('before'); throw new TypeError('nope') })`,
			in:   sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				execErr(t, err, KindRuntime)
				if len(res.Console) != 1 || res.Console[0].Message != "before" || res.LogLevel != LevelFatal {
					t.Fatalf("result = %#v", res)
				}
			},
		},
		{
			name: "syntax error with position",
			code: "addHandler('transform', (request) => {\n  return request.;\n})",
			in:   sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				ee := execErr(t, err, KindSyntax)
				if ee.Line != 2 || !strings.Contains(ee.Message, "transform.js:2:") {
					t.Fatalf("error = %q (line %d col %d)", ee.Message, ee.Line, ee.Column)
				}
			},
		},
		{
			name: "no handler registered",
			code: `const x = 1;`,
			in:   sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				ee := execErr(t, err, KindRuntime)
				if !strings.Contains(ee.Message, "addHandler('transform'") {
					t.Fatalf("error = %q", ee.Message)
				}
			},
		},
		{
			name: "unknown handler name",
			code: `addHandler('filter', r => r)`,
			in:   sampleRequest(),
			check: func(t *testing.T, res Result, err error) {
				ee := execErr(t, err, KindRuntime)
				if !strings.Contains(ee.Message, `unknown handler "filter"`) {
					t.Fatalf("error = %q", ee.Message)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := e.Run(context.Background(), tt.code, tt.env, tt.in)
			tt.check(t, res, err)
		})
	}
}

func TestRunRejectsInvalidOutput(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{MaxPayloadBytes: 1 << 20, Timeout: 5 * time.Second})
	tests := []struct {
		name, code, want string
	}{
		{"undefined", `addHandler('transform', (r) => { r.body = 1 })`, "must return the request object, got undefined"},
		{"null", `addHandler('transform', () => null)`, "got null"},
		{"string", `addHandler('transform', () => 'x')`, "got string"},
		{"array", `addHandler('transform', () => [])`, "got array"},
		{"promise", `addHandler('transform', async (r) => r)`, "Promise"},
		{"header not a string", `addHandler('transform', (r) => { r.headers['x-n'] = 5; return r })`, `request.headers["x-n"] must be a string, got number`},
		{"headers not an object", `addHandler('transform', (r) => { r.headers = 'a: b'; return r })`, "request.headers must be an object of strings, got string"},
		{"path not a string", `addHandler('transform', (r) => { r.path = 42; return r })`, "request.path must be a string, got number"},
		{"query object", `addHandler('transform', (r) => { r.query = {a: 1}; return r })`, "request.query must be a string"},
		{"circular body", `addHandler('transform', (r) => { r.body.self = r.body; return r })`, "circular reference"},
		{"too deep", `addHandler('transform', (r) => { let o = {}; for (let i = 0; i < 600; i++) o = {o}; r.body = o; return r })`, "nested more than 512 levels"},
		{"too large", `addHandler('transform', (r) => { r.body = 'x'.repeat(2 << 20); return r })`, "larger than the 1048576-byte limit"},
		{"dag blowup", `addHandler('transform', (r) => { let a = ['xxxxxxxx']; for (let i = 0; i < 40; i++) a = [a, a]; r.body = a; return r })`, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.Run(context.Background(), tt.code, nil, sampleRequest())
			ee := execErr(t, err, KindInvalidOutput)
			if !strings.Contains(ee.Message, tt.want) {
				t.Fatalf("message = %q, want it to contain %q", ee.Message, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{Timeout: 300 * time.Millisecond})
	tests := []struct {
		name, code, kind string
		line, col        int
	}{
		{"ok", `addHandler('transform', (request, context) => request)`, "", 0, 0},
		{"syntax", "const a = 1;\nconst b = ;", KindSyntax, 2, 11},
		{"redeclared", "let a = 1;\nlet a = 2;\naddHandler('transform', r => r)", KindSyntax, 2, 0},
		{"no handler", `function transform(r) { return r }`, KindRuntime, 0, 0},
		{"top-level throw", "\nthrow new Error('x')", KindRuntime, 2, 0},
		{"top-level loop", `while (true) {}`, KindTimeout, 0, 0},
		{"bigint literal", "addHandler('transform', r => r);\nconst big = 2n ** 64n;", KindSyntax, 2, 13},
		{"too large", "//" + strings.Repeat("x", DefaultMaxCodeBytes), KindSyntax, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := e.Validate(tt.code)
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			ee := execErr(t, err, tt.kind)
			if tt.line != 0 && ee.Line != tt.line {
				t.Fatalf("line = %d, want %d (%s)", ee.Line, tt.line, ee.Message)
			}
			if tt.col != 0 && ee.Column != tt.col {
				t.Fatalf("column = %d, want %d (%s)", ee.Column, tt.col, ee.Message)
			}
		})
	}
}
