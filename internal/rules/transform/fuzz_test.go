package transform

import (
	"context"
	"errors"
	"testing"
	"time"
)

// FuzzRun feeds arbitrary code through compilation and a run: the engine
// must answer with a result or an *ExecError of a known kind, never panic
// or hang.
func FuzzRun(f *testing.F) {
	for _, seed := range []string{
		`addHandler('transform', r => r)`,
		`addHandler('transform', (r, c) => { r.body = {env: c.env, n: r.body.n + 1}; return r })`,
		"addHandler('transform', r => {\n  throw new Error('x')\n})",
		`addHandler('transform', r => ({headers: {a: 1}}))`,
		`while (true) {}`,
		`}); (function () {`,
		`1n`,
		`//# sourceMappingURL=/etc/passwd`,
		`eval('1')`,
		`JSON.parse('['.repeat(2000))`,
		"`${",
		`addHandler('transform', r => { r.body = 'x'.repeat(1e9); return r })`,
	} {
		f.Add(seed)
	}
	e := NewEngine(Config{Timeout: 100 * time.Millisecond, MaxMemoryBytes: 16 << 20, MaxPayloadBytes: 1 << 16})
	kinds := map[string]bool{KindSyntax: true, KindRuntime: true, KindTimeout: true, KindMemory: true, KindInvalidOutput: true}
	f.Fuzz(func(t *testing.T, code string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := e.Run(ctx, code, map[string]string{"K": "v"},
			Request{Body: map[string]any{"n": 1.0}, Headers: map[string]string{"a": "b"}})
		if err == nil {
			if res.LogLevel == LevelFatal {
				t.Fatalf("successful run at level fatal")
			}
			return
		}
		var ee *ExecError
		if !errors.As(err, &ee) || !kinds[ee.Kind] || ee.Message == "" {
			t.Fatalf("Run(%q) = %v", code, err)
		}
	})
}
