package pgstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// TestCompleteRoutingSkips: outcomes for rejected or missing requests
// write nothing, a rerun of a missing request fails the call.
func TestCompleteRoutingSkips(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := t.Context()
	now := time.Now()
	rejected := model.Request{ID: model.NewID(model.PrefixRequest), TeamID: "tm_x", SourceID: "src_x",
		RejectionCause: model.RejectNoConnection, Data: model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST"},
		IngestedAt: now, CreatedAt: now, UpdatedAt: now}
	if err := s.InsertRequest(ctx, &rejected); err != nil {
		t.Fatalf("InsertRequest: %v", err)
	}
	event := func(reqID string) model.Event {
		return model.Event{ID: model.NewID(model.PrefixEvent), TeamID: "tm_x", ConnectionID: "web_x", SourceID: "src_x",
			DestinationID: "des_x", RequestID: reqID, DataID: rejected.Data.ID, Status: model.EventQueued,
			NextTrigger: model.TriggerInitial, CreatedAt: now, UpdatedAt: now}
	}
	missingID := model.NewID(model.PrefixRequest)
	e1, e2 := event(rejected.ID), event(missingID)
	err := s.CompleteRouting(ctx, []store.RoutingOutcome{
		{RequestID: rejected.ID, Events: []model.Event{e1}, RoutedAt: now},
		{RequestID: missingID, Events: []model.Event{e2}, RoutedAt: now},
	})
	if err != nil {
		t.Fatalf("CompleteRouting: %v", err)
	}
	for _, id := range []string{e1.ID, e2.ID} {
		if _, err := s.GetEvent(ctx, "tm_x", id, false); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("event of a skipped outcome: %v", err)
		}
	}
	if got, err := s.GetRequest(ctx, "tm_x", rejected.ID, false); err != nil || got.RoutedAt != nil {
		t.Fatalf("rejected request after routing: routed %v, %v", got.RoutedAt, err)
	}
	err = s.CompleteRouting(ctx, []store.RoutingOutcome{{RequestID: missingID, Rerun: true, RoutedAt: now}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rerun of a missing request: %v, want ErrNotFound", err)
	}
}
