package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// RecordAttempt is group-committed like ingest: concurrent calls only
// collect their outcome into the shared batchTx, whose Commit sends the
// whole group as one pipelined batch (one round trip), which PostgreSQL
// runs as one implicit transaction (one fsync). Each outcome is one
// statement that inserts the attempt and applies it to the event.
//
// Locks are taken in a fixed order so that groups cannot deadlock with
// each other or with pauses: first the connections of every pending
// outcome FOR SHARE, in id order, then the events in id order (the
// outcomes are sorted). Pausing locks a connection, then its events;
// RenewLeases and ReleaseLeases lock events in id order.

// attemptRow is one outcome waiting in a group, and its result.
type attemptRow struct {
	r       *store.AttemptOutcome
	args    []any
	pending bool
	err     error
}

// writeAttemptGroup writes a group of collected outcomes (see batchTx)
// and sets each row's outcome. If the server refuses the group (a
// duplicate attempt id, say), nothing of it was committed and each outcome
// is written alone, so one bad outcome cannot fail its neighbours.
func (s *Store) writeAttemptGroup(ctx context.Context, rows []*attemptRow) {
	slices.SortStableFunc(rows, func(a, b *attemptRow) int {
		return strings.Compare(a.r.Attempt.EventID, b.r.Attempt.EventID)
	})
	err := writeAttempts(ctx, s.pool, rows)
	var pgErr *pgconn.PgError
	if err != nil && len(rows) > 1 && errors.As(err, &pgErr) {
		// The server reported the error, so the group was rolled back.
		for _, row := range rows {
			// writeAttempts sets row.err to the row's outcome.
			if err := writeAttempts(ctx, s.pool, []*attemptRow{row}); err != nil {
				row.err = err
			}
		}
		return
	}
	if err != nil {
		for _, row := range rows {
			row.err = err
		}
	}
}

// lockConnectionsSQL locks the connections of events FOR SHARE, in id
// order: a concurrent pause or unpause either commits first and is seen by
// the outcomes, or waits for them.
const lockConnectionsSQL = `SELECT id FROM connections
	WHERE id IN (SELECT connection_id FROM events WHERE id = ANY($1)) ORDER BY id FOR SHARE`

// recordAttemptSQL inserts an attempt ($1–$19, attemptCols order) if its
// event exists in its team, and applies it to the event if $20 holds its
// lease: status $21 (HOLD instead when $22, pending, and the connection is
// paused), next attempt $23, next trigger $24, queue time $25 (none when
// held). It returns whether the attempt was inserted and the event
// updated.
const recordAttemptSQL = `WITH ins AS (
	INSERT INTO attempts (` + attemptCols + `)
	SELECT $1::text, $2::text, $3::text, $4::text, $5::integer, $6::text, $7::text, $8::integer,
		$9::text, $10::bytea, $11::text, $12::text, $13::timestamptz, $14::timestamptz, $15::timestamptz,
		$16::integer, $17::integer, $18::timestamptz, $19::timestamptz
	WHERE EXISTS (SELECT 1 FROM events WHERE team_id = $2 AND id = $3)
	RETURNING 1),
upd AS (
	UPDATE events SET
		status = CASE WHEN $22::boolean AND EXISTS (SELECT 1 FROM connections c
			WHERE c.id = events.connection_id AND c.paused_at IS NOT NULL) THEN 'HOLD' ELSE $21::text END,
		queue_at = CASE WHEN $22::boolean AND EXISTS (SELECT 1 FROM connections c
			WHERE c.id = events.connection_id AND c.paused_at IS NOT NULL) THEN NULL ELSE $25::timestamptz END,
		attempts = attempts + 1, last_attempt_at = $18, next_attempt_at = $23::timestamptz,
		response_status = $8, error_code = $9, successful_at = $13, next_trigger = $24::text,
		updated_at = $19, lease_owner = NULL, lease_until = NULL
	WHERE id = $3 AND team_id = $2 AND lease_owner = $20::text
	RETURNING 1)
SELECT EXISTS (SELECT 1 FROM ins), EXISTS (SELECT 1 FROM upd)`

// writeAttempts sends rows (sorted by event id) as one batch, run by the
// server as one transaction, and sets each row's outcome error
// (store.ErrNotFound, store.ErrLeaseLost). An error returned means the
// batch as a whole failed.
func writeAttempts(ctx context.Context, pool *pgxpool.Pool, rows []*attemptRow) error {
	b := &pgx.Batch{}
	var pendingIDs []string
	for _, row := range rows {
		if row.pending {
			pendingIDs = append(pendingIDs, row.r.Attempt.EventID)
		}
	}
	if len(pendingIDs) > 0 {
		b.Queue(lockConnectionsSQL, pendingIDs)
	}
	for _, row := range rows {
		b.Queue(recordAttemptSQL, row.args...)
	}
	br := pool.SendBatch(ctx, b)
	err := func() error {
		if len(pendingIDs) > 0 {
			if _, err := br.Exec(); err != nil {
				return translate(err, "lock connections")
			}
		}
		for _, row := range rows {
			a := &row.r.Attempt
			var inserted, applied bool
			if err := br.QueryRow().Scan(&inserted, &applied); err != nil {
				return translate(err, "record attempt "+a.ID)
			}
			switch {
			case !inserted:
				row.err = fmt.Errorf("pgstore: record attempt for event %s: %w", a.EventID, store.ErrNotFound)
			case !applied:
				row.err = fmt.Errorf("pgstore: record attempt for event %s: %w", a.EventID, store.ErrLeaseLost)
			default:
				row.err = nil
			}
		}
		return nil
	}()
	if cerr := br.Close(); err == nil && cerr != nil {
		err = translate(cerr, "record attempts")
	}
	return err
}

// RecordAttempt stores the attempt and, if r.Owner still holds the event's
// lease, applies the outcome and releases the lease, in one transaction.
// Otherwise the attempt alone is committed and store.ErrLeaseLost returned;
// for an event missing from the attempt's team nothing is written and
// store.ErrNotFound returned. A pending outcome (SCHEDULED or QUEUED) for
// an event whose connection is paused is stored as HOLD; the connection
// row is read FOR SHARE so that a concurrent unpause either sees the HOLD
// or is seen here. Concurrent calls share one transaction (group commit);
// a nil error means that transaction was committed durably.
func (s *Store) RecordAttempt(ctx context.Context, r store.AttemptOutcome) error {
	a := &r.Attempt
	args := attemptArgs(a)
	next := tsp(r.NextAttemptAt)
	pending := r.EventStatus == model.EventScheduled || r.EventStatus == model.EventQueued
	var queueAt *time.Time
	if pending {
		queueAt = &a.CreatedAt
		if next != nil {
			queueAt = next
		}
	}
	args = append(args, r.Owner, r.EventStatus, pending, next, r.NextTrigger, queueAt)
	row := &attemptRow{r: &r, args: args, pending: pending}
	err := s.attempts.Do(ctx, func(tx *batchTx[*attemptRow]) error {
		row.err = nil
		return tx.add(row)
	})
	if err != nil {
		return translate(err, "record attempt "+a.ID)
	}
	return row.err
}
