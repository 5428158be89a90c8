package oascheck

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// ValidationError is an answer that does not match the document: one
// line per problem, each naming the JSON pointer of the offending value.
type ValidationError struct {
	Problems []string
	// Err is kin-openapi's error, with the schemas in full.
	Err error
}

// Error implements error.
func (e *ValidationError) Error() string { return strings.Join(e.Problems, "; ") }

// Unwrap returns kin-openapi's error.
func (e *ValidationError) Unwrap() error { return e.Err }

// describe flattens kin-openapi's validation error into short problems:
// the innermost schema errors, each with its JSON pointer. A oneOf that
// matched several branches is reported as such.
func describe(err error) *ValidationError {
	ve := &ValidationError{Err: err}
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			ve.Problems = append(ve.Problems, p)
		}
	}
	var walk func(error) bool
	walk = func(err error) bool {
		if se, ok := err.(*openapi3.SchemaError); ok {
			// The branches of a wide union all fail for reasons of their
			// own: report the union, not each branch.
			wide := se.Schema != nil && se.Schema.Discriminator == nil && len(se.Schema.OneOf)+len(se.Schema.AnyOf) > 3
			if se.Origin != nil && !wide && se.Origin != openapi3.ErrOneOfConflict && walk(se.Origin) {
				return true
			}
			reason := se.Reason
			if reason == "" && se.SchemaField == "not" {
				reason = "must be null here" // "not" comes only from the amendments' null-only schemas
			}
			add(fmt.Sprintf("at /%s: %s (value %s)", strings.Join(se.JSONPointer(), "/"), reason, short(se.Value)))
			return true
		}
		found := false
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				found = walk(e) || found
			}
		case interface{ Unwrap() error }:
			if e := u.Unwrap(); e != nil {
				found = walk(e)
			}
		case openapi3.MultiError:
			for _, e := range u {
				found = walk(e) || found
			}
		}
		return found
	}
	if !walk(err) {
		add(err.Error())
	}
	return ve
}

// short renders a value for a message, cut to a line.
func short(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}
