package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// Store wraps st so that its durable writes are timed and their outcomes
// counted: requests ingested, events created and finished, ignored events,
// attempts by result and error code. Every other method passes through
// unchanged (the wrapper embeds st).
func (m *Metrics) Store(st store.Store) store.Store {
	return &observedStore{Store: st, m: m}
}

// Store write operations (the op label).
const (
	opInsertRequest   = "insert_request"
	opCompleteRouting = "complete_routing"
	opRecordAttempt   = "record_attempt"
)

type observedStore struct {
	store.Store
	m *Metrics
}

// timed runs one write and records its duration, or its failure.
func (s *observedStore) timed(op string, fn func() error) error {
	start := time.Now()
	err := fn()
	if err != nil && !errors.Is(err, store.ErrLeaseLost) && !errors.Is(err, store.ErrConflict) {
		s.m.storeFailures.WithLabelValues(op).Inc()
		return err
	}
	s.m.storeWrites.WithLabelValues(op).Observe(time.Since(start).Seconds())
	return err
}

func (s *observedStore) InsertRequest(ctx context.Context, r *model.Request) error {
	return s.timed(opInsertRequest, func() error { return s.Store.InsertRequest(ctx, r) })
}

func (s *observedStore) CompleteRouting(ctx context.Context, outcomes []store.RoutingOutcome) error {
	err := s.timed(opCompleteRouting, func() error { return s.Store.CompleteRouting(ctx, outcomes) })
	if err != nil {
		return err
	}
	// A request another owner routed first writes nothing; the count can
	// then run slightly ahead, which only a crash-and-retry race causes.
	var events int
	for _, out := range outcomes {
		events += len(out.Events)
		for _, ig := range out.Ignored {
			s.m.ignored.WithLabelValues(ig.Cause).Inc()
		}
	}
	s.m.eventsCreated.Add(float64(events))
	return nil
}

func (s *observedStore) RecordAttempt(ctx context.Context, r store.AttemptOutcome) error {
	err := s.timed(opRecordAttempt, func() error { return s.Store.RecordAttempt(ctx, r) })
	switch {
	case err == nil:
		s.m.ObserveAttempt(r.Attempt)
		switch r.EventStatus {
		case model.EventScheduled:
			s.m.retries.Inc()
		case model.EventSuccessful, model.EventFailed:
			s.m.eventsFinished.WithLabelValues(r.EventStatus).Inc()
		}
	case errors.Is(err, store.ErrLeaseLost):
		// The attempt was stored; the event's state belongs to its new
		// owner.
		s.m.ObserveAttempt(r.Attempt)
	}
	return err
}

func (s *observedStore) CancelEvent(ctx context.Context, teamID, id string, at time.Time) (model.Event, error) {
	ev, err := s.Store.CancelEvent(ctx, teamID, id, at)
	if err == nil {
		s.m.eventsFinished.WithLabelValues(model.EventCancelled).Inc()
	}
	return ev, err
}
