package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// httpServer is a local server on a free loopback port.
type httpServer struct {
	URL string
	srv *http.Server
}

func listen(h http.Handler) (*httpServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &httpServer{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return s, nil
}

func (s *httpServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

// helloWorld is the baseline: a plain net/http handler that reads the body
// and answers a short JSON acknowledgement, as a webhook receiver that
// does no work would.
func helloWorld() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"SUCCESS"}`)
	})
}

// destination answers every delivery with 200 and measures end-to-end
// latency from the sent time the generator stamped on the webhook.
type destination struct {
	received atomic.Int64
	lastAt   atomic.Int64 // Unix ns of the latest delivery
	latency  histogram
}

func (d *destination) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	now := time.Now()
	if ns, err := strconv.ParseInt(r.Header.Get(SentHeader), 10, 64); err == nil {
		d.latency.Record(now.Sub(time.Unix(0, ns)))
	}
	d.received.Add(1)
	for {
		last := d.lastAt.Load()
		if now.UnixNano() <= last || d.lastAt.CompareAndSwap(last, now.UnixNano()) {
			break
		}
	}
	_, _ = io.WriteString(w, `{"ok":true}`)
}

// reset forgets what was received (after a warm-up).
func (d *destination) reset() {
	d.received.Store(0)
	d.lastAt.Store(0)
	d.latency.reset()
}

// waitReceived waits until n deliveries arrived or the timeout passes, and
// reports whether they did.
func (d *destination) waitReceived(ctx context.Context, n int64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for d.received.Load() < n {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
