package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// destinationRoutes registers /destinations.
func (s *server) destinationRoutes() {
	s.handle("GET /destinations", s.listDestinations)
	s.handle("GET /destinations/count", s.countDestinations)
	s.handle("POST /destinations", s.createDestination)
	s.handle("PUT /destinations", s.upsertDestination)
	s.handle("GET /destinations/{id}", s.getDestination)
	s.handle("PUT /destinations/{id}", s.updateDestination)
	s.handle("DELETE /destinations/{id}", s.deleteDestination)
	for action, disable := range map[string]bool{"disable": true, "archive": true, "enable": false, "unarchive": false} {
		s.handle("PUT /destinations/{id}/"+action, s.setDestinationDisabled(disable))
	}
}

// destinationFilter reads the list filters of /destinations (disabled_at
// is not supported and is ignored).
func (s *server) destinationFilter(q query) (store.DestinationFilter, error) {
	f := store.DestinationFilter{TeamID: s.cfg.Team.ID, IDs: q.list("id"), Names: q.list("name")}
	for _, t := range q.list("type") {
		f.Types = append(f.Types, strings.ToUpper(t))
	}
	var err error
	f.Disabled, err = q.boolean("disabled")
	return f, err
}

func (s *server) listDestinations(r *http.Request) (any, error) {
	q, p, err := listParams(r)
	if err != nil {
		return nil, err
	}
	f, err := s.destinationFilter(q)
	if err != nil {
		return nil, err
	}
	var rows []model.Destination
	if !p.empty() {
		f.Page = p.store()
		if rows, err = s.cfg.Store.ListDestinations(r.Context(), f); err != nil {
			return nil, fmt.Errorf("list destinations: %w", err)
		}
	}
	v, reveal := versionOf(r.Context()), revealAuth(q)
	return list(p, rows, func(x model.Destination) string { return x.ID },
		func(x model.Destination) any { return renderDestination(v, x, reveal) }), nil
}

func (s *server) countDestinations(r *http.Request) (any, error) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	f, err := s.destinationFilter(q)
	if err != nil {
		return nil, err
	}
	n, err := s.cfg.Store.CountDestinations(r.Context(), f)
	if err != nil {
		return nil, fmt.Errorf("count destinations: %w", err)
	}
	return countResult{Count: n}, nil
}

func (s *server) getDestination(r *http.Request) (any, error) {
	d, err := s.loadDestination(r, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return destinationAnswer(r, d)
}

func (s *server) createDestination(r *http.Request) (any, error) {
	var in destinationInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	d, err := s.createDestinationFrom(r, in, "")
	if err != nil {
		return nil, err
	}
	return destinationAnswer(r, d)
}

func (s *server) upsertDestination(r *http.Request) (any, error) {
	var in destinationInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	d, err := s.upsertDestinationFrom(r, in, "")
	if err != nil {
		return nil, err
	}
	return destinationAnswer(r, d)
}

func (s *server) updateDestination(r *http.Request) (any, error) {
	var in destinationInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	d, err := s.loadDestination(r, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := s.saveDestination(r, in, &d, ""); err != nil {
		return nil, err
	}
	return destinationAnswer(r, d)
}

func (s *server) deleteDestination(r *http.Request) (any, error) {
	id := r.PathValue("id")
	if err := s.cfg.Store.DeleteDestination(r.Context(), s.cfg.Team.ID, id); err != nil {
		return nil, lookupErr("destination", id, err)
	}
	return deleted{ID: id}, nil
}

// setDestinationDisabled serves disable/archive and enable/unarchive.
func (s *server) setDestinationDisabled(disable bool) handlerFunc {
	return func(r *http.Request) (any, error) {
		if err := decodeBody(r, &struct{}{}); err != nil {
			return nil, err
		}
		d, err := s.loadDestination(r, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		if changeDisabled(&d.DisabledAt, disable, s.stamp()) {
			d.UpdatedAt = s.stamp()
			if err := s.cfg.Store.UpdateDestination(r.Context(), &d); err != nil {
				return nil, lookupErr("destination", d.ID, err)
			}
		}
		return destinationAnswer(r, d)
	}
}

// loadDestination fetches a destination of the team by id.
func (s *server) loadDestination(r *http.Request, id string) (model.Destination, error) {
	d, err := s.cfg.Store.GetDestination(r.Context(), s.cfg.Team.ID, id)
	if err != nil {
		return d, lookupErr("destination", id, err)
	}
	return d, nil
}

// destinationAnswer renders a destination for the request.
func destinationAnswer(r *http.Request, d model.Destination) (any, error) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	return renderDestination(versionOf(r.Context()), d, revealAuth(q)), nil
}

// createDestinationFrom creates a destination from the input; field prefixes error
// field names.
func (s *server) createDestinationFrom(r *http.Request, in destinationInput, field string) (model.Destination, error) {
	now := s.stamp()
	x := model.Destination{ID: model.NewID(model.PrefixDestination), TeamID: s.cfg.Team.ID, CreatedAt: now, UpdatedAt: now}
	if err := applyDestination(in, &x, true, field); err != nil {
		return x, err
	}
	return x, s.insertDestination(r, &x, field)
}

// saveDestination applies the input to an existing destination and stores it.
func (s *server) saveDestination(r *http.Request, in destinationInput, x *model.Destination, field string) error {
	if err := applyDestination(in, x, false, field); err != nil {
		return err
	}
	return s.writeDestination(r, x, field)
}

// insertDestination stores a new destination; a taken name is a 409.
func (s *server) insertDestination(r *http.Request, x *model.Destination, field string) error {
	if err := s.cfg.Store.CreateDestination(r.Context(), x); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nameTaken(join(field, "name"), "destination", x.Name)
		}
		return fmt.Errorf("create destination: %w", err)
	}
	return nil
}

// writeDestination stores a changed destination; a taken name is a 409.
func (s *server) writeDestination(r *http.Request, x *model.Destination, field string) error {
	x.UpdatedAt = s.stamp()
	if err := s.cfg.Store.UpdateDestination(r.Context(), x); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nameTaken(join(field, "name"), "destination", x.Name)
		}
		return lookupErr("destination", x.ID, err)
	}
	return nil
}

// destinationPlan is a destination as an upsert would write it.
type destinationPlan struct {
	x      model.Destination
	exists bool
}

// planDestination finds the destination named in the input and applies the input to
// it (or to a new destination), validating everything without writing.
func (s *server) planDestination(r *http.Request, in destinationInput, field string) (destinationPlan, error) {
	if err := checkName(join(field, "name"), in.Name.V); err != nil {
		return destinationPlan{}, err
	}
	x, err := s.cfg.Store.GetDestinationByName(r.Context(), s.cfg.Team.ID, in.Name.V)
	switch {
	case err == nil:
		return destinationPlan{x: x, exists: true}, applyDestination(in, &x, false, field)
	case !errors.Is(err, store.ErrNotFound):
		return destinationPlan{}, fmt.Errorf("find destination %q: %w", in.Name.V, err)
	}
	now := s.stamp()
	x = model.Destination{ID: model.NewID(model.PrefixDestination), TeamID: s.cfg.Team.ID, CreatedAt: now, UpdatedAt: now}
	return destinationPlan{x: x}, applyDestination(in, &x, true, field)
}

// upsertDestinationFrom updates the destination named in the input with what is
// given, or creates it.
func (s *server) upsertDestinationFrom(r *http.Request, in destinationInput, field string) (model.Destination, error) {
	for attempt := 0; ; attempt++ {
		p, err := s.planDestination(r, in, field)
		if err != nil {
			return p.x, err
		}
		if p.exists {
			return p.x, s.writeDestination(r, &p.x, field)
		}
		err = s.insertDestination(r, &p.x, field)
		var ae *apiError
		if attempt == 0 && errors.As(err, &ae) && ae.Status == http.StatusConflict {
			continue // created concurrently: update it instead
		}
		return p.x, err
	}
}
