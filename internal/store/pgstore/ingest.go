package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluice-gw/sluice/internal/model"
)

// Ingest is group-committed, and each group is written with one statement:
// the committer's functions only collect their request into the shared
// batchTx, and its Commit inserts every payload and request at once
// (arrays unnested server-side) as one implicit transaction — one round
// trip and one fsync for the whole group instead of a round trip per row.
//
// If that statement is refused for its data (a duplicate id, say), Commit
// writes the rows one by one, so one bad request cannot fail its
// neighbours. Groups larger than maxStatementBytes are split into several
// statements. Each row carries its own outcome.

// maxStatementBytes bounds the payload bytes sent in one statement
// (PostgreSQL refuses messages of 1 GiB and more); a larger single request
// goes alone.
const maxStatementBytes = 16 << 20

// ingestRow is one request waiting in a group, and its outcome.
type ingestRow struct {
	r       *model.Request
	headers string
	cause   string // the stored rejection cause
	err     error
}

// size is roughly what the row adds to a statement.
func (row *ingestRow) size() int {
	d := &row.r.Data
	return len(d.Body) + len(d.Path) + len(d.Query) + len(row.headers) + 256
}

// writeRequests writes a group of collected requests (see batchTx),
// splitting it where a statement would grow past maxStatementBytes, and
// sets each row's outcome.
func (s *Store) writeRequests(ctx context.Context, rows []*ingestRow) {
	start, size := 0, 0
	for i, row := range rows {
		if i > start && size+row.size() > maxStatementBytes {
			s.commitRows(ctx, rows[start:i])
			start, size = i, 0
		}
		size += row.size()
	}
	if start < len(rows) {
		s.commitRows(ctx, rows[start:])
	}
}

// commitRows writes rows with one statement, or one by one if the server
// refuses the data of the group.
func (s *Store) commitRows(ctx context.Context, rows []*ingestRow) {
	err := s.insertRequests(ctx, rows)
	var pgErr *pgconn.PgError
	if err != nil && len(rows) > 1 && errors.As(err, &pgErr) &&
		(strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23")) {
		// Class 22 is data exception, 23 integrity constraint violation.
		for _, row := range rows {
			row.err = translate(s.insertRequests(ctx, []*ingestRow{row}), "insert request "+row.r.ID)
		}
		return
	}
	for _, row := range rows {
		row.err = translate(err, "insert request "+row.r.ID)
	}
}

// insertRequestsSQL stores payloads and requests; an accepted request
// ($11 empty) whose source has no connection is stored as $20
// (NO_CONNECTION), and every request's stored cause is returned.
const insertRequestsSQL = `WITH payload AS (
	INSERT INTO payloads (id, method, path, query, headers, body)
	SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bytea[], $5::text[], $6::bytea[])
)
INSERT INTO requests (id, team_id, source_id, verified, rejection_cause, data_id, original_ip,
	events_count, cli_events_count, ignored_count, routed_at, ingested_at, created_at, updated_at)
SELECT u.id, u.team_id, u.source_id, u.verified,
	CASE WHEN u.cause = '' AND NOT EXISTS (SELECT 1 FROM connections c
		WHERE c.team_id = u.team_id AND c.source_id = u.source_id) THEN $20 ELSE u.cause END,
	u.data_id, u.original_ip, u.events, u.cli_events, u.ignored, u.routed, u.ingested, u.created, u.updated
FROM unnest($7::text[], $8::text[], $9::text[], $10::boolean[], $11::text[], $1::text[], $12::text[],
	$13::integer[], $14::integer[], $15::integer[], $16::timestamptz[], $17::timestamptz[], $18::timestamptz[],
	$19::timestamptz[]) AS u(id, team_id, source_id, verified, cause, data_id, original_ip,
	events, cli_events, ignored, routed, ingested, created, updated)
RETURNING id, rejection_cause`

// insertRequests writes rows with one statement, atomically, and sets
// each request's stored rejection cause.
func (s *Store) insertRequests(ctx context.Context, rows []*ingestRow) error {
	n := len(rows)
	var (
		pID, method, headers             = make([]string, n), make([]string, n), make([]string, n)
		path, query, body                = make([][]byte, n), make([][]byte, n), make([][]byte, n)
		id, team, source, cause, ip      = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		verified                         = make([]*bool, n)
		events, cliEvents, ignored       = make([]int32, n), make([]int32, n), make([]int32, n)
		routed                           = make([]*time.Time, n)
		ingestedAt, createdAt, updatedAt = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	)
	for i, row := range rows {
		r := row.r
		pID[i], method[i], headers[i] = r.Data.ID, r.Data.Method, row.headers
		path[i], query[i], body[i] = []byte(r.Data.Path), []byte(r.Data.Query), r.Data.Body
		id[i], team[i], source[i], cause[i], ip[i] = r.ID, r.TeamID, r.SourceID, r.RejectionCause, r.OriginalIP
		verified[i] = r.Verified
		events[i], cliEvents[i], ignored[i] = int32(r.EventsCount), int32(r.CLIEventsCount), int32(r.IgnoredCount)
		routed[i] = r.RoutedAt
		ingestedAt[i], createdAt[i], updatedAt[i] = r.IngestedAt, r.CreatedAt, r.UpdatedAt
	}
	stored, err := s.pool.Query(ctx, insertRequestsSQL, pID, method, path, query, headers, body,
		id, team, source, verified, cause, ip, events, cliEvents, ignored, routed, ingestedAt, createdAt, updatedAt,
		model.RejectNoConnection)
	if err != nil {
		return err
	}
	causes := make(map[string]string, n)
	var rid, rcause string
	_, err = pgx.ForEachRow(stored, []any{&rid, &rcause}, func() error {
		causes[rid] = rcause
		return nil
	})
	if err != nil {
		return err
	}
	for _, row := range rows {
		row.cause = causes[row.r.ID]
	}
	return nil
}

// InsertRequest durably commits r and its payload r.Data. Concurrent calls
// share one statement and one commit (group commit); when it returns nil
// PostgreSQL has acknowledged the commit (durable on disk under the
// default synchronous_commit). Times in r are normalized in place to the
// stored precision. An accepted request whose source has no connection at
// the commit is stored as NO_CONNECTION, and r says so.
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
	row := &ingestRow{r: r, headers: headers}
	err = s.ingest.Do(ctx, func(tx *batchTx[*ingestRow]) error {
		row.err = nil
		return tx.add(row)
	})
	if err != nil {
		return translate(err, "insert request "+r.ID)
	}
	if row.err == nil {
		r.RejectionCause = row.cause
	}
	if row.err == nil && r.RejectionCause == "" {
		s.notes.poke(ChannelRequests)
	}
	return row.err
}
