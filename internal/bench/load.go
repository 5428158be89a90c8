package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// SentHeader carries the time a webhook was sent (Unix nanoseconds); the
// gateway forwards it to the destination, which measures the end-to-end
// latency from it.
const SentHeader = "X-Bench-Sent"

// load is one run of the load generator.
type load struct {
	URL         string
	Concurrency int
	BodyBytes   int
	// Duration bounds the run; 0 means until Requests were acknowledged.
	Duration time.Duration
	// Requests, if > 0, stops the run once that many were acknowledged.
	Requests int64
}

// loadResult is what a run measured.
type loadResult struct {
	OK      int64
	Errors  int64
	Elapsed time.Duration
	Latency *histogram
	// FirstError describes one failure, for the report.
	FirstError string
}

// PerSec is the acknowledged requests per second.
func (r loadResult) PerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// newClient is a keep-alive client with one connection per worker.
func newClient(concurrency int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        concurrency,
			MaxIdleConnsPerHost: concurrency,
			MaxConnsPerHost:     concurrency,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		Timeout: 60 * time.Second,
	}
}

// body returns a JSON object of exactly size bytes (at least 32).
func body(size, worker int) []byte {
	head := fmt.Sprintf(`{"worker":%d,"type":"bench.event","pad":"`, worker)
	tail := `"}`
	pad := max(size-len(head)-len(tail), 0)
	return []byte(head + string(bytes.Repeat([]byte("x"), pad)) + tail)
}

// run sends POST requests with Concurrency keep-alive workers until the
// duration passes, Requests were acknowledged, or ctx ends. Requests in
// flight when the duration passes are let finish (cancelling them would
// leave the server with commits whose answer nobody reads). Only 2xx
// answers count as acknowledged.
func (l load) run(ctx context.Context) loadResult {
	client := newClient(l.Concurrency)
	defer client.CloseIdleConnections()
	var (
		res      = loadResult{Latency: &histogram{}}
		ok, errs atomic.Int64
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(l.Duration)
	more := func() bool {
		return ctx.Err() == nil && (l.Duration <= 0 || time.Now().Before(deadline)) &&
			(l.Requests <= 0 || ok.Load() < l.Requests)
	}
	fail := func(msg string) {
		errOnce.Do(func() { res.FirstError = msg })
		errs.Add(1)
	}
	for w := range l.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := body(l.BodyBytes, w)
			for more() {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.URL, bytes.NewReader(payload))
				if err != nil {
					fail(err.Error())
					return
				}
				req.Header.Set("Content-Type", "application/json")
				sent := time.Now()
				req.Header.Set(SentHeader, strconv.FormatInt(sent.UnixNano(), 10))
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						fail(err.Error())
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					fail("HTTP " + resp.Status)
					continue
				}
				res.Latency.Record(time.Since(sent))
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.OK, res.Errors = ok.Load(), errs.Load()
	return res
}
