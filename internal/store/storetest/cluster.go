package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// clusterCases pin down what several processes sharing a store rely on:
// stale owners cannot touch work taken over by another, ordered
// destinations hand out one event at a time in ingest order, and a
// destination's concurrency cap holds over every owner.
func clusterCases() []testCase {
	return []testCase{
		{"Cluster/StaleOwner", testStaleOwner},
		{"Cluster/OrderedHeadOnly", testOrderedHeadOnly},
		{"Cluster/OrderedIngestOrder", testOrderedIngestOrder},
		{"Cluster/OrderedExpiredLease", testOrderedExpiredLease},
		{"Cluster/OrderedConcurrentClaims", testOrderedConcurrentClaims},
		{"Cluster/MaxLeased", testMaxLeased},
	}
}

// orderedPipe is a pipe whose destination delivers in order.
func (f *fixture) orderedPipe(name string) pipe {
	f.t.Helper()
	src := f.source(name)
	dst := f.destination(name, func(d *model.Destination) { d.Config.DeliveryMode = model.DeliveryOrdered })
	return pipe{src: src, dst: dst, conn: f.connection(name, src, dst)}
}

// A process whose lease expired and was taken over can neither extend the
// new owner's lease nor complete the event.
func testStaleOwner(t *testing.T, f *fixture) {
	p := f.pipe("p")
	e := f.event(p)
	sameIDs(t, "claim by a", f.claimEvents(f.claim("a", 1, 0)), []string{e.ID})
	sameIDs(t, "claim by b after a's lease expired", f.claimEvents(f.claim("b", 1, 2*time.Minute)), []string{e.ID})
	n, err := f.s.RenewLeases(f.ctx, "a", f.at(time.Hour))
	must(t, "RenewLeases by a", err)
	if n != 0 {
		t.Fatalf("stale owner a renewed %d leases, want 0", n)
	}
	// b's lease (2 min + 1 min) was not extended to a's hour.
	sameIDs(t, "claim by c after b's lease", f.claimEvents(f.claim("c", 1, 4*time.Minute)), []string{e.ID})
	a := f.attempt(e, model.AttemptSuccessful, 200, f.at(4*time.Minute))
	err = f.s.RecordAttempt(f.ctx, store.AttemptOutcome{Owner: "a", Attempt: a, EventStatus: model.EventSuccessful})
	wantErr(t, "RecordAttempt by stale owner a", err, store.ErrLeaseLost)
	if got := f.getEvent(e.ID); got.Status != model.EventQueued {
		t.Fatalf("status after a stale owner's attempt = %s, want QUEUED", got.Status)
	}
}

func testOrderedHeadOnly(t *testing.T, f *fixture) {
	o := f.orderedPipe("o")
	p := f.pipe("p")
	e1, e2, e3 := f.event(o), f.event(o), f.event(o)
	free := f.event(p)
	sameIDs(t, "first claim: the head, then the parallel destination", f.claimEvents(f.claim("a", 10, 0)), []string{e1.ID, free.ID})
	sameIDs(t, "claim while the head is leased", f.claimEvents(f.claim("b", 10, time.Second)), nil)
	a := f.attempt(free, model.AttemptSuccessful, 200, f.at(time.Second))
	must(t, "RecordAttempt", f.s.RecordAttempt(f.ctx, store.AttemptOutcome{Owner: "a", Attempt: a, EventStatus: model.EventSuccessful}))

	// The head fails and waits for a retry: it holds the others back.
	retry := f.at(time.Hour)
	a = f.attempt(e1, model.AttemptFailed, 500, f.at(time.Second))
	must(t, "RecordAttempt", f.s.RecordAttempt(f.ctx, store.AttemptOutcome{Owner: "a", Attempt: a,
		EventStatus: model.EventScheduled, NextAttemptAt: &retry, NextTrigger: model.TriggerAutomatic}))
	sameIDs(t, "claim while the head waits for its retry", f.claimEvents(f.claim("b", 10, 2*time.Second)), nil)
	sameIDs(t, "claim once the retry is due", f.claimEvents(f.claim("b", 10, 61*time.Minute)), []string{e1.ID})

	// Cancelled, it lets the next one go.
	_, err := f.s.CancelEvent(f.ctx, f.team.ID, e1.ID, f.at(62*time.Minute))
	must(t, "CancelEvent", err)
	sameIDs(t, "claim after the head was cancelled", f.claimEvents(f.claim("c", 10, 62*time.Minute)), []string{e2.ID})
	// e2 is leased by c; its success lets e3 go.
	a = f.attempt(e2, model.AttemptSuccessful, 200, f.at(63*time.Minute))
	must(t, "RecordAttempt", f.s.RecordAttempt(f.ctx, store.AttemptOutcome{Owner: "c", Attempt: a, EventStatus: model.EventSuccessful}))
	sameIDs(t, "claim after the head succeeded", f.claimEvents(f.claim("c", 10, 63*time.Minute)), []string{e3.ID})
}

// The order is the requests' ingest order, not the order events were
// routed in, and an event waits for the requests ingested before it that
// are not routed yet.
func testOrderedIngestOrder(t *testing.T, f *fixture) {
	o := f.orderedPipe("o")
	r1 := f.request(o.src, func(r *model.Request) { r.IngestedAt = f.at(-2 * time.Second) })
	r2 := f.request(o.src, func(r *model.Request) { r.IngestedAt = f.at(-time.Second) })
	e2 := f.newEvent(r2, o)
	f.route(r2, e2)
	sameIDs(t, "claim while an earlier request is unrouted", f.claimEvents(f.claim("a", 10, 0)), nil)
	e1 := f.newEvent(r1, o)
	f.route(r1, e1)
	sameIDs(t, "claim once it is routed", f.claimEvents(f.claim("a", 10, 0)), []string{e1.ID})
	a := f.attempt(e1, model.AttemptSuccessful, 200, f.now)
	must(t, "RecordAttempt", f.s.RecordAttempt(f.ctx, store.AttemptOutcome{Owner: "a", Attempt: a, EventStatus: model.EventSuccessful}))
	sameIDs(t, "claim the next", f.claimEvents(f.claim("a", 10, 0)), []string{e2.ID})
}

// A head whose owner died is the head again once its lease expires.
func testOrderedExpiredLease(t *testing.T, f *fixture) {
	o := f.orderedPipe("o")
	e1, _ := f.event(o), f.event(o)
	sameIDs(t, "claim by a", f.claimEvents(f.claim("a", 10, 0)), []string{e1.ID})
	sameIDs(t, "claim by b after a's lease expired", f.claimEvents(f.claim("b", 10, 2*time.Minute)), []string{e1.ID})
	// A targeted claim (a rate-limited destination's slot) keeps the order.
	c := f.claim("c", 10, 4*time.Minute)
	c.Destination = o.dst.ID
	sameIDs(t, "targeted claim after b's lease expired", f.claimEvents(c), []string{e1.ID})
}

// Concurrent claimers never hold two events of an ordered destination.
func testOrderedConcurrentClaims(t *testing.T, f *fixture) {
	o := f.orderedPipe("o")
	for range 5 {
		f.event(o)
	}
	var (
		mu  sync.Mutex
		got []string
		wg  sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for range 3 {
				evs, err := f.s.ClaimEvents(f.ctx, f.claim(string(rune('a'+w)), 5, 0))
				if err != nil {
					t.Errorf("ClaimEvents: %v", err)
					return
				}
				mu.Lock()
				got = append(got, eventIDs(evs)...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != 1 {
		t.Fatalf("concurrent claims of an ordered destination leased %d events, want 1: %v", len(got), got)
	}
}

func testMaxLeased(t *testing.T, f *fixture) {
	p := f.pipe("p")
	for range 5 {
		f.event(p)
	}
	capped := func(owner string, d time.Duration) store.Claim {
		c := f.claim(owner, 10, d)
		c.Destination, c.MaxLeased = p.dst.ID, 2
		return c
	}
	if got := f.claimEvents(capped("a", 0)); len(got) != 2 {
		t.Fatalf("capped claim by a took %d events, want 2", len(got))
	}
	_, err := f.s.ClaimEvents(f.ctx, capped("b", time.Second))
	if !errors.Is(err, store.ErrAtCapacity) {
		t.Fatalf("capped claim by b while a holds 2: %v, want ErrAtCapacity", err)
	}
	// The cap counts every owner; a's leases expire and b takes their room.
	if got := f.claimEvents(capped("b", 2*time.Minute)); len(got) != 2 {
		t.Fatalf("capped claim by b after a's leases expired took %d events, want 2", len(got))
	}
	c := capped("c", 2*time.Minute)
	c.MaxLeased = 3
	if got := f.claimEvents(c); len(got) != 1 {
		t.Fatalf("claim with a cap of 3 while 2 are leased took %d events, want 1", len(got))
	}
}
