package pgstore

import (
	"github.com/sluice-gw/sluice/internal/model"
)

// Request columns for a requests table aliased r.
const requestCols = `r.id, r.team_id, r.source_id, r.verified, r.rejection_cause, r.data_id, r.original_ip,
	r.events_count, r.cli_events_count, r.ignored_count, r.routed_at, r.ingested_at, r.created_at, r.updated_at`

func requestDest(r *model.Request) []any {
	return []any{&r.ID, &r.TeamID, &r.SourceID, &r.Verified, &r.RejectionCause, &r.Data.ID, &r.OriginalIP,
		&r.EventsCount, &r.CLIEventsCount, &r.IgnoredCount, &r.RoutedAt, &r.IngestedAt, &r.CreatedAt, &r.UpdatedAt}
}

// scanRequest scans requestCols, followed by payloadCols when withData.
// Without data only Data.ID is set.
func scanRequest(withData bool) func(row) (model.Request, error) {
	return func(rw row) (model.Request, error) {
		var r model.Request
		dest := requestDest(&r)
		var ps payloadScan
		if withData {
			dest = append(dest, ps.dest()...)
		}
		if err := rw.Scan(dest...); err != nil {
			return r, err
		}
		if withData {
			p, err := ps.payload()
			if err != nil {
				return r, err
			}
			if p != nil {
				r.Data = *p
			}
		}
		return r, nil
	}
}

// Event columns for an events table aliased e.
const eventCols = `e.id, e.team_id, e.connection_id, e.source_id, e.destination_id, e.request_id, e.data_id,
	e.status, e.attempts, e.last_attempt_at, e.next_attempt_at, e.response_status, e.error_code,
	e.successful_at, e.cli_id, e.next_trigger, e.created_at, e.updated_at`

// scanEvent scans eventCols, followed by payloadCols when withData.
func scanEvent(withData bool) func(row) (model.Event, error) {
	return func(rw row) (model.Event, error) {
		var e model.Event
		dest := []any{&e.ID, &e.TeamID, &e.ConnectionID, &e.SourceID, &e.DestinationID, &e.RequestID, &e.DataID,
			&e.Status, &e.Attempts, &e.LastAttemptAt, &e.NextAttemptAt, &e.ResponseStatus, &e.ErrorCode,
			&e.SuccessfulAt, &e.CLIID, &e.NextTrigger, &e.CreatedAt, &e.UpdatedAt}
		var ps payloadScan
		if withData {
			dest = append(dest, ps.dest()...)
		}
		if err := rw.Scan(dest...); err != nil {
			return e, err
		}
		if withData {
			p, err := ps.payload()
			if err != nil {
				return e, err
			}
			e.Data = p
		}
		return e, nil
	}
}

// Attempt columns (unaliased).
const attemptCols = `id, team_id, event_id, destination_id, attempt_number, trigger, status, response_status,
	error_code, body, requested_url, http_method, successful_at, delivered_at, responded_at,
	delivery_latency, response_latency, created_at, updated_at`

func scanAttempt(rw row) (model.Attempt, error) {
	var a model.Attempt
	var body []byte
	err := rw.Scan(&a.ID, &a.TeamID, &a.EventID, &a.DestinationID, &a.AttemptNumber, &a.Trigger, &a.Status,
		&a.ResponseStatus, &a.ErrorCode, &body, &a.RequestedURL, &a.HTTPMethod, &a.SuccessfulAt, &a.DeliveredAt,
		&a.RespondedAt, &a.DeliveryLatency, &a.ResponseLatency, &a.CreatedAt, &a.UpdatedAt)
	a.Body = string(body)
	return a, err
}

// attemptArgs returns a's values in attemptCols order, normalizing its
// times in place.
func attemptArgs(a *model.Attempt) []any {
	a.SuccessfulAt, a.DeliveredAt, a.RespondedAt = tsp(a.SuccessfulAt), tsp(a.DeliveredAt), tsp(a.RespondedAt)
	a.CreatedAt, a.UpdatedAt = ts(a.CreatedAt), ts(a.UpdatedAt)
	return []any{a.ID, a.TeamID, a.EventID, a.DestinationID, a.AttemptNumber, a.Trigger, a.Status, a.ResponseStatus,
		a.ErrorCode, []byte(a.Body), a.RequestedURL, a.HTTPMethod, a.SuccessfulAt, a.DeliveredAt, a.RespondedAt,
		a.DeliveryLatency, a.ResponseLatency, a.CreatedAt, a.UpdatedAt}
}

// Ignored-event columns (unaliased).
const ignoredCols = `id, team_id, connection_id, request_id, cause, meta, created_at`

func scanIgnored(rw row) (model.IgnoredEvent, error) {
	var ie model.IgnoredEvent
	var meta *string
	err := rw.Scan(&ie.ID, &ie.TeamID, &ie.ConnectionID, &ie.RequestID, &ie.Cause, &meta, &ie.CreatedAt)
	ie.Meta = textRaw(meta)
	return ie, err
}
