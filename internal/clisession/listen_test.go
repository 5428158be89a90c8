package clisession_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/clisession"
	"github.com/sluice-gw/sluice/internal/server"
)

// startServer runs the real gateway (internal/server) on loopback.
func startServer(t *testing.T) *gateway {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{
		DataDir: t.TempDir(), IngestAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", APIKey: testKey,
		DeliveryTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop")
		}
	})
	return &gateway{t: t, apiURL: srv.APIURL(), ingestURL: srv.IngestURL()}
}

// localApp records the requests it gets and answers 200 "thanks".
type localApp struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []localRequest
}

type localRequest struct {
	path, body string
	header     http.Header
}

func newLocalApp(t *testing.T) *localApp {
	a := &localApp{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.reqs = append(a.reqs, localRequest{path: r.URL.RequestURI(), body: string(b), header: r.Header.Clone()})
		a.mu.Unlock()
		_, _ = io.WriteString(w, "thanks")
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *localApp) requests() []localRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]localRequest(nil), a.reqs...)
}

// syncBuffer is listen's output, read while it writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runListen starts clisession.Listen and waits until it is connected; the
// returned function stops it and waits for it to return.
func runListen(t *testing.T, cfg clisession.ListenConfig) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	var once sync.Once
	cfg.Ready = func() { once.Do(func() { close(ready) }) }
	done := make(chan error, 1)
	go func() { done <- clisession.Listen(ctx, cfg) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("listen ended: %v", err)
	case <-time.After(15 * time.Second):
		cancel()
		t.Fatal("listen did not connect")
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("listen: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("listen did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}

func sourceURL(t *testing.T, g *gateway, name string) string {
	t.Helper()
	var out struct {
		Models []struct {
			URL string `json:"url"`
		} `json:"models"`
	}
	call(t, g.apiURL, "GET", "/sources?name="+name, nil, 200, &out)
	if len(out.Models) != 1 {
		t.Fatalf("source %s: %+v", name, out)
	}
	return out.Models[0].URL
}

// connectionOf returns the id of the source's connection named cli-<name>.
func connectionOf(t *testing.T, g *gateway, name string) string {
	t.Helper()
	var out struct {
		Models []struct {
			ID string `json:"id"`
		} `json:"models"`
	}
	call(t, g.apiURL, "GET", "/connections?name=cli-"+name, nil, 200, &out)
	if len(out.Models) != 1 {
		t.Fatalf("connection cli-%s: %+v", name, out)
	}
	return out.Models[0].ID
}

func waitRequests(t *testing.T, app *localApp, n int) []localRequest {
	t.Helper()
	waitFor(t, "the local app to get its requests", func() bool { return len(app.requests()) >= n })
	return app.requests()
}

// TestListenForwardsTwoSourcesWithAFilter runs `sluice listen` against the
// real gateway: two sources (created by listen), a path, and a body filter
// that keeps one event away from the local app.
func TestListenForwardsTwoSourcesWithAFilter(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	app := newLocalApp(t)
	out := &syncBuffer{}
	runListen(t, clisession.ListenConfig{
		APIURL: g.apiURL, APIKey: testKey, Target: app.URL, Sources: []string{"shop", "billing"},
		Path: "/hooks", Filters: clisession.Filters{Body: json.RawMessage(`{"ok":true}`)}, Out: out,
	})
	shop, billing := sourceURL(t, g, "shop"), sourceURL(t, g, "billing")
	for _, want := range []string{"Send webhooks to:", shop, billing, "cli-shop", "cli-billing", `{"ok":true}`} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("header lacks %q:\n%s", want, out)
		}
	}

	send(t, shop, "/orders", `{"ok":false,"n":0}`, nil)
	send(t, shop, "/orders", `{"ok":true,"n":1}`, map[string]string{"X-Topic": "orders/create"})
	send(t, billing, "", `{"ok":true,"n":2}`, nil)
	reqs := waitRequests(t, app, 2)
	byBody := map[string]localRequest{}
	for _, r := range reqs {
		byBody[r.body] = r
	}
	if r, ok := byBody[`{"ok":true,"n":1}`]; !ok || r.path != "/hooks/orders" || r.header.Get("X-Topic") != "orders/create" || r.header.Get("X-Hookdeck-Eventid") == "" {
		t.Fatalf("shop request: %+v (all: %+v)", r, reqs)
	}
	if r, ok := byBody[`{"ok":true,"n":2}`]; !ok || r.path != "/hooks" {
		t.Fatalf("billing request: %+v", r)
	}

	shopConn := connectionOf(t, g, "shop")
	evs := g.waitEvents(shopConn, "one filtered and one delivered event", func(evs []event) bool {
		return len(evs) == 2 && evs[0].Status == "FAILED" && evs[1].Status == "SUCCESSFUL"
	})
	if len(app.requests()) != 2 {
		t.Fatalf("the filtered event reached the app: %+v", app.requests())
	}
	atts := g.attempts(evs[1].ID)
	if len(atts) != 1 || atts[0].Body != "thanks" || atts[0].ResponseStatus == nil || *atts[0].ResponseStatus != 200 {
		t.Fatalf("attempts %+v", atts)
	}
	line := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[200\] POST ` + regexp.QuoteMeta(app.URL) + `/hooks/orders \(\S+\) → ` + evs[1].ID)
	waitFor(t, "the log line", func() bool { return line.MatchString(out.String()) })
}

// TestListenAppDown: the local app does not run; listen says so and the
// attempt fails with code CLI.
func TestListenAppDown(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	out := &syncBuffer{}
	runListen(t, clisession.ListenConfig{APIURL: g.apiURL, APIKey: testKey, Target: itoa(port), Sources: []string{"shop"}, Out: out})
	send(t, sourceURL(t, g, "shop"), "", `{}`, nil)
	evs := g.waitEvents(connectionOf(t, g, "shop"), "a failed event", statusIs(1, "FAILED"))
	if evs[0].ErrorCode != "CLI" {
		t.Fatalf("event %+v", evs[0])
	}
	waitFor(t, "the advice", func() bool { return strings.Contains(out.String(), "is your app running") })
	if !strings.Contains(out.String(), "[ERR] POST http://localhost:"+itoa(port)+"/") {
		t.Fatalf("output:\n%s", out)
	}
}

// TestListenRestartDeliversWhatArrivedMeanwhile: stopping listen and
// starting it again loses nothing.
func TestListenRestartDeliversWhatArrivedMeanwhile(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	app := newLocalApp(t)
	cfg := clisession.ListenConfig{APIURL: g.apiURL, APIKey: testKey, Target: app.URL, Sources: []string{"shop"}, Out: io.Discard}
	stop := runListen(t, cfg)
	shop := sourceURL(t, g, "shop")
	send(t, shop, "", `{"n":0}`, nil)
	waitRequests(t, app, 1)
	stop()

	conn := connectionOf(t, g, "shop")
	for _, b := range []string{`{"n":1}`, `{"n":2}`, `{"n":3}`} {
		send(t, shop, "", b, nil)
	}
	g.waitEvents(conn, "undelivered events", func(evs []event) bool {
		n := 0
		for _, e := range evs {
			if e.ErrorCode == "CLI_UNAVAILABLE" {
				n++
			}
		}
		return n == 3
	})
	runListen(t, cfg)
	reqs := waitRequests(t, app, 4)
	g.waitEvents(conn, "every event delivered", statusIs(4, "SUCCESSFUL"))
	if len(reqs) != 4 {
		t.Fatalf("requests %+v", reqs)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
