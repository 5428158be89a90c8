// Package router turns committed requests into events: one per connection
// of the request's source (fan-out), or an ignored event saying why not.
// Claiming a request, creating its events and marking it routed commit
// together (store.Routing), so a crash at any point neither loses nor
// duplicates events.
//
// Rules are applied here in Hookdeck's order — transform → filter (or the
// reverse when the rules array says so) → deduplicate → delay — see
// pipeline.go; the retry rule is the dispatcher's.
package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules"
	"github.com/sluice-gw/sluice/internal/rules/transform"
	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/wakeup"
)

// Store is what the router needs from the store.
type Store interface {
	ClaimUnroutedRequests(ctx context.Context, c store.Claim) ([]model.Request, error)
	CompleteRouting(ctx context.Context, outcomes []store.RoutingOutcome) error
	ListConnections(ctx context.Context, f store.ConnectionFilter) ([]model.Connection, error)
	GetDestination(ctx context.Context, teamID, id string) (model.Destination, error)
	GetTransformation(ctx context.Context, teamID, id string) (model.Transformation, error)
	CheckDedup(ctx context.Context, keys []store.DedupKey, now time.Time) ([]bool, error)
}

// Config configures a Router. Zero fields take the defaults.
type Config struct {
	// Owner identifies this process in leases.
	Owner string
	// BatchSize is the number of requests claimed at once (default 200).
	BatchSize int
	// Lease is how long a claim is held before another process may take
	// the request over (default 30 s).
	Lease time.Duration
	// PollInterval is the backstop poll when no wake-up comes (default 1 s).
	PollInterval time.Duration
	// NextDue, if set, tells when another router's lease on an unrouted
	// request ends (that router may have died); after a claim that found
	// nothing the loop sleeps until then at most.
	NextDue func(ctx context.Context, now time.Time) (time.Time, bool, error)
	// OnRouted is called after events were committed; due is the earliest
	// time one of them may be delivered.
	OnRouted func(due time.Time)
	// Transforms runs transform rules; nil makes every transform rule fail.
	Transforms *transform.Engine
	Logger     *slog.Logger
}

// Router is the long-running routing stage.
type Router struct {
	store Store
	cfg   Config
	log   *slog.Logger
	wake  *wakeup.Signal

	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// New returns a Router; call Start to run it.
func New(st Store, cfg Config) *Router {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 200
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.OnRouted == nil {
		cfg.OnRouted = func(time.Time) {}
	}
	return &Router{store: st, cfg: cfg, log: cfg.Logger, wake: wakeup.New(), done: make(chan struct{})}
}

// Wake tells the router that new requests are waiting.
func (r *Router) Wake() { r.wake.Notify() }

// Start runs the routing loop until Stop or ctx ends.
func (r *Router) Start(ctx context.Context) error {
	ctx, r.cancel = context.WithCancel(ctx)
	go r.loop(ctx)
	return nil
}

// Stop ends the loop and waits for the batch in progress to commit.
func (r *Router) Stop() {
	r.once.Do(func() {
		if r.cancel != nil {
			r.cancel()
			<-r.done
		}
	})
}

func (r *Router) loop(ctx context.Context) {
	defer close(r.done)
	ticker := time.NewTicker(r.cfg.PollInterval)
	defer ticker.Stop()
	for {
		n, err := r.routeBatch(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Error("router: batch failed", "err", err)
		}
		if n == r.cfg.BatchSize && err == nil {
			continue // more may be waiting
		}
		if err != nil {
			// Try the failed work again soon (the store may be back).
			r.wake.NotifyAt(time.Now().Add(time.Second))
		}
		if n == 0 && err == nil && r.cfg.NextDue != nil {
			if at, ok, err := r.cfg.NextDue(ctx, time.Now().UTC()); err == nil && ok {
				r.wake.NotifyAt(at)
			} else if err != nil && ctx.Err() == nil {
				r.log.Warn("router: next due time", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake.C():
		case <-ticker.C:
		}
	}
}

// routeBatch claims and routes one batch; it returns the number claimed.
func (r *Router) routeBatch(ctx context.Context) (int, error) {
	now := time.Now().UTC()
	reqs, err := r.store.ClaimUnroutedRequests(ctx, store.Claim{Owner: r.cfg.Owner, Limit: r.cfg.BatchSize, Lease: r.cfg.Lease, Now: now})
	if err != nil {
		return 0, fmt.Errorf("claim requests: %w", err)
	}
	if len(reqs) == 0 {
		return 0, nil
	}
	targets := newTargetCache(r.store)
	outcomes := make([]store.RoutingOutcome, 0, len(reqs))
	var (
		keys    []store.DedupKey
		pending []pendingDedup
	)
	// Routing uses the context's values but must commit even during
	// shutdown, so that claimed work is not left to lease expiry.
	ctx = context.WithoutCancel(ctx)
	failed := 0
	for _, req := range reqs {
		out, k, p, err := r.route(ctx, targets, req, nil, now)
		if err != nil {
			// It stays claimed by this router, which takes it up again
			// at its next claim (see store.Routing.ClaimUnroutedRequests).
			r.log.Error("router: route request", "request_id", req.ID, "err", err)
			failed++
			continue
		}
		for i := range p {
			p[i].outcome = len(outcomes)
		}
		keys, pending = append(keys, k...), append(pending, p...)
		outcomes = append(outcomes, out)
	}
	if err := r.commit(ctx, outcomes, keys, pending, now); err != nil {
		return len(reqs), err
	}
	if failed > 0 {
		return len(reqs), fmt.Errorf("%d of %d requests could not be routed; they are tried again", failed, len(reqs))
	}
	return len(reqs), nil
}

// commit applies deduplication, stores the outcomes and wakes delivery.
func (r *Router) commit(ctx context.Context, outcomes []store.RoutingOutcome, keys []store.DedupKey, pending []pendingDedup, now time.Time) error {
	if err := r.applyDedup(ctx, outcomes, keys, pending, now); err != nil {
		return err
	}
	if err := r.store.CompleteRouting(ctx, outcomes); err != nil {
		return fmt.Errorf("complete routing: %w", err)
	}
	if r.log.Enabled(ctx, slog.LevelDebug) {
		for _, out := range outcomes {
			r.logRouted(ctx, out)
		}
	}
	var due time.Time
	for _, out := range outcomes {
		if len(out.Events) == 0 {
			continue
		}
		if d := earliest(out.Events, now); due.IsZero() || d.Before(due) {
			due = d
		}
	}
	if !due.IsZero() {
		r.cfg.OnRouted(due)
	}
	return nil
}

// logRouted logs, at debug level, which events a request became: with
// the ingest and dispatch lines it traces a webhook by its ids.
func (r *Router) logRouted(ctx context.Context, out store.RoutingOutcome) {
	events := make([]string, len(out.Events))
	for i, e := range out.Events {
		events[i] = e.ID
	}
	ignored := make([]string, len(out.Ignored))
	for i, ig := range out.Ignored {
		ignored[i] = ig.ConnectionID + ":" + ig.Cause
	}
	r.log.DebugContext(ctx, "router: request routed", "request_id", out.RequestID, "event_ids", events,
		"ignored", ignored, "rerun", out.Rerun)
}

// RetryRequest routes an already routed request again (Hookdeck's request
// retry): new events for the given connections of its source, or all of
// them, excluding connections created after the request was received.
func (r *Router) RetryRequest(ctx context.Context, req model.Request, connectionIDs []string) ([]model.Event, error) {
	if req.RejectionCause != "" {
		return nil, fmt.Errorf("request %s was rejected (%s): %w", req.ID, req.RejectionCause, store.ErrConflict)
	}
	now := time.Now().UTC()
	out, keys, pending, err := r.route(ctx, newTargetCache(r.store), req, connectionIDs, now)
	if err != nil {
		return nil, err
	}
	out.Rerun = true
	outcomes := []store.RoutingOutcome{out}
	if err := r.commit(ctx, outcomes, keys, pending, now); err != nil {
		return nil, err
	}
	return outcomes[0].Events, nil
}

// route decides the events of one request. only, if non-nil, restricts the
// connections considered. It returns the outcome and the deduplication keys
// still to check (pending entries index out.Events).
func (r *Router) route(ctx context.Context, targets *targetCache, req model.Request, only []string, now time.Time) (store.RoutingOutcome, []store.DedupKey, []pendingDedup, error) {
	out := store.RoutingOutcome{RequestID: req.ID, RoutedAt: now}
	var (
		keys    []store.DedupKey
		pending []pendingDedup
	)
	conns, err := targets.connections(ctx, req.TeamID, req.SourceID)
	if err != nil {
		return out, nil, nil, err
	}
	in := newView(req.Data)
	for _, c := range conns {
		if c.CreatedAt.After(req.CreatedAt) || (only != nil && !slices.Contains(only, c.ID)) {
			continue
		}
		if c.DisabledAt != nil {
			out.Ignored = append(out.Ignored, ignored(req, c, model.IgnoredDisabled, nil, now))
			continue
		}
		set, err := rules.Parse(c.Rules)
		if err != nil {
			// Rules are validated on write; a stored invalid set is a bug,
			// and delivering without the rules is the safer failure.
			r.log.Error("router: invalid stored rules", "connection_id", c.ID, "err", err)
		}
		dest, err := targets.destination(ctx, req.TeamID, c.DestinationID)
		if err != nil {
			return out, nil, nil, err
		}
		d, err := r.applyRules(ctx, targets, req, c, set, in, now)
		if err != nil {
			return out, nil, nil, err
		}
		if d.execution != nil {
			out.Executions = append(out.Executions, *d.execution)
		}
		if d.newPayload != nil {
			out.Payloads = append(out.Payloads, *d.newPayload)
		}
		if d.ignoredCause != "" {
			out.Ignored = append(out.Ignored, ignored(req, c, d.ignoredCause, d.ignoredMeta, now))
			continue
		}
		ev := model.Event{
			ID:            model.NewID(model.PrefixEvent),
			TeamID:        req.TeamID,
			ConnectionID:  c.ID,
			SourceID:      req.SourceID,
			DestinationID: c.DestinationID,
			RequestID:     req.ID,
			DataID:        d.data.ID,
			Status:        model.EventQueued,
			NextTrigger:   model.TriggerInitial,
			CreatedAt:     now,
			UpdatedAt:     now,
		}
		if set.Delay != nil && set.Delay.Delay > 0 {
			at := now.Add(set.Delay.Delay)
			ev.Status, ev.NextAttemptAt = model.EventScheduled, &at
		}
		cli := dest.Type == model.DestinationCLI
		if cli {
			out.CLIEvents++
		}
		if d.dedupKey != "" {
			keys = append(keys, store.DedupKey{ConnectionID: c.ID, Hash: d.dedupKey, RequestID: req.ID, ExpiresAt: now.Add(set.Deduplicate.Window)})
			pending = append(pending, pendingDedup{event: len(out.Events), cli: cli})
		}
		out.Events = append(out.Events, ev)
	}
	return out, keys, pending, nil
}

func ignored(req model.Request, c model.Connection, cause string, meta json.RawMessage, now time.Time) model.IgnoredEvent {
	return model.IgnoredEvent{
		ID:           model.NewID(model.PrefixIgnored),
		TeamID:       req.TeamID,
		ConnectionID: c.ID,
		RequestID:    req.ID,
		Cause:        cause,
		Meta:         meta,
		CreatedAt:    now,
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// earliest is the first due time among events (now when any is due now).
func earliest(events []model.Event, now time.Time) time.Time {
	var t time.Time
	for _, e := range events {
		d := now
		if e.NextAttemptAt != nil {
			d = *e.NextAttemptAt
		}
		if t.IsZero() || d.Before(t) {
			t = d
		}
	}
	return t
}

// targetCache memoises connections and destinations within one batch.
type targetCache struct {
	store Store
	conns map[string][]model.Connection
	dests map[string]model.Destination
	trans map[string]model.Transformation
}

func newTargetCache(st Store) *targetCache {
	return &targetCache{store: st, conns: map[string][]model.Connection{}, dests: map[string]model.Destination{}, trans: map[string]model.Transformation{}}
}

func (c *targetCache) transformation(ctx context.Context, teamID, id string) (model.Transformation, error) {
	if t, ok := c.trans[id]; ok {
		return t, nil
	}
	t, err := c.store.GetTransformation(ctx, teamID, id)
	if err != nil {
		return t, fmt.Errorf("get transformation %s: %w", id, err)
	}
	c.trans[id] = t
	return t, nil
}

func (c *targetCache) connections(ctx context.Context, teamID, sourceID string) ([]model.Connection, error) {
	if cs, ok := c.conns[sourceID]; ok {
		return cs, nil
	}
	var all []model.Connection
	page := store.Page{Limit: 255, Asc: true}
	for {
		cs, err := c.store.ListConnections(ctx, store.ConnectionFilter{TeamID: teamID, SourceIDs: []string{sourceID}, Page: page})
		if err != nil {
			return nil, fmt.Errorf("list connections of %s: %w", sourceID, err)
		}
		all = append(all, cs...)
		if len(cs) < page.Limit {
			break
		}
		page.After = cs[len(cs)-1].ID
	}
	c.conns[sourceID] = all
	return all, nil
}

func (c *targetCache) destination(ctx context.Context, teamID, id string) (model.Destination, error) {
	if d, ok := c.dests[id]; ok {
		return d, nil
	}
	d, err := c.store.GetDestination(ctx, teamID, id)
	if errors.Is(err, store.ErrNotFound) {
		return d, fmt.Errorf("destination %s of a connection is gone: %w", id, err)
	}
	if err != nil {
		return d, fmt.Errorf("get destination %s: %w", id, err)
	}
	c.dests[id] = d
	return d, nil
}
