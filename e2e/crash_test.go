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
