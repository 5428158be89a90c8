package filter

import (
	"encoding/json"
	"testing"
)

// matchCase is one schema/input pair written as JSON.
type matchCase struct {
	name   string
	schema string
	input  string
	want   bool
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Compile(json.RawMessage(tc.schema))
			if err != nil {
				t.Fatalf("Compile(%s): %v", tc.schema, err)
			}
			if got := f.Match(Decode([]byte(tc.input))); got != tc.want {
				t.Errorf("Match(%s) against %s = %v, want %v", tc.input, tc.schema, got, tc.want)
			}
		})
	}
}

func TestPrimitivesAndObjects(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"string equal", `"a"`, `"a"`, true},
		{"string case sensitive", `"a"`, `"A"`, false},
		{"number equal", `1`, `1.0`, true},
		{"number differs", `1`, `2`, false},
		{"bool", `false`, `false`, true},
		{"null", `null`, `null`, true},
		{"null vs 0", `null`, `0`, false},
		{"loose string number", `{"n":5}`, `{"n":"5"}`, true},
		{"loose number string", `{"n":"5"}`, `{"n":5}`, true},
		{"loose padded", `{"n":5}`, `{"n":" 5\n"}`, true},
		{"loose hex", `{"n":16}`, `{"n":"0x10"}`, true},
		{"loose bool number", `{"n":true}`, `{"n":1}`, true},
		{"loose bool string", `{"n":true}`, `{"n":"true"}`, false},
		{"loose empty string is 0", `{"n":0}`, `{"n":""}`, true},
		{"loose NaN", `{"n":0}`, `{"n":"abc"}`, false},
		{"nested partial", `{"a":{"b":{"c":1}}}`, `{"a":{"b":{"c":1,"d":2}},"e":3}`, true},
		{"nested mismatch", `{"a":{"b":{"c":1}}}`, `{"a":{"b":{"c":2}}}`, false},
		{"missing key", `{"a":1}`, `{}`, false},
		{"object schema vs primitive", `{"a":{"b":1}}`, `{"a":"x"}`, false},
		{"primitive schema vs object", `{"a":1}`, `{"a":{"b":1}}`, false},
		{"empty object matches object", `{}`, `{"a":1}`, true},
		{"empty object vs string", `{}`, `"text"`, false},
		{"non-JSON body by string", `"hello world"`, `hello world`, true},
		{"dotted key is one key", `{"a.b":1}`, `{"a.b":1,"a":{"b":2}}`, true},
	})
}

func TestArrays(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"contains primitive", `{"t":"b"}`, `{"t":["a","b"]}`, true},
		{"contains nothing", `{"t":"c"}`, `{"t":["a","b"]}`, false},
		{"contains nested array", `{"t":"c"}`, `{"t":["a",["b","c"]]}`, true},
		{"contains loose", `{"t":2}`, `{"t":["2"]}`, true},
		{"empty input array", `{"t":"a"}`, `{"t":[]}`, false},
		{"all of array schema", `{"t":["a","b"]}`, `{"t":["b","c","a"]}`, true},
		{"missing one of array schema", `{"t":["a","x"]}`, `{"t":["b","c","a"]}`, false},
		{"empty array schema", `{"t":[]}`, `{"t":[1]}`, true},
		{"array schema vs string", `{"t":["a"]}`, `{"t":"a"}`, false},
		{"array schema vs object", `{"t":[]}`, `{"t":{}}`, false},
		{"array of operator schemas", `{"t":[{"$gt":2}]}`, `{"t":[1,2,3]}`, true},
		{"object element", `{"items":{"sku":"x"}}`, `{"items":[{"sku":"y"},{"sku":"x"}]}`, true},
		{"object element all fields on one element", `{"items":{"a":1,"b":2}}`, `{"items":[{"a":1},{"b":2}]}`, false},
		{"object element same element", `{"items":{"a":1,"b":2}}`, `{"items":[{"a":1,"b":2}]}`, true},
		{"object element nested arrays", `{"t":{"a":1}}`, `{"t":[[{"a":1}]]}`, true},
		{"top-level array input", `3`, `[1,2,3]`, true},
		{"operators apply to the whole array", `{"t":{"$eq":[1,2]}}`, `{"t":[1,2]}`, true},
		{"$gt on an array never matches", `{"t":{"$gt":0}}`, `{"t":[1,2]}`, false},
		{"$or is per element", `{"t":{"$or":[{"$gt":4}]}}`, `{"t":[1,5]}`, true},
		{"$not is on the whole array", `{"t":{"$not":"a"}}`, `{"t":["a","b"]}`, false},
		{"$not contains", `{"t":{"$not":"c"}}`, `{"t":["a","b"]}`, true},
		{"$exist on array", `{"t":{"$exist":true}}`, `{"t":[]}`, true},
	})
}

func TestOperators(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"$eq", `{"a":{"$eq":1}}`, `{"a":1}`, true},
		{"$eq loose", `{"a":{"$eq":"1"}}`, `{"a":1}`, true},
		{"$eq null", `{"a":{"$eq":null}}`, `{"a":null}`, true},
		{"$eq deep", `{"a":{"$eq":{"b":[1,{"c":null}]}}}`, `{"a":{"b":[1,{"c":null}]}}`, true},
		{"$eq deep is exact", `{"a":{"$eq":{"b":1}}}`, `{"a":{"b":1,"c":2}}`, false},
		{"$eq deep key order", `{"a":{"$eq":{"c":2,"b":1}}}`, `{"a":{"b":1,"c":2}}`, true},
		{"$eq deep strict", `{"a":{"$eq":[1,2]}}`, `{"a":[1,"2"]}`, false},
		{"$eq string vs array", `{"a":{"$eq":"[1]"}}`, `{"a":[1]}`, false},
		{"$neq", `{"a":{"$neq":2}}`, `{"a":1}`, true},
		{"$neq equal", `{"a":{"$neq":1}}`, `{"a":1}`, false},
		{"$neq missing", `{"a":{"$neq":1}}`, `{}`, false},
		{"$gt", `{"a":{"$gt":4}}`, `{"a":5}`, true},
		{"$gt equal", `{"a":{"$gt":5}}`, `{"a":5}`, false},
		{"$gte", `{"a":{"$gte":5}}`, `{"a":5}`, true},
		{"$lt", `{"a":{"$lt":5}}`, `{"a":4.5}`, true},
		{"$lte", `{"a":{"$lte":5}}`, `{"a":6}`, false},
		{"range", `{"a":{"$gte":100,"$lt":500}}`, `{"a":250}`, true},
		{"range out", `{"a":{"$gte":100,"$lt":500}}`, `{"a":500}`, false},
		{"$gt strings", `{"a":{"$gt":"b"}}`, `{"a":"c"}`, true},
		{"$gt strings lexicographic", `{"a":{"$gt":"9"}}`, `{"a":"10"}`, false},
		{"$gt dates", `{"a":{"$gte":"2021-10-01","$lte":"2021-10-31"}}`, `{"a":"2021-10-12T10:00:00Z"}`, true},
		{"$gt string vs number", `{"a":{"$gt":9}}`, `{"a":"10"}`, true},
		{"$gt NaN", `{"a":{"$gt":1}}`, `{"a":"abc"}`, false},
		{"$lt NaN", `{"a":{"$lt":1}}`, `{"a":"abc"}`, false},
		{"$gt bool", `{"a":{"$gt":0}}`, `{"a":true}`, false},
		{"$gt null", `{"a":{"$gte":0}}`, `{"a":null}`, false},
		{"$gt UTF-16 order", `{"a":{"$gt":"\uffff"}}`, `{"a":"😀"}`, false},
		{"$lt UTF-16 order", `{"a":{"$lt":"\uffff"}}`, `{"a":"😀"}`, true},
		{"$in array", `{"a":{"$in":["x","y"]}}`, `{"a":"y"}`, true},
		{"$in array miss", `{"a":{"$in":["x","y"]}}`, `{"a":"z"}`, false},
		{"$in array strict", `{"a":{"$in":[1]}}`, `{"a":"1"}`, false},
		{"$in numbers", `{"a":{"$in":[123,456]}}`, `{"a":123}`, true},
		{"$in substring", `{"a":{"$in":"lo w"}}`, `{"a":"hello world"}`, true},
		{"$in number operand", `{"a":{"$in":12}}`, `{"a":"a12b"}`, true},
		{"$in number input", `{"a":{"$in":"2"}}`, `{"a":123}`, false},
		{"$in array input", `{"a":{"$in":["x"]}}`, `{"a":["x"]}`, false},
		{"$in empty", `{"a":{"$in":[]}}`, `{"a":"x"}`, false},
		{"$nin", `{"a":{"$nin":["x","y"]}}`, `{"a":"z"}`, true},
		{"$nin hit", `{"a":{"$nin":["x","y"]}}`, `{"a":"x"}`, false},
		{"$nin substring", `{"a":{"$nin":"z"}}`, `{"a":"abc"}`, true},
		{"$nin wrong type", `{"a":{"$nin":"z"}}`, `{"a":5}`, false},
		{"$nin array input", `{"a":{"$nin":["z"]}}`, `{"a":["x"]}`, false},
		{"$nin missing", `{"a":{"$nin":["z"]}}`, `{}`, false},
		{"$nin empty", `{"a":{"$nin":[]}}`, `{"a":"x"}`, true},
		{"$startsWith", `{"a":{"$startsWith":"orders/"}}`, `{"a":"orders/create"}`, true},
		{"$startsWith case", `{"a":{"$startsWith":"Orders/"}}`, `{"a":"orders/create"}`, false},
		{"$startsWith any", `{"a":{"$startsWith":["x","or"]}}`, `{"a":"orders"}`, true},
		{"$startsWith empty list", `{"a":{"$startsWith":[]}}`, `{"a":"orders"}`, false},
		{"$startsWith number", `{"a":{"$startsWith":"1"}}`, `{"a":123}`, false},
		{"$endsWith", `{"a":{"$endsWith":"paid"}}`, `{"a":"orders/paid"}`, true},
		{"$endsWith any", `{"a":{"$endsWith":["x","😀"]}}`, `{"a":"a😀"}`, true},
		{"$endsWith miss", `{"a":{"$endsWith":"x"}}`, `{"a":"abc"}`, false},
		{"$exist true", `{"a":{"$exist":true}}`, `{"a":null}`, true},
		{"$exist true missing", `{"a":{"$exist":true}}`, `{}`, false},
		{"$exist false", `{"a":{"$exist":false}}`, `{}`, true},
		{"$exist false present", `{"a":{"$exist":false}}`, `{"a":null}`, false},
		{"$exist deep missing parent", `{"a":{"b":{"$exist":false}}}`, `{}`, false},
		{"combined", `{"a":{"$startsWith":"orders/","$endsWith":"paid","$nin":["orders/refunded"]}}`, `{"a":"orders/paid"}`, true},
		{"combined with fields", `{"a":{"$exist":true,"b":1}}`, `{"a":{"b":2}}`, false},
	})
}

func TestLogical(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"$or", `{"$or":[{"type":"a"},{"type":"b"}]}`, `{"type":"b"}`, true},
		{"$or none", `{"$or":[{"type":"a"},{"type":"b"}]}`, `{"type":"c"}`, false},
		{"$or empty", `{"$or":[]}`, `{}`, false},
		{"$or with fields", `{"$or":[{"a":2},{"b":2}],"a":1}`, `{"a":1,"b":2}`, true},
		{"$or primitives", `{"a":{"$or":[1,5]}}`, `{"a":5}`, true},
		{"$or operators", `{"a":{"$or":[{"$lt":0},{"$gt":10}]}}`, `{"a":5}`, false},
		{"$or null branch", `{"a":{"$or":[null,1]}}`, `{"a":null}`, true},
		{"$and", `{"$and":[{"a":1},{"b":2}]}`, `{"a":1,"b":2}`, true},
		{"$and fails", `{"$and":[{"a":1},{"b":3}]}`, `{"a":1,"b":2}`, false},
		{"$and empty", `{"$and":[]}`, `"x"`, true},
		{"$and nested value", `{"n":{"$and":[{"$gt":1},{"$lt":9}]}}`, `{"n":5}`, true},
		{"$and nested value fails", `{"n":{"$and":[{"$gt":1},{"$lt":3}]}}`, `{"n":5}`, false},
		{"$not", `{"$not":{"a":1}}`, `{"a":2}`, true},
		{"$not match", `{"$not":{"a":1}}`, `{"a":1}`, false},
		{"$not nested", `{"status":{"$not":{"$in":["a","b"]}}}`, `{"status":"c"}`, true},
		{"$not nested hit", `{"status":{"$not":{"$in":["a","b"]}}}`, `{"status":"a"}`, false},
		{"$not primitive", `{"status":{"$not":"x"}}`, `{"status":"y"}`, true},
		{"$not missing key", `{"status":{"$not":"x"}}`, `{}`, true},
		{"$not with siblings", `{"$not":{"a":1},"b":2}`, `{"a":3,"b":2}`, true},
		{"$not with siblings failing", `{"$not":{"a":1},"b":2}`, `{"a":3,"b":3}`, false},
		{"double $not", `{"$not":{"$not":{"a":1}}}`, `{"a":1}`, true},
		{"$not $exist", `{"a":{"$not":{"$exist":true}}}`, `{}`, true},
		{"missing key in $or", `{"b":{"$or":[{"$gt":0},{"$exist":false}]}}`, `{}`, true},
		{"deep nesting", `{"a":{"$or":[{"b":{"$and":[{"c":{"$not":{"$lt":3}}},{"d":{"$in":["x"]}}]}},{"e":true}]}}`, `{"a":{"b":{"c":5,"d":"x"}}}`, true},
	})
}

func TestRef(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"field", `{"updated_at":{"$ref":"created_at"}}`, `{"updated_at":"2020-04-20","created_at":"2020-04-20"}`, true},
		{"field differs", `{"updated_at":{"$ref":"created_at"}}`, `{"updated_at":"2020-05-20","created_at":"2020-04-20"}`, false},
		{"loose", `{"a":{"$ref":"b"}}`, `{"a":1,"b":"1"}`, true},
		{"missing is null", `{"a":{"$ref":"nope"}}`, `{"a":null}`, true},
		{"missing vs value", `{"a":{"$ref":"nope"}}`, `{"a":1}`, false},
		{"dotted and indexed", `{"d":{"$ref":"a.b[1].c"}}`, `{"a":{"b":[1,{"c":7}]},"d":7}`, true},
		{"dollar root", `{"d":{"$ref":"$.a.b[1].c"}}`, `{"a":{"b":[1,{"c":7}]},"d":7}`, true},
		{"quoted name", `{"d":{"$ref":"a['x-y']"}}`, `{"a":{"x-y":3},"d":3}`, true},
		{"double quoted name", `{"d":{"$ref":"a[\"x y\"]"}}`, `{"a":{"x y":3},"d":3}`, true},
		{"array length", `{"n":{"$ref":"a.length"}}`, `{"a":[1,2,3],"n":3}`, true},
		{"numeric member on array", `{"d":{"$ref":"a.1"}}`, `{"a":[4,5],"d":5}`, true},
		{"index on object", `{"d":{"$ref":"a[0]"}}`, `{"a":{"0":9},"d":9}`, false},
		{"operand", `{"inventory":{"$lte":{"$ref":"old_inventory"}}}`, `{"inventory":0,"old_inventory":10}`, true},
		{"operand fails", `{"inventory":{"$lte":{"$ref":"old_inventory"}}}`, `{"inventory":11,"old_inventory":10}`, false},
		{"operand $in", `{"a":{"$in":{"$ref":"list"}}}`, `{"a":"x","list":["x","y"]}`, true},
		{"operand wrong type", `{"a":{"$startsWith":{"$ref":"n"}}}`, `{"a":"x","n":1}`, false},
		{"$index", `{"variants":{"updated_at":{"$ref":"variants[$index].created_at"}}}`, `{"variants":[{"updated_at":"2020-05-20","created_at":"2020-04-20"},{"updated_at":"2020-04-20","created_at":"2020-04-20"}]}`, true},
		{"$index none", `{"variants":{"updated_at":{"$ref":"variants[$index].created_at"}}}`, `{"variants":[{"updated_at":"2020-05-20","created_at":"2020-04-20"}]}`, false},
		{"nested $index", `{"t":{"a":{"b":{"$ref":"t[$index].a[$index].c"}}}}`, `{"t":[{"a":[{"b":3,"c":4}]},{"a":[{"b":2,"c":2}]}]}`, true},
		{"$index at root array", `{"a":{"$eq":{"$ref":"[$index].b"}}}`, `[{"a":2,"b":1},{"a":2,"b":2}]`, true},
		{"$index outside arrays", `{"a":{"$neq":{"$ref":"a[$index]"}}}`, `{"a":1}`, false},
		{"literal object", `{"b":{"$ref":"a"}}`, `{"a":{"x":1},"b":{"x":1,"y":2}}`, true},
		{"literal object not operators", `{"b":{"$ref":"a"}}`, `{"a":{"$gt":1},"b":5}`, false},
		{"per element on arrays", `{"a":{"$ref":"b"}}`, `{"a":[1,2],"b":2}`, true},
		{"per element, so an array never equals one", `{"a":{"$ref":"b"}}`, `{"a":[1,2],"b":[2]}`, false},
		{"literal array contains", `{"a":{"$ref":"b"}}`, `{"a":{"t":[1,2]},"b":{"t":[2]}}`, true},
		{"literal array contains miss", `{"a":{"$ref":"b"}}`, `{"a":{"t":[1,2]},"b":{"t":[3]}}`, false},
		{"primitive root", `{"$ref":"a"}`, `"x"`, false},
		{"ref with siblings", `{"a":{"$ref":"b","$gt":0}}`, `{"a":1,"b":1}`, true},
		{"ref with siblings failing", `{"a":{"$ref":"b","$gt":5}}`, `{"a":1,"b":1}`, false},
	})
}

// TestGoValues checks hand-built inputs of the other accepted Go types.
func TestGoValues(t *testing.T) {
	f := mustCompile(t, `{"a":{"$gte":2},"b":"x","c":{"n":1},"d":"q","e":{"$eq":{"k":"v"}}}`)
	in := map[string]any{
		"a": json.Number("2.5"),
		"b": []string{"y", "x"},
		"c": map[string]any{"n": int64(1)},
		"d": "q",
		"e": map[string]string{"k": "v"},
	}
	if !f.Match(in) {
		t.Fatal("hand-built value did not match")
	}
	in["a"] = uint8(1)
	if f.Match(in) {
		t.Fatal("a=1 matched $gte 2")
	}
	if f.Match(struct{}{}) || f.Match(map[string]any{"a": struct{}{}}) {
		t.Fatal("unsupported Go value matched")
	}
	var nilFilter *Filter
	if !nilFilter.Match("anything") {
		t.Fatal("nil filter must match")
	}
}

func mustCompile(t testing.TB, schema string) *Filter {
	t.Helper()
	f, err := Compile(json.RawMessage(schema))
	if err != nil {
		t.Fatalf("Compile(%s): %v", schema, err)
	}
	return f
}
