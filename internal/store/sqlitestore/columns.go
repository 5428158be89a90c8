package sqlitestore

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sluice-gw/sluice/internal/store"
)

// Times are stored as INTEGER unix microseconds and read back in UTC.

func micros(t time.Time) int64 { return t.UnixMicro() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// timeCol scans a NOT NULL time column.
type timeCol struct{ p *time.Time }

func (c timeCol) Scan(v any) error {
	x, ok := v.(int64)
	if !ok {
		return fmt.Errorf("time column holds %T", v)
	}
	*c.p = fromMicros(x)
	return nil
}

// nullTimeCol scans a nullable time column.
type nullTimeCol struct{ p **time.Time }

func (c nullTimeCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.p = nil
	case int64:
		t := fromMicros(x)
		*c.p = &t
	default:
		return fmt.Errorf("time column holds %T", v)
	}
	return nil
}

// nullIntCol scans a nullable integer column.
type nullIntCol struct{ p **int }

func (c nullIntCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.p = nil
	case int64:
		n := int(x)
		*c.p = &n
	default:
		return fmt.Errorf("integer column holds %T", v)
	}
	return nil
}

// nullBoolCol scans a nullable boolean (0/1) column.
type nullBoolCol struct{ p **bool }

func (c nullBoolCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.p = nil
	case int64:
		b := x != 0
		*c.p = &b
	default:
		return fmt.Errorf("boolean column holds %T", v)
	}
	return nil
}

// nullStringCol scans a nullable text column.
type nullStringCol struct{ p **string }

func (c nullStringCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.p = nil
	case string:
		*c.p = &x
	case []byte:
		s := string(x)
		*c.p = &s
	default:
		return fmt.Errorf("text column holds %T", v)
	}
	return nil
}

// jsonCol scans a JSON text column into v (a pointer).
type jsonCol struct{ v any }

func (c jsonCol) Scan(src any) error {
	var b []byte
	switch x := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		return fmt.Errorf("JSON column holds %T", src)
	}
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, c.v)
}

// rawCol scans a nullable JSON text column as raw JSON.
type rawCol struct{ p *json.RawMessage }

func (c rawCol) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		*c.p = nil
	case string:
		*c.p = json.RawMessage(x)
	case []byte:
		*c.p = append(json.RawMessage(nil), x...)
	default:
		return fmt.Errorf("JSON column holds %T", src)
	}
	return nil
}

// nullRaw is the value stored for raw JSON: NULL when empty.
func nullRaw(m json.RawMessage) any {
	if len(m) == 0 {
		return nil
	}
	return string(m)
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode JSON: %w", err)
	}
	return string(b), nil
}

// query builds a WHERE clause from filters.
type query struct {
	conds []string
	args  []any
}

func (q *query) add(cond string, args ...any) {
	q.conds = append(q.conds, cond)
	q.args = append(q.args, args...)
}

// in adds "col IN (…)" unless vals is empty. The values are listed as
// parameters (not inJSON): with one value SQLite then plans an equality,
// which can walk an index in the listing's order instead of sorting.
func in[T any](q *query, col string, vals []T) {
	if len(vals) == 0 {
		return
	}
	q.conds = append(q.conds, col+" IN ("+marks(len(vals))+")")
	for _, v := range vals {
		q.args = append(q.args, v)
	}
}

// inJSON is the right-hand side of an IN over a JSON array parameter (see
// jsonList): one SQL text for any number of values, so the statement is
// prepared once, and each value is still an index lookup; for lookups by
// key, where the order does not matter.
const inJSON = `(SELECT value FROM json_each(?))`

// jsonList encodes vals as a JSON array for inJSON.
func jsonList[T any](vals []T) string {
	b, err := json.Marshal(vals)
	if err != nil {
		panic(fmt.Sprintf("sqlitestore: encode %T as JSON: %v", vals, err)) // strings and numbers always encode
	}
	return string(b)
}

// eq adds "col = v" unless v is empty.
func (q *query) eq(col, v string) {
	if v != "" {
		q.add(col+" = ?", v)
	}
}

// isSet adds "col IS [NOT] NULL" when b is set.
func (q *query) isSet(col string, b *bool) {
	switch {
	case b == nil:
	case *b:
		q.add(col + " IS NOT NULL")
	default:
		q.add(col + " IS NULL")
	}
}

func (q *query) timeRange(col string, r store.TimeRange) {
	for _, b := range []struct {
		op string
		t  *time.Time
	}{{">", r.GT}, {">=", r.GTE}, {"<", r.LT}, {"<=", r.LTE}} {
		if b.t != nil {
			q.add(col+" "+b.op+" ?", micros(*b.t))
		}
	}
}

func (q *query) intRange(col string, r store.IntRange) {
	for _, b := range []struct {
		op string
		n  *int
	}{{">", r.GT}, {">=", r.GTE}, {"<", r.LT}, {"<=", r.LTE}, {"=", r.EQ}} {
		if b.n != nil {
			q.add(col+" "+b.op+" ?", *b.n)
		}
	}
}

// where returns the WHERE clause, or "" when nothing filters.
func (q *query) where() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}

// list returns "SELECT cols FROM table WHERE … ORDER BY id … LIMIT n" for
// one page, and its arguments.
func (q *query) list(cols, table string, p store.Page) (string, []any) {
	dir, op := "DESC", "<"
	if p.Asc {
		dir, op = "ASC", ">"
	}
	if p.After != "" {
		q.add("id "+op+" ?", p.After)
	}
	limit := p.Limit
	if limit <= 0 {
		limit = store.DefaultPageLimit
	}
	return "SELECT " + cols + " FROM " + table + q.where() + " ORDER BY id " + dir + " LIMIT ?", append(q.args, limit)
}

// count returns "SELECT count(*) FROM table WHERE …" and its arguments.
func (q *query) count(table string) (string, []any) {
	return "SELECT count(*) FROM " + table + q.where(), q.args
}

// nowUTC is the current time as the store keeps it.
func nowUTC() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
