// Package groupcommit batches concurrent writes into shared transactions.
//
// One fsync costs a fraction of a millisecond to milliseconds; committing
// each webhook on its own caps ingest at a few thousand per second. A
// Committer lets many goroutines hand it write functions: a writer goroutine
// runs every function waiting at that moment in one transaction and commits
// once. Each caller learns whether its own function was committed.
//
// If any function in a batch fails, the batch is rolled back and each
// function is rerun in a transaction of its own, so one bad write cannot
// fail its neighbours. Functions must therefore have no effects outside the
// transaction they are given, other than writing results that a rerun
// overwrites.
//
// With Config.Sync, durability is pipelined: the writer commits a batch
// without waiting for the disk, hands the batch to a syncer goroutine and
// goes on with the next one; the syncer calls Sync once for every batch
// committed since its last call and only then tells their callers. The
// writer and the disk work at the same time, and Do still returns only
// once its write is durable.
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Tx is the part of a database transaction the committer drives.
type Tx interface {
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// BeginFunc starts a transaction.
type BeginFunc[T Tx] func(ctx context.Context) (T, error)

// Config tunes a Committer.
type Config struct {
	// MaxBatch caps the functions run in one transaction (default 256).
	MaxBatch int
	// Writers is the number of writer goroutines, each with its own
	// transaction (default 1; SQLite allows only one writer).
	Writers int
	// OnCommit, if set, is called after each commit with the batch size.
	OnCommit func(size int)
	// Sync, if set, makes every commit before its call durable; commits
	// then need not be durable by themselves (see the package doc). Once
	// Sync fails the committer fails every later write: after a failed
	// fsync the state of the disk is unknown, and retrying it could
	// falsely succeed.
	Sync func(ctx context.Context) error
}

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("groupcommit: closed")

type op[T Tx] struct {
	ctx  context.Context
	fn   func(T) error
	done chan error
}

// Committer runs write functions in shared transactions.
type Committer[T Tx] struct {
	begin BeginFunc[T]
	cfg   Config
	ops   chan op[T]

	// mu orders Do's hand-over against Close: Do queues under the read
	// lock only while closed is false, and Close sets closed under the
	// write lock before it signals the writers, so every queued op is
	// seen by a writer's final drain.
	mu        sync.RWMutex
	closed    bool
	closeOnce sync.Once
	closing   chan struct{}
	wg        sync.WaitGroup

	// unsynced carries committed batches from the writers to the syncer
	// (with Config.Sync).
	unsynced chan []op[T]
	synced   chan struct{}         // closed when the syncer has exited
	syncErr  atomic.Pointer[error] // the first Sync failure, wrapped in ErrSync
}

// New starts a committer's writer goroutines. Call Close to stop them.
func New[T Tx](begin BeginFunc[T], cfg Config) *Committer[T] {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 1
	}
	c := &Committer[T]{
		begin:   begin,
		cfg:     cfg,
		ops:     make(chan op[T], cfg.MaxBatch*cfg.Writers),
		closing: make(chan struct{}),
	}
	for range cfg.Writers {
		c.wg.Add(1)
		go c.writer()
	}
	if cfg.Sync != nil {
		c.unsynced = make(chan []op[T])
		c.synced = make(chan struct{})
		go c.syncer()
	}
	return c
}

// Do runs fn inside a transaction shared with other callers and returns
// once that transaction has committed (nil) or failed (the error). fn may be
// run twice (see the package doc). If ctx ends before fn is started, Do
// returns ctx's error and fn never runs; once started, fn's outcome is
// awaited regardless of ctx, so the answer is always the truth.
func (c *Committer[T]) Do(ctx context.Context, fn func(T) error) error {
	o := op[T]{ctx: ctx, fn: fn, done: make(chan error, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	select {
	case c.ops <- o:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	return <-o.done
}

// Close stops accepting work, finishes what was handed in, and waits for
// the writers to exit.
func (c *Committer[T]) Close() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.closing)
		c.wg.Wait()
		if c.unsynced != nil {
			close(c.unsynced)
			<-c.synced
		}
	})
	c.wg.Wait()
	if c.synced != nil {
		<-c.synced
	}
}

func (c *Committer[T]) writer() {
	defer c.wg.Done()
	batch := make([]op[T], 0, c.cfg.MaxBatch)
	for {
		var first op[T]
		select {
		case first = <-c.ops:
		case <-c.closing:
			// Drain what was queued before closing.
			for {
				select {
				case o := <-c.ops:
					c.run([]op[T]{o})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < c.cfg.MaxBatch {
			select {
			case o := <-c.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		c.run(batch)
	}
}

// run executes a batch in one transaction, falling back to one transaction
// per op when any op fails.
func (c *Committer[T]) run(batch []op[T]) {
	live := batch[:0:0]
	for _, o := range batch {
		if err := o.ctx.Err(); err != nil {
			o.done <- err
			continue
		}
		live = append(live, o)
	}
	if len(live) == 0 {
		return
	}
	err := c.runTx(live)
	if err == nil {
		if c.cfg.OnCommit != nil {
			c.cfg.OnCommit(len(live))
		}
		c.committed(live)
		return
	}
	if len(live) == 1 || errors.Is(err, errCommit) {
		for _, o := range live {
			o.done <- err
		}
		return
	}
	ok := live[:0]
	for _, o := range live {
		if err := c.runTx([]op[T]{o}); err != nil {
			o.done <- err
			continue
		}
		ok = append(ok, o)
	}
	c.committed(ok)
}

// committed tells the callers of committed ops that they succeeded, at
// once or, with Config.Sync, once the syncer has made them durable.
func (c *Committer[T]) committed(ops []op[T]) {
	if len(ops) == 0 {
		return
	}
	if c.unsynced == nil {
		for _, o := range ops {
			o.done <- nil
		}
		return
	}
	c.unsynced <- slices.Clone(ops) // the writer reuses its batch
}

// syncer makes committed batches durable: one Sync for all the batches
// waiting, then their callers are told.
func (c *Committer[T]) syncer() {
	defer close(c.synced)
	for ops := range c.unsynced {
		waiting := ops
	gather:
		for {
			select {
			case more, ok := <-c.unsynced:
				if !ok {
					break gather
				}
				waiting = append(waiting, more...)
			default:
				break gather
			}
		}
		if c.SyncErr() == nil {
			if err := c.cfg.Sync(context.Background()); err != nil {
				err = fmt.Errorf("%w: %w", ErrSync, err)
				c.syncErr.Store(&err)
			}
		}
		err := c.SyncErr()
		for _, o := range waiting {
			o.done <- err
		}
	}
}

// SyncErr returns the Config.Sync failure that fails every write since
// (wrapping ErrSync), or nil.
func (c *Committer[T]) SyncErr() error {
	if err := c.syncErr.Load(); err != nil {
		return *err
	}
	return nil
}

// ErrSync wraps a failed Config.Sync: the writes it covered, and every
// write after it, may not be durable.
var ErrSync = errors.New("groupcommit: sync failed")

var errCommit = errors.New("commit failed")

func (c *Committer[T]) runTx(ops []op[T]) error {
	ctx := context.Background() // started work always finishes; see Do.
	tx, err := c.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	for _, o := range ops {
		if err := o.fn(tx); err != nil {
			_ = tx.Rollback(ctx)
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		_ = tx.Rollback(ctx)
		return fmt.Errorf("%w: %w", errCommit, err)
	}
	return nil
}
