package pgstore_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/store/pgstore"
)

// TestRecordAttemptGroup records many attempts at once, so that they share
// group commits, with bad neighbours among them: each call gets its own
// outcome, whatever the batching, and only the good ones are applied.
func TestRecordAttemptGroup(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openWith(t, pgstore.Options{CommitWriters: 1})
	team, err := s.EnsureDefaultTeam(ctx)
	if err != nil {
		t.Fatalf("EnsureDefaultTeam: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	newConn := func(name string) model.Connection {
		c := model.Connection{ID: model.NewID(model.PrefixConnection), TeamID: team.ID, Name: name,
			SourceID: "src_x", DestinationID: "des_x", CreatedAt: now, UpdatedAt: now}
		if err := s.CreateConnection(ctx, &c); err != nil {
			t.Fatalf("CreateConnection: %v", err)
		}
		return c
	}
	live, paused := newConn("live"), newConn("paused")
	const n = 40
	req := model.Request{ID: model.NewID(model.PrefixRequest), TeamID: team.ID, SourceID: "src_x",
		Data: model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST"}, IngestedAt: now, CreatedAt: now, UpdatedAt: now}
	if err := s.InsertRequest(ctx, &req); err != nil {
		t.Fatalf("InsertRequest: %v", err)
	}
	events := make([]model.Event, n)
	for i := range events {
		conn := live.ID
		if i%4 == 3 {
			conn = paused.ID
		}
		events[i] = model.Event{ID: model.NewID(model.PrefixEvent), TeamID: team.ID, ConnectionID: conn, SourceID: "src_x",
			DestinationID: "des_x", RequestID: req.ID, DataID: req.Data.ID, Status: model.EventQueued,
			NextTrigger: model.TriggerInitial, CreatedAt: now, UpdatedAt: now}
	}
	if err := s.CompleteRouting(ctx, []store.RoutingOutcome{{RequestID: req.ID, Events: events, RoutedAt: now}}); err != nil {
		t.Fatalf("CompleteRouting: %v", err)
	}
	if claimed, err := s.ClaimEvents(ctx, store.Claim{Owner: "me", Limit: n, Lease: time.Minute, Now: now}); err != nil || len(claimed) != n {
		t.Fatalf("ClaimEvents: %d events, %v", len(claimed), err)
	}
	// Paused while leased: a retry of its events is held.
	if _, err := s.PauseConnection(ctx, team.ID, paused.ID, now); err != nil {
		t.Fatalf("PauseConnection: %v", err)
	}
	prior := model.Attempt{ID: model.NewID(model.PrefixAttempt), TeamID: team.ID, EventID: events[0].ID,
		DestinationID: "des_x", AttemptNumber: 1, Trigger: model.TriggerInitial, Status: model.AttemptFailed,
		CreatedAt: now, UpdatedAt: now}
	if err := s.RecordAttempt(ctx, store.AttemptOutcome{Owner: "nobody", Attempt: prior, EventStatus: model.EventFailed}); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("RecordAttempt without the lease: %v, want ErrLeaseLost", err)
	}

	type kind int
	const (
		ok kind = iota
		duplicate
		missing
		lost
	)
	kinds := make([]kind, n)
	outcomes := make([]store.AttemptOutcome, n)
	retry := now.Add(time.Hour)
	for i := range outcomes {
		kinds[i] = []kind{ok, ok, duplicate, ok, missing, ok, lost, ok}[i%8]
		a := model.Attempt{ID: model.NewID(model.PrefixAttempt), TeamID: team.ID, EventID: events[i].ID,
			DestinationID: "des_x", AttemptNumber: 1, Trigger: model.TriggerInitial, Status: model.AttemptFailed,
			CreatedAt: now, UpdatedAt: now}
		o := store.AttemptOutcome{Owner: "me", Attempt: a, EventStatus: model.EventScheduled,
			NextAttemptAt: &retry, NextTrigger: model.TriggerAutomatic}
		switch kinds[i] {
		case duplicate:
			o.Attempt.ID = prior.ID
		case missing:
			o.Attempt.EventID = model.NewID(model.PrefixEvent)
		case lost:
			o.Owner = "other"
		}
		outcomes[i] = o
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range outcomes {
		wg.Go(func() { errs[i] = s.RecordAttempt(ctx, outcomes[i]) })
	}
	wg.Wait()

	for i, err := range errs {
		a := outcomes[i].Attempt
		_, getErr := s.GetAttempt(ctx, team.ID, a.ID)
		ev, evErr := s.GetEvent(ctx, team.ID, events[i].ID, false)
		if evErr != nil {
			t.Fatalf("GetEvent %d: %v", i, evErr)
		}
		switch kinds[i] {
		case ok:
			want := model.EventScheduled
			if events[i].ConnectionID == paused.ID {
				want = model.EventHold
			}
			if err != nil || getErr != nil || ev.Status != want || ev.Attempts != 1 {
				t.Errorf("outcome %d: %v; attempt stored: %v; event %s with %d attempts, want %s", i, err, getErr, ev.Status, ev.Attempts, want)
			}
		case duplicate:
			if !errors.Is(err, store.ErrConflict) || ev.Attempts != 0 {
				t.Errorf("duplicate %d: %v, want ErrConflict; event has %d attempts", i, err, ev.Attempts)
			}
		case missing:
			if !errors.Is(err, store.ErrNotFound) || !errors.Is(getErr, store.ErrNotFound) {
				t.Errorf("missing event %d: %v, want ErrNotFound; attempt stored: %v", i, err, getErr)
			}
		case lost:
			if !errors.Is(err, store.ErrLeaseLost) || getErr != nil || ev.Attempts != 0 {
				t.Errorf("lost lease %d: %v, want ErrLeaseLost; attempt stored: %v; event has %d attempts", i, err, getErr, ev.Attempts)
			}
		}
	}
}
