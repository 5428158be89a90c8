// Package metrics exposes Sluice's Prometheus metrics at /metrics on the
// API listener.
//
// The counters and histograms are fed by hooks the stages already offer:
// the ingest handler's result hook and a wrapper around the ingest handler
// (every answer, including 404 and 503), a wrapper around the store (the
// durable writes of ingest, routing and delivery, as the callers see them)
// and the group committers' batch hook. The queue gauges (undelivered
// events per destination and the age of the oldest) come from a periodic
// store query (store.Stats), cached between polls so that a scrape never
// touches the database.
//
// /metrics is served without authentication, like /healthz: the API
// listener binds to loopback unless told otherwise, and the metrics carry
// ids and counts, never payloads or secrets. Put the API listener behind
// an authenticating proxy before exposing it.
package metrics

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-gw/sluice/internal/model"
)

// Path is where the metrics are served.
const Path = "/metrics"

// Ingest outcomes (the result label of sluice_ingest_requests_total).
const (
	// ResultAccepted is a request stored and acknowledged for routing.
	ResultAccepted = "accepted"
	// ResultRejected is a request stored with a rejection cause (some,
	// such as NO_CONNECTION, are still acknowledged with 200).
	ResultRejected = "rejected"
)

// latencyBuckets spans sub-millisecond commits to the 60 s attempt timeout.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Metrics holds Sluice's collectors in a registry of its own. The zero
// value is not usable; call New. Every method is safe for concurrent use
// and cheap enough for the ingest hot path.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	ingestRequests  *prometheus.CounterVec
	ingestResponses *prometheus.CounterVec
	ingestDuration  prometheus.Histogram

	eventsCreated  prometheus.Counter
	eventsFinished *prometheus.CounterVec
	retries        prometheus.Counter
	ignored        *prometheus.CounterVec

	attempts         *prometheus.CounterVec
	deliveryDuration *prometheus.HistogramVec

	commitBatch   prometheus.Histogram
	syncDuration  prometheus.Histogram
	storeWrites   *prometheus.HistogramVec
	storeFailures *prometheus.CounterVec

	queues *queueCollector
}

// New returns the metrics with the Go runtime and process collectors
// registered beside Sluice's own.
func New(log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.Default()
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: log,
		ingestRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_ingest_requests_total",
			Help: "Webhook requests stored by the ingest listener, by result (accepted or rejected) and rejection cause.",
		}, []string{"result", "cause"}),
		ingestResponses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_ingest_responses_total",
			Help: "Answers of the ingest listener by HTTP status code (503: the store was unavailable, nothing was acknowledged).",
		}, []string{"code"}),
		ingestDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sluice_ingest_duration_seconds",
			Help:    "Time to answer a webhook, including its durable commit.",
			Buckets: latencyBuckets,
		}),
		eventsCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_events_created_total",
			Help: "Events committed by the router.",
		}),
		eventsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_events_finished_total",
			Help: "Events that reached a final status (SUCCESSFUL, FAILED or CANCELLED) in this process.",
		}, []string{"status"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sluice_event_retries_scheduled_total",
			Help: "Failed attempts after which the retry rule scheduled another attempt.",
		}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_ignored_events_total",
			Help: "Requests a connection did not turn into an event, by cause.",
		}, []string{"cause"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_attempts_total",
			Help: "Delivery attempts recorded, by result (SUCCESSFUL or FAILED) and error code (empty when none).",
		}, []string{"result", "error_code"}),
		deliveryDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_delivery_latency_seconds",
			Help:    "Time from sending an attempt to the end of the destination's response (or the failure).",
			Buckets: latencyBuckets,
		}, []string{"result"}),
		commitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sluice_store_commit_batch_size",
			Help:    "Writes committed together in one group commit, one fsync (SQLite: every write; PostgreSQL: ingest).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9), // 1 … 256
		}),
		syncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sluice_store_sync_duration_seconds",
			Help:    "Time of one fsync of SQLite's write-ahead log, made for one or more group commits (the disk's share of a write's latency).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14), // 0.1 ms … 0.8 s
		}),
		storeWrites: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sluice_store_write_duration_seconds",
			Help:    "Time until a store write is durable as its caller sees it (queueing for the group commit included), by operation.",
			Buckets: latencyBuckets,
		}, []string{"op"}),
		storeFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_store_write_errors_total",
			Help: "Store writes that failed (the database was unavailable, say), by operation.",
		}, []string{"op"}),
		queues: newQueueCollector(),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.ingestRequests, m.ingestResponses, m.ingestDuration,
		m.eventsCreated, m.eventsFinished, m.retries, m.ignored,
		m.attempts, m.deliveryDuration,
		m.commitBatch, m.syncDuration, m.storeWrites, m.storeFailures,
		m.queues,
	)
	return m
}

// Registry is the registry holding every collector (for tests and for
// embedding Sluice's metrics elsewhere).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	})
}

// Mount serves GET /metrics ahead of next, without authentication, and
// passes every other request to next.
func (m *Metrics) Mount(next http.Handler) http.Handler {
	h := m.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == Path {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ObserveIngest is the ingest handler's OnResult hook: it counts a stored
// request by result and rejection cause.
func (m *Metrics) ObserveIngest(status int, cause string) {
	switch {
	case cause != "":
		m.ingestRequests.WithLabelValues(ResultRejected, cause).Inc()
	case status >= 200 && status < 300:
		m.ingestRequests.WithLabelValues(ResultAccepted, "").Inc()
	}
}

// ObserveCommit is the stores' OnCommit hook: the size of one group commit.
func (m *Metrics) ObserveCommit(size int) { m.commitBatch.Observe(float64(size)) }

// ObserveSync is SQLite's OnSync hook: the time of one fsync of its log.
func (m *Metrics) ObserveSync(d time.Duration) { m.syncDuration.Observe(d.Seconds()) }

// ObserveAttempt counts a recorded attempt and its latency.
func (m *Metrics) ObserveAttempt(a model.Attempt) {
	m.attempts.WithLabelValues(a.Status, a.ErrorCode).Inc()
	if !a.UpdatedAt.IsZero() && !a.CreatedAt.IsZero() {
		m.deliveryDuration.WithLabelValues(a.Status).Observe(a.UpdatedAt.Sub(a.CreatedAt).Seconds())
	}
}

// WrapIngest counts the ingest listener's answers by status code and
// times them. Unlike ObserveIngest it also sees the answers given before a
// request is stored (unknown source, store unavailable).
func (m *Metrics) WrapIngest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		m.ingestDuration.Observe(time.Since(start).Seconds())
		m.ingestResponses.WithLabelValues(statusLabel(sw.status)).Inc()
	})
}

// statusWriter remembers the status an http.Handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusLabels avoids formatting the common codes on every request.
var statusLabels = map[int]string{200: "200", 201: "201", 202: "202", 204: "204", 400: "400", 401: "401",
	404: "404", 405: "405", 413: "413", 500: "500", 503: "503"}

func statusLabel(code int) string {
	if s, ok := statusLabels[code]; ok {
		return s
	}
	return strconv.Itoa(code)
}
