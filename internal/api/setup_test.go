package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/store/sqlitestore"
)

const (
	testKey       = "sk_test_0123456789"
	testPublicURL = "http://127.0.0.1:3333"
	legacyV       = "/2023-07-01"
	typedV        = "/2025-07-01"
)

// bundle is what a test gets from setup.
type bundle struct {
	t     *testing.T
	ctx   context.Context
	srv   *httptest.Server
	store store.Store
	team  model.Team
	woken atomic.Int32
}

// openStore opens the real SQLite store in the test's temporary directory.
func openStore(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "sluice.db"), sqlitestore.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// setup starts the API over a fresh store on a real HTTP server.
func setup(t *testing.T) *bundle {
	t.Helper()
	st := openStore(t)
	ctx := context.Background()
	team, err := st.EnsureDefaultTeam(ctx)
	if err != nil {
		t.Fatalf("default team: %v", err)
	}
	b := &bundle{t: t, ctx: ctx, store: st, team: team}
	h, err := New(Config{
		Store: st, Team: team, APIKey: testKey, PublicURL: testPublicURL,
		Events: &storeRetrier{st: st}, Requests: &requestRetrier{st: st},
		Waker:  func() { b.woken.Add(1) },
		Logger: slog.New(slog.NewTextHandler(tWriter{t}, nil)),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	return b
}

// tWriter sends logs to t.Log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// response is a decoded answer.
type response struct {
	status int
	raw    []byte
	body   map[string]any
}

// call sends a request with the API key as a bearer token.
func (b *bundle) call(method, path, body string) response {
	b.t.Helper()
	return b.callAuth(method, path, body, "Bearer "+testKey)
}

// callAuth sends a request with the given Authorization header.
func (b *bundle) callAuth(method, path, body, auth string) response {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewBufferString(body)
	}
	req, err := http.NewRequestWithContext(b.ctx, method, b.srv.URL+path, rd)
	if err != nil {
		b.t.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, raw: raw}
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		b.t.Fatalf("%s %s: content type %q, body %s", method, path, ct, raw)
	}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// must sends a request and fails unless it answers want.
func (b *bundle) must(want int, method, path, body string) map[string]any {
	b.t.Helper()
	res := b.call(method, path, body)
	if res.status != want {
		b.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, res.status, want, res.raw)
	}
	return res.body
}

// basic returns a Basic Authorization header value for user:pass.
func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// get walks a decoded JSON value by keys and indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// str is get as a string ("" when absent or not a string).
func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

// models returns the ids of a list answer's models.
func models(t *testing.T, body map[string]any) []string {
	t.Helper()
	ms, ok := body["models"].([]any)
	if !ok {
		t.Fatalf("no models in %v", body)
	}
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, str(m, "id"))
	}
	return ids
}

// storeRetrier is a manual event retrier over the store: it records a
// successful MANUAL attempt.
type storeRetrier struct{ st store.Store }

func (r *storeRetrier) RetryEvent(ctx context.Context, teamID, eventID string) (model.Event, model.Attempt, error) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	ev, err := r.st.ClaimEvent(ctx, teamID, eventID, store.Claim{Owner: "test", Limit: 1, Lease: time.Minute, Now: now})
	if err != nil {
		return model.Event{}, model.Attempt{}, err
	}
	status := 200
	a := model.Attempt{
		ID: model.NewID(model.PrefixAttempt), TeamID: teamID, EventID: ev.ID, DestinationID: ev.DestinationID,
		AttemptNumber: ev.Attempts + 1, Trigger: model.TriggerManual, Status: model.AttemptSuccessful,
		ResponseStatus: &status, Body: `{"ok":true}`, RequestedURL: "http://example.test/", HTTPMethod: "POST",
		SuccessfulAt: &now, DeliveredAt: &now, RespondedAt: &now, CreatedAt: now, UpdatedAt: now,
	}
	if err := r.st.RecordAttempt(ctx, store.AttemptOutcome{Owner: "test", Attempt: a, EventStatus: model.EventSuccessful}); err != nil {
		return model.Event{}, model.Attempt{}, err
	}
	ev, err = r.st.GetEvent(ctx, teamID, eventID, false)
	return ev, a, err
}

// requestRetrier routes a request again through the given connections
// (all of the source's when none are given).
type requestRetrier struct{ st store.Store }

func (r *requestRetrier) RetryRequest(ctx context.Context, req model.Request, connectionIDs []string) ([]model.Event, error) {
	if len(connectionIDs) == 0 {
		cs, err := r.st.ListConnections(ctx, store.ConnectionFilter{TeamID: req.TeamID, SourceIDs: []string{req.SourceID}})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			connectionIDs = append(connectionIDs, c.ID)
		}
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	out := store.RoutingOutcome{RequestID: req.ID, Rerun: true, RoutedAt: now}
	for _, id := range connectionIDs {
		c, err := r.st.GetConnection(ctx, req.TeamID, id)
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, newEvent(req, c, now))
	}
	if err := r.st.CompleteRouting(ctx, []store.RoutingOutcome{out}); err != nil {
		return nil, err
	}
	return out.Events, nil
}

// newEvent is a QUEUED event of the request through the connection.
func newEvent(req model.Request, c model.Connection, now time.Time) model.Event {
	return model.Event{
		ID: model.NewID(model.PrefixEvent), TeamID: req.TeamID, ConnectionID: c.ID, SourceID: c.SourceID,
		DestinationID: c.DestinationID, RequestID: req.ID, DataID: req.Data.ID, Status: model.EventQueued,
		NextTrigger: model.TriggerInitial, CreatedAt: now, UpdatedAt: now,
	}
}
