package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// /metrics is served on the API listener without a key; while a
// destination is down its queue depth rises (events wait for their retry),
// and once it is back up the depth falls to zero and the counters show
// every request ingested, the failed attempts and the successful events.
func TestMetricsQueueDepth(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dest := newSwitchDestination(t)
		g := start(t, b, "--metrics-interval", "100ms")
		var c connection
		g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
			"name":        "metered",
			"source":      map[string]any{"name": "metrics-src"},
			"destination": map[string]any{"name": "metrics-dest", "config": map[string]any{"url": dest.URL}},
			"rules":       []any{map[string]any{"type": "retry", "strategy": "linear", "count": 50, "interval": 300}},
		}, &c)

		const n = 12
		for i := range n {
			if code, _ := send(t, g.ingestURL+"/"+c.Source.ID, nil, fmt.Sprintf(`{"n":%d}`, i)); code != 200 {
				t.Fatalf("webhook %d answered %d", i, code)
			}
		}
		depth := func(m map[string]float64) float64 {
			return m[`sluice_queue_depth{destination_id="`+c.Destination.ID+`",status="QUEUED"}`] +
				m[`sluice_queue_depth{destination_id="`+c.Destination.ID+`",status="SCHEDULED"}`]
		}
		var m map[string]float64
		waitFor(t, 20*time.Second, "queue depth to reach the undelivered events", func() bool {
			m = scrapeMetrics(t, g)
			return depth(m) == n && m[`sluice_attempts_total{error_code="BAD_RESPONSE",result="FAILED"}`] >= n
		})
		if got := m[`sluice_ingest_requests_total{cause="",result="accepted"}`]; got != n {
			t.Errorf("accepted requests = %v, want %d", got, n)
		}
		if got := m[`sluice_ingest_responses_total{code="200"}`]; got != n {
			t.Errorf("200 answers = %v, want %d", got, n)
		}
		if got := m[`sluice_queue_oldest_pending_age_seconds{destination_id="`+c.Destination.ID+`"}`]; got <= 0 {
			t.Errorf("oldest pending age = %v while the destination is down", got)
		}
		if m[`sluice_store_commit_batch_size_count`] == 0 {
			t.Error("no group commit observed")
		}

		dest.up.Store(true)
		waitFor(t, 30*time.Second, "queue depth to fall to zero", func() bool {
			m = scrapeMetrics(t, g)
			return depth(m) == 0 && m[`sluice_events_finished_total{status="SUCCESSFUL"}`] == n
		})
		if got := m[`sluice_attempts_total{error_code="",result="SUCCESSFUL"}`]; got != n {
			t.Errorf("successful attempts = %v, want %d", got, n)
		}
		if m[`sluice_delivery_latency_seconds_count{result="SUCCESSFUL"}`] != n {
			t.Errorf("delivery latency histogram holds %v successful attempts, want %d",
				m[`sluice_delivery_latency_seconds_count{result="SUCCESSFUL"}`], n)
		}
	})
}

// scrapeMetrics reads /metrics without credentials and returns each sample
// by its series name as printed (labels sorted by name, as the Prometheus
// client prints them).
func scrapeMetrics(t *testing.T, g *gateway) map[string]float64 {
	t.Helper()
	resp, err := http.Get(g.apiURL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics = %d: %s", resp.StatusCode, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad metrics line %q", line)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	return out
}

// switchDestination answers 503 until up is set, then 200.
type switchDestination struct {
	URL string
	up  atomic.Bool
}

func newSwitchDestination(t *testing.T) *switchDestination {
	t.Helper()
	d := &switchDestination{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.URL = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if !d.up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return d
}
