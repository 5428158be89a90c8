package filter

import (
	"encoding/json"
	"testing"
)

// FuzzFilter compiles arbitrary schemas and matches them against arbitrary
// bodies. Nothing may panic, and {"$not": s} must always invert s. The seed
// corpus (the golden cases and a few odd inputs) runs with every go test.
func FuzzFilter(f *testing.F) {
	for _, gc := range loadGolden(f) {
		input := []byte(gc.Input)
		if gc.Input == nil {
			input = []byte(`{}`)
		}
		f.Add([]byte(gc.Schema), input)
	}
	for _, s := range [][2]string{
		{`{"a":{"$ref":"a[$index][$index].b"}}`, `{"a":[[{"b":1}],[[2]]]}`},
		{`{"$ref":"[99999999999999999999]"}`, `[1]`},
		{`{"a":{"$in":{"$ref":"b"}},"c":{"$startsWith":{"$ref":"d.length"}}}`, `{"a":1,"b":[{}],"c":"x","d":[]}`},
		{`{"a":{"$gt":"\ud83d\ude00"}}`, "{\"a\":\"\xff\xfe\"}"},
		{`[[[[[]]]]]`, `[[[[[1]]]]]`},
		{`{"":{"":{"$eq":{"":[]}}}}`, `{"":{"":{"":[]}}}`},
		{`{"a":{"$lt":"0x1"}}`, `{"a":"  0b1  "}`},
		{`"x"`, "\x00\xff not json"},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, schema, body []byte) {
		flt, err := Compile(json.RawMessage(schema))
		if err != nil {
			if _, ok := err.(*SchemaError); !ok {
				t.Fatalf("Compile error %T is not a *SchemaError: %v", err, err)
			}
			return
		}
		input := Decode(body)
		got := flt.match(input) // no recover: a panic fails the fuzz run
		neg, err := Compile(json.RawMessage(`{"$not":` + string(schema) + `}`))
		if err != nil {
			t.Fatalf("schema compiles alone but not under $not: %v", err)
		}
		if neg.match(input) == got {
			t.Fatalf("$not did not invert %s on %q", schema, body)
		}
		// Header mode (key folding) and the rule wrapper must not panic either.
		if r, err := CompileRule(schema, schema, schema, schema); err == nil {
			obj, _ := input.(map[string]any)
			headers := map[string]string{}
			for k, v := range obj {
				if s, ok := v.(string); ok {
					headers[k] = s
				}
			}
			r.Match(Input{Body: input, Headers: headers, Query: obj, Path: string(body)})
		}
	})
}
