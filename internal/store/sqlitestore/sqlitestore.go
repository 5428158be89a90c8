// Package sqlitestore is the embedded store.Store: one SQLite file in WAL
// mode; every write is fsynced before it is reported done.
//
// Every write goes through one writer connection driven by a group
// committer, so concurrent callers share transactions and fsyncs. The
// fsync is pipelined: SQLite commits without syncing (synchronous=NORMAL,
// which in WAL mode still syncs around checkpoints) and the committer's
// syncer fsyncs the write-ahead log before it tells the batch's callers,
// while the writer commits the next batch (see groupcommit and syncWAL).
// A write is reported done only once its commit is on disk. Reads use
// a separate pool of read-only connections, which WAL lets run alongside
// the writer. Only one process should open a given file for writing at a
// time; several would serialise on SQLite's lock (busy_timeout) but stay
// correct.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/store/groupcommit"
)

var _ store.Store = (*Store)(nil)

// Defaults for Options.
const (
	// MaxBatchDefault caps the writes committed in one transaction.
	MaxBatchDefault = 256
	// ReadConnsDefault is the size of the read-only connection pool.
	ReadConnsDefault = 4
	// BusyTimeoutDefault is how long a connection waits for a lock held by
	// another process before failing.
	BusyTimeoutDefault = 5 * time.Second
)

// Options tunes a Store. The zero value is usable.
type Options struct {
	// MaxBatch caps the writes committed in one transaction
	// (MaxBatchDefault when 0).
	MaxBatch int
	// ReadConns is the number of read-only connections (ReadConnsDefault
	// when 0).
	ReadConns int
	// BusyTimeout is how long to wait for another process's lock
	// (BusyTimeoutDefault when 0).
	BusyTimeout time.Duration
	// Logger receives the store's few log lines (slog.Default when nil).
	Logger *slog.Logger
	// OnCommit, if set, is called after each group commit with the number
	// of writes it carried (for metrics).
	OnCommit func(size int)
	// OnSync, if set, is called with the duration of each fsync of the
	// write-ahead log (for metrics).
	OnSync func(time.Duration)
	// SyncEachCommit makes SQLite fsync within every commit
	// (synchronous=FULL) instead of pipelining the fsync of the
	// write-ahead log with the next commit. Both are durable; this is
	// slower and exists to compare them.
	SyncEachCommit bool
}

func (o Options) withDefaults() Options {
	if o.MaxBatch <= 0 {
		o.MaxBatch = MaxBatchDefault
	}
	if o.ReadConns <= 0 {
		o.ReadConns = ReadConnsDefault
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = BusyTimeoutDefault
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Store is a store.Store on one SQLite file. It is safe for concurrent use.
type Store struct {
	wdb *sql.DB   // one connection, used only by the committer
	rdb *readPool // read-only pool
	gc  *groupcommit.Committer[*wtx]
	log *slog.Logger
	// stmts are the statements prepared on the writer connection.
	stmts *stmtCache
	// walPath is the write-ahead log that syncWAL fsyncs ("" when SQLite
	// fsyncs each commit itself).
	walPath string
	// checkpoints runs checkpoints beside the writer (nil: SQLite's own).
	checkpoints *checkpointer
	onSync      func(time.Duration)

	// closeMu is held shared by every write for its whole duration and
	// exclusively by Close, so that Close waits for writes in flight and
	// no write reaches the committer after it stopped.
	closeMu sync.RWMutex
	closed  bool
}

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("sqlitestore: store closed")

// Open opens (creating if needed) the database file at path, applies any
// pending migrations and starts the group committer.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlitestore: invalid database path %q", path)
	}
	wdb, err := openOneConn(path, opts)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	if err := migrate(ctx, wdb, opts.Logger); err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("sqlitestore: migrate %s: %w", path, err)
	}
	rdb, err := sql.Open("sqlite", dsn(path, opts, true))
	if err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("sqlitestore: open %s for reading: %w", path, err)
	}
	rdb.SetMaxOpenConns(opts.ReadConns)
	rdb.SetMaxIdleConns(opts.ReadConns)
	if err := rdb.PingContext(ctx); err != nil {
		_ = wdb.Close()
		_ = rdb.Close()
		return nil, fmt.Errorf("sqlitestore: open %s for reading: %w", path, err)
	}
	s := &Store{wdb: wdb, rdb: newReadPool(rdb), log: opts.Logger, stmts: newStmtCache(), onSync: opts.OnSync}
	cfg := groupcommit.Config{MaxBatch: opts.MaxBatch, OnCommit: opts.OnCommit}
	if err := s.setUpWAL(ctx, path, opts); err != nil {
		_ = wdb.Close()
		_ = rdb.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	if s.walPath != "" {
		cfg.Sync = s.syncWAL
	}
	s.gc = groupcommit.New(s.begin, cfg)
	return s, nil
}

// setUpWAL, if the database is in WAL mode, starts the background
// checkpoints and, unless opts.SyncEachCommit, switches the writer to
// commits that do not fsync (synchronous=NORMAL), leaving the fsync to
// syncWAL; what migrations wrote is synced here. Otherwise SQLite keeps
// syncing each commit and checkpointing by itself.
func (s *Store) setUpWAL(ctx context.Context, path string, opts Options) error {
	var mode string
	if err := s.wdb.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("read the journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		s.log.Warn("sqlitestore: the database is not in WAL mode; every commit is synced on its own", "journal_mode", mode)
		return nil
	}
	if err := s.startCheckpointer(ctx, path, opts); err != nil {
		return err
	}
	if opts.SyncEachCommit {
		return nil
	}
	if _, err := s.wdb.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return errors.Join(fmt.Errorf("set synchronous: %w", err), s.checkpoints.stop())
	}
	s.walPath = path + "-wal"
	if err := s.syncWAL(ctx); err != nil {
		return errors.Join(err, s.checkpoints.stop())
	}
	return nil
}

// syncWAL fsyncs the write-ahead log, making every transaction committed
// before the call durable: in WAL mode a commit is a set of frames
// appended to the log, and recovery replays the log up to its last
// complete commit. The file is opened afresh each time, so that the inode
// synced is the one SQLite writes to now. Checkpoints, which copy the log
// into the database and then reuse the log, are synced by SQLite itself
// under synchronous=NORMAL.
func (s *Store) syncWAL(context.Context) error {
	start := time.Now()
	f, err := os.Open(s.walPath)
	if err != nil {
		err = fmt.Errorf("sqlitestore: open %s: %w", s.walPath, err)
		s.log.Error("sqlitestore: cannot open the write-ahead log to sync it; writes fail until restart", "path", s.walPath, "err", err)
		return err
	}
	err = dataSync(f)
	_ = f.Close()
	if err != nil {
		err = fmt.Errorf("sqlitestore: fsync %s: %w", s.walPath, err)
		s.log.Error("sqlitestore: fsync of the write-ahead log failed; writes fail until restart", "path", s.walPath, "err", err)
		return err
	}
	if s.onSync != nil {
		s.onSync(time.Since(start))
	}
	return nil
}

// openOneConn opens path for writing as a pool of one connection that is
// never closed while the store is open.
func openOneConn(path string, opts Options) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, opts, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// dsn is the driver's data source name: the plain path plus the pragmas
// every connection runs when it opens.
func dsn(path string, opts Options, readOnly bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	if readOnly {
		q.Set("_query_only", "1")
	}
	return path + "?" + q.Encode()
}

// Ping checks that both the writer and the readers answer, and that the
// write-ahead log could be synced.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.gc.SyncErr(); err != nil {
		return fmt.Errorf("sqlitestore: writes are failing until restart: %w", err)
	}
	if err := s.rdb.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlitestore: ping: %w", err)
	}
	if err := s.wdb.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlitestore: ping writer: %w", err)
	}
	return nil
}

// Close waits for the writes in flight to commit, then closes the
// database. Later writes return ErrClosed. Closing twice is a no-op.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	s.closeMu.Unlock()
	s.gc.Close()
	var errs []error
	if s.checkpoints != nil {
		errs = append(errs, s.checkpoints.stop())
	}
	// Let SQLite refresh the planner's statistics where they went stale.
	if _, err := s.wdb.Exec(`PRAGMA optimize`); err != nil {
		s.log.Warn("sqlitestore: optimize on close", "err", err)
	}
	return errors.Join(append(errs, s.stmts.close(), s.rdb.Close(), s.wdb.Close())...)
}

// begin starts a writer transaction, first preparing the statements the
// previous ones queued (the writer connection is idle here).
func (s *Store) begin(ctx context.Context) (*wtx, error) {
	s.stmts.prepareQueued(ctx, s.wdb)
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	t := &wtx{tx: tx, stmts: s.stmts}
	if s.checkpoints != nil {
		t.committed = s.checkpoints.poke
	}
	return t, nil
}

// write runs fn in a group-committed transaction and returns once it is
// durable. fn may be run twice (see groupcommit) and must only touch the
// transaction and results it overwrites. what names the operation in
// errors, which are translated to the store's sentinels.
func (s *Store) write(ctx context.Context, what string, fn func(ctx context.Context, tx *wtx) error) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return fmt.Errorf("sqlitestore: %s: %w", what, ErrClosed)
	}
	bg := context.WithoutCancel(ctx) // a started write finishes; see groupcommit.Do.
	err := s.gc.Do(ctx, func(t *wtx) error { return fn(bg, t) })
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", what, translate(err))
	}
	return nil
}

// readErr wraps a read error with context, translated.
func readErr(what string, err error) error {
	return fmt.Errorf("sqlitestore: %s: %w", what, translate(err))
}

// translate maps driver errors onto the store's sentinel errors.
func translate(err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrLeaseLost) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: a referenced row does not exist: %v", store.ErrNotFound, err)
		}
	}
	return err
}

// mustAffect returns ErrNotFound unless res changed at least one row.
func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// queryer is what both *sql.DB and *sql.Tx offer.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
