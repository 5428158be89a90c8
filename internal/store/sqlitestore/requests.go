package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

const requestCols = `team_id, id, source_id, verified, rejection_cause, data_id, original_ip, events_count,
	cli_events_count, ignored_count, routed_at, ingested_at, created_at, updated_at`

func scanRequest(sc scanner) (model.Request, error) {
	var r model.Request
	err := sc.Scan(&r.TeamID, &r.ID, &r.SourceID, nullBoolCol{&r.Verified}, &r.RejectionCause, &r.Data.ID,
		&r.OriginalIP, &r.EventsCount, &r.CLIEventsCount, &r.IgnoredCount, nullTimeCol{&r.RoutedAt},
		timeCol{&r.IngestedAt}, timeCol{&r.CreatedAt}, timeCol{&r.UpdatedAt})
	return r, err
}

const payloadCols = `id, method, path, query, headers, body`

func scanPayload(sc scanner) (model.Payload, error) {
	var p model.Payload
	err := sc.Scan(&p.ID, &p.Method, &p.Path, &p.Query, jsonCol{&p.Headers}, &p.Body)
	return p, err
}

// headersJSON is the stored form of a payload's headers.
func headersJSON(p *model.Payload) (string, error) {
	if len(p.Headers) == 0 {
		return "{}", nil
	}
	return jsonText(p.Headers)
}

// insertPayload stores p, whose headers are already encoded, for team at
// the given time (unix µs).
func insertPayload(ctx context.Context, tx *wtx, teamID string, p *model.Payload, headers string, created int64) error {
	_, err := tx.ExecContext(ctx, sqlInsertPayload, p.ID, teamID, p.Method, p.Path, p.Query, headers, p.Body, created)
	return err
}

// loadPayloads reads the payloads with the given ids.
func loadPayloads(ctx context.Context, db queryer, ids []string) (map[string]model.Payload, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	out := make(map[string]model.Payload, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT `+payloadCols+` FROM payloads WHERE id IN `+inJSON, jsonList(ids))
	if err != nil {
		return nil, err
	}
	ps, err := collect(rows, scanPayload)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.ID] = p
	}
	return out, nil
}

// fillRequestData sets each request's Data from its payload.
func fillRequestData(ctx context.Context, db queryer, rs []model.Request) error {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.Data.ID
	}
	ps, err := loadPayloads(ctx, db, ids)
	if err != nil {
		return err
	}
	for i := range rs {
		if p, ok := ps[rs[i].Data.ID]; ok {
			rs[i].Data = p
		}
	}
	return nil
}

// InsertRequest durably stores a request and its payload; concurrent calls
// share transactions. An accepted request whose source has no connection at
// the commit is stored as NO_CONNECTION, and r says so.
func (s *Store) InsertRequest(ctx context.Context, r *model.Request) error {
	headers, err := headersJSON(&r.Data) // encoded here, not in the single writer
	if err != nil {
		return fmt.Errorf("sqlitestore: insert request: %w", err)
	}
	cause := r.RejectionCause
	err = s.write(ctx, "insert request", func(ctx context.Context, tx *wtx) error {
		cause = r.RejectionCause
		if cause == "" {
			var connected bool
			if err := tx.QueryRowContext(ctx, sqlSourceConnected, r.SourceID).Scan(&connected); err != nil {
				return err
			}
			if !connected {
				cause = model.RejectNoConnection
			}
		}
		if err := insertPayload(ctx, tx, r.TeamID, &r.Data, headers, micros(r.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, sqlInsertRequest,
			r.TeamID, r.ID, r.SourceID, r.Verified, cause, r.Data.ID, r.OriginalIP,
			r.EventsCount, r.CLIEventsCount, r.IgnoredCount, nullMicros(r.RoutedAt),
			micros(r.IngestedAt), micros(r.CreatedAt), micros(r.UpdatedAt))
		return err
	})
	if err == nil {
		r.RejectionCause = cause
	}
	return err
}

// ClaimUnroutedRequests leases accepted, unrouted requests, oldest first,
// with their payloads (read after the claim, by the read pool).
func (s *Store) ClaimUnroutedRequests(ctx context.Context, c store.Claim) ([]model.Request, error) {
	if c.Limit <= 0 {
		return nil, nil
	}
	var out []model.Request
	now, until := micros(c.Now), micros(c.Now.Add(c.Lease))
	err := s.write(ctx, "claim unrouted requests", func(ctx context.Context, tx *wtx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE requests SET lease_owner = ?1, lease_until = ?2
			WHERE id IN (
				SELECT id FROM requests
				WHERE routed_at IS NULL AND rejection_cause = ''
					AND (lease_until IS NULL OR lease_until <= ?3 OR lease_owner = ?1)
				ORDER BY id LIMIT ?4)
			RETURNING `+requestCols, c.Owner, until, now, c.Limit)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanRequest)
		if err != nil {
			return err
		}
		slices.SortFunc(out, func(a, b model.Request) int { return strings.Compare(a.ID, b.ID) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Payloads never change: read them outside the writer.
	if err := fillRequestData(ctx, s.rdb, out); err != nil {
		return nil, readErr("claim unrouted requests", err)
	}
	return out, nil
}

// CompleteRouting commits each outcome in its own group-committed
// transaction, so that a failing one cannot hold the others back; the
// outcomes still share fsyncs.
func (s *Store) CompleteRouting(ctx context.Context, outcomes []store.RoutingOutcome) error {
	if len(outcomes) == 1 {
		return s.completeRouting(ctx, &outcomes[0])
	}
	errs := make([]error, len(outcomes))
	var wg sync.WaitGroup
	for i := range outcomes {
		wg.Go(func() { errs[i] = s.completeRouting(ctx, &outcomes[i]) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Store) completeRouting(ctx context.Context, o *store.RoutingOutcome) error {
	return s.write(ctx, "complete routing of "+o.RequestID, func(ctx context.Context, tx *wtx) error {
		events := len(o.Events) - o.CLIEvents
		var (
			teamID string
			err    error
		)
		routed := micros(o.RoutedAt)
		if o.Rerun {
			err = tx.QueryRowContext(ctx, `UPDATE requests SET routed_at = COALESCE(routed_at, ?), updated_at = ?,
				events_count = events_count + ?, cli_events_count = cli_events_count + ?,
				ignored_count = ignored_count + ?, lease_owner = NULL, lease_until = NULL
				WHERE id = ? RETURNING team_id`,
				routed, routed, events, o.CLIEvents, len(o.Ignored), o.RequestID).Scan(&teamID)
		} else {
			err = tx.QueryRowContext(ctx, `UPDATE requests SET routed_at = ?, updated_at = ?,
				events_count = ?, cli_events_count = ?, ignored_count = ?, lease_owner = NULL, lease_until = NULL
				WHERE id = ? AND routed_at IS NULL AND rejection_cause = '' RETURNING team_id`,
				routed, routed, events, o.CLIEvents, len(o.Ignored), o.RequestID).Scan(&teamID)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // routed already (or rejected, or gone): write nothing.
			}
		}
		if err != nil {
			return err
		}
		for i := range o.Payloads {
			headers, err := headersJSON(&o.Payloads[i])
			if err != nil {
				return err
			}
			if err := insertPayload(ctx, tx, teamID, &o.Payloads[i], headers, routed); err != nil {
				return err
			}
		}
		for i := range o.Events {
			if err := insertEvent(ctx, tx, &o.Events[i]); err != nil {
				return err
			}
		}
		for i := range o.Executions {
			if err := insertExecution(ctx, tx, &o.Executions[i]); err != nil {
				return err
			}
		}
		for _, ig := range o.Ignored {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ignored_events (team_id, id, connection_id, request_id, cause, meta, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, ig.TeamID, ig.ID, ig.ConnectionID, ig.RequestID, ig.Cause,
				nullRaw(ig.Meta), micros(ig.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

// connectionPaused reports whether the connection is paused (a missing
// connection is not).
func connectionPaused(ctx context.Context, tx *wtx, id string) (bool, error) {
	var paused bool
	err := tx.QueryRowContext(ctx, `SELECT paused_at IS NOT NULL FROM connections WHERE id = ?`, id).Scan(&paused)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return paused, err
}

// GetRequest returns a request, with its payload when withData.
func (s *Store) GetRequest(ctx context.Context, teamID, id string, withData bool) (model.Request, error) {
	r, err := scanRequest(s.rdb.QueryRowContext(ctx, `SELECT `+requestCols+` FROM requests WHERE id = ? AND team_id = ?`, id, teamID))
	if err != nil {
		return model.Request{}, readErr("get request "+id, err)
	}
	if withData {
		rs := []model.Request{r}
		if err := fillRequestData(ctx, s.rdb, rs); err != nil {
			return model.Request{}, readErr("get request "+id, err)
		}
		r = rs[0]
	}
	return r, nil
}

// ListRequests returns one page of requests.
func (s *Store) ListRequests(ctx context.Context, f store.RequestFilter) ([]model.Request, error) {
	q := &query{}
	q.add("team_id = ?", f.TeamID)
	in(q, "id", f.IDs)
	in(q, "source_id", f.SourceIDs)
	switch f.Status {
	case "accepted":
		q.add("rejection_cause = ''")
	case "rejected":
		q.add("rejection_cause <> ''")
	}
	in(q, "rejection_cause", f.RejectionCauses)
	if f.Verified != nil {
		q.add("verified = ?", *f.Verified)
	}
	q.timeRange("created_at", f.CreatedAt)
	q.intRange("events_count", f.EventsCount)
	q.intRange("ignored_count", f.IgnoredCount)
	text, args := q.list(requestCols, "requests", f.Page)
	rs, err := list(ctx, s.rdb, "list requests", text, args, scanRequest)
	if err != nil || !f.WithData {
		return rs, err
	}
	if err := fillRequestData(ctx, s.rdb, rs); err != nil {
		return nil, readErr("list requests", err)
	}
	return rs, nil
}

// GetPayload returns a payload by id.
func (s *Store) GetPayload(ctx context.Context, id string) (model.Payload, error) {
	p, err := scanPayload(s.rdb.QueryRowContext(ctx, `SELECT `+payloadCols+` FROM payloads WHERE id = ?`, id))
	if err != nil {
		return model.Payload{}, readErr("get payload "+id, err)
	}
	return p, nil
}
