package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Nothing acknowledged is lost: concurrent clients send webhooks, the
// gateway is killed with SIGKILL mid-load, restarted, killed again and
// restarted; every request that got a 2xx must exist and be delivered at
// least once.
func TestKillNineLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		dest := newDestination(t)
		g := start(t, b)
		var c connection
		g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
			"name":        "durable",
			"source":      map[string]any{"name": "crash-src"},
			"destination": map[string]any{"name": "crash-dest", "config": map[string]any{"url": dest.URL}},
		}, &c)

		acked := map[string]bool{}
		const cycles = 2
		for cycle := range cycles {
			ids := loadUntilKilled(t, g, g.ingestURL+"/"+c.Source.ID, 150)
			for _, id := range ids {
				acked[id] = true
			}
			t.Logf("cycle %d: %d requests acknowledged before SIGKILL", cycle, len(ids))
			g = start(t, b)
		}

		// Every acknowledged request exists …
		for id := range acked {
			var r request
			if code := g.api("GET", "/2025-07-01/requests/"+id, nil, &r); code != 200 || r.ID != id {
				t.Fatalf("acknowledged request %s is missing after the crash (status %d)", id, code)
			}
		}
		// … and is delivered at least once.
		waitFor(t, 60*time.Second, "every acknowledged request delivered", func() bool {
			seen := map[string]bool{}
			for _, r := range dest.received() {
				seen[r.Headers.Get("X-Hookdeck-Requestid")] = true
			}
			for id := range acked {
				if !seen[id] {
					return false
				}
			}
			return true
		})
		dups := dest.count() - len(acked)
		t.Logf("%d acknowledged requests, %d deliveries (%d repeats after crashes, allowed: at-least-once)", len(acked), dest.count(), dups)
	})
}

// loadUntilKilled runs 8 concurrent clients against url, kills the gateway
// with SIGKILL once minAcked requests were acknowledged, and returns the ids
// of every acknowledged request.
func loadUntilKilled(t *testing.T, g *gateway, url string, minAcked int) []string {
	t.Helper()
	var (
		mu     sync.Mutex
		ids    []string
		nAcked atomic.Int64
		stop   atomic.Bool
		wg     sync.WaitGroup
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				body := fmt.Sprintf(`{"worker":%d,"n":%d,"pad":"%s"}`, w, i, bytes.Repeat([]byte("x"), 512))
				resp, err := client.Post(url, "application/json", bytes.NewReader([]byte(body)))
				if err != nil {
					continue // the server is gone or restarting: not acknowledged
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					continue
				}
				var ack struct {
					RequestID string `json:"request_id"`
				}
				if err := json.Unmarshal(raw, &ack); err != nil || ack.RequestID == "" {
					t.Errorf("2xx without a request id: %s", raw)
					continue
				}
				mu.Lock()
				ids = append(ids, ack.RequestID)
				mu.Unlock()
				nAcked.Add(1)
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for nAcked.Load() < int64(minAcked) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	g.kill()
	stop.Store(true)
	wg.Wait()
	if nAcked.Load() < int64(minAcked) {
		t.Fatalf("only %d requests acknowledged in 30s", nAcked.Load())
	}
	return ids
}
