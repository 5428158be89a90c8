package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// Decode parses raw as JSON into the representation Match expects: objects
// are map[string]any, arrays []any, strings string, booleans bool, null nil
// and numbers float64 — exactly the IEEE-754 doubles JavaScript (and so
// Hookdeck) would see, with out-of-range literals becoming ±Inf. Bytes that
// are not a single JSON value (including an empty body) become the string
// value string(raw), so a filter can still match non-JSON payloads by plain
// string comparison.
func Decode(raw []byte) any {
	v, err := decodeJSON(raw)
	if err != nil {
		return string(raw)
	}
	return v
}

// decodeJSON parses one JSON value with numbers as float64.
func decodeJSON(raw []byte) (any, error) {
	var v any
	err := json.Unmarshal(raw, &v)
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		return v, err
	}
	// A number literal out of float64 range: decode again keeping the
	// literals, and convert them the way JavaScript does (±Inf, or 0).
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v = nil
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return numbersToFloat(v), nil
}

// numbersToFloat replaces every json.Number in v by its float64 value.
func numbersToFloat(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64) // range errors yield ±Inf or 0, as in JavaScript
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbersToFloat(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbersToFloat(e)
		}
	}
	return v
}
