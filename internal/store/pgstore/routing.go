package pgstore

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// ClaimUnroutedRequests leases up to c.Limit accepted, unrouted requests
// whose lease is free or expired, oldest first, with their payloads. Rows
// another worker is claiming at the same moment are skipped, not waited for.
func (s *Store) ClaimUnroutedRequests(ctx context.Context, c store.Claim) ([]model.Request, error) {
	if c.Limit <= 0 {
		return nil, nil
	}
	now := ts(c.Now)
	until := ts(c.Now.Add(c.Lease))
	return many(ctx, s.pool, scanRequest(true), "claim unrouted requests", `WITH claimed AS (
		UPDATE requests SET lease_owner = $1, lease_until = $2
		WHERE id IN (
			SELECT id FROM requests
			WHERE routed_at IS NULL AND rejection_cause = ''
				AND (lease_until IS NULL OR lease_until <= $3 OR lease_owner = $1)
			ORDER BY id LIMIT $4
			FOR UPDATE SKIP LOCKED)
		RETURNING *)
	SELECT `+requestCols+`, `+payloadCols+` FROM claimed r LEFT JOIN payloads p ON p.id = r.data_id ORDER BY r.id`,
		c.Owner, until, now, c.Limit)
}

// CompleteRouting writes the outcomes (payloads, events, ignored events
// and transformation executions) in one transaction. It locks the
// requests (in id order, so concurrent routers cannot deadlock) to decide
// which are still unrouted, and the events' connections FOR SHARE to decide
// HOLD: a concurrent pause or unpause, which updates the connection row,
// waits for this commit and then sees these events, or commits first and
// is seen here. An outcome for a request that is routed, rejected or gone
// writes nothing; a rerun of a missing request fails with
// store.ErrNotFound, and then nothing of the call is written.
func (s *Store) CompleteRouting(ctx context.Context, outcomes []store.RoutingOutcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	events := false
	for _, o := range outcomes {
		events = events || len(o.Events) > 0
	}
	if events {
		defer s.notes.poke(ChannelEvents)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		unrouted, err := lockRequests(ctx, tx, outcomes)
		if err != nil {
			return err
		}
		var write []store.RoutingOutcome
		var connIDs []string
		for _, o := range outcomes {
			if !o.Rerun {
				if !unrouted[o.RequestID] {
					continue
				}
				unrouted[o.RequestID] = false // routed now, for a duplicate in this call
			}
			write = append(write, o)
			for _, e := range o.Events {
				connIDs = append(connIDs, e.ConnectionID)
			}
		}
		if len(write) == 0 {
			return nil
		}
		paused, err := pausedConnections(ctx, tx, connIDs)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, o := range write {
			if err := queueOutcome(b, o, paused); err != nil {
				return err
			}
		}
		return translate(tx.SendBatch(ctx, b).Close(), "complete routing")
	})
}

// lockRequests locks the outcomes' requests and reports, for each that
// exists, whether it is accepted and not yet routed. A rerun's request must
// exist.
func lockRequests(ctx context.Context, tx pgx.Tx, outcomes []store.RoutingOutcome) (map[string]bool, error) {
	ids := make([]string, 0, len(outcomes))
	for _, o := range outcomes {
		ids = append(ids, o.RequestID)
	}
	rows, err := tx.Query(ctx, `SELECT id, routed_at IS NULL AND rejection_cause = '' FROM requests
		WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return nil, translate(err, "lock requests")
	}
	unrouted := make(map[string]bool, len(ids))
	var id string
	var open bool
	_, err = pgx.ForEachRow(rows, []any{&id, &open}, func() error {
		unrouted[id] = open
		return nil
	})
	if err != nil {
		return nil, translate(err, "lock requests")
	}
	for _, o := range outcomes {
		if _, ok := unrouted[o.RequestID]; o.Rerun && !ok {
			return nil, fmt.Errorf("pgstore: rerun routing of request %s: %w", o.RequestID, store.ErrNotFound)
		}
	}
	return unrouted, nil
}

// pausedConnections locks the connections FOR SHARE (in id order) and
// returns those that are paused. Missing connections count as not paused.
func pausedConnections(ctx context.Context, tx pgx.Tx, ids []string) (map[string]bool, error) {
	paused := map[string]bool{}
	if len(ids) == 0 {
		return paused, nil
	}
	sort.Strings(ids)
	rows, err := tx.Query(ctx, `SELECT id, paused_at IS NOT NULL FROM connections WHERE id = ANY($1) ORDER BY id FOR SHARE`, ids)
	if err != nil {
		return nil, translate(err, "lock connections")
	}
	var id string
	var p bool
	_, err = pgx.ForEachRow(rows, []any{&id, &p}, func() error {
		paused[id] = p
		return nil
	})
	if err != nil {
		return nil, translate(err, "lock connections")
	}
	return paused, nil
}

const insertEventSQL = `INSERT INTO events (id, team_id, connection_id, source_id, destination_id, request_id, data_id,
	status, attempts, last_attempt_at, next_attempt_at, response_status, error_code, successful_at, cli_id,
	next_trigger, created_at, updated_at, queue_at, order_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
	(SELECT ingested_at FROM requests WHERE id = $6))`

// queueOutcome adds the statements that write one outcome to b.
func queueOutcome(b *pgx.Batch, o store.RoutingOutcome, paused map[string]bool) error {
	for i := range o.Payloads {
		p := &o.Payloads[i]
		headers, err := headersText(p.Headers)
		if err != nil {
			return fmt.Errorf("pgstore: complete routing of request %s: %w", o.RequestID, err)
		}
		b.Queue(`INSERT INTO payloads (id, method, path, query, headers, body) VALUES ($1, $2, $3, $4, $5, $6)`,
			p.ID, p.Method, []byte(p.Path), []byte(p.Query), headers, p.Body)
	}
	for _, e := range o.Events {
		status := e.Status
		if paused[e.ConnectionID] {
			status = model.EventHold
		}
		next := tsp(e.NextAttemptAt)
		created := ts(e.CreatedAt)
		var queueAt *time.Time
		if status == model.EventQueued || status == model.EventScheduled {
			queueAt = &created
			if next != nil {
				queueAt = next
			}
		}
		b.Queue(insertEventSQL, e.ID, e.TeamID, e.ConnectionID, e.SourceID, e.DestinationID, e.RequestID, e.DataID,
			status, e.Attempts, tsp(e.LastAttemptAt), next, e.ResponseStatus, e.ErrorCode, tsp(e.SuccessfulAt), e.CLIID,
			e.NextTrigger, created, ts(e.UpdatedAt), queueAt)
	}
	for i := range o.Executions {
		if err := queueExecution(b, &o.Executions[i]); err != nil {
			return fmt.Errorf("pgstore: complete routing of request %s: %w", o.RequestID, err)
		}
	}
	for _, ie := range o.Ignored {
		b.Queue(`INSERT INTO ignored_events (`+ignoredCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			ie.ID, ie.TeamID, ie.ConnectionID, ie.RequestID, ie.Cause, rawText(ie.Meta), ts(ie.CreatedAt))
	}
	// A rerun adds to the counters and keeps the first routing time.
	set := `events_count = $2, cli_events_count = $3, ignored_count = $4, routed_at = $5`
	if o.Rerun {
		set = `events_count = events_count + $2, cli_events_count = cli_events_count + $3,
			ignored_count = ignored_count + $4, routed_at = COALESCE(routed_at, $5)`
	}
	routedAt := ts(o.RoutedAt)
	b.Queue(`UPDATE requests SET `+set+`, updated_at = $5, lease_owner = NULL, lease_until = NULL
		WHERE id = $1`, o.RequestID, len(o.Events)-o.CLIEvents, o.CLIEvents, len(o.Ignored), routedAt)
	return nil
}
