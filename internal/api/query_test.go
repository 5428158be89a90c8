package api

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseQueryForms(t *testing.T) {
	cases := []struct {
		raw  string
		name string
		want []string
	}{
		{"id=a&id=b", "id", []string{"a", "b"}},
		{"id[0]=a&id[1]=b", "id", []string{"a", "b"}},
		{"id[1]=b&id[0]=a", "id", []string{"a", "b"}},
		{"id[10]=c&id[2]=b&id[1]=a", "id", []string{"a", "b", "c"}},
		{"id[]=a&id[]=b", "id", []string{"a", "b"}},
		{"id=a,b", "id", []string{"a", "b"}},
		{"id=a,,b,", "id", []string{"a", "b"}},
		{`id=["a","b"]`, "id", []string{"a", "b"}},
		{"id=a", "other", nil},
	}
	for _, c := range cases {
		t.Run(c.raw, func(t *testing.T) {
			vals, err := url.ParseQuery(c.raw)
			if err != nil {
				t.Fatal(err)
			}
			q, err := parseQuery(vals)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.list(c.name); !slices.Equal(got, c.want) {
				t.Errorf("list(%q) = %v, want %v", c.name, got, c.want)
			}
		})
	}
}

func TestQueryRanges(t *testing.T) {
	ptr := func(n int) *int { return &n }
	ints := []struct {
		raw              string
		eq, gte, lt, lte *int
	}{
		{"attempts=2", ptr(2), nil, nil, nil},
		{"attempts[gte]=2", nil, ptr(2), nil, nil},
		{`attempts={"gte":2,"le":5}`, nil, ptr(2), ptr(5), nil},
		{`attempts={"lte":"7"}`, nil, nil, nil, ptr(7)},
		{"attempts[any]=true", nil, nil, nil, nil},
	}
	for _, c := range ints {
		t.Run(c.raw, func(t *testing.T) {
			vals, _ := url.ParseQuery(c.raw)
			q, err := parseQuery(vals)
			if err != nil {
				t.Fatal(err)
			}
			r, err := q.intRange("attempts")
			if err != nil {
				t.Fatal(err)
			}
			eq := func(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
			if !eq(r.EQ, c.eq) || !eq(r.GTE, c.gte) || !eq(r.LT, c.lt) || !eq(r.LTE, c.lte) {
				t.Errorf("range = %+v", r)
			}
		})
	}
	vals, _ := url.ParseQuery("created_at[gte]=2024-01-02&created_at[lte]=2024-01-03T10:00:00+02:00")
	q, _ := parseQuery(vals)
	r, err := q.timeRange("created_at")
	if err != nil {
		t.Fatal(err)
	}
	if !r.GTE.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) || !r.LTE.Equal(time.Date(2024, 1, 3, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("time range = %v %v", r.GTE, r.LTE)
	}
	for _, bad := range []string{"attempts=x", "attempts[between]=1", `attempts={"gte":"x"}`} {
		vals, _ := url.ParseQuery(bad)
		q, err := parseQuery(vals)
		if err == nil {
			_, err = q.intRange("attempts")
		}
		if err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestSplitVersion(t *testing.T) {
	cases := []struct {
		path       string
		ok, legacy bool
		rest       string
	}{
		{"/2023-07-01/connections", true, true, "/connections"},
		{"/2024-12-31/sources/src_1", true, true, "/sources/src_1"},
		{"/2025-01-01/sources", true, false, "/sources"},
		{"/2026-09-01/projects", true, false, "/projects"},
		{"/2025-07-01", true, false, "/"},
		{"/2025-13-01/sources", false, false, ""},
		{"/v1/sources", false, false, ""},
		{"/sources", false, false, ""},
	}
	for _, c := range cases {
		v, rest, ok := splitVersion(c.path)
		if ok != c.ok || (ok && (rest != c.rest || v.legacy() != c.legacy)) {
			t.Errorf("%s: ok=%v rest=%q legacy=%v", c.path, ok, rest, v.legacy())
		}
	}
	if v, _, _ := splitVersion("/2024-03-01/x"); v.retryAnswersEvent() {
		t.Errorf("2024-03-01 should answer {event, attempt}")
	}
	if v, _, _ := splitVersion("/2024-09-01/x"); !v.retryAnswersEvent() {
		t.Errorf("2024-09-01 should answer the event")
	}
}

func TestMask(t *testing.T) {
	cases := map[string]string{
		"":                 "",
		"abc":              "********",
		"abcdefg":          "********",
		"abcdefgh":         "****efgh",
		"sk_live_12345678": "************5678",
	}
	for in, want := range cases {
		if got := mask(in); got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		body   string
		status int
		in     string
	}{
		{"{\n  \"name\": 1\n}", 422, "name"},
		{"{\n  \"name\": \"a\",,\n}", 400, "line 2"},
		{`{"name":"a"} {}`, 400, "after the JSON value"},
		{`{"name":`, 400, "unexpected end"},
		{`[1]`, 422, "object"},
	}
	for _, c := range cases {
		var in sourceInput
		err := decodeJSON([]byte(c.body), &in)
		ae := toAPIError(err)
		if ae.Status != c.status || !strings.Contains(ae.Message, c.in) {
			t.Errorf("%q: %d %q, want %d containing %q", c.body, ae.Status, ae.Message, c.status, c.in)
		}
	}
}

// FuzzParseQuery checks that no query string makes the parser or its
// accessors panic.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"id=a,b", "id[0]=a&id[1]=b", `attempts={"gte":2}`, "created_at[gte]=2024-01-01", "x[=1", "x]=[", `id=[1,{"a":2}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseQuery(vals)
		if err != nil {
			return
		}
		for name := range q {
			_ = q.list(name)
			_, _ = q.intRange(name)
			_, _ = q.timeRange(name)
			_, _ = q.boolean(name)
			_, _ = q.ints(name)
		}
		_, _ = parsePage(q)
	})
}
