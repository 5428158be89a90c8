package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

func statsCases() []testCase {
	return []testCase{
		{"Stats/QueueStats", testQueueStats},
	}
}

// testQueueStats checks the per-destination counts of undelivered events
// and the age of the oldest pending one: leased events still count, HOLD
// events count apart and do not set the oldest time, and destinations with
// only finished events are left out.
func testQueueStats(t *testing.T, f *fixture) {
	empty, err := f.s.QueueStats(f.ctx)
	must(t, "QueueStats on an empty store", err)
	if len(empty) != 0 {
		t.Fatalf("QueueStats on an empty store = %+v, want none", empty)
	}

	busy, paused, done := f.pipe("busy"), f.pipe("paused"), f.pipe("done")
	f.event(busy)
	leased := f.event(busy, func(e *model.Event) { e.CreatedAt = f.at(-2 * time.Minute) })
	f.event(busy, func(e *model.Event) {
		e.Status = model.EventScheduled
		e.NextAttemptAt = ptr(f.at(time.Hour))
		e.CreatedAt = f.at(-time.Hour)
	})
	finished := f.event(busy, func(e *model.Event) { e.CreatedAt = f.at(-3 * time.Hour) })
	f.deliver(finished, model.AttemptSuccessful, 200, f.now, nil)
	_, err = f.s.ClaimEvent(f.ctx, f.team.ID, leased.ID, f.claim("w", 1, 0))
	must(t, "ClaimEvent", err)

	f.event(paused)
	f.event(paused)
	_, err = f.s.PauseConnection(f.ctx, f.team.ID, paused.conn.ID, f.now)
	must(t, "PauseConnection", err)

	gone := f.event(done)
	f.deliver(gone, model.AttemptFailed, 500, f.now, nil)

	got, err := f.s.QueueStats(f.ctx)
	must(t, "QueueStats", err)
	want := []store.DestinationQueue{
		{TeamID: f.team.ID, DestinationID: busy.dst.ID, Queued: 2, Scheduled: 1, OldestPendingAt: f.at(-time.Hour)},
		{TeamID: f.team.ID, DestinationID: paused.dst.ID, Hold: 2},
	}
	sortQueues := func(qs []store.DestinationQueue) {
		slices.SortFunc(qs, func(a, b store.DestinationQueue) int { return strings.Compare(a.DestinationID, b.DestinationID) })
	}
	sortQueues(got)
	sortQueues(want)
	if len(got) != len(want) {
		t.Fatalf("QueueStats = %+v\nwant %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.TeamID != w.TeamID || g.DestinationID != w.DestinationID || g.Queued != w.Queued ||
			g.Scheduled != w.Scheduled || g.Hold != w.Hold || !g.OldestPendingAt.Equal(w.OldestPendingAt) {
			t.Fatalf("QueueStats[%d] = %+v\nwant %+v", i, g, w)
		}
	}
}
