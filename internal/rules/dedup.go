package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Document is a request as rules see it: headers, decoded body, parsed
// query and path.
type Document struct {
	Headers map[string]string
	Body    any
	Query   any
	Path    string
}

func (d Document) root() map[string]any {
	h := make(map[string]any, len(d.Headers))
	for k, v := range d.Headers {
		h[k] = v
	}
	return map[string]any{"headers": h, "body": d.Body, "query": d.Query, "path": d.Path}
}

// Key digests the fields the rule selects from doc: the whole document
// without include/exclude fields, only the included fields, or everything
// but the excluded ones. Equal keys mean duplicate events.
func (d *Deduplicate) Key(doc Document) string {
	root := doc.root()
	var selected any
	switch {
	case len(d.Include) > 0:
		var picked []any
		for _, p := range d.Include {
			picked = append(picked, extract(root, p))
		}
		selected = picked
	case len(d.Exclude) > 0:
		cp := deepCopy(root).(map[string]any)
		for _, p := range d.Exclude {
			remove(cp, p)
		}
		selected = cp
	default:
		selected = root
	}
	// encoding/json sorts map keys, which makes the encoding canonical.
	b, _ := json.Marshal(selected)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// extract returns the value at path (wildcards give arrays), or nil.
func extract(v any, path []pathStep) any {
	if len(path) == 0 {
		return v
	}
	st := path[0]
	switch {
	case st.index == -1:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		return extract(m[st.key], path[1:])
	case st.index == -2:
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = extract(e, path[1:])
		}
		return out
	default:
		arr, ok := v.([]any)
		if !ok || st.index >= len(arr) {
			return nil
		}
		return extract(arr[st.index], path[1:])
	}
}

// remove deletes the value at path from v (in place).
func remove(v any, path []pathStep) {
	if len(path) == 0 {
		return
	}
	st := path[0]
	last := len(path) == 1
	switch {
	case st.index == -1:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if last {
			delete(m, st.key)
			return
		}
		remove(m[st.key], path[1:])
	case st.index == -2:
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				remove(e, path[1:])
			}
		}
	default:
		if arr, ok := v.([]any); ok && st.index < len(arr) {
			remove(arr[st.index], path[1:])
		}
	}
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
