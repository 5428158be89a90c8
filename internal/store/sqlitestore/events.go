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

const eventCols = `team_id, id, connection_id, source_id, destination_id, request_id, data_id, status, attempts,
	last_attempt_at, next_attempt_at, response_status, error_code, successful_at, cli_id, next_trigger,
	created_at, updated_at`

func scanEvent(sc scanner) (model.Event, error) {
	var e model.Event
	err := sc.Scan(&e.TeamID, &e.ID, &e.ConnectionID, &e.SourceID, &e.DestinationID, &e.RequestID, &e.DataID,
		&e.Status, &e.Attempts, nullTimeCol{&e.LastAttemptAt}, nullTimeCol{&e.NextAttemptAt},
		nullIntCol{&e.ResponseStatus}, &e.ErrorCode, nullTimeCol{&e.SuccessfulAt}, &e.CLIID, &e.NextTrigger,
		timeCol{&e.CreatedAt}, timeCol{&e.UpdatedAt})
	return e, err
}

// pending reports whether an event of this status waits in the queue.
func pending(status string) bool {
	return status == model.EventQueued || status == model.EventScheduled
}

// insertEvent stores a routed event; the statement itself puts it in
// HOLD, out of the queue, when its connection is paused at the commit.
func insertEvent(ctx context.Context, tx *wtx, e *model.Event) error {
	var queueAt any
	if pending(e.Status) {
		queueAt = micros(e.CreatedAt)
		if e.NextAttemptAt != nil {
			queueAt = micros(*e.NextAttemptAt)
		}
	}
	_, err := tx.ExecContext(ctx, sqlInsertEvent,
		e.TeamID, e.ID, e.ConnectionID, e.SourceID, e.DestinationID, e.RequestID, e.DataID, e.Status, e.Attempts,
		nullMicros(e.LastAttemptAt), nullMicros(e.NextAttemptAt), e.ResponseStatus, e.ErrorCode,
		nullMicros(e.SuccessfulAt), e.CLIID, e.NextTrigger, micros(e.CreatedAt), micros(e.UpdatedAt), queueAt,
		model.EventHold)
	return err
}

// fillEventData sets each event's Data from its payload.
func fillEventData(ctx context.Context, db queryer, evs []model.Event) error {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.DataID
	}
	ps, err := loadPayloads(ctx, db, ids)
	if err != nil {
		return err
	}
	for i := range evs {
		if p, ok := ps[evs[i].DataID]; ok {
			evs[i].Data = &p
		}
	}
	return nil
}

// ClaimEvent leases one event, whatever its status, for a manual attempt.
func (s *Store) ClaimEvent(ctx context.Context, teamID, id string, c store.Claim) (model.Event, error) {
	var (
		e      model.Event
		refuse error // decided without writing, so the transaction may commit
	)
	now, until := micros(c.Now), micros(c.Now.Add(c.Lease))
	err := s.write(ctx, "claim event "+id, func(ctx context.Context, tx *wtx) error {
		refuse = nil
		var (
			owner sql.NullString
			held  sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT lease_owner, lease_until FROM events WHERE id = ? AND team_id = ?`,
			id, teamID).Scan(&owner, &held)
		if errors.Is(err, sql.ErrNoRows) {
			refuse = store.ErrNotFound
			return nil
		}
		if err != nil {
			return err
		}
		if owner.Valid && owner.String != c.Owner && held.Int64 > now {
			refuse = fmt.Errorf("%w: leased by %s", store.ErrConflict, owner.String)
			return nil
		}
		e, err = scanEvent(tx.QueryRowContext(ctx, `UPDATE events SET lease_owner = ?1, lease_until = ?2,
			queue_at = CASE WHEN queue_at IS NULL THEN NULL ELSE ?2 END
			WHERE id = ?3 RETURNING `+eventCols, c.Owner, until, id))
		if err != nil {
			return err
		}
		return nil
	})
	if err == nil && refuse != nil {
		err = fmt.Errorf("sqlitestore: claim event %s: %w", id, refuse)
	}
	if err != nil {
		return model.Event{}, err
	}
	evs := []model.Event{e}
	if err := fillEventData(ctx, s.rdb, evs); err != nil {
		return model.Event{}, readErr("claim event "+id, err)
	}
	return evs[0], nil
}

const attemptCols = `team_id, id, event_id, destination_id, attempt_number, trigger, status, response_status,
	error_code, body, requested_url, http_method, successful_at, delivered_at, responded_at, delivery_latency,
	response_latency, created_at, updated_at`

func scanAttempt(sc scanner) (model.Attempt, error) {
	var a model.Attempt
	err := sc.Scan(&a.TeamID, &a.ID, &a.EventID, &a.DestinationID, &a.AttemptNumber, &a.Trigger, &a.Status,
		nullIntCol{&a.ResponseStatus}, &a.ErrorCode, &a.Body, &a.RequestedURL, &a.HTTPMethod,
		nullTimeCol{&a.SuccessfulAt}, nullTimeCol{&a.DeliveredAt}, nullTimeCol{&a.RespondedAt},
		nullIntCol{&a.DeliveryLatency}, nullIntCol{&a.ResponseLatency}, timeCol{&a.CreatedAt}, timeCol{&a.UpdatedAt})
	return a, err
}

// sqlApplyAttempt applies an attempt's outcome to its event and releases
// the lease, if ?14 still holds it: ?1 is the new status, HOLD (?3) instead
// of SCHEDULED (?2) when the connection is paused, which also takes the
// event out of the queue (?11 is its next due time).
const sqlApplyAttempt = `UPDATE events SET
	status = CASE WHEN ?1 = ?2 AND EXISTS (SELECT 1 FROM connections c
		WHERE c.id = events.connection_id AND c.paused_at IS NOT NULL) THEN ?3 ELSE ?1 END,
	queue_at = CASE WHEN ?1 = ?2 AND EXISTS (SELECT 1 FROM connections c
		WHERE c.id = events.connection_id AND c.paused_at IS NOT NULL) THEN NULL ELSE ?11 END,
	attempts = attempts + 1, last_attempt_at = ?4, next_attempt_at = ?5, response_status = ?6,
	error_code = ?7, successful_at = ?8, next_trigger = COALESCE(NULLIF(?9, ''), next_trigger),
	updated_at = ?10, lease_owner = NULL, lease_until = NULL
	WHERE id = ?12 AND team_id = ?13 AND lease_owner = ?14`

// RecordAttempt stores an attempt and, while the caller still holds the
// event's lease, applies the outcome to the event and releases the lease.
func (s *Store) RecordAttempt(ctx context.Context, r store.AttemptOutcome) error {
	a := &r.Attempt
	var lost bool
	err := s.write(ctx, "record attempt of "+a.EventID, func(ctx context.Context, tx *wtx) error {
		lost = false
		if _, err := tx.ExecContext(ctx, sqlInsertAttempt,
			a.TeamID, a.ID, a.EventID, a.DestinationID, a.AttemptNumber, a.Trigger, a.Status, a.ResponseStatus,
			a.ErrorCode, a.Body, a.RequestedURL, a.HTTPMethod, nullMicros(a.SuccessfulAt), nullMicros(a.DeliveredAt),
			nullMicros(a.RespondedAt), a.DeliveryLatency, a.ResponseLatency, micros(a.CreatedAt), micros(a.UpdatedAt)); err != nil {
			return err
		}
		var queueAt any
		if pending(r.EventStatus) {
			queueAt = micros(a.CreatedAt)
			if r.NextAttemptAt != nil {
				queueAt = micros(*r.NextAttemptAt)
			}
		}
		// One statement applies the outcome while the caller still holds
		// the lease; a retry scheduled on a paused connection waits in
		// HOLD instead.
		res, err := tx.ExecContext(ctx, sqlApplyAttempt, r.EventStatus, model.EventScheduled, model.EventHold,
			micros(a.CreatedAt), nullMicros(r.NextAttemptAt), a.ResponseStatus, a.ErrorCode,
			nullMicros(a.SuccessfulAt), r.NextTrigger, micros(a.UpdatedAt), queueAt, a.EventID, a.TeamID, r.Owner)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		// Not applied: the event is gone (an error) or its lease was lost.
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM events WHERE id = ? AND team_id = ?`, a.EventID, a.TeamID).Scan(&one); err != nil {
			return err
		}
		lost = true
		return nil // the attempt happened; keep it.
	})
	if err != nil {
		return err
	}
	if lost {
		return fmt.Errorf("sqlitestore: record attempt of %s: %w", a.EventID, store.ErrLeaseLost)
	}
	return nil
}

// ReleaseLeases gives up every lease owner holds, on events and requests.
func (s *Store) ReleaseLeases(ctx context.Context, owner string) error {
	return s.write(ctx, "release leases of "+owner, func(ctx context.Context, tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE events SET lease_owner = NULL, lease_until = NULL,
			queue_at = CASE WHEN queue_at IS NULL THEN NULL ELSE COALESCE(next_attempt_at, created_at) END
			WHERE lease_owner = ?`, owner); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE requests SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?`, owner)
		return err
	})
}

// RenewLeases extends the owner's leases on events and unrouted requests.
func (s *Store) RenewLeases(ctx context.Context, owner string, until time.Time) (int, error) {
	n := 0
	err := s.write(ctx, "renew leases of "+owner, func(ctx context.Context, tx *wtx) error {
		n = 0
		res, err := tx.ExecContext(ctx, `UPDATE events SET lease_until = ?1,
			queue_at = CASE WHEN queue_at IS NULL THEN NULL ELSE ?1 END
			WHERE lease_owner = ?2`, micros(until), owner)
		if err != nil {
			return err
		}
		e, _ := res.RowsAffected()
		res, err = tx.ExecContext(ctx, `UPDATE requests SET lease_until = ?1 WHERE lease_owner = ?2 AND routed_at IS NULL`, micros(until), owner)
		if err != nil {
			return err
		}
		r, _ := res.RowsAffected()
		n = int(e + r)
		return nil
	})
	return n, err
}

// CancelEvent cancels a pending or held event and drops its lease.
func (s *Store) CancelEvent(ctx context.Context, teamID, id string, at time.Time) (model.Event, error) {
	var (
		e      model.Event
		refuse error
	)
	err := s.write(ctx, "cancel event "+id, func(ctx context.Context, tx *wtx) error {
		refuse = nil
		var err error
		e, err = scanEvent(tx.QueryRowContext(ctx, `UPDATE events SET status = ?, next_attempt_at = NULL,
			queue_at = NULL, lease_owner = NULL, lease_until = NULL, updated_at = ?
			WHERE id = ? AND team_id = ? AND status IN (?, ?, ?) RETURNING `+eventCols,
			model.EventCancelled, micros(at), id, teamID, model.EventQueued, model.EventScheduled, model.EventHold))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var status string
		err = tx.QueryRowContext(ctx, `SELECT status FROM events WHERE id = ? AND team_id = ?`, id, teamID).Scan(&status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			refuse = store.ErrNotFound
		case err != nil:
			return err
		default:
			refuse = fmt.Errorf("%w: event is %s", store.ErrConflict, status)
		}
		return nil
	})
	if err == nil && refuse != nil {
		err = fmt.Errorf("sqlitestore: cancel event %s: %w", id, refuse)
	}
	if err != nil {
		return model.Event{}, err
	}
	return e, nil
}
