package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// ClaimEvent leases one event for a manual attempt, whatever its status or
// due time. An unexpired lease of another owner gives store.ErrConflict.
// A pending event is kept out of ClaimEvents until the lease ends; a
// finished one never becomes due.
func (s *Store) ClaimEvent(ctx context.Context, teamID, id string, c store.Claim) (model.Event, error) {
	now := ts(c.Now)
	until := ts(c.Now.Add(c.Lease))
	e, err := one(ctx, s.pool, scanEvent(true), "claim event "+id, `WITH claimed AS (
		UPDATE events SET lease_owner = $3, lease_until = $4,
			queue_at = CASE WHEN queue_at IS NULL THEN NULL ELSE $4::timestamptz END
		WHERE team_id = $1 AND id = $2
			AND (lease_owner IS NULL OR lease_owner = $3 OR lease_until <= $5)
		RETURNING *)
	SELECT `+eventCols+`, `+payloadCols+` FROM claimed e LEFT JOIN payloads p ON p.id = e.data_id`,
		teamID, id, c.Owner, until, now)
	if errors.Is(err, store.ErrNotFound) {
		if exists, xerr := s.eventExists(ctx, s.pool, teamID, id); xerr != nil {
			return model.Event{}, xerr
		} else if exists {
			return model.Event{}, fmt.Errorf("pgstore: claim event %s: leased by another owner: %w", id, store.ErrConflict)
		}
	}
	return e, err
}

func (s *Store) eventExists(ctx context.Context, q querier, teamID, id string) (bool, error) {
	var exists bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE team_id = $1 AND id = $2)`, teamID, id).Scan(&exists)
	return exists, translate(err, "find event "+id)
}

// connectionPausedFor locks the connection of an event FOR SHARE and
// reports whether it is paused. A missing connection is not paused.
func connectionPausedFor(ctx context.Context, tx pgx.Tx, eventID string) (bool, error) {
	var paused bool
	err := tx.QueryRow(ctx, `SELECT c.paused_at IS NOT NULL FROM events e JOIN connections c ON c.id = e.connection_id
		WHERE e.id = $1 FOR SHARE OF c`, eventID).Scan(&paused)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return paused, translate(err, "lock connection of event "+eventID)
}

// ownedEventsSQL and ownedRequestsSQL lock the rows leased by $1 in id
// order, the order in which RecordAttempt (events) and CompleteRouting
// (requests) lock several rows at once: locking them in whatever order a
// plain UPDATE scans them could deadlock with those.
const (
	ownedEventsSQL   = `SELECT id FROM events WHERE lease_owner = $1 ORDER BY id FOR UPDATE`
	ownedRequestsSQL = `SELECT id FROM requests WHERE routed_at IS NULL AND rejection_cause = '' AND lease_owner = $1
		ORDER BY id FOR UPDATE`
)

// ReleaseLeases gives up every lease owner holds: leased requests and
// pending events are claimable at once.
func (s *Store) ReleaseLeases(ctx context.Context, owner string) error {
	defer s.notes.poke(ChannelRequests)
	defer s.notes.poke(ChannelEvents)
	return s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE events SET lease_owner = NULL, lease_until = NULL,
			queue_at = CASE WHEN queue_at IS NULL THEN NULL ELSE COALESCE(next_attempt_at, created_at) END
			WHERE lease_owner = $1 AND id IN (`+ownedEventsSQL+`)`, owner)
		if err != nil {
			return translate(err, "release event leases")
		}
		_, err = tx.Exec(ctx, `UPDATE requests SET lease_owner = NULL, lease_until = NULL
			WHERE routed_at IS NULL AND rejection_cause = '' AND lease_owner = $1 AND id IN (`+ownedRequestsSQL+`)`, owner)
		return translate(err, "release request leases")
	})
}

// RenewLeases extends the owner's leases on events and unrouted requests.
func (s *Store) RenewLeases(ctx context.Context, owner string, until time.Time) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE events SET lease_until = $2::timestamptz,
			queue_at = CASE WHEN queue_at IS NULL THEN NULL ELSE $2::timestamptz END
			WHERE lease_owner = $1 AND id IN (`+ownedEventsSQL+`)`, owner, ts(until))
		if err != nil {
			return translate(err, "renew event leases")
		}
		n = int(tag.RowsAffected())
		tag, err = tx.Exec(ctx, `UPDATE requests SET lease_until = $2
			WHERE routed_at IS NULL AND rejection_cause = '' AND lease_owner = $1 AND id IN (`+ownedRequestsSQL+`)`,
			owner, ts(until))
		if err != nil {
			return translate(err, "renew request leases")
		}
		n += int(tag.RowsAffected())
		return nil
	})
	return n, err
}

// CancelEvent marks a QUEUED, SCHEDULED or HOLD event CANCELLED, ending any
// lease on it (an attempt in flight then records with store.ErrLeaseLost),
// and returns it. Other statuses give store.ErrConflict.
func (s *Store) CancelEvent(ctx context.Context, teamID, id string, at time.Time) (model.Event, error) {
	// A cancelled head lets an ordered destination go on.
	defer s.notes.poke(ChannelEvents)
	e, err := one(ctx, s.pool, scanEvent(false), "cancel event "+id, `UPDATE events e SET status = 'CANCELLED',
		next_attempt_at = NULL, queue_at = NULL, lease_owner = NULL, lease_until = NULL, updated_at = $3
		WHERE team_id = $1 AND id = $2 AND status IN ('QUEUED', 'SCHEDULED', 'HOLD')
		RETURNING `+eventCols, teamID, id, ts(at))
	if errors.Is(err, store.ErrNotFound) {
		if exists, xerr := s.eventExists(ctx, s.pool, teamID, id); xerr != nil {
			return model.Event{}, xerr
		} else if exists {
			return model.Event{}, fmt.Errorf("pgstore: cancel event %s: not cancellable: %w", id, store.ErrConflict)
		}
	}
	return e, err
}
