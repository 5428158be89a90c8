package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// fakeStore answers the calls the wrapper and the poller make.
type fakeStore struct {
	store.Store // nil: other methods are not called
	err         error
	queues      []store.DestinationQueue
	polls       chan struct{}
}

func (f *fakeStore) InsertRequest(context.Context, *model.Request) error { return f.err }
func (f *fakeStore) CompleteRouting(context.Context, []store.RoutingOutcome) error {
	return f.err
}
func (f *fakeStore) RecordAttempt(context.Context, store.AttemptOutcome) error { return f.err }
func (f *fakeStore) CancelEvent(context.Context, string, string, time.Time) (model.Event, error) {
	return model.Event{}, f.err
}
func (f *fakeStore) QueueStats(context.Context) ([]store.DestinationQueue, error) {
	defer func() {
		select {
		case f.polls <- struct{}{}:
		default:
		}
	}()
	return f.queues, f.err
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Mount(http.NotFoundHandler()))
	defer srv.Close()
	resp, err := http.Get(srv.URL + Path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

func TestIngest(t *testing.T) {
	m := New(nil)
	statuses := []int{200, 200, 503, 404}
	i := 0
	h := m.WrapIngest(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := statuses[i]
		i++
		switch st {
		case 200:
			m.ObserveIngest(200, "")
			_, _ = io.WriteString(w, "ok") // implicit 200
		case 404:
			m.ObserveIngest(404, model.RejectSourceDisabled)
			w.WriteHeader(404)
		default:
			w.WriteHeader(st) // not stored: no ObserveIngest
		}
	}))
	for range statuses {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/src_x", nil))
	}
	m.ObserveIngest(200, model.RejectNoConnection) // acknowledged yet rejected

	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"accepted", testutil.ToFloat64(m.ingestRequests.WithLabelValues(ResultAccepted, "")), 2},
		{"rejected disabled", testutil.ToFloat64(m.ingestRequests.WithLabelValues(ResultRejected, model.RejectSourceDisabled)), 1},
		{"rejected no connection", testutil.ToFloat64(m.ingestRequests.WithLabelValues(ResultRejected, model.RejectNoConnection)), 1},
		{"200 answers", testutil.ToFloat64(m.ingestResponses.WithLabelValues("200")), 2},
		{"503 answers", testutil.ToFloat64(m.ingestResponses.WithLabelValues("503")), 1},
		{"404 answers", testutil.ToFloat64(m.ingestResponses.WithLabelValues("404")), 1},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if n := testutil.CollectAndCount(m.ingestDuration); n != 1 {
		t.Errorf("ingest duration histogram: %d series", n)
	}
}

func TestStoreWrapper(t *testing.T) {
	m := New(nil)
	fs := &fakeStore{}
	st := m.Store(fs)
	ctx := t.Context()
	t0 := time.Now()
	att := func(status, code string) model.Attempt {
		return model.Attempt{Status: status, ErrorCode: code, CreatedAt: t0, UpdatedAt: t0.Add(30 * time.Millisecond)}
	}

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.InsertRequest(ctx, &model.Request{}))
	must(st.CompleteRouting(ctx, []store.RoutingOutcome{
		{Events: make([]model.Event, 2), Ignored: []model.IgnoredEvent{{Cause: model.IgnoredFiltered}}},
		{Events: make([]model.Event, 1)},
	}))
	must(st.RecordAttempt(ctx, store.AttemptOutcome{Attempt: att(model.AttemptSuccessful, ""), EventStatus: model.EventSuccessful}))
	must(st.RecordAttempt(ctx, store.AttemptOutcome{Attempt: att(model.AttemptFailed, "TIMEOUT"), EventStatus: model.EventScheduled}))
	must(st.RecordAttempt(ctx, store.AttemptOutcome{Attempt: att(model.AttemptFailed, "BAD_RESPONSE"), EventStatus: model.EventFailed}))
	_, err := st.CancelEvent(ctx, "team", "evt", t0)
	must(err)

	fs.err = store.ErrLeaseLost // the attempt is stored, the event is not ours
	if err := st.RecordAttempt(ctx, store.AttemptOutcome{Attempt: att(model.AttemptFailed, "TIMEOUT"), EventStatus: model.EventFailed}); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("RecordAttempt error = %v, want it passed through", err)
	}
	fs.err = errors.New("database down")
	if err := st.InsertRequest(ctx, &model.Request{}); err == nil {
		t.Fatal("InsertRequest error swallowed")
	}

	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"events created", testutil.ToFloat64(m.eventsCreated), 3},
		{"ignored filtered", testutil.ToFloat64(m.ignored.WithLabelValues(model.IgnoredFiltered)), 1},
		{"successful attempts", testutil.ToFloat64(m.attempts.WithLabelValues(model.AttemptSuccessful, "")), 1},
		{"timeouts (one with a lost lease)", testutil.ToFloat64(m.attempts.WithLabelValues(model.AttemptFailed, "TIMEOUT")), 2},
		{"bad responses", testutil.ToFloat64(m.attempts.WithLabelValues(model.AttemptFailed, "BAD_RESPONSE")), 1},
		{"retries", testutil.ToFloat64(m.retries), 1},
		{"successful events", testutil.ToFloat64(m.eventsFinished.WithLabelValues(model.EventSuccessful)), 1},
		{"failed events (not the lost lease)", testutil.ToFloat64(m.eventsFinished.WithLabelValues(model.EventFailed)), 1},
		{"cancelled events", testutil.ToFloat64(m.eventsFinished.WithLabelValues(model.EventCancelled)), 1},
		{"insert failures", testutil.ToFloat64(m.storeFailures.WithLabelValues(opInsertRequest)), 1},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	out := scrape(t, m)
	for _, want := range []string{
		`sluice_store_write_duration_seconds_count{op="insert_request"} 1`,
		`sluice_store_write_duration_seconds_count{op="record_attempt"} 4`,
		`sluice_delivery_latency_seconds_count{result="FAILED"} 3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

func TestQueueGauges(t *testing.T) {
	m := New(nil)
	m.ObserveCommit(16)
	fs := &fakeStore{polls: make(chan struct{}, 1), queues: []store.DestinationQueue{
		{DestinationID: "des_a", Queued: 3, Scheduled: 2, OldestPendingAt: time.Now().Add(-time.Minute)},
		{DestinationID: "des_b", Hold: 4},
	}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { m.PollQueues(ctx, fs, time.Hour); close(done) }()
	select {
	case <-fs.polls:
	case <-time.After(10 * time.Second):
		t.Fatal("no poll")
	}
	cancel()
	<-done // the snapshot is stored before the poller looks at ctx again

	out := scrape(t, m)
	for _, want := range []string{
		`sluice_queue_depth{destination_id="des_a",status="QUEUED"} 3`,
		`sluice_queue_depth{destination_id="des_a",status="SCHEDULED"} 2`,
		`sluice_queue_depth{destination_id="des_b",status="HOLD"} 4`,
		`sluice_queue_oldest_pending_age_seconds{destination_id="des_b"} 0`,
		`sluice_events_pending{status="QUEUED"} 3`,
		`sluice_events_pending{status="HOLD"} 4`,
		`sluice_store_commit_batch_size_sum 16`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if !strings.Contains(out, `sluice_queue_oldest_pending_age_seconds{destination_id="des_a"} 6`) {
		t.Errorf("oldest pending age of des_a is not about 60 s:\n%s", grep(out, "oldest"))
	}
}

func TestMountPassesOtherPaths(t *testing.T) {
	m := New(nil)
	h := m.Mount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/2025-07-01/events", nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("other path answered %d", rec.Code)
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
