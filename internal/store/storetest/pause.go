package storetest

import (
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

func pauseCases() []testCase {
	return []testCase{
		{"Pause/HoldAndRelease", testPauseHoldAndRelease},
	}
}

func testPauseHoldAndRelease(t *testing.T, f *fixture) {
	p := f.pipe("p")
	bystander := f.pipe("q")
	queued := f.event(p)
	scheduled := f.event(p, func(e *model.Event) {
		e.Status = model.EventScheduled
		e.NextAttemptAt = ptr(f.at(time.Hour))
	})
	leased := f.event(p)
	done := f.event(p)
	f.deliver(done, model.AttemptSuccessful, 200, f.now, nil)
	other := f.event(bystander)
	_, err := f.s.ClaimEvent(f.ctx, f.team.ID, leased.ID, f.claim("w", 1, 0))
	must(t, "ClaimEvent", err)

	pausedAt := f.at(time.Second)
	conn, err := f.s.PauseConnection(f.ctx, f.team.ID, p.conn.ID, pausedAt)
	must(t, "PauseConnection", err)
	if conn.ID != p.conn.ID || conn.PausedAt == nil || !conn.PausedAt.Equal(pausedAt) {
		t.Fatalf("PauseConnection returned %s paused at %v, want %v", conn.ID, conn.PausedAt, pausedAt)
	}
	conn, err = f.s.PauseConnection(f.ctx, f.team.ID, p.conn.ID, f.at(5*time.Second))
	must(t, "PauseConnection again", err)
	if conn.PausedAt == nil || !conn.PausedAt.Equal(pausedAt) {
		t.Fatalf("second pause moved paused_at to %v", conn.PausedAt)
	}
	wantStatus := map[string]string{
		queued.ID: model.EventHold, scheduled.ID: model.EventHold, leased.ID: model.EventQueued,
		done.ID: model.EventSuccessful, other.ID: model.EventQueued,
	}
	for id, want := range wantStatus {
		if got := f.getEvent(id).Status; got != want {
			t.Fatalf("after pause: event %s status %s, want %s", id, got, want)
		}
	}
	sameIDs(t, "claim while paused", f.claimEvents(f.claim("x", 10, 30*time.Second)), []string{other.ID})

	// The attempt in flight finishes; its retry must wait for the unpause.
	a := f.attempt(leased, model.AttemptFailed, 500, f.at(2*time.Second))
	must(t, "RecordAttempt while paused", f.s.RecordAttempt(f.ctx, store.AttemptOutcome{
		Owner: "w", Attempt: a, EventStatus: model.EventScheduled,
		NextAttemptAt: ptr(f.at(3 * time.Second)), NextTrigger: model.TriggerAutomatic,
	}))
	if got := f.getEvent(leased.ID); got.Status != model.EventHold || got.Attempts != 1 {
		t.Fatalf("retry scheduled while paused: status %s attempts %d, want HOLD 1", got.Status, got.Attempts)
	}

	// Routing onto a paused connection stores HOLD whatever the router chose.
	req := f.request(p.src)
	routed := f.newEvent(req, p)
	f.route(req, routed)
	if got := f.getEvent(routed.ID).Status; got != model.EventHold {
		t.Fatalf("event routed while paused: status %s, want HOLD", got)
	}
	sameIDs(t, "claim while paused, later", f.claimEvents(f.claim("x", 10, time.Hour)), []string{other.ID})

	unpausedAt := f.at(10 * time.Second)
	conn, n, err := f.s.UnpauseConnection(f.ctx, f.team.ID, p.conn.ID, unpausedAt)
	must(t, "UnpauseConnection", err)
	if conn.PausedAt != nil || n != 4 {
		t.Fatalf("UnpauseConnection: paused_at %v, released %d, want nil 4", conn.PausedAt, n)
	}
	for _, id := range []string{queued.ID, scheduled.ID, leased.ID, routed.ID} {
		e := f.getEvent(id)
		if e.Status != model.EventQueued || e.NextTrigger != model.TriggerUnpause {
			t.Fatalf("after unpause: event %s status %s trigger %s, want QUEUED UNPAUSE", id, e.Status, e.NextTrigger)
		}
	}
	sameSet(t, "claim after unpause", f.claimEvents(f.claim("x", 10, 10*time.Second)),
		[]string{queued.ID, scheduled.ID, leased.ID, routed.ID})
	if got := f.getEvent(done.ID).Status; got != model.EventSuccessful {
		t.Fatalf("finished event after unpause: %s", got)
	}
	_, n, err = f.s.UnpauseConnection(f.ctx, f.team.ID, p.conn.ID, unpausedAt)
	must(t, "UnpauseConnection again", err)
	if n != 0 {
		t.Fatalf("second unpause released %d events", n)
	}
}
