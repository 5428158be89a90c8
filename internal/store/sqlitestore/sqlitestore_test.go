package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/store/groupcommit"
	"github.com/sluice-gw/sluice/internal/store/storetest"
)

// logWriter sends log lines to t.Log.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// openPath opens the store at path with logs going to t, closed when t ends.
func openPath(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logWriter{t}, nil))
	}
	s, err := Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openTest opens a fresh store in t's temporary directory.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "sluice.db"), opts)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}

func TestOpenRejectsBadPath(t *testing.T) {
	for _, p := range []string{"", "a?b", "a#b"} {
		if _, err := Open(t.Context(), p, Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestMigrationsNumbered(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("migrations start at %v", ms)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].version <= ms[i-1].version {
			t.Fatalf("migrations out of order: %s after %s", ms[i].name, ms[i-1].name)
		}
	}
}

// TestReopen checks that data survives a close and that migrations are
// applied once.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sluice.db")
	ctx := t.Context()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	team, err := s.EnsureDefaultTeam(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := model.Request{
		ID: model.NewID(model.PrefixRequest), TeamID: team.ID, SourceID: "src_x",
		Data:      model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Body: []byte("hello")},
		CreatedAt: time.Now(), IngestedAt: time.Now(), UpdatedAt: time.Now(),
	}
	if err := s.InsertRequest(ctx, &r); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openPath(t, path, Options{})
	team2, err := s2.EnsureDefaultTeam(ctx)
	if err != nil || team2.ID != team.ID || team2.SigningSecret != team.SigningSecret {
		t.Fatalf("default team after reopen: %+v, %v; want %s", team2, err, team.ID)
	}
	got, err := s2.GetRequest(ctx, team.ID, r.ID, true)
	if err != nil || string(got.Data.Body) != "hello" {
		t.Fatalf("request after reopen: %+v, %v", got, err)
	}
	ms, _ := migrations()
	var n int
	if err := s2.rdb.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, len(ms))
	}
}

// TestCloseFlushes checks that every InsertRequest that returned nil is on
// disk once Close returns, even when Close races the inserts.
func TestCloseFlushes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sluice.db")
	ctx := t.Context()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done []string
	)
	start := make(chan struct{})
	for i := range 40 {
		wg.Go(func() {
			<-start
			r := model.Request{
				ID: model.NewID(model.PrefixRequest), TeamID: "tm_x", SourceID: "src_x",
				Data:      model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Body: []byte{byte(i)}},
				CreatedAt: time.Now(), IngestedAt: time.Now(), UpdatedAt: time.Now(),
			}
			err := s.InsertRequest(ctx, &r)
			switch {
			case err == nil:
				mu.Lock()
				done = append(done, r.ID)
				mu.Unlock()
			case !errors.Is(err, ErrClosed):
				t.Errorf("InsertRequest: %v", err)
			}
		})
	}
	close(start)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	s2 := openPath(t, path, Options{})
	for _, id := range done {
		if _, err := s2.GetRequest(ctx, "tm_x", id, false); err != nil {
			t.Fatalf("acknowledged request %s lost: %v", id, err)
		}
	}
	t.Logf("%d of 40 inserts were acknowledged before Close", len(done))
}

func TestReadersAreReadOnly(t *testing.T) {
	s := openTest(t, Options{})
	if _, err := s.rdb.ExecContext(t.Context(), `DELETE FROM teams`); err == nil {
		t.Fatal("a read connection could write")
	}
}

// TestCancelledContext checks that a write whose context ended before it
// started is reported as such and not committed.
func TestCancelledContext(t *testing.T) {
	s := openTest(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	src := model.Source{ID: model.NewID(model.PrefixSource), TeamID: "tm_x", Name: "a", Type: "WEBHOOK"}
	if err := s.CreateSource(ctx, &src); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateSource with cancelled context: %v", err)
	}
	if _, err := s.GetSource(t.Context(), "tm_x", src.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("source written despite cancelled context: %v", err)
	}
}

func TestTranslate(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	// A real constraint error from the driver.
	_, uniqueErr := s.wdb.ExecContext(ctx, `INSERT INTO teams (id, name, signing_secret, created_at) VALUES ('t', 'n', 's', 0), ('t', 'n', 's', 0)`)
	if uniqueErr == nil {
		t.Fatal("duplicate insert succeeded")
	}
	_, fkErr := s.wdb.ExecContext(ctx, `INSERT INTO connections (id, team_id, name, source_id, destination_id, created_at, updated_at)
		VALUES ('web_x', 't', 'n', 'src_missing', 'des_missing', 0, 0)`)
	if fkErr == nil {
		t.Fatal("connection to missing source inserted")
	}
	other := errors.New("disk on fire")
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"no rows", fmt.Errorf("get: %w", sql.ErrNoRows), store.ErrNotFound},
		{"unique", uniqueErr, store.ErrConflict},
		{"foreign key", fkErr, store.ErrNotFound},
		{"sentinel kept", fmt.Errorf("x: %w", store.ErrLeaseLost), store.ErrLeaseLost},
		{"other", other, other},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := translate(tc.err); !errors.Is(got, tc.want) {
				t.Fatalf("translate(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// The writer never checkpoints (wal_autocheckpoint=0): the background
// checkpointer copies the log into the database file, for both ways of
// syncing.
func TestBackgroundCheckpoints(t *testing.T) {
	for _, syncEach := range []bool{false, true} {
		t.Run(fmt.Sprintf("sync_each_commit=%v", syncEach), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ckpt.db")
			s := openPath(t, path, Options{SyncEachCommit: syncEach})
			var auto int
			if err := s.wdb.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
				t.Fatalf("writer's wal_autocheckpoint = %d (%v), want 0", auto, err)
			}
			var limit int64
			if err := s.wdb.QueryRow(`PRAGMA journal_size_limit`).Scan(&limit); err != nil || limit != walSizeLimit {
				t.Fatalf("writer's journal_size_limit = %d (%v), want %d", limit, err, walSizeLimit)
			}
			sizeOf := func() int64 {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				return fi.Size()
			}
			before := sizeOf()
			team, err := s.EnsureDefaultTeam(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			body := bytes.Repeat([]byte("x"), 2048)
			var wg sync.WaitGroup
			for i := range 1000 {
				wg.Go(func() {
					now := time.Now().UTC()
					r := model.Request{ID: model.NewID(model.PrefixRequest), TeamID: team.ID, SourceID: "src_ckpt",
						Data:       model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Body: body},
						IngestedAt: now, CreatedAt: now, UpdatedAt: now}
					if err := s.InsertRequest(t.Context(), &r); err != nil {
						t.Errorf("insert %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			deadline := time.Now().Add(10 * time.Second)
			for sizeOf() < before+1<<20 {
				if time.Now().After(deadline) {
					t.Fatalf("the database file stayed at %d bytes (from %d): nothing was checkpointed", sizeOf(), before)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// Under steady writes passive checkpoints alone never let the log start
// over; the RESTART checkpoint keeps it bounded.
func TestLogStaysBoundedUnderSteadyWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steady.db")
	s := openPath(t, path, Options{})
	team, err := s.EnsureDefaultTeam(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("y"), 16<<10)
	var (
		wg      sync.WaitGroup
		maxWAL  int64
		written atomic.Int64
	)
	deadline := time.Now().Add(3 * time.Second)
	for range 16 {
		wg.Go(func() {
			for time.Now().Before(deadline) && written.Load() < 64<<20 {
				now := time.Now().UTC()
				r := model.Request{ID: model.NewID(model.PrefixRequest), TeamID: team.ID, SourceID: "src_steady",
					Data:       model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Body: body},
					IngestedAt: now, CreatedAt: now, UpdatedAt: now}
				if err := s.InsertRequest(t.Context(), &r); err != nil {
					t.Error(err)
					return
				}
				written.Add(int64(len(body)))
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for watching := true; watching; {
		select {
		case <-done:
			watching = false
		case <-time.After(10 * time.Millisecond):
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			maxWAL = max(maxWAL, fi.Size())
		}
	}
	t.Logf("wrote %d MiB, the log peaked at %d MiB", written.Load()>>20, maxWAL>>20)
	if written.Load() < 48<<20 {
		t.Skipf("only %d MiB written in time: too slow a machine to tell", written.Load()>>20)
	}
	if maxWAL > 40<<20 {
		t.Fatalf("the log reached %d MiB while %d MiB were written: it is not starting over", maxWAL>>20, written.Load()>>20)
	}
}

// When the log cannot be synced, the write is not reported done, every
// later write fails too (the disk's state is unknown), and Ping says so.
func TestFailedSyncFailsWritesAndPing(t *testing.T) {
	s := openPath(t, filepath.Join(t.TempDir(), "sync.db"), Options{})
	team, err := s.EnsureDefaultTeam(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	insert := func() error {
		now := time.Now().UTC()
		r := model.Request{ID: model.NewID(model.PrefixRequest), TeamID: team.ID, SourceID: "src_sync",
			Data: model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST"}, IngestedAt: now, CreatedAt: now, UpdatedAt: now}
		return s.InsertRequest(t.Context(), &r)
	}
	if err := insert(); err != nil {
		t.Fatalf("insert before the failure: %v", err)
	}
	good := s.walPath
	s.walPath = filepath.Join(t.TempDir(), "missing", "sync.db-wal") // the next sync cannot open it
	if err := insert(); !errors.Is(err, groupcommit.ErrSync) {
		t.Fatalf("insert whose sync failed: %v, want ErrSync", err)
	}
	s.walPath = good
	if err := insert(); !errors.Is(err, groupcommit.ErrSync) {
		t.Fatalf("insert after a failed sync: %v, want ErrSync", err)
	}
	if err := s.Ping(t.Context()); err == nil || !strings.Contains(err.Error(), "until restart") {
		t.Fatalf("Ping after a failed sync: %v", err)
	}
}

// Checkpoints follow commits: a store that writes nothing runs none.
func TestIdleStoreRunsNoCheckpoints(t *testing.T) {
	s := openPath(t, filepath.Join(t.TempDir(), "idle.db"), Options{})
	if _, err := s.EnsureDefaultTeam(t.Context()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * checkpointEvery) // the write's round, then quiet
	before := s.checkpoints.runs.Load()
	if before == 0 {
		t.Fatal("no checkpoint after a write")
	}
	time.Sleep(5 * checkpointEvery)
	if after := s.checkpoints.runs.Load(); after != before {
		t.Fatalf("%d checkpoint rounds while idle", after-before)
	}
}
