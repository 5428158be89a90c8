package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-gw/sluice/internal/store"
)

// query is a list request's parsed query string. Hookdeck clients send
// arrays in three forms (k=a&k=b, k[0]=a&k[1]=b, k=a,b) and operators in
// two (k[gte]=x and k={"gte":x}); query folds them into one view per name.
type query map[string]*param

// param is everything given for one query name.
type param struct {
	// values are the plain values in order (indexed forms sorted by index).
	values []string
	// ops are operator values: created_at[gte]=… or attempts={"gte":2}.
	ops map[string]string
}

// parseQuery folds url.Values into a query. It fails on a JSON value that
// does not parse.
func parseQuery(vals url.Values) (query, error) {
	q := query{}
	get := func(name string) *param {
		p := q[name]
		if p == nil {
			p = &param{ops: map[string]string{}}
			q[name] = p
		}
		return p
	}
	type indexed struct {
		i int
		v string
	}
	idx := map[string][]indexed{}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := vals[k]
		base, inner, bracketed := splitBracket(k)
		if !bracketed {
			p := get(k)
			for _, v := range vs {
				if err := p.addPlain(k, v); err != nil {
					return nil, err
				}
			}
			continue
		}
		if inner == "" {
			p := get(base)
			p.values = append(p.values, vs...)
			continue
		}
		if n, err := strconv.Atoi(inner); err == nil {
			for _, v := range vs {
				idx[base] = append(idx[base], indexed{n, v})
			}
			continue
		}
		get(base).ops[inner] = vs[len(vs)-1]
	}
	for base, items := range idx {
		sort.SliceStable(items, func(a, b int) bool { return items[a].i < items[b].i })
		p := get(base)
		for _, it := range items {
			p.values = append(p.values, it.v)
		}
	}
	return q, nil
}

// splitBracket splits "created_at[gte]" into "created_at", "gte".
func splitBracket(k string) (base, inner string, ok bool) {
	i := strings.IndexByte(k, '[')
	if i <= 0 || !strings.HasSuffix(k, "]") {
		return k, "", false
	}
	return k[:i], k[i+1 : len(k)-1], true
}

// addPlain adds one plain value: a JSON object holds operators, a JSON
// array holds values, anything else is kept as given.
func (p *param) addPlain(name, v string) error {
	t := strings.TrimSpace(v)
	switch {
	case strings.HasPrefix(t, "{"):
		var ops map[string]any
		if err := json.Unmarshal([]byte(t), &ops); err != nil {
			return badRequest(name, "is not a valid JSON operator object: "+err.Error())
		}
		for k, o := range ops {
			p.ops[k] = scalarString(o)
		}
	case strings.HasPrefix(t, "["):
		var items []any
		if err := json.Unmarshal([]byte(t), &items); err != nil {
			return badRequest(name, "is not a valid JSON array: "+err.Error())
		}
		for _, it := range items {
			p.values = append(p.values, scalarString(it))
		}
	default:
		p.values = append(p.values, v)
	}
	return nil
}

// scalarString renders a decoded JSON scalar as query text.
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// str returns the first plain value of name, or "".
func (q query) str(name string) string {
	if p := q[name]; p != nil && len(p.values) > 0 {
		return p.values[0]
	}
	return ""
}

// list returns the values of name, comma-separated values split, empty
// items dropped.
func (q query) list(name string) []string {
	p := q[name]
	if p == nil {
		return nil
	}
	var out []string
	for _, v := range p.values {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// includes reports whether include names what (include=data,
// include[]=config.auth …).
func (q query) includes(what string) bool {
	for _, v := range q.list("include") {
		if v == what {
			return true
		}
	}
	return false
}

// boolean parses name as true/false; absent gives nil.
func (q query) boolean(name string) (*bool, error) {
	v := q.str(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, badRequest(name, fmt.Sprintf("must be true or false, not %q", v))
	}
	return &b, nil
}

// ints parses the values of name as integers.
func (q query) ints(name string) ([]int, error) {
	var out []int
	for _, v := range q.list(name) {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, badRequest(name, fmt.Sprintf("must be an integer, not %q", v))
		}
		out = append(out, n)
	}
	return out, nil
}

// opNames maps Hookdeck's operator names to range bounds. Hookdeck's spec
// spells "less than" as "le"; "lt" is accepted too.
var opNames = map[string]string{"gt": "gt", "gte": "gte", "le": "lt", "lt": "lt", "lte": "lte", "eq": "eq"}

// ignoredOps are operators accepted and ignored (they select presence).
var ignoredOps = map[string]bool{"any": true, "all": true, "contains": true}

// intRange parses name as an integer or an operator object.
func (q query) intRange(name string) (store.IntRange, error) {
	var r store.IntRange
	p := q[name]
	if p == nil {
		return r, nil
	}
	parse := func(field, v string) (*int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return nil, badRequest(field, fmt.Sprintf("must be an integer, not %q", v))
		}
		return &n, nil
	}
	if v := q.str(name); v != "" {
		n, err := parse(name, v)
		if err != nil {
			return r, err
		}
		r.EQ = n
	}
	for op, v := range p.ops {
		field := name + "[" + op + "]"
		if ignoredOps[op] {
			continue
		}
		bound, ok := opNames[op]
		if !ok {
			return r, badRequest(field, "unknown operator (want gt, gte, le, lte or eq)")
		}
		n, err := parse(field, v)
		if err != nil {
			return r, err
		}
		switch bound {
		case "gt":
			r.GT = n
		case "gte":
			r.GTE = n
		case "lt":
			r.LT = n
		case "lte":
			r.LTE = n
		case "eq":
			r.EQ = n
		}
	}
	return r, nil
}

// timeRange parses name as a time (an exact match) or an operator object.
func (q query) timeRange(name string) (store.TimeRange, error) {
	var r store.TimeRange
	p := q[name]
	if p == nil {
		return r, nil
	}
	if v := q.str(name); v != "" {
		t, err := parseTime(name, v)
		if err != nil {
			return r, err
		}
		r.GTE, r.LTE = t, t
	}
	for op, v := range p.ops {
		field := name + "[" + op + "]"
		if ignoredOps[op] {
			continue
		}
		bound, ok := opNames[op]
		if !ok || bound == "eq" {
			return r, badRequest(field, "unknown operator (want gt, gte, le or lte)")
		}
		t, err := parseTime(field, v)
		if err != nil {
			return r, err
		}
		switch bound {
		case "gt":
			r.GT = t
		case "gte":
			r.GTE = t
		case "lt":
			r.LT = t
		case "lte":
			r.LTE = t
		}
	}
	return r, nil
}

// parseTime accepts RFC 3339 (with or without fractions) or a bare date.
func parseTime(field, v string) (*time.Time, error) {
	// A '+' of a zone offset arrives as a space when the client did not
	// escape it.
	v = strings.ReplaceAll(strings.TrimSpace(v), " ", "+")
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return &t, nil
		}
	}
	return nil, badRequest(field, fmt.Sprintf("must be an RFC 3339 time or a date (2006-01-02), not %q", v))
}
