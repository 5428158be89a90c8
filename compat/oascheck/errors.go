package oascheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
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

// describe flattens kin-openapi's validation error into short problems.
func describe(err error) *ValidationError {
	ve := &ValidationError{Err: err}
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		var me openapi3.MultiError
		var se *openapi3.SchemaError
		var re *openapi3filter.ResponseError
		switch {
		case errors.As(err, &me):
			for _, e := range me {
				walk(e)
			}
			return
		case errors.As(err, &se):
			if se.Origin != nil {
				var inner openapi3.MultiError
				var innerSE *openapi3.SchemaError
				if errors.As(se.Origin, &inner) || errors.As(se.Origin, &innerSE) {
					walk(se.Origin)
					return
				}
			}
			p := fmt.Sprintf("at /%s: %s (value %s)", strings.Join(se.JSONPointer(), "/"), se.Reason, short(se.Value))
			if !seen[p] {
				seen[p] = true
				ve.Problems = append(ve.Problems, p)
			}
			return
		case errors.As(err, &re) && re.Err != nil:
			walk(re.Err)
			return
		}
		ve.Problems = append(ve.Problems, err.Error())
	}
	walk(err)
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
