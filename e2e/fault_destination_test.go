package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// faultAttempt is the part of an attempt answer the fault tests check.
type faultAttempt struct {
	AttemptNumber  int    `json:"attempt_number"`
	Trigger        string `json:"trigger"`
	Status         string `json:"status"`
	ErrorCode      string `json:"error_code"`
	ResponseStatus *int   `json:"response_status"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
}

// faultDestination misbehaves in one way and records when each attempt
// arrived.
type faultDestination struct {
	URL  string
	mu   sync.Mutex
	hits []time.Time
}

func (d *faultDestination) arrivals() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Time(nil), d.hits...)
}

// Destination faults: every way an attempt can fail is classified with its
// error code, and the retry rule is followed exactly — the number of
// attempts, their triggers, the wait between them, the final status — and
// a slow answer within the timeout is a success.
func TestDestinationFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test skipped in -short mode")
	}
	const (
		timeout  = 400 * time.Millisecond
		interval = 300 * time.Millisecond
		retries  = 2
	)
	type mode struct {
		name    string
		handler func(d *faultDestination) http.HandlerFunc
		// statuses, if set, restricts the retry rule's response statuses.
		statuses []any
		// want: the attempts, their error code and response status.
		attempts  int
		errorCode string
		status    int
		event     string
	}
	modes := []mode{
		{name: "timeout", attempts: 1 + retries, errorCode: "TIMEOUT", event: "FAILED",
			handler: func(*faultDestination) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					select { // hang past the delivery timeout
					case <-r.Context().Done():
					case <-time.After(10 * time.Second):
					}
				}
			}},
		{name: "reset", attempts: 1 + retries, errorCode: "CONNECTION_RESET", event: "FAILED",
			handler: func(*faultDestination) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body)
					conn, _, err := http.NewResponseController(w).Hijack()
					if err != nil {
						panic(err)
					}
					_ = conn.(*net.TCPConn).SetLinger(0) // close with RST
					_ = conn.Close()
				}
			}},
		{name: "5xx", attempts: 1 + retries, errorCode: "BAD_RESPONSE", status: 502, event: "FAILED",
			handler: func(*faultDestination) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }
			}},
		{name: "4xx outside the rule's statuses", attempts: 1, errorCode: "BAD_RESPONSE", status: 404, event: "FAILED",
			statuses: []any{"500-599"},
			handler: func(*faultDestination) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) }
			}},
		{name: "slow within the timeout", attempts: 1, status: 200, event: "SUCCESSFUL",
			handler: func(*faultDestination) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					time.Sleep(timeout / 2)
					_, _ = io.WriteString(w, "ok")
				}
			}},
	}

	forEachBackend(t, func(t *testing.T, b backend) {
		g := start(t, b, "--delivery-timeout", timeout.String())
		type setup struct {
			mode
			dest    *faultDestination
			eventID string
		}
		var setups []*setup
		for i, m := range modes {
			d := &faultDestination{}
			h := m.handler(d)
			d.URL = serveFunc(t, func(w http.ResponseWriter, r *http.Request) {
				d.mu.Lock()
				d.hits = append(d.hits, time.Now())
				d.mu.Unlock()
				h(w, r)
			})
			rule := map[string]any{"type": "retry", "strategy": "linear", "count": retries, "interval": interval.Milliseconds()}
			if m.statuses != nil {
				rule["response_status_codes"] = m.statuses
			}
			var c connection
			g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
				"name":        fmt.Sprintf("fault-%d", i),
				"source":      map[string]any{"name": fmt.Sprintf("fault-src-%d", i)},
				"destination": map[string]any{"name": fmt.Sprintf("fault-dest-%d", i), "config": map[string]any{"url": d.URL}},
				"rules":       []any{rule},
			}, &c)
			if code, _ := send(t, g.ingestURL+"/"+c.Source.ID, nil, `{"fault":true}`); code != 200 {
				t.Fatalf("%s: webhook answered %d", m.name, code)
			}
			s := &setup{mode: m, dest: d}
			waitFor(t, 10*time.Second, m.name+": event routed", func() bool {
				var evs list[event]
				g.mustAPI("GET", "/2025-07-01/events?webhook_id="+c.ID, nil, &evs)
				if len(evs.Models) == 1 {
					s.eventID = evs.Models[0].ID
				}
				return s.eventID != ""
			})
			setups = append(setups, s)
		}

		// All modes run at once; each ends in its final status.
		for _, s := range setups {
			var ev event
			waitFor(t, 30*time.Second, s.name+": final status", func() bool {
				g.mustAPI("GET", "/2025-07-01/events/"+s.eventID, nil, &ev)
				return ev.Status == "SUCCESSFUL" || ev.Status == "FAILED"
			})
			if ev.Status != s.event || ev.Attempts != s.attempts {
				t.Errorf("%s: event %s with %d attempts, want %s with %d", s.name, ev.Status, ev.Attempts, s.event, s.attempts)
			}
			var atts list[faultAttempt]
			g.mustAPI("GET", "/2025-07-01/attempts?order_by=created_at&dir=asc&event_id="+s.eventID, nil, &atts)
			if len(atts.Models) != s.attempts {
				t.Errorf("%s: %d attempts recorded, want %d", s.name, len(atts.Models), s.attempts)
				continue
			}
			for i, a := range byNumber(atts.Models) {
				wantTrigger := "AUTOMATIC"
				if i == 0 {
					wantTrigger = "INITIAL"
				}
				wantStatus := "FAILED"
				if s.event == "SUCCESSFUL" {
					wantStatus = "SUCCESSFUL"
				}
				got := 0
				if a.ResponseStatus != nil {
					got = *a.ResponseStatus
				}
				if a.AttemptNumber != i+1 || a.Trigger != wantTrigger || a.Status != wantStatus || a.ErrorCode != s.errorCode || got != s.status {
					t.Errorf("%s: attempt %d = %+v (status %d), want number %d, %s, %s, error %q, status %d",
						s.name, i, a, got, i+1, wantTrigger, wantStatus, s.errorCode, s.status)
				}
			}
			if n := len(s.dest.arrivals()); n != s.attempts {
				t.Errorf("%s: destination saw %d attempts, want %d", s.name, n, s.attempts)
			}
			// Each retry starts the rule's interval after the previous
			// attempt ended (timestamps are kept to the millisecond).
			ordered := byNumber(atts.Models)
			for i := 1; i < len(ordered); i++ {
				gap := parseTime(t, ordered[i].CreatedAt).Sub(parseTime(t, ordered[i-1].UpdatedAt))
				if gap < interval-time.Millisecond || gap > interval+5*time.Second {
					t.Errorf("%s: attempt %d started %v after the previous ended, want %v (+ scheduling delay)", s.name, i+1, gap, interval)
				}
			}
		}
		// No attempt after the last one the rule allows.
		time.Sleep(2 * interval)
		for _, s := range setups {
			if n := len(s.dest.arrivals()); n != s.attempts {
				t.Errorf("%s: %d attempts after the event ended, want %d", s.name, n, s.attempts)
			}
		}
	})
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return v
}

// byNumber orders attempts by attempt number.
func byNumber(as []faultAttempt) []faultAttempt {
	out := make([]faultAttempt, len(as))
	for _, a := range as {
		if a.AttemptNumber >= 1 && a.AttemptNumber <= len(as) {
			out[a.AttemptNumber-1] = a
		}
	}
	return out
}

// serveFunc serves h on a free loopback port until the test ends.
func serveFunc(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
