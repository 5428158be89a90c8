package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

type source struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	URL          string         `json:"url"`
	Verification map[string]any `json:"verification"`
}

type destinationJSON struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	URL        string         `json:"url"`
	AuthMethod map[string]any `json:"auth_method"`
}

type connection struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	FullName    string          `json:"full_name"`
	TeamID      string          `json:"team_id"`
	PausedAt    *string         `json:"paused_at"`
	Rules       []any           `json:"rules"`
	Source      source          `json:"source"`
	Destination destinationJSON `json:"destination"`
}

type event struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	Attempts      int    `json:"attempts"`
	WebhookID     string `json:"webhook_id"`
	RequestID     string `json:"request_id"`
	DestinationID string `json:"destination_id"`
}

type attempt struct {
	ID             string `json:"id"`
	EventID        string `json:"event_id"`
	Status         string `json:"status"`
	Trigger        string `json:"trigger"`
	ResponseStatus *int   `json:"response_status"`
	AttemptNumber  int    `json:"attempt_number"`
}

type request struct {
	ID             string  `json:"id"`
	RejectionCause *string `json:"rejection_cause"`
	Verified       *bool   `json:"verified"`
	EventsCount    *int    `json:"events_count"`
}

// The seed quickstart (../shared/seeds/003_…) against a local sluice:
// create a connection with API-key verification, send to source.url +
// "/track", see it delivered; a request without the key is rejected and
// not delivered; PUT with the same names updates the destination.
func TestQuickstart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		g := start(t, b)
		dest := newDestination(t)

		var conn connection
		g.mustAPI("POST", "/2023-07-01/connections", map[string]any{
			"name": "asynchronous-api-quickstart",
			"source": map[string]any{
				"name": "inbound-api",
				"verification": map[string]any{
					"type":    "api_key",
					"configs": map[string]any{"header_key": "X-API-KEY", "api_key": "client-key-123"},
				},
			},
			"destination": map[string]any{"name": "internal-api", "url": dest.URL},
		}, &conn)
		if !strings.HasPrefix(conn.ID, "web_") || conn.Name != "asynchronous-api-quickstart" ||
			conn.FullName != "inbound-api -> asynchronous-api-quickstart" || conn.Rules == nil {
			t.Fatalf("connection = %+v", conn)
		}
		if !strings.HasPrefix(conn.Source.ID, "src_") || conn.Source.Verification["type"] != "api_key" ||
			!strings.HasPrefix(conn.Source.URL, g.ingestURL+"/") {
			t.Fatalf("source = %+v", conn.Source)
		}
		if cfgs, ok := conn.Source.Verification["configs"].(map[string]any); ok && cfgs["api_key"] == "client-key-123" {
			t.Fatalf("the source's API key was echoed in full: %v", cfgs)
		}
		if conn.Destination.URL != dest.URL || conn.Destination.AuthMethod["type"] != "HOOKDECK_SIGNATURE" {
			t.Fatalf("destination = %+v", conn.Destination)
		}

		payload := `{"event_type":"mouse.click","click_x":"339","click_y":"318","timestamp":"2024-01-15T22:39:29.964Z"}`
		status, ack := send(t, conn.Source.URL+"/track", map[string]string{"X-API-KEY": "client-key-123"}, payload)
		reqID, _ := ack["request_id"].(string)
		if status != 200 || ack["status"] != "SUCCESS" || !strings.HasPrefix(reqID, "req_") ||
			ack["message"] != "Request successfully handled. Request ID: "+reqID {
			t.Fatalf("ingest answered %d %v", status, ack)
		}
		waitFor(t, 10*time.Second, "delivery", func() bool { return dest.count() == 1 })
		got := dest.received()[0]
		if got.Path != "/track" || got.Body != payload || got.Method != "POST" {
			t.Fatalf("destination got %s %s %q", got.Method, got.Path, got.Body)
		}
		if got.Headers.Get("X-Api-Key") != "client-key-123" || got.Headers.Get("Content-Type") != "application/json" {
			t.Fatalf("original headers not forwarded: %v", got.Headers)
		}
		if !strings.HasPrefix(got.Headers.Get("X-Hookdeck-Eventid"), "evt_") || got.Headers.Get("X-Hookdeck-Requestid") != reqID ||
			got.Headers.Get("X-Hookdeck-Signature") == "" || got.Headers.Get("X-Hookdeck-Attempt-Count") != "1" {
			t.Fatalf("delivery headers missing: %v", got.Headers)
		}

		// The log: request → event → attempt.
		var events list[event]
		waitFor(t, 10*time.Second, "event SUCCESSFUL", func() bool {
			g.mustAPI("GET", "/2023-07-01/events?webhook_id="+conn.ID, nil, &events)
			return len(events.Models) == 1 && events.Models[0].Status == "SUCCESSFUL"
		})
		if events.Models[0].RequestID != reqID || events.Models[0].Attempts != 1 {
			t.Fatalf("event = %+v", events.Models[0])
		}
		var attempts list[attempt]
		g.mustAPI("GET", "/2023-07-01/attempts?event_id="+events.Models[0].ID, nil, &attempts)
		if len(attempts.Models) != 1 || attempts.Models[0].Status != "SUCCESSFUL" || attempts.Models[0].Trigger != "INITIAL" ||
			attempts.Models[0].ResponseStatus == nil || *attempts.Models[0].ResponseStatus != 200 {
			t.Fatalf("attempts = %+v", attempts.Models)
		}

		// Without the key: 401, recorded as rejected, never delivered.
		status, _ = send(t, conn.Source.URL+"/track", nil, payload)
		if status != http.StatusUnauthorized {
			t.Fatalf("request without key answered %d, want 401", status)
		}
		var rejected list[request]
		g.mustAPI("GET", "/2023-07-01/requests?status=rejected", nil, &rejected)
		if len(rejected.Models) != 1 || rejected.Models[0].RejectionCause == nil || *rejected.Models[0].RejectionCause != "VERIFICATION_FAILED" ||
			rejected.Models[0].Verified == nil || *rejected.Models[0].Verified {
			t.Fatalf("rejected requests = %+v", rejected.Models)
		}

		// PUT with the same names updates the destination URL.
		dest2 := newDestination(t)
		var updated connection
		g.mustAPI("PUT", "/2023-07-01/connections", map[string]any{
			"name":        "asynchronous-api-quickstart",
			"source":      map[string]any{"name": "inbound-api"},
			"destination": map[string]any{"name": "internal-api", "url": dest2.URL},
		}, &updated)
		if updated.ID != conn.ID || updated.Destination.ID != conn.Destination.ID || updated.Destination.URL != dest2.URL {
			t.Fatalf("upsert made %+v, want connection %s with url %s", updated, conn.ID, dest2.URL)
		}
		// The source kept its verification.
		status, _ = send(t, conn.Source.URL+"/track", nil, payload)
		if status != http.StatusUnauthorized {
			t.Fatalf("after upsert, request without key answered %d, want 401", status)
		}
		status, _ = send(t, conn.Source.URL+"/track", map[string]string{"X-API-KEY": "client-key-123"}, payload)
		if status != 200 {
			t.Fatalf("after upsert, ingest answered %d", status)
		}
		waitFor(t, 10*time.Second, "delivery to the new URL", func() bool { return dest2.count() == 1 })
		time.Sleep(200 * time.Millisecond)
		if n := dest.count(); n != 1 || dest.received()[0].Body != payload {
			t.Fatalf("old destination received %d requests after the upsert", n-1)
		}
	})
}

// One source with three connections: three events, each delivered once.
func TestFanOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		g := start(t, b)
		var dests []*destination
		var sourceURL string
		for i := range 3 {
			d := newDestination(t)
			dests = append(dests, d)
			var c connection
			g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
				"name":        fmt.Sprintf("fan-%d", i),
				"source":      map[string]any{"name": "shop", "type": "WEBHOOK"},
				"destination": map[string]any{"name": fmt.Sprintf("svc-%d", i), "type": "HTTP", "config": map[string]any{"url": d.URL}},
			}, &c)
			sourceURL = c.Source.URL
		}
		status, ack := send(t, sourceURL, nil, `{"id":1}`)
		if status != 200 {
			t.Fatalf("ingest answered %d %v", status, ack)
		}
		var events list[event]
		waitFor(t, 10*time.Second, "three successful events", func() bool {
			g.mustAPI("GET", "/2025-07-01/events?status=SUCCESSFUL", nil, &events)
			return len(events.Models) == 3
		})
		time.Sleep(300 * time.Millisecond) // a duplicate would show up now
		for i, d := range dests {
			if n := d.count(); n != 1 {
				t.Fatalf("destination %d received %d deliveries, want 1", i, n)
			}
		}
		var req request
		g.mustAPI("GET", "/2025-07-01/requests/"+ack["request_id"].(string), nil, &req)
		if req.EventsCount == nil || *req.EventsCount != 3 {
			t.Fatalf("request events_count = %v, want 3", req.EventsCount)
		}
	})
}

// A destination answering 500 twice then 200 under a linear retry rule:
// three attempts, the event SUCCESSFUL.
func TestLinearRetry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		g := start(t, b)
		d := newDestination(t, 500, 500, 200)
		var c connection
		g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
			"name":        "retrying",
			"source":      map[string]any{"name": "flaky-src"},
			"destination": map[string]any{"name": "flaky", "config": map[string]any{"url": d.URL}},
			"rules":       []any{map[string]any{"type": "retry", "strategy": "linear", "count": 5, "interval": 200}},
		}, &c)
		if status, ack := send(t, c.Source.URL, nil, `{"n":1}`); status != 200 {
			t.Fatalf("ingest answered %d %v", status, ack)
		}
		var events list[event]
		waitFor(t, 15*time.Second, "event SUCCESSFUL", func() bool {
			g.mustAPI("GET", "/2025-07-01/events?webhook_id="+c.ID, nil, &events)
			return len(events.Models) == 1 && events.Models[0].Status == "SUCCESSFUL"
		})
		if events.Models[0].Attempts != 3 {
			t.Fatalf("event attempts = %d, want 3", events.Models[0].Attempts)
		}
		var attempts list[attempt]
		g.mustAPI("GET", "/2025-07-01/attempts?event_id="+events.Models[0].ID+"&dir=asc", nil, &attempts)
		want := []struct {
			status  int
			trigger string
		}{{500, "INITIAL"}, {500, "AUTOMATIC"}, {200, "AUTOMATIC"}}
		if len(attempts.Models) != 3 {
			t.Fatalf("attempts = %+v", attempts.Models)
		}
		for i, a := range attempts.Models {
			if a.ResponseStatus == nil || *a.ResponseStatus != want[i].status || a.Trigger != want[i].trigger || a.AttemptNumber != i+1 {
				t.Fatalf("attempt %d = %+v, want %+v", i, a, want[i])
			}
		}
		got := d.received()
		if gap := got[1].At.Sub(got[0].At); gap < 150*time.Millisecond {
			t.Fatalf("retry came %v after the first attempt, want ≥ the 200ms interval", gap)
		}
	})
}

// Pausing holds new events; unpausing releases them (trigger UNPAUSE); a
// manual retry makes one more attempt now.
func TestPauseUnpauseAndManualRetry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		g := start(t, b)
		d := newDestination(t)
		var c connection
		g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
			"name":        "pausable",
			"source":      map[string]any{"name": "p-src"},
			"destination": map[string]any{"name": "p-dest", "config": map[string]any{"url": d.URL}},
		}, &c)
		g.mustAPI("PUT", "/2025-07-01/connections/"+c.ID+"/pause", nil, &c)
		if c.PausedAt == nil {
			t.Fatal("pause did not set paused_at")
		}
		if status, _ := send(t, c.Source.URL, nil, `{"held":true}`); status != 200 {
			t.Fatalf("ingest answered %d", status)
		}
		var events list[event]
		waitFor(t, 10*time.Second, "event in HOLD", func() bool {
			g.mustAPI("GET", "/2025-07-01/events?webhook_id="+c.ID, nil, &events)
			return len(events.Models) == 1 && events.Models[0].Status == "HOLD"
		})
		if d.count() != 0 {
			t.Fatal("a held event was delivered")
		}
		g.mustAPI("PUT", "/2025-07-01/connections/"+c.ID+"/unpause", map[string]any{}, &c)
		waitFor(t, 10*time.Second, "delivery after unpause", func() bool { return d.count() == 1 })
		if tr := d.received()[0].Headers.Get("X-Hookdeck-Attempt-Trigger"); tr != "UNPAUSE" {
			t.Fatalf("attempt trigger = %q, want UNPAUSE", tr)
		}

		evID := events.Models[0].ID
		waitFor(t, 10*time.Second, "event SUCCESSFUL", func() bool {
			var e event
			g.mustAPI("GET", "/2025-07-01/events/"+evID, nil, &e)
			return e.Status == "SUCCESSFUL"
		})
		var retried event
		g.mustAPI("POST", "/2025-07-01/events/"+evID+"/retry", nil, &retried)
		if retried.ID != evID || retried.Attempts != 2 || retried.Status != "SUCCESSFUL" {
			t.Fatalf("retried event = %+v, want 2 attempts", retried)
		}
		if d.count() != 2 || d.received()[1].Headers.Get("X-Hookdeck-Attempt-Trigger") != "MANUAL" {
			t.Fatalf("manual retry not delivered as MANUAL: %d deliveries", d.count())
		}
	})
}
