package clisession_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sluice-gw/sluice/internal/clisession"
)

func TestSessionsAndHandshake(t *testing.T) {
	t.Parallel()
	g := startGateway(t, 200*time.Millisecond)
	_, conn := g.cliConnection("shop", "/")
	id := g.session(nil, conn)

	tests := []struct {
		name       string
		session    string
		key        string
		header     http.Header
		wantStatus int // 0: the upgrade succeeds
		wantMsg    string
	}{
		{"known session", id, testKey, nil, 0, ""},
		{"unknown session", "cses_doesnotexist", testKey, nil, http.StatusNotFound, clisession.UnknownSessionMessage},
		{"no session id", "", testKey, nil, http.StatusNotFound, clisession.UnknownSessionMessage},
		{"wrong key", id, "sk_wrong", nil, http.StatusUnauthorized, ""},
		{"unknown session with unknown connections", "cses_forgotten0001", testKey,
			http.Header{clisession.HeaderWebhookIDs: {"web_nope"}}, http.StatusNotFound, clisession.UnknownSessionMessage},
		{"forgotten session recreated from its headers", "cses_forgotten0002", testKey,
			http.Header{clisession.HeaderWebhookIDs: {conn}}, 0, ""},
		{"bad session filters", "cses_forgotten0003", testKey, http.Header{clisession.HeaderWebhookIDs: {conn},
			clisession.HeaderSessionFilters: {base64.StdEncoding.EncodeToString([]byte(`{"body":{"$nope":1}}`))}}, http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, resp, err := g.dial(tt.session, tt.key, tt.header)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				if c.Subprotocol() != clisession.Subprotocol {
					t.Errorf("subprotocol %q", c.Subprotocol())
				}
				_ = c.Close(websocket.StatusNormalClosure, "")
				return
			}
			if err == nil {
				_ = c.CloseNow()
				t.Fatal("the handshake was accepted")
			}
			if resp == nil || resp.StatusCode != tt.wantStatus {
				t.Fatalf("dial err %v, response %+v; want status %d", err, resp, tt.wantStatus)
			}
			if tt.wantMsg != "" {
				var body struct {
					Error struct {
						Message string `json:"message"`
					} `json:"error"`
				}
				raw, _ := io.ReadAll(resp.Body)
				if json.Unmarshal(raw, &body); body.Error.Message != tt.wantMsg {
					t.Fatalf("refusal %s, want message %q", raw, tt.wantMsg)
				}
			}
		})
	}

	t.Run("session routes refuse bad input", func(t *testing.T) {
		call(t, g.apiURL, "POST", "/cli-sessions", map[string]any{"webhook_ids": []string{"web_nope"}}, 422, nil)
		call(t, g.apiURL, "POST", "/cli-sessions", map[string]any{"webhook_ids": []string{}}, 422, nil)
		call(t, g.apiURL, "POST", "/cli-sessions", map[string]any{"webhook_ids": []string{conn}, "filters": map[string]any{"body": map[string]any{"$gt": "x", "$bad": 1}}}, 422, nil)
	})
	t.Run("CLI auth routes", func(t *testing.T) {
		var ci map[string]any
		call(t, g.apiURL, "POST", "/cli-auth/ci", map[string]any{"device_name": "ci"}, 200, &ci)
		if ci["claimed"] != true || ci["key"] != testKey || ci["team_id"] == "" || ci["team_mode"] != "inbound" {
			t.Fatalf("ci answer %v", ci)
		}
		var who map[string]any
		call(t, g.apiURL, "GET", "/cli-auth/validate", nil, 200, &who)
		if who["team_id"] != ci["team_id"] {
			t.Fatalf("validate answer %v", who)
		}
		for _, p := range []string{"/teams", "/projects"} {
			var teams []map[string]any
			call(t, g.apiURL, "GET", p, nil, 200, &teams)
			if len(teams) != 1 || teams[0]["id"] != ci["team_id"] {
				t.Fatalf("%s answer %v", p, teams)
			}
		}
	})
}

func TestAttemptAnsweredIsRecorded(t *testing.T) {
	t.Parallel()
	g := startGateway(t, 200*time.Millisecond)
	src, conn := g.cliConnection("shop", "/webhooks")
	c := g.mustDial(g.session(nil, conn))

	send(t, src, "/orders?x=1", `{"id":1}`, map[string]string{"X-Shop-Topic": "orders/create"})
	a := readAttempt(t, c)
	if a.CLIPath != "/webhooks/orders?x=1" || a.WebhookID != conn || a.Request.Method != "POST" ||
		a.Request.DataString != `{"id":1}` || a.Request.Timeout != 5000 || a.EventID == "" {
		t.Fatalf("attempt frame %+v", a)
	}
	if a.Request.Headers["x-shop-topic"] != "orders/create" || a.Request.Headers["x-hookdeck-eventid"] != a.EventID {
		t.Fatalf("attempt headers %v", a.Request.Headers)
	}
	reply(t, c, clisession.AttemptResponseBody{AttemptID: a.AttemptID, CLIPath: a.CLIPath, Status: 201, Data: `{"ok":true}`})

	evs := g.waitEvents(conn, "a successful event", statusIs(1, "SUCCESSFUL"))
	atts := g.attempts(evs[0].ID)
	if len(atts) != 1 {
		t.Fatalf("attempts %+v", atts)
	}
	got := atts[0]
	body, _ := json.Marshal(got.Body)
	if got.ID != a.AttemptID || got.Status != "SUCCESSFUL" || got.ResponseStatus == nil || *got.ResponseStatus != 201 ||
		string(body) != `{"ok":true}` || got.ResponseLatency == nil || got.RequestedURL != "/webhooks/orders?x=1" {
		t.Fatalf("attempt %+v body %s", got, body)
	}
}

func TestAttemptErrorFailsWithCodeCLI(t *testing.T) {
	t.Parallel()
	g := startGateway(t, 200*time.Millisecond)
	src, conn := g.cliConnection("shop", "/")
	c := g.mustDial(g.session(nil, conn))
	send(t, src, "", `{}`, nil)
	a := readAttempt(t, c)
	reply(t, c, clisession.AttemptResponseBody{AttemptID: a.AttemptID, Error: true})
	evs := g.waitEvents(conn, "a failed event", statusIs(1, "FAILED"))
	if evs[0].ErrorCode != "CLI" {
		t.Fatalf("event %+v, want error code CLI", evs[0])
	}
	if atts := g.attempts(evs[0].ID); len(atts) != 1 || atts[0].Status != "FAILED" || atts[0].ErrorCode != "CLI" || atts[0].ResponseStatus != nil {
		t.Fatalf("attempts %+v", atts)
	}
}

func TestNoSessionFailsWithCLIUnavailable(t *testing.T) {
	t.Parallel()
	g := startGateway(t, 200*time.Millisecond)
	src, conn := g.cliConnection("shop", "/")
	send(t, src, "", `{}`, nil)
	evs := g.waitEvents(conn, "a failed event", statusIs(1, "FAILED"))
	if evs[0].ErrorCode != "CLI_UNAVAILABLE" {
		t.Fatalf("event %+v", evs[0])
	}
}

func TestSessionFiltersTurnEventsAway(t *testing.T) {
	t.Parallel()
	g := startGateway(t, 200*time.Millisecond)
	src, conn := g.cliConnection("shop", "/")
	c := g.mustDial(g.session(map[string]any{"body": map[string]any{"type": "a"}}, conn))
	send(t, src, "", `{"type":"b"}`, nil)
	send(t, src, "", `{"type":"a"}`, nil)
	a := readAttempt(t, c)
	if a.Request.DataString != `{"type":"a"}` {
		t.Fatalf("forwarded %s, want only the matching event", a.Request.DataString)
	}
	reply(t, c, clisession.AttemptResponseBody{AttemptID: a.AttemptID, Status: 200})
	evs := g.waitEvents(conn, "one delivered and one filtered event", func(evs []event) bool {
		return len(evs) == 2 && evs[0].Status == "FAILED" && evs[1].Status == "SUCCESSFUL"
	})
	if evs[0].ErrorCode != "CANCELLED" {
		t.Fatalf("filtered event %+v", evs[0])
	}
}

// TestReconnectResumesQueuedEvents kills the client, sends webhooks while
// nobody listens (they fail with CLI_UNAVAILABLE once the grace is over),
// and reconnects with the same session id: every event is delivered.
func TestReconnectResumesQueuedEvents(t *testing.T) {
	t.Parallel()
	g := startGateway(t, 100*time.Millisecond)
	src, conn := g.cliConnection("shop", "/")
	id := g.session(nil, conn)
	first := g.mustDial(id)
	send(t, src, "", `{"n":0}`, nil)
	a := readAttempt(t, first)
	reply(t, first, clisession.AttemptResponseBody{AttemptID: a.AttemptID, Status: 200})
	g.waitEvents(conn, "the first delivery", statusIs(1, "SUCCESSFUL"))
	_ = first.CloseNow()

	for i := 1; i <= 3; i++ {
		send(t, src, "", `{"n":`+string(rune('0'+i))+`}`, nil)
	}
	g.waitEvents(conn, "three undeliverable events", func(evs []event) bool {
		n := 0
		for _, e := range evs {
			if e.Status == "FAILED" && e.ErrorCode == "CLI_UNAVAILABLE" {
				n++
			}
		}
		return n == 3
	})

	second := g.mustDial(id)
	seen := map[string]bool{}
	for range 3 {
		a := readAttempt(t, second)
		seen[a.Request.DataString] = true
		reply(t, second, clisession.AttemptResponseBody{AttemptID: a.AttemptID, Status: 200, Data: "ok"})
	}
	if len(seen) != 3 {
		t.Fatalf("redelivered %v", seen)
	}
	evs := g.waitEvents(conn, "every event delivered", statusIs(4, "SUCCESSFUL"))
	for _, e := range evs[1:] {
		atts := g.attempts(e.ID)
		if len(atts) != 2 || atts[0].ErrorCode != "CLI_UNAVAILABLE" || atts[1].Status != "SUCCESSFUL" || atts[1].Trigger != "AUTOMATIC" {
			t.Fatalf("attempts of %s: %+v", e.ID, atts)
		}
	}
}

// TestReconnectWithinGraceKeepsTheAttempt: the CLI resets its connection
// every minute; an attempt that arrives meanwhile waits for it.
func TestReconnectWithinGraceKeepsTheAttempt(t *testing.T) {
	t.Parallel()
	g := startGateway(t, 3*time.Second)
	src, conn := g.cliConnection("shop", "/")
	id := g.session(nil, conn)
	first := g.mustDial(id)
	_ = first.CloseNow()
	waitFor(t, "the hub to see the disconnection", func() bool { return !g.hub.Listening(teamOf(t, g), conn) })
	send(t, src, "", `{}`, nil)
	second := g.mustDial(id)
	a := readAttempt(t, second)
	reply(t, second, clisession.AttemptResponseBody{AttemptID: a.AttemptID, Status: 204})
	evs := g.waitEvents(conn, "a delivered event", statusIs(1, "SUCCESSFUL"))
	if atts := g.attempts(evs[0].ID); len(atts) != 1 {
		t.Fatalf("attempts %+v, want one", atts)
	}
}

// TestAnswerOnANewConnection: the CLI resends an answer on its new
// connection when the old one dropped before the answer went out.
func TestAnswerOnANewConnection(t *testing.T) {
	t.Parallel()
	g := startGateway(t, 3*time.Second)
	src, conn := g.cliConnection("shop", "/")
	id := g.session(nil, conn)
	first := g.mustDial(id)
	send(t, src, "", `{}`, nil)
	a := readAttempt(t, first)
	_ = first.CloseNow()
	second := g.mustDial(id)
	reply(t, second, clisession.AttemptResponseBody{AttemptID: a.AttemptID, Status: 200})
	g.waitEvents(conn, "a delivered event", statusIs(1, "SUCCESSFUL"))
}

func teamOf(t *testing.T, g *gateway) string {
	var ci map[string]any
	call(t, g.apiURL, "GET", "/cli-auth/validate", nil, 200, &ci)
	return ci["team_id"].(string)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !ok() {
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
