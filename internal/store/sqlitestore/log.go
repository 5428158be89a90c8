package sqlitestore

import (
	"context"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// GetEvent returns an event, with its payload when withData.
func (s *Store) GetEvent(ctx context.Context, teamID, id string, withData bool) (model.Event, error) {
	e, err := scanEvent(s.rdb.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events WHERE id = ? AND team_id = ?`, id, teamID))
	if err != nil {
		return model.Event{}, readErr("get event "+id, err)
	}
	if withData {
		evs := []model.Event{e}
		if err := fillEventData(ctx, s.rdb, evs); err != nil {
			return model.Event{}, readErr("get event "+id, err)
		}
		e = evs[0]
	}
	return e, nil
}

// ListEvents returns one page of events.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]model.Event, error) {
	q := &query{}
	q.add("team_id = ?", f.TeamID)
	in(q, "id", f.IDs)
	in(q, "status", f.Statuses)
	in(q, "connection_id", f.ConnectionIDs)
	in(q, "source_id", f.SourceIDs)
	in(q, "destination_id", f.DestinationIDs)
	in(q, "request_id", f.RequestIDs)
	in(q, "error_code", f.ErrorCodes)
	in(q, "response_status", f.ResponseStatuses)
	in(q, "cli_id", f.CLIIDs)
	q.intRange("attempts", f.Attempts)
	q.timeRange("created_at", f.CreatedAt)
	q.timeRange("successful_at", f.SuccessfulAt)
	q.timeRange("last_attempt_at", f.LastAttemptAt)
	q.timeRange("next_attempt_at", f.NextAttemptAt)
	text, args := q.list(eventCols, "events", f.Page)
	evs, err := list(ctx, s.rdb, "list events", text, args, scanEvent)
	if err != nil || !f.WithData {
		return evs, err
	}
	if err := fillEventData(ctx, s.rdb, evs); err != nil {
		return nil, readErr("list events", err)
	}
	return evs, nil
}

// GetAttempt returns an attempt by id.
func (s *Store) GetAttempt(ctx context.Context, teamID, id string) (model.Attempt, error) {
	a, err := scanAttempt(s.rdb.QueryRowContext(ctx, `SELECT `+attemptCols+` FROM attempts WHERE id = ? AND team_id = ?`, id, teamID))
	if err != nil {
		return model.Attempt{}, readErr("get attempt "+id, err)
	}
	return a, nil
}

// ListAttempts returns one page of attempts.
func (s *Store) ListAttempts(ctx context.Context, f store.AttemptFilter) ([]model.Attempt, error) {
	q := &query{}
	q.add("team_id = ?", f.TeamID)
	in(q, "id", f.IDs)
	in(q, "event_id", f.EventIDs)
	text, args := q.list(attemptCols, "attempts", f.Page)
	return list(ctx, s.rdb, "list attempts", text, args, scanAttempt)
}

const ignoredCols = `team_id, id, connection_id, request_id, cause, meta, created_at`

func scanIgnored(sc scanner) (model.IgnoredEvent, error) {
	var ig model.IgnoredEvent
	err := sc.Scan(&ig.TeamID, &ig.ID, &ig.ConnectionID, &ig.RequestID, &ig.Cause, rawCol{&ig.Meta}, timeCol{&ig.CreatedAt})
	return ig, err
}

// ListIgnoredEvents returns one page of ignored events.
func (s *Store) ListIgnoredEvents(ctx context.Context, f store.IgnoredEventFilter) ([]model.IgnoredEvent, error) {
	q := &query{}
	q.add("team_id = ?", f.TeamID)
	in(q, "request_id", f.RequestIDs)
	in(q, "connection_id", f.ConnectionIDs)
	in(q, "cause", f.Causes)
	text, args := q.list(ignoredCols, "ignored_events", f.Page)
	return list(ctx, s.rdb, "list ignored events", text, args, scanIgnored)
}
