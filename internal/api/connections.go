package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// connectionRoutes registers /connections.
func (s *server) connectionRoutes() {
	s.handle("GET /connections", s.listConnections)
	s.handle("GET /connections/count", s.countConnections)
	s.handle("POST /connections", s.createConnection)
	s.handle("PUT /connections", s.upsertConnection)
	s.handle("GET /connections/{id}", s.getConnection)
	s.handle("PUT /connections/{id}", s.updateConnection)
	s.handle("DELETE /connections/{id}", s.deleteConnection)
	for action, disable := range map[string]bool{"disable": true, "archive": true, "enable": false, "unarchive": false} {
		s.handle("PUT /connections/{id}/"+action, s.setConnectionDisabled(disable))
	}
	s.handle("PUT /connections/{id}/pause", s.pauseConnection)
	s.handle("PUT /connections/{id}/unpause", s.unpauseConnection)
}

// connectionFilter reads the list filters of /connections. paused_at
// selects paused (paused_at[any]=true) or running (false) connections;
// full_name and disabled_at are not supported and are ignored.
func (s *server) connectionFilter(q query) (store.ConnectionFilter, error) {
	f := store.ConnectionFilter{
		TeamID: s.cfg.Team.ID, IDs: q.list("id"), Names: q.list("name"),
		SourceIDs: q.list("source_id"), DestinationIDs: q.list("destination_id"),
	}
	var err error
	if f.Disabled, err = q.boolean("disabled"); err != nil {
		return f, err
	}
	if p := q["paused_at"]; p != nil {
		if v, ok := p.ops["any"]; ok {
			b := v == "true"
			f.Paused = &b
		}
	}
	return f, nil
}

func (s *server) listConnections(r *http.Request) (any, error) {
	q, p, err := listParams(r)
	if err != nil {
		return nil, err
	}
	f, err := s.connectionFilter(q)
	if err != nil {
		return nil, err
	}
	var rows []model.Connection
	if !p.empty() {
		f.Page = p.store()
		if rows, err = s.cfg.Store.ListConnections(r.Context(), f); err != nil {
			return nil, fmt.Errorf("list connections: %w", err)
		}
	}
	cr, err := s.newConnRenderer(r)
	if err != nil {
		return nil, err
	}
	return list(p, rows, func(c model.Connection) string { return c.ID }, cr.render), nil
}

func (s *server) countConnections(r *http.Request) (any, error) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	f, err := s.connectionFilter(q)
	if err != nil {
		return nil, err
	}
	n, err := s.cfg.Store.CountConnections(r.Context(), f)
	if err != nil {
		return nil, fmt.Errorf("count connections: %w", err)
	}
	return countResult{Count: n}, nil
}

func (s *server) getConnection(r *http.Request) (any, error) {
	c, err := s.loadConnection(r, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.connectionAnswer(r, c)
}

// createConnection creates a connection. Inline source and destination
// objects are found by name (and updated with what is given) or created;
// a missing name defaults to the destination's name.
func (s *server) createConnection(r *http.Request) (any, error) {
	var in connectionInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	if err := s.resolveRuleNames(r.Context(), &in); err != nil {
		return nil, err
	}
	if err := applyConnection(in, &model.Connection{}); err != nil {
		return nil, err // before any source or destination is written
	}
	plan, err := s.planRules(r.Context(), in.Rules)
	if err != nil {
		return nil, err
	}
	src, dst, err := s.resolveEnds(r, in)
	if err != nil {
		return nil, err
	}
	if in.Rules, err = plan.commit(r.Context(), s); err != nil {
		return nil, err
	}
	if !in.Name.has() {
		in.Name = opt[string]{Set: true, V: dst.Name}
	}
	c, err := s.createConnectionFrom(r, in, src, dst)
	if err != nil {
		return nil, err
	}
	return s.connectionAnswerWith(r, c, src, dst)
}

// upsertConnection updates the connection of that name on the source, or
// creates it.
func (s *server) upsertConnection(r *http.Request) (any, error) {
	var in connectionInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	if err := checkName("name", in.Name.V); err != nil {
		return nil, err
	}
	if err := s.resolveRuleNames(r.Context(), &in); err != nil {
		return nil, err
	}
	if err := applyConnection(in, &model.Connection{}); err != nil {
		return nil, err // before any source or destination is written
	}
	plan, err := s.planRules(r.Context(), in.Rules)
	if err != nil {
		return nil, err
	}
	src, dst, err := s.resolveEnds(r, in)
	if err != nil {
		return nil, err
	}
	if in.Rules, err = plan.commit(r.Context(), s); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		c, err := s.cfg.Store.GetConnectionByName(r.Context(), s.cfg.Team.ID, src.ID, in.Name.V)
		switch {
		case err == nil:
			c.DestinationID = dst.ID
			if err := s.saveConnection(r, in, &c); err != nil {
				return nil, err
			}
			return s.connectionAnswerWith(r, c, src, dst)
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("find connection %q: %w", in.Name.V, err)
		}
		c, err = s.createConnectionFrom(r, in, src, dst)
		var ae *apiError
		if attempt == 0 && errors.As(err, &ae) && ae.Status == http.StatusConflict {
			continue // created concurrently: update it instead
		}
		if err != nil {
			return nil, err
		}
		return s.connectionAnswerWith(r, c, src, dst)
	}
}

// updateConnection changes name, description and rules only.
func (s *server) updateConnection(r *http.Request) (any, error) {
	var in connectionInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	c, err := s.loadConnection(r, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	upd, err := s.prepareRules(r.Context(), connectionInput{Name: in.Name, Description: in.Description, Rules: in.Rules})
	if err != nil {
		return nil, err
	}
	if err := s.saveConnection(r, upd, &c); err != nil {
		return nil, err
	}
	return s.connectionAnswer(r, c)
}

func (s *server) deleteConnection(r *http.Request) (any, error) {
	id := r.PathValue("id")
	if err := s.cfg.Store.DeleteConnection(r.Context(), s.cfg.Team.ID, id); err != nil {
		return nil, lookupErr("connection", id, err)
	}
	return deleted{ID: id}, nil
}

// setConnectionDisabled serves disable/archive and enable/unarchive.
func (s *server) setConnectionDisabled(disable bool) handlerFunc {
	return func(r *http.Request) (any, error) {
		if err := decodeBody(r, &struct{}{}); err != nil {
			return nil, err
		}
		c, err := s.loadConnection(r, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		if changeDisabled(&c.DisabledAt, disable, s.stamp()) {
			c.UpdatedAt = s.stamp()
			if err := s.cfg.Store.UpdateConnection(r.Context(), &c); err != nil {
				return nil, lookupErr("connection", c.ID, err)
			}
		}
		return s.connectionAnswer(r, c)
	}
}

// pauseConnection holds the connection's new and pending events.
func (s *server) pauseConnection(r *http.Request) (any, error) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	c, err := s.cfg.Store.PauseConnection(r.Context(), s.cfg.Team.ID, id, s.stamp())
	if err != nil {
		return nil, lookupErr("connection", id, err)
	}
	return s.connectionAnswer(r, c)
}

// unpauseConnection releases the held events and wakes the dispatcher.
func (s *server) unpauseConnection(r *http.Request) (any, error) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	c, _, err := s.cfg.Store.UnpauseConnection(r.Context(), s.cfg.Team.ID, id, s.stamp())
	if err != nil {
		return nil, lookupErr("connection", id, err)
	}
	s.wake()
	return s.connectionAnswer(r, c)
}

// wake tells the dispatcher that events are due.
func (s *server) wake() {
	if s.cfg.Waker != nil {
		s.cfg.Waker()
	}
}

// loadConnection fetches a connection of the team by id.
func (s *server) loadConnection(r *http.Request, id string) (model.Connection, error) {
	c, err := s.cfg.Store.GetConnection(r.Context(), s.cfg.Team.ID, id)
	if err != nil {
		return c, lookupErr("connection", id, err)
	}
	return c, nil
}

// connectionAnswer renders a connection with its source and destination.
func (s *server) connectionAnswer(r *http.Request, c model.Connection) (any, error) {
	cr, err := s.newConnRenderer(r)
	if err != nil {
		return nil, err
	}
	return cr.render(c), nil
}

// connectionAnswerWith renders a connection whose ends are at hand.
func (s *server) connectionAnswerWith(r *http.Request, c model.Connection, src model.Source, dst model.Destination) (any, error) {
	cr, err := s.newConnRenderer(r)
	if err != nil {
		return nil, err
	}
	return cr.seed(src, dst).render(c), nil
}

// resolveEnds finds the connection's source and destination: by
// source_id/destination_id, or inline objects found by name (updated with
// what is given) or created. Both inline objects are validated before
// either is written.
func (s *server) resolveEnds(r *http.Request, in connectionInput) (model.Source, model.Destination, error) {
	var src model.Source
	var dst model.Destination
	var err error
	if in.Source.has() && !in.SourceID.has() {
		if _, err := s.planSource(r, in.Source.V, "source"); err != nil {
			return src, dst, err
		}
	}
	if in.Destination.has() && !in.DestinationID.has() {
		if _, err := s.planDestination(r, in.Destination.V, "destination"); err != nil {
			return src, dst, err
		}
	}
	switch {
	case in.SourceID.has():
		src, err = s.cfg.Store.GetSource(r.Context(), s.cfg.Team.ID, in.SourceID.V)
		if errors.Is(err, store.ErrNotFound) {
			return src, dst, invalid("source_id", fmt.Sprintf("no source has id %q", in.SourceID.V))
		}
	case in.Source.has():
		src, err = s.upsertSourceFrom(r, in.Source.V, "source")
	default:
		return src, dst, invalid("source", "give source_id or a source object")
	}
	if err != nil {
		return src, dst, err
	}
	switch {
	case in.DestinationID.has():
		dst, err = s.cfg.Store.GetDestination(r.Context(), s.cfg.Team.ID, in.DestinationID.V)
		if errors.Is(err, store.ErrNotFound) {
			return src, dst, invalid("destination_id", fmt.Sprintf("no destination has id %q", in.DestinationID.V))
		}
	case in.Destination.has():
		dst, err = s.upsertDestinationFrom(r, in.Destination.V, "destination")
	default:
		return src, dst, invalid("destination", "give destination_id or a destination object")
	}
	return src, dst, err
}

// createConnectionFrom creates a connection between src and dst.
func (s *server) createConnectionFrom(r *http.Request, in connectionInput, src model.Source, dst model.Destination) (model.Connection, error) {
	now := s.stamp()
	c := model.Connection{
		ID: model.NewID(model.PrefixConnection), TeamID: s.cfg.Team.ID,
		SourceID: src.ID, DestinationID: dst.ID, Rules: emptyRules, CreatedAt: now, UpdatedAt: now,
	}
	if err := applyConnection(in, &c); err != nil {
		return c, err
	}
	if err := s.cfg.Store.CreateConnection(r.Context(), &c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return c, nameTaken("name", "connection on source "+src.Name, c.Name)
		}
		return c, fmt.Errorf("create connection: %w", err)
	}
	return c, nil
}

// saveConnection applies name, description and rules and stores c.
func (s *server) saveConnection(r *http.Request, in connectionInput, c *model.Connection) error {
	if err := applyConnection(in, c); err != nil {
		return err
	}
	c.UpdatedAt = s.stamp()
	if err := s.cfg.Store.UpdateConnection(r.Context(), c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nameTaken("name", "connection on this source", c.Name)
		}
		return lookupErr("connection", c.ID, err)
	}
	return nil
}

// applyConnection applies name, description and rules.
func applyConnection(in connectionInput, c *model.Connection) error {
	if in.Name.Set {
		if err := checkName("name", in.Name.V); err != nil {
			return err
		}
		c.Name = in.Name.V
	}
	if err := applyDescription("description", in.Description, &c.Description); err != nil {
		return err
	}
	if in.Rules.Set {
		norm, err := normalizeRules(in.Rules.V)
		if err != nil {
			return err
		}
		c.Rules = norm
	}
	return nil
}
