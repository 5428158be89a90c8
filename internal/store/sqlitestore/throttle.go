package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// dedupPrune caps the expired keys one CheckDedup call deletes, so that
// pruning keeps pace with recording without growing a call's work.
const dedupPrune = 64

// CheckDedup records the keys, in order, and reports which duplicate a key
// another request recorded inside its window. A key is (re)recorded when
// it is new, expired, or already the same request's. The call also deletes
// a few expired keys.
func (s *Store) CheckDedup(ctx context.Context, keys []store.DedupKey, now time.Time) ([]bool, error) {
	dup := make([]bool, len(keys))
	if len(keys) == 0 {
		return dup, nil
	}
	err := s.write(ctx, "check dedup keys", func(ctx context.Context, tx *wtx) error {
		for i, k := range keys {
			var one int
			err := tx.QueryRowContext(ctx, `INSERT INTO dedup_keys (connection_id, hash, request_id, expires_at)
				VALUES (?1, ?2, ?3, ?4)
				ON CONFLICT (connection_id, hash) DO UPDATE
					SET request_id = excluded.request_id, expires_at = excluded.expires_at
					WHERE dedup_keys.expires_at <= ?5 OR dedup_keys.request_id = excluded.request_id
				RETURNING 1`, k.ConnectionID, k.Hash, k.RequestID, micros(k.ExpiresAt), micros(now)).Scan(&one)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				dup[i] = true
			case err != nil:
				return err
			default:
				dup[i] = false
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM dedup_keys WHERE rowid IN (
			SELECT rowid FROM dedup_keys WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`, micros(now), dedupPrune)
		return err
	})
	if err != nil {
		return nil, err
	}
	return dup, nil
}

// AcquireRate takes the destination's delivery slot at now if it is free.
// One row per destination holds the time of its next free slot; taking a
// slot moves it to now+interval. Every acquirer goes through the single
// writer, so two granted slots are at least an interval apart. Slots are
// not fsynced state worth waiting for, but they share the writer's
// transactions like any write.
func (s *Store) AcquireRate(ctx context.Context, destinationID string, interval time.Duration, now time.Time, n int) (bool, time.Time, error) {
	n = max(n, 1)
	var (
		ok   bool
		next int64
	)
	err := s.write(ctx, "acquire rate slot of "+destinationID, func(ctx context.Context, tx *wtx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO rate_slots (destination_id, next_at) VALUES (?1, ?2)
			ON CONFLICT (destination_id) DO UPDATE SET next_at = excluded.next_at WHERE rate_slots.next_at <= ?3
			RETURNING next_at`, destinationID, micros(now.Add(time.Duration(n)*interval)), micros(now)).Scan(&next)
		if err == nil {
			ok = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		ok = false
		return tx.QueryRowContext(ctx, `SELECT next_at FROM rate_slots WHERE destination_id = ?`, destinationID).Scan(&next)
	})
	if err != nil {
		return false, time.Time{}, err
	}
	return ok, fromMicros(next), nil
}

// ReleaseEvent ends owner's lease on an event without an attempt: it is
// due again at dueAt, ordered among the others by that time. An event whose
// connection was paused meanwhile goes to HOLD, as a scheduled retry would;
// an event claimed for a manual attempt after it finished stays out of the
// queue.
func (s *Store) ReleaseEvent(ctx context.Context, id, owner string, dueAt time.Time) error {
	var refuse error
	err := s.write(ctx, "release event "+id, func(ctx context.Context, tx *wtx) error {
		refuse = nil
		var (
			leaseOwner sql.NullString
			connID     string
		)
		err := tx.QueryRowContext(ctx, `SELECT lease_owner, connection_id FROM events WHERE id = ?`, id).Scan(&leaseOwner, &connID)
		if errors.Is(err, sql.ErrNoRows) {
			refuse = store.ErrNotFound
			return nil
		}
		if err != nil {
			return err
		}
		if !leaseOwner.Valid || leaseOwner.String != owner {
			refuse = store.ErrLeaseLost
			return nil
		}
		paused, err := connectionPaused(ctx, tx, connID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE events SET lease_owner = NULL, lease_until = NULL,
			status = CASE WHEN ?1 AND queue_at IS NOT NULL THEN ?2 ELSE status END,
			queue_at = CASE WHEN ?1 OR queue_at IS NULL THEN NULL ELSE ?3 END
			WHERE id = ?4`, paused, model.EventHold, micros(dueAt), id)
		return err
	})
	if err == nil && refuse != nil {
		err = fmt.Errorf("sqlitestore: release event %s: %w", id, refuse)
	}
	return err
}
