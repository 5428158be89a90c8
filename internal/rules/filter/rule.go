package filter

import (
	"encoding/json"
	"errors"
)

// Parts of a request a filter rule can test, as named in FILTERED meta.
const (
	PartBody    = "body"
	PartHeaders = "headers"
	PartQuery   = "query"
	PartPath    = "path"
)

// Input is the request data a connection filter rule is evaluated against.
type Input struct {
	Body    any               // decoded body (see Decode); non-JSON bodies are strings
	Headers map[string]string // header names in lower case
	Query   any               // parsed query object; nil is treated as {}
	Path    string
}

// RuleFilter is a compiled connection filter rule: one optional schema per
// request part. It is immutable and safe for concurrent use.
type RuleFilter struct {
	body, headers, query, path *Filter
}

// CompileRule compiles a filter rule's body, headers, query and path
// schemas. A part that is nil, empty or JSON null is absent and always
// matches. Header schemas match header names case-insensitively. Errors are
// *SchemaError values whose Path starts with the part ("body.data.$gte").
func CompileRule(body, headers, query, path json.RawMessage) (*RuleFilter, error) {
	r := &RuleFilter{}
	parts := []struct {
		name string
		raw  json.RawMessage
		dst  **Filter
	}{
		{PartBody, body, &r.body},
		{PartHeaders, headers, &r.headers},
		{PartQuery, query, &r.query},
		{PartPath, path, &r.path},
	}
	for _, p := range parts {
		raw := trimJSONSpace(p.raw)
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		f, err := compileSchema(raw, p.name == PartHeaders)
		if err != nil {
			var se *SchemaError
			if errors.As(err, &se) {
				return nil, &SchemaError{Path: partPath(p.name, se.Path), Message: se.Message}
			}
			return nil, err
		}
		*p.dst = f
	}
	return r, nil
}

func partPath(part, path string) string {
	switch {
	case path == "":
		return part
	case path[0] == '[':
		return part + path
	}
	return part + "." + path
}

// emptyQuery stands in for a missing query object.
var emptyQuery = map[string]any{}

// Match evaluates every present part (all must match) and returns the parts
// that did not match, in the order body, headers, query, path. A nil
// RuleFilter matches everything.
func (r *RuleFilter) Match(in Input) (ok bool, failed []string) {
	if r == nil {
		return true, nil
	}
	if r.body != nil && !r.body.Match(in.Body) {
		failed = append(failed, PartBody)
	}
	if r.headers != nil {
		if !r.headers.Match(in.Headers) { // a nil map reads as {}
			failed = append(failed, PartHeaders)
		}
	}
	if r.query != nil {
		q := in.Query
		if q == nil {
			q = emptyQuery
		}
		if !r.query.Match(q) {
			failed = append(failed, PartQuery)
		}
	}
	if r.path != nil && !r.path.Match(in.Path) {
		failed = append(failed, PartPath)
	}
	return len(failed) == 0, failed
}
