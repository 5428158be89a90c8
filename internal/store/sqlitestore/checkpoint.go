package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// Checkpoints copy the write-ahead log into the database file so that the
// log can start over. SQLite runs one inside whichever commit takes the
// log past 1000 pages, which stalls the single writer — and every write
// waiting on it — for the copy and its fsyncs. The store turns that off on
// the writer and runs PASSIVE checkpoints on a connection of their own: a
// passive checkpoint copies what it can without ever blocking the writer
// or the readers. Should the log still grow past checkpointForceFrames
// (the writer never pausing long enough for a passive checkpoint to
// catch up), a RESTART checkpoint waits for the writer's current
// transaction, copies the rest and starts the log over.
const (
	checkpointEvery       = 250 * time.Millisecond
	checkpointForceFrames = 16384 // 64 MiB of 4 KiB pages
)

// checkpointer runs the store's checkpoints in the background.
type checkpointer struct {
	db     *sql.DB
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

// startCheckpointer turns off the writer's automatic checkpoints and
// starts the background ones on a connection of their own.
func (s *Store) startCheckpointer(ctx context.Context, path string, opts Options) error {
	if _, err := s.wdb.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
		return fmt.Errorf("turn off automatic checkpoints: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(path, opts, false))
	if err != nil {
		return fmt.Errorf("open the checkpoint connection: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return fmt.Errorf("open the checkpoint connection: %w", err)
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, log: s.log, cancel: cancel, done: make(chan struct{})}
	go c.loop(loopCtx)
	s.checkpoints = c
	return nil
}

func (c *checkpointer) loop(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	mode := "PASSIVE"
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var busy, frames, copied int
		err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &copied)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			c.log.Warn("sqlitestore: checkpoint", "mode", mode, "err", err)
		case frames-copied > checkpointForceFrames || (mode == "RESTART" && busy != 0):
			mode = "RESTART" // until one succeeds
		default:
			mode = "PASSIVE"
		}
	}
}

// stop ends the background checkpoints.
func (c *checkpointer) stop() error {
	c.cancel()
	<-c.done
	return c.db.Close()
}
