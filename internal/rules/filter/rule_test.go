package filter

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func raw(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

func TestRuleFilter(t *testing.T) {
	in := Input{
		Body:    Decode([]byte(`{"type":"order.created","data":{"amount":1500}}`)),
		Headers: map[string]string{"x-shopify-topic": "orders/create", "content-length": "1500"},
		Query:   map[string]any{"page": "2", "tags": []any{"a", "b"}},
		Path:    "/webhooks/orders",
	}
	cases := []struct {
		name                      string
		body, headers, query, pth string
		in                        *Input
		failed                    []string
	}{
		{name: "no parts"},
		{name: "all match", body: `{"data":{"amount":{"$gte":1000}}}`, headers: `{"X-Shopify-Topic":{"$startsWith":"orders/"}}`, query: `{"page":2}`, pth: `"/webhooks/orders"`},
		{name: "body fails", body: `{"type":"order.paid"}`, failed: []string{"body"}},
		{name: "header names case-insensitive", headers: `{"CONTENT-LENGTH":{"$gt":1000}}`},
		{name: "header names in $or", headers: `{"$or":[{"X-Missing":"1"},{"X-Shopify-Topic":"orders/create"}]}`},
		{name: "header values case-sensitive", headers: `{"x-shopify-topic":"ORDERS/CREATE"}`, failed: []string{"headers"}},
		{name: "header $ref folded", headers: `{"content-length":{"$ref":"['Content-Length']"}}`},
		{name: "header missing", headers: `{"x-missing":{"$exist":false}}`},
		{name: "query array contains", query: `{"tags":"b"}`},
		{name: "path operators", pth: `{"$startsWith":"/webhooks/"}`},
		{name: "path fails", pth: `"/other"`, failed: []string{"path"}},
		{name: "several fail in order", body: `{"type":"x"}`, headers: `{"a":"b"}`, query: `{"page":"3"}`, pth: `"/x"`, failed: []string{"body", "headers", "query", "path"}},
		{name: "null parts are absent", body: `null`, headers: ` null `},
		{name: "nil query reads as {}", query: `{"page":{"$exist":false}}`, in: &Input{}},
		{name: "nil headers read as {}", headers: `{}`, in: &Input{}},
		{name: "non-JSON body", body: `"plain text"`, in: &Input{Body: Decode([]byte("plain text"))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := CompileRule(raw(tc.body), raw(tc.headers), raw(tc.query), raw(tc.pth))
			if err != nil {
				t.Fatal(err)
			}
			input := in
			if tc.in != nil {
				input = *tc.in
			}
			ok, failed := r.Match(input)
			if ok != (len(tc.failed) == 0) || !reflect.DeepEqual(failed, tc.failed) {
				t.Errorf("Match = %v, %v; want failed %v", ok, failed, tc.failed)
			}
		})
	}
	var nilRule *RuleFilter
	if ok, failed := nilRule.Match(in); !ok || failed != nil {
		t.Error("nil RuleFilter must match")
	}
}

func TestCompileRuleErrors(t *testing.T) {
	cases := []struct {
		body, headers, query, pth string
		path                      string
	}{
		{body: `{"data":{"amount":{"$gte":true}}}`, path: "body.data.amount.$gte"},
		{headers: `{"$or":1}`, path: "headers.$or"},
		{query: `{"page":{"$nope":1}}`, path: "query.page.$nope"},
		{pth: `{"$startsWith":5}`, path: "path.$startsWith"},
		{body: `{`, path: "body"},
		{body: `[{"$x":1}]`, path: "body[0].$x"},
	}
	for _, tc := range cases {
		_, err := CompileRule(raw(tc.body), raw(tc.headers), raw(tc.query), raw(tc.pth))
		var se *SchemaError
		if !errors.As(err, &se) || se.Path != tc.path {
			t.Errorf("CompileRule error = %v, want path %q", err, tc.path)
		}
	}
}

func TestDecode(t *testing.T) {
	cases := []struct {
		in   string
		want any
	}{
		{`{"a":[1,"x",true,null,{"b":2.5}]}`, map[string]any{"a": []any{1.0, "x", true, nil, map[string]any{"b": 2.5}}}},
		{` 42 `, 42.0},
		{`"s"`, "s"},
		{`null`, nil},
		{`1e400`, nil}, // checked below: +Inf
		{`12345678901234567890`, 12345678901234567890.0},
		{`{"a":1,"a":2}`, map[string]any{"a": 2.0}},
		{`plain text`, "plain text"},
		{``, ""},
		{`{"a":1} trailing`, `{"a":1} trailing`},
		{`{"a":1}{"b":2}`, `{"a":1}{"b":2}`},
		{`<xml/>`, "<xml/>"},
	}
	for _, tc := range cases {
		got := Decode([]byte(tc.in))
		if tc.in == `1e400` {
			if f, ok := got.(float64); !ok || f <= 1e308 {
				t.Errorf("Decode(1e400) = %v, want +Inf", got)
			}
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Decode(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}
