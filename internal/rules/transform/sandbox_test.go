package transform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// schedulingSlack is how late a timer may fire, or a stopped run take to
// unwind, on a loaded machine (the tests share two cores with other builds),
// more under the race detector.
var schedulingSlack = func() time.Duration {
	if raceEnabled {
		return 5 * time.Second
	}
	return time.Second
}()

// bodyOf runs code whose handler sets request.body and returns it.
func bodyOf(t *testing.T, e *Engine, code string) any {
	t.Helper()
	res, err := e.Run(context.Background(), code, nil, Request{Body: map[string]any{}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res.Request.Body
}

func TestNothingOutsideTheSandbox(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{})
	names := []string{"require", "module", "exports", "process", "fetch", "XMLHttpRequest", "WebSocket",
		"setTimeout", "setInterval", "setImmediate", "queueMicrotask", "Buffer", "global", "Deno", "Bun",
		"BigInt", "ArrayBuffer", "SharedArrayBuffer", "DataView", "Uint8Array", "BigInt64Array", "GoError",
		"WebAssembly", "importScripts"}
	code := fmt.Sprintf(`addHandler('transform', r => { r.body = %s.map(n => n + ':' + typeof globalThis[n]).join(','); return r })`,
		"['"+strings.Join(names, "','")+"']")
	got := bodyOf(t, e, code).(string)
	for _, part := range strings.Split(got, ",") {
		if !strings.HasSuffix(part, ":undefined") {
			t.Errorf("global %s is reachable", part)
		}
	}
}

func TestSourceMapCommentIsNotFollowed(t *testing.T) {
	t.Parallel()
	// A valid source map mapping line 3 to line 101 of secret.ts: if goja
	// read it, the error position would move.
	dir := t.TempDir()
	mapPath := filepath.Join(dir, "x.map")
	if err := os.WriteFile(mapPath, []byte(`{"version":3,"sources":["secret.ts"],"names":[],"mappings":";;AAoGA"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := setup(t, Config{})
	code := "addHandler('transform', r => {\n  if (r) {\nthrow new Error('x') }\n})\n//# sourceMappingURL=" + mapPath
	_, err := e.Run(context.Background(), code, nil, sampleRequest())
	ee := execErr(t, err, KindRuntime)
	if ee.Line != 3 || strings.Contains(ee.Message, "secret") {
		t.Fatalf("error at line %d: %q; the source map was followed", ee.Line, ee.Message)
	}
}

func TestGuardsRefuseOneStepAllocations(t *testing.T) {
	t.Parallel()
	// 8 MiB: strings up to 4 Mi units, arrays up to 256 Ki elements.
	// The time limit is generous: under -race on a loaded 2-core machine the
	// DAG stringify needs seconds to reach the size guard.
	e := setup(t, Config{MaxMemoryBytes: 8 << 20, Timeout: 30 * time.Second})
	tests := []struct{ name, expr, want string }{
		{"repeat", `'x'.repeat(2 ** 40)`, "RangeError: Invalid string length"},
		{"padStart", `'x'.padStart(2 ** 40)`, "RangeError: Invalid string length"},
		{"padEnd", `'x'.padEnd(2 ** 40, 'ab')`, "RangeError: Invalid string length"},
		{"fill", `new Array(1e9).fill(0)`, "RangeError: Invalid array length"},
		{"join sparse", `new Array(1e9).join(',')`, "RangeError: Invalid string length"},
		{"join big strings", `Array(64).fill('x'.repeat(1 << 20)).join('')`, "RangeError: Invalid string length"},
		{"toString sparse", `String(new Array(1e9))`, "RangeError: Invalid string length"},
		{"Array.from array-like", `Array.from({length: 1e9})`, "RangeError: Invalid array length"},
		{"Array.from sparse array", `Array.from(new Array(1e9))`, "RangeError: Invalid array length"},
		{"apply", `Math.max.apply(null, new Array(1e7))`, "RangeError: Maximum call stack size exceeded"},
		{"Reflect.apply", `Reflect.apply(Math.max, null, {length: 1e9})`, "RangeError: Maximum call stack size exceeded"},
		{"JSON.parse deep", `JSON.parse('['.repeat(5000) + ']'.repeat(5000))`, "SyntaxError: JSON is nested more than 1000 levels deep"},
		{"JSON.stringify dag", `(() => { let a = ['x']; for (let i = 0; i < 40; i++) a = [a, a]; return JSON.stringify(a) })()`, "RangeError: Invalid string length"},
		{"JSON.stringify deep", `(() => { let o = {}; for (let i = 0; i < 5000; i++) o = {o}; return JSON.stringify(o) })()`, "RangeError: Maximum call stack size exceeded"},
		{"flat deep", `(() => { let a = [1]; for (let i = 0; i < 5000; i++) a = [a]; return a.flat(Infinity) })()`, "RangeError: Maximum call stack size exceeded"},
		{"recursion", `(function f() { return f() })()`, "RangeError: Maximum call stack size exceeded"},
		{"eval", `eval('1 + 1')`, "EvalError: Code generation from strings disallowed"},
		{"Function", `new Function('return 1')()`, "EvalError: Code generation from strings disallowed"},
		{"function constructor", `(function () {}).constructor('return 1')()`, "EvalError: Code generation from strings disallowed"},
		{"generator constructor", `Object.getPrototypeOf(function* () {}).constructor('yield 1')`, "EvalError: Code generation from strings disallowed"},
		{"async constructor", `Object.getPrototypeOf(async function () {}).constructor('return 1')`, "EvalError: Code generation from strings disallowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code := "addHandler('transform', r => { r.body = " + tt.expr + "; return r })"
			_, err := e.Run(context.Background(), code, nil, Request{})
			ee := execErr(t, err, KindRuntime)
			if !strings.HasPrefix(ee.Message, tt.want) {
				t.Fatalf("message = %q, want prefix %q", ee.Message, tt.want)
			}
		})
	}
}

func TestGuardedBuiltinsKeepTheirBehaviour(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{})
	// Expected values are what V8 (node 22) prints.
	tests := []struct {
		expr string
		want any
	}{
		{`'ab'.repeat(3)`, "ababab"},
		{`'5'.padStart(3, '0') + '|' + 'x'.padEnd(3, '-')`, "005|x--"},
		{`[1, 2, 3, 4].fill(0, 1, -1)`, []any{1.0, 0.0, 0.0, 4.0}},
		{`[1, 2, 3].join('-') + String([1, [2, 3]])`, "1-2-31,2,3"},
		{`[1, [2, [3, [4]]]].flat(Infinity)`, []any{1.0, 2.0, 3.0, 4.0}},
		{`[1, [2, [3]]].flat()`, []any{1.0, 2.0, []any{3.0}}},
		{`Array.from('abc').concat(Array.from({length: 2}, (_, i) => i))`, []any{"a", "b", "c", 0.0, 1.0}},
		{`Math.max.apply(null, [1, 5, 3]) + Reflect.apply(Math.min, null, [4, 2])`, 7.0},
		{`Reflect.construct(Date, [0]).getTime()`, 0.0},
		{`JSON.stringify({b: 1, a: [1, {c: 2, d: 3}]}, ['a', 'c'])`, `{"a":[1,{"c":2}]}`},
		{`JSON.stringify({a: 1, b: [1, 2]}, null, 2)`, "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2\n  ]\n}"},
		{`JSON.stringify({a: 1, b: 'x', c: {d: 2}}, (k, v) => typeof v === 'number' ? v * 2 : v)`, `{"a":2,"b":"x","c":{"d":4}}`},
		{`JSON.stringify({d: new Date(0), t: {toJSON() { return 'tj' }}, u: undefined, f() {}})`, `{"d":"1970-01-01T00:00:00.000Z","t":"tj"}`},
		{`String(JSON.stringify(undefined)) + JSON.stringify('s') + JSON.stringify([undefined])`, `undefined"s"[null]`},
		{`JSON.stringify(JSON.parse('{"a":[1,{"b":"]"}]}', (k, v) => typeof v === 'number' ? v + 1 : v))`, `{"a":[2,{"b":"]"}]}`},
		{`eval(5) === 5 && (() => 1) instanceof Function && (function* () {}) instanceof Object.getPrototypeOf(function* () {}).constructor`, true},
		{`[String.prototype.repeat.name, String.prototype.repeat.length, JSON.stringify.name, JSON.stringify.length, Array.prototype.fill.length]`, []any{"repeat", 1.0, "stringify", 3.0, 1.0}},
		{`/(\w+)@(\w+)\.com/.exec('mail bob@example.com')[2]`, "example"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			got := bodyOf(t, e, "addHandler('transform', r => { r.body = "+tt.expr+"; return r })")
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestNoStateLeaksBetweenRuns(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{PoolSize: 1})
	// Every attempt runs in its own try: on frozen built-ins some throw and
	// some fail silently (sloppy mode), none may reach the next run.
	polluter := `
		const attempts = [
			() => { globalThis.leaked = 'A' },
			() => { implicitGlobal = 1 },
			() => { Object.defineProperty(globalThis, 'fixed', { value: 1, configurable: false }) },
			() => { globalThis[Symbol.for('s')] = 1 },
			() => { Object.prototype.polluted = 'A' },
			() => { Array.prototype.extra = 1 },
			() => { JSON.stringify = () => 'hijacked' },
			() => { JSON = { stringify: () => 'hijacked' } },
			() => { Object.defineProperty(Object.prototype, 'trap', { set(v) { globalThis.trapped = v } }) },
			() => { String.prototype.repeat = () => 'x' },
			() => { Object.getPrototypeOf([][Symbol.iterator]()).next = () => ({ done: true }) },
			() => { Object.getPrototypeOf(function* () {}).prototype.next = () => 1 },
			() => { Object.setPrototypeOf(globalThis, { inherited: 1 }) },
			() => { console.log = () => {} },
		];
		var topVar = 'A';
		let changed = 0;
		for (const a of attempts) { try { a(); changed++ } catch (e) {} }
		addHandler('transform', r => { r.body = 'polluted'; return r })`
	probe := `addHandler('transform', r => {
		let n = 0; for (const x of [1, 2]) n += x;
		r.body = [typeof leaked, typeof topVar, typeof implicitGlobal, typeof fixed, globalThis[Symbol.for('s')],
			({}).polluted, [].extra, JSON.stringify({a: 1}), typeof trap, 'ab'.repeat(2), n,
			(function* () { yield 1 })().next().value, typeof inherited].join(',');
		return r })`
	counter := `let n = 0; addHandler('transform', r => { n++; globalThis.g = (globalThis.g || 0) + 1; r.body = {n, g}; return r })`
	for i := 0; i < 3; i++ {
		if got := bodyOf(t, e, polluter); got != "polluted" {
			t.Fatalf("polluter body = %#v", got)
		}
		if got, want := bodyOf(t, e, probe), `undefined,undefined,undefined,undefined,,,,{"a":1},undefined,abab,3,1,undefined`; got != want {
			t.Fatalf("run after a polluter sees %q, want %q", got, want)
		}
		if got, want := bodyOf(t, e, counter), map[string]any{"n": 1.0, "g": 1.0}; !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d of the same code sees %#v, want %#v", i, got, want)
		}
	}

	// The caller's maps are copied in, never shared.
	in := sampleRequest()
	code := `addHandler('transform', r => { r.body.id = 'changed'; r.body.items.push(1); r.headers['x-shop'] = 'z'; return r })`
	if _, err := e.Run(context.Background(), code, nil, in); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, sampleRequest()) {
		t.Fatalf("input was mutated: %#v", in)
	}
}

func TestInfiniteLoopIsStoppedAndTheEngineServesTheNextRun(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{PoolSize: 1}) // default 1 s limit
	loops := map[string]string{
		"handler":   `addHandler('transform', r => { while (true) {} })`,
		"top level": `while (true) {}`,
		"catch-all": `addHandler('transform', r => { for (;;) { try { for (;;) {} } catch (e) {} finally { continue } } })`,
	}
	for name, code := range loops {
		start := time.Now()
		_, err := e.Run(context.Background(), code, nil, sampleRequest())
		elapsed := time.Since(start)
		ee := execErr(t, err, KindTimeout)
		if elapsed < DefaultTimeout || elapsed > DefaultTimeout+schedulingSlack {
			t.Fatalf("%s: stopped after %v (%s), want about %v", name, elapsed, ee.Message, DefaultTimeout)
		}
		res, err := e.Run(context.Background(), `addHandler('transform', r => { r.body = 'next'; return r })`, nil, Request{})
		if err != nil || res.Request.Body != "next" {
			t.Fatalf("%s: next run = %#v, %v", name, res.Request.Body, err)
		}
	}
}

func TestBacktrackingRegexpDoesNotHoldTheEngine(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{PoolSize: 1, Timeout: 200 * time.Millisecond})
	// A lookahead sends the pattern to regexp2, which backtracks: 2^40 steps.
	code := `addHandler('transform', r => { r.body = /(a+)+(?=b)/.test('a'.repeat(40)); return r })`
	start := time.Now()
	_, err := e.Run(context.Background(), code, nil, Request{})
	execErr(t, err, KindTimeout)
	if elapsed := time.Since(start); elapsed > 200*time.Millisecond+abandonGrace+schedulingSlack {
		t.Fatalf("Run answered after %v", elapsed)
	}
	// The stuck runtime holds the only slot until regexp2 gives up.
	ctx, cancel := context.WithTimeout(context.Background(), regexpMatchTimeout+2*schedulingSlack)
	defer cancel()
	res, err := e.Run(ctx, `addHandler('transform', r => { r.body = 'next'; return r })`, nil, Request{})
	if err != nil || res.Request.Body != "next" {
		t.Fatalf("next run = %#v, %v", res.Request.Body, err)
	}
}

func TestAllocationBombIsStopped(t *testing.T) {
	// Not parallel: the watchdog measures the whole process.
	e := setup(t, Config{PoolSize: 1, Timeout: 10 * time.Second, MaxMemoryBytes: 32 << 20, MemorySampleInterval: 5 * time.Millisecond})
	// Each step allocates about a megabyte by concatenating a prepared
	// string (a memmove), so that the bombs trip quickly even under the race
	// detector, which makes goja's element-by-element loops (slice, map,
	// repeat) crawl.
	bombs := map[string]string{
		"array of strings": `addHandler('transform', r => { const keep = [], s = 'x'.repeat(1 << 20); let i = 0; while (true) keep.push(s + i++) })`,
		"object graph":     `addHandler('transform', r => { let head = null; const s = 'x'.repeat(1 << 20); let i = 0; while (true) head = {next: head, v: [s + i++]} })`,
		"map":              `addHandler('transform', r => { const m = new Map(), s = 'x'.repeat(1 << 20); let i = 0; while (true) m.set(i, s + i++) })`,
		"top level":        `const a = [], s = 'y'.repeat(1 << 20); while (true) a.push(s + a.length); addHandler('transform', r => r)`,
	}
	for name, code := range bombs {
		start := time.Now()
		_, err := e.Run(context.Background(), code, nil, Request{})
		var ee *ExecError
		if !errors.As(err, &ee) || ee.Kind != KindMemory {
			t.Fatalf("%s: err = %v after %v, want a memory ExecError", name, err, time.Since(start))
		}
		t.Logf("%s: stopped after %v: %s", name, time.Since(start), ee.Message)
		res, err := e.Run(context.Background(), `addHandler('transform', r => { r.body = 'next'; return r })`, nil, Request{})
		if err != nil || res.Request.Body != "next" {
			t.Fatalf("%s: next run = %#v, %v", name, res.Request.Body, err)
		}
	}
}

func TestContextCancellation(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{PoolSize: 1, Timeout: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.Run(ctx, `addHandler('transform', r => { while (true) {} })`, nil, Request{})
	var ee *ExecError
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ee) {
		t.Fatalf("err = %v, want the context's error, not an ExecError", err)
	}
	if elapsed := time.Since(start); elapsed > 100*time.Millisecond+abandonGrace+schedulingSlack {
		t.Fatalf("Run returned after %v", elapsed)
	}
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if _, err := e.Run(done, `addHandler('transform', r => r)`, nil, Request{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run with a cancelled context = %v", err)
	}
}

func TestLimitsOnPayloadAndConsole(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{MaxPayloadBytes: 1000, MaxConsoleBytes: 100})
	_, err := e.Run(context.Background(), `addHandler('transform', r => r)`, nil, Request{Body: strings.Repeat("x", 2000)})
	execErr(t, err, KindMemory)
	deep := json.RawMessage(strings.Repeat("[", 300) + strings.Repeat("]", 300))
	big := setup(t, Config{})
	_, err = big.Run(context.Background(), `addHandler('transform', r => r)`, nil, Request{Body: json.RawMessage(strings.Repeat("[", 5000) + strings.Repeat("]", 5000))})
	if ee := execErr(t, err, KindMemory); !strings.Contains(ee.Message, "nested more than") {
		t.Fatalf("deep raw body: %q", ee.Message)
	}
	if _, err = big.Run(context.Background(), `addHandler('transform', r => r)`, nil, Request{Body: deep}); err != nil {
		t.Fatalf("300-level raw body: %v", err)
	}

	res, err := e.Run(context.Background(), `addHandler('transform', r => { for (let i = 0; i < 50; i++) console.log('line ' + i + '...'); console.error('last'); return r })`, nil, Request{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, l := range res.Console[:len(res.Console)-1] {
		total += len(l.Message)
	}
	last := res.Console[len(res.Console)-1]
	if total > 100 || !strings.Contains(last.Message, "truncated: ") || res.LogLevel != LevelError {
		t.Fatalf("console kept %d bytes, last line %#v, level %q", total, last, res.LogLevel)
	}
}

func TestConcurrentRuns(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{PoolSize: 4})
	code := `addHandler('transform', (r, c) => { r.body = {id: r.body.id, who: c.env.WHO, n: r.body.n * 2}; return r })`
	bad := `addHandler('transform', r => { throw new Error('bad ' + r.body.id) })`
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := fmt.Sprintf("evt_%d", i)
			in := Request{Body: map[string]any{"id": id, "n": float64(i)}}
			if i%4 == 3 {
				_, err := e.Run(context.Background(), bad, nil, in)
				var ee *ExecError
				if !errors.As(err, &ee) || !strings.HasPrefix(ee.Message, "Error: bad "+id) {
					errs <- fmt.Errorf("run %d: %v", i, err)
				}
				return
			}
			res, err := e.Run(context.Background(), code, map[string]string{"WHO": id}, in)
			want := map[string]any{"id": id, "who": id, "n": float64(2 * i)}
			if err != nil || !reflect.DeepEqual(res.Request.Body, want) {
				errs <- fmt.Errorf("run %d: %#v, %v", i, res.Request.Body, err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
