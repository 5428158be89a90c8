package api

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// logFixture is a connection with two accepted requests (one routed to an
// event that has one failed attempt) and one rejected request.
type logFixture struct {
	conn                       map[string]any
	accepted, second, rejected model.Request
	event                      model.Event
	attempt                    model.Attempt
}

func newLogFixture(t *testing.T, b *bundle) logFixture {
	t.Helper()
	var f logFixture
	f.conn = b.must(200, "POST", typedV+"/connections",
		`{"name":"c","source":{"name":"logs"},"destination":{"name":"d","config":{"url":"https://example.test/base"}}}`)
	srcID := str(f.conn, "source", "id")
	now := time.Now().UTC().Truncate(time.Millisecond)
	mk := func(body, cause string) model.Request {
		r := model.Request{
			ID: model.NewID(model.PrefixRequest), TeamID: b.team.ID, SourceID: srcID, RejectionCause: cause,
			Data: model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Path: "/track", Query: "a=1&b=2&b=3",
				Headers: map[string]string{"content-type": "application/json"}, Body: []byte(body)},
			IngestedAt: now, CreatedAt: now, UpdatedAt: now,
		}
		if err := b.store.InsertRequest(b.ctx, &r); err != nil {
			t.Fatalf("insert request: %v", err)
		}
		return r
	}
	f.accepted = mk(`{"event_type":"mouse.click"}`, "")
	f.second = mk(`plain text`, "")
	f.rejected = mk(`{}`, model.RejectVerificationFailed)

	c, err := b.store.GetConnection(b.ctx, b.team.ID, str(f.conn, "id"))
	if err != nil {
		t.Fatal(err)
	}
	f.event = newEvent(f.accepted, c, now)
	out := store.RoutingOutcome{RequestID: f.accepted.ID, Events: []model.Event{f.event}, RoutedAt: now,
		Ignored: []model.IgnoredEvent{{ID: model.NewID(model.PrefixIgnored), TeamID: b.team.ID, ConnectionID: c.ID,
			RequestID: f.accepted.ID, Cause: model.IgnoredFiltered, Meta: json.RawMessage(`["body"]`), CreatedAt: now}}}
	if err := b.store.CompleteRouting(b.ctx, []store.RoutingOutcome{out}); err != nil {
		t.Fatalf("route: %v", err)
	}
	if _, err := b.store.ClaimEvent(b.ctx, b.team.ID, f.event.ID, store.Claim{Owner: "w", Limit: 1, Lease: time.Minute, Now: now}); err != nil {
		t.Fatalf("claim: %v", err)
	}
	status := 500
	f.attempt = model.Attempt{
		ID: model.NewID(model.PrefixAttempt), TeamID: b.team.ID, EventID: f.event.ID, DestinationID: f.event.DestinationID,
		AttemptNumber: 1, Trigger: model.TriggerInitial, Status: model.AttemptFailed, ResponseStatus: &status,
		ErrorCode: "BAD_RESPONSE", Body: "upstream exploded", RequestedURL: "https://example.test/base/track", HTTPMethod: "POST",
		CreatedAt: now, UpdatedAt: now,
	}
	if err := b.store.RecordAttempt(b.ctx, store.AttemptOutcome{Owner: "w", Attempt: f.attempt, EventStatus: model.EventFailed}); err != nil {
		t.Fatalf("record attempt: %v", err)
	}
	return f
}

func TestRequests(t *testing.T) {
	b := setup(t)
	f := newLogFixture(t, b)
	srcID := str(f.conn, "source", "id")
	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{f.rejected.ID, f.second.ID, f.accepted.ID}},
		{"status=accepted", []string{f.second.ID, f.accepted.ID}},
		{"status=rejected", []string{f.rejected.ID}},
		{"rejection_cause=VERIFICATION_FAILED", []string{f.rejected.ID}},
		{"source_id[0]=" + srcID + "&id=" + f.accepted.ID + "," + f.second.ID, []string{f.second.ID, f.accepted.ID}},
		{"events_count[gte]=1", []string{f.accepted.ID}},
		{"events_count=" + url.QueryEscape(`{"gte":1}`), []string{f.accepted.ID}},
		{"created_at[gte]=2000-01-01&created_at[le]=2999-01-01", []string{f.rejected.ID, f.second.ID, f.accepted.ID}},
		{"created_at[gte]=2999-01-01", []string{}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			if got := models(t, b.must(200, "GET", typedV+"/requests?"+c.query, "")); !slices.Equal(got, c.want) {
				t.Errorf("models = %v, want %v", got, c.want)
			}
		})
	}
	list := b.must(200, "GET", typedV+"/requests?include=data&id="+f.accepted.ID, "")
	if got := get(list, "models", 0, "data", "body", "event_type"); got != "mouse.click" {
		t.Errorf("list data.body = %v", get(list, "models", 0, "data"))
	}
	if get(b.must(200, "GET", typedV+"/requests?id="+f.accepted.ID, ""), "models", 0, "data") != nil {
		t.Errorf("data rendered without include=data")
	}
	one := b.must(200, "GET", legacyV+"/requests/"+f.second.ID, "")
	checks := []struct {
		at   []any
		want any
	}{
		{[]any{"data", "body"}, "plain text"},
		{[]any{"data", "path"}, "/track"},
		{[]any{"data", "query"}, "a=1&b=2&b=3"},
		{[]any{"data", "parsed_query", "a"}, "1"},
		{[]any{"data", "parsed_query", "b", 1}, "3"},
		{[]any{"data", "headers", "content-type"}, "application/json"},
		{[]any{"data", "is_large_payload"}, false},
		{[]any{"rejection_cause"}, nil},
		{[]any{"original_event_data_id"}, f.second.Data.ID},
	}
	for _, c := range checks {
		if got := get(one, c.at...); got != c.want {
			t.Errorf("%v = %#v, want %#v", c.at, got, c.want)
		}
	}
	if raw := b.must(200, "GET", typedV+"/requests/"+f.accepted.ID+"/raw_body", ""); raw["body"] != `{"event_type":"mouse.click"}` {
		t.Errorf("raw_body = %v", raw)
	}
	if got := models(t, b.must(200, "GET", typedV+"/requests/"+f.accepted.ID+"/events", "")); !slices.Equal(got, []string{f.event.ID}) {
		t.Errorf("request events = %v", got)
	}
	ign := b.must(200, "GET", typedV+"/requests/"+f.accepted.ID+"/ignored_events", "")
	if str(ign, "models", 0, "cause") != "FILTERED" || str(ign, "models", 0, "webhook_id") != str(f.conn, "id") {
		t.Errorf("ignored events = %v", ign)
	}

	// Retry: a rejected request is a 422; an accepted one gets new events.
	rej := b.call("POST", typedV+"/requests/"+f.rejected.ID+"/retry", "")
	if rej.status != 422 || str(rej.body, "code") != "UNPROCESSABLE_ENTITY" {
		t.Errorf("retry rejected = %d %s", rej.status, rej.raw)
	}
	res := b.must(200, "POST", typedV+"/requests/"+f.second.ID+"/retry", `{"webhook_ids":["`+str(f.conn, "id")+`"]}`)
	if str(res, "request", "id") != f.second.ID || str(res, "events", 0, "webhook_id") != str(f.conn, "id") || str(res, "events", 0, "status") != "QUEUED" {
		t.Errorf("retry answer = %v", res)
	}
	b.must(404, "POST", typedV+"/requests/req_missing/retry", "{}")
}

func TestEventsAndAttempts(t *testing.T) {
	b := setup(t)
	f := newLogFixture(t, b)
	// A second, successful event on the second request.
	second := b.must(200, "POST", typedV+"/requests/"+f.second.ID+"/retry", "")
	okID := str(second, "events", 0, "id")
	b.must(200, "POST", "/2024-09-01/events/"+okID+"/retry", "")

	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{okID, f.event.ID}},
		{"status=FAILED", []string{f.event.ID}},
		{"status=SUCCESSFUL,FAILED", []string{okID, f.event.ID}},
		{"attempts[gte]=2", nil},
		{"attempts=" + url.QueryEscape(`{"gte":1}`), []string{okID, f.event.ID}},
		{"attempts=1", []string{okID, f.event.ID}},
		{"response_status=500", []string{f.event.ID}},
		{"response_status[0]=200&response_status[1]=201", []string{okID}},
		{"error_code=BAD_RESPONSE", []string{f.event.ID}},
		{"request_id=" + f.accepted.ID, []string{f.event.ID}},
		{"webhook_id=" + str(f.conn, "id") + "&destination_id=" + str(f.conn, "destination", "id"), []string{okID, f.event.ID}},
		{"successful_at[gte]=2000-01-01T00:00:00Z", []string{okID}},
		{"dir=asc", []string{f.event.ID, okID}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			got := models(t, b.must(200, "GET", typedV+"/events?"+c.query, ""))
			if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Errorf("models = %v, want %v", got, c.want)
			}
		})
	}

	ev := b.must(200, "GET", typedV+"/events/"+f.event.ID, "")
	evChecks := []struct {
		at   []any
		want any
	}{
		{[]any{"status"}, "FAILED"},
		{[]any{"attempts"}, float64(1)},
		{[]any{"response_status"}, float64(500)},
		{[]any{"error_code"}, "BAD_RESPONSE"},
		{[]any{"webhook_id"}, str(f.conn, "id")},
		{[]any{"cli_id"}, nil},
		{[]any{"data", "url"}, "https://example.test/base/track?a=1&b=2&b=3"},
		{[]any{"data", "method"}, "POST"},
		{[]any{"data", "body", "event_type"}, "mouse.click"},
	}
	for _, c := range evChecks {
		if got := get(ev, c.at...); got != c.want {
			t.Errorf("event %v = %#v, want %#v", c.at, got, c.want)
		}
	}
	if raw := b.must(200, "GET", typedV+"/events/"+f.event.ID+"/raw_body", ""); raw["body"] != `{"event_type":"mouse.click"}` {
		t.Errorf("event raw_body = %v", raw)
	}

	// Retry answers by version.
	for _, c := range []struct {
		version   string
		wrapped   bool
		attemptNo float64
	}{{"/2024-03-01", true, 2}, {"/2024-09-01", false, 3}, {typedV, false, 4}} {
		t.Run("retry "+c.version, func(t *testing.T) {
			got := b.must(200, "POST", c.version+"/events/"+f.event.ID+"/retry", "")
			evt := any(got)
			if c.wrapped {
				evt = got["event"]
				if str(got, "attempt", "trigger") != "MANUAL" || get(got, "attempt", "attempt_number") != c.attemptNo {
					t.Errorf("attempt = %v", got["attempt"])
				}
			} else if _, ok := got["attempt"]; ok {
				t.Errorf("bare event answer has attempt: %v", got)
			}
			if str(evt, "id") != f.event.ID || str(evt, "status") != "SUCCESSFUL" || get(evt, "attempts") != c.attemptNo {
				t.Errorf("event = %v", evt)
			}
		})
	}

	// Attempts: by event, one, body as object or string.
	atts := b.must(200, "GET", typedV+"/attempts?event_id="+f.event.ID+"&dir=asc", "")
	if ids := models(t, atts); len(ids) != 4 || ids[0] != f.attempt.ID {
		t.Fatalf("attempts = %v", ids)
	}
	if got := get(atts, "models", 1, "body", "ok"); got != true {
		t.Errorf("JSON attempt body = %v", get(atts, "models", 1, "body"))
	}
	one := b.must(200, "GET", legacyV+"/attempts/"+f.attempt.ID, "")
	if one["body"] != "upstream exploded" || one["trigger"] != "INITIAL" || one["status"] != "FAILED" || one["bulk_retry_id"] != nil {
		t.Errorf("attempt = %v", one)
	}

	// Cancel and mute: a pending event is cancelled once; then 422.
	pending := b.must(200, "POST", typedV+"/requests/"+f.second.ID+"/retry", "{}")
	pid := str(pending, "events", 0, "id")
	if got := b.must(200, "PUT", typedV+"/events/"+pid+"/mute", ""); got["status"] != "CANCELLED" {
		t.Errorf("mute = %v", got)
	}
	again := b.call("PUT", typedV+"/events/"+pid+"/cancel", "{}")
	if again.status != 422 || str(again.body, "code") != "UNPROCESSABLE_ENTITY" {
		t.Errorf("cancel again = %d %s", again.status, again.raw)
	}
	b.must(404, "POST", typedV+"/events/evt_missing/retry", "")
}

func TestEventRetryConflictAndUnwired(t *testing.T) {
	b := setup(t)
	f := newLogFixture(t, b)
	pending := b.must(200, "POST", typedV+"/requests/"+f.second.ID+"/retry", "")
	pid := str(pending, "events", 0, "id")
	now := time.Now()
	if _, err := b.store.ClaimEvent(b.ctx, b.team.ID, pid, store.Claim{Owner: "other", Limit: 1, Lease: time.Hour, Now: now}); err != nil {
		t.Fatal(err)
	}
	res := b.call("POST", typedV+"/events/"+pid+"/retry", "")
	if res.status != 409 || str(res.body, "code") != "CONFLICT" {
		t.Errorf("retry of a leased event = %d %s", res.status, res.raw)
	}

	h, err := New(Config{Store: b.store, Team: b.team, APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	b.srv.Config.Handler = h
	for _, path := range []string{"/events/" + pid + "/retry", "/requests/" + f.second.ID + "/retry"} {
		if res := b.call("POST", typedV+path, ""); res.status != 501 {
			t.Errorf("%s without a retrier = %d %s", path, res.status, res.raw)
		}
	}
}
