package api

import (
	"fmt"
	"net/http"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// attemptRoutes registers /attempts.
func (s *server) attemptRoutes() {
	s.handle("GET /attempts", s.listAttempts)
	s.handle("GET /attempts/{id}", s.getAttempt)
}

func (s *server) listAttempts(r *http.Request) (any, error) {
	q, p, err := listParams(r)
	if err != nil {
		return nil, err
	}
	var rows []model.Attempt
	if !p.empty() {
		f := store.AttemptFilter{TeamID: s.cfg.Team.ID, IDs: q.list("id"), EventIDs: q.list("event_id"), Page: p.store()}
		if rows, err = s.cfg.Store.ListAttempts(r.Context(), f); err != nil {
			return nil, fmt.Errorf("list attempts: %w", err)
		}
	}
	return list(p, rows, func(a model.Attempt) string { return a.ID }, renderAttempt), nil
}

func (s *server) getAttempt(r *http.Request) (any, error) {
	id := r.PathValue("id")
	a, err := s.cfg.Store.GetAttempt(r.Context(), s.cfg.Team.ID, id)
	if err != nil {
		return nil, lookupErr("attempt", id, err)
	}
	return renderAttempt(a), nil
}
