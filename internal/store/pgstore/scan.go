package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluice-gw/sluice/internal/model"
)

// querier is what pool and transactions share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// row is a single result row (pgx.Row and pgx.Rows both are).
type row interface {
	Scan(dest ...any) error
}

// one runs a query expected to return a single row and scans it.
func one[T any](ctx context.Context, q querier, scan func(row) (T, error), what, sql string, args ...any) (T, error) {
	v, err := scan(q.QueryRow(ctx, sql, args...))
	if err != nil {
		var zero T
		return zero, translate(err, what)
	}
	return v, nil
}

// many runs a query and scans every row.
func many[T any](ctx context.Context, q querier, scan func(row) (T, error), what, sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, translate(err, what)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if err != nil {
		return nil, translate(err, what)
	}
	return out, nil
}

// count runs a COUNT query.
func count(ctx context.Context, q querier, what, sql string, args ...any) (int, error) {
	var n int64
	if err := q.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return 0, translate(err, what)
	}
	return int(n), nil
}

// rawText stores a JSON document as given (nil as NULL).
func rawText(m json.RawMessage) *string {
	if m == nil {
		return nil
	}
	s := string(m)
	return &s
}

// textRaw reads what rawText stored.
func textRaw(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

// headersText encodes payload headers as JSON text (nil stays null).
func headersText(h map[string]string) (string, error) {
	b, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("encode headers: %w", err)
	}
	return string(b), nil
}

// Payload columns, for a payloads table aliased p (possibly outer-joined).
const payloadCols = `p.id, p.method, p.path, p.query, p.headers, p.body`

// payloadScan receives payloadCols; every column may be NULL when the
// payload is outer-joined and missing.
type payloadScan struct {
	id, method, headers *string
	path, query, body   []byte
}

func (ps *payloadScan) dest() []any {
	return []any{&ps.id, &ps.method, &ps.path, &ps.query, &ps.headers, &ps.body}
}

// payload decodes the scanned columns; nil when there was no payload row.
func (ps *payloadScan) payload() (*model.Payload, error) {
	if ps.id == nil {
		return nil, nil
	}
	p := &model.Payload{ID: *ps.id, Path: string(ps.path), Query: string(ps.query), Body: ps.body}
	if ps.method != nil {
		p.Method = *ps.method
	}
	if ps.headers != nil {
		if err := json.Unmarshal([]byte(*ps.headers), &p.Headers); err != nil {
			return nil, fmt.Errorf("decode headers of payload %s: %w", p.ID, err)
		}
	}
	return p, nil
}

func scanPayload(r row) (model.Payload, error) {
	var ps payloadScan
	if err := r.Scan(ps.dest()...); err != nil {
		return model.Payload{}, err
	}
	p, err := ps.payload()
	if err != nil {
		return model.Payload{}, err
	}
	return *p, nil
}
