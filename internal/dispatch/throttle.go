package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
)

// throttle enforces destinations' rate limits. Per-period limits take
// slots from the store (store.Dispatch.AcquireRate), so every process on
// one database shares them; the "concurrent" limit counts this process's
// attempts in flight. An event that finds its destination throttled is
// released with its place in line kept, and the destination is left out
// of claims until its next slot, so limited events wait rather than fail
// and leave in order of arrival.
type throttle struct {
	mu       sync.Mutex
	until    map[string]time.Time // destination → next slot
	inflight map[string]int       // destination → attempts in flight
	full     map[string]bool      // destinations at their concurrency cap
}

func newThrottle() *throttle {
	return &throttle{until: map[string]time.Time{}, inflight: map[string]int{}, full: map[string]bool{}}
}

// excluded lists destinations that claims should skip now.
func (t *throttle) excluded(now time.Time) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for d, at := range t.until {
		if at.After(now) {
			out = append(out, d)
		} else {
			delete(t.until, d)
		}
	}
	for d := range t.full {
		out = append(out, d)
	}
	return out
}

// limit describes a destination's rate limit: interval between slots, or a
// concurrency cap.
type limit struct {
	interval   time.Duration
	concurrent int
}

func limitOf(d model.Destination) (limit, bool) {
	c := d.Config
	if d.Type == model.DestinationCLI || c.RateLimit == nil || *c.RateLimit <= 0 {
		return limit{}, false
	}
	per := map[string]time.Duration{"": time.Second, "second": time.Second, "minute": time.Minute, "hour": time.Hour}
	if c.RateLimitPeriod == "concurrent" {
		return limit{concurrent: max(1, int(*c.RateLimit))}, true
	}
	p, ok := per[c.RateLimitPeriod]
	if !ok {
		return limit{}, false
	}
	return limit{interval: time.Duration(float64(p) / *c.RateLimit)}, true
}

// admit decides whether a claimed event may be attempted now. When it may
// not, the event is released and its destination excluded until it can.
func (d *Dispatcher) admit(ctx context.Context, cache *resourceCache, ev model.Event, now time.Time) bool {
	dest, err := cache.destination(ctx, ev)
	if err != nil {
		return true // the attempt itself reports the problem
	}
	lim, limited := limitOf(dest)
	if !limited {
		return true
	}
	t := d.throttle
	t.mu.Lock()
	if at, ok := t.until[dest.ID]; ok && at.After(now) || t.full[dest.ID] {
		t.mu.Unlock()
		d.release(ctx, ev)
		return false
	}
	if lim.concurrent > 0 {
		if t.inflight[dest.ID] >= lim.concurrent {
			t.full[dest.ID] = true
			t.mu.Unlock()
			d.release(ctx, ev)
			return false
		}
		t.inflight[dest.ID]++
		if t.inflight[dest.ID] >= lim.concurrent {
			t.full[dest.ID] = true
		}
		t.mu.Unlock()
		return true
	}
	t.mu.Unlock()
	ok, next, err := d.store.AcquireRate(ctx, dest.ID, lim.interval, now)
	if err != nil {
		d.log.Error("dispatch: acquire rate slot", "destination_id", dest.ID, "err", err)
		d.release(ctx, ev)
		return false
	}
	if ok {
		return true
	}
	t.mu.Lock()
	t.until[dest.ID] = next
	t.mu.Unlock()
	d.release(ctx, ev)
	d.WakeAt(next)
	return false
}

// finished tells the throttle that an admitted attempt is over.
func (d *Dispatcher) finished(ctx context.Context, cache *resourceCache, ev model.Event) {
	dest, err := cache.destination(ctx, ev)
	if err != nil {
		return
	}
	lim, limited := limitOf(dest)
	if !limited || lim.concurrent == 0 {
		return
	}
	t := d.throttle
	t.mu.Lock()
	if t.inflight[dest.ID] > 0 {
		t.inflight[dest.ID]--
	}
	wasFull := t.full[dest.ID]
	delete(t.full, dest.ID)
	t.mu.Unlock()
	if wasFull {
		d.Wake()
	}
}

// release gives a claimed event back without an attempt, keeping its place.
func (d *Dispatcher) release(ctx context.Context, ev model.Event) {
	due := ev.CreatedAt
	if ev.NextAttemptAt != nil {
		due = *ev.NextAttemptAt
	}
	if err := d.store.ReleaseEvent(ctx, ev.ID, d.cfg.Owner, due); err != nil {
		// The lease expires on its own; only latency is lost.
		d.log.Warn("dispatch: release throttled event", "event_id", ev.ID, "err", err)
	}
}
