package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// With --log-level debug --log-json, one webhook can be followed through
// the logs by its ids: ingest names the request, the router the events it
// became, the dispatcher each attempt with its event and request.
func TestLogsTraceAWebhookByIDs(t *testing.T) {
	g := start(t, backend{name: "sqlite", dataDir: t.TempDir()}, "--log-level", "debug", "--log-json")
	dest := newDestination(t, 500) // first attempt fails, the retry succeeds
	var c connection
	g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
		"name": "traced", "source": map[string]any{"name": "traced-src"},
		"destination": map[string]any{"name": "traced-dest", "config": map[string]any{"url": dest.URL}},
		"rules":       []any{map[string]any{"type": "retry", "strategy": "linear", "interval": 1000, "count": 2}},
	}, &c)
	_, ack := send(t, g.ingestURL+"/"+c.Source.ID, nil, `{"traced":true}`)
	reqID, _ := ack["request_id"].(string)
	if reqID == "" {
		t.Fatalf("no request id in %v", ack)
	}
	waitFor(t, 20*time.Second, "two attempts logged", func() bool {
		return strings.Count(g.logs.String(), `"msg":"dispatch: attempt recorded"`) >= 2
	})

	var (
		ingested bool
		eventID  string
		attempts []map[string]any
	)
	for _, line := range strings.Split(g.logs.String(), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a log line is not JSON: %v\n%s", err, line)
		}
		switch rec["msg"] {
		case "ingest: request stored":
			ingested = ingested || (rec["request_id"] == reqID && rec["source_id"] == c.Source.ID)
		case "router: request routed":
			if rec["request_id"] == reqID {
				ids, _ := rec["event_ids"].([]any)
				if len(ids) != 1 {
					t.Fatalf("routed line: event_ids = %v, want one", rec["event_ids"])
				}
				eventID, _ = ids[0].(string)
			}
		case "dispatch: attempt recorded":
			if rec["request_id"] == reqID {
				attempts = append(attempts, rec)
			}
		}
	}
	if !ingested {
		t.Errorf("no ingest line names request %s and its source", reqID)
	}
	if eventID == "" {
		t.Fatalf("no router line names request %s and its event", reqID)
	}
	if len(attempts) < 2 {
		t.Fatalf("%d attempt lines name request %s, want 2", len(attempts), reqID)
	}
	for i, a := range attempts[:2] {
		if a["event_id"] != eventID || a["attempt_id"] == "" || a["destination_id"] != c.Destination.ID {
			t.Errorf("attempt line %d does not link event %s and destination %s: %v", i+1, eventID, c.Destination.ID, a)
		}
	}
	first, second := attempts[0], attempts[1]
	if first["status"] != "FAILED" || first["response_status"] != float64(500) || first["next_attempt_at"] == nil {
		t.Errorf("first attempt line: %v, want FAILED with 500 and a next attempt", first)
	}
	if second["status"] != "SUCCESSFUL" || second["event_status"] != "SUCCESSFUL" {
		t.Errorf("second attempt line: %v, want SUCCESSFUL", second)
	}
}
