package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-gw/sluice/internal/store"
)

// AcquireRate takes the destination's delivery slot at now if it is free:
// one row per destination holds the time of its next free slot, and a
// single upsert moves it to now+interval only when it is not ahead of now.
// The upsert's row lock serializes every process's acquirers, and the
// stored time only grows, so two granted slots are always at least an
// interval apart. When refused it returns the slot's time as read after
// the refusal (never before now); when granted, the next slot's time.
func (s *Store) AcquireRate(ctx context.Context, destinationID string, interval time.Duration, now time.Time, n int) (bool, time.Time, error) {
	n = max(n, 1)
	now = ts(now)
	var next time.Time
	err := s.pool.QueryRow(ctx, `INSERT INTO rate_slots AS r (destination_id, next_at) VALUES ($1, $2)
		ON CONFLICT (destination_id) DO UPDATE SET next_at = excluded.next_at WHERE r.next_at <= $3
		RETURNING next_at`, destinationID, ts(now.Add(time.Duration(n)*interval)), now).Scan(&next)
	if err == nil {
		return true, next, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, time.Time{}, translate(err, "acquire rate slot of destination "+destinationID)
	}
	// A fresh statement sees the row that refused us, or a later one.
	err = s.pool.QueryRow(ctx, `SELECT next_at FROM rate_slots WHERE destination_id = $1`, destinationID).Scan(&next)
	if err != nil {
		return false, time.Time{}, translate(err, "read rate slot of destination "+destinationID)
	}
	return false, next, nil
}

// ReleaseEvent ends owner's lease on the event without an attempt: it is
// due again at dueAt, ordered among the others by that time. An event whose
// connection was paused while it was leased goes to HOLD instead, as a
// scheduled retry would (the connection row is read FOR SHARE so that a
// concurrent unpause sees the HOLD or is seen here). An event claimed for
// a manual attempt after it finished stays out of the queue. A lease that
// is no longer owner's gives store.ErrLeaseLost, a missing event
// store.ErrNotFound.
func (s *Store) ReleaseEvent(ctx context.Context, id, owner string, dueAt time.Time) error {
	lost := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		paused, err := connectionPausedFor(ctx, tx, id)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE events SET lease_owner = NULL, lease_until = NULL,
			status = CASE WHEN $3 AND queue_at IS NOT NULL THEN 'HOLD' ELSE status END,
			queue_at = CASE WHEN $3 OR queue_at IS NULL THEN NULL ELSE $4::timestamptz END
			WHERE id = $1 AND lease_owner = $2`, id, owner, paused, ts(dueAt))
		if err != nil {
			return translate(err, "release event "+id)
		}
		if tag.RowsAffected() > 0 {
			return nil
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE id = $1)`, id).Scan(&exists); err != nil {
			return translate(err, "find event "+id)
		}
		if !exists {
			return fmt.Errorf("pgstore: release event %s: %w", id, store.ErrNotFound)
		}
		lost = true
		return nil
	})
	if err == nil && lost {
		return fmt.Errorf("pgstore: release event %s: %w", id, store.ErrLeaseLost)
	}
	return err
}
