package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// DefaultQueueInterval is how often the queue gauges are refreshed.
const DefaultQueueInterval = 5 * time.Second

// maxQueueShare bounds the time spent polling the queue: a poll that took d
// delays the next one by at least d/maxQueueShare, so a huge backlog (whose
// count reads every pending row) costs at most this share of one core.
const maxQueueShare = 0.05

var (
	queueDepthDesc = prometheus.NewDesc("sluice_queue_depth",
		"Undelivered events per destination and status (QUEUED, SCHEDULED, HOLD), as of the last poll.",
		[]string{"destination_id", "status"}, nil)
	queueOldestDesc = prometheus.NewDesc("sluice_queue_oldest_pending_age_seconds",
		"Age of the oldest QUEUED or SCHEDULED event per destination at the last poll (0 when none).",
		[]string{"destination_id"}, nil)
	eventsPendingDesc = prometheus.NewDesc("sluice_events_pending",
		"Undelivered events by status over all destinations, as of the last poll.",
		[]string{"status"}, nil)
	queuePolledDesc = prometheus.NewDesc("sluice_queue_poll_timestamp_seconds",
		"When the queue gauges were last refreshed (Unix time; 0 before the first poll).", nil, nil)
	queuePollDurationDesc = prometheus.NewDesc("sluice_queue_poll_duration_seconds",
		"How long the last queue poll took.", nil, nil)
	queuePollErrorsDesc = prometheus.NewDesc("sluice_queue_poll_errors_total",
		"Queue polls that failed (the store was unavailable, say).", nil, nil)
)

// queueCollector serves the last queue snapshot as constant metrics, so
// that destinations whose queue emptied disappear from the output.
type queueCollector struct {
	mu       sync.Mutex
	queues   []store.DestinationQueue
	polledAt time.Time
	took     time.Duration
	errors   int
}

func newQueueCollector() *queueCollector { return &queueCollector{} }

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueDepthDesc, queueOldestDesc, eventsPendingDesc, queuePolledDesc, queuePollDurationDesc, queuePollErrorsDesc} {
		ch <- d
	}
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	queues, polledAt, took, errs := c.queues, c.polledAt, c.took, c.errors
	c.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	totals := map[string]int{model.EventQueued: 0, model.EventScheduled: 0, model.EventHold: 0}
	for _, q := range queues {
		for status, n := range map[string]int{model.EventQueued: q.Queued, model.EventScheduled: q.Scheduled, model.EventHold: q.Hold} {
			gauge(queueDepthDesc, float64(n), q.DestinationID, status)
			totals[status] += n
		}
		age := 0.0
		if !q.OldestPendingAt.IsZero() && !polledAt.IsZero() {
			age = max(polledAt.Sub(q.OldestPendingAt).Seconds(), 0)
		}
		gauge(queueOldestDesc, age, q.DestinationID)
	}
	for status, n := range totals {
		gauge(eventsPendingDesc, float64(n), status)
	}
	polled := 0.0
	if !polledAt.IsZero() {
		polled = float64(polledAt.UnixNano()) / 1e9
	}
	gauge(queuePolledDesc, polled)
	gauge(queuePollDurationDesc, took.Seconds())
	ch <- prometheus.MustNewConstMetric(queuePollErrorsDesc, prometheus.CounterValue, float64(errs))
}

// PollQueues refreshes the queue gauges now, then every interval
// (DefaultQueueInterval when 0) until ctx ends; it returns then. Run it in
// a goroutine and wait for it before closing the store.
func (m *Metrics) PollQueues(ctx context.Context, st store.Stats, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultQueueInterval
	}
	failing := false
	for {
		start := time.Now()
		queues, err := st.QueueStats(ctx)
		took := time.Since(start)
		if err != nil && ctx.Err() != nil {
			return // shutting down
		}
		m.queues.mu.Lock()
		if err != nil {
			m.queues.errors++
		} else {
			m.queues.queues, m.queues.polledAt, m.queues.took = queues, start, took
		}
		m.queues.mu.Unlock()
		if err != nil && !failing {
			m.log.Warn("metrics: queue poll failed; the queue gauges keep their last values", "err", err)
		} else if err == nil && failing {
			m.log.Info("metrics: queue poll works again")
		}
		failing = err != nil

		wait := max(interval, time.Duration(float64(took)/maxQueueShare))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
