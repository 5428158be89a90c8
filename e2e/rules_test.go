package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

type ignoredEvent struct {
	ID        string          `json:"id"`
	WebhookID string          `json:"webhook_id"`
	Cause     string          `json:"cause"`
	Meta      json.RawMessage `json:"meta"`
}

// A filtered connection delivers order.created, ignores order.updated and
// lists the ignored event with its cause; a transformation that adds a
// field runs before the filter that needs it.
func TestFilterAndTransform(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		g := start(t, b)
		orders := newDestination(t)
		var c connection
		g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
			"name":        "orders-created",
			"source":      map[string]any{"name": "shop"},
			"destination": map[string]any{"name": "orders", "config": map[string]any{"url": orders.URL}},
			"rules": []any{
				map[string]any{"type": "transform", "transformation": map[string]any{
					"name": "tag-kind",
					"code": `addHandler('transform', (request, context) => {
						request.body.kind = request.body.type.split('.')[0];
						request.headers['x-kind'] = request.body.kind;
						console.log('tagged', request.body.type);
						return request;
					});`,
				}},
				map[string]any{"type": "filter", "body": map[string]any{"type": "order.created", "kind": "order"}},
			},
		}, &c)
		for _, typ := range []string{"order.created", "order.updated"} {
			if status, _ := send(t, g.ingestURL+"/"+c.Source.ID, nil, fmt.Sprintf(`{"type":%q,"id":7}`, typ)); status != 200 {
				t.Fatalf("ingest answered %d", status)
			}
		}
		waitFor(t, 10*time.Second, "order.created delivered", func() bool { return orders.count() == 1 })
		got := orders.received()[0]
		var body map[string]any
		_ = json.Unmarshal([]byte(got.Body), &body)
		if body["type"] != "order.created" || body["kind"] != "order" || got.Headers.Get("X-Kind") != "order" {
			t.Fatalf("delivered %s with headers %v; want the transformed order.created", got.Body, got.Headers)
		}
		var reqs list[request]
		g.mustAPI("GET", "/2025-07-01/requests?source_id="+c.Source.ID, nil, &reqs)
		var ignoredSeen []ignoredEvent
		waitFor(t, 10*time.Second, "the ignored event", func() bool {
			ignoredSeen = nil
			for _, r := range reqs.Models {
				var ig list[ignoredEvent]
				g.mustAPI("GET", "/2025-07-01/requests/"+r.ID+"/ignored_events", nil, &ig)
				ignoredSeen = append(ignoredSeen, ig.Models...)
			}
			return len(ignoredSeen) == 1
		})
		if ig := ignoredSeen[0]; ig.Cause != "FILTERED" || ig.WebhookID != c.ID || !strings.Contains(string(ig.Meta), "body") {
			t.Fatalf("ignored event = %+v, want FILTERED on body", ig)
		}
		time.Sleep(200 * time.Millisecond)
		if orders.count() != 1 {
			t.Fatalf("order.updated was delivered")
		}
	})
}

// An infinite-loop transformation is stopped within its limit, the request
// is recorded as ignored (TRANSFORMATION_FAILED) and the server keeps
// serving.
func TestRunawayTransformation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		g := start(t, b)
		d := newDestination(t)
		var c connection
		g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
			"name":        "runaway",
			"source":      map[string]any{"name": "loop-src"},
			"destination": map[string]any{"name": "loop-dest", "config": map[string]any{"url": d.URL}},
			"rules": []any{map[string]any{"type": "transform", "transformation": map[string]any{
				"name": "spin", "code": `addHandler('transform', (request) => { while (true) {} })`,
			}}},
		}, &c)
		start := time.Now()
		status, ack := send(t, g.ingestURL+"/"+c.Source.ID, nil, `{"x":1}`)
		if status != 200 {
			t.Fatalf("ingest answered %d", status)
		}
		reqID := ack["request_id"].(string)
		var ig list[ignoredEvent]
		waitFor(t, 10*time.Second, "TRANSFORMATION_FAILED", func() bool {
			g.mustAPI("GET", "/2025-07-01/requests/"+reqID+"/ignored_events", nil, &ig)
			return len(ig.Models) == 1
		})
		if ig.Models[0].Cause != "TRANSFORMATION_FAILED" {
			t.Fatalf("ignored = %+v", ig.Models[0])
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("the runaway transformation took %v to stop", took)
		}
		// Still serving: the API and ingest answer.
		var sources list[source]
		g.mustAPI("GET", "/2025-07-01/sources", nil, &sources)
		if status, _ := send(t, g.ingestURL+"/"+c.Source.ID, nil, `{"x":2}`); status != 200 {
			t.Fatalf("ingest answered %d after a runaway transformation", status)
		}
		if d.count() != 0 {
			t.Fatal("an event whose transformation failed was delivered")
		}
	})
}

// With rate_limit 5 per second, 50 events take about 10 s and the
// destination never sees more than 5 in any one second.
func TestRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("rate-limit test takes 10 s")
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		g := start(t, b)
		d := newDestination(t)
		var c connection
		g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
			"name":   "limited",
			"source": map[string]any{"name": "burst"},
			"destination": map[string]any{"name": "slow-api", "config": map[string]any{
				"url": d.URL, "rate_limit": 5, "rate_limit_period": "second"}},
		}, &c)
		const n = 50
		for i := range n {
			if status, _ := send(t, g.ingestURL+"/"+c.Source.ID, nil, fmt.Sprintf(`{"seq":%d}`, i)); status != 200 {
				t.Fatalf("ingest answered %d", status)
			}
		}
		waitFor(t, 30*time.Second, "all 50 delivered", func() bool { return d.count() >= n })
		got := d.received()
		times := make([]time.Time, len(got))
		for i, r := range got {
			times[i] = r.At
		}
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		span := times[len(times)-1].Sub(times[0])
		if span < 9*time.Second || span > 13*time.Second {
			t.Fatalf("50 events at 5/s took %v, want about 10 s", span)
		}
		// Sliding one-second windows. The limiter spaces sends 200 ms apart
		// when it grants slots; arrival at the destination adds scheduling
		// and network jitter (tens of ms on a loaded 2-core machine), so the
		// window is shortened by 100 ms. A limiter that let 6 through in a
		// second would still fail this.
		for i := range times {
			j := i
			for j < len(times) && times[j].Sub(times[i]) < time.Second-100*time.Millisecond {
				j++
			}
			if j-i > 5 {
				t.Fatalf("%d deliveries within one second starting at #%d", j-i, i)
			}
		}
		// They leave in order of arrival.
		for i, r := range got {
			var body struct{ Seq int }
			_ = json.Unmarshal([]byte(r.Body), &body)
			if body.Seq != i {
				t.Fatalf("delivery %d carried seq %d: out of order", i, body.Seq)
			}
		}
	})
}

// With rate_limit 2 per "concurrent", a slow destination never has more
// than 2 deliveries in flight, and every event is delivered.
func TestConcurrentLimit(t *testing.T) {
	g := start(t, backend{name: "sqlite", dataDir: t.TempDir()})
	var (
		mu                 sync.Mutex
		inflight, peak, nd int
	)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inflight++
		peak = max(peak, inflight)
		mu.Unlock()
		time.Sleep(150 * time.Millisecond)
		mu.Lock()
		inflight--
		nd++
		mu.Unlock()
	}))
	defer slow.Close()
	var c connection
	g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
		"name":   "capped",
		"source": map[string]any{"name": "many"},
		"destination": map[string]any{"name": "slow", "config": map[string]any{
			"url": slow.URL, "rate_limit": 2, "rate_limit_period": "concurrent"}},
	}, &c)
	for i := range 12 {
		if status, _ := send(t, g.ingestURL+"/"+c.Source.ID, nil, fmt.Sprintf(`{"n":%d}`, i)); status != 200 {
			t.Fatalf("ingest answered %d", status)
		}
	}
	waitFor(t, 20*time.Second, "12 deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return nd == 12 })
	if peak > 2 {
		t.Fatalf("%d deliveries were in flight at once, want at most 2", peak)
	}
	if peak < 2 {
		t.Fatalf("at most %d in flight: the cap of 2 was not used", peak)
	}
}
