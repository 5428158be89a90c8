// Package pgstore is the PostgreSQL implementation of store.Store, for
// deployments where several Sluice processes share one database.
//
// Work is handed out with leases: claims pick rows with FOR UPDATE SKIP
// LOCKED, so concurrent workers never block on each other, and a lease that
// its owner fails to release expires and makes the row claimable again.
// Ingest is group-committed: concurrent InsertRequest calls share
// transactions, so one fsync acknowledges many webhooks.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/store/groupcommit"
)

// Defaults for Options.
const (
	// DefaultMaxConns is the connection pool size when Options names none.
	DefaultMaxConns = 16
	// DefaultCommitWriters is the number of concurrent group-commit
	// statements for ingest: two let one group fill while the other waits
	// for its fsync. More give smaller groups; on a 2-core machine they
	// were no faster (BenchmarkInsertRequest), a bigger server may differ.
	DefaultCommitWriters = 2
	// DefaultMaxBatch caps the requests committed in one transaction.
	DefaultMaxBatch = 256
)

// Options tunes a Store. The zero value uses the defaults.
type Options struct {
	// MaxConns is the connection pool size (DefaultMaxConns when 0). It
	// must exceed twice CommitWriters so that other work finds connections
	// while every writer holds one.
	MaxConns int32
	// CommitWriters is the number of group-commit writers of ingest, and
	// again of delivery attempts (DefaultCommitWriters when 0).
	CommitWriters int
	// MaxBatch caps the requests, and the attempts, per group commit
	// (DefaultMaxBatch when 0).
	MaxBatch int
	// OnCommit, if set, is called with the size of every ingest batch.
	OnCommit func(size int)
}

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.CommitWriters <= 0 {
		o.CommitWriters = DefaultCommitWriters
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	return o
}

func (o Options) validate() error {
	if int(o.MaxConns) <= 2*o.CommitWriters {
		return fmt.Errorf("pgstore: Options.MaxConns (%d) must exceed twice Options.CommitWriters (%d)", o.MaxConns, o.CommitWriters)
	}
	return nil
}

// Store is a store.Store on PostgreSQL. It is safe for concurrent use, also
// by several processes sharing one database.
type Store struct {
	pool     *pgxpool.Pool
	ingest   *groupcommit.Committer[*batchTx[*ingestRow]]
	attempts *groupcommit.Committer[*batchTx[*attemptRow]]
	notes    *notifier
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn, applies any pending migrations and
// starts the ingest group committer. Several processes may open the same
// database at once; migrations run in only one of them.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: parse dsn: %w", err)
	}
	cfg.MaxConns = opts.MaxConns
	// pgxpool pings every connection idle for over a second before handing
	// it out: an idle gateway, whose loops query every few seconds, would
	// double its queries. Ping only connections idle for a minute (a
	// broken one otherwise fails one query, which its caller retries).
	cfg.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool { return p.IdleDuration > time.Minute }
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		// Times come back in UTC, as they went in.
		c.TypeMap().RegisterType(&pgtype.Type{
			Name:  "timestamptz",
			OID:   pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool, notes: newNotifier(pool)}
	s.ingest = newBatchCommitter(s.writeRequests, groupcommit.Config{
		MaxBatch: opts.MaxBatch,
		Writers:  opts.CommitWriters,
		OnCommit: opts.OnCommit,
	})
	s.attempts = newBatchCommitter(s.writeAttemptGroup, groupcommit.Config{
		MaxBatch: opts.MaxBatch,
		Writers:  opts.CommitWriters,
	})
	return s, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pgstore: ping: %w", err)
	}
	return nil
}

// Close finishes pending ingest and attempt commits and closes the connection pool.
func (s *Store) Close() error {
	s.ingest.Close()
	s.attempts.Close()
	s.notes.close()
	s.pool.Close()
	return nil
}

// PostgreSQL error codes the store translates.
const (
	pgUniqueViolation = "23505"
)

// translate maps driver errors onto the store's sentinels, keeping the
// original in the chain, and adds what the caller was doing.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("pgstore: %s: %w", what, store.ErrNotFound)
	case errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation:
		return fmt.Errorf("pgstore: %s: %w (%w)", what, store.ErrConflict, err)
	}
	return fmt.Errorf("pgstore: %s: %w", what, err)
}

// inTx runs fn in a transaction of its own, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return translate(err, "commit")
	}
	return nil
}
