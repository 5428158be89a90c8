package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

func dispatchCases() []testCase {
	return []testCase{
		{"Dispatch/ClaimDue", testClaimDue},
		{"Dispatch/ClaimLeases", testClaimEventLeases},
		{"Dispatch/ClaimConcurrent", testClaimConcurrent},
		{"Dispatch/ClaimEvent", testClaimEvent},
		{"Dispatch/RecordAttempt", testRecordAttempt},
		{"Dispatch/LeaseLost", testLeaseLost},
		{"Dispatch/ReleaseLeases", testReleaseLeases},
		{"Dispatch/RenewLeases", testRenewLeases},
		{"Dispatch/CancelEvent", testCancelEvent},
	}
}

func testClaimDue(t *testing.T, f *fixture) {
	p := f.pipe("p")
	queued := f.event(p)
	later := f.event(p, func(e *model.Event) {
		e.Status = model.EventScheduled
		e.NextAttemptAt = ptr(f.at(time.Hour))
	})
	overdue := f.event(p, func(e *model.Event) {
		e.Status = model.EventScheduled
		e.NextAttemptAt = ptr(f.at(-time.Minute))
	})
	evs, err := f.s.ClaimEvents(f.ctx, f.claim("a", 10, 0))
	must(t, "ClaimEvents", err)
	sameIDs(t, "due events, earliest first", eventIDs(evs), []string{overdue.ID, queued.ID})
	req := f.getRequest(queued.RequestID)
	req, err = f.s.GetRequest(f.ctx, f.team.ID, req.ID, true)
	must(t, "GetRequest", err)
	if evs[1].Data == nil {
		t.Fatal("claimed event without Data")
	}
	equal(t, "claimed event data", *evs[1].Data, req.Data)
	evs[1].Data = nil
	equal(t, "claimed event", evs[1], queued)

	// The first leases last a minute: claim while they hold.
	sameIDs(t, "claim before the scheduled time", f.claimEvents(f.claim("a", 10, 30*time.Second)), nil)
	// By then the first leases have expired too.
	sameSet(t, "claim after the scheduled time", f.claimEvents(f.claim("a", 10, 61*time.Minute)), []string{later.ID, overdue.ID, queued.ID})
}

func testClaimEventLeases(t *testing.T, f *fixture) {
	p := f.pipe("p")
	e1 := f.event(p)
	e2 := f.event(p)
	sameIDs(t, "claim by a (limit 1)", f.claimEvents(f.claim("a", 1, 0)), []string{e1.ID})
	sameIDs(t, "claim by b", f.claimEvents(f.claim("b", 5, time.Second)), []string{e2.ID})
	sameIDs(t, "claim by c while leased", f.claimEvents(f.claim("c", 5, 30*time.Second)), nil)
	sameIDs(t, "claim by c after a's lease expired", f.claimEvents(f.claim("c", 5, 61*time.Second)), []string{e1.ID, e2.ID})
}

func testClaimConcurrent(t *testing.T, f *fixture) {
	p := f.pipe("p")
	var want []string
	for range 20 {
		want = append(want, f.event(p).ID)
	}
	var (
		mu  sync.Mutex
		got []string
		wg  sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			// Each worker can take at most every event once; more rounds
			// mean events are handed out twice.
			for range len(want) + 1 {
				evs, err := f.s.ClaimEvents(f.ctx, f.claim(string(rune('a'+w)), 3, 0))
				if err != nil {
					t.Errorf("ClaimEvents: %v", err)
					return
				}
				if len(evs) == 0 {
					return
				}
				mu.Lock()
				got = append(got, eventIDs(evs)...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sameSet(t, "events claimed by 4 workers", got, want)
}

func testClaimEvent(t *testing.T, f *fixture) {
	p := f.pipe("p")
	e := f.event(p)
	_, err := f.s.ClaimEvent(f.ctx, f.team.ID, model.NewID(model.PrefixEvent), f.claim("a", 1, 0))
	wantErr(t, "ClaimEvent missing", err, store.ErrNotFound)
	_, err = f.s.ClaimEvent(f.ctx, "tm_other", e.ID, f.claim("a", 1, 0))
	wantErr(t, "ClaimEvent in another team", err, store.ErrNotFound)

	sameIDs(t, "ClaimEvents by a", f.claimEvents(f.claim("a", 1, 0)), []string{e.ID})
	_, err = f.s.ClaimEvent(f.ctx, f.team.ID, e.ID, f.claim("b", 1, time.Second))
	wantErr(t, "ClaimEvent while leased", err, store.ErrConflict)
	got, err := f.s.ClaimEvent(f.ctx, f.team.ID, e.ID, f.claim("b", 1, 2*time.Minute))
	must(t, "ClaimEvent after expiry", err)
	if got.Data == nil || string(got.Data.Body) != `{"n":1}` {
		t.Fatalf("ClaimEvent Data = %+v", got.Data)
	}
	sameIDs(t, "ClaimEvents while b holds it", f.claimEvents(f.claim("a", 1, 2*time.Minute)), nil)

	// A finished event can be claimed for a manual attempt, and is not due.
	done := f.event(p)
	f.deliver(done, model.AttemptSuccessful, 200, f.now, nil)
	got, err = f.s.ClaimEvent(f.ctx, f.team.ID, done.ID, f.claim("c", 1, time.Second))
	must(t, "ClaimEvent of a successful event", err)
	if got.Status != model.EventSuccessful {
		t.Fatalf("status = %s", got.Status)
	}
	sameIDs(t, "ClaimEvents after lease of finished event expired", f.claimEvents(f.claim("d", 5, time.Hour)), []string{e.ID})
}

func testRecordAttempt(t *testing.T, f *fixture) {
	p := f.pipe("p")
	tests := []struct {
		name   string
		status string
		code   int
		next   *time.Time
	}{
		{"success", model.AttemptSuccessful, 200, nil},
		{"retry", model.AttemptFailed, 503, ptr(f.at(10 * time.Minute))},
		{"failed", model.AttemptFailed, 0, nil},
	}
	for _, tc := range tests {
		e := f.event(p)
		at := f.at(time.Second)
		sameIDs(t, tc.name+": claim", f.claimEvents(f.claim("w", 1, 0)), []string{e.ID})
		a := f.attempt(e, tc.status, tc.code, at)
		out := store.AttemptOutcome{Owner: "w", Attempt: a, EventStatus: tc.status}
		if tc.next != nil {
			out.EventStatus, out.NextAttemptAt, out.NextTrigger = model.EventScheduled, tc.next, model.TriggerAutomatic
		}
		must(t, tc.name+": RecordAttempt", f.s.RecordAttempt(f.ctx, out))

		gotA, err := f.s.GetAttempt(f.ctx, f.team.ID, a.ID)
		must(t, tc.name+": GetAttempt", err)
		equal(t, tc.name+": GetAttempt", gotA, a)
		_, err = f.s.GetAttempt(f.ctx, "tm_other", a.ID)
		wantErr(t, tc.name+": GetAttempt in another team", err, store.ErrNotFound)

		got := f.getEvent(e.ID)
		if got.Status != out.EventStatus || got.Attempts != 1 {
			t.Fatalf("%s: status %s attempts %d, want %s 1", tc.name, got.Status, got.Attempts, out.EventStatus)
		}
		if got.LastAttemptAt == nil || !got.LastAttemptAt.Equal(a.CreatedAt) {
			t.Fatalf("%s: LastAttemptAt = %v, want the attempt's CreatedAt %v", tc.name, got.LastAttemptAt, a.CreatedAt)
		}
		equal(t, tc.name+": ResponseStatus", got.ResponseStatus, a.ResponseStatus)
		equal(t, tc.name+": ErrorCode", got.ErrorCode, a.ErrorCode)
		equal(t, tc.name+": SuccessfulAt", got.SuccessfulAt, a.SuccessfulAt)
		equal(t, tc.name+": NextAttemptAt", got.NextAttemptAt, tc.next)
		if tc.next != nil && got.NextTrigger != model.TriggerAutomatic {
			t.Fatalf("%s: NextTrigger = %s", tc.name, got.NextTrigger)
		}
		if tc.next == nil {
			sameIDs(t, tc.name+": claim later", f.claimEvents(f.claim("w", 5, 24*time.Hour)), nil)
			continue
		}
		sameIDs(t, tc.name+": claim before retry time", f.claimEvents(f.claim("w", 5, 9*time.Minute)), nil)
		sameIDs(t, tc.name+": claim at retry time", f.claimEvents(f.claim("w", 5, 10*time.Minute)), []string{e.ID})
		// Second attempt succeeds.
		e = f.getEvent(e.ID)
		a2 := f.attempt(e, model.AttemptSuccessful, 200, f.at(10*time.Minute))
		if a2.AttemptNumber != 2 || a2.Trigger != model.TriggerAutomatic {
			t.Fatalf("second attempt number %d trigger %s", a2.AttemptNumber, a2.Trigger)
		}
		must(t, "RecordAttempt 2", f.s.RecordAttempt(f.ctx, store.AttemptOutcome{Owner: "w", Attempt: a2, EventStatus: model.EventSuccessful}))
		got = f.getEvent(e.ID)
		if got.Status != model.EventSuccessful || got.Attempts != 2 || got.NextAttemptAt != nil {
			t.Fatalf("after second attempt: status %s attempts %d next %v", got.Status, got.Attempts, got.NextAttemptAt)
		}
		as, err := f.s.ListAttempts(f.ctx, store.AttemptFilter{TeamID: f.team.ID, EventIDs: []string{e.ID}, Page: store.Page{Asc: true}})
		must(t, "ListAttempts", err)
		if len(as) != 2 {
			t.Fatalf("ListAttempts: %d attempts", len(as))
		}
		equal(t, "ListAttempts", as, []model.Attempt{a, a2})
	}
}

func testLeaseLost(t *testing.T, f *fixture) {
	p := f.pipe("p")
	e := f.event(p)
	sameIDs(t, "claim by a", f.claimEvents(f.claim("a", 1, 0)), []string{e.ID})
	sameIDs(t, "claim by b after expiry", f.claimEvents(f.claim("b", 1, 2*time.Minute)), []string{e.ID})

	a := f.attempt(e, model.AttemptSuccessful, 200, f.at(time.Minute))
	err := f.s.RecordAttempt(f.ctx, store.AttemptOutcome{Owner: "a", Attempt: a, EventStatus: model.EventSuccessful})
	wantErr(t, "RecordAttempt by a", err, store.ErrLeaseLost)
	gotA, err := f.s.GetAttempt(f.ctx, f.team.ID, a.ID)
	must(t, "GetAttempt of a lost-lease attempt", err)
	equal(t, "attempt of a lost lease", gotA, a)
	if got := f.getEvent(e.ID); got.Status != model.EventQueued {
		t.Fatalf("status after lost lease = %s, want QUEUED", got.Status)
	}
	// b still holds it and may finish it.
	b := f.attempt(e, model.AttemptFailed, 500, f.at(2*time.Minute))
	must(t, "RecordAttempt by b", f.s.RecordAttempt(f.ctx, store.AttemptOutcome{Owner: "b", Attempt: b, EventStatus: model.EventFailed}))
	if got := f.getEvent(e.ID); got.Status != model.EventFailed {
		t.Fatalf("status = %s, want FAILED", got.Status)
	}
}

func testReleaseLeases(t *testing.T, f *fixture) {
	p := f.pipe("p")
	e1, e2 := f.event(p), f.event(p)
	r1 := f.request(p.src)
	r2 := f.request(p.src)
	sameIDs(t, "claim events by a", f.claimEvents(f.claim("a", 1, 0)), []string{e1.ID})
	sameIDs(t, "claim events by b", f.claimEvents(f.claim("b", 1, 0)), []string{e2.ID})
	sameIDs(t, "claim requests by a", f.claimRequests(f.claim("a", 1, 0)), []string{r1.ID})
	sameIDs(t, "claim requests by b", f.claimRequests(f.claim("b", 1, 0)), []string{r2.ID})
	must(t, "ReleaseLeases", f.s.ReleaseLeases(f.ctx, "a"))
	sameIDs(t, "claim events by c", f.claimEvents(f.claim("c", 5, time.Second)), []string{e1.ID})
	sameIDs(t, "claim requests by c", f.claimRequests(f.claim("c", 5, time.Second)), []string{r1.ID})
}

func testRenewLeases(t *testing.T, f *fixture) {
	p := f.pipe("p")
	e1, e2 := f.event(p), f.event(p)
	r1 := f.request(p.src)
	// a holds e1 and r1 for a minute, b holds e2 for a minute.
	sameIDs(t, "claim events by a", f.claimEvents(f.claim("a", 1, time.Minute)), []string{e1.ID})
	sameIDs(t, "claim events by b", f.claimEvents(f.claim("b", 1, time.Minute)), []string{e2.ID})
	sameIDs(t, "claim requests by a", f.claimRequests(f.claim("a", 1, time.Minute)), []string{r1.ID})
	n, err := f.s.RenewLeases(f.ctx, "a", f.at(time.Hour))
	must(t, "RenewLeases", err)
	if n != 2 {
		t.Fatalf("RenewLeases renewed %d leases, want 2", n)
	}
	// Two minutes on, b's lease has expired and a's has not.
	later := store.Claim{Owner: "c", Limit: 5, Lease: time.Second, Now: f.at(2 * time.Minute)}
	sameIDs(t, "claim events after b's lease expired", f.claimEvents(later), []string{e2.ID})
	sameIDs(t, "claim requests after a's renewal", f.claimRequests(later), nil)
	// Past the renewed time, a's work is claimable again.
	muchLater := store.Claim{Owner: "c", Limit: 5, Lease: time.Second, Now: f.at(2 * time.Hour)}
	sameIDs(t, "claim events after a's renewed lease", f.claimEvents(muchLater), []string{e2.ID, e1.ID}) // e2 fell due first (at c's short lease end)
	sameIDs(t, "claim requests after a's renewed lease", f.claimRequests(muchLater), []string{r1.ID})
}

func testCancelEvent(t *testing.T, f *fixture) {
	p := f.pipe("p")
	queued := f.event(p)
	scheduled := f.event(p, func(e *model.Event) {
		e.Status = model.EventScheduled
		e.NextAttemptAt = ptr(f.at(time.Hour))
	})
	leased := f.event(p)
	done := f.event(p)
	f.deliver(done, model.AttemptSuccessful, 200, f.now, nil)
	_, err := f.s.ClaimEvent(f.ctx, f.team.ID, leased.ID, f.claim("w", 1, 0))
	must(t, "ClaimEvent", err)

	at := f.at(time.Second)
	for _, e := range []model.Event{queued, scheduled, leased} {
		got, err := f.s.CancelEvent(f.ctx, f.team.ID, e.ID, at)
		must(t, "CancelEvent", err)
		if got.ID != e.ID || got.Status != model.EventCancelled {
			t.Fatalf("CancelEvent returned %s %s", got.ID, got.Status)
		}
		if got := f.getEvent(e.ID); got.Status != model.EventCancelled {
			t.Fatalf("status after cancel = %s", got.Status)
		}
	}
	_, err = f.s.CancelEvent(f.ctx, f.team.ID, done.ID, at)
	wantErr(t, "CancelEvent of a successful event", err, store.ErrConflict)
	_, err = f.s.CancelEvent(f.ctx, f.team.ID, queued.ID, at)
	wantErr(t, "CancelEvent twice", err, store.ErrConflict)
	_, err = f.s.CancelEvent(f.ctx, f.team.ID, model.NewID(model.PrefixEvent), at)
	wantErr(t, "CancelEvent missing", err, store.ErrNotFound)
	sameIDs(t, "claim after cancel", f.claimEvents(f.claim("x", 10, 2*time.Hour)), nil)

	// The attempt in flight when the event was cancelled does not revive it.
	a := f.attempt(leased, model.AttemptFailed, 500, at)
	err = f.s.RecordAttempt(f.ctx, store.AttemptOutcome{Owner: "w", Attempt: a, EventStatus: model.EventScheduled,
		NextAttemptAt: ptr(f.at(time.Minute)), NextTrigger: model.TriggerAutomatic})
	wantErr(t, "RecordAttempt after cancel", err, store.ErrLeaseLost)
	if got := f.getEvent(leased.ID); got.Status != model.EventCancelled {
		t.Fatalf("status after attempt on cancelled event = %s", got.Status)
	}
}
