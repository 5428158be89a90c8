package storetest

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

func rateCases() []testCase {
	return []testCase{
		{"Dispatch/ReleaseEvent", testReleaseEvent},
		{"Dispatch/ReleaseEventPaused", testReleaseEventPaused},
		{"Dispatch/ClaimExcludeDestinations", testClaimExclude},
		{"Dispatch/AcquireRate", testAcquireRate},
		{"Dispatch/AcquireRateConcurrent", testAcquireRateConcurrent},
	}
}

func testReleaseEvent(t *testing.T, f *fixture) {
	p := f.pipe("p")
	sec := func(n int) time.Time { return f.at(time.Duration(n) * time.Second) }
	created := func(n int) func(*model.Event) {
		return func(e *model.Event) { e.CreatedAt, e.UpdatedAt = sec(n), sec(n) }
	}
	e0, e1, e2 := f.event(p, created(0)), f.event(p, created(1)), f.event(p, created(2))

	// Released at its own due time, an event keeps its place in line and
	// is claimable at once by anyone.
	sameIDs(t, "claim by a", f.claimEvents(f.claim("a", 1, 3*time.Second)), []string{e0.ID})
	must(t, "ReleaseEvent", f.s.ReleaseEvent(f.ctx, e0.ID, "a", sec(0)))
	sameIDs(t, "claim by b after the release", f.claimEvents(f.claim("b", 3, 4*time.Second)), []string{e0.ID, e1.ID, e2.ID})
	for _, e := range []model.Event{e0, e1, e2} {
		got := f.getEvent(e.ID)
		if got.Status != model.EventQueued || got.Attempts != 0 {
			t.Fatalf("event %s after release: status %s attempts %d", e.ID, got.Status, got.Attempts)
		}
	}

	// b's leases end; a release moves the event among the others by its
	// new due time.
	must(t, "ReleaseLeases b", f.s.ReleaseLeases(f.ctx, "b"))
	sameIDs(t, "claim by c", f.claimEvents(f.claim("c", 1, 5*time.Second)), []string{e0.ID})
	must(t, "ReleaseEvent later", f.s.ReleaseEvent(f.ctx, e0.ID, "c", sec(1).Add(500*time.Millisecond)))
	sameIDs(t, "claim by d", f.claimEvents(f.claim("d", 3, 6*time.Second)), []string{e1.ID, e0.ID, e2.ID})

	// A release into the future: the event is not due before then.
	must(t, "ReleaseEvent e1 into the future", f.s.ReleaseEvent(f.ctx, e1.ID, "d", sec(60)))
	must(t, "ReleaseEvent e2", f.s.ReleaseEvent(f.ctx, e2.ID, "d", sec(2)))
	sameIDs(t, "claim before the new due time", f.claimEvents(f.claim("e", 3, 10*time.Second)), []string{e2.ID})
	sameIDs(t, "claim at the new due time", f.claimEvents(f.claim("e", 3, 60*time.Second)), []string{e1.ID})

	// Only the lease's owner may release it.
	wantErr(t, "ReleaseEvent by a non-owner", f.s.ReleaseEvent(f.ctx, e1.ID, "a", sec(0)), store.ErrLeaseLost)
	must(t, "ReleaseEvent by the owner", f.s.ReleaseEvent(f.ctx, e1.ID, "e", sec(0)))
	wantErr(t, "ReleaseEvent twice", f.s.ReleaseEvent(f.ctx, e1.ID, "e", sec(0)), store.ErrLeaseLost)
	// A lease that expired and was taken over is lost.
	_, err := f.s.ClaimEvent(f.ctx, f.team.ID, e1.ID, f.claim("g", 1, 61*time.Second))
	must(t, "ClaimEvent by g", err)
	_, err = f.s.ClaimEvent(f.ctx, f.team.ID, e1.ID, f.claim("h", 1, 3*time.Minute))
	must(t, "ClaimEvent by h after g's lease expired", err)
	wantErr(t, "ReleaseEvent by the expired owner", f.s.ReleaseEvent(f.ctx, e1.ID, "g", sec(0)), store.ErrLeaseLost)
	_, err = f.s.ClaimEvent(f.ctx, f.team.ID, e1.ID, f.claim("i", 1, 3*time.Minute+time.Second))
	wantErr(t, "ClaimEvent while h still holds it", err, store.ErrConflict)
	// A cancelled event's lease is gone.
	_, err = f.s.CancelEvent(f.ctx, f.team.ID, e1.ID, sec(200))
	must(t, "CancelEvent", err)
	wantErr(t, "ReleaseEvent of a cancelled event", f.s.ReleaseEvent(f.ctx, e1.ID, "h", sec(0)), store.ErrLeaseLost)
	if got := f.getEvent(e1.ID); got.Status != model.EventCancelled {
		t.Fatalf("cancelled event after release: %s", got.Status)
	}

	// A manual lease on a finished event ends without making it due.
	done := f.event(p)
	f.deliver(done, model.AttemptSuccessful, 200, f.now, nil)
	_, err = f.s.ClaimEvent(f.ctx, f.team.ID, done.ID, f.claim("m", 1, 0))
	must(t, "ClaimEvent", err)
	must(t, "ReleaseEvent of a finished event", f.s.ReleaseEvent(f.ctx, done.ID, "m", f.now))
	sameIDs(t, "claim after releasing a finished event", f.claimEvents(f.claim("n", 10, time.Hour)), []string{e0.ID, e2.ID})
	if got := f.getEvent(done.ID); got.Status != model.EventSuccessful {
		t.Fatalf("finished event after release: %s", got.Status)
	}
}

// testReleaseEventPaused releases an event whose connection was paused
// while it was leased: like a scheduled retry, it waits in HOLD.
func testReleaseEventPaused(t *testing.T, f *fixture) {
	p := f.pipe("p")
	e := f.event(p)
	sameIDs(t, "claim", f.claimEvents(f.claim("a", 1, 0)), []string{e.ID})
	_, err := f.s.PauseConnection(f.ctx, f.team.ID, p.conn.ID, f.at(time.Second))
	must(t, "PauseConnection", err)
	must(t, "ReleaseEvent", f.s.ReleaseEvent(f.ctx, e.ID, "a", f.now))
	if got := f.getEvent(e.ID); got.Status != model.EventHold {
		t.Fatalf("released while paused: status %s, want HOLD", got.Status)
	}
	sameIDs(t, "claim while paused", f.claimEvents(f.claim("b", 1, time.Hour)), nil)
	_, n, err := f.s.UnpauseConnection(f.ctx, f.team.ID, p.conn.ID, f.at(2*time.Hour))
	must(t, "UnpauseConnection", err)
	if n != 1 {
		t.Fatalf("UnpauseConnection released %d events, want 1", n)
	}
	sameIDs(t, "claim after unpause", f.claimEvents(f.claim("b", 1, 2*time.Hour)), []string{e.ID})
}

func testClaimExclude(t *testing.T, f *fixture) {
	src := f.source("src")
	d1, d2, d3 := f.destination("d1"), f.destination("d2"), f.destination("d3")
	p1 := pipe{src: src, dst: d1, conn: f.connection("c1", src, d1)}
	p2 := pipe{src: src, dst: d2, conn: f.connection("c2", src, d2)}
	p3 := pipe{src: src, dst: d3, conn: f.connection("c3", src, d3)}
	e1, e2, e3, e4 := f.event(p1), f.event(p2), f.event(p3), f.event(p1)

	exclude := func(owner string, d time.Duration, ids ...string) store.Claim {
		c := f.claim(owner, 10, d)
		c.ExcludeDestinations = ids
		return c
	}
	sameIDs(t, "claim excluding d1 and an unknown destination", f.claimEvents(exclude("a", 0, d1.ID, "des_unknown")), []string{e2.ID, e3.ID})
	must(t, "ReleaseLeases", f.s.ReleaseLeases(f.ctx, "a"))
	sameIDs(t, "claim excluding d2", f.claimEvents(exclude("b", time.Second, d2.ID)), []string{e1.ID, e3.ID, e4.ID})
	sameIDs(t, "claim excluding d1 while the rest is leased", f.claimEvents(exclude("c", 2*time.Second, d1.ID)), []string{e2.ID})
	must(t, "ReleaseLeases", f.s.ReleaseLeases(f.ctx, "b"))
	must(t, "ReleaseLeases", f.s.ReleaseLeases(f.ctx, "c"))
	sameIDs(t, "claim excluding every destination", f.claimEvents(exclude("d", 3*time.Second, d3.ID, d2.ID, d1.ID)), nil)
	sameIDs(t, "claim excluding none", f.claimEvents(exclude("d", 3*time.Second)), []string{e1.ID, e2.ID, e3.ID, e4.ID})

	// Claim.Destination takes only that destination's events, in order.
	must(t, "ReleaseLeases", f.s.ReleaseLeases(f.ctx, "d"))
	only := func(owner string, limit int, d time.Duration, dest string) store.Claim {
		c := f.claim(owner, limit, d)
		c.Destination = dest
		return c
	}
	sameIDs(t, "claim one of d1", f.claimEvents(only("e", 1, 4*time.Second, d1.ID)), []string{e1.ID})
	sameIDs(t, "claim the rest of d1", f.claimEvents(only("e", 5, 4*time.Second, d1.ID)), []string{e4.ID})
	sameIDs(t, "claim d1 when all are leased", f.claimEvents(only("e", 5, 4*time.Second, d1.ID)), nil)
	sameIDs(t, "claim d2", f.claimEvents(only("e", 5, 4*time.Second, d2.ID)), []string{e2.ID})
}

func testAcquireRate(t *testing.T, f *fixture) {
	d1, d2 := f.destination("d1"), f.destination("d2")
	const interval = 100 * time.Millisecond
	acquire := func(what, dst string, now time.Time, interval time.Duration, wantOK bool, wantNext *time.Time) {
		t.Helper()
		ok, next, err := f.s.AcquireRate(f.ctx, dst, interval, now, 1)
		must(t, "AcquireRate "+what, err)
		if ok != wantOK {
			t.Fatalf("AcquireRate %s: ok = %v, want %v", what, ok, wantOK)
		}
		if wantNext != nil && !next.Equal(*wantNext) {
			t.Fatalf("AcquireRate %s: next = %v, want %v", what, next, *wantNext)
		}
	}
	ms := func(n int) time.Time { return f.at(time.Duration(n) * time.Millisecond) }
	acquire("first", d1.ID, ms(0), interval, true, nil)
	acquire("within the interval", d1.ID, ms(40), interval, false, ptr(ms(100)))
	acquire("again within the interval", d1.ID, ms(99), interval, false, ptr(ms(100)))
	acquire("other destination", d2.ID, ms(50), interval, true, nil)
	acquire("at the next slot", d1.ID, ms(100), interval, true, nil)
	acquire("just after", d1.ID, ms(101), interval, false, ptr(ms(200)))
	// No burst: a long idle period earns no extra slots.
	acquire("after a pause", d1.ID, ms(1000), interval, true, nil)
	acquire("right after the pause", d1.ID, ms(1001), interval, false, ptr(ms(1100)))
	// A slot taken late counts from when it was taken.
	acquire("late", d1.ID, ms(1150), interval, true, nil)
	acquire("an interval after the due slot", d1.ID, ms(1200), interval, false, ptr(ms(1250)))
	// The interval is the caller's: a new rate applies from the next slot.
	acquire("slower rate", d1.ID, ms(1250), time.Second, true, nil)
	acquire("within the slower interval", d1.ID, ms(1500), interval, false, ptr(ms(2250)))
	acquire("other destination, its own pace", d2.ID, ms(150), interval, true, nil)

	// Several slots at once: now, +interval, +2·interval; the next free
	// one follows them.
	d3 := f.destination("d3")
	ok, next, err := f.s.AcquireRate(f.ctx, d3.ID, interval, ms(0), 3)
	must(t, "AcquireRate three slots", err)
	if !ok || !next.Equal(ms(300)) {
		t.Fatalf("AcquireRate three slots: ok = %v, next = %v; want true, %v", ok, next, ms(300))
	}
	acquire("inside the three slots", d3.ID, ms(250), interval, false, ptr(ms(300)))
	acquire("after the three slots", d3.ID, ms(300), interval, true, nil)
}

// testAcquireRateConcurrent has workers race for slots over a simulated
// window: each call takes the next tick of a shared clock as its now. No
// two slots may be closer than the interval, and the destination must not
// starve.
func testAcquireRateConcurrent(t *testing.T, f *fixture) {
	dst := f.destination("d")
	const (
		workers  = 20
		tick     = time.Millisecond
		interval = 10 * time.Millisecond
		window   = 600 * time.Millisecond
	)
	var (
		clock atomic.Int64
		mu    sync.Mutex
		slots []time.Time
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				now := f.now.Add(time.Duration(clock.Add(1)) * tick)
				if now.Sub(f.now) > window {
					return
				}
				ok, next, err := f.s.AcquireRate(f.ctx, dst.ID, interval, now, 1)
				if err != nil {
					t.Errorf("AcquireRate: %v", err)
					return
				}
				if !ok && !next.After(now) {
					t.Errorf("AcquireRate at %v refused with next slot %v, not ahead", now, next)
					return
				}
				if ok {
					mu.Lock()
					slots = append(slots, now)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	slices.SortFunc(slots, time.Time.Compare)
	for i := 1; i < len(slots); i++ {
		if gap := slots[i].Sub(slots[i-1]); gap < interval {
			t.Fatalf("slots %d and %d are %v apart, want at least %v", i-1, i, gap, interval)
		}
	}
	// A refused caller's now is at most one tick per worker behind the
	// clock, so a slot is missed by at most that much.
	most := int(window/interval) + 1
	least := int(window / (interval + 2*workers*tick))
	if len(slots) > most || len(slots) < least {
		t.Fatalf("%d slots in %v at one per %v, want between %d and %d", len(slots), window, interval, least, most)
	}
}
