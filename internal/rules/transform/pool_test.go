package transform

import (
	"context"
	"testing"
	"time"
)

// idleSandbox waits for the engine's only runtime to come back to the pool
// (release runs after Run has answered) and returns it without removing it.
func idleSandbox(t *testing.T, e *Engine) *sandbox {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case sb := <-e.idle:
			e.idle <- sb
			return sb
		default:
			time.Sleep(time.Millisecond)
		}
	}
	t.Fatal("no runtime came back to the pool")
	return nil
}

func TestPoolReusesCleanRuntimesAndDropsBrokenOnes(t *testing.T) {
	t.Parallel()
	e := setup(t, Config{PoolSize: 1, Timeout: 200 * time.Millisecond})
	run := func(code string) error {
		_, err := e.Run(context.Background(), code, nil, Request{})
		return err
	}
	tests := []struct {
		name   string
		code   string
		reused bool
	}{
		{"clean run", `addHandler('transform', r => r)`, true},
		{"added globals are deleted", `globalThis.x = 1; y = 2; addHandler('transform', r => r)`, true},
		{"thrown exception", `addHandler('transform', r => { throw new Error('x') })`, true},
		{"timeout", `addHandler('transform', r => { for (;;) {} })`, false},
		{"stack overflow", `addHandler('transform', r => { const f = () => f(); f() })`, false},
		{"undeletable global", `Object.defineProperty(globalThis, 'z', { value: 1 }); addHandler('transform', r => r)`, false},
		{"non-extensible global", `Object.preventExtensions(globalThis); addHandler('transform', r => r)`, false},
	}
	if err := run(`addHandler('transform', r => r)`); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		before := idleSandbox(t, e)
		uses := before.uses
		_ = run(tt.code)
		after := idleSandbox(t, e)
		if reused := after == before && after.uses == uses+1; reused != tt.reused {
			t.Errorf("%s: reused = %v (uses %d -> %d, same runtime %v), want %v",
				tt.name, reused, uses, after.uses, after == before, tt.reused)
		}
	}
}
