package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// sourceRoutes registers /sources.
func (s *server) sourceRoutes() {
	s.handle("GET /sources", s.listSources)
	s.handle("GET /sources/count", s.countSources)
	s.handle("POST /sources", s.createSource)
	s.handle("PUT /sources", s.upsertSource)
	s.handle("GET /sources/{id}", s.getSource)
	s.handle("PUT /sources/{id}", s.updateSource)
	s.handle("DELETE /sources/{id}", s.deleteSource)
	for action, disable := range map[string]bool{"disable": true, "archive": true, "enable": false, "unarchive": false} {
		s.handle("PUT /sources/{id}/"+action, s.setSourceDisabled(disable))
	}
}

// stamp is the current time as stored and rendered (milliseconds, UTC).
func (s *server) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// sourceFilter reads the list filters of /sources. Hookdeck's type and
// disabled_at filters are not supported and are ignored.
func (s *server) sourceFilter(q query) (store.SourceFilter, error) {
	f := store.SourceFilter{TeamID: s.cfg.Team.ID, IDs: q.list("id"), Names: q.list("name")}
	var err error
	f.Disabled, err = q.boolean("disabled")
	return f, err
}

func (s *server) listSources(r *http.Request) (any, error) {
	q, p, err := listParams(r)
	if err != nil {
		return nil, err
	}
	f, err := s.sourceFilter(q)
	if err != nil {
		return nil, err
	}
	var rows []model.Source
	if !p.empty() {
		f.Page = p.store()
		if rows, err = s.cfg.Store.ListSources(r.Context(), f); err != nil {
			return nil, fmt.Errorf("list sources: %w", err)
		}
	}
	v, reveal := versionOf(r.Context()), revealAuth(q)
	return list(p, rows, func(x model.Source) string { return x.ID },
		func(x model.Source) any { return s.renderSource(v, x, reveal) }), nil
}

func (s *server) countSources(r *http.Request) (any, error) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	f, err := s.sourceFilter(q)
	if err != nil {
		return nil, err
	}
	n, err := s.cfg.Store.CountSources(r.Context(), f)
	if err != nil {
		return nil, fmt.Errorf("count sources: %w", err)
	}
	return countResult{Count: n}, nil
}

func (s *server) getSource(r *http.Request) (any, error) {
	src, err := s.loadSource(r, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.sourceAnswer(r, src)
}

func (s *server) createSource(r *http.Request) (any, error) {
	var in sourceInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	src, err := s.createSourceFrom(r, in, "")
	if err != nil {
		return nil, err
	}
	return s.sourceAnswer(r, src)
}

func (s *server) upsertSource(r *http.Request) (any, error) {
	var in sourceInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	src, err := s.upsertSourceFrom(r, in, "")
	if err != nil {
		return nil, err
	}
	return s.sourceAnswer(r, src)
}

func (s *server) updateSource(r *http.Request) (any, error) {
	var in sourceInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	src, err := s.loadSource(r, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := s.saveSource(r, in, &src, ""); err != nil {
		return nil, err
	}
	return s.sourceAnswer(r, src)
}

func (s *server) deleteSource(r *http.Request) (any, error) {
	id := r.PathValue("id")
	if err := s.cfg.Store.DeleteSource(r.Context(), s.cfg.Team.ID, id); err != nil {
		return nil, lookupErr("source", id, err)
	}
	return deleted{ID: id}, nil
}

// setSourceDisabled serves disable/archive and enable/unarchive.
func (s *server) setSourceDisabled(disable bool) handlerFunc {
	return func(r *http.Request) (any, error) {
		if err := decodeBody(r, &struct{}{}); err != nil {
			return nil, err
		}
		src, err := s.loadSource(r, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		if changeDisabled(&src.DisabledAt, disable, s.stamp()) {
			src.UpdatedAt = s.stamp()
			if err := s.cfg.Store.UpdateSource(r.Context(), &src); err != nil {
				return nil, lookupErr("source", src.ID, err)
			}
		}
		return s.sourceAnswer(r, src)
	}
}

// loadSource fetches a source of the team by id.
func (s *server) loadSource(r *http.Request, id string) (model.Source, error) {
	src, err := s.cfg.Store.GetSource(r.Context(), s.cfg.Team.ID, id)
	if err != nil {
		return src, lookupErr("source", id, err)
	}
	return src, nil
}

// sourceAnswer renders a source for the request's dialect and include.
func (s *server) sourceAnswer(r *http.Request, src model.Source) (any, error) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	return s.renderSource(versionOf(r.Context()), src, revealAuth(q)), nil
}

// createSourceFrom creates a source from the input; field prefixes error
// field names.
func (s *server) createSourceFrom(r *http.Request, in sourceInput, field string) (model.Source, error) {
	now := s.stamp()
	x := model.Source{ID: model.NewID(model.PrefixSource), TeamID: s.cfg.Team.ID, CreatedAt: now, UpdatedAt: now}
	if err := applySource(in, &x, true, field, s.cfg.ValidateSource); err != nil {
		return x, err
	}
	return x, s.insertSource(r, &x, field)
}

// saveSource applies the input to an existing source and stores it.
func (s *server) saveSource(r *http.Request, in sourceInput, x *model.Source, field string) error {
	if err := applySource(in, x, false, field, s.cfg.ValidateSource); err != nil {
		return err
	}
	return s.writeSource(r, x, field)
}

// insertSource stores a new source; a taken name is a 409.
func (s *server) insertSource(r *http.Request, x *model.Source, field string) error {
	if err := s.cfg.Store.CreateSource(r.Context(), x); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nameTaken(join(field, "name"), "source", x.Name)
		}
		return fmt.Errorf("create source: %w", err)
	}
	return nil
}

// writeSource stores a changed source; a taken name is a 409.
func (s *server) writeSource(r *http.Request, x *model.Source, field string) error {
	x.UpdatedAt = s.stamp()
	if err := s.cfg.Store.UpdateSource(r.Context(), x); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nameTaken(join(field, "name"), "source", x.Name)
		}
		return lookupErr("source", x.ID, err)
	}
	return nil
}

// sourcePlan is a source as an upsert would write it.
type sourcePlan struct {
	x      model.Source
	exists bool
}

// planSource finds the source named in the input and applies the input to
// it (or to a new source), validating everything without writing.
func (s *server) planSource(r *http.Request, in sourceInput, field string) (sourcePlan, error) {
	if err := checkName(join(field, "name"), in.Name.V); err != nil {
		return sourcePlan{}, err
	}
	x, err := s.cfg.Store.GetSourceByName(r.Context(), s.cfg.Team.ID, in.Name.V)
	switch {
	case err == nil:
		return sourcePlan{x: x, exists: true}, applySource(in, &x, false, field, s.cfg.ValidateSource)
	case !errors.Is(err, store.ErrNotFound):
		return sourcePlan{}, fmt.Errorf("find source %q: %w", in.Name.V, err)
	}
	now := s.stamp()
	x = model.Source{ID: model.NewID(model.PrefixSource), TeamID: s.cfg.Team.ID, CreatedAt: now, UpdatedAt: now}
	return sourcePlan{x: x}, applySource(in, &x, true, field, s.cfg.ValidateSource)
}

// upsertSourceFrom updates the source named in the input with what is
// given, or creates it.
func (s *server) upsertSourceFrom(r *http.Request, in sourceInput, field string) (model.Source, error) {
	for attempt := 0; ; attempt++ {
		p, err := s.planSource(r, in, field)
		if err != nil {
			return p.x, err
		}
		if p.exists {
			return p.x, s.writeSource(r, &p.x, field)
		}
		err = s.insertSource(r, &p.x, field)
		var ae *apiError
		if attempt == 0 && errors.As(err, &ae) && ae.Status == http.StatusConflict {
			continue // created concurrently: update it instead
		}
		return p.x, err
	}
}

// changeDisabled sets or clears a disabled_at time; it reports whether
// anything changed.
func changeDisabled(at **time.Time, disable bool, now time.Time) bool {
	switch {
	case disable && *at == nil:
		*at = &now
		return true
	case !disable && *at != nil:
		*at = nil
		return true
	}
	return false
}

// nameTaken is the 409 for a duplicate name.
func nameTaken(field, kind, name string) error {
	e := conflict(fmt.Sprintf("a %s named %q already exists", kind, name))
	e.Data = map[string]any{"field": field, "name": name}
	return e
}

// countResult is the answer of /count routes.
type countResult struct {
	Count int `json:"count"`
}

// deleted is the answer of deletes.
type deleted struct {
	ID string `json:"id"`
}

// listParams parses a list request's query and paging.
func listParams(r *http.Request) (query, pageReq, error) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		return nil, pageReq{}, err
	}
	p, err := parsePage(q)
	return q, p, err
}
