package storetest

import (
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

func logCases() []testCase {
	return []testCase{
		{"Log/Requests", testListRequests},
		{"Log/Events", testListEvents},
		{"Log/Attempts", testListAttempts},
		{"Log/IgnoredEvents", testListIgnored},
	}
}

func testListRequests(t *testing.T, f *fixture) {
	p := f.pipe("p")
	src2 := f.source("src2")
	f.connection("p2", src2, p.dst) // else its requests are NO_CONNECTION
	t0 := f.now
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	created := func(n int) func(*model.Request) {
		return func(r *model.Request) { r.CreatedAt, r.IngestedAt, r.UpdatedAt = sec(n), sec(n), sec(n) }
	}
	r0 := f.request(p.src, created(0), func(r *model.Request) { r.Verified = ptr(true) })
	r1 := f.request(p.src, created(1), func(r *model.Request) { r.Verified = ptr(false) })
	r2 := f.request(p.src, created(2), func(r *model.Request) {
		r.Verified = ptr(false)
		r.RejectionCause = model.RejectVerificationFailed
	})
	r3 := f.request(src2, created(3))
	f.route(r0, f.newEvent(r0, p), f.newEvent(r0, p))
	must(t, "CompleteRouting", f.s.CompleteRouting(f.ctx, []store.RoutingOutcome{{
		RequestID: r1.ID, RoutedAt: f.now, Ignored: []model.IgnoredEvent{{
			ID: model.NewID(model.PrefixIgnored), TeamID: f.team.ID, ConnectionID: p.conn.ID,
			RequestID: r1.ID, Cause: model.IgnoredFiltered, CreatedAt: f.now,
		}},
	}}))
	all := []string{r0.ID, r1.ID, r2.ID, r3.ID}
	list := func(fl store.RequestFilter) ([]model.Request, error) {
		if fl.TeamID == "" {
			fl.TeamID = f.team.ID
		}
		return f.s.ListRequests(f.ctx, fl)
	}
	checkPaging(t, "ListRequests", all, 3, func(pg store.Page) ([]string, error) {
		rs, err := list(store.RequestFilter{Page: pg})
		return requestIDs(rs), err
	})
	cases := []struct {
		name string
		f    store.RequestFilter
		want []string
	}{
		{"ids", store.RequestFilter{IDs: []string{r3.ID, r0.ID}}, []string{r0.ID, r3.ID}},
		{"sources", store.RequestFilter{SourceIDs: []string{src2.ID}}, []string{r3.ID}},
		{"accepted", store.RequestFilter{Status: "accepted"}, []string{r0.ID, r1.ID, r3.ID}},
		{"rejected", store.RequestFilter{Status: "rejected"}, []string{r2.ID}},
		{"rejection causes", store.RequestFilter{RejectionCauses: []string{model.RejectVerificationFailed}}, []string{r2.ID}},
		{"other rejection cause", store.RequestFilter{RejectionCauses: []string{model.RejectNoConnection}}, nil},
		{"verified", store.RequestFilter{Verified: ptr(true)}, []string{r0.ID}},
		{"unverified", store.RequestFilter{Verified: ptr(false)}, []string{r1.ID, r2.ID}},
		{"created gt", store.RequestFilter{CreatedAt: store.TimeRange{GT: ptr(sec(0))}}, []string{r1.ID, r2.ID, r3.ID}},
		{"created gte lt", store.RequestFilter{CreatedAt: store.TimeRange{GTE: ptr(sec(1)), LT: ptr(sec(3))}}, []string{r1.ID, r2.ID}},
		{"created lte", store.RequestFilter{CreatedAt: store.TimeRange{LTE: ptr(sec(1))}}, []string{r0.ID, r1.ID}},
		{"events gt", store.RequestFilter{EventsCount: store.IntRange{GT: ptr(0)}}, []string{r0.ID}},
		{"events eq", store.RequestFilter{EventsCount: store.IntRange{EQ: ptr(2)}}, []string{r0.ID}},
		{"events lt", store.RequestFilter{EventsCount: store.IntRange{LT: ptr(1)}}, []string{r1.ID, r2.ID, r3.ID}},
		{"events gte lte", store.RequestFilter{EventsCount: store.IntRange{GTE: ptr(0), LTE: ptr(0)}}, []string{r1.ID, r2.ID, r3.ID}},
		{"ignored gte", store.RequestFilter{IgnoredCount: store.IntRange{GTE: ptr(1)}}, []string{r1.ID}},
		{"accepted from source", store.RequestFilter{Status: "accepted", SourceIDs: []string{p.src.ID}}, []string{r0.ID, r1.ID}},
		{"other team", store.RequestFilter{TeamID: "tm_other"}, nil},
	}
	for _, tc := range cases {
		fl := tc.f
		fl.Page = store.Page{Asc: true}
		rs, err := list(fl)
		must(t, "ListRequests "+tc.name, err)
		sameIDs(t, "ListRequests "+tc.name, requestIDs(rs), tc.want)
	}

	rs, err := list(store.RequestFilter{IDs: []string{r0.ID}, WithData: true})
	must(t, "ListRequests with data", err)
	if len(rs) != 1 {
		t.Fatalf("ListRequests with data: %d rows", len(rs))
	}
	equal(t, "ListRequests with data", rs[0].Data, r0.Data)
	rs, err = list(store.RequestFilter{IDs: []string{r0.ID}})
	must(t, "ListRequests without data", err)
	if len(rs) != 1 || len(rs[0].Data.Body) != 0 {
		t.Fatalf("ListRequests without data: %+v", rs)
	}
}

func testListEvents(t *testing.T, f *fixture) {
	s1, s2 := f.source("s1"), f.source("s2")
	d1, d2 := f.destination("d1"), f.destination("d2")
	p1 := pipe{src: s1, dst: d1, conn: f.connection("c1", s1, d1)}
	p2 := pipe{src: s1, dst: d2, conn: f.connection("c2", s1, d2)}
	p3 := pipe{src: s2, dst: d1, conn: f.connection("c3", s2, d1)}
	t0 := f.now
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	created := func(n int) func(*model.Event) {
		return func(e *model.Event) { e.CreatedAt, e.UpdatedAt = sec(n), sec(n) }
	}
	e0 := f.event(p1, created(0))
	e1 := f.event(p2, created(1), func(e *model.Event) { e.CLIID = "cli_1" })
	e2 := f.event(p3, created(2), func(e *model.Event) {
		e.Status = model.EventScheduled
		e.NextAttemptAt = ptr(sec(3600))
	})
	e3 := f.event(p1, created(3))
	f.deliver(e0, model.AttemptSuccessful, 200, sec(10), nil)
	f.deliver(e1, model.AttemptFailed, 500, sec(20), nil)
	f.deliver(e3, model.AttemptFailed, 0, sec(30), ptr(sec(7200)))

	all := []string{e0.ID, e1.ID, e2.ID, e3.ID}
	checkPaging(t, "ListEvents", all, 3, func(pg store.Page) ([]string, error) {
		evs, err := f.s.ListEvents(f.ctx, store.EventFilter{TeamID: f.team.ID, Page: pg})
		return eventIDs(evs), err
	})
	cases := []struct {
		name string
		f    store.EventFilter
		want []string
	}{
		{"ids", store.EventFilter{IDs: []string{e3.ID, e1.ID}}, []string{e1.ID, e3.ID}},
		{"successful", store.EventFilter{Statuses: []string{model.EventSuccessful}}, []string{e0.ID}},
		{"scheduled or failed", store.EventFilter{Statuses: []string{model.EventScheduled, model.EventFailed}}, []string{e1.ID, e2.ID, e3.ID}},
		{"queued", store.EventFilter{Statuses: []string{model.EventQueued}}, nil},
		{"connections", store.EventFilter{ConnectionIDs: []string{p1.conn.ID}}, []string{e0.ID, e3.ID}},
		{"sources", store.EventFilter{SourceIDs: []string{s2.ID}}, []string{e2.ID}},
		{"destinations", store.EventFilter{DestinationIDs: []string{d1.ID}}, []string{e0.ID, e2.ID, e3.ID}},
		{"requests", store.EventFilter{RequestIDs: []string{e1.RequestID}}, []string{e1.ID}},
		{"error codes", store.EventFilter{ErrorCodes: []string{"TIMEOUT"}}, []string{e3.ID}},
		{"response statuses", store.EventFilter{ResponseStatuses: []int{200, 500}}, []string{e0.ID, e1.ID}},
		{"cli ids", store.EventFilter{CLIIDs: []string{"cli_1"}}, []string{e1.ID}},
		{"attempts gte", store.EventFilter{Attempts: store.IntRange{GTE: ptr(1)}}, []string{e0.ID, e1.ID, e3.ID}},
		{"attempts eq", store.EventFilter{Attempts: store.IntRange{EQ: ptr(0)}}, []string{e2.ID}},
		{"created gte lte", store.EventFilter{CreatedAt: store.TimeRange{GTE: ptr(sec(1)), LTE: ptr(sec(2))}}, []string{e1.ID, e2.ID}},
		{"created gt lt", store.EventFilter{CreatedAt: store.TimeRange{GT: ptr(sec(0)), LT: ptr(sec(2))}}, []string{e1.ID}},
		{"successful at", store.EventFilter{SuccessfulAt: store.TimeRange{GT: ptr(sec(0))}}, []string{e0.ID}},
		{"last attempt lt", store.EventFilter{LastAttemptAt: store.TimeRange{LT: ptr(sec(25))}}, []string{e0.ID, e1.ID}},
		{"last attempt gte", store.EventFilter{LastAttemptAt: store.TimeRange{GTE: ptr(sec(20))}}, []string{e1.ID, e3.ID}},
		{"next attempt gt", store.EventFilter{NextAttemptAt: store.TimeRange{GT: ptr(sec(5400))}}, []string{e3.ID}},
		{"next attempt lte", store.EventFilter{NextAttemptAt: store.TimeRange{LTE: ptr(sec(3600))}}, []string{e2.ID}},
		{"scheduled to d1", store.EventFilter{Statuses: []string{model.EventScheduled}, DestinationIDs: []string{d1.ID}}, []string{e2.ID, e3.ID}},
		{"other team", store.EventFilter{TeamID: "tm_other"}, nil},
	}
	for _, tc := range cases {
		fl := tc.f
		if fl.TeamID == "" {
			fl.TeamID = f.team.ID
		}
		fl.Page = store.Page{Asc: true}
		evs, err := f.s.ListEvents(f.ctx, fl)
		must(t, "ListEvents "+tc.name, err)
		sameIDs(t, "ListEvents "+tc.name, eventIDs(evs), tc.want)
	}

	evs, err := f.s.ListEvents(f.ctx, store.EventFilter{TeamID: f.team.ID, IDs: []string{e0.ID}, WithData: true})
	must(t, "ListEvents with data", err)
	if len(evs) != 1 || evs[0].Data == nil || string(evs[0].Data.Body) != `{"n":1}` {
		t.Fatalf("ListEvents with data: %+v", evs)
	}
	evs, err = f.s.ListEvents(f.ctx, store.EventFilter{TeamID: f.team.ID, IDs: []string{e0.ID}})
	must(t, "ListEvents without data", err)
	if len(evs) != 1 || evs[0].Data != nil {
		t.Fatalf("ListEvents without data: %+v", evs)
	}
}

func testListAttempts(t *testing.T, f *fixture) {
	p := f.pipe("p")
	e := f.event(p)
	other := f.event(p)
	var want []model.Attempt
	want = append(want, f.deliver(e, model.AttemptFailed, 500, f.at(time.Second), ptr(f.at(time.Minute))))
	want = append(want, f.deliver(f.getEvent(e.ID), model.AttemptFailed, 502, f.at(time.Minute), ptr(f.at(2*time.Minute))))
	want = append(want, f.deliver(f.getEvent(e.ID), model.AttemptSuccessful, 200, f.at(2*time.Minute), nil))
	last := f.deliver(other, model.AttemptSuccessful, 204, f.at(3*time.Minute), nil)
	if want[2].AttemptNumber != 3 {
		t.Fatalf("third attempt has number %d", want[2].AttemptNumber)
	}

	as, err := f.s.ListAttempts(f.ctx, store.AttemptFilter{TeamID: f.team.ID, EventIDs: []string{e.ID}, Page: store.Page{Asc: true}})
	must(t, "ListAttempts by event", err)
	equal(t, "ListAttempts by event", as, want)
	all := []string{want[0].ID, want[1].ID, want[2].ID, last.ID}
	checkPaging(t, "ListAttempts", all, 2, func(pg store.Page) ([]string, error) {
		as, err := f.s.ListAttempts(f.ctx, store.AttemptFilter{TeamID: f.team.ID, Page: pg})
		return attemptIDs(as), err
	})
	as, err = f.s.ListAttempts(f.ctx, store.AttemptFilter{TeamID: f.team.ID, IDs: []string{last.ID, want[0].ID}, Page: store.Page{Asc: true}})
	must(t, "ListAttempts by id", err)
	sameIDs(t, "ListAttempts by id", attemptIDs(as), []string{want[0].ID, last.ID})
	as, err = f.s.ListAttempts(f.ctx, store.AttemptFilter{TeamID: "tm_other"})
	must(t, "ListAttempts other team", err)
	sameIDs(t, "ListAttempts other team", attemptIDs(as), nil)
	_, err = f.s.GetAttempt(f.ctx, f.team.ID, model.NewID(model.PrefixAttempt))
	wantErr(t, "GetAttempt missing", err, store.ErrNotFound)
}

func attemptIDs(as []model.Attempt) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func testListIgnored(t *testing.T, f *fixture) {
	p := f.pipe("p")
	c2 := f.connection("c2", p.src, p.dst)
	r0, r1 := f.request(p.src), f.request(p.src)
	ign := func(r model.Request, connID, cause string) model.IgnoredEvent {
		return model.IgnoredEvent{
			ID: model.NewID(model.PrefixIgnored), TeamID: f.team.ID, ConnectionID: connID,
			RequestID: r.ID, Cause: cause, CreatedAt: f.now,
		}
	}
	i0 := ign(r0, p.conn.ID, model.IgnoredFiltered)
	i1 := ign(r0, c2.ID, model.IgnoredDisabled)
	i2 := ign(r1, p.conn.ID, model.IgnoredTransformationFailed)
	i2.Meta = []byte(`{"error":"boom","log_id":"x"}`)
	must(t, "CompleteRouting", f.s.CompleteRouting(f.ctx, []store.RoutingOutcome{
		{RequestID: r0.ID, Ignored: []model.IgnoredEvent{i0, i1}, RoutedAt: f.now},
		{RequestID: r1.ID, Ignored: []model.IgnoredEvent{i2}, RoutedAt: f.now},
	}))
	list := func(fl store.IgnoredEventFilter) []model.IgnoredEvent {
		t.Helper()
		fl.TeamID = f.team.ID
		igs, err := f.s.ListIgnoredEvents(f.ctx, fl)
		must(t, "ListIgnoredEvents", err)
		return igs
	}
	equal(t, "all ignored events", list(store.IgnoredEventFilter{Page: store.Page{Asc: true}}), []model.IgnoredEvent{i0, i1, i2})
	equal(t, "newest first", list(store.IgnoredEventFilter{}), []model.IgnoredEvent{i2, i1, i0})
	equal(t, "by request", list(store.IgnoredEventFilter{RequestIDs: []string{r0.ID}, Page: store.Page{Asc: true}}), []model.IgnoredEvent{i0, i1})
	equal(t, "by connection", list(store.IgnoredEventFilter{ConnectionIDs: []string{p.conn.ID}, Page: store.Page{Asc: true}}), []model.IgnoredEvent{i0, i2})
	equal(t, "by cause", list(store.IgnoredEventFilter{Causes: []string{model.IgnoredDisabled, model.IgnoredTransformationFailed}, Page: store.Page{Asc: true}}), []model.IgnoredEvent{i1, i2})
	equal(t, "page", list(store.IgnoredEventFilter{Page: store.Page{Limit: 1, After: i2.ID}}), []model.IgnoredEvent{i1})
}
