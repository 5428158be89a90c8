package pgstore_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store/pgstore"
	"github.com/sluice-gw/sluice/internal/store/pgstore/pgtest"
)

// Two stores on one database stand for two processes: what one commits
// wakes the other through LISTEN/NOTIFY, and a store does not wake itself.
func TestNotifications(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := pgtest.NewDatabase(t)
	openStore := func() *pgstore.Store {
		s, err := pgstore.Open(ctx, dsn, pgstore.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := openStore(), openStore()
	subscribe := func(s *pgstore.Store) chan string {
		ch := make(chan string, 100)
		s.Subscribe(ctx, slog.New(slog.DiscardHandler), func(c string) { ch <- c })
		// Every (re)connection first reports both channels.
		want := map[string]bool{pgstore.ChannelRequests: true, pgstore.ChannelEvents: true}
		for len(want) > 0 {
			select {
			case c := <-ch:
				delete(want, c)
			case <-time.After(10 * time.Second):
				t.Fatal("no notification after subscribing")
			}
		}
		return ch
	}
	gotA, gotB := subscribe(a), subscribe(b)

	team, err := b.EnsureDefaultTeam(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	// A connection, else the request is stored as NO_CONNECTION and wakes
	// no router.
	conn := model.Connection{ID: model.NewID(model.PrefixConnection), TeamID: team.ID, Name: "n",
		SourceID: "src_x", DestinationID: "des_x", CreatedAt: now, UpdatedAt: now}
	if err := b.CreateConnection(ctx, &conn); err != nil {
		t.Fatal(err)
	}
	r := model.Request{ID: model.NewID(model.PrefixRequest), TeamID: team.ID, SourceID: "src_x",
		Data:       model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Body: []byte("{}")},
		IngestedAt: now, CreatedAt: now, UpdatedAt: now}
	if err := b.InsertRequest(ctx, &r); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-gotA:
		if c != pgstore.ChannelRequests {
			t.Fatalf("a got %q, want %q", c, pgstore.ChannelRequests)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a was not notified of b's request")
	}
	// b skips its own notification.
	select {
	case c := <-gotB:
		t.Fatalf("b was notified of its own commit (%q)", c)
	case <-time.After(300 * time.Millisecond):
	}

	if err := b.ReleaseLeases(ctx, "nobody"); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	deadline := time.After(10 * time.Second)
	for len(seen) < 2 {
		select {
		case c := <-gotA:
			seen[c] = true
		case <-deadline:
			t.Fatalf("after ReleaseLeases a saw only %v", seen)
		}
	}
}

// NextEventDue finds the earliest future queue time: a scheduled retry or
// a lease's end.
func TestNextEventDue(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if _, ok, err := s.NextEventDue(ctx, now); err != nil || ok {
		t.Fatalf("NextEventDue on an empty queue = %v, %v", ok, err)
	}
	if _, ok, err := s.NextRequestDue(ctx, now); err != nil || ok {
		t.Fatalf("NextRequestDue with nothing leased = %v, %v", ok, err)
	}
}
