package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memTx is a transaction over an in-memory log: writes become visible only
// at commit, like a database's.
type memTx struct {
	db      *memDB
	pending []string
}

func (t *memTx) Commit(context.Context) error {
	t.db.mu.Lock()
	defer t.db.mu.Unlock()
	if t.db.failCommit {
		return errors.New("disk full")
	}
	t.db.rows = append(t.db.rows, t.pending...)
	t.db.commits++
	return nil
}

func (t *memTx) Rollback(context.Context) error { return nil }

type memDB struct {
	mu         sync.Mutex
	rows       []string
	commits    int
	failCommit bool
}

func (db *memDB) begin(context.Context) (*memTx, error) { return &memTx{db: db}, nil }

func TestBatchesShareCommits(t *testing.T) {
	db := &memDB{}
	c := New(db.begin, Config{})
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Do(context.Background(), func(tx *memTx) error {
				tx.pending = append(tx.pending, "row")
				return nil
			})
			if err != nil {
				t.Errorf("op %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	c.Close()
	if len(db.rows) != 200 {
		t.Fatalf("%d rows committed, want 200", len(db.rows))
	}
	if db.commits >= 200 {
		t.Logf("no batching happened (%d commits); possible on an idle scheduler", db.commits)
	}
}

func TestFailingOpDoesNotFailNeighbours(t *testing.T) {
	db := &memDB{}
	c := New(db.begin, Config{})
	defer c.Close()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Do(context.Background(), func(tx *memTx) error {
				if i == 7 {
					return errors.New("bad row")
				}
				tx.pending = append(tx.pending, "row")
				return nil
			})
			if err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 1 || len(db.rows) != 49 {
		t.Fatalf("%d failed, %d rows; want 1 failed and 49 rows", failed.Load(), len(db.rows))
	}
}

func TestCommitFailureReachesEveryCaller(t *testing.T) {
	db := &memDB{failCommit: true}
	c := New(db.begin, Config{})
	defer c.Close()
	if err := c.Do(context.Background(), func(*memTx) error { return nil }); err == nil {
		t.Fatal("a failed commit was reported as success")
	}
}

// Do racing Close either commits or returns ErrClosed; it never hangs.
func TestDoRacingCloseNeverHangs(t *testing.T) {
	for range 200 {
		db := &memDB{}
		c := New(db.begin, Config{})
		done := make(chan error, 8)
		for range 8 {
			go func() { done <- c.Do(context.Background(), func(*memTx) error { return nil }) }()
		}
		c.Close()
		for range 8 {
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, ErrClosed) {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Do hung after Close")
			}
		}
	}
}

// With Config.Sync, a write is reported only after a Sync that started
// after its commit, and one failed Sync fails it and every later write.
func TestSyncBeforeReporting(t *testing.T) {
	db := &memDB{}
	var (
		mu        sync.Mutex
		syncedTo  int // commits covered by the last completed Sync
		syncs     int
		failSyncs bool
	)
	syncFn := func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		db.mu.Lock()
		covered := db.commits
		db.mu.Unlock()
		time.Sleep(time.Millisecond) // the disk
		syncs++
		if failSyncs {
			return errors.New("EIO")
		}
		syncedTo = covered
		return nil
	}
	c := New(db.begin, Config{Sync: syncFn})
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			var mine int
			err := c.Do(context.Background(), func(tx *memTx) error {
				tx.pending = append(tx.pending, "row")
				db.mu.Lock()
				mine = db.commits + 1 // the commit this transaction will be
				db.mu.Unlock()
				return nil
			})
			if err != nil {
				t.Errorf("op %d: %v", i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if syncedTo < mine {
				t.Errorf("op %d reported after sync of %d commits, its commit is #%d", i, syncedTo, mine)
			}
		})
	}
	wg.Wait()
	if syncs == 0 || syncs > db.commits {
		t.Errorf("%d syncs for %d commits", syncs, db.commits)
	}

	mu.Lock()
	failSyncs = true
	mu.Unlock()
	write := func() error {
		return c.Do(context.Background(), func(tx *memTx) error {
			tx.pending = append(tx.pending, "row")
			return nil
		})
	}
	if err := write(); !errors.Is(err, ErrSync) {
		t.Fatalf("write with a failing sync: %v, want ErrSync", err)
	}
	mu.Lock()
	failSyncs = false
	mu.Unlock()
	if err := write(); !errors.Is(err, ErrSync) {
		t.Fatalf("write after a failed sync: %v, want ErrSync still", err)
	}
	c.Close()
}
