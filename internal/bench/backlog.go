package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// runBacklog ingests n events while their connection is paused (they wait
// in HOLD: stored, not attempted, no CPU spent on them), samples RSS,
// then unpauses and measures the drain. emptyRate is the end-to-end rate
// measured with an empty queue.
func runBacklog(ctx context.Context, opts Options, gw *gateway, emptyRate float64, progress func(string, ...any)) (*Backlog, error) {
	n := opts.Backlog
	dest := &destination{}
	destSrv, err := listen(dest)
	if err != nil {
		return nil, fmt.Errorf("bench: backlog destination: %w", err)
	}
	defer destSrv.Close()
	conn, err := gw.connect(ctx, "bench-backlog", destSrv.URL)
	if err != nil {
		return nil, err
	}
	if err := gw.api(ctx, http.MethodPut, "/connections/"+conn.ID+"/pause", nil, nil); err != nil {
		return nil, err
	}
	created, err := gw.metric(ctx, "sluice_events_created_total")
	if err != nil {
		return nil, err
	}

	b := &Backlog{Events: n}
	b.RSSBeforeBytes, _ = rss()
	sampler := newRSSSampler()
	defer sampler.stop()

	progress("backlog: ingesting %d events with the connection paused", n)
	start := time.Now()
	res := load{URL: gw.ingestURL(conn), Concurrency: opts.Concurrency, BodyBytes: opts.BodyBytes, Requests: n}.run(ctx)
	b.IngestSeconds = time.Since(start).Seconds()
	b.IngestPerSec = res.PerSec()
	if res.OK < n {
		return b, fmt.Errorf("bench: backlog: only %d of %d requests acknowledged (%s)", res.OK, n, res.FirstError)
	}
	// Extra acknowledged requests (the last workers' in flight) are
	// events too.
	n = res.OK
	b.Events = n
	if err := gw.waitMetric(ctx, "sluice_events_created_total", created+float64(n), max(10*time.Minute, time.Duration(n)*time.Millisecond)); err != nil {
		return b, err
	}
	b.RoutedSeconds = time.Since(start).Seconds()
	// Held: nothing should move, and memory should not grow.
	time.Sleep(min(2*time.Second, opts.Duration))
	b.RSSHeldMaxBytes = sampler.max()

	progress("backlog: unpausing; draining %d events", n)
	sampler.restart()
	unpause := time.Now()
	if err := gw.api(ctx, http.MethodPut, "/connections/"+conn.ID+"/unpause", nil, nil); err != nil {
		return b, err
	}
	b.UnpauseSeconds = time.Since(unpause).Seconds()
	b.Complete = dest.waitReceived(ctx, n, max(30*time.Minute, time.Duration(n)*2*time.Millisecond))
	b.RSSDrainMaxBytes = sampler.max()
	b.RSSAfterBytes, _ = rss()
	if last := dest.lastAt.Load(); last > 0 {
		b.DrainSeconds = time.Unix(0, last).Sub(unpause).Seconds()
		b.Delivered = dest.received.Load()
		if b.DrainSeconds > 0 {
			b.DrainPerSec = float64(b.Delivered) / b.DrainSeconds
		}
	}
	if emptyRate > 0 {
		b.DrainVsEmpty = b.DrainPerSec / emptyRate
	}
	return b, nil
}

// rssSampler records the largest RSS seen, sampling every 250 ms.
type rssSampler struct {
	mu   sync.Mutex
	peak int64
	quit chan struct{}
	done chan struct{}
}

func newRSSSampler() *rssSampler {
	s := &rssSampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) sample() {
	cur, _ := rss()
	s.mu.Lock()
	s.peak = max(s.peak, cur)
	s.mu.Unlock()
}

// max is the peak since the start or the last restart.
func (s *rssSampler) max() int64 {
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// restart forgets the peak.
func (s *rssSampler) restart() {
	s.mu.Lock()
	s.peak = 0
	s.mu.Unlock()
	s.sample()
}

func (s *rssSampler) stop() {
	close(s.quit)
	<-s.done
}
