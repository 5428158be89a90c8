// Package oascheck validates Sluice's API answers against Hookdeck's
// 2025-07-01 OpenAPI document with kin-openapi, as the real clients see
// them (through a recording http.RoundTripper or reverse proxy).
//
// # Dialects
//
// Sluice serves every /YYYY-MM-DD/ prefix. The document describes the
// typed dialect (2025-01-01 and later), so answers under 2025+ prefixes
// (the CLI's 2025-07-01 and 2026-09-01) are validated strictly against it,
// with the version prefix stripped to find the operation.
//
// Answers under earlier prefixes (the Go SDK's 2024-09-01) speak the
// legacy dialect, where sources and destinations carry top-level
// verification / url / auth_method fields instead of type + config. They
// are validated against a second copy of the document in which only the
// Source and Destination schemas are relaxed to the fields both dialects
// share (id, name, description, team_id, url for sources, disabled_at,
// created_at, updated_at; each still checked against its definition in the
// document); everything else (events, requests, attempts, pagination,
// connections around their ends, errors) is validated strictly. The
// legacy-only fields are checked by the Go SDK itself, which decodes them
// into typed structs and refuses a verification or auth_method union
// without its "type".
//
// # Amended
//
// Where the document, read strictly, contradicts itself so that no answer
// could match it, both copies are amended (see amend for each case and
// why): union wrappers that admit only {}, "Empty" auth branches that
// match everything, config unions that depend on the resource's type, and
// Request.rejection_cause, required but without a value for accepted
// requests.
//
// # Skipped
//
// A Result is Skipped (with its reason) rather than validated when the
// route has no operation in the document (the CLI's cli-auth, teams,
// projects and cli-sessions routes, health checks), when the answer is not
// JSON (a WebSocket upgrade), or when the status is not one the operation
// documents (e.g. 401, 409).
package oascheck

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// typedSince is the first version date of the typed dialect.
var typedSince = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// sharedFields are the source and destination fields both dialects have.
var sharedFields = map[string][]string{
	"Source":      {"id", "name", "description", "team_id", "url", "disabled_at", "updated_at", "created_at"},
	"Destination": {"id", "name", "description", "team_id", "disabled_at", "updated_at", "created_at"},
}

// Validator checks answers against the document.
type Validator struct {
	strict *spec
	legacy *spec
}

// spec is one loaded copy of the document with its path templates.
type spec struct {
	doc       *openapi3.T
	templates [][]string // each path split on "/", in document order
	paths     []string
}

// Load reads the OpenAPI document at path.
func Load(path string) (*Validator, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("oascheck: read document: %w", err)
	}
	strict, err := loadSpec(raw)
	if err != nil {
		return nil, err
	}
	legacy, err := loadSpec(raw)
	if err != nil {
		return nil, err
	}
	for name, keep := range sharedFields {
		if err := relax(legacy.doc, name, keep); err != nil {
			return nil, err
		}
	}
	for _, sp := range []*spec{strict, legacy} {
		if err := amend(sp.doc); err != nil {
			return nil, err
		}
	}
	return &Validator{strict: strict, legacy: legacy}, nil
}

// loadSpec parses and validates one copy of the document. The document's
// own examples and defaults are not checked (one default in Connection
// matches two branches of its oneOf); the schemas are.
func loadSpec(raw []byte) (*spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("oascheck: load document: %w", err)
	}
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation(),
		openapi3.DisableSchemaDefaultsValidation()); err != nil {
		return nil, fmt.Errorf("oascheck: document is invalid: %w", err)
	}
	s := &spec{doc: doc}
	for _, p := range doc.Paths.InMatchingOrder() {
		s.paths = append(s.paths, p)
		s.templates = append(s.templates, strings.Split(strings.Trim(p, "/"), "/"))
	}
	return s, nil
}

// relax replaces the named component schema, in place so that every
// reference sees it, by one that keeps only the given properties (each as
// the document defines it) and admits others.
func relax(doc *openapi3.T, name string, keep []string) error {
	ref, ok := doc.Components.Schemas[name]
	if !ok || ref.Value == nil {
		return fmt.Errorf("oascheck: document has no schema %s", name)
	}
	old := ref.Value
	props := openapi3.Schemas{}
	var required []string
	for _, k := range keep {
		p, ok := old.Properties[k]
		if !ok {
			return fmt.Errorf("oascheck: schema %s has no property %s", name, k)
		}
		props[k] = p
		for _, r := range old.Required {
			if r == k {
				required = append(required, k)
			}
		}
	}
	yes := true
	*old = openapi3.Schema{
		Type:                 old.Type,
		Properties:           props,
		Required:             required,
		AdditionalProperties: openapi3.AdditionalProperties{Has: &yes},
		Description:          old.Description,
	}
	return nil
}

// Result is the outcome of checking one answer.
type Result struct {
	Method    string // request method
	Path      string // request path as sent, with its version prefix
	Status    int
	Dialect   string // "typed", "legacy" or "" (no version prefix)
	Operation string // "GET /connections/{id}", "" when none matched
	Err       error  // the answer does not match the document
	Skipped   string // why the answer was not validated; "" when it was
	Body      []byte // the answer's body
}

// Validated reports whether the answer was checked and passed.
func (r Result) Validated() bool { return r.Err == nil && r.Skipped == "" }

// String describes the result in one line.
func (r Result) String() string {
	s := fmt.Sprintf("%s %s -> %d", r.Method, r.Path, r.Status)
	if r.Operation != "" {
		s += fmt.Sprintf(" [%s, %s]", r.Operation, r.Dialect)
	}
	switch {
	case r.Err != nil:
		s += ": INVALID: " + r.Err.Error()
	case r.Skipped != "":
		s += ": skipped: " + r.Skipped
	default:
		s += ": valid"
	}
	return s
}

// Check validates one answer to req (whose body, if any, has been read).
func (v *Validator) Check(req *http.Request, status int, header http.Header, body []byte) Result {
	res := Result{Method: req.Method, Path: req.URL.Path, Status: status, Body: body}
	if status == http.StatusSwitchingProtocols {
		res.Skipped = "protocol switch (WebSocket)"
		return res
	}
	date, rest, ok := splitVersion(req.URL.Path)
	if !ok {
		res.Skipped = "no /YYYY-MM-DD/ version prefix"
		return res
	}
	sp := v.strict
	res.Dialect = "typed"
	if date.Before(typedSince) {
		sp, res.Dialect = v.legacy, "legacy"
	}
	tmpl, params, found := sp.match(rest)
	if !found {
		res.Skipped = "no path in the 2025-07-01 document"
		return res
	}
	item := sp.doc.Paths.Value(tmpl)
	op := item.GetOperation(req.Method)
	if op == nil {
		res.Skipped = fmt.Sprintf("no %s operation at %s in the document", req.Method, tmpl)
		return res
	}
	res.Operation = req.Method + " " + tmpl
	if op.Responses.Status(status) == nil && op.Responses.Default() == nil {
		res.Skipped = fmt.Sprintf("status %d is not documented for the operation", status)
		return res
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		res.Skipped = fmt.Sprintf("not a JSON answer (Content-Type %q)", ct)
		return res
	}
	inner := req.Clone(context.Background())
	u := *req.URL
	u.Path, u.RawPath = rest, ""
	inner.URL = &u
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    inner,
			PathParams: params,
			Route: &routers.Route{Spec: sp.doc, Path: tmpl, PathItem: item,
				Method: req.Method, Operation: op},
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  status,
		Header:  header,
		Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		res.Err = describe(err)
	}
	return res
}

// match finds the document path for an unversioned request path; literal
// segments win over parameters (/connections/count over /connections/{id}).
func (s *spec) match(path string) (string, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	best, bestScore := -1, -1
	var bestParams map[string]string
	for i, t := range s.templates {
		if len(t) != len(segs) {
			continue
		}
		score, params := 0, map[string]string{}
		ok := true
		for j, part := range t {
			if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
				v, err := url.PathUnescape(segs[j])
				if err != nil || v == "" {
					ok = false
					break
				}
				params[part[1:len(part)-1]] = v
				continue
			}
			if part != segs[j] {
				ok = false
				break
			}
			score++
		}
		if ok && score > bestScore {
			best, bestScore, bestParams = i, score, params
		}
	}
	if best < 0 {
		return "", nil, false
	}
	return s.paths[best], bestParams, true
}

// splitVersion splits "/2024-09-01/events" into its date and "/events".
func splitVersion(p string) (time.Time, string, bool) {
	seg, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	d, err := time.Parse("2006-01-02", seg)
	if err != nil {
		return time.Time{}, "", false
	}
	return d, "/" + rest, true
}

// Recorder collects the results of the answers it is shown.
type Recorder struct {
	v  *Validator
	mu sync.Mutex
	rs []Result
}

// NewRecorder returns a Recorder checking with v.
func NewRecorder(v *Validator) *Recorder { return &Recorder{v: v} }

// Observe checks one answer and records the result.
func (rec *Recorder) Observe(req *http.Request, status int, header http.Header, body []byte) Result {
	r := rec.v.Check(req, status, header, body)
	rec.mu.Lock()
	rec.rs = append(rec.rs, r)
	rec.mu.Unlock()
	return r
}

// Results returns the results recorded so far.
func (rec *Recorder) Results() []Result {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]Result(nil), rec.rs...)
}

// Transport is an http.RoundTripper that passes requests to Base (or
// http.DefaultTransport) and records every answer with Rec.
type Transport struct {
	Base http.RoundTripper
	Rec  *Recorder
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("oascheck: read answer of %s %s: %w", req.Method, req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	t.Rec.Observe(req, resp.StatusCode, resp.Header, body)
	return resp, nil
}
