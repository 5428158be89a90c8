package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Checkpoints copy the write-ahead log into the database file so that the
// log can start over. SQLite runs one inside whichever commit takes the
// log past 1000 pages, which stalls the single writer — and every write
// waiting on it — for the whole copy and its fsyncs. The store turns that
// off on the writer and checkpoints from a connection of its own:
//
//   - after commits, at most every checkpointEvery, a PASSIVE checkpoint
//     copies what it can without ever blocking the writer or the readers
//     (an idle store runs none);
//   - but under steady writes the log is then never entirely copied when
//     the writer starts a transaction, which is when SQLite starts the log
//     over, so it would grow without end. Once it holds more than
//     checkpointRestartFrames, a RESTART checkpoint waits for the writer's
//     current transaction, copies the few frames the passive ones left and
//     makes the next transaction start the log over. The writer waits for
//     that short tail only, not for the whole copy.
const (
	checkpointEvery         = 50 * time.Millisecond
	checkpointRestartFrames = 2048 // 8 MiB of 4 KiB pages
	// walSizeLimit is the size the log file is cut back to when it
	// starts over, if it grew larger.
	walSizeLimit = 64 << 20
)

// checkpointer runs the store's checkpoints in the background.
type checkpointer struct {
	db     *sql.DB
	log    *slog.Logger
	wake   chan struct{} // poked after commits
	runs   atomic.Int64  // checkpoint rounds so far
	cancel context.CancelFunc
	done   chan struct{}
}

// startCheckpointer turns off the writer's automatic checkpoints and
// starts the background ones on a connection of their own.
func (s *Store) startCheckpointer(ctx context.Context, path string, opts Options) error {
	if _, err := s.wdb.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
		return fmt.Errorf("turn off automatic checkpoints: %w", err)
	}
	// One huge transaction (unpausing a million held events, say) grows
	// the log as much; when the log starts over, give the disk back.
	if _, err := s.wdb.ExecContext(ctx, fmt.Sprintf(`PRAGMA journal_size_limit = %d`, walSizeLimit)); err != nil {
		return fmt.Errorf("limit the log's size: %w", err)
	}
	db, err := openOneConn(path, opts)
	if err != nil {
		return fmt.Errorf("open the checkpoint connection: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return fmt.Errorf("open the checkpoint connection: %w", err)
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, log: s.log, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go c.loop(loopCtx)
	s.checkpoints = c
	return nil
}

// poke tells the checkpointer the log has grown; it never blocks.
func (c *checkpointer) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
		c.runs.Add(1)
		next := time.Now().Add(checkpointEvery)
		frames, err := c.checkpoint(ctx, "PASSIVE")
		if err == nil && frames > checkpointRestartFrames {
			_, err = c.checkpoint(ctx, "RESTART")
		}
		if err != nil && ctx.Err() == nil {
			c.log.Warn("sqlitestore: checkpoint", "err", err)
		}
		select { // at most one round per checkpointEvery
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
	}
}

// checkpoint runs one checkpoint in mode and returns the frames the log
// held.
func (c *checkpointer) checkpoint(ctx context.Context, mode string) (frames int, err error) {
	var busy, copied int
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &copied); err != nil {
		return 0, fmt.Errorf("%s checkpoint: %w", mode, err)
	}
	return frames, nil
}

// stop ends the background checkpoints.
func (c *checkpointer) stop() error {
	c.cancel()
	<-c.done
	return c.db.Close()
}
