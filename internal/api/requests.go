package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// requestRoutes registers /requests.
func (s *server) requestRoutes() {
	s.handle("GET /requests", s.listRequests)
	s.handle("GET /requests/{id}", s.getRequest)
	s.handle("GET /requests/{id}/raw_body", s.requestRawBody)
	s.handle("GET /requests/{id}/events", s.requestEvents)
	s.handle("GET /requests/{id}/ignored_events", s.requestIgnoredEvents)
	s.handle("POST /requests/{id}/retry", s.retryRequest)
}

// requestFilter reads the list filters of /requests. Hookdeck's search
// and JSON-match filters (search_term, headers, body, parsed_query, path)
// are not supported and are ignored.
func (s *server) requestFilter(q query) (store.RequestFilter, error) {
	f := store.RequestFilter{
		TeamID: s.cfg.Team.ID, IDs: q.list("id"), SourceIDs: q.list("source_id"),
		RejectionCauses: upper(q.list("rejection_cause")), WithData: q.includes("data"),
	}
	switch st := strings.ToLower(q.str("status")); st {
	case "", "accepted", "rejected":
		f.Status = st
	default:
		return f, badRequest("status", fmt.Sprintf("must be accepted or rejected, not %q", st))
	}
	var err error
	if f.Verified, err = q.boolean("verified"); err != nil {
		return f, err
	}
	if f.CreatedAt, err = q.timeRange("created_at"); err != nil {
		return f, err
	}
	if f.EventsCount, err = q.intRange("events_count"); err != nil {
		return f, err
	}
	f.IgnoredCount, err = q.intRange("ignored_count")
	return f, err
}

func (s *server) listRequests(r *http.Request) (any, error) {
	q, p, err := listParams(r)
	if err != nil {
		return nil, err
	}
	f, err := s.requestFilter(q)
	if err != nil {
		return nil, err
	}
	var rows []model.Request
	if !p.empty() {
		f.Page = p.store()
		if rows, err = s.cfg.Store.ListRequests(r.Context(), f); err != nil {
			return nil, fmt.Errorf("list requests: %w", err)
		}
	}
	return list(p, rows, func(x model.Request) string { return x.ID },
		func(x model.Request) requestJSON { return renderRequest(x, f.WithData) }), nil
}

func (s *server) getRequest(r *http.Request) (any, error) {
	req, err := s.loadRequest(r, r.PathValue("id"), true)
	if err != nil {
		return nil, err
	}
	return renderRequest(req, true), nil
}

func (s *server) requestRawBody(r *http.Request) (any, error) {
	req, err := s.loadRequest(r, r.PathValue("id"), true)
	if err != nil {
		return nil, err
	}
	return rawBody{Body: string(req.Data.Body)}, nil
}

// requestEvents lists the request's events, with the event filters.
func (s *server) requestEvents(r *http.Request) (any, error) {
	id := r.PathValue("id")
	if _, err := s.loadRequest(r, id, false); err != nil {
		return nil, err
	}
	return s.events(r, []string{id})
}

func (s *server) requestIgnoredEvents(r *http.Request) (any, error) {
	id := r.PathValue("id")
	if _, err := s.loadRequest(r, id, false); err != nil {
		return nil, err
	}
	_, p, err := listParams(r)
	if err != nil {
		return nil, err
	}
	var rows []model.IgnoredEvent
	if !p.empty() {
		f := store.IgnoredEventFilter{TeamID: s.cfg.Team.ID, RequestIDs: []string{id}, Page: p.store()}
		if rows, err = s.cfg.Store.ListIgnoredEvents(r.Context(), f); err != nil {
			return nil, fmt.Errorf("list ignored events: %w", err)
		}
	}
	return list(p, rows, func(x model.IgnoredEvent) string { return x.ID }, renderIgnored), nil
}

// retryRequestInput is the body of POST /requests/{id}/retry.
type retryRequestInput struct {
	WebhookIDs []string `json:"webhook_ids"`
}

// retryAnswer is the answer of a request retry.
type retryAnswer struct {
	Request requestJSON `json:"request"`
	Events  []eventJSON `json:"events"`
}

// retryRequest routes an accepted request again (through the given
// connections, or all of its source's); rejected requests are a 422.
func (s *server) retryRequest(r *http.Request) (any, error) {
	var in retryRequestInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	if s.cfg.Requests == nil {
		return nil, notImplemented("request retry")
	}
	id := r.PathValue("id")
	req, err := s.loadRequest(r, id, true)
	if err != nil {
		return nil, err
	}
	if req.RejectionCause != "" {
		return nil, unprocessable(fmt.Sprintf("request %s was rejected (%s) and cannot be retried", id, req.RejectionCause))
	}
	evs, err := s.cfg.Requests.RetryRequest(r.Context(), req, in.WebhookIDs)
	if err != nil {
		return nil, fmt.Errorf("retry request %s: %w", id, err)
	}
	s.wake()
	if fresh, err := s.loadRequest(r, id, false); err == nil {
		req = fresh
	}
	out := retryAnswer{Request: renderRequest(req, false), Events: make([]eventJSON, 0, len(evs))}
	for _, e := range evs {
		e.Data = nil
		out.Events = append(out.Events, renderEvent(e, nil))
	}
	return out, nil
}

// loadRequest fetches a request of the team by id.
func (s *server) loadRequest(r *http.Request, id string, withData bool) (model.Request, error) {
	req, err := s.cfg.Store.GetRequest(r.Context(), s.cfg.Team.ID, id, withData)
	if err != nil {
		return req, lookupErr("request", id, err)
	}
	return req, nil
}

// upper upper-cases each string.
func upper(ss []string) []string {
	for i, s := range ss {
		ss[i] = strings.ToUpper(s)
	}
	return ss
}
