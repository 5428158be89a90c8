package sqlitestore

import (
	"fmt"
	"path/filepath"
	"testing"
)

// The writer's cache runs a new text unprepared once, prepares it between
// transactions and then reuses it; the read pool prepares at first use;
// both stop adding texts at maxPrepared.
func TestPreparedStatements(t *testing.T) {
	s := openPath(t, filepath.Join(t.TempDir(), "stmts.db"), Options{})
	ctx := t.Context()
	const q = `SELECT count(*) FROM teams`

	w := newStmtCache()
	if st := w.get(q); st != nil {
		t.Fatal("a new text came back prepared")
	}
	if st := w.get(q); st != nil {
		t.Fatal("a queued text came back prepared before prepareQueued")
	}
	if len(w.queued) != 1 {
		t.Fatalf("queued %v, want the text once", w.queued)
	}
	s.closeMu.Lock() // keep the committer off the writer connection
	w.prepareQueued(ctx, s.wdb)
	s.closeMu.Unlock()
	if w.get(q) == nil {
		t.Fatal("not prepared after prepareQueued")
	}
	t.Cleanup(func() { _ = w.close() })

	r := s.rdb
	first := r.stmt(ctx, q)
	if first == nil || r.stmt(ctx, q) != first {
		t.Fatal("the read pool did not keep its prepared statement")
	}
	if r.stmt(ctx, `SELECT nonsense FROM`) != nil {
		t.Fatal("a statement that cannot be prepared came back prepared")
	}

	var full preparedSet
	for i := range maxPrepared {
		if !full.reserve(fmt.Sprint(i)) {
			t.Fatalf("reserve %d refused below the bound", i)
		}
	}
	if full.reserve("one more") {
		t.Fatal("reserved past maxPrepared")
	}
	if full.reserve("0") {
		t.Fatal("reserved a text twice")
	}
}
