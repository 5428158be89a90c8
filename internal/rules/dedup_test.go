package rules

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDeduplicateKey(t *testing.T) {
	t.Parallel()
	doc := func(body string, hdr string) Document {
		var b any
		_ = json.Unmarshal([]byte(body), &b)
		return Document{Headers: map[string]string{"x-delivery": hdr}, Body: b, Query: map[string]any{}, Path: "/"}
	}
	a := doc(`{"id":1,"updated_at":"t1","items":[{"sku":"a","qty":1},{"sku":"b","qty":2}]}`, "d1")
	sameIDOtherTime := doc(`{"id":1,"updated_at":"t2","items":[{"sku":"a","qty":1},{"sku":"b","qty":2}]}`, "d2")
	otherQty := doc(`{"id":1,"updated_at":"t1","items":[{"sku":"a","qty":5},{"sku":"b","qty":2}]}`, "d1")
	otherSku := doc(`{"id":1,"updated_at":"t1","items":[{"sku":"z","qty":1},{"sku":"b","qty":2}]}`, "d1")

	tests := []struct {
		name  string
		rule  string
		x, y  Document
		equal bool
	}{
		{"whole event equal", `{"type":"deduplicate","window":1000}`, a, a, true},
		{"whole event differs by header", `{"type":"deduplicate","window":1000}`, a, sameIDOtherTime, false},
		{"include id", `{"type":"deduplicate","window":1000,"include_fields":["body.id"]}`, a, sameIDOtherTime, true},
		{"include skus ignores qty", `{"type":"deduplicate","window":1000,"include_fields":["body.items[*].sku"]}`, a, otherQty, true},
		{"include skus sees sku", `{"type":"deduplicate","window":1000,"include_fields":["body.items[*].sku"]}`, a, otherSku, false},
		{"include index", `{"type":"deduplicate","window":1000,"include_fields":["body.items[1].sku"]}`, a, otherSku, true},
		{"exclude time and headers", `{"type":"deduplicate","window":1000,"exclude_fields":["body.updated_at","headers"]}`, a, sameIDOtherTime, true},
		{"exclude time only", `{"type":"deduplicate","window":1000,"exclude_fields":["body.updated_at"]}`, a, sameIDOtherTime, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse(json.RawMessage("[" + tt.rule + "]"))
			if err != nil {
				t.Fatal(err)
			}
			kx, ky := set.Deduplicate.Key(tt.x), set.Deduplicate.Key(tt.y)
			if (kx == ky) != tt.equal {
				t.Fatalf("keys equal = %v, want %v", kx == ky, tt.equal)
			}
		})
	}
}

func TestDeduplicateValidation(t *testing.T) {
	t.Parallel()
	bad := []string{
		`{"type":"deduplicate"}`,
		`{"type":"deduplicate","window":10}`,
		`{"type":"deduplicate","window":1000,"include_fields":["items.id"]}`,
		`{"type":"deduplicate","window":1000,"include_fields":["body.items[*]"]}`,
		`{"type":"deduplicate","window":1000,"include_fields":["body..id"]}`,
		`{"type":"deduplicate","window":1000,"include_fields":["body.id"],"exclude_fields":["headers"]}`,
	}
	for _, rule := range bad {
		if _, err := Parse(json.RawMessage("[" + rule + "]")); err == nil {
			t.Errorf("Parse(%s) accepted an invalid rule", rule)
		}
	}
}

func TestFilterAndTransformRules(t *testing.T) {
	t.Parallel()
	set, err := Parse(json.RawMessage(`[{"type":"transform","transformation_id":"trs_1"},{"type":"filter","body":{"type":{"$in":["a","b"]}}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if set.Transform.TransformationID != "trs_1" || set.Filter == nil || set.FilterFirst {
		t.Fatalf("set = %+v", set)
	}
	set, err = Parse(json.RawMessage(`[{"type":"filter","headers":{"x-topic":"a"}},{"type":"transform","transformation":{"name":"t","code":"addHandler('transform',(r)=>r)"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if !set.FilterFirst || set.Transform.Inline == nil {
		t.Fatalf("set = %+v", set)
	}
	_, err = Parse(json.RawMessage(`[{"type":"filter","body":{"amount":{"$gte":"x","$foo":1}}}]`))
	var ve *ValidationError
	if err == nil || !errors.As(err, &ve) || ve.Index != 0 || ve.Field == "" {
		t.Fatalf("invalid filter: %v", err)
	}
	if _, err := Parse(json.RawMessage(`[{"type":"transform"}]`)); err == nil {
		t.Fatal("transform without id accepted")
	}
}
