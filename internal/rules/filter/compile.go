package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// SchemaError reports an invalid filter schema. Path locates the offending
// value inside the schema in a JSONPath-like notation ("data.amount.$gte",
// "$or[1].type"); it is empty for the schema as a whole.
type SchemaError struct {
	Path    string
	Message string
}

// Error implements error: "at <path>: <message>".
func (e *SchemaError) Error() string {
	p := e.Path
	if p == "" {
		p = "(root)"
	}
	return "at " + p + ": " + e.Message
}

// Filter is a compiled filter schema. It is immutable and safe for
// concurrent use.
type Filter struct {
	root      *node
	usesIndex bool // some $ref contains [$index]: track array iteration indexes
}

type nodeKind uint8

const (
	nPrim   nodeKind = iota // primitive: equality, or "contains" on arrays
	nArray                  // array: every schema element is found in the input array
	nObject                 // object: fields and operators, all of which must hold
)

// node is one compiled schema value.
type node struct {
	kind  nodeKind
	prim  any     // nPrim: nil, bool, float64 or string
	elems []*node // nArray

	// nObject. ops and not apply to the value as a whole (an array too);
	// the "element part" (fields, $or, $and, $ref, or an empty object's
	// demand for an object) applies to the value, or to any element of it
	// when the value is an array.
	ops      []opNode
	not      *node
	or       []*node
	hasOr    bool
	and      []*node
	ref      *refPath
	fields   []field
	isObject bool // the element part needs an object (fields present, or the schema is {})
	hasElem  bool
}

type field struct {
	key string
	sub *node
}

type opNode struct {
	code opCode
	arg  any      // literal operand
	ref  *refPath // operand given as {"$ref": "path"}
}

// Compile validates a filter schema once and returns the compiled filter.
// Errors are *SchemaError values naming the place in the schema.
func Compile(schema json.RawMessage) (*Filter, error) {
	return compileSchema(schema, false)
}

func compileSchema(schema json.RawMessage, foldKeys bool) (*Filter, error) {
	raw := trimJSONSpace(schema)
	if len(raw) == 0 {
		return nil, &SchemaError{Message: "empty schema"}
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, &SchemaError{Message: "invalid JSON: " + err.Error()}
	}
	c := compiler{foldKeys: foldKeys}
	root, err := c.compile(v, "", foldKeys)
	if err != nil {
		return nil, err
	}
	return &Filter{root: root, usesIndex: c.usesIndex}, nil
}

// trimJSONSpace strips the white space JSON allows around a value.
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

// compiler holds the options of one compilation.
type compiler struct {
	foldKeys  bool // header filters: field names at the top level are lower-cased
	usesIndex bool // a $ref path contains [$index]
}

func (c *compiler) compile(v any, path string, fold bool) (*node, error) {
	switch x := v.(type) {
	case nil, bool, float64, string:
		return &node{kind: nPrim, prim: x}, nil
	case []any:
		n := &node{kind: nArray, elems: make([]*node, len(x))}
		for i, e := range x {
			sub, err := c.compile(e, indexPath(path, i), false)
			if err != nil {
				return nil, err
			}
			n.elems[i] = sub
		}
		return n, nil
	case map[string]any:
		return c.compileObject(x, path, fold)
	}
	return nil, &SchemaError{Path: path, Message: fmt.Sprintf("unsupported value %T", v)}
}

func (c *compiler) compileObject(m map[string]any, path string, fold bool) (*node, error) {
	n := &node{kind: nObject}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val, p := m[k], keyPath(path, k)
		if !strings.HasPrefix(k, "$") {
			name := k
			if fold {
				name = strings.ToLower(k)
			}
			sub, err := c.compile(val, p, false)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{key: name, sub: sub})
			continue
		}
		var err error
		switch k {
		case "$or", "$and":
			var list []*node
			list, err = c.compileList(val, p, fold)
			if k == "$or" {
				n.or, n.hasOr = list, true
			} else {
				n.and = list
			}
		case "$not":
			n.not, err = c.compile(val, p, fold)
		case "$ref":
			n.ref, err = c.compileRef(val, p)
		default:
			code, known := opNames[k]
			if !known {
				return nil, &SchemaError{Path: p, Message: "unknown operator " + strconv.Quote(k)}
			}
			var op opNode
			op, err = c.compileOp(code, k, val, p)
			n.ops = append(n.ops, op)
		}
		if err != nil {
			return nil, err
		}
	}
	n.isObject = len(n.fields) > 0 || len(m) == 0
	n.hasElem = n.isObject || n.hasOr || n.and != nil || n.ref != nil
	return n, nil
}

func (c *compiler) compileList(v any, path string, fold bool) ([]*node, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, &SchemaError{Path: path, Message: "must be an array of schemas"}
	}
	list := make([]*node, len(arr))
	for i, e := range arr {
		sub, err := c.compile(e, indexPath(path, i), fold)
		if err != nil {
			return nil, err
		}
		list[i] = sub
	}
	return list, nil
}

func (c *compiler) compileRef(v any, path string) (*refPath, error) {
	s, ok := v.(string)
	if !ok {
		return nil, &SchemaError{Path: path, Message: "$ref must be a string path"}
	}
	r, err := parseRef(s, c.foldKeys)
	if err != nil {
		return nil, &SchemaError{Path: path, Message: "malformed $ref path " + strconv.Quote(s) + ": " + err.Error()}
	}
	for _, seg := range r.segs {
		c.usesIndex = c.usesIndex || seg.kind == segDyn
	}
	return r, nil
}

// compileOp checks an operator's operand. An operand may always be a
// reference {"$ref": "path"} (except for $exist); its type is then checked
// when the filter runs.
func (c *compiler) compileOp(code opCode, name string, v any, path string) (opNode, error) {
	op := opNode{code: code, arg: v}
	if m, ok := v.(map[string]any); ok {
		if r, has := m["$ref"]; has && code != opExist {
			if len(m) != 1 {
				return op, &SchemaError{Path: path, Message: "a {\"$ref\": ...} operand must have no other keys"}
			}
			ref, err := c.compileRef(r, keyPath(path, "$ref"))
			op.ref, op.arg = ref, nil
			return op, err
		}
	}
	bad := func(want string) (opNode, error) {
		return op, &SchemaError{Path: path, Message: fmt.Sprintf("%s needs %s, got %s", name, want, jsonType(v))}
	}
	switch code {
	case opGt, opGte, opLt, opLte:
		if k := kindOf(v); k != kNum && k != kStr {
			return bad("a number or a string")
		}
	case opIn, opNin:
		switch kindOf(v) {
		case kStr, kNum:
		case kArr:
			for i, e := range v.([]any) {
				if k := kindOf(e); k != kNum && k != kStr {
					return op, &SchemaError{Path: indexPath(path, i), Message: fmt.Sprintf("%s array elements must be strings or numbers, got %s", name, jsonType(e))}
				}
			}
		default:
			return bad("an array or a string")
		}
	case opStartsWith, opEndsWith:
		switch kindOf(v) {
		case kStr:
		case kArr:
			for i, e := range v.([]any) {
				if _, ok := e.(string); !ok {
					return op, &SchemaError{Path: indexPath(path, i), Message: fmt.Sprintf("%s array elements must be strings, got %s", name, jsonType(e))}
				}
			}
		default:
			return bad("a string or an array of strings")
		}
	case opExist:
		if _, ok := v.(bool); !ok {
			return bad("a boolean")
		}
	}
	return op, nil
}

// jsonType names the JSON type of a decoded value for error messages.
func jsonType(v any) string {
	switch kindOf(v) {
	case kNull:
		return "null"
	case kBool:
		return "a boolean"
	case kNum:
		return "a number"
	case kStr:
		return "a string"
	case kArr:
		return "an array"
	case kObj:
		return "an object"
	}
	return "an unsupported value"
}

func keyPath(parent, key string) string {
	if key == "" || strings.ContainsAny(key, ".[]'\" \t\r\n") {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}
