package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// ClaimEvents leases due events, earliest due first, with their payloads.
// A claimed event's queue_at moves to the end of its lease, so that it
// becomes claimable again by itself if its worker dies. Events of paused
// connections (whose lease outlived a pause and expired) are skipped: they
// wait, still pending, for the unpause. So are events bound for
// c.ExcludeDestinations. An ordered destination gives only its head,
// claimed before the other events (see store.Dispatch.ClaimEvents); with
// c.MaxLeased the destination's leases are counted in the same write.
func (s *Store) ClaimEvents(ctx context.Context, c store.Claim) ([]model.Event, error) {
	if c.Limit <= 0 {
		return nil, nil
	}
	var (
		out    []model.Event
		refuse error // decided without failing the shared transaction
	)
	err := s.write(ctx, "claim events", func(ctx context.Context, tx *wtx) error {
		out, refuse = nil, nil
		limit := c.Limit
		if c.MaxLeased > 0 && c.Destination != "" {
			leased, err := countLeased(ctx, tx, c.Destination, micros(c.Now))
			if err != nil {
				return err
			}
			if leased >= c.MaxLeased {
				refuse = fmt.Errorf("%d leased: %w", leased, store.ErrAtCapacity)
				return nil
			}
			limit = min(limit, c.MaxLeased-leased)
		}
		ordered, err := orderedDestinations(ctx, tx)
		if err != nil {
			return err
		}
		picked, err := pickHeads(ctx, tx, c, ordered, limit)
		if err != nil {
			return err
		}
		if n := limit - len(picked); n > 0 {
			more, err := pickDue(ctx, tx, c, ordered, n)
			if err != nil {
				return err
			}
			picked = append(picked, more...)
		}
		if len(picked) == 0 {
			return nil
		}
		out, err = lease(ctx, tx, c, picked)
		return err
	})
	if err == nil && refuse != nil {
		err = fmt.Errorf("sqlitestore: claim events of destination %s: %w", c.Destination, refuse)
	}
	if err != nil {
		return nil, err
	}
	// Payloads never change: read them outside the writer.
	if err := fillEventData(ctx, s.rdb, out); err != nil {
		return nil, readErr("claim events", err)
	}
	return out, nil
}

// countLeased counts the destination's events under an unexpired lease.
func countLeased(ctx context.Context, tx *wtx, destinationID string, now int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM events
		WHERE destination_id = ? AND lease_owner IS NOT NULL AND lease_until > ?`, destinationID, now).Scan(&n)
	return n, err
}

// orderedDestinations lists the destinations in ordered delivery mode.
func orderedDestinations(ctx context.Context, tx *wtx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM destinations
		WHERE json_extract(config, '$.delivery_mode') = ? AND type <> ?`, model.DeliveryOrdered, model.DestinationCLI)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc scanner) (string, error) {
		var id string
		return id, sc.Scan(&id)
	})
}

// picked is an event chosen for a claim and the time it fell due.
type picked struct {
	id  string
	due int64
}

// pickHeads picks the claimable head of each ordered destination c allows.
func pickHeads(ctx context.Context, tx *wtx, c store.Claim, ordered []string, limit int) ([]picked, error) {
	now := micros(c.Now)
	var out []picked
	for _, d := range ordered {
		if len(out) >= limit {
			break
		}
		if slices.Contains(c.ExcludeDestinations, d) || (c.Destination != "" && c.Destination != d) {
			continue
		}
		var (
			p     picked
			reqID string
		)
		err := tx.QueryRowContext(ctx, `SELECT e.id, e.queue_at, e.request_id FROM events e
			WHERE e.destination_id = ? AND e.queue_at IS NOT NULL
				AND NOT EXISTS (SELECT 1 FROM connections c WHERE c.id = e.connection_id AND c.paused_at IS NOT NULL)
			ORDER BY e.request_id, e.id LIMIT 1`, d).Scan(&p.id, &p.due, &reqID)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if p.due > now {
			continue // not due, or leased (queue_at is the lease's end)
		}
		var blocked bool
		err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events
				WHERE destination_id = ?1 AND lease_owner IS NOT NULL AND lease_until > ?2)
			OR EXISTS (SELECT 1 FROM requests r
				WHERE r.routed_at IS NULL AND r.rejection_cause = '' AND r.id < ?3
					AND r.source_id IN (SELECT source_id FROM connections WHERE destination_id = ?1))`,
			d, now, reqID).Scan(&blocked)
		if err != nil {
			return nil, err
		}
		if !blocked {
			out = append(out, p)
		}
	}
	return out, nil
}

// pickDue picks up to limit due events of unordered destinations, earliest
// due first.
func pickDue(ctx context.Context, tx *wtx, c store.Claim, ordered []string, limit int) ([]picked, error) {
	q := &query{}
	q.add("queue_at <= ?", micros(c.Now))
	q.add("NOT EXISTS (SELECT 1 FROM connections c WHERE c.id = events.connection_id AND c.paused_at IS NOT NULL)")
	if skip := append(slices.Clone(c.ExcludeDestinations), ordered...); len(skip) > 0 {
		q.add("destination_id NOT IN "+inJSON, jsonList(skip))
	}
	if c.Destination != "" {
		q.add("destination_id = ?", c.Destination)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, queue_at FROM events`+q.where()+` ORDER BY queue_at, id LIMIT ?`,
		append(q.args, limit)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc scanner) (picked, error) {
		var p picked
		return p, sc.Scan(&p.id, &p.due)
	})
}

// lease leases the picked events to c.Owner and returns them in the order
// picked, without their payloads. The single writer makes picking and
// leasing atomic.
func lease(ctx context.Context, tx *wtx, c store.Claim, ps []picked) ([]model.Event, error) {
	ids := make([]string, len(ps))
	order := make(map[string]int, len(ps))
	for i, p := range ps {
		ids[i] = p.id
		order[p.id] = i
	}
	rows, err := tx.QueryContext(ctx, `UPDATE events SET queue_at = ?1, lease_owner = ?2, lease_until = ?1
		WHERE id IN (SELECT value FROM json_each(?3)) RETURNING `+eventCols,
		micros(c.Now.Add(c.Lease)), c.Owner, jsonList(ids))
	if err != nil {
		return nil, err
	}
	out, err := collect(rows, scanEvent)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b model.Event) int { return cmp.Compare(order[a.ID], order[b.ID]) })
	return out, nil
}
