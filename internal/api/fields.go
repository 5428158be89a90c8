package api

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// opt is a body field that remembers whether it was given and whether it
// was null, so that updates change only what the client sent.
type opt[T any] struct {
	Set  bool // the field was present
	Null bool // the field was null
	V    T
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// has reports whether the field was given with a non-null value.
func (o opt[T]) has() bool { return o.Set && !o.Null }

// Field limits, as in Hookdeck.
const (
	maxNameLen        = 155
	maxDescriptionLen = 500
	maxCustomBodyLen  = 1000
)

// namePattern is Hookdeck's name pattern. The A-z range is Hookdeck's own
// (it also admits [ \ ] ^ _ and `).
var namePattern = regexp.MustCompile(`^[A-z0-9-_]+$`)

// checkName validates a resource name given as field.
func checkName(field, name string) error {
	switch {
	case name == "":
		return invalid(field, "is required")
	case len(name) > maxNameLen:
		return invalid(field, fmt.Sprintf("must be at most %d characters", maxNameLen))
	case !namePattern.MatchString(name):
		return invalid(field, fmt.Sprintf("must match %s (letters, digits, - and _), not %q", namePattern, name))
	}
	return nil
}

// applyDescription applies an optional description field.
func applyDescription(field string, o opt[string], dst **string) error {
	if !o.Set {
		return nil
	}
	if o.Null {
		*dst = nil
		return nil
	}
	if len(o.V) > maxDescriptionLen {
		return invalid(field, fmt.Sprintf("must be at most %d characters", maxDescriptionLen))
	}
	v := o.V
	*dst = &v
	return nil
}

// httpMethods are the methods sources accept and destinations may force.
var httpMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

// checkMethod normalizes and validates one HTTP method.
func checkMethod(field, m string) (string, error) {
	u := strings.ToUpper(strings.TrimSpace(m))
	if !httpMethods[u] {
		return "", invalid(field, fmt.Sprintf("must be one of GET, POST, PUT, PATCH, DELETE, not %q", m))
	}
	return u, nil
}

// join prefixes a field name with its parent ("source" + "name").
func join(parent, field string) string {
	if parent == "" {
		return field
	}
	return parent + "." + field
}
