package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/store/pgstore/pgtest"
)

// The cluster tests run three `sluice serve` processes on one PostgreSQL
// database: every process ingests, routes and dispatches. They are skipped
// without SLUICE_TEST_POSTGRES_DSN (failed in CI).

// clusterLease is the lease the kill test runs with (the --lease tuning
// knob, SLUICE_LEASE): a dead process's work must be delivered by another
// within clusterLease + 5 s.
const clusterLease = 5 * time.Second

// startCluster starts n processes on a fresh database.
func startCluster(t *testing.T, n int, extra ...string) []*gateway {
	t.Helper()
	if testing.Short() {
		t.Skip("cluster tests skipped in -short mode")
	}
	dsn := pgtest.NewDatabase(t)
	gs := make([]*gateway, n)
	for i := range gs {
		gs[i] = start(t, backend{name: "postgres", db: dsn, dataDir: t.TempDir()}, extra...)
	}
	return gs
}

// connect creates a connection from a new source to an HTTP destination
// through g's API and returns it.
func connect(t *testing.T, g *gateway, name string, destConfig map[string]any, rules ...any) connection {
	t.Helper()
	body := map[string]any{
		"name":        name,
		"source":      map[string]any{"name": name + "-src"},
		"destination": map[string]any{"name": name + "-dst", "type": "HTTP", "config": destConfig},
	}
	if len(rules) > 0 {
		body["rules"] = rules
	}
	var c connection
	g.mustAPI("PUT", "/2025-07-01/connections", body, &c)
	return c
}

// ingestClient sends webhooks over keep-alive connections.
var ingestClient = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext},
}

// post sends one webhook and returns the request id of its 2xx answer.
func post(url, body string) (string, error) {
	resp, err := ingestClient.Post(url, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("ingest answered %d: %s", resp.StatusCode, raw)
	}
	var ack struct {
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(raw, &ack); err != nil || ack.RequestID == "" {
		return "", fmt.Errorf("2xx without a request id: %s", raw)
	}
	return ack.RequestID, nil
}

// sendSpread sends n webhooks {"seq":i} from workers concurrent clients,
// request i to the ingest listener of process i%len(gs), and returns the
// acknowledged request ids.
func sendSpread(t *testing.T, gs []*gateway, sourceID string, n, workers int) []string {
	t.Helper()
	ids := make([]string, n)
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		fail atomic.Value
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || fail.Load() != nil {
					return
				}
				id, err := post(gs[i%len(gs)].ingestURL+"/"+sourceID, fmt.Sprintf(`{"seq":%d}`, i))
				if err != nil {
					fail.Store(err)
					return
				}
				ids[i] = id
			}
		})
	}
	wg.Wait()
	if err := fail.Load(); err != nil {
		t.Fatalf("send: %v", err)
	}
	return ids
}

// Three processes, 5,000 requests spread over their ingest listeners: every
// request is delivered, none twice.
func TestClusterDeliversEveryRequestOnce(t *testing.T) {
	gs := startCluster(t, 3)
	dest := newDestination(t)
	c := connect(t, gs[0], "spread", map[string]any{"url": dest.URL})

	const n = 5000
	began := time.Now()
	ids := sendSpread(t, gs, c.Source.ID, n, 24)
	ingested := time.Since(began)
	waitFor(t, 120*time.Second, "every request delivered", func() bool { return dest.count() >= n })
	delivered := time.Since(began)

	perRequest := map[string]int{}
	perEvent := map[string]int{}
	for _, r := range dest.received() {
		perRequest[r.Headers.Get("X-Hookdeck-Requestid")]++
		perEvent[r.Headers.Get("X-Hookdeck-Eventid")]++
	}
	for _, id := range ids {
		if perRequest[id] != 1 {
			t.Errorf("request %s delivered %d times, want once", id, perRequest[id])
		}
	}
	if len(perEvent) != n {
		t.Errorf("%d distinct events delivered, want %d", len(perEvent), n)
	}
	// Nothing more arrives: no late duplicate.
	time.Sleep(500 * time.Millisecond)
	if got := dest.count(); got != n {
		t.Errorf("%d deliveries for %d requests", got, n)
	}
	t.Logf("%d requests over 3 processes: ingested in %v, all delivered once after %v", n, ingested.Round(time.Millisecond), delivered.Round(time.Millisecond))
}

// hangingDestination holds every delivery open until release, answering
// 200 after it; it records when each event was answered 200 and which
// deliveries were dropped by the sender (their process died).
type hangingDestination struct {
	URL     string
	release chan struct{}

	mu       sync.Mutex
	inflight int
	arrivals map[string]int       // event id → deliveries received
	ok       map[string]time.Time // event id → first 200 answered
	dropped  map[string]time.Time // event id → when the sender went away
}

func newHangingDestination(t *testing.T) *hangingDestination {
	t.Helper()
	d := &hangingDestination{release: make(chan struct{}), arrivals: map[string]int{},
		ok: map[string]time.Time{}, dropped: map[string]time.Time{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.URL = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		id := r.Header.Get("X-Hookdeck-Eventid")
		d.mu.Lock()
		d.arrivals[id]++
		d.inflight++
		d.mu.Unlock()
		defer func() { d.mu.Lock(); d.inflight--; d.mu.Unlock() }()
		select {
		case <-d.release:
			d.mu.Lock()
			if _, seen := d.ok[id]; !seen {
				d.ok[id] = time.Now()
			}
			d.mu.Unlock()
			w.WriteHeader(200)
		case <-r.Context().Done():
			d.mu.Lock()
			d.dropped[id] = time.Now()
			d.mu.Unlock()
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return d
}

func (d *hangingDestination) snapshot() (inflight int, ok, dropped map[string]time.Time, arrivals map[string]int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	clone := func(m map[string]time.Time) map[string]time.Time {
		out := make(map[string]time.Time, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	arr := make(map[string]int, len(d.arrivals))
	for k, v := range d.arrivals {
		arr[k] = v
	}
	return d.inflight, clone(d.ok), clone(d.dropped), arr
}

// One process is killed with SIGKILL while it holds leased deliveries in
// flight: another process delivers them within lease + 5 s, nothing is
// lost, and the repeats (the dead process's attempts) are counted.
func TestClusterKillTakesOverLeasedWork(t *testing.T) {
	gs := startCluster(t, 3, "--lease", clusterLease.String())
	dest := newHangingDestination(t)
	c := connect(t, gs[0], "takeover", map[string]any{"url": dest.URL})

	// The victim ingests everything, so its router and dispatcher are the
	// first to see the work; the others take some through notifications.
	victim := gs[0]
	const n = 40
	for i := range n {
		if _, err := post(victim.ingestURL+"/"+c.Source.ID, fmt.Sprintf(`{"seq":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "every event in flight", func() bool { in, _, _, _ := dest.snapshot(); return in == n })
	victim.kill()
	killed := time.Now()
	// The victim's deliveries are dropped as its sockets close.
	waitFor(t, 5*time.Second, "the victim's deliveries dropped", func() bool {
		_, _, dropped, _ := dest.snapshot()
		return len(dropped) > 0
	})
	time.Sleep(200 * time.Millisecond) // let every dropped socket be seen
	_, _, dropped, _ := dest.snapshot()
	close(dest.release) // the survivors' deliveries, and every later one, succeed

	bound := clusterLease + 5*time.Second
	waitFor(t, bound+10*time.Second, "every event delivered", func() bool {
		_, ok, _, _ := dest.snapshot()
		return len(ok) == n
	})
	_, ok, _, arrivals := dest.snapshot()
	var slowest time.Duration
	for id := range dropped {
		took := ok[id].Sub(killed)
		slowest = max(slowest, took)
		if took > bound {
			t.Errorf("event %s of the killed process delivered %v after the kill, want within lease + 5 s = %v", id, took.Round(time.Millisecond), bound)
		}
	}
	repeats := 0
	for _, a := range arrivals {
		repeats += a - 1
	}
	t.Logf("killed a process holding %d of %d deliveries in flight; another delivered the last of them %v after the kill (lease %v); %d repeats (the killed process's unanswered attempts)",
		len(dropped), n, slowest.Round(time.Millisecond), clusterLease, repeats)
	if repeats != len(dropped) {
		t.Errorf("%d repeated deliveries, want exactly the %d the killed process had in flight", repeats, len(dropped))
	}
}

// arrivalTimes returns the destination's arrival times, sorted.
func arrivalTimes(got []received) []time.Time {
	times := make([]time.Time, len(got))
	for i, r := range got {
		times[i] = r.At
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	return times
}
