// Package rules parses and validates a connection's rules array: transform,
// filter, deduplicate and delay (applied by the router, in that order, with
// filter before transform only when the array says so) and retry (applied
// by the dispatcher).
package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Rule types as they appear in a rule's "type" field.
const (
	TypeRetry       = "retry"
	TypeDelay       = "delay"
	TypeFilter      = "filter"
	TypeTransform   = "transform"
	TypeDeduplicate = "deduplicate"
)

// Set is a connection's parsed rules. Absent rules are nil.
type Set struct {
	Retry       *Retry
	Delay       *Delay
	Filter      *Filter
	Transform   *Transform
	Deduplicate *Deduplicate
	// FilterFirst is set when the filter rule comes before the transform
	// rule in the array; by default (and in Hookdeck's documented order)
	// the transformation runs first.
	FilterFirst bool
}

// ValidationError says which rule and which field of it is wrong.
type ValidationError struct {
	Index   int    // position in the rules array
	Field   string // JSON field within the rule, "" for the rule itself
	Message string
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("rules[%d]: %s", e.Index, e.Message)
	}
	return fmt.Sprintf("rules[%d].%s: %s", e.Index, e.Field, e.Message)
}

// Parse validates a rules array (nil, null or [] mean no rules) and returns
// the parsed set. Each rule type may appear at most once. Errors are
// *ValidationError values naming the rule index and field.
func Parse(raw json.RawMessage) (Set, error) {
	var set Set
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return set, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return set, &ValidationError{Index: -1, Message: "rules must be an array of rule objects"}
	}
	seen := map[string]bool{}
	for i, item := range items {
		var head struct {
			Type *string `json:"type"`
		}
		if err := json.Unmarshal(item, &head); err != nil {
			return set, &ValidationError{Index: i, Message: "a rule must be a JSON object"}
		}
		if head.Type == nil {
			return set, &ValidationError{Index: i, Field: "type", Message: "is required (retry, delay, filter, transform or deduplicate)"}
		}
		typ := *head.Type
		if seen[typ] {
			return set, &ValidationError{Index: i, Field: "type", Message: fmt.Sprintf("only one %q rule is allowed per connection", typ)}
		}
		seen[typ] = true
		var err *ValidationError
		switch typ {
		case TypeRetry:
			set.Retry, err = parseRetry(item)
		case TypeDelay:
			set.Delay, err = parseDelay(item)
		case TypeFilter:
			set.Filter, err = parseFilter(item)
			set.FilterFirst = set.Transform == nil
		case TypeTransform:
			set.Transform, err = parseTransform(item)
		case TypeDeduplicate:
			set.Deduplicate, err = parseDeduplicate(item)
		default:
			err = &ValidationError{Field: "type", Message: fmt.Sprintf("unknown rule type %q (want retry, delay, filter, transform or deduplicate)", typ)}
		}
		if err != nil {
			err.Index = i
			return set, err
		}
	}
	return set, nil
}

// decodeStrict decodes a rule object, refusing unknown fields, and reports
// the offending field.
func decodeStrict(item json.RawMessage, v any) *ValidationError {
	dec := json.NewDecoder(bytes.NewReader(item))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var field, msg string
		switch e := err.(type) {
		case *json.UnmarshalTypeError:
			field, msg = e.Field, fmt.Sprintf("must be of type %s", e.Type)
		default:
			msg = err.Error()
			const p = "json: unknown field "
			if len(msg) > len(p) && msg[:len(p)] == p {
				field, msg = msg[len(p)+1:len(msg)-1], "is not a known field of this rule"
			}
		}
		return &ValidationError{Field: field, Message: msg}
	}
	return nil
}

// Delay holds events back before their first attempt.
type Delay struct {
	Delay time.Duration
}

// MaxDelay bounds a delay rule (one day, like Hookdeck's longest schedule).
const MaxDelay = 24 * time.Hour

func parseDelay(item json.RawMessage) (*Delay, *ValidationError) {
	var r struct {
		Type  string `json:"type"`
		Delay *int64 `json:"delay"`
	}
	if err := decodeStrict(item, &r); err != nil {
		return nil, err
	}
	if r.Delay == nil {
		return nil, &ValidationError{Field: "delay", Message: "is required (milliseconds)"}
	}
	d := time.Duration(*r.Delay) * time.Millisecond
	if d < 0 || d > MaxDelay {
		return nil, &ValidationError{Field: "delay", Message: fmt.Sprintf("must be between 0 and %d milliseconds", MaxDelay.Milliseconds())}
	}
	return &Delay{Delay: d}, nil
}
