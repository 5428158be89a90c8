package pgstore

import (
	"strconv"
	"strings"
	"time"

	"github.com/sluice-gw/sluice/internal/store"
)

// query builds a WHERE clause and its positional arguments.
type query struct {
	conds []string
	args  []any
}

// arg adds a bound argument and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// cond adds a raw condition.
func (q *query) cond(c string) { q.conds = append(q.conds, c) }

// eq filters col = v unless v is empty.
func (q *query) eq(col, v string) {
	if v != "" {
		q.cond(col + " = " + q.arg(v))
	}
}

// in filters col to one of vs unless vs is empty. A single value is
// compared with = so that an index on (col, id) also gives the order.
func (q *query) in(col string, vs []string) {
	switch len(vs) {
	case 0:
	case 1:
		q.cond(col + " = " + q.arg(vs[0]))
	default:
		q.cond(col + " = ANY(" + q.arg(vs) + ")")
	}
}

// inInts filters col to one of vs unless vs is empty.
func (q *query) inInts(col string, vs []int) {
	if len(vs) > 0 {
		q.cond(col + " = ANY(" + q.arg(vs) + ")")
	}
}

// set filters on whether col is set (NOT NULL) when b is given.
func (q *query) set(col string, b *bool) {
	switch {
	case b == nil:
	case *b:
		q.cond(col + " IS NOT NULL")
	default:
		q.cond(col + " IS NULL")
	}
}

// timeRange bounds col by r.
func (q *query) timeRange(col string, r store.TimeRange) {
	bound := func(op string, t *time.Time) {
		if t != nil {
			q.cond(col + " " + op + " " + q.arg(ts(*t)))
		}
	}
	bound(">", r.GT)
	bound(">=", r.GTE)
	bound("<", r.LT)
	bound("<=", r.LTE)
}

// intRange bounds col by r.
func (q *query) intRange(col string, r store.IntRange) {
	bound := func(op string, v *int) {
		if v != nil {
			q.cond(col + " " + op + " " + q.arg(*v))
		}
	}
	bound(">", r.GT)
	bound(">=", r.GTE)
	bound("<", r.LT)
	bound("<=", r.LTE)
	bound("=", r.EQ)
}

// page adds p's cursor condition on the id column and returns the ORDER BY
// and LIMIT clauses. Call it after every other condition.
func (q *query) page(idCol string, p store.Page) string {
	dir, op := " DESC", " < "
	if p.Asc {
		dir, op = " ASC", " > "
	}
	if p.After != "" {
		q.cond(idCol + op + q.arg(p.After))
	}
	limit := p.Limit
	if limit <= 0 {
		limit = store.DefaultPageLimit
	}
	return " ORDER BY " + idCol + dir + " LIMIT " + strconv.Itoa(limit)
}

// where returns the WHERE clause, or "" without conditions.
func (q *query) where() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}

// ts normalizes a time to what the database keeps: UTC, microseconds.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// tsp returns a normalized copy of an optional time (never aliasing the
// caller's variable).
func tsp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := ts(*t)
	return &n
}
