package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sluice-gw/sluice/internal/rules/filter"
)

// Filter is a connection's filter rule, compiled.
type Filter struct {
	*filter.RuleFilter
}

func parseFilter(item json.RawMessage) (*Filter, *ValidationError) {
	var r struct {
		Type    string          `json:"type"`
		Body    json.RawMessage `json:"body"`
		Headers json.RawMessage `json:"headers"`
		Query   json.RawMessage `json:"query"`
		Path    json.RawMessage `json:"path"`
	}
	if err := decodeStrict(item, &r); err != nil {
		return nil, err
	}
	rf, err := filter.CompileRule(r.Body, r.Headers, r.Query, r.Path)
	if err != nil {
		var se *filter.SchemaError
		if errors.As(err, &se) {
			return nil, &ValidationError{Field: se.Path, Message: se.Message}
		}
		return nil, &ValidationError{Message: err.Error()}
	}
	return &Filter{rf}, nil
}

// Transform is a connection's transform rule: a reference to a stored
// transformation, or (on write, before the API stores it) an inline one.
type Transform struct {
	TransformationID string
	// Inline is set when the rule defines a new transformation; the API
	// creates it and rewrites the rule to reference its id.
	Inline *InlineTransformation
}

// InlineTransformation is a transformation defined inside a rule.
type InlineTransformation struct {
	Name string            `json:"name"`
	Code string            `json:"code"`
	Env  map[string]string `json:"env,omitempty"`
}

func parseTransform(item json.RawMessage) (*Transform, *ValidationError) {
	var r struct {
		Type             string                `json:"type"`
		TransformationID *string               `json:"transformation_id"`
		Transformation   *InlineTransformation `json:"transformation"`
	}
	if err := decodeStrict(item, &r); err != nil {
		return nil, err
	}
	t := &Transform{}
	switch {
	case r.TransformationID != nil && *r.TransformationID != "":
		t.TransformationID = *r.TransformationID
	case r.Transformation != nil:
		if r.Transformation.Name == "" {
			return nil, &ValidationError{Field: "transformation.name", Message: "is required"}
		}
		if r.Transformation.Code == "" {
			return nil, &ValidationError{Field: "transformation.code", Message: "is required"}
		}
		t.Inline = r.Transformation
	default:
		return nil, &ValidationError{Field: "transformation_id", Message: "is required (or define one inline under transformation)"}
	}
	return t, nil
}

// Deduplicate window bounds (Hookdeck's).
const (
	MinDedupWindow = time.Second
	MaxDedupWindow = time.Hour
)

// Deduplicate drops events whose selected content was already seen on the
// connection within the window.
type Deduplicate struct {
	Window  time.Duration
	Include [][]pathStep
	Exclude [][]pathStep
}

func parseDeduplicate(item json.RawMessage) (*Deduplicate, *ValidationError) {
	var r struct {
		Type    string   `json:"type"`
		Window  *int64   `json:"window"`
		Include []string `json:"include_fields"`
		Exclude []string `json:"exclude_fields"`
	}
	if err := decodeStrict(item, &r); err != nil {
		return nil, err
	}
	if r.Window == nil {
		return nil, &ValidationError{Field: "window", Message: "is required (milliseconds, 1000 to 3600000)"}
	}
	w := time.Duration(*r.Window) * time.Millisecond
	if w < MinDedupWindow || w > MaxDedupWindow {
		return nil, &ValidationError{Field: "window", Message: "must be between 1000 and 3600000 milliseconds"}
	}
	if len(r.Include) > 0 && len(r.Exclude) > 0 {
		return nil, &ValidationError{Field: "exclude_fields", Message: "cannot be combined with include_fields"}
	}
	d := &Deduplicate{Window: w}
	for i, p := range r.Include {
		steps, err := parseFieldPath(p)
		if err != nil {
			return nil, &ValidationError{Field: fmt.Sprintf("include_fields[%d]", i), Message: err.Error()}
		}
		d.Include = append(d.Include, steps)
	}
	for i, p := range r.Exclude {
		steps, err := parseFieldPath(p)
		if err != nil {
			return nil, &ValidationError{Field: fmt.Sprintf("exclude_fields[%d]", i), Message: err.Error()}
		}
		d.Exclude = append(d.Exclude, steps)
	}
	return d, nil
}

// pathStep is one step of a field path: a key, an index, or [*].
type pathStep struct {
	key   string
	index int // -1 for a key step, -2 for [*]
}

var pathToken = regexp.MustCompile(`^([A-Za-z0-9_\-$]+)((?:\[(?:\*|\d+)\])*)$`)

// parseFieldPath parses "body.items[*].sku": a root (headers, body, query
// or path) then dot-separated keys, each optionally followed by [n] or
// [*]; array notation must be followed by a property.
func parseFieldPath(p string) ([]pathStep, error) {
	if p == "" {
		return nil, errors.New("is empty")
	}
	parts := strings.Split(p, ".")
	switch parts[0] {
	case "headers", "body", "query", "path":
	default:
		return nil, fmt.Errorf("%q must start with headers, body, query or path", p)
	}
	var steps []pathStep
	for i, part := range parts {
		m := pathToken.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("%q: segment %q is not a property name with optional [n] or [*]", p, part)
		}
		steps = append(steps, pathStep{key: m[1], index: -1})
		for _, br := range regexp.MustCompile(`\[(\*|\d+)\]`).FindAllStringSubmatch(m[2], -1) {
			if i == len(parts)-1 {
				return nil, fmt.Errorf("%q: array notation must be followed by a property", p)
			}
			if br[1] == "*" {
				steps = append(steps, pathStep{index: -2})
			} else {
				var n int
				fmt.Sscanf(br[1], "%d", &n)
				steps = append(steps, pathStep{index: n})
			}
		}
	}
	return steps, nil
}
