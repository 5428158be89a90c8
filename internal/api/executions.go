package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules/transform"
	"github.com/sluice-gw/sluice/internal/store"
)

// executionJSON is Hookdeck's TransformationExecution. The event data are
// rendered on GET of one execution, and in lists with include=data.
type executionJSON struct {
	ID                     string              `json:"id"`
	TransformedEventDataID *string             `json:"transformed_event_data_id"`
	OriginalEventDataID    string              `json:"original_event_data_id"`
	TransformationID       string              `json:"transformation_id"`
	TeamID                 string              `json:"team_id"`
	WebhookID              string              `json:"webhook_id"`
	LogLevel               string              `json:"log_level"`
	Logs                   []model.ConsoleLine `json:"logs"`
	UpdatedAt              string              `json:"updated_at"`
	CreatedAt              string              `json:"created_at"`
	OriginalEventData      *shortData          `json:"original_event_data,omitempty"`
	TransformedEventData   *shortData          `json:"transformed_event_data,omitempty"`
	IssueID                *string             `json:"issue_id"`
}

// logLevels are the valid execution log levels.
var logLevels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true, "fatal": true}

// executionFilter reads the filters of /transformations/{id}/executions.
// issue_id is accepted and ignored (Sluice has no issues yet).
func (s *server) executionFilter(q query, transformationID string) (store.ExecutionFilter, error) {
	f := store.ExecutionFilter{TeamID: s.cfg.Team.ID, TransformationID: transformationID, ConnectionIDs: q.list("webhook_id")}
	for _, l := range q.list("log_level") {
		l = strings.ToLower(l)
		if !logLevels[l] {
			return f, badRequest("log_level", fmt.Sprintf("must be debug, info, warn, error or fatal, not %q", l))
		}
		f.LogLevels = append(f.LogLevels, l)
	}
	var err error
	f.CreatedAt, err = q.timeRange("created_at")
	return f, err
}

func (s *server) listExecutions(r *http.Request) (any, error) {
	q, p, err := listParams(r)
	if err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	if _, err := s.loadTransformation(r.Context(), id); err != nil {
		return nil, err
	}
	f, err := s.executionFilter(q, id)
	if err != nil {
		return nil, err
	}
	var rows []model.TransformationExecution
	if !p.empty() {
		f.Page = p.store()
		if rows, err = s.cfg.Store.ListTransformationExecutions(r.Context(), f); err != nil {
			return nil, fmt.Errorf("list transformation executions: %w", err)
		}
	}
	withData := q.includes("data")
	cache := map[string]*shortData{}
	return list(p, rows, func(x model.TransformationExecution) string { return x.ID },
		func(x model.TransformationExecution) executionJSON {
			return s.renderExecution(r.Context(), x, withData, cache)
		}), nil
}

func (s *server) getExecution(r *http.Request) (any, error) {
	id, execID := r.PathValue("id"), r.PathValue("execution_id")
	x, err := s.cfg.Store.GetTransformationExecution(r.Context(), s.cfg.Team.ID, execID)
	if err == nil && x.TransformationID != id {
		err = store.ErrNotFound // another transformation's execution
	}
	if err != nil {
		return nil, lookupErr("transformation execution", execID, err)
	}
	return s.renderExecution(r.Context(), x, true, map[string]*shortData{}), nil
}

// renderExecution renders an execution; withData adds the original and
// transformed event data (payloads are read once per id through cache; a
// payload that is gone renders as absent).
func (s *server) renderExecution(ctx context.Context, x model.TransformationExecution, withData bool, cache map[string]*shortData) executionJSON {
	out := executionJSON{
		ID: x.ID, TransformedEventDataID: nullable(x.TransformedDataID), OriginalEventDataID: x.OriginalDataID,
		TransformationID: x.TransformationID, TeamID: x.TeamID, WebhookID: x.ConnectionID, LogLevel: x.LogLevel,
		Logs: x.Logs, UpdatedAt: ts(x.UpdatedAt), CreatedAt: ts(x.CreatedAt),
	}
	if out.Logs == nil {
		out.Logs = []model.ConsoleLine{}
	}
	if withData {
		out.OriginalEventData = s.payloadData(ctx, x.OriginalDataID, cache)
		out.TransformedEventData = s.payloadData(ctx, x.TransformedDataID, cache)
	}
	return out
}

// payloadData reads a payload and renders it as ShortEventData.
func (s *server) payloadData(ctx context.Context, id string, cache map[string]*shortData) *shortData {
	if id == "" {
		return nil
	}
	if d, ok := cache[id]; ok {
		return d
	}
	p, err := s.cfg.Store.GetPayload(ctx, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("read execution payload", "payload", id, "err", err)
		}
		cache[id] = nil
		return nil
	}
	d := &shortData{
		Path: p.Path, Query: p.Query, ParsedQuery: transform.ParseQuery(p.Query), Headers: headersOf(p),
		Body: renderBody(p.Body, true), IsLargePayload: len(p.Body) > largePayload,
	}
	cache[id] = d
	return d
}
