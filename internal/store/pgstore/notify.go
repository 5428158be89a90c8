package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Several processes on one database wake each other with LISTEN/NOTIFY:
// a process that commits work another could take (accepted requests,
// new or released events) notifies a channel, and every other process
// listening on it wakes its router or dispatcher at once instead of at its
// next backstop poll. Notifications only save latency; a lost one costs
// a poll interval, never work.
//
// NOTIFY is sent after the commit, as a statement of its own, never inside
// the committing transaction: PostgreSQL serializes the commits of every
// transaction that notifies (a database-wide lock held across the commit's
// fsync), which would undo group commit. Each channel is notified at most
// once per notifyGap by each process; pokes in between are coalesced into
// one notification at the end of the gap.

// Notification channels.
const (
	// ChannelRequests: accepted requests were committed (routers wake).
	ChannelRequests = "sluice_requests"
	// ChannelEvents: events became claimable (dispatchers wake).
	ChannelEvents = "sluice_events"
)

const (
	// notifyGap is the least time between two notifications of one
	// channel from one store.
	notifyGap = 20 * time.Millisecond
	// listenPing is how long the listening connection waits for a
	// notification before checking, with a ping, that it is alive.
	listenPing = time.Minute
	// listenBackoffMax caps the wait between reconnections.
	listenBackoffMax = 30 * time.Second
)

// notifier sends this store's notifications, coalesced, once Subscribe
// enabled it (a store nobody listens to sends nothing).
type notifier struct {
	pool *pgxpool.Pool
	id   string // payload of this store's notifications, to skip our own

	mu      sync.Mutex
	enabled bool
	closed  bool
	pending map[string]bool
	wake    chan struct{}
	done    chan struct{}
}

func newNotifier(pool *pgxpool.Pool) *notifier {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &notifier{
		pool:    pool,
		id:      hex.EncodeToString(b[:]),
		pending: map[string]bool{},
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
}

// enable starts the sender once.
func (n *notifier) enable() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.enabled || n.closed {
		return
	}
	n.enabled = true
	go n.send()
}

// poke asks for a notification of channel.
func (n *notifier) poke(channel string) {
	n.mu.Lock()
	if !n.enabled || n.closed {
		n.mu.Unlock()
		return
	}
	n.pending[channel] = true
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// send notifies the pending channels, at most once per notifyGap, until
// close; then it flushes what is pending.
func (n *notifier) send() {
	defer close(n.done)
	for {
		<-n.wake
		n.mu.Lock()
		channels := make([]string, 0, len(n.pending))
		for c := range n.pending {
			channels = append(channels, c)
		}
		clear(n.pending)
		closed := n.closed
		n.mu.Unlock()
		if len(channels) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			// A failed notification only costs latency (the poll finds the work).
			_, _ = n.pool.Exec(ctx, `SELECT pg_notify(c, $2) FROM unnest($1::text[]) c`, channels, n.id)
			cancel()
		}
		if closed {
			return
		}
		time.Sleep(notifyGap)
	}
}

// close flushes pending notifications and stops the sender.
func (n *notifier) close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	enabled := n.enabled
	n.mu.Unlock()
	if !enabled {
		return
	}
	select {
	case n.wake <- struct{}{}:
	default:
	}
	<-n.done
}

// Subscribe makes the store notify other processes of work it commits, and
// calls fn (from one goroutine) with the channel of every notification
// another process sends, until ctx ends. It listens on a dedicated
// connection, reconnecting with backoff when it breaks; after every
// (re)connection it calls fn for each channel, since notifications sent
// meanwhile were missed. It returns at once.
func (s *Store) Subscribe(ctx context.Context, log *slog.Logger, fn func(channel string)) {
	if log == nil {
		log = slog.Default()
	}
	s.notes.enable()
	go s.listen(ctx, log, fn)
}

func (s *Store) listen(ctx context.Context, log *slog.Logger, fn func(channel string)) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, fn, func() { backoff = time.Second })
		if ctx.Err() != nil {
			return
		}
		log.Warn("pgstore: listening for notifications failed; other processes' work is found by polling until it reconnects",
			"err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenBackoffMax)
	}
}

// listenOnce connects, listens and relays notifications until the
// connection breaks or ctx ends; connected is called once listening.
func (s *Store) listenOnce(ctx context.Context, fn func(string), connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	for _, c := range []string{ChannelRequests, ChannelEvents} {
		if _, err := conn.Exec(ctx, "LISTEN "+c); err != nil {
			return err
		}
	}
	connected()
	fn(ChannelRequests)
	fn(ChannelEvents)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if n.Payload != s.notes.id {
				fn(n.Channel)
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			if err := conn.Ping(ctx); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// NextEventDue returns the earliest time after now at which an event
// becomes claimable by itself — a scheduled retry or delay, or the end of
// a lease — and false when none is pending. A dispatcher that found
// nothing to claim sleeps until then instead of polling.
func (s *Store) NextEventDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	var at *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT min(queue_at) FROM events WHERE queue_at > $1`, ts(now)).Scan(&at); err != nil {
		return time.Time{}, false, translate(err, "next event due")
	}
	if at == nil {
		return time.Time{}, false, nil
	}
	return *at, true, nil
}

// NextRequestDue returns the earliest end, after now, of a router's lease
// on an unrouted request (its router may have died), and false when there
// is none.
func (s *Store) NextRequestDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	var at *time.Time
	err := s.pool.QueryRow(ctx, `SELECT min(lease_until) FROM requests
		WHERE routed_at IS NULL AND rejection_cause = '' AND lease_until > $1`, ts(now)).Scan(&at)
	if err != nil {
		return time.Time{}, false, translate(err, "next request due")
	}
	if at == nil {
		return time.Time{}, false, nil
	}
	return *at, true, nil
}

// PublishCLIListeners records that owner holds live CLI sessions for
// exactly connIDs until until (renewed by its heartbeat; an empty list
// withdraws it), and forgets the expired records of other owners. While a
// connection has a live record, only the owners recorded for it claim its
// events (ClaimEvents).
func (s *Store) PublishCLIListeners(ctx context.Context, owner string, connIDs []string, now, until time.Time) error {
	if connIDs == nil {
		connIDs = []string{}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM cli_listeners
			WHERE (owner = $1 AND connection_id <> ALL($2)) OR expires_at <= $3`, owner, connIDs, ts(now)); err != nil {
			return translate(err, "withdraw CLI listeners")
		}
		if len(connIDs) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO cli_listeners (connection_id, owner, expires_at)
			SELECT c, $1, $3 FROM unnest($2::text[]) c
			ON CONFLICT (connection_id, owner) DO UPDATE SET expires_at = excluded.expires_at`,
			owner, connIDs, ts(until))
		return translate(err, "record CLI listeners")
	})
	if err == nil {
		// Events the others skipped may be this owner's now, or theirs
		// again.
		s.notes.poke(ChannelEvents)
	}
	return err
}
