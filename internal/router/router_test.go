package router

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules/transform"
	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/store/sqlitestore"
)

// bundle is a router over a real SQLite store with one source.
type bundle struct {
	ctx    context.Context
	st     *sqlitestore.Store
	r      *Router
	team   model.Team
	source model.Source
}

func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "sluice.db"), sqlitestore.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	team, err := st.EnsureDefaultTeam(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	src := model.Source{ID: model.NewID(model.PrefixSource), TeamID: team.ID, Name: "src", Type: "WEBHOOK", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateSource(ctx, &src); err != nil {
		t.Fatal(err)
	}
	r := New(st, Config{Owner: "test", Transforms: transform.NewEngine(transform.Config{}), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &bundle{ctx: ctx, st: st, r: r, team: team, source: src}
}

// connection adds a connection (and its destination) with the given rules.
func (b *bundle) connection(t *testing.T, name, rules string, mods ...func(*model.Connection)) model.Connection {
	t.Helper()
	now := time.Now().UTC()
	d := model.Destination{ID: model.NewID(model.PrefixDestination), TeamID: b.team.ID, Name: "d-" + name, Type: model.DestinationMockAPI, CreatedAt: now, UpdatedAt: now}
	if err := b.st.CreateDestination(b.ctx, &d); err != nil {
		t.Fatal(err)
	}
	c := model.Connection{ID: model.NewID(model.PrefixConnection), TeamID: b.team.ID, Name: name, SourceID: b.source.ID, DestinationID: d.ID, Rules: json.RawMessage(rules), CreatedAt: now, UpdatedAt: now}
	for _, m := range mods {
		m(&c)
	}
	if err := b.st.CreateConnection(b.ctx, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// request commits an accepted request with a JSON body.
func (b *bundle) request(t *testing.T, body string) model.Request {
	t.Helper()
	now := time.Now().UTC()
	r := model.Request{ID: model.NewID(model.PrefixRequest), TeamID: b.team.ID, SourceID: b.source.ID, IngestedAt: now, CreatedAt: now, UpdatedAt: now,
		Data: model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Path: "/hook", Headers: map[string]string{"content-type": "application/json", "x-topic": "orders/create"}, Body: []byte(body)}}
	if err := b.st.InsertRequest(b.ctx, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// outcome is what routing produced for one request: events by connection
// name and ignored causes by connection name.
type outcome struct {
	events  map[string]model.Event
	ignored map[string]model.IgnoredEvent
}

func (b *bundle) outcome(t *testing.T, req model.Request, conns ...model.Connection) outcome {
	t.Helper()
	names := map[string]string{}
	for _, c := range conns {
		names[c.ID] = c.Name
	}
	out := outcome{events: map[string]model.Event{}, ignored: map[string]model.IgnoredEvent{}}
	evs, err := b.st.ListEvents(b.ctx, store.EventFilter{TeamID: b.team.ID, RequestIDs: []string{req.ID}, WithData: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		out.events[names[e.ConnectionID]] = e
	}
	ig, err := b.st.ListIgnoredEvents(b.ctx, store.IgnoredEventFilter{TeamID: b.team.ID, RequestIDs: []string{req.ID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ig {
		out.ignored[names[i.ConnectionID]] = i
	}
	return out
}

func (b *bundle) routeAll(t *testing.T) {
	t.Helper()
	if _, err := b.r.routeBatch(b.ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	plain := b.connection(t, "plain", "")
	disabled := b.connection(t, "disabled", "", func(c *model.Connection) { now := time.Now(); c.DisabledAt = &now })
	filtered := b.connection(t, "filtered", `[{"type":"filter","body":{"type":"order.created"},"headers":{"x-topic":{"$startsWith":"orders/"}}}]`)
	notMatching := b.connection(t, "not-matching", `[{"type":"filter","body":{"type":"order.updated"}}]`)
	delayed := b.connection(t, "delayed", `[{"type":"delay","delay":60000}]`)

	tr := model.Transformation{ID: model.NewID(model.PrefixTransform), TeamID: b.team.ID, Name: "kind",
		Code: `addHandler('transform', (request) => { request.body.kind = 'order'; return request; })`, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := b.st.CreateTransformation(b.ctx, &tr); err != nil {
		t.Fatal(err)
	}
	transformedThenFiltered := b.connection(t, "transform-filter", `[{"type":"transform","transformation_id":"`+tr.ID+`"},{"type":"filter","body":{"kind":"order"}}]`)
	filteredThenTransformed := b.connection(t, "filter-transform", `[{"type":"filter","body":{"kind":"order"}},{"type":"transform","transformation_id":"`+tr.ID+`"}]`)
	broken := b.connection(t, "broken", `[{"type":"transform","transformation_id":"trs_missing"}]`)

	req := b.request(t, `{"type":"order.created","id":1}`)
	b.routeAll(t)
	got := b.outcome(t, req, plain, disabled, filtered, notMatching, delayed, transformedThenFiltered, filteredThenTransformed, broken)

	tests := []struct {
		conn        string
		wantEvent   bool
		wantStatus  string
		wantIgnored string
	}{
		{"plain", true, model.EventQueued, ""},
		{"disabled", false, "", model.IgnoredDisabled},
		{"filtered", true, model.EventQueued, ""},
		{"not-matching", false, "", model.IgnoredFiltered},
		{"delayed", true, model.EventScheduled, ""},
		{"transform-filter", true, model.EventQueued, ""},
		{"filter-transform", false, "", model.IgnoredFiltered},
		{"broken", false, "", model.IgnoredTransformationFailed},
	}
	for _, tt := range tests {
		ev, isEvent := got.events[tt.conn]
		ig, isIgnored := got.ignored[tt.conn]
		if isEvent != tt.wantEvent || (tt.wantEvent && ev.Status != tt.wantStatus) {
			t.Errorf("%s: event %v (status %q), want event %v with status %q", tt.conn, isEvent, ev.Status, tt.wantEvent, tt.wantStatus)
		}
		if (tt.wantIgnored == "") == isIgnored || (isIgnored && ig.Cause != tt.wantIgnored) {
			t.Errorf("%s: ignored %v (cause %q), want cause %q", tt.conn, isIgnored, ig.Cause, tt.wantIgnored)
		}
	}
	if e := got.events["delayed"]; e.NextAttemptAt == nil || time.Until(*e.NextAttemptAt) < 50*time.Second {
		t.Errorf("delayed event due at %v, want about a minute from now", e.NextAttemptAt)
	}
	var parts []string
	_ = json.Unmarshal(got.ignored["not-matching"].Meta, &parts)
	if !slices.Equal(parts, []string{"body"}) {
		t.Errorf("FILTERED meta = %s, want [\"body\"]", got.ignored["not-matching"].Meta)
	}
	// The transformed event delivers the transformation's output.
	e := got.events["transform-filter"]
	if e.DataID == req.Data.ID || e.Data == nil || !json.Valid(e.Data.Body) {
		t.Fatalf("transformed event data = %+v", e.Data)
	}
	var body map[string]any
	_ = json.Unmarshal(e.Data.Body, &body)
	if body["kind"] != "order" || body["type"] != "order.created" {
		t.Errorf("transformed body = %s", e.Data.Body)
	}
	execs, err := b.st.ListTransformationExecutions(b.ctx, store.ExecutionFilter{TeamID: b.team.ID, TransformationID: tr.ID})
	if err != nil || len(execs) != 1 || execs[0].TransformedDataID != e.DataID {
		t.Errorf("executions = %+v, %v; want one producing the event's data", execs, err)
	}
	r, _ := b.st.GetRequest(b.ctx, b.team.ID, req.ID, false)
	if r.EventsCount != 4 || r.IgnoredCount != 4 {
		t.Errorf("request counts: %d events, %d ignored; want 4 and 4", r.EventsCount, r.IgnoredCount)
	}
}

func TestDeduplicate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.connection(t, "dedup", `[{"type":"deduplicate","window":60000,"include_fields":["body.id"]}]`)
	// Two duplicates in one batch, then one more in a later batch, and a
	// different id.
	first, second := b.request(t, `{"id":1,"v":1}`), b.request(t, `{"id":1,"v":2}`)
	b.routeAll(t)
	third, other := b.request(t, `{"id":1,"v":3}`), b.request(t, `{"id":2}`)
	b.routeAll(t)
	for _, tt := range []struct {
		req   model.Request
		event bool
	}{{first, true}, {second, false}, {third, false}, {other, true}} {
		got := b.outcome(t, tt.req, c)
		_, isEvent := got.events["dedup"]
		if isEvent != tt.event {
			t.Errorf("request %s: event %v, want %v", tt.req.Data.Body, isEvent, tt.event)
		}
		if !tt.event && got.ignored["dedup"].Cause != model.IgnoredDeduplicated {
			t.Errorf("request %s: ignored %+v, want DEDUPLICATED", tt.req.Data.Body, got.ignored["dedup"])
		}
	}
}

func TestRetryRequestSkipsLaterConnections(t *testing.T) {
	t.Parallel()
	b := setup(t)
	early := b.connection(t, "early", "")
	req := b.request(t, `{}`)
	b.routeAll(t)
	time.Sleep(2 * time.Millisecond)
	later := b.connection(t, "later", "")
	stored, err := b.st.GetRequest(b.ctx, b.team.ID, req.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := b.r.RetryRequest(b.ctx, stored, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].ConnectionID != early.ID {
		t.Fatalf("retry made %+v; want one event for %s and none for %s", evs, early.ID, later.ID)
	}
	rejected := stored
	rejected.RejectionCause = model.RejectVerificationFailed
	if _, err := b.r.RetryRequest(b.ctx, rejected, nil); err == nil {
		t.Fatal("a rejected request was retried")
	}
}
