package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-gw/sluice/internal/model"
)

// insertRequestSQL writes the payload and the request in one statement (one
// round trip per request inside a group commit).
const insertRequestSQL = `WITH payload AS (
	INSERT INTO payloads (id, method, path, query, headers, body) VALUES ($1, $2, $3, $4, $5, $6)
)
INSERT INTO requests (id, team_id, source_id, verified, rejection_cause, data_id, original_ip,
	events_count, cli_events_count, ignored_count, routed_at, ingested_at, created_at, updated_at)
VALUES ($7, $8, $9, $10, $11, $1, $12, $13, $14, $15, $16, $17, $18, $19)`

// InsertRequest durably commits r and its payload r.Data. Concurrent calls
// share transactions (group commit); when it returns nil the commit has
// been acknowledged by PostgreSQL (synchronous_commit decides whether that
// means fsynced, as configured on the server). Times in r are normalized in
// place to the stored precision.
func (s *Store) InsertRequest(ctx context.Context, r *model.Request) error {
	if r.Data.ID == "" {
		return fmt.Errorf("pgstore: insert request %s: payload id not set", r.ID)
	}
	headers, err := headersText(r.Data.Headers)
	if err != nil {
		return fmt.Errorf("pgstore: insert request %s: %w", r.ID, err)
	}
	r.RoutedAt = tsp(r.RoutedAt)
	r.IngestedAt, r.CreatedAt, r.UpdatedAt = ts(r.IngestedAt), ts(r.CreatedAt), ts(r.UpdatedAt)
	args := []any{
		r.Data.ID, r.Data.Method, []byte(r.Data.Path), []byte(r.Data.Query), headers, r.Data.Body,
		r.ID, r.TeamID, r.SourceID, r.Verified, r.RejectionCause, r.OriginalIP,
		r.EventsCount, r.CLIEventsCount, r.IgnoredCount, r.RoutedAt, r.IngestedAt, r.CreatedAt, r.UpdatedAt,
	}
	err = s.ingest.Do(ctx, func(tx pgx.Tx) error {
		// Started work always finishes (see groupcommit.Committer.Do), so
		// the caller's ctx does not cut the statement short.
		_, err := tx.Exec(context.Background(), insertRequestSQL, args...)
		return err
	})
	return translate(err, "insert request "+r.ID)
}
