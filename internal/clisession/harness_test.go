package clisession_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sluice-gw/sluice/internal/api"
	"github.com/sluice-gw/sluice/internal/clisession"
	"github.com/sluice-gw/sluice/internal/dispatch"
	"github.com/sluice-gw/sluice/internal/ingest"
	"github.com/sluice-gw/sluice/internal/router"
	"github.com/sluice-gw/sluice/internal/store/sqlitestore"
)

const testKey = "sk_test_cli_0123456789"

// gateway is the pipeline assembled as internal/server does, with a short
// grace so that tests of disconnections stay fast, served on loopback.
type gateway struct {
	t         *testing.T
	apiURL    string // http://127.0.0.1:port (API and /ws)
	ingestURL string
	hub       *clisession.Hub
}

func startGateway(t *testing.T, grace time.Duration) *gateway {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "sluice.db"), sqlitestore.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	team, err := st.EnsureDefaultTeam(ctx)
	if err != nil {
		t.Fatalf("default team: %v", err)
	}
	log := slog.New(slog.DiscardHandler)
	ingestLn := listen(t)
	apiLn := listen(t)
	ingestURL := "http://" + ingestLn.Addr().String()

	var d *dispatch.Dispatcher
	hub := clisession.New(clisession.Config{
		TeamID: team.ID, APIKey: testKey, Store: st, Grace: grace, Logger: log,
		Resume: func(ctx context.Context, teamID string, ids []string) (int, error) {
			return d.ResumeCLI(ctx, teamID, ids)
		},
	})
	d = dispatch.New(st, dispatch.Config{Owner: "test", Workers: 8, Timeout: 5 * time.Second, PollInterval: 50 * time.Millisecond,
		SigningSecret: team.SigningSecret, CLI: hub, OnAttempt: hub.ObserveAttempt, Logger: log})
	r := router.New(st, router.Config{Owner: "test", OnRouted: d.WakeAt, PollInterval: 50 * time.Millisecond, Logger: log})
	ing := ingest.New(st, ingest.Config{TeamID: team.ID, PublicURL: ingestURL, OnAccepted: r.Wake, Logger: log})
	apiH, err := api.New(api.Config{Store: st, Team: team, APIKey: testKey, PublicURL: ingestURL,
		Events: d, Requests: r, Waker: d.Wake, CLISessions: hub, Logger: log})
	if err != nil {
		t.Fatalf("api: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", hub)
	mux.Handle("/", apiH)
	ingestSrv := &http.Server{Handler: ing}
	apiSrv := &http.Server{Handler: mux}
	go func() { _ = ingestSrv.Serve(ingestLn) }()
	go func() { _ = apiSrv.Serve(apiLn) }()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = ingestSrv.Close()
		_ = apiSrv.Close()
		hub.Close()
		cancel()
		r.Stop()
		d.Stop()
		_ = st.Close()
	})
	return &gateway{t: t, apiURL: "http://" + apiLn.Addr().String(), ingestURL: ingestURL, hub: hub}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// call makes an API call and decodes the answer; it fails the test on a
// status other than want.
func call(t *testing.T, apiURL, method, path string, in any, want int, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, apiURL+"/2025-07-01"+path, body)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// cliConnection creates a source and a connection to a CLI destination
// with the path; it returns the source URL and the connection id.
func (g *gateway) cliConnection(name, path string) (sourceURL, connID string) {
	var c struct {
		ID     string `json:"id"`
		Source struct {
			URL string `json:"url"`
		} `json:"source"`
	}
	call(g.t, g.apiURL, "POST", "/connections", map[string]any{
		"name":        name,
		"source":      map[string]any{"name": name},
		"destination": map[string]any{"name": "cli-" + name, "type": "CLI", "config": map[string]any{"path": path}},
	}, 200, &c)
	return c.Source.URL, c.ID
}

// session opens a session for the connections.
func (g *gateway) session(filters any, connIDs ...string) string {
	in := map[string]any{"webhook_ids": connIDs}
	if filters != nil {
		in["filters"] = filters
	}
	var out struct {
		ID string `json:"id"`
	}
	call(g.t, g.apiURL, "POST", "/cli-sessions", in, 200, &out)
	if !strings.HasPrefix(out.ID, clisession.SessionPrefix) {
		g.t.Fatalf("session id %q", out.ID)
	}
	return out.ID
}

// dial connects to /ws as the Hookdeck CLI does.
func (g *gateway) dial(sessionID, key string, extra http.Header) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	for k, v := range extra {
		h[k] = v
	}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(key+":")))
	h.Set(clisession.HeaderSessionID, sessionID)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(g.apiURL, "http")+"/ws", &websocket.DialOptions{
		HTTPHeader: h, Subprotocols: []string{clisession.Subprotocol}})
}

// mustDial connects and fails the test on error.
func (g *gateway) mustDial(sessionID string) *websocket.Conn {
	g.t.Helper()
	c, _, err := g.dial(sessionID, testKey, nil)
	if err != nil {
		g.t.Fatalf("dial: %v", err)
	}
	g.t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// readAttempt reads the next attempt frame.
func readAttempt(t *testing.T, c *websocket.Conn) clisession.AttemptBody {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read attempt: %v", err)
		}
		var f clisession.Frame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("frame %s: %v", data, err)
		}
		if f.Event != clisession.EventAttempt {
			continue
		}
		var a clisession.AttemptBody
		if err := json.Unmarshal(f.Body, &a); err != nil {
			t.Fatalf("attempt %s: %v", f.Body, err)
		}
		return a
	}
}

// reply sends an attempt_response frame.
func reply(t *testing.T, c *websocket.Conn, b clisession.AttemptResponseBody) {
	t.Helper()
	body, _ := json.Marshal(b)
	msg, _ := json.Marshal(clisession.Frame{Event: clisession.EventAttemptResponse, Body: body})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
		t.Fatalf("write answer: %v", err)
	}
}

// send posts a webhook to a source URL with a path suffix.
func send(t *testing.T, sourceURL, path, body string, headers map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("POST", sourceURL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("send webhook: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("send webhook: status %d", resp.StatusCode)
	}
}

// event and attempt are the fields the tests read.
type event struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
	ErrorCode string `json:"error_code"`
	WebhookID string `json:"webhook_id"`
}

type attempt struct {
	ID              string `json:"id"`
	Status          string `json:"status"`
	ResponseStatus  *int   `json:"response_status"`
	ErrorCode       string `json:"error_code"`
	Body            any    `json:"body"`
	Trigger         string `json:"trigger"`
	RequestedURL    string `json:"requested_url"`
	ResponseLatency *int   `json:"response_latency"`
}

// waitEvents polls the connection's events until ok accepts them.
func (g *gateway) waitEvents(connID string, what string, ok func([]event) bool) []event {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var out struct {
			Models []event `json:"models"`
		}
		call(g.t, g.apiURL, "GET", "/events?webhook_id="+url.QueryEscape(connID)+"&dir=asc", nil, 200, &out)
		if ok(out.Models) {
			return out.Models
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("timed out waiting for %s; events: %+v", what, out.Models)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// attempts lists an event's attempts, oldest first.
func (g *gateway) attempts(eventID string) []attempt {
	var out struct {
		Models []attempt `json:"models"`
	}
	call(g.t, g.apiURL, "GET", "/attempts?event_id="+eventID+"&dir=asc", nil, 200, &out)
	return out.Models
}

func statusIs(n int, status string) func([]event) bool {
	return func(evs []event) bool {
		if len(evs) != n {
			return false
		}
		for _, e := range evs {
			if e.Status != status {
				return false
			}
		}
		return true
	}
}
