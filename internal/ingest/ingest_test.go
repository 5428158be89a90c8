package ingest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/store/sqlitestore"
)

type bundle struct {
	st      *sqlitestore.Store
	srv     *httptest.Server
	team    model.Team
	woken   chan struct{}
	sources map[string]model.Source
}

func setup(t testing.TB) *bundle {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "sluice.db"), sqlitestore.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	team, err := st.EnsureDefaultTeam(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{st: st, team: team, woken: make(chan struct{}, 100), sources: map[string]model.Source{}}
	now := time.Now().UTC()
	add := func(name string, cfg model.SourceConfig, disabled bool, connected bool) {
		s := model.Source{ID: model.NewID(model.PrefixSource), TeamID: team.ID, Name: name, Type: "WEBHOOK", Config: cfg, CreatedAt: now, UpdatedAt: now}
		if disabled {
			s.DisabledAt = &now
		}
		if err := st.CreateSource(ctx, &s); err != nil {
			t.Fatal(err)
		}
		if connected {
			d := model.Destination{ID: model.NewID(model.PrefixDestination), TeamID: team.ID, Name: "d-" + name, Type: model.DestinationMockAPI, CreatedAt: now, UpdatedAt: now}
			if err := st.CreateDestination(ctx, &d); err != nil {
				t.Fatal(err)
			}
			c := model.Connection{ID: model.NewID(model.PrefixConnection), TeamID: team.ID, Name: "c-" + name, SourceID: s.ID, DestinationID: d.ID, CreatedAt: now, UpdatedAt: now}
			if err := st.CreateConnection(ctx, &c); err != nil {
				t.Fatal(err)
			}
		}
		b.sources[name] = s
	}
	add("open", model.SourceConfig{}, false, true)
	add("keyed", model.SourceConfig{AuthType: "API_KEY", Auth: map[string]string{"header_key": "X-Key", "api_key": "k1"}}, false, true)
	add("off", model.SourceConfig{}, true, true)
	add("lonely", model.SourceConfig{}, false, false)
	add("getter", model.SourceConfig{AllowedHTTPMethods: []string{"GET"}, CustomResponse: &model.CustomResponse{ContentType: "text", Body: "thanks"}}, false, true)
	h := New(st, Config{TeamID: team.ID, MaxBodyBytes: 1024, Logger: quiet, OnAccepted: func() { b.woken <- struct{}{} }})
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	return b
}

func TestIngest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := func(name string) string { return strings.TrimPrefix(b.sources[name].ID, model.PrefixSource) }
	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		body       string
		wantStatus int
		wantCause  string // "" accepted; "-" not recorded at all
		wantBody   string // substring of the answer
	}{
		{"accepted by short id", "POST", "/" + id("open") + "/orders?x=1", nil, `{"a":1}`, 200, "", `"status":"SUCCESS"`},
		{"accepted by full id", "POST", "/" + b.sources["open"].ID, nil, `{}`, 200, "", "Request successfully handled"},
		{"unknown source", "POST", "/src_nope", nil, `{}`, 404, "-", "no source"},
		{"no source id", "POST", "/", nil, `{}`, 404, "-", "NOT_FOUND"},
		{"disabled source", "POST", "/" + id("off"), nil, `{}`, 404, model.RejectSourceDisabled, "disabled"},
		{"method not allowed", "GET", "/" + id("open"), nil, "", 405, model.RejectUnsupportedMethod, "not allowed"},
		{"too large", "POST", "/" + id("open"), nil, strings.Repeat("x", 2000), 413, model.RejectPayloadTooLarge, "limit"},
		{"verification failed", "POST", "/" + id("keyed"), map[string]string{"X-Key": "wrong"}, `{}`, 401, model.RejectVerificationFailed, "API key"},
		{"verified", "POST", "/" + id("keyed"), map[string]string{"X-Key": "k1"}, `{}`, 200, "", "SUCCESS"},
		{"no connection", "POST", "/" + id("lonely"), nil, `{}`, 200, model.RejectNoConnection, "SUCCESS"},
		{"custom response", "GET", "/" + id("getter"), nil, "", 200, "", "thanks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, b.srv.URL+tt.path, strings.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(raw), tt.wantBody) {
				t.Fatalf("answer %d %s, want %d containing %q", resp.StatusCode, raw, tt.wantStatus, tt.wantBody)
			}
			if tt.wantCause == "-" {
				return
			}
			var ack struct {
				RequestID string `json:"request_id"`
			}
			_ = json.Unmarshal(raw, &ack)
			if ack.RequestID == "" {
				// A custom response carries no id: find the newest request.
				rs, err := b.st.ListRequests(context.Background(), store.RequestFilter{TeamID: b.team.ID, Page: store.Page{Limit: 1}})
				if err != nil || len(rs) == 0 {
					t.Fatalf("no request recorded: %v", err)
				}
				ack.RequestID = rs[0].ID
			}
			r, err := b.st.GetRequest(context.Background(), b.team.ID, ack.RequestID, true)
			if err != nil {
				t.Fatalf("answered request %s was not recorded: %v", ack.RequestID, err)
			}
			if r.RejectionCause != tt.wantCause {
				t.Fatalf("rejection_cause = %q, want %q", r.RejectionCause, tt.wantCause)
			}
			if tt.wantCause == "" && tt.method == "POST" && string(r.Data.Body) != tt.body {
				t.Fatalf("stored body %q, want %q", r.Data.Body, tt.body)
			}
		})
	}
}

// A store that cannot commit makes ingest answer 503, never 2xx.
func TestStoreDownAnswers503(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.st.Close()
	resp, err := http.Post(b.srv.URL+"/"+b.sources["open"].ID, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("answer %d with the store closed, want 503", resp.StatusCode)
	}
}

// The source cache never hides a connection created a moment ago, and a
// change to a cached source applies within the cache's lifetime.
func TestSourceCacheFreshness(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	post := func(name string) (int, string) {
		resp, err := http.Post(b.srv.URL+"/"+b.sources[name].ID, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ack struct {
			RequestID string `json:"request_id"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&ack)
		return resp.StatusCode, ack.RequestID
	}
	// lonely has no connection: NO_CONNECTION. Connect it, and the very
	// next request is accepted.
	if _, id := post("lonely"); mustRequest(t, b, id).RejectionCause != model.RejectNoConnection {
		t.Fatal("first request to a source without connections was not NO_CONNECTION")
	}
	now := time.Now().UTC()
	d := model.Destination{ID: model.NewID(model.PrefixDestination), TeamID: b.team.ID, Name: "late", Type: model.DestinationMockAPI, CreatedAt: now, UpdatedAt: now}
	c := model.Connection{ID: model.NewID(model.PrefixConnection), TeamID: b.team.ID, Name: "late", SourceID: b.sources["lonely"].ID, DestinationID: d.ID, CreatedAt: now, UpdatedAt: now}
	if err := b.st.CreateDestination(ctx, &d); err != nil {
		t.Fatal(err)
	}
	if err := b.st.CreateConnection(ctx, &c); err != nil {
		t.Fatal(err)
	}
	if _, id := post("lonely"); mustRequest(t, b, id).RejectionCause != "" {
		t.Fatal("a request right after the first connection was created was not accepted")
	}
	// Disable the (now cached) open source: within the cache's lifetime
	// ingest answers 404.
	post("open")
	src := b.sources["open"]
	src.DisabledAt = &now
	if err := b.st.UpdateSource(ctx, &src); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(sourceCacheTTL + 2*time.Second)
	for {
		status, _ := post("open")
		if status == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a disabled source still answered %d after %v", status, sourceCacheTTL+2*time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustRequest(t *testing.T, b *bundle, id string) model.Request {
	t.Helper()
	r, err := b.st.GetRequest(context.Background(), b.team.ID, id, false)
	if err != nil {
		t.Fatalf("request %q: %v", id, err)
	}
	return r
}

// The default acknowledgement, written by hand, is Hookdeck's JSON.
func TestAcknowledgementIsHookdecksJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	id := model.NewID(model.PrefixRequest)
	writeAcknowledgement(rec, nil, id)
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, rec.Body)
	}
	want := map[string]string{"status": "SUCCESS", "message": "Request successfully handled. Request ID: " + id, "request_id": id}
	if !maps.Equal(got, want) || rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q %v, want 200 application/json %v", rec.Code, rec.Header().Get("Content-Type"), got, want)
	}
}
