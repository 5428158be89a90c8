// Package dispatch delivers events to their destinations. A claim loop
// leases due events from the store and hands them to a pool of workers;
// each worker makes one attempt, then records the attempt and the event's
// next state (successful, retry at a time, or failed) in one transaction.
//
// Delivery is at-least-once: a worker that dies mid-attempt leaves a lease
// that expires, and another worker (in this or another process) claims the
// event again. Every attempt carries the event id so receivers can
// deduplicate.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules"
	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/wakeup"
)

// Store is what the dispatcher needs from the store.
type Store interface {
	ClaimEvents(ctx context.Context, c store.Claim) ([]model.Event, error)
	ClaimEvent(ctx context.Context, teamID, id string, c store.Claim) (model.Event, error)
	ReleaseEvent(ctx context.Context, id, owner string, dueAt time.Time) error
	AcquireRate(ctx context.Context, destinationID string, interval time.Duration, now time.Time, n int) (bool, time.Time, error)
	RecordAttempt(ctx context.Context, r store.AttemptOutcome) error
	ReleaseLeases(ctx context.Context, owner string) error
	GetSource(ctx context.Context, teamID, id string) (model.Source, error)
	GetDestination(ctx context.Context, teamID, id string) (model.Destination, error)
	GetConnection(ctx context.Context, teamID, id string) (model.Connection, error)
}

// Defaults for Config.
const (
	DefaultWorkers         = 64
	DefaultTimeout         = 60 * time.Second
	DefaultLease           = 30 * time.Second
	DefaultPollInterval    = time.Second
	DefaultMaxResponseBody = 64 << 10
)

// Config configures a Dispatcher. Zero fields take the defaults.
type Config struct {
	// Owner identifies this process in leases.
	Owner string
	// Workers is the number of attempts in flight at once (default 64).
	Workers int
	// Timeout bounds one attempt (default 60 s, as Hookdeck).
	Timeout time.Duration
	// Lease is how long a claimed event is held before another worker may
	// take it over (default 30 s). An attempt may run longer than its
	// lease only if the owner's leases are renewed meanwhile (see
	// store.Dispatch.RenewLeases; internal/server runs that heartbeat).
	Lease time.Duration
	// PollInterval is the backstop poll when no wake-up comes (default 1 s).
	PollInterval time.Duration
	// NextDue, if set, tells when the next event becomes claimable by
	// itself (a retry, a delay, another process's lease ending); after a
	// claim that found nothing the loop sleeps until then, so that a long
	// PollInterval delays none of these.
	NextDue func(ctx context.Context, now time.Time) (time.Time, bool, error)
	// MaxResponseBody caps the response body kept on an attempt (64 KiB).
	MaxResponseBody int
	// SigningSecret signs deliveries (x-hookdeck-signature).
	SigningSecret string
	// DefaultRetry applies to connections without a retry rule; nil means
	// no automatic retries for them.
	DefaultRetry *rules.Retry
	// EventURL, if set, builds the x-hookdeck-event-url header value.
	EventURL func(eventID string) string
	// Client sends the attempts (default: a tuned http.Client).
	Client *http.Client
	// CLI carries attempts for CLI destinations to the listening CLI
	// sessions; nil fails them with CLI_UNAVAILABLE.
	CLI CLIDelivery
	// OnAttempt, if set, observes each recorded attempt (for metrics).
	OnAttempt func(a model.Attempt)
	Logger    *slog.Logger
}

// Dispatcher is the long-running delivery stage.
type Dispatcher struct {
	store    Store
	cfg      Config
	log      *slog.Logger
	wake     *wakeup.Signal
	client   *http.Client
	throttle *throttle
	oauth    *oauthTokens

	slots  chan struct{} // one token per free worker
	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup // in-flight attempts
	once   sync.Once
}

// New returns a Dispatcher; call Start to run it.
func New(st Store, cfg Config) *Dispatcher {
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxResponseBody <= 0 {
		cfg.MaxResponseBody = DefaultMaxResponseBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client := cfg.Client
	if client == nil {
		client = newHTTPClient(cfg.Workers)
	}
	d := &Dispatcher{
		store:    st,
		cfg:      cfg,
		log:      cfg.Logger,
		wake:     wakeup.New(),
		client:   client,
		throttle: newThrottle(),
		oauth:    newOAuthTokens(client),
		slots:    make(chan struct{}, cfg.Workers),
		done:     make(chan struct{}),
	}
	for range cfg.Workers {
		d.slots <- struct{}{}
	}
	return d
}

// Wake tells the dispatcher that events are due now.
func (d *Dispatcher) Wake() { d.wake.Notify() }

// WakeAt tells the dispatcher that an event becomes due at t.
func (d *Dispatcher) WakeAt(t time.Time) { d.wake.NotifyAt(t) }

// Start runs the claim loop until Stop or ctx ends.
func (d *Dispatcher) Start(ctx context.Context) error {
	ctx, d.cancel = context.WithCancel(ctx)
	go d.loop(ctx)
	return nil
}

// Stop stops claiming, waits for attempts in flight to finish and be
// recorded, then releases any lease this process still holds.
func (d *Dispatcher) Stop() {
	d.once.Do(func() {
		if d.cancel == nil {
			return
		}
		d.cancel()
		<-d.done
		d.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.store.ReleaseLeases(ctx, d.cfg.Owner); err != nil {
			d.log.Error("dispatch: release leases", "err", err)
		}
	})
}

func (d *Dispatcher) loop(ctx context.Context) {
	defer close(d.done)
	ticker := time.NewTicker(d.cfg.PollInterval)
	defer ticker.Stop()
	for {
		// Wait for at least one free worker.
		select {
		case <-ctx.Done():
			return
		case <-d.slots:
		}
		free := 1
	collect:
		for free < d.cfg.Workers {
			select {
			case <-d.slots:
				free++
			default:
				break collect
			}
		}
		now := time.Now().UTC()
		// Resources are loaded once per batch: fresh for every claim, so
		// configuration changes apply to the next attempt.
		cache := newResourceCache(d.store)
		start := func(ev model.Event, limited bool) {
			free--
			d.wg.Add(1)
			go func() {
				defer func() { d.slots <- struct{}{}; d.wg.Done() }()
				if limited && !d.awaitSlot(ctx, ev) {
					d.finished(ev)
					return
				}
				d.attempt(ctx, cache, ev, ev.NextTrigger)
				if limited {
					d.finished(ev)
				}
			}()
		}
		claimed := 0
		for _, ev := range d.claimLimited(ctx, free, now) {
			claimed++
			start(ev, true)
		}
		var (
			events []model.Event
			err    error
		)
		if free > 0 {
			events, err = d.store.ClaimEvents(ctx, store.Claim{Owner: d.cfg.Owner, Limit: free, Lease: d.cfg.Lease, Now: now,
				ExcludeDestinations: d.throttle.excluded()})
			if err != nil && ctx.Err() == nil {
				d.log.Error("dispatch: claim events", "err", err)
			}
		}
		claimed += len(events)
		for _, ev := range events {
			if d.admit(ctx, cache, ev) {
				start(ev, false)
			}
		}
		for range free {
			d.slots <- struct{}{}
		}
		if claimed > 0 && err == nil {
			continue // more may be due
		}
		if err == nil {
			d.wakeAtNextDue(ctx, now)
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake.C():
		case <-ticker.C:
		}
	}
}

// RetryEvent makes one MANUAL attempt of an event now, whatever its status,
// and returns the event as recorded afterwards with the attempt. It returns
// store.ErrConflict when another worker is delivering the event.
func (d *Dispatcher) RetryEvent(ctx context.Context, teamID, eventID string) (model.Event, model.Attempt, error) {
	ev, err := d.store.ClaimEvent(ctx, teamID, eventID, store.Claim{Owner: d.cfg.Owner, Limit: 1, Lease: d.cfg.Lease, Now: time.Now().UTC()})
	if err != nil {
		return model.Event{}, model.Attempt{}, fmt.Errorf("claim event %s: %w", eventID, err)
	}
	d.wg.Add(1)
	defer d.wg.Done()
	att, out, err := d.attempt(ctx, newResourceCache(d.store), ev, model.TriggerManual)
	if err != nil {
		return model.Event{}, att, err
	}
	applyOutcome(&ev, att, out)
	return ev, att, nil
}

// attempt delivers one claimed event and records the result. The attempt
// is recorded even if ctx ends meanwhile (shutdown waits for it).
func (d *Dispatcher) attempt(ctx context.Context, cache *resourceCache, ev model.Event, trigger string) (model.Attempt, store.AttemptOutcome, error) {
	if trigger == "" {
		trigger = model.TriggerInitial
	}
	rctx := context.WithoutCancel(ctx)
	att, out, err := d.deliver(rctx, cache, ev, trigger)
	if err != nil {
		// Resources could not be loaded (the store is unreachable, say).
		// The heartbeat would keep this process's lease alive, so give the
		// event back explicitly; it is tried again once the store answers.
		d.log.Error("dispatch: prepare attempt", "event_id", ev.ID, "err", err)
		due := ev.CreatedAt
		if ev.NextAttemptAt != nil {
			due = *ev.NextAttemptAt
		}
		_ = d.persist(ctx, "release event "+ev.ID, func() error {
			return d.store.ReleaseEvent(rctx, ev.ID, d.cfg.Owner, due)
		})
		return att, out, err
	}
	if err := d.persist(ctx, "record attempt "+out.Attempt.ID, func() error {
		return d.store.RecordAttempt(rctx, out)
	}); err != nil {
		if errors.Is(err, store.ErrLeaseLost) {
			d.log.Warn("dispatch: lease lost; attempt kept, event left to its new owner", "event_id", out.Attempt.EventID, "attempt_id", out.Attempt.ID)
		}
		return att, out, err
	}
	if d.cfg.OnAttempt != nil {
		d.cfg.OnAttempt(att)
	}
	if d.log.Enabled(ctx, slog.LevelDebug) {
		a := out.Attempt
		args := []any{"event_id", a.EventID, "attempt_id", a.ID, "request_id", ev.RequestID,
			"destination_id", a.DestinationID, "attempt_number", a.AttemptNumber, "trigger", a.Trigger,
			"status", a.Status, "event_status", out.EventStatus}
		if a.ResponseStatus != nil {
			args = append(args, "response_status", *a.ResponseStatus)
		}
		if a.ErrorCode != "" {
			args = append(args, "error_code", a.ErrorCode)
		}
		if out.NextAttemptAt != nil {
			args = append(args, "next_attempt_at", *out.NextAttemptAt)
		}
		d.log.DebugContext(ctx, "dispatch: attempt recorded", args...)
	}
	if out.NextAttemptAt != nil {
		d.WakeAt(*out.NextAttemptAt)
	}
	if dest, err := cache.destination(rctx, ev); err == nil && dest.Config.DeliveryMode == model.DeliveryOrdered {
		d.Wake() // the next event of an ordered destination may go now
	}
	return att, out, nil
}

// wakeAtNextDue arranges a wake-up for when the next event falls due.
func (d *Dispatcher) wakeAtNextDue(ctx context.Context, now time.Time) {
	if d.cfg.NextDue == nil {
		return
	}
	at, ok, err := d.cfg.NextDue(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("dispatch: next due time", "err", err)
		}
		return
	}
	if ok {
		d.WakeAt(at)
	}
}

// persist runs a store write until it succeeds or fails for good
// (ErrLeaseLost, ErrNotFound), backing off while the store is unreachable.
// Work this process holds stays leased (the heartbeat renews it), so
// giving up would strand it: persist keeps trying for as long as the
// dispatcher runs, and for one lease more once ctx ends (shutdown).
func (d *Dispatcher) persist(ctx context.Context, what string, write func() error) error {
	var deadline time.Time
	backoff := 50 * time.Millisecond
	for {
		err := write()
		if err == nil || errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrNotFound) {
			return err
		}
		if ctx.Err() != nil {
			if deadline.IsZero() {
				deadline = time.Now().Add(d.cfg.Lease)
			} else if time.Now().After(deadline) {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		d.log.Warn("dispatch: store write failed; retrying", "what", what, "err", err)
		time.Sleep(backoff)
		backoff = min(backoff*2, 5*time.Second)
	}
}

// applyOutcome updates an event value as RecordAttempt did in the store.
func applyOutcome(ev *model.Event, att model.Attempt, out store.AttemptOutcome) {
	ev.Attempts++
	ev.Status = out.EventStatus
	ev.LastAttemptAt = &att.CreatedAt
	ev.NextAttemptAt = out.NextAttemptAt
	ev.NextTrigger = out.NextTrigger
	ev.ResponseStatus = att.ResponseStatus
	ev.ErrorCode = att.ErrorCode
	if att.Status == model.AttemptSuccessful {
		ev.SuccessfulAt = att.SuccessfulAt
	}
	ev.UpdatedAt = att.UpdatedAt
}
