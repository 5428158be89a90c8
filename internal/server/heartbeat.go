package server

import (
	"context"
	"log/slog"
	"time"
)

// leaseRenewer is the part of the store the heartbeat needs.
type leaseRenewer interface {
	RenewLeases(ctx context.Context, owner string, until time.Time) (int, error)
}

// heartbeat renews this process's leases every lease/3, so leases can stay
// short (a crashed process's work is taken over within one lease) while
// long attempts and routing batches keep theirs.
type heartbeat struct {
	store leaseRenewer
	owner string
	lease time.Duration
	log   *slog.Logger

	cancel context.CancelFunc
	done   chan struct{}
}

func newHeartbeat(st leaseRenewer, owner string, lease time.Duration, log *slog.Logger) *heartbeat {
	return &heartbeat{store: st, owner: owner, lease: lease, log: log, done: make(chan struct{})}
}

// every calls fn every d until ctx ends, then closes done.
func every(ctx context.Context, d time.Duration, done chan<- struct{}, fn func(ctx context.Context)) {
	defer close(done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// Start begins renewing until Stop.
func (h *heartbeat) Start(ctx context.Context) {
	ctx, h.cancel = context.WithCancel(ctx)
	go every(ctx, h.lease/3, h.done, func(ctx context.Context) {
		if _, err := h.store.RenewLeases(ctx, h.owner, time.Now().UTC().Add(h.lease)); err != nil && ctx.Err() == nil {
			h.log.Warn("heartbeat: renew leases", "owner", h.owner, "err", err)
		}
	})
}

// Stop ends the heartbeat. Call it after the stages have stopped and
// released their leases.
func (h *heartbeat) Stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.done
	}
}
