package pgstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/store/pgstore"
	"github.com/sluice-gw/sluice/internal/store/pgstore/pgtest"
)

// TestOpenConcurrently opens one database from several goroutines at once:
// the advisory lock lets exactly one apply each migration, and reopening
// applies nothing.
func TestOpenConcurrently(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := pgtest.NewDatabase(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s, err := pgstore.Open(ctx, dsn, pgstore.Options{MaxConns: 6, CommitWriters: 1})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
	}
	s, err := pgstore.Open(ctx, dsn, pgstore.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var rows, distinct int
	err = conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if rows == 0 || rows != distinct {
		t.Fatalf("schema_migrations has %d rows, %d versions", rows, distinct)
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	_, err := pgstore.Open(t.Context(), "postgres://127.0.0.1:1/x", pgstore.Options{MaxConns: 2, CommitWriters: 2})
	if err == nil {
		t.Fatal("Open with MaxConns <= CommitWriters succeeded")
	}
}

// TestWireBytesRoundTrip stores request data that PostgreSQL text columns
// would refuse: NUL and invalid UTF-8 in the path, query and body.
func TestWireBytesRoundTrip(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := t.Context()
	team, err := s.EnsureDefaultTeam(ctx)
	if err != nil {
		t.Fatalf("EnsureDefaultTeam: %v", err)
	}
	now := time.Now()
	r := model.Request{
		ID: model.NewID(model.PrefixRequest), TeamID: team.ID, SourceID: model.NewID(model.PrefixSource),
		Data: model.Payload{
			ID: model.NewID(model.PrefixPayload), Method: "POST",
			Path: "/a\x00b\xff", Query: "q=\xfe\x00", Headers: map[string]string{"x-nul": "a\u0000b"},
			Body: []byte{0, 0xff, 0xfe},
		},
		IngestedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.InsertRequest(ctx, &r); err != nil {
		t.Fatalf("InsertRequest: %v", err)
	}
	if r.CreatedAt.Nanosecond()%1000 != 0 || r.CreatedAt.Location() != time.UTC {
		t.Fatalf("InsertRequest did not normalize CreatedAt: %v", r.CreatedAt)
	}
	got, err := s.GetPayload(ctx, r.Data.ID)
	if err != nil {
		t.Fatalf("GetPayload: %v", err)
	}
	if got.Path != r.Data.Path || got.Query != r.Data.Query || string(got.Body) != string(r.Data.Body) ||
		got.Headers["x-nul"] != "a\x00b" {
		t.Fatalf("payload round trip:\n got %q\nwant %q", got, r.Data)
	}
}

// TestRoutingRacesUnpause routes events onto a paused connection while it
// is unpaused: whichever commits first, no event may be left in HOLD.
func TestRoutingRacesUnpause(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := t.Context()
	team, err := s.EnsureDefaultTeam(ctx)
	if err != nil {
		t.Fatalf("EnsureDefaultTeam: %v", err)
	}
	now := time.Now()
	src := model.Source{ID: model.NewID(model.PrefixSource), TeamID: team.ID, Name: "s", Type: "WEBHOOK", CreatedAt: now, UpdatedAt: now}
	dst := model.Destination{ID: model.NewID(model.PrefixDestination), TeamID: team.ID, Name: "d", Type: model.DestinationHTTP, CreatedAt: now, UpdatedAt: now}
	conn := model.Connection{ID: model.NewID(model.PrefixConnection), TeamID: team.ID, Name: "c", SourceID: src.ID, DestinationID: dst.ID, CreatedAt: now, UpdatedAt: now}
	for _, err := range []error{s.CreateSource(ctx, &src), s.CreateDestination(ctx, &dst), s.CreateConnection(ctx, &conn)} {
		if err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	for i := range 25 {
		if _, err := s.PauseConnection(ctx, team.ID, conn.ID, now); err != nil {
			t.Fatalf("PauseConnection: %v", err)
		}
		req := model.Request{
			ID: model.NewID(model.PrefixRequest), TeamID: team.ID, SourceID: src.ID,
			Data:       model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST"},
			IngestedAt: now, CreatedAt: now, UpdatedAt: now,
		}
		if err := s.InsertRequest(ctx, &req); err != nil {
			t.Fatalf("InsertRequest: %v", err)
		}
		ev := model.Event{
			ID: model.NewID(model.PrefixEvent), TeamID: team.ID, ConnectionID: conn.ID, SourceID: src.ID,
			DestinationID: dst.ID, RequestID: req.ID, DataID: req.Data.ID, Status: model.EventQueued,
			NextTrigger: model.TriggerInitial, CreatedAt: now, UpdatedAt: now,
		}
		var wg sync.WaitGroup
		var routeErr, unpauseErr error
		wg.Go(func() {
			routeErr = s.CompleteRouting(ctx, []store.RoutingOutcome{{RequestID: req.ID, Events: []model.Event{ev}, RoutedAt: now}})
		})
		wg.Go(func() { _, _, unpauseErr = s.UnpauseConnection(ctx, team.ID, conn.ID, now) })
		wg.Wait()
		if routeErr != nil || unpauseErr != nil {
			t.Fatalf("round %d: CompleteRouting: %v, UnpauseConnection: %v", i, routeErr, unpauseErr)
		}
		got, err := s.GetEvent(ctx, team.ID, ev.ID, false)
		if err != nil {
			t.Fatalf("GetEvent: %v", err)
		}
		if got.Status != model.EventQueued {
			t.Fatalf("round %d: event %s after unpause, want QUEUED", i, got.Status)
		}
	}
}

// TestInsertRequestBadNeighbour sends a duplicate among concurrent inserts:
// only the duplicate fails, with store.ErrConflict, whatever the batching.
func TestInsertRequestBadNeighbour(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openWith(t, pgstore.Options{CommitWriters: 1})
	now := time.Now()
	newRequest := func() model.Request {
		return model.Request{
			ID: model.NewID(model.PrefixRequest), TeamID: "tm_x", SourceID: "src_x",
			Data:       model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Body: []byte("b")},
			IngestedAt: now, CreatedAt: now, UpdatedAt: now,
		}
	}
	first := newRequest()
	if err := s.InsertRequest(ctx, &first); err != nil {
		t.Fatalf("InsertRequest: %v", err)
	}
	for round := range 5 {
		const n = 40
		reqs := make([]model.Request, n)
		for i := range reqs {
			reqs[i] = newRequest()
		}
		dup := round * 7 % n
		reqs[dup].ID = first.ID
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range reqs {
			wg.Go(func() { errs[i] = s.InsertRequest(ctx, &reqs[i]) })
		}
		wg.Wait()
		for i, err := range errs {
			switch {
			case i == dup && !errors.Is(err, store.ErrConflict):
				t.Fatalf("round %d: duplicate: got %v, want ErrConflict", round, err)
			case i != dup && err != nil:
				t.Fatalf("round %d: request %d: %v", round, i, err)
			case i != dup:
				if _, err := s.GetRequest(ctx, "tm_x", reqs[i].ID, true); err != nil {
					t.Fatalf("round %d: GetRequest %d: %v", round, i, err)
				}
			}
		}
		// The duplicate's payload was not written either.
		if _, err := s.GetPayload(ctx, reqs[dup].Data.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("round %d: payload of the duplicate: %v", round, err)
		}
	}
}

func TestInsertRequestCancelled(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	now := time.Now()
	r := model.Request{
		ID: model.NewID(model.PrefixRequest), TeamID: "tm_x", SourceID: "src_x",
		Data:       model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST"},
		IngestedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.InsertRequest(ctx, &r); !errors.Is(err, context.Canceled) {
		t.Fatalf("InsertRequest with a cancelled context: %v", err)
	}
	if _, err := s.GetRequest(t.Context(), "tm_x", r.ID, false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetRequest after cancelled insert: %v", err)
	}
}

// TestLeaseOutlivesPause: an event leased when its connection is paused
// stays pending; if its worker dies, it is not handed out again until the
// connection is unpaused.
func TestLeaseOutlivesPause(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := t.Context()
	team, err := s.EnsureDefaultTeam(ctx)
	if err != nil {
		t.Fatalf("EnsureDefaultTeam: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	conn := model.Connection{ID: model.NewID(model.PrefixConnection), TeamID: team.ID, Name: "c",
		SourceID: "src_x", DestinationID: "des_x", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateConnection(ctx, &conn); err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	req := model.Request{ID: model.NewID(model.PrefixRequest), TeamID: team.ID, SourceID: "src_x",
		Data: model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST"}, IngestedAt: now, CreatedAt: now, UpdatedAt: now}
	if err := s.InsertRequest(ctx, &req); err != nil {
		t.Fatalf("InsertRequest: %v", err)
	}
	ev := model.Event{ID: model.NewID(model.PrefixEvent), TeamID: team.ID, ConnectionID: conn.ID, SourceID: "src_x",
		DestinationID: "des_x", RequestID: req.ID, DataID: req.Data.ID, Status: model.EventQueued,
		NextTrigger: model.TriggerInitial, CreatedAt: now, UpdatedAt: now}
	if err := s.CompleteRouting(ctx, []store.RoutingOutcome{{RequestID: req.ID, Events: []model.Event{ev}, RoutedAt: now}}); err != nil {
		t.Fatalf("CompleteRouting: %v", err)
	}
	claim := func(owner string, at time.Duration) int {
		t.Helper()
		evs, err := s.ClaimEvents(ctx, store.Claim{Owner: owner, Limit: 10, Lease: time.Minute, Now: now.Add(at)})
		if err != nil {
			t.Fatalf("ClaimEvents: %v", err)
		}
		return len(evs)
	}
	if n := claim("dead", 0); n != 1 {
		t.Fatalf("first claim: %d events", n)
	}
	if _, err := s.PauseConnection(ctx, team.ID, conn.ID, now.Add(time.Second)); err != nil {
		t.Fatalf("PauseConnection: %v", err)
	}
	if n := claim("b", 2*time.Minute); n != 0 {
		t.Fatalf("claim while paused after the lease expired: %d events", n)
	}
	if _, n, err := s.UnpauseConnection(ctx, team.ID, conn.ID, now.Add(3*time.Minute)); err != nil || n != 0 {
		t.Fatalf("UnpauseConnection: released %d, %v", n, err)
	}
	if n := claim("b", 3*time.Minute); n != 1 {
		t.Fatalf("claim after unpause: %d events", n)
	}
}

// TestInsertRequestLargeGroup inserts concurrent requests whose bodies
// together exceed one statement's budget: the group is split, all commit.
func TestInsertRequestLargeGroup(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openWith(t, pgstore.Options{CommitWriters: 1})
	now := time.Now()
	const n = 5
	reqs := make([]model.Request, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range reqs {
		body := make([]byte, 6<<20)
		body[0], body[len(body)-1] = byte(i), byte(i)
		reqs[i] = model.Request{ID: model.NewID(model.PrefixRequest), TeamID: "tm_x", SourceID: "src_x",
			Data:       model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Body: body},
			IngestedAt: now, CreatedAt: now, UpdatedAt: now}
		wg.Go(func() { errs[i] = s.InsertRequest(ctx, &reqs[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("InsertRequest %d: %v", i, err)
		}
		p, err := s.GetPayload(ctx, reqs[i].Data.ID)
		if err != nil {
			t.Fatalf("GetPayload %d: %v", i, err)
		}
		if len(p.Body) != 6<<20 || p.Body[0] != byte(i) || p.Body[len(p.Body)-1] != byte(i) {
			t.Fatalf("payload %d: %d bytes", i, len(p.Body))
		}
	}
}
