package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules"
	"github.com/sluice-gw/sluice/internal/rules/transform"
	"github.com/sluice-gw/sluice/internal/store"
)

// transformationRoutes registers /transformations.
func (s *server) transformationRoutes() {
	s.handle("GET /transformations", s.listTransformations)
	s.handle("GET /transformations/count", s.countTransformations)
	s.handle("POST /transformations", s.createTransformation)
	s.handle("PUT /transformations", s.upsertTransformation)
	s.handle("PUT /transformations/run", s.runTransformation)
	s.handle("GET /transformations/{id}", s.getTransformation)
	s.handle("PUT /transformations/{id}", s.updateTransformation)
	s.handle("DELETE /transformations/{id}", s.deleteTransformation)
	s.handle("GET /transformations/{id}/executions", s.listExecutions)
	s.handle("GET /transformations/{id}/executions/{execution_id}", s.getExecution)
}

// defaultEngine is the engine of an API whose Config names none: the
// engine keeps no goroutines, so one per process is cheap.
var defaultEngine = sync.OnceValue(func() *transform.Engine { return transform.NewEngine(transform.Config{}) })

// engine returns the transformation engine.
func (s *server) engine() *transform.Engine {
	if s.cfg.Transforms != nil {
		return s.cfg.Transforms
	}
	return defaultEngine()
}

// transformationInput is a transformation in a request body.
type transformationInput struct {
	Name opt[string]            `json:"name"`
	Code opt[string]            `json:"code"`
	Env  opt[map[string]string] `json:"env"`
}

// transformationJSON is a transformation (the same in both dialects).
// Sluice does not encrypt env at rest, so encrypted_env and iv are null.
type transformationJSON struct {
	ID           string            `json:"id"`
	TeamID       string            `json:"team_id"`
	Name         string            `json:"name"`
	Code         string            `json:"code"`
	EncryptedEnv *string           `json:"encrypted_env"`
	IV           *string           `json:"iv"`
	Env          map[string]string `json:"env"`
	UpdatedAt    string            `json:"updated_at"`
	CreatedAt    string            `json:"created_at"`
}

// renderTransformation renders a transformation; env is always an object.
func renderTransformation(t model.Transformation) transformationJSON {
	env := t.Env
	if env == nil {
		env = map[string]string{}
	}
	return transformationJSON{ID: t.ID, TeamID: t.TeamID, Name: t.Name, Code: t.Code, Env: env,
		UpdatedAt: ts(t.UpdatedAt), CreatedAt: ts(t.CreatedAt)}
}

// transformationFilter reads the list filters of /transformations.
func (s *server) transformationFilter(q query) store.TransformationFilter {
	return store.TransformationFilter{TeamID: s.cfg.Team.ID, IDs: q.list("id"), Names: q.list("name")}
}

func (s *server) listTransformations(r *http.Request) (any, error) {
	q, p, err := listParams(r)
	if err != nil {
		return nil, err
	}
	f := s.transformationFilter(q)
	var rows []model.Transformation
	if !p.empty() {
		f.Page = p.store()
		if rows, err = s.cfg.Store.ListTransformations(r.Context(), f); err != nil {
			return nil, fmt.Errorf("list transformations: %w", err)
		}
	}
	return list(p, rows, func(x model.Transformation) string { return x.ID }, renderTransformation), nil
}

func (s *server) countTransformations(r *http.Request) (any, error) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	n, err := s.cfg.Store.CountTransformations(r.Context(), s.transformationFilter(q))
	if err != nil {
		return nil, fmt.Errorf("count transformations: %w", err)
	}
	return countResult{Count: n}, nil
}

func (s *server) getTransformation(r *http.Request) (any, error) {
	t, err := s.loadTransformation(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return renderTransformation(t), nil
}

// createTransformation creates a transformation; name and code are
// required, the name must be free and the code must compile and register a
// transform handler.
func (s *server) createTransformation(r *http.Request) (any, error) {
	var in transformationInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	t, err := s.newTransformation(in, "")
	if err != nil {
		return nil, err
	}
	if err := s.insertTransformation(r.Context(), &t, ""); err != nil {
		return nil, err
	}
	return renderTransformation(t), nil
}

// upsertTransformation updates the transformation of that name, or
// creates it.
func (s *server) upsertTransformation(r *http.Request) (any, error) {
	var in transformationInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	if err := checkName("name", in.Name.V); err != nil {
		return nil, err
	}
	if !in.Code.has() || in.Code.V == "" {
		return nil, invalid("code", "is required")
	}
	t, err := s.upsertTransformationFrom(r.Context(), in, "")
	if err != nil {
		return nil, err
	}
	return renderTransformation(t), nil
}

// updateTransformation changes the given fields of a transformation.
func (s *server) updateTransformation(r *http.Request) (any, error) {
	var in transformationInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	t, err := s.loadTransformation(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := s.applyTransformation(in, &t, ""); err != nil {
		return nil, err
	}
	if err := s.writeTransformation(r.Context(), &t, ""); err != nil {
		return nil, err
	}
	return renderTransformation(t), nil
}

// deleteTransformation deletes a transformation that no connection's
// transform rule uses (422 naming the connections otherwise: their events
// would all fail).
func (s *server) deleteTransformation(r *http.Request) (any, error) {
	id := r.PathValue("id")
	if _, err := s.loadTransformation(r.Context(), id); err != nil {
		return nil, err
	}
	users, err := s.connectionsUsing(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if len(users) > 0 {
		e := unprocessable(fmt.Sprintf("transformation %s is used by the transform rule of connection(s) %s; change their rules first",
			id, strings.Join(users, ", ")))
		e.Data = map[string]any{"webhook_ids": users}
		return nil, e
	}
	if err := s.cfg.Store.DeleteTransformation(r.Context(), s.cfg.Team.ID, id); err != nil {
		return nil, lookupErr("transformation", id, err)
	}
	return deleted{ID: id}, nil
}

// connectionsUsing lists the ids of the connections whose transform rule
// references the transformation.
func (s *server) connectionsUsing(ctx context.Context, transformationID string) ([]string, error) {
	var users []string
	page := store.Page{Limit: store.DefaultPageLimit, Asc: true}
	for {
		cs, err := s.cfg.Store.ListConnections(ctx, store.ConnectionFilter{TeamID: s.cfg.Team.ID, Page: page})
		if err != nil {
			return nil, fmt.Errorf("list connections: %w", err)
		}
		for _, c := range cs {
			set, err := rules.Parse(c.Rules)
			if err == nil && set.Transform != nil && set.Transform.TransformationID == transformationID {
				users = append(users, c.ID)
			}
		}
		if len(cs) < page.Limit {
			return users, nil
		}
		page.After = cs[len(cs)-1].ID
	}
}

// loadTransformation fetches a transformation of the team by id.
func (s *server) loadTransformation(ctx context.Context, id string) (model.Transformation, error) {
	t, err := s.cfg.Store.GetTransformation(ctx, s.cfg.Team.ID, id)
	if err != nil {
		return t, lookupErr("transformation", id, err)
	}
	return t, nil
}

// newTransformation builds a new transformation from the input (not yet
// stored); field prefixes error field names.
func (s *server) newTransformation(in transformationInput, field string) (model.Transformation, error) {
	now := s.stamp()
	t := model.Transformation{ID: model.NewID(model.PrefixTransform), TeamID: s.cfg.Team.ID, CreatedAt: now, UpdatedAt: now}
	if err := checkName(join(field, "name"), in.Name.V); err != nil {
		return t, err
	}
	if !in.Code.has() || in.Code.V == "" {
		return t, invalid(join(field, "code"), "is required")
	}
	return t, s.applyTransformation(in, &t, field)
}

// applyTransformation applies the given fields to t, validating the name
// and the code.
func (s *server) applyTransformation(in transformationInput, t *model.Transformation, field string) error {
	if in.Name.Set {
		if err := checkName(join(field, "name"), in.Name.V); err != nil {
			return err
		}
		t.Name = in.Name.V
	}
	if in.Code.Set {
		if in.Code.V == "" {
			return invalid(join(field, "code"), "must not be empty")
		}
		if err := s.checkCode(join(field, "code"), in.Code.V); err != nil {
			return err
		}
		t.Code = in.Code.V
	}
	if in.Env.Set {
		t.Env = nil
		if len(in.Env.V) > 0 {
			t.Env = in.Env.V
		}
	}
	return nil
}

// checkCode validates transformation code with the engine: it must
// compile and register a transform handler. A failure is a 422 naming the
// field, with the line and column in the message and data.
func (s *server) checkCode(field, code string) error {
	err := s.engine().Validate(code)
	if err == nil {
		return nil
	}
	var xe *transform.ExecError
	if !errors.As(err, &xe) {
		return fmt.Errorf("validate transformation code: %w", err)
	}
	return codeError(field, xe)
}

// codeError is the 422 for code that fails validation.
func codeError(field string, xe *transform.ExecError) error {
	msg := xe.Message
	if xe.Line > 0 && !strings.Contains(msg, fmt.Sprintf(":%d:%d", xe.Line, xe.Column)) {
		msg = fmt.Sprintf("%s (line %d, column %d)", msg, xe.Line, xe.Column)
	}
	e := invalid(field, msg)
	e.Data["kind"] = xe.Kind
	if xe.Line > 0 {
		e.Data["line"], e.Data["column"] = xe.Line, xe.Column
	}
	return e
}

// insertTransformation stores a new transformation; a taken name is a 409.
func (s *server) insertTransformation(ctx context.Context, t *model.Transformation, field string) error {
	if err := s.cfg.Store.CreateTransformation(ctx, t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nameTaken(join(field, "name"), "transformation", t.Name)
		}
		return fmt.Errorf("create transformation: %w", err)
	}
	return nil
}

// writeTransformation stores a changed transformation; a taken name is a
// 409.
func (s *server) writeTransformation(ctx context.Context, t *model.Transformation, field string) error {
	t.UpdatedAt = s.stamp()
	if err := s.cfg.Store.UpdateTransformation(ctx, t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nameTaken(join(field, "name"), "transformation", t.Name)
		}
		return lookupErr("transformation", t.ID, err)
	}
	return nil
}

// upsertTransformationFrom updates the transformation named in the input
// with what is given, or creates it. Name and code must have been checked
// for presence.
func (s *server) upsertTransformationFrom(ctx context.Context, in transformationInput, field string) (model.Transformation, error) {
	for attempt := 0; ; attempt++ {
		t, err := s.cfg.Store.GetTransformationByName(ctx, s.cfg.Team.ID, in.Name.V)
		switch {
		case err == nil:
			if err := s.applyTransformation(in, &t, field); err != nil {
				return t, err
			}
			return t, s.writeTransformation(ctx, &t, field)
		case !errors.Is(err, store.ErrNotFound):
			return t, fmt.Errorf("find transformation %q: %w", in.Name.V, err)
		}
		if t, err = s.newTransformation(in, field); err != nil {
			return t, err
		}
		err = s.insertTransformation(ctx, &t, field)
		var ae *apiError
		if attempt == 0 && errors.As(err, &ae) && ae.Status == http.StatusConflict {
			continue // created concurrently: update it instead
		}
		return t, err
	}
}
