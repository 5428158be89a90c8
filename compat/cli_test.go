package compat

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/compat/oascheck"
)

// TestHookdeckCLI drives the Hookdeck CLI 2.5.0 and 2.6.0 (from npm)
// against sluice through a recording proxy: ci, gateway connection
// upsert/list/get/pause/unpause, gateway event list/retry. Every JSON
// answer the CLI gets must match the 2025-07-01 document (validated
// strictly: both versions speak the typed dialect).
func TestHookdeckCLI(t *testing.T) {
	v := openAPI(t)
	for _, cv := range cliVersions {
		t.Run(cv.version, func(t *testing.T) {
			t.Parallel()
			bin := cliBinary(t, cv.version)
			forEachBackend(t, func(t *testing.T, b backend) {
				g := start(t, b)
				rec, proxyURL := recordingProxy(t, g, v)
				c := newCLI(t, bin, proxyURL, wsBase(g))
				login(t, c)
				runCLIGateway(t, c, g)
				requireDialect(t, rec, cv.api)
				requireValid(t, rec)
			})
		})
	}
}

// wsBase is the WebSocket URL of the CLI sessions on the gateway.
func wsBase(g *gateway) string {
	return "ws" + strings.TrimPrefix(g.apiURL, "http") + "/ws"
}

// login runs `hookdeck ci --api-key` (POST /{v}/cli-auth/ci) and
// `hookdeck whoami` (GET /{v}/cli-auth/validate).
func login(t *testing.T, c *cli) {
	c.must("ci", "--api-key", apiKey)
	if out := c.must("whoami"); !strings.Contains(out, "Logged in as") {
		t.Errorf("whoami after ci = %q, want the logged-in user", out)
	}
}

// runCLIGateway is the gateway scenario with one CLI on one gateway.
func runCLIGateway(t *testing.T, c *cli, g *gateway) {
	dst := newApp(t)
	const sourceKey = "cli-source-secret-456"

	var conn cliConnection
	c.mustJSON(&conn, "gateway", "connection", "upsert", "cli-conn",
		"--source-name", "cli-src", "--source-type", "WEBHOOK", "--source-api-key", sourceKey,
		"--destination-name", "cli-dst", "--destination-type", "HTTP", "--destination-url", dst.URL+"/cli")
	switch {
	case conn.ID == "" || conn.Name != "cli-conn":
		t.Fatalf("upsert answered %+v", conn)
	case conn.Source.Name != "cli-src" || conn.Source.URL == "" || conn.Source.Config.AuthType != "API_KEY":
		t.Errorf("upserted source = %+v, want cli-src with API_KEY auth", conn.Source)
	case conn.Source.Config.Auth["api_key"] == sourceKey:
		t.Errorf("the source API key is echoed in full: %v", conn.Source.Config.Auth)
	case conn.Destination.Type != "HTTP" || conn.Destination.Config["url"] != dst.URL+"/cli":
		t.Errorf("upserted destination = %+v", conn.Destination)
	}
	headerKey := conn.Source.Config.Auth["header_key"]
	if headerKey == "" {
		t.Fatalf("source auth has no header_key: %v", conn.Source.Config.Auth)
	}

	// Upsert again with a description: same connection, updated.
	var again cliConnection
	c.mustJSON(&again, "gateway", "connection", "upsert", "cli-conn", "--source-id", conn.Source.ID,
		"--destination-id", conn.Destination.ID, "--description", "from the CLI")
	if again.ID != conn.ID {
		t.Errorf("second upsert made connection %s, want %s", again.ID, conn.ID)
	}

	var conns list[cliConnection]
	c.mustJSON(&conns, "gateway", "connection", "list")
	if len(conns.Models) != 1 || conns.Models[0].ID != conn.ID {
		t.Errorf("connection list = %+v, want the connection", conns.Models)
	}
	c.mustJSON(&conns, "gateway", "connection", "list", "--source-id", conn.Source.ID, "--name", "cli-conn")
	if len(conns.Models) != 1 {
		t.Errorf("connection list by source and name = %d models, want 1", len(conns.Models))
	}
	var got cliConnection
	c.mustJSON(&got, "gateway", "connection", "get", conn.ID)
	if got.ID != conn.ID || got.Source.ID != conn.Source.ID {
		t.Errorf("connection get by id = %+v", got)
	}
	c.mustJSON(&got, "gateway", "connection", "get", "cli-conn", "--include-source-auth")
	if got.ID != conn.ID || got.Source.Config.Auth["api_key"] != sourceKey {
		t.Errorf("connection get by name with source auth = id %s auth %v", got.ID, got.Source.Config.Auth)
	}

	// A webhook through the source, delivered; listed by the CLI.
	if code := send(t, conn.Source.URL, map[string]string{headerKey: sourceKey}, `{"type":"cli.test"}`); code != http.StatusOK {
		t.Fatalf("webhook to %s = %d", conn.Source.URL, code)
	}
	evt := waitEvent(t, g, conn.ID, "SUCCESSFUL")
	var evs list[apiEvent]
	c.mustJSON(&evs, "gateway", "event", "list", "--connection-id", conn.ID)
	if len(evs.Models) != 1 || evs.Models[0].ID != evt.ID || evs.Models[0].Status != "SUCCESSFUL" {
		t.Errorf("event list = %+v, want the successful event", evs.Models)
	}
	c.mustJSON(&evs, "gateway", "event", "list", "--status", "SUCCESSFUL", "--source-id", conn.Source.ID)
	if len(evs.Models) != 1 {
		t.Errorf("event list by status and source = %d events, want 1", len(evs.Models))
	}

	inspectCLI(t, c, conn, evt)

	// Retry: one more attempt.
	c.must("gateway", "event", "retry", evt.ID)
	var after apiEvent
	if code := g.api("GET", "/events/"+evt.ID, nil, &after); code != http.StatusOK || after.Attempts != evt.Attempts+1 {
		t.Errorf("event after retry: %d attempts (status %d), want %d", after.Attempts, code, evt.Attempts+1)
	}
	if n := len(dst.received()); n != 2 {
		t.Errorf("destination received %d requests after the retry, want 2", n)
	}

	// Pause sets paused_at; unpause clears it.
	c.must("gateway", "connection", "pause", conn.ID)
	c.mustJSON(&got, "gateway", "connection", "get", conn.ID)
	if got.PausedAt == nil {
		t.Errorf("paused connection has paused_at null")
	}
	c.must("gateway", "connection", "unpause", "cli-conn")
	c.mustJSON(&got, "gateway", "connection", "get", conn.ID)
	if got.PausedAt != nil {
		t.Errorf("unpaused connection has paused_at %s", *got.PausedAt)
	}
}

// inspectCLI reads sources, destinations, requests, events and attempts
// with the CLI's get/list/count/raw-body commands: each must succeed (so
// decode) and name the right resources.
func inspectCLI(t *testing.T, c *cli, conn cliConnection, evt apiEvent) {
	t.Helper()
	var srcs list[struct {
		ID string `json:"id"`
	}]
	c.mustJSON(&srcs, "gateway", "source", "list")
	if len(srcs.Models) != 1 || srcs.Models[0].ID != conn.Source.ID {
		t.Errorf("source list = %+v, want the source", srcs.Models)
	}
	var one struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	c.mustJSON(&one, "gateway", "source", "get", conn.Source.ID)
	if one.ID != conn.Source.ID || one.Type != "WEBHOOK" {
		t.Errorf("source get = %+v", one)
	}
	c.must("gateway", "source", "count")
	var dsts list[struct {
		ID string `json:"id"`
	}]
	c.mustJSON(&dsts, "gateway", "destination", "list")
	if len(dsts.Models) != 1 || dsts.Models[0].ID != conn.Destination.ID {
		t.Errorf("destination list = %+v, want the destination", dsts.Models)
	}
	c.mustJSON(&one, "gateway", "destination", "get", conn.Destination.ID)
	if one.ID != conn.Destination.ID || one.Type != "HTTP" {
		t.Errorf("destination get = %+v", one)
	}
	var reqs list[struct {
		ID       string `json:"id"`
		Verified *bool  `json:"verified"`
	}]
	c.mustJSON(&reqs, "gateway", "request", "list", "--source-id", conn.Source.ID)
	if len(reqs.Models) != 1 || reqs.Models[0].Verified == nil || !*reqs.Models[0].Verified {
		t.Errorf("request list = %+v, want one verified request", reqs.Models)
	}
	if len(reqs.Models) == 1 {
		c.mustJSON(&one, "gateway", "request", "get", reqs.Models[0].ID)
		var evs []apiEvent // the CLI prints this one as a bare array
		c.mustJSON(&evs, "gateway", "request", "events", reqs.Models[0].ID)
		if len(evs) != 1 || evs[0].ID != evt.ID {
			t.Errorf("request events = %+v, want the event", evs)
		}
		if out := c.must("gateway", "request", "raw-body", reqs.Models[0].ID); !strings.Contains(out, "cli.test") {
			t.Errorf("request raw-body = %q, want the body", out)
		}
	}
	var got apiEvent
	c.mustJSON(&got, "gateway", "event", "get", evt.ID)
	if got.ID != evt.ID || got.Status != "SUCCESSFUL" {
		t.Errorf("event get = %+v", got)
	}
	if out := c.must("gateway", "event", "raw-body", evt.ID); !strings.Contains(out, "cli.test") {
		t.Errorf("event raw-body = %q, want the body", out)
	}
	var atts list[apiAttempt]
	c.mustJSON(&atts, "gateway", "attempt", "list", "--event-id", evt.ID)
	if len(atts.Models) != 1 || atts.Models[0].Status != "SUCCESSFUL" {
		t.Errorf("attempt list = %+v, want one successful attempt", atts.Models)
	}
	if len(atts.Models) == 1 {
		var a apiAttempt
		c.mustJSON(&a, "gateway", "attempt", "get", atts.Models[0].ID)
		if a.ID != atts.Models[0].ID {
			t.Errorf("attempt get = %+v", a)
		}
	}
}

// waitEvent waits until the connection has an event with the status and
// returns it.
func waitEvent(t *testing.T, g *gateway, connID, status string) apiEvent {
	t.Helper()
	var evt apiEvent
	waitFor(t, 20*time.Second, "an event "+status+" on "+connID, func() bool {
		var evs list[apiEvent]
		g.api("GET", "/events?webhook_id="+connID+"&status="+status, nil, &evs)
		if len(evs.Models) > 0 {
			evt = evs.Models[0]
			return true
		}
		return false
	})
	return evt
}

// requireDialect checks that the CLI called the API version it is known
// to speak (so that the strict validation applied); the WebSocket
// endpoint aside.
func requireDialect(t *testing.T, rec *oascheck.Recorder, api string) {
	t.Helper()
	for _, r := range rec.Results() {
		if r.Path != "/ws" && !strings.HasPrefix(r.Path, "/"+api+"/") {
			t.Errorf("the CLI called %s %s, outside /%s/", r.Method, r.Path, api)
		}
	}
}
