package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules/filter"
	"github.com/sluice-gw/sluice/internal/rules/transform"
	"github.com/sluice-gw/sluice/internal/store"
)

// runInput is the body of PUT /transformations/run.
type runInput struct {
	Code             opt[string]            `json:"code"`
	TransformationID opt[string]            `json:"transformation_id"`
	Env              opt[map[string]string] `json:"env"`
	WebhookID        opt[string]            `json:"webhook_id"`
	EventID          opt[string]            `json:"event_id"`
	Request          opt[runRequestInput]   `json:"request"`
}

// runRequestInput is the sample request of a test run.
type runRequestInput struct {
	Headers     map[string]string `json:"headers"`
	Body        json.RawMessage   `json:"body"`
	Path        *string           `json:"path"`
	Query       *string           `json:"query"`
	ParsedQuery map[string]any    `json:"parsed_query"`
}

// runOutput is Hookdeck's TransformationExecutorOutput.
type runOutput struct {
	RequestID        *string             `json:"request_id"`
	TransformationID *string             `json:"transformation_id"`
	ExecutionID      *string             `json:"execution_id"`
	LogLevel         string              `json:"log_level"`
	Request          *runRequestJSON     `json:"request"`
	Console          []model.ConsoleLine `json:"console"`
}

// runRequestJSON is the transformed request of a test run.
type runRequestJSON struct {
	Headers     map[string]string `json:"headers"`
	Path        string            `json:"path"`
	Query       string            `json:"query"`
	ParsedQuery map[string]any    `json:"parsed_query"`
	Body        any               `json:"body"`
}

// runTransformation runs code (given, or the stored transformation's) on a
// sample request without saving anything. Invalid input — no code, code
// that does not compile, an unknown transformation, connection or event —
// is a 422; a run that fails (throws, times out, returns a bad value)
// answers 200 with log_level fatal and the error as the last console line,
// as Hookdeck does.
func (s *server) runTransformation(r *http.Request) (any, error) {
	var in runInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	ctx := r.Context()
	out := runOutput{Console: []model.ConsoleLine{}}
	code, env := in.Code.V, in.Env.V
	if in.TransformationID.has() && in.TransformationID.V != "" {
		t, err := s.cfg.Store.GetTransformation(ctx, s.cfg.Team.ID, in.TransformationID.V)
		if errors.Is(err, store.ErrNotFound) {
			return nil, invalid("transformation_id", fmt.Sprintf("no transformation has id %q", in.TransformationID.V))
		}
		if err != nil {
			return nil, fmt.Errorf("load transformation %s: %w", in.TransformationID.V, err)
		}
		out.TransformationID = &t.ID
		if code == "" {
			code = t.Code
		}
		if !in.Env.Set {
			env = t.Env
		}
	}
	if code == "" {
		return nil, invalid("code", "is required (or give transformation_id)")
	}
	if in.WebhookID.has() && in.WebhookID.V != "" {
		if _, err := s.cfg.Store.GetConnection(ctx, s.cfg.Team.ID, in.WebhookID.V); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, invalid("webhook_id", fmt.Sprintf("no connection has id %q", in.WebhookID.V))
			}
			return nil, fmt.Errorf("load connection %s: %w", in.WebhookID.V, err)
		}
	}
	req, err := s.runRequest(r, in, &out)
	if err != nil {
		return nil, err
	}
	res, err := s.engine().Run(ctx, code, env, req)
	for _, l := range res.Console {
		out.Console = append(out.Console, model.ConsoleLine{Type: l.Type, Message: l.Message})
	}
	out.LogLevel = res.LogLevel
	if err != nil {
		var xe *transform.ExecError
		switch {
		case !errors.As(err, &xe):
			return nil, fmt.Errorf("run transformation: %w", err)
		case xe.Kind == transform.KindSyntax:
			return nil, codeError("code", xe)
		}
		out.LogLevel = transform.LevelFatal
		out.Console = append(out.Console, model.ConsoleLine{Type: "error", Message: xe.Message})
		return out, nil
	}
	q := res.Request.ParsedQuery
	if q == nil {
		q = transform.ParseQuery(res.Request.Query)
	}
	headers := res.Request.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	out.Request = &runRequestJSON{Headers: headers, Path: res.Request.Path, Query: res.Request.Query,
		ParsedQuery: q, Body: res.Request.Body}
	return out, nil
}

// runRequest builds the sample request: the body's request, or else the
// data of the event named by event_id, or else an empty request.
func (s *server) runRequest(r *http.Request, in runInput, out *runOutput) (transform.Request, error) {
	if in.Request.has() {
		return sampleRequest(in.Request.V)
	}
	if in.EventID.has() && in.EventID.V != "" {
		ev, err := s.cfg.Store.GetEvent(r.Context(), s.cfg.Team.ID, in.EventID.V, true)
		if errors.Is(err, store.ErrNotFound) {
			return transform.Request{}, invalid("event_id", fmt.Sprintf("no event has id %q", in.EventID.V))
		}
		if err != nil {
			return transform.Request{}, fmt.Errorf("load event %s: %w", in.EventID.V, err)
		}
		out.RequestID = &ev.RequestID
		var p model.Payload
		if ev.Data != nil {
			p = *ev.Data
		}
		return transform.Request{Headers: headersOf(p), Body: filter.Decode(p.Body), Path: p.Path, Query: p.Query}, nil
	}
	return transform.Request{Headers: map[string]string{}, Path: "/"}, nil
}

// sampleRequest converts the given sample request. A JSON string body is
// the raw body text; any other JSON value is the parsed body.
func sampleRequest(in runRequestInput) (transform.Request, error) {
	req := transform.Request{Headers: in.Headers, ParsedQuery: in.ParsedQuery}
	if req.Headers == nil {
		req.Headers = map[string]string{}
	}
	if in.Path != nil {
		req.Path = *in.Path
	}
	if in.Query != nil {
		req.Query = *in.Query
	}
	body := bytes.TrimSpace(in.Body)
	switch {
	case len(body) == 0 || bytes.Equal(body, []byte("null")):
	case body[0] == '"':
		var s string
		if err := json.Unmarshal(body, &s); err != nil {
			return req, invalid("request.body", "is not a valid JSON string")
		}
		req.Body = s
	default:
		req.Body = json.RawMessage(body)
	}
	return req, nil
}
