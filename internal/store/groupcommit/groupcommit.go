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
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
	})
	c.wg.Wait()
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
		for _, o := range live {
			o.done <- nil
		}
		return
	}
	if len(live) == 1 || errors.Is(err, errCommit) {
		for _, o := range live {
			o.done <- err
		}
		return
	}
	for _, o := range live {
		o.done <- c.runTx([]op[T]{o})
	}
}

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
