package filter

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name, schema, path, msg string
	}{
		{"empty", ``, "", "empty schema"},
		{"invalid JSON", `{"a":`, "", "invalid JSON"},
		{"trailing data", `{"a":1} x`, "", "invalid JSON"},
		{"unknown operator", `{"data":{"amount":{"$foo":1}}}`, "data.amount.$foo", `unknown operator "$foo"`},
		{"unknown top operator", `{"$index":1}`, "$index", "unknown operator"},
		{"$gte type", `{"data":{"amount":{"$gte":true}}}`, "data.amount.$gte", "$gte needs a number or a string, got a boolean"},
		{"$gt array", `{"a":{"$gt":[1]}}`, "a.$gt", "needs a number or a string, got an array"},
		{"$lt null", `{"a":{"$lt":null}}`, "a.$lt", "got null"},
		{"$lte object", `{"a":{"$lte":{"x":1}}}`, "a.$lte", "got an object"},
		{"$in object", `{"a":{"$in":{"x":1}}}`, "a.$in", "$in needs an array or a string"},
		{"$in bool", `{"a":{"$in":true}}`, "a.$in", "$in needs an array or a string"},
		{"$nin element", `{"a":{"$nin":["x",null]}}`, "a.$nin[1]", "$nin array elements must be strings or numbers, got null"},
		{"$startsWith number", `{"a":{"$startsWith":1}}`, "a.$startsWith", "$startsWith needs a string or an array of strings"},
		{"$endsWith element", `{"a":{"$endsWith":["x",2]}}`, "a.$endsWith[1]", "must be strings, got a number"},
		{"$exist string", `{"a":{"$exist":"true"}}`, "a.$exist", "$exist needs a boolean, got a string"},
		{"$exist ref", `{"a":{"$exist":{"$ref":"b"}}}`, "a.$exist", "$exist needs a boolean"},
		{"$or object", `{"$or":{"a":1}}`, "$or", "must be an array of schemas"},
		{"$and string", `{"x":{"$and":"a"}}`, "x.$and", "must be an array of schemas"},
		{"inside $or", `{"$or":[{"a":1},{"b":{"$gt":{}}}]}`, "$or[1].b.$gt", "$gt needs"},
		{"inside $not", `{"$not":{"a":{"$bad":1}}}`, "$not.a.$bad", "unknown operator"},
		{"inside array schema", `{"t":[1,{"$x":1}]}`, "t[1].$x", "unknown operator"},
		{"$ref number", `{"a":{"$ref":1}}`, "a.$ref", "$ref must be a string path"},
		{"$ref object", `{"a":{"$ref":{"bad":"ref"}}}`, "a.$ref", "$ref must be a string path"},
		{"$ref empty", `{"a":{"$ref":""}}`, "a.$ref", "malformed $ref path"},
		{"$ref wildcard", `{"a":{"$ref":"b.*"}}`, "a.$ref", "wildcards"},
		{"$ref recursive", `{"a":{"$ref":"b..c"}}`, "a.$ref", "recursive descent"},
		{"$ref filter", `{"a":{"$ref":"b[?(@.c)]"}}`, "a.$ref", "unsupported subscript"},
		{"$ref slice", `{"a":{"$ref":"b[0:1]"}}`, "a.$ref", "unsupported subscript"},
		{"$ref negative", `{"a":{"$ref":"b[-1]"}}`, "a.$ref", "unsupported subscript"},
		{"$ref leading zero", `{"a":{"$ref":"b[01]"}}`, "a.$ref", "invalid index"},
		{"$ref dash", `{"a":{"$ref":"x-y"}}`, "a.$ref", "invalid name"},
		{"$ref unterminated", `{"a":{"$ref":"b[1"}}`, "a.$ref", "unterminated"},
		{"$ref unterminated quote", `{"a":{"$ref":"b['x]"}}`, "a.$ref", "unterminated quoted name"},
		{"$ref trailing", `{"a":{"$ref":"b[1]c"}}`, "a.$ref", "expected . or ["},
		{"$ref after dollar", `{"a":{"$ref":"$a"}}`, "a.$ref", "after $"},
		{"$ref digit name", `{"a":{"$ref":"1a"}}`, "a.$ref", "invalid name"},
		{"$ref operand extra keys", `{"a":{"$gt":{"$ref":"b","c":1}}}`, "a.$gt", "no other keys"},
		{"$ref operand malformed", `{"a":{"$eq":{"$ref":"b.."}}}`, "a.$eq.$ref", "malformed $ref path"},
		{"odd key quoted in path", `{"a b":{"$x":1}}`, `["a b"].$x`, "unknown operator"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(json.RawMessage(tc.schema))
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%s) error = %v, want *SchemaError", tc.schema, err)
			}
			if se.Path != tc.path {
				t.Errorf("path = %q, want %q (%v)", se.Path, tc.path, err)
			}
			if !strings.Contains(se.Message, tc.msg) {
				t.Errorf("message = %q, want it to contain %q", se.Message, tc.msg)
			}
		})
	}
}

func TestSchemaErrorString(t *testing.T) {
	e := &SchemaError{Path: "data.amount.$gte", Message: "$gte needs a number or a string, got a boolean"}
	if got, want := e.Error(), "at data.amount.$gte: $gte needs a number or a string, got a boolean"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := (&SchemaError{Message: "empty schema"}).Error(); got != "at (root): empty schema" {
		t.Errorf("Error() = %q", got)
	}
}

func TestCompileAccepts(t *testing.T) {
	for _, s := range []string{
		`null`, `1`, `"x"`, `[]`, `{}`, `{"$eq":{"$gt":1}}`, `{"a":{"$in":[]}}`, `{"a":{"$in":5}}`,
		`{"a":{"$startsWith":[]}}`, `{"$not":null}`, `{"$ref":"$"}`, `{"$ref":"[0]"}`, `{"$ref":"a['it\\'s'].b"}`,
		`{"$ref":"a.b_c.D9.0"}`, `{"$ref":"[$index][$index]"}`, `{"a":{"$lte":{"$ref":"b"}}}`,
		`{"a":{"$exist":false,"$or":[1],"$and":[2],"$not":3,"$ref":"b","b":{}}}`,
		` {"a":1} `,
	} {
		if _, err := Compile(json.RawMessage(s)); err != nil {
			t.Errorf("Compile(%s): %v", s, err)
		}
	}
}

func TestRefPathParse(t *testing.T) {
	doc := Decode([]byte(`{"a":{"b":[10,{"c":3}],"x-y":1,"it's":2,"0":"zero"},"arr":[[5,6],{"k":1}]}`))
	cases := []struct {
		path string
		want any
	}{
		{"a.b[1].c", 3.0},
		{"$.a.b[0]", 10.0},
		{"a['x-y']", 1.0},
		{`a["x-y"]`, 1.0},
		{`a['it\'s']`, 2.0},
		{"a.0", "zero"},
		{"a['0']", "zero"},
		{"a[0]", nil},
		{"arr.0[1]", 6.0},
		{"arr[1].k", 1.0},
		{"arr.length", 2.0},
		{"a.b.1.c", 3.0},
		{"arr[99]", nil},
		{"arr[99999999999999999999]", nil},
		{"nope.deeper", nil},
	}
	for _, tc := range cases {
		p, err := parseRef(tc.path, false)
		if err != nil {
			t.Errorf("parseRef(%q): %v", tc.path, err)
			continue
		}
		got, ok := p.resolve(doc, nil)
		if !ok || !deepEqual(got, tc.want) {
			t.Errorf("resolve(%q) = %v, %v; want %v", tc.path, got, ok, tc.want)
		}
	}
	p, _ := parseRef("$", false)
	if got, _ := p.resolve(doc, nil); !deepEqual(got, doc) {
		t.Error("$ does not resolve to the root")
	}
}
