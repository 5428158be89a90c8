package pgstore_test

import (
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// While a process has published a live CLI session for a connection, only
// processes that did claim the connection's events; when its record
// expires or is withdrawn, anyone does again.
func TestCLIListenersSteerClaims(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := t.Context()
	team, err := s.EnsureDefaultTeam(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	conn := model.Connection{ID: model.NewID(model.PrefixConnection), TeamID: team.ID, Name: "cli",
		SourceID: "src_x", DestinationID: "des_cli", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateConnection(ctx, &conn); err != nil {
		t.Fatal(err)
	}
	newEvent := func() string {
		t.Helper()
		req := model.Request{ID: model.NewID(model.PrefixRequest), TeamID: team.ID, SourceID: "src_x",
			Data: model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST"}, IngestedAt: now, CreatedAt: now, UpdatedAt: now}
		if err := s.InsertRequest(ctx, &req); err != nil {
			t.Fatal(err)
		}
		ev := model.Event{ID: model.NewID(model.PrefixEvent), TeamID: team.ID, ConnectionID: conn.ID, SourceID: "src_x",
			DestinationID: "des_cli", RequestID: req.ID, DataID: req.Data.ID, Status: model.EventQueued,
			NextTrigger: model.TriggerInitial, CreatedAt: now, UpdatedAt: now}
		if err := s.CompleteRouting(ctx, []store.RoutingOutcome{{RequestID: req.ID, Events: []model.Event{ev}, RoutedAt: now}}); err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	claim := func(owner string, at time.Duration) int {
		t.Helper()
		evs, err := s.ClaimEvents(ctx, store.Claim{Owner: owner, Limit: 10, Lease: time.Minute, Now: now.Add(at)})
		if err != nil {
			t.Fatalf("ClaimEvents: %v", err)
		}
		return len(evs)
	}
	newEvent()
	if err := s.PublishCLIListeners(ctx, "b", []string{conn.ID}, now, now.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := claim("a", 0); n != 0 {
		t.Fatalf("a, without a session, claimed %d events of a connection b listens for", n)
	}
	if n := claim("b", 0); n != 1 {
		t.Fatalf("b, holding the session, claimed %d events", n)
	}
	newEvent()
	// b's record expires (b died): anyone claims again.
	if n := claim("a", 31*time.Second); n != 1 {
		t.Fatalf("a after b's record expired claimed %d events", n)
	}
	newEvent()
	if err := s.PublishCLIListeners(ctx, "b", []string{conn.ID}, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := claim("a", 2*time.Minute); n != 0 {
		t.Fatalf("a claimed %d events (leases expired or not) while b listens", n)
	}
	if err := s.PublishCLIListeners(ctx, "b", nil, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Every event is claimable by a now, the earlier two whose leases have
	// expired too.
	if n := claim("a", 2*time.Minute); n != 3 {
		t.Fatalf("a after b withdrew claimed %d events, want 3", n)
	}
}
