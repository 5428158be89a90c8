package dispatch

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// throttle enforces destinations' rate limits without churning the queue.
//
// A destination with a limit is "limited" once one of its events is seen.
// While limited, general claims skip it, and the claim loop serves it on
// its own: for a per-period limit it takes a delivery slot from the store
// (store.Dispatch.AcquireRate, shared by every process on one database)
// and then claims exactly one event of that destination, the oldest; for a
// "concurrent" limit it claims as many as the cap leaves room for, counted
// over every process (store.Claim.MaxLeased). Events
// therefore wait (they are not failed) and leave in order of arrival. When
// a targeted claim finds nothing, the backlog is gone and the destination
// goes back to general claims.
type throttle struct {
	mu      sync.Mutex
	limited map[string]*limitState
	// slotAt holds, for events claimed with a per-period slot, the slot's
	// time: the attempt waits for it (see rateLead).
	slotAt map[string]time.Time
}

type limitState struct {
	teamID   string
	lim      limit
	next     time.Time // per-period: earliest time to ask for a slot
	inflight int       // concurrent: attempts in flight in this process
	capped   time.Time // concurrent: other processes fill the cap until about then
	slot     time.Time // per-period: the time of the slot just taken
}

// rateLead is how far ahead of the present a per-period slot is booked.
// The attempt then waits for the slot's time, so it leaves on time however
// long the claim that follows the booking takes; without it, a slow claim
// in one process and a fast one in another would put two deliveries
// closer than the interval.
const rateLead = 100 * time.Millisecond

// capRecheck is how long a process waits before asking again for room
// under a concurrency cap that other processes' attempts fill: their
// attempts' ends are not signalled across processes, so a capped
// destination with waiting events is polled at this pace.
const capRecheck = 200 * time.Millisecond

func newThrottle() *throttle {
	return &throttle{limited: map[string]*limitState{}, slotAt: map[string]time.Time{}}
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
	if c.RateLimitPeriod == "concurrent" {
		return limit{concurrent: max(1, int(*c.RateLimit))}, true
	}
	per := map[string]time.Duration{"": time.Second, "second": time.Second, "minute": time.Minute, "hour": time.Hour}
	p, ok := per[c.RateLimitPeriod]
	if !ok {
		return limit{}, false
	}
	return limit{interval: time.Duration(float64(p) / *c.RateLimit)}, true
}

// excluded lists the limited destinations, which general claims skip.
func (t *throttle) excluded() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.limited))
	for d := range t.limited {
		out = append(out, d)
	}
	return out
}

// claimLimited claims the events that limited destinations may take now,
// at most free of them.
func (d *Dispatcher) claimLimited(ctx context.Context, free int, now time.Time) []model.Event {
	t := d.throttle
	t.mu.Lock()
	ids := make([]string, 0, len(t.limited))
	for id := range t.limited {
		ids = append(ids, id)
	}
	t.mu.Unlock()

	var out []model.Event
	for _, id := range ids {
		if free <= 0 {
			break
		}
		if !d.refreshLimit(ctx, id) {
			continue
		}
		n, maxLeased := d.capacity(ctx, id, now)
		if n == 0 {
			continue
		}
		events, err := d.store.ClaimEvents(ctx, store.Claim{Owner: d.cfg.Owner, Limit: min(n, free), Lease: d.cfg.Lease, Now: now,
			Destination: id, MaxLeased: maxLeased})
		if errors.Is(err, store.ErrAtCapacity) {
			// Other processes fill the cap: ask again a little later.
			t.mu.Lock()
			if st := t.limited[id]; st != nil {
				st.capped = now.Add(capRecheck)
			}
			t.mu.Unlock()
			d.WakeAt(now.Add(capRecheck))
			continue
		}
		if err != nil {
			d.log.Error("dispatch: claim events of a limited destination", "destination_id", id, "err", err)
			continue
		}
		t.mu.Lock()
		st := t.limited[id]
		if len(events) == 0 {
			// The backlog is gone (or paused): back to general claims.
			if st != nil && st.inflight == 0 {
				delete(t.limited, id)
			}
		} else if st != nil && st.lim.concurrent > 0 {
			st.inflight += len(events)
		} else if st != nil && !st.slot.IsZero() {
			// The i-th event takes the i-th of the consecutive slots.
			for i, ev := range events {
				t.slotAt[ev.ID] = st.slot.Add(time.Duration(i) * st.lim.interval)
			}
		}
		t.mu.Unlock()
		free -= len(events)
		out = append(out, events...)
	}
	return out
}

// refreshLimit rereads a limited destination's limit, so that a changed
// limit applies at its next slot; it reports whether the destination is
// still limited.
func (d *Dispatcher) refreshLimit(ctx context.Context, id string) bool {
	t := d.throttle
	t.mu.Lock()
	st, ok := t.limited[id]
	t.mu.Unlock()
	if !ok {
		return false
	}
	dest, err := d.store.GetDestination(ctx, st.teamID, id)
	if err != nil {
		return true // keep the last known limit
	}
	lim, limited := limitOf(dest)
	t.mu.Lock()
	defer t.mu.Unlock()
	if !limited {
		if st.inflight == 0 {
			delete(t.limited, id)
		}
		d.Wake()
		return false
	}
	st.lim = lim
	return true
}

// capacity is how many events of a limited destination may start now,
// and, for a concurrency cap, the cap the claim keeps over every process.
func (d *Dispatcher) capacity(ctx context.Context, id string, now time.Time) (int, int) {
	t := d.throttle
	t.mu.Lock()
	st, ok := t.limited[id]
	if !ok {
		t.mu.Unlock()
		return 0, 0
	}
	if st.lim.concurrent > 0 {
		if st.capped.After(now) {
			at := st.capped
			t.mu.Unlock()
			d.WakeAt(at)
			return 0, 0
		}
		n := st.lim.concurrent - st.inflight
		t.mu.Unlock()
		return max(n, 0), st.lim.concurrent
	}
	if st.next.After(now) {
		t.mu.Unlock()
		d.WakeAt(st.next)
		return 0, 0
	}
	interval := st.lim.interval
	t.mu.Unlock()

	// Slots are shared by every process: book them rateLead from the
	// present moment (not from the loop's start, which may be late). At
	// high rates one booking takes the slots of a whole rateLead, so that
	// the store's round trips do not cap the rate.
	now = time.Now().UTC().Add(rateLead)
	n := slotsPerBooking(interval)
	ok, next, err := d.store.AcquireRate(ctx, id, interval, now, n)
	if err != nil {
		d.log.Error("dispatch: acquire rate slot", "destination_id", id, "err", err)
		return 0, 0
	}
	if !ok {
		t.mu.Lock()
		st.next = next.Add(-rateLead)
		t.mu.Unlock()
		d.WakeAt(next.Add(-rateLead))
		return 0, 0
	}
	// The n slots from now are ours; the next free one is at next.
	t.mu.Lock()
	st.slot = now
	st.next = next.Add(-rateLead)
	t.mu.Unlock()
	d.WakeAt(next.Add(-rateLead))
	return n, 0
}

// slotsPerBooking is how many consecutive slots one AcquireRate call takes:
// those of one rateLead (at least one, at most 64).
func slotsPerBooking(interval time.Duration) int {
	if interval <= 0 {
		return 1
	}
	return min(max(int(rateLead/interval), 1), 64)
}

// awaitSlot waits, before an attempt claimed by claimLimited, for the time
// of the rate slot it was claimed with, if any. A slot the attempt can no
// longer keep — the claim that followed the booking returned later than
// slotTolerance after it (a loaded machine, a cold statement) — is given
// up for a new one, so that a late attempt never lands next to the
// following slot's. It returns false if ctx ended first: the attempt is
// not made (shutdown releases the lease).
func (d *Dispatcher) awaitSlot(ctx context.Context, ev model.Event) bool {
	t := d.throttle
	t.mu.Lock()
	at, ok := t.slotAt[ev.ID]
	delete(t.slotAt, ev.ID)
	var interval time.Duration
	if st := t.limited[ev.DestinationID]; st != nil {
		interval = st.lim.interval
	}
	t.mu.Unlock()
	if !ok {
		return true
	}
	for interval > 0 && time.Since(at) > slotTolerance(interval) {
		next, err := d.rebook(ctx, ev.DestinationID, interval)
		if err != nil {
			return ctx.Err() == nil // the store failed: keep the old slot
		}
		at = next
	}
	return sleepUntil(ctx, at)
}

// slotTolerance is how late an attempt may still use its slot.
func slotTolerance(interval time.Duration) time.Duration {
	return max(interval/2, 10*time.Millisecond)
}

// rebook books one new slot, rateLead ahead, waiting for the destination's
// next free one as long as needed, and returns its time.
func (d *Dispatcher) rebook(ctx context.Context, destinationID string, interval time.Duration) (time.Time, error) {
	for {
		at := time.Now().UTC().Add(rateLead)
		ok, next, err := d.store.AcquireRate(ctx, destinationID, interval, at, 1)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			return at, nil
		}
		if !sleepUntil(ctx, next.Add(-rateLead)) {
			return time.Time{}, ctx.Err()
		}
	}
}

// sleepUntil waits until at; false if ctx ended first.
func sleepUntil(ctx context.Context, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// admit decides whether an event from a general claim may be attempted
// now. An event of a limited destination (seen for the first time here)
// marks the destination limited and is released, keeping its place, to be
// claimed again through claimLimited.
func (d *Dispatcher) admit(ctx context.Context, cache *resourceCache, ev model.Event) bool {
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
	if _, ok := t.limited[dest.ID]; !ok {
		t.limited[dest.ID] = &limitState{teamID: ev.TeamID, lim: lim}
	}
	t.mu.Unlock()
	d.release(ctx, ev)
	d.Wake()
	return false
}

// finished tells the throttle that an attempt claimed by claimLimited is
// over.
func (d *Dispatcher) finished(ev model.Event) {
	t := d.throttle
	t.mu.Lock()
	st, ok := t.limited[ev.DestinationID]
	if ok && st.lim.concurrent > 0 && st.inflight > 0 {
		st.inflight--
		t.mu.Unlock()
		d.Wake()
		return
	}
	t.mu.Unlock()
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
