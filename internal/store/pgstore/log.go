package pgstore

import (
	"context"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// fromRequests is the FROM clause for requests, with their payloads when
// withData.
func fromRequests(withData bool) string {
	if withData {
		return `SELECT ` + requestCols + `, ` + payloadCols + ` FROM requests r LEFT JOIN payloads p ON p.id = r.data_id`
	}
	return `SELECT ` + requestCols + ` FROM requests r`
}

// fromEvents is the FROM clause for events, with their payloads when
// withData.
func fromEvents(withData bool) string {
	if withData {
		return `SELECT ` + eventCols + `, ` + payloadCols + ` FROM events e LEFT JOIN payloads p ON p.id = e.data_id`
	}
	return `SELECT ` + eventCols + ` FROM events e`
}

// GetRequest returns the team's request id, with its payload when withData
// (otherwise only Data.ID is set).
func (s *Store) GetRequest(ctx context.Context, teamID, id string, withData bool) (model.Request, error) {
	return one(ctx, s.pool, scanRequest(withData), "get request "+id,
		fromRequests(withData)+` WHERE r.team_id = $1 AND r.id = $2`, teamID, id)
}

// ListRequests returns one page of the requests f selects.
func (s *Store) ListRequests(ctx context.Context, f store.RequestFilter) ([]model.Request, error) {
	q := &query{}
	q.eq("r.team_id", f.TeamID)
	q.in("r.id", f.IDs)
	q.in("r.source_id", f.SourceIDs)
	switch f.Status {
	case "accepted":
		q.cond("r.rejection_cause = ''")
	case "rejected":
		q.cond("r.rejection_cause <> ''")
	}
	q.in("r.rejection_cause", f.RejectionCauses)
	if f.Verified != nil {
		q.cond("r.verified = " + q.arg(*f.Verified))
	}
	q.timeRange("r.created_at", f.CreatedAt)
	q.intRange("r.events_count", f.EventsCount)
	q.intRange("r.ignored_count", f.IgnoredCount)
	tail := q.page("r.id", f.Page)
	return many(ctx, s.pool, scanRequest(f.WithData), "list requests", fromRequests(f.WithData)+q.where()+tail, q.args...)
}

// GetEvent returns the team's event id, with its payload when withData.
func (s *Store) GetEvent(ctx context.Context, teamID, id string, withData bool) (model.Event, error) {
	return one(ctx, s.pool, scanEvent(withData), "get event "+id,
		fromEvents(withData)+` WHERE e.team_id = $1 AND e.id = $2`, teamID, id)
}

// ListEvents returns one page of the events f selects.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]model.Event, error) {
	q := &query{}
	q.eq("e.team_id", f.TeamID)
	q.in("e.id", f.IDs)
	q.in("e.status", f.Statuses)
	q.in("e.connection_id", f.ConnectionIDs)
	q.in("e.source_id", f.SourceIDs)
	q.in("e.destination_id", f.DestinationIDs)
	q.in("e.request_id", f.RequestIDs)
	q.in("e.error_code", f.ErrorCodes)
	q.inInts("e.response_status", f.ResponseStatuses)
	q.in("e.cli_id", f.CLIIDs)
	q.intRange("e.attempts", f.Attempts)
	q.timeRange("e.created_at", f.CreatedAt)
	q.timeRange("e.successful_at", f.SuccessfulAt)
	q.timeRange("e.last_attempt_at", f.LastAttemptAt)
	q.timeRange("e.next_attempt_at", f.NextAttemptAt)
	tail := q.page("e.id", f.Page)
	return many(ctx, s.pool, scanEvent(f.WithData), "list events", fromEvents(f.WithData)+q.where()+tail, q.args...)
}

// GetAttempt returns the team's attempt id.
func (s *Store) GetAttempt(ctx context.Context, teamID, id string) (model.Attempt, error) {
	return one(ctx, s.pool, scanAttempt, "get attempt "+id,
		`SELECT `+attemptCols+` FROM attempts WHERE team_id = $1 AND id = $2`, teamID, id)
}

// ListAttempts returns one page of the attempts f selects.
func (s *Store) ListAttempts(ctx context.Context, f store.AttemptFilter) ([]model.Attempt, error) {
	q := &query{}
	q.eq("team_id", f.TeamID)
	q.in("id", f.IDs)
	q.in("event_id", f.EventIDs)
	tail := q.page("id", f.Page)
	return many(ctx, s.pool, scanAttempt, "list attempts", `SELECT `+attemptCols+` FROM attempts`+q.where()+tail, q.args...)
}

// ListIgnoredEvents returns one page of the ignored events f selects.
func (s *Store) ListIgnoredEvents(ctx context.Context, f store.IgnoredEventFilter) ([]model.IgnoredEvent, error) {
	q := &query{}
	q.eq("team_id", f.TeamID)
	q.in("request_id", f.RequestIDs)
	q.in("connection_id", f.ConnectionIDs)
	q.in("cause", f.Causes)
	tail := q.page("id", f.Page)
	return many(ctx, s.pool, scanIgnored, "list ignored events",
		`SELECT `+ignoredCols+` FROM ignored_events`+q.where()+tail, q.args...)
}

// GetPayload returns the payload id.
func (s *Store) GetPayload(ctx context.Context, id string) (model.Payload, error) {
	return one(ctx, s.pool, scanPayload, "get payload "+id, `SELECT `+payloadCols+` FROM payloads p WHERE p.id = $1`, id)
}
