package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// writeJSON writes v as the JSON answer with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decodeBody decodes the JSON request body into v. An empty body (or only
// whitespace) leaves v untouched, so that action routes accept an empty
// body as well as {}. Malformed JSON is a 400 giving the byte offset;
// a value of the wrong type is a 422 naming the field.
func decodeBody(r *http.Request, v any) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return mbe
		}
		return badRequest("body", "could not read the request body: "+err.Error())
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	return decodeJSON(raw, v)
}

// decodeJSON decodes raw into v with the API's error reporting.
func decodeJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		return jsonError(raw, err)
	}
	if dec.More() {
		off := dec.InputOffset()
		return bodyError(raw, off, "unexpected data after the JSON value")
	}
	return nil
}

// jsonError describes a decode error with its position.
func jsonError(raw []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return bodyError(raw, se.Offset, "malformed JSON: "+se.Error())
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return invalid(field, fmt.Sprintf("must be %s, not %s", jsonTypeName(te.Type.Kind().String()), te.Value))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return bodyError(raw, int64(len(raw)), "malformed JSON: unexpected end of input")
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return badRequest("body", "malformed JSON: "+err.Error())
}

// bodyError is a 400 locating a problem in the body by byte offset, line
// and column.
func bodyError(raw []byte, off int64, msg string) error {
	line, col := 1, 1
	for i := int64(0); i < off && i < int64(len(raw)); i++ {
		if raw[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	e := badRequest("body", fmt.Sprintf("%s (line %d, column %d, byte offset %d)", msg, line, col, off))
	e.Data["offset"], e.Data["line"], e.Data["column"] = off, line, col
	return e
}

// jsonTypeName names a Go kind the way a JSON user would.
func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "float64", "float32", "int", "int64", "int32", "uint", "uint64":
		return "a number"
	}
	return "a " + kind
}

// timeLayout renders times: RFC 3339 in UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// ts renders a time.
func ts(t time.Time) string { return t.UTC().Format(timeLayout) }

// tsp renders an optional time as a string or null.
func tsp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ts(*t)
	return &s
}

// nullable returns nil for "" so that it renders as null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
