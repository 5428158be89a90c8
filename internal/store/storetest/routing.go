package storetest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

func ingestCases() []testCase {
	return []testCase{
		{"Requests/RoundTrip", testRequestRoundTrip},
		{"Requests/NoConnectionDecidedAtCommit", testNoConnectionAtCommit},
		{"Requests/ConcurrentInsert", func(t *testing.T, f *fixture) {
			src := f.source("src")
			const n = 50
			var wg sync.WaitGroup
			errs := make([]error, n)
			want := make([]string, n)
			for i := range n {
				wg.Go(func() {
					r := model.Request{
						ID: model.NewID(model.PrefixRequest), TeamID: f.team.ID, SourceID: src.ID,
						Data:       model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Body: []byte{byte(i)}},
						IngestedAt: f.now, CreatedAt: f.now, UpdatedAt: f.now,
					}
					want[i] = r.ID
					errs[i] = f.s.InsertRequest(f.ctx, &r)
				})
			}
			wg.Wait()
			for i, err := range errs {
				must(t, "InsertRequest", err)
				r, err := f.s.GetRequest(f.ctx, f.team.ID, want[i], true)
				must(t, "GetRequest", err)
				if len(r.Data.Body) != 1 || r.Data.Body[0] != byte(i) {
					t.Fatalf("request %d body = %v", i, r.Data.Body)
				}
			}
			rs, err := f.s.ListRequests(f.ctx, store.RequestFilter{TeamID: f.team.ID})
			must(t, "ListRequests", err)
			sameSet(t, "ListRequests", requestIDs(rs), want)
		}},
	}
}

// An accepted request is stored as NO_CONNECTION when its source has no
// connection at the commit (ingest does not count connections itself), and
// the caller's request says so; a rejection cause given is kept.
func testNoConnectionAtCommit(t *testing.T, f *fixture) {
	lonely := f.source("lonely")
	p := f.pipe("connected")
	cases := []struct {
		name  string
		src   model.Source
		given string
		want  string
	}{
		{"no connection", lonely, "", model.RejectNoConnection},
		{"connected", p.src, "", ""},
		{"rejected with no connection", lonely, model.RejectVerificationFailed, model.RejectVerificationFailed},
		{"rejected though connected", p.src, model.RejectSourceDisabled, model.RejectSourceDisabled},
	}
	for _, c := range cases {
		r := f.request(c.src, func(r *model.Request) { r.RejectionCause = c.given })
		if r.RejectionCause != c.want {
			t.Errorf("%s: InsertRequest left the cause %q, want %q", c.name, r.RejectionCause, c.want)
		}
		got, err := f.s.GetRequest(f.ctx, f.team.ID, r.ID, false)
		must(t, "GetRequest", err)
		if got.RejectionCause != c.want {
			t.Errorf("%s: stored cause %q, want %q", c.name, got.RejectionCause, c.want)
		}
	}
	// A connection created later applies to the next request at once.
	f.connection("late", lonely, p.dst)
	if r := f.request(lonely); r.RejectionCause != "" {
		t.Errorf("after a connection was created: cause %q, want accepted", r.RejectionCause)
	}
}

func testRequestRoundTrip(t *testing.T, f *fixture) {
	src := f.source("src")
	body := make([]byte, 256)
	for i := range body {
		body[i] = byte(i)
	}
	r := f.request(src, func(r *model.Request) {
		r.Verified = ptr(true)
		r.Data.Method = "PUT"
		r.Data.Path = "/a/b%20c"
		r.Data.Query = "x=1&y=%C3%A9"
		r.Data.Headers = map[string]string{
			"content-type": "application/octet-stream", "x-unicode": "é ✓", "x-empty": "",
			"x-quote": `"a",'b'\n`,
		}
		r.Data.Body = body
	})
	got, err := f.s.GetRequest(f.ctx, f.team.ID, r.ID, true)
	must(t, "GetRequest with data", err)
	equal(t, "GetRequest with data", got, r)

	p, err := f.s.GetPayload(f.ctx, r.Data.ID)
	must(t, "GetPayload", err)
	equal(t, "GetPayload", p, r.Data)
	_, err = f.s.GetPayload(f.ctx, model.NewID(model.PrefixPayload))
	wantErr(t, "GetPayload missing", err, store.ErrNotFound)

	got, err = f.s.GetRequest(f.ctx, f.team.ID, r.ID, false)
	must(t, "GetRequest without data", err)
	if len(got.Data.Body) != 0 || len(got.Data.Headers) != 0 {
		t.Fatalf("GetRequest without data returned data: %+v", got.Data)
	}
	got.Data, r.Data = model.Payload{}, model.Payload{}
	equal(t, "GetRequest without data", got, r)

	_, err = f.s.GetRequest(f.ctx, "tm_other", r.ID, false)
	wantErr(t, "GetRequest in another team", err, store.ErrNotFound)
	_, err = f.s.GetRequest(f.ctx, f.team.ID, model.NewID(model.PrefixRequest), false)
	wantErr(t, "GetRequest missing", err, store.ErrNotFound)

	// A rejected request with no body, headers or verification.
	rej := f.request(src, func(r *model.Request) {
		r.RejectionCause = model.RejectVerificationFailed
		r.Verified = ptr(false)
		r.Data = model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST"}
		r.OriginalIP = ""
	})
	got, err = f.s.GetRequest(f.ctx, f.team.ID, rej.ID, true)
	must(t, "GetRequest rejected", err)
	equal(t, "GetRequest rejected", got, rej)
	plain := f.request(src, func(r *model.Request) { r.Verified = nil })
	got, err = f.s.GetRequest(f.ctx, f.team.ID, plain.ID, true)
	must(t, "GetRequest unverified", err)
	equal(t, "GetRequest unverified", got, plain)
}

func routingCases() []testCase {
	return []testCase{
		{"Routing/ClaimLeases", testClaimRequests},
		{"Routing/Complete", testCompleteRouting},
		{"Routing/CompleteOnceAndRerun", testCompleteRoutingOnce},
	}
}

func testClaimRequests(t *testing.T, f *fixture) {
	src := f.pipe("p").src
	r1 := f.request(src)
	f.request(src, func(r *model.Request) { r.RejectionCause = model.RejectNoConnection })
	r2 := f.request(src)
	r3 := f.request(src)

	rs, err := f.s.ClaimUnroutedRequests(f.ctx, f.claim("a", 2, 0))
	must(t, "ClaimUnroutedRequests", err)
	sameIDs(t, "first claim (oldest first, limit 2)", requestIDs(rs), []string{r1.ID, r2.ID})
	equal(t, "claimed request", rs[0], r1)
	// A router claims one batch at a time: what it still holds at its next
	// claim was left behind by a failed batch, and it takes it up again.
	sameIDs(t, "second claim by a", f.claimRequests(f.claim("a", 10, time.Second)), []string{r1.ID, r2.ID, r3.ID})
	sameIDs(t, "claim by b while leased", f.claimRequests(f.claim("b", 10, 30*time.Second)), nil)
	// The leases expire after a minute: b may take the work over.
	sameIDs(t, "claim by b after expiry", f.claimRequests(f.claim("b", 10, 2*time.Minute)), []string{r1.ID, r2.ID, r3.ID})

	f.route(r1)
	sameIDs(t, "claim after routing r1", f.claimRequests(f.claim("c", 10, time.Hour)), []string{r2.ID, r3.ID})
}

func testCompleteRouting(t *testing.T, f *fixture) {
	src := f.source("src")
	d1 := f.destination("d1")
	cli := f.destination("cli", func(d *model.Destination) { d.Type = model.DestinationCLI })
	d3 := f.destination("d3")
	p1 := pipe{src: src, dst: d1, conn: f.connection("c1", src, d1)}
	p2 := pipe{src: src, dst: cli, conn: f.connection("c2", src, cli)}
	p3 := pipe{src: src, dst: d3, conn: f.connection("c3", src, d3)}
	req := f.request(src)
	other := f.request(src)

	transformed := model.Payload{
		ID: model.NewID(model.PrefixPayload), Method: "POST", Path: "/hook",
		Headers: map[string]string{"content-type": "application/json", "x-t": "1"},
		Body:    []byte(`{"n":2}`),
	}
	e1 := f.newEvent(req, p1)
	e2 := f.newEvent(req, p2, func(e *model.Event) {
		e.DataID = transformed.ID
		e.CLIID = "cli_1"
		e.Status = model.EventScheduled
		e.NextAttemptAt = ptr(f.at(time.Hour))
	})
	ign := model.IgnoredEvent{
		ID: model.NewID(model.PrefixIgnored), TeamID: f.team.ID, ConnectionID: p3.conn.ID,
		RequestID: req.ID, Cause: model.IgnoredFiltered, Meta: json.RawMessage(`{"rule": "filter"}`), CreatedAt: f.now,
	}
	routedAt := f.at(time.Second)
	err := f.s.CompleteRouting(f.ctx, []store.RoutingOutcome{
		{RequestID: req.ID, Payloads: []model.Payload{transformed}, Events: []model.Event{e1, e2},
			Ignored: []model.IgnoredEvent{ign}, CLIEvents: 1, RoutedAt: routedAt},
		{RequestID: other.ID, Ignored: []model.IgnoredEvent{{
			ID: model.NewID(model.PrefixIgnored), TeamID: f.team.ID, ConnectionID: p1.conn.ID,
			RequestID: other.ID, Cause: model.IgnoredDisabled, CreatedAt: f.now,
		}}, RoutedAt: routedAt},
	})
	must(t, "CompleteRouting", err)

	got := f.getRequest(req.ID)
	if got.RoutedAt == nil || !got.RoutedAt.Equal(routedAt) {
		t.Fatalf("RoutedAt = %v, want %v", got.RoutedAt, routedAt)
	}
	if got.EventsCount != 1 || got.CLIEventsCount != 1 || got.IgnoredCount != 1 {
		t.Fatalf("counters events=%d cli=%d ignored=%d, want 1 1 1", got.EventsCount, got.CLIEventsCount, got.IgnoredCount)
	}
	if o := f.getRequest(other.ID); o.RoutedAt == nil || o.EventsCount != 0 || o.IgnoredCount != 1 {
		t.Fatalf("other request after routing: %+v", o)
	}
	equal(t, "GetEvent e1", f.getEvent(e1.ID), e1)
	equal(t, "GetEvent e2", f.getEvent(e2.ID), e2)
	withData, err := f.s.GetEvent(f.ctx, f.team.ID, e2.ID, true)
	must(t, "GetEvent with data", err)
	if withData.Data == nil {
		t.Fatal("GetEvent with data: Data is nil")
	}
	equal(t, "GetEvent data", *withData.Data, transformed)
	withData, err = f.s.GetEvent(f.ctx, f.team.ID, e1.ID, true)
	must(t, "GetEvent with data", err)
	if withData.Data == nil {
		t.Fatal("GetEvent with data: Data is nil")
	}
	equal(t, "GetEvent e1 data", *withData.Data, req.Data)
	_, err = f.s.GetEvent(f.ctx, "tm_other", e1.ID, false)
	wantErr(t, "GetEvent in another team", err, store.ErrNotFound)
	_, err = f.s.GetEvent(f.ctx, f.team.ID, model.NewID(model.PrefixEvent), false)
	wantErr(t, "GetEvent missing", err, store.ErrNotFound)

	igns, err := f.s.ListIgnoredEvents(f.ctx, store.IgnoredEventFilter{TeamID: f.team.ID, RequestIDs: []string{req.ID}})
	must(t, "ListIgnoredEvents", err)
	if len(igns) != 1 {
		t.Fatalf("ListIgnoredEvents: %d rows, want 1", len(igns))
	}
	equal(t, "ignored event", igns[0], ign)
	sameIDs(t, "claim after routing", f.claimRequests(f.claim("a", 10, time.Hour)), nil)
}

func testCompleteRoutingOnce(t *testing.T, f *fixture) {
	p := f.pipe("p")
	req := f.request(p.src)
	e1 := f.newEvent(req, p)
	must(t, "CompleteRouting", f.s.CompleteRouting(f.ctx, []store.RoutingOutcome{{
		RequestID: req.ID, Events: []model.Event{e1}, RoutedAt: f.now, Ignored: []model.IgnoredEvent{{
			ID: model.NewID(model.PrefixIgnored), TeamID: f.team.ID, ConnectionID: p.conn.ID,
			RequestID: req.ID, Cause: model.IgnoredFiltered, CreatedAt: f.now,
		}},
	}}))

	// A second routing of the same request writes nothing of it, while a
	// fresh request in the same call is routed.
	fresh := f.request(p.src)
	e2 := f.newEvent(req, p)
	pl := model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Body: []byte("x")}
	e3 := f.newEvent(fresh, p)
	err := f.s.CompleteRouting(f.ctx, []store.RoutingOutcome{
		{RequestID: req.ID, Payloads: []model.Payload{pl}, Events: []model.Event{e2}, Ignored: []model.IgnoredEvent{{
			ID: model.NewID(model.PrefixIgnored), TeamID: f.team.ID, ConnectionID: p.conn.ID,
			RequestID: req.ID, Cause: model.IgnoredFiltered, CreatedAt: f.now,
		}}, RoutedAt: f.at(time.Minute)},
		{RequestID: fresh.ID, Events: []model.Event{e3}, RoutedAt: f.at(time.Minute)},
	})
	must(t, "CompleteRouting again", err)
	_, err = f.s.GetEvent(f.ctx, f.team.ID, e2.ID, false)
	wantErr(t, "event of a second routing", err, store.ErrNotFound)
	_, err = f.s.GetPayload(f.ctx, pl.ID)
	wantErr(t, "payload of a second routing", err, store.ErrNotFound)
	got := f.getRequest(req.ID)
	if got.EventsCount != 1 || got.IgnoredCount != 1 || !got.RoutedAt.Equal(f.now) {
		t.Fatalf("request after second routing: events=%d ignored=%d routed=%v", got.EventsCount, got.IgnoredCount, got.RoutedAt)
	}
	f.getEvent(e3.ID)
	if got := f.getRequest(fresh.ID); got.EventsCount != 1 || got.RoutedAt == nil {
		t.Fatalf("fresh request: events=%d routed=%v", got.EventsCount, got.RoutedAt)
	}

	// A rerun (manual request retry) adds events and counters.
	e4 := f.newEvent(req, p)
	err = f.s.CompleteRouting(f.ctx, []store.RoutingOutcome{{
		RequestID: req.ID, Rerun: true, Events: []model.Event{e4}, RoutedAt: f.at(2 * time.Minute),
		Ignored: []model.IgnoredEvent{{
			ID: model.NewID(model.PrefixIgnored), TeamID: f.team.ID, ConnectionID: p.conn.ID,
			RequestID: req.ID, Cause: model.IgnoredFiltered, CreatedAt: f.now,
		}},
	}})
	must(t, "CompleteRouting rerun", err)
	f.getEvent(e4.ID)
	if got := f.getRequest(req.ID); got.EventsCount != 2 || got.IgnoredCount != 2 {
		t.Fatalf("request after rerun: events=%d ignored=%d, want 2 2", got.EventsCount, got.IgnoredCount)
	}
	evs, err := f.s.ListEvents(f.ctx, store.EventFilter{TeamID: f.team.ID, RequestIDs: []string{req.ID}, Page: store.Page{Asc: true}})
	must(t, "ListEvents", err)
	sameIDs(t, "events of the request", eventIDs(evs), []string{e1.ID, e4.ID})
}
