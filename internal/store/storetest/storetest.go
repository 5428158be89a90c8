// Package storetest is the conformance suite for store.Store. Every
// implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTestStore(t) })
//	}
//
// The suite pins down the behaviour the pipeline stages rely on that the
// contract's doc comments state in words: uniqueness, cascades, exact
// round-trips, leases and their expiry, routing idempotency, the effect of
// pausing, deduplication windows, rate-limit slots, and every list filter.
package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// lease is the lease length the suite claims with. Expiry is simulated by
// claiming with a later Claim.Now, never by sleeping.
const lease = time.Minute

// Run runs the conformance suite as parallel subtests. open is called once
// per subtest and must return a store over an empty database of its own
// (claims are not scoped by team, so subtests must not share rows); it
// should close the store when t ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range allCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			tc.fn(t, newFixture(t, s))
		})
	}
}

type testCase struct {
	name string
	fn   func(t *testing.T, f *fixture)
}

func allCases() []testCase {
	var cs []testCase
	cs = append(cs, teamCases()...)
	cs = append(cs, sourceCases()...)
	cs = append(cs, destinationCases()...)
	cs = append(cs, connectionCases()...)
	cs = append(cs, ingestCases()...)
	cs = append(cs, routingCases()...)
	cs = append(cs, dispatchCases()...)
	cs = append(cs, pauseCases()...)
	cs = append(cs, logCases()...)
	cs = append(cs, transformationCases()...)
	cs = append(cs, dedupCases()...)
	cs = append(cs, rateCases()...)
	cs = append(cs, statsCases()...)
	cs = append(cs, clusterCases()...)
	return cs
}

func teamCases() []testCase {
	return []testCase{
		{"Ping", func(t *testing.T, f *fixture) {
			if err := f.s.Ping(f.ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
		}},
		{"EnsureDefaultTeam/Idempotent", func(t *testing.T, f *fixture) {
			if f.team.ID == "" || f.team.SigningSecret == "" || f.team.CreatedAt.IsZero() {
				t.Fatalf("default team incomplete: %+v", f.team)
			}
			var wg sync.WaitGroup
			got := make([]model.Team, 8)
			errs := make([]error, 8)
			for i := range got {
				wg.Go(func() { got[i], errs[i] = f.s.EnsureDefaultTeam(f.ctx) })
			}
			wg.Wait()
			for i := range got {
				if errs[i] != nil {
					t.Fatalf("EnsureDefaultTeam #%d: %v", i, errs[i])
				}
				equal(t, "EnsureDefaultTeam again", got[i], f.team)
			}
		}},
	}
}

// fixture is one subtest's store and the helpers that fill it.
type fixture struct {
	t    *testing.T
	ctx  context.Context
	s    store.Store
	team model.Team
	// now is the subtest's reference time, in UTC to the microsecond, so
	// that every store can round-trip it exactly.
	now time.Time
}

func newFixture(t *testing.T, s store.Store) *fixture {
	t.Helper()
	ctx := t.Context()
	team, err := s.EnsureDefaultTeam(ctx)
	if err != nil {
		t.Fatalf("EnsureDefaultTeam: %v", err)
	}
	return &fixture{t: t, ctx: ctx, s: s, team: team, now: time.Now().UTC().Truncate(time.Microsecond)}
}

// at returns the reference time shifted by d.
func (f *fixture) at(d time.Duration) time.Time { return f.now.Add(d) }

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

func (f *fixture) source(name string, mods ...func(*model.Source)) model.Source {
	f.t.Helper()
	s := model.Source{
		ID: model.NewID(model.PrefixSource), TeamID: f.team.ID, Name: name, Type: "WEBHOOK",
		CreatedAt: f.now, UpdatedAt: f.now,
	}
	for _, m := range mods {
		m(&s)
	}
	if err := f.s.CreateSource(f.ctx, &s); err != nil {
		f.t.Fatalf("CreateSource %q: %v", name, err)
	}
	return s
}

func (f *fixture) destination(name string, mods ...func(*model.Destination)) model.Destination {
	f.t.Helper()
	d := model.Destination{
		ID: model.NewID(model.PrefixDestination), TeamID: f.team.ID, Name: name, Type: model.DestinationHTTP,
		Config:    model.DestinationConfig{URL: "http://127.0.0.1:9/" + name},
		CreatedAt: f.now, UpdatedAt: f.now,
	}
	for _, m := range mods {
		m(&d)
	}
	if err := f.s.CreateDestination(f.ctx, &d); err != nil {
		f.t.Fatalf("CreateDestination %q: %v", name, err)
	}
	return d
}

func (f *fixture) connection(name string, src model.Source, dst model.Destination, mods ...func(*model.Connection)) model.Connection {
	f.t.Helper()
	c := model.Connection{
		ID: model.NewID(model.PrefixConnection), TeamID: f.team.ID, Name: name,
		SourceID: src.ID, DestinationID: dst.ID, Rules: []byte(`[]`),
		CreatedAt: f.now, UpdatedAt: f.now,
	}
	for _, m := range mods {
		m(&c)
	}
	if err := f.s.CreateConnection(f.ctx, &c); err != nil {
		f.t.Fatalf("CreateConnection %q: %v", name, err)
	}
	return c
}

// pipe is a source, a destination and a connection between them.
type pipe struct {
	src  model.Source
	dst  model.Destination
	conn model.Connection
}

func (f *fixture) pipe(name string) pipe {
	f.t.Helper()
	src := f.source(name)
	dst := f.destination(name)
	return pipe{src: src, dst: dst, conn: f.connection(name, src, dst)}
}

// request inserts an accepted request to src with a small JSON payload.
func (f *fixture) request(src model.Source, mods ...func(*model.Request)) model.Request {
	f.t.Helper()
	r := model.Request{
		ID: model.NewID(model.PrefixRequest), TeamID: f.team.ID, SourceID: src.ID,
		Data: model.Payload{
			ID: model.NewID(model.PrefixPayload), Method: "POST", Path: "/hook", Query: "a=1",
			Headers: map[string]string{"content-type": "application/json"},
			Body:    []byte(`{"n":1}`),
		},
		OriginalIP: "192.0.2.1",
		IngestedAt: f.now, CreatedAt: f.now, UpdatedAt: f.now,
	}
	for _, m := range mods {
		m(&r)
	}
	if err := f.s.InsertRequest(f.ctx, &r); err != nil {
		f.t.Fatalf("InsertRequest: %v", err)
	}
	return r
}

// newEvent builds (does not store) a QUEUED event of req through p.
func (f *fixture) newEvent(req model.Request, p pipe, mods ...func(*model.Event)) model.Event {
	e := model.Event{
		ID: model.NewID(model.PrefixEvent), TeamID: f.team.ID, ConnectionID: p.conn.ID,
		SourceID: p.src.ID, DestinationID: p.dst.ID, RequestID: req.ID, DataID: req.Data.ID,
		Status: model.EventQueued, NextTrigger: model.TriggerInitial,
		CreatedAt: f.now, UpdatedAt: f.now,
	}
	for _, m := range mods {
		m(&e)
	}
	return e
}

// route completes the routing of req with the given events.
func (f *fixture) route(req model.Request, events ...model.Event) {
	f.t.Helper()
	err := f.s.CompleteRouting(f.ctx, []store.RoutingOutcome{{
		RequestID: req.ID, Events: events, RoutedAt: f.now,
	}})
	if err != nil {
		f.t.Fatalf("CompleteRouting: %v", err)
	}
}

// event stores one event through p (with a request of its own) and returns
// it as the store reads it back.
func (f *fixture) event(p pipe, mods ...func(*model.Event)) model.Event {
	f.t.Helper()
	req := f.request(p.src)
	e := f.newEvent(req, p, mods...)
	f.route(req, e)
	return f.getEvent(e.ID)
}

func (f *fixture) getEvent(id string) model.Event {
	f.t.Helper()
	e, err := f.s.GetEvent(f.ctx, f.team.ID, id, false)
	if err != nil {
		f.t.Fatalf("GetEvent %s: %v", id, err)
	}
	return e
}

func (f *fixture) getRequest(id string) model.Request {
	f.t.Helper()
	r, err := f.s.GetRequest(f.ctx, f.team.ID, id, false)
	if err != nil {
		f.t.Fatalf("GetRequest %s: %v", id, err)
	}
	return r
}

// claim is a Claim by owner at the reference time shifted by d.
func (f *fixture) claim(owner string, limit int, d time.Duration) store.Claim {
	return store.Claim{Owner: owner, Limit: limit, Lease: lease, Now: f.at(d)}
}

func (f *fixture) claimEvents(c store.Claim) []string {
	f.t.Helper()
	evs, err := f.s.ClaimEvents(f.ctx, c)
	if err != nil {
		f.t.Fatalf("ClaimEvents: %v", err)
	}
	return eventIDs(evs)
}

func (f *fixture) claimRequests(c store.Claim) []string {
	f.t.Helper()
	rs, err := f.s.ClaimUnroutedRequests(f.ctx, c)
	if err != nil {
		f.t.Fatalf("ClaimUnroutedRequests: %v", err)
	}
	return requestIDs(rs)
}

// attempt builds an attempt of e at time at; a zero code means no
// response (error code TIMEOUT).
func (f *fixture) attempt(e model.Event, status string, code int, at time.Time) model.Attempt {
	a := model.Attempt{
		ID: model.NewID(model.PrefixAttempt), TeamID: e.TeamID, EventID: e.ID, DestinationID: e.DestinationID,
		AttemptNumber: e.Attempts + 1, Trigger: e.NextTrigger, Status: status,
		Body: "ok", RequestedURL: "http://127.0.0.1:9/x", HTTPMethod: "POST",
		DeliveredAt: ptr(at), RespondedAt: ptr(at.Add(5 * time.Millisecond)),
		DeliveryLatency: ptr(3), ResponseLatency: ptr(5),
		CreatedAt: at, UpdatedAt: at,
	}
	if code != 0 {
		a.ResponseStatus = ptr(code)
	}
	if status == model.AttemptSuccessful {
		a.SuccessfulAt = ptr(at)
	}
	if code == 0 {
		a.ErrorCode = "TIMEOUT"
	}
	return a
}

// deliver claims e for owner "deliverer" and records an attempt with the
// given outcome at time at.
func (f *fixture) deliver(e model.Event, status string, code int, at time.Time, next *time.Time) model.Attempt {
	f.t.Helper()
	c := store.Claim{Owner: "deliverer", Limit: 1, Lease: lease, Now: at}
	claimed, err := f.s.ClaimEvent(f.ctx, f.team.ID, e.ID, c)
	if err != nil {
		f.t.Fatalf("ClaimEvent %s: %v", e.ID, err)
	}
	a := f.attempt(claimed, status, code, at)
	out := store.AttemptOutcome{Owner: c.Owner, Attempt: a, EventStatus: status}
	if next != nil {
		out.EventStatus, out.NextAttemptAt, out.NextTrigger = model.EventScheduled, next, model.TriggerAutomatic
	}
	if err := f.s.RecordAttempt(f.ctx, out); err != nil {
		f.t.Fatalf("RecordAttempt %s: %v", e.ID, err)
	}
	return a
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func eventIDs(evs []model.Event) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

func requestIDs(rs []model.Request) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}
