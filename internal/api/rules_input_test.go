package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// newConnection creates a connection with the given rules (a JSON array)
// and returns the answer.
func newConnection(b *bundle, name, rules string) map[string]any {
	b.t.Helper()
	return b.must(200, "POST", typedV+"/connections",
		`{"name":"`+name+`","source":{"name":"src"},"destination":{"name":"dst","type":"MOCK_API"},"rules":`+rules+`}`)
}

// rawRules returns the rules array of a connection answer as sent.
func rawRules(t *testing.T, raw []byte) string {
	t.Helper()
	var c struct {
		Rules json.RawMessage `json:"rules"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return string(c.Rules)
}

func TestRulesRenderAsGiven(t *testing.T) {
	b := setup(t)
	cases := []struct{ name, rules string }{
		{"filter on every part", `[{"type":"filter","body":{"type":{"$in":["order.created","order.paid"]},"data":{"amount":{"$gte":1000,"$lt":5e5}}},"headers":{"x-shopify-topic":{"$startsWith":"orders/"}},"query":{"live":"true"},"path":"/orders"}]`},
		{"filter with nested operators and unicode", `[{"type":"filter","body":{"$or":[{"name":"café ✓"},{"tags":["a","b"]},{"meta":{"$not":{"$exist":true}}}]},"path":{"$endsWith":"/hook"}}]`},
		{"filter before transform keeps its order", `[{"type":"filter","body":{"ok":true}},{"type":"delay","delay":5000},{"type":"retry","strategy":"exponential","interval":60000,"count":3,"response_status_codes":["500-599","!501"]}]`},
		{"deduplicate", `[{"type":"deduplicate","window":60000,"include_fields":["body.id","body.items[*].sku"]}]`},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := b.call("POST", typedV+"/connections",
				`{"name":"c`+itoa(i)+`","source":{"name":"src"},"destination":{"name":"dst","type":"MOCK_API"},"rules":`+c.rules+`}`)
			if res.status != 200 {
				t.Fatalf("create: %d %s", res.status, res.raw)
			}
			if got := rawRules(t, res.raw); got != c.rules {
				t.Errorf("created rules = %s\nwant %s", got, c.rules)
			}
			for _, v := range []string{typedV, legacyV} {
				got := b.call("GET", v+"/connections/"+str(res.body, "id"), "")
				if r := rawRules(t, got.raw); r != c.rules {
					t.Errorf("%s rules = %s\nwant %s", v, r, c.rules)
				}
			}
		})
	}
}

func TestRuleErrorsNameIndexAndField(t *testing.T) {
	b := setup(t)
	code := `addHandler('transform', (request, context) => request);`
	cases := []struct {
		name, rules, field, says string
	}{
		{"unknown type", `[{"type":"retry","strategy":"linear","interval":1000,"count":1},{"type":"teleport"}]`, "rules[1].type", "unknown rule type"},
		{"filter operator", `[{"type":"filter","body":{"amount":{"$between":[1,2]}}}]`, "rules[0].body.amount", ""},
		{"delay out of range", `[{"type":"delay","delay":-1}]`, "rules[0].delay", "between"},
		{"dedup path", `[{"type":"deduplicate","window":5000,"include_fields":["bogus.id"]}]`, "rules[0].include_fields[0]", "must start with"},
		{"unknown transformation id", `[{"type":"transform","transformation_id":"trs_missing"}]`, "rules[0].transformation_id", "no transformation has id"},
		{"transform without anything", `[{"type":"transform"}]`, "rules[0].transformation_id", "required"},
		{"inline without code", `[{"type":"filter","body":{}},{"type":"transform","transformation":{"name":"t","code":""}}]`, "rules[1].transformation.code", "required"},
		{"inline bad name", `[{"type":"transform","transformation":{"name":"bad name","code":"` + code + `"}}]`, "rules[0].transformation.name", "must match"},
		{"inline syntax error", `[{"type":"transform","transformation":{"name":"t","code":"addHandler('transform', (r) => {\n  return r +;\n});"}}]`, "rules[0].transformation.code", "transform.js:2:"},
		{"inline without a handler", `[{"type":"transform","transformation":{"name":"t","code":"var x = 1;"}}]`, "rules[0].transformation.code", "transform"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := b.call("POST", typedV+"/connections",
				`{"name":"c","source":{"name":"src"},"destination":{"name":"dst","type":"MOCK_API"},"rules":`+c.rules+`}`)
			if res.status != 422 || !strings.HasPrefix(str(res.body, "data", "field"), c.field) ||
				!strings.Contains(str(res.body, "message"), c.says) {
				t.Fatalf("answer %d %s; want 422 naming %s saying %q", res.status, res.raw, c.field, c.says)
			}
			if _, ok := get(res.body, "data", "index").(float64); !ok {
				t.Errorf("data.index missing: %s", res.raw)
			}
		})
	}
	// Nothing was written: not the ends, not a transformation.
	for _, what := range []string{"sources", "destinations", "connections", "transformations"} {
		if n := b.must(200, "GET", typedV+"/"+what+"/count", ""); n["count"] != float64(0) {
			t.Errorf("%s after refusals = %v", what, n["count"])
		}
	}
}

// TestRuleNamesExistingTransformation is the Hookdeck CLI's
// `gateway connection upsert --rule-transform-name NAME`: a transform rule
// with only {"transformation":{"name":…}} references the existing
// transformation of that name.
func TestRuleNamesExistingTransformation(t *testing.T) {
	b := setup(t)
	code := `addHandler('transform', (request, context) => request);`
	tr := b.must(200, "POST", typedV+"/transformations", `{"name":"t1","code":"`+code+`"}`)
	res := b.call("PUT", typedV+"/connections",
		`{"name":"c","source":{"name":"src"},"destination":{"name":"dst","type":"MOCK_API"},"rules":[{"transformation":{"name":"t1"},"type":"transform"}]}`)
	if res.status != 200 {
		t.Fatalf("upsert: %d %s", res.status, res.raw)
	}
	want := `[{"type":"transform","transformation_id":"` + str(tr, "id") + `"}]`
	if got := rawRules(t, res.raw); got != want {
		t.Errorf("rules = %s, want %s", got, want)
	}
	if got := b.must(200, "GET", typedV+"/transformations/"+str(tr, "id"), ""); str(got, "updated_at") != str(tr, "updated_at") {
		t.Errorf("the referenced transformation was written: updated_at %s, was %s", str(got, "updated_at"), str(tr, "updated_at"))
	}
}
