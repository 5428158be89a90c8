package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// eventRoutes registers /events.
func (s *server) eventRoutes() {
	s.handle("GET /events", func(r *http.Request) (any, error) { return s.events(r, nil) })
	s.handle("GET /events/{id}", s.getEvent)
	s.handle("GET /events/{id}/raw_body", s.eventRawBody)
	s.handle("POST /events/{id}/retry", s.retryEvent)
	s.handle("PUT /events/{id}/cancel", s.cancelEvent)
	s.handle("PUT /events/{id}/mute", s.cancelEvent)
}

// eventFilter reads the list filters of /events. Hookdeck's search and
// JSON-match filters, issue_id, event_data_id and bulk_retry_id are not
// supported and are ignored.
func (s *server) eventFilter(q query) (store.EventFilter, error) {
	f := store.EventFilter{
		TeamID: s.cfg.Team.ID, IDs: q.list("id"), Statuses: upper(q.list("status")),
		ConnectionIDs: q.list("webhook_id"), SourceIDs: q.list("source_id"),
		DestinationIDs: q.list("destination_id"), RequestIDs: q.list("request_id"),
		ErrorCodes: upper(q.list("error_code")), CLIIDs: q.list("cli_id"), WithData: q.includes("data"),
	}
	var err error
	if p := q["response_status"]; p != nil && len(p.ops) > 0 {
		return f, badRequest("response_status", "operators are not supported here; give one status or a list")
	}
	if f.ResponseStatuses, err = q.ints("response_status"); err != nil {
		return f, err
	}
	if f.Attempts, err = q.intRange("attempts"); err != nil {
		return f, err
	}
	ranges := []struct {
		name string
		dst  *store.TimeRange
	}{
		{"created_at", &f.CreatedAt}, {"successful_at", &f.SuccessfulAt},
		{"last_attempt_at", &f.LastAttemptAt}, {"next_attempt_at", &f.NextAttemptAt},
	}
	for _, rg := range ranges {
		if *rg.dst, err = q.timeRange(rg.name); err != nil {
			return f, err
		}
	}
	return f, nil
}

// events lists events; requestIDs, when set, pins the request.
func (s *server) events(r *http.Request, requestIDs []string) (any, error) {
	q, p, err := listParams(r)
	if err != nil {
		return nil, err
	}
	f, err := s.eventFilter(q)
	if err != nil {
		return nil, err
	}
	if requestIDs != nil {
		f.RequestIDs = requestIDs
	}
	var rows []model.Event
	if !p.empty() {
		f.Page = p.store()
		if rows, err = s.cfg.Store.ListEvents(r.Context(), f); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
	}
	dsts := s.destinationCache(r)
	return list(p, rows, func(e model.Event) string { return e.ID },
		func(e model.Event) eventJSON { return renderEvent(e, dsts(e)) }), nil
}

// destinationCache returns a lookup of events' destinations (only
// needed when event data is rendered), fetching each once.
func (s *server) destinationCache(r *http.Request) func(model.Event) *model.Destination {
	seen := map[string]*model.Destination{}
	return func(e model.Event) *model.Destination {
		if e.Data == nil {
			return nil
		}
		d, ok := seen[e.DestinationID]
		if !ok {
			if x, err := s.cfg.Store.GetDestination(r.Context(), s.cfg.Team.ID, e.DestinationID); err == nil {
				d = &x
			}
			seen[e.DestinationID] = d
		}
		return d
	}
}

func (s *server) getEvent(r *http.Request) (any, error) {
	e, err := s.loadEvent(r, r.PathValue("id"), true)
	if err != nil {
		return nil, err
	}
	return renderEvent(e, s.destinationCache(r)(e)), nil
}

func (s *server) eventRawBody(r *http.Request) (any, error) {
	e, err := s.loadEvent(r, r.PathValue("id"), true)
	if err != nil {
		return nil, err
	}
	if e.Data == nil {
		return rawBody{}, nil
	}
	return rawBody{Body: string(e.Data.Body)}, nil
}

// retriedEvent is the answer of an event retry before 2024-09-01.
type retriedEvent struct {
	Event   eventJSON   `json:"event"`
	Attempt attemptJSON `json:"attempt"`
}

// retryEvent makes one manual attempt now and answers the updated event
// (with its attempt, for versions before 2024-09-01).
func (s *server) retryEvent(r *http.Request) (any, error) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		return nil, err
	}
	if s.cfg.Events == nil {
		return nil, notImplemented("event retry")
	}
	id := r.PathValue("id")
	e, a, err := s.cfg.Events.RetryEvent(r.Context(), s.cfg.Team.ID, id)
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, conflict(fmt.Sprintf("event %s is being delivered; retry it when the attempt is over", id))
	case err != nil:
		return nil, lookupErr("event", id, err)
	}
	e.Data = nil
	if versionOf(r.Context()).retryAnswersEvent() {
		return renderEvent(e, nil), nil
	}
	return retriedEvent{Event: renderEvent(e, nil), Attempt: renderAttempt(a)}, nil
}

// cancelEvent cancels (mutes) a pending event; other statuses are a 422.
func (s *server) cancelEvent(r *http.Request) (any, error) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	e, err := s.cfg.Store.CancelEvent(r.Context(), s.cfg.Team.ID, id, s.stamp())
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, unprocessable(fmt.Sprintf("event %s cannot be cancelled: only QUEUED, SCHEDULED or HOLD events can", id))
	case err != nil:
		return nil, lookupErr("event", id, err)
	}
	e.Data = nil
	return renderEvent(e, nil), nil
}

// loadEvent fetches an event of the team by id.
func (s *server) loadEvent(r *http.Request, id string, withData bool) (model.Event, error) {
	e, err := s.cfg.Store.GetEvent(r.Context(), s.cfg.Team.ID, id, withData)
	if err != nil {
		return e, lookupErr("event", id, err)
	}
	return e, nil
}
