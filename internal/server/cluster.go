package server

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sluice-gw/sluice/internal/store/pgstore"
)

// Several `sluice serve` processes may share one PostgreSQL database. The
// store then offers what this file wires: LISTEN/NOTIFY wake-ups between
// the processes, the next due times that let idle loops sleep long, and
// the registry of which process holds live CLI sessions for which
// connection. SQLite (one process) offers none of it and needs none.

// clusterStore is the part of a store shared by several processes
// (pgstore.Store).
type clusterStore interface {
	Subscribe(ctx context.Context, log *slog.Logger, fn func(channel string))
	NextEventDue(ctx context.Context, now time.Time) (time.Time, bool, error)
	NextRequestDue(ctx context.Context, now time.Time) (time.Time, bool, error)
	PublishCLIListeners(ctx context.Context, owner string, connIDs []string, now, until time.Time) error
}

var _ clusterStore = (*pgstore.Store)(nil)

// clusterPoll is the backstop poll of the router and the dispatcher when
// notifications and due times wake them: it only bounds the latency of a
// lost notification.
const clusterPoll = 10 * time.Second

// pollInterval is the routers' and dispatchers' backstop poll: the
// default (1 s) on a single-process store, otherwise clusterPoll, and never
// more than a third of the lease.
func pollInterval(clustered bool, lease time.Duration) time.Duration {
	if !clustered {
		return 0 // the stages' default
	}
	return min(clusterPoll, lease/3)
}

// cluster runs the shared-database duties of one process.
type cluster struct {
	store clusterStore
	owner string
	lease time.Duration
	log   *slog.Logger
	// listening returns the connections this process's CLI sessions hold.
	listening func() []string

	mu        sync.Mutex
	published []string // last CLI listeners published (nil: none)

	cancel context.CancelFunc
	done   chan struct{}
}

// start subscribes to the other processes' notifications (wakeRouter and
// wakeDispatcher are called for them) and keeps this process's CLI
// listeners published until stop.
func (c *cluster) start(ctx context.Context, wakeRouter, wakeDispatcher func()) {
	ctx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan struct{})
	c.store.Subscribe(ctx, c.log, func(channel string) {
		switch channel {
		case pgstore.ChannelRequests:
			wakeRouter()
		case pgstore.ChannelEvents:
			wakeDispatcher()
		}
	})
	go every(ctx, c.lease/3, c.done, func(ctx context.Context) { c.publishCLI(ctx, c.listening()) })
}

// publishCLI records ids as the connections this process's live CLI
// sessions hold (renewing the records), skipping the write when there are
// none now and none were published.
func (c *cluster) publishCLI(ctx context.Context, ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(ids) == 0 && len(c.published) == 0 {
		return
	}
	now := time.Now().UTC()
	if err := c.store.PublishCLIListeners(ctx, c.owner, ids, now, now.Add(c.lease)); err != nil {
		if ctx.Err() == nil {
			c.log.Warn("cluster: publish CLI listeners", "err", err)
		}
		return
	}
	c.published = slices.Clone(ids)
}

// stop ends the subscription and withdraws this process's CLI listeners.
func (c *cluster) stop() {
	if c.cancel == nil {
		return
	}
	c.cancel()
	<-c.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.publishCLI(ctx, nil)
}
