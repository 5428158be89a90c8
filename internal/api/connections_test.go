package api

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
)

// seedCreate is the quickstart's POST /2023-07-01/connections body.
const seedCreate = `{
"name": "asynchronous-api-quickstart",
"source": {
"name": "inbound-api",
"verification": {
"type": "api_key",
"configs": {
"header_key": "X-API-KEY",
"api_key": "client-key-0123456789"
}
}
},
"destination": {
"name": "internal-api",
"url": "https://mock.hookdeck.com"
}
}`

// seedUpdate is the quickstart's PUT /2023-07-01/connections body.
const seedUpdate = `{
"name": "asynchronous-api-quickstart",
"source": {
"name": "inbound-api"
},
"destination": {
"name": "internal-api",
"url": "https://api.example.com/"
}
}`

// keys returns the sorted keys of a JSON object.
func keys(v any) []string {
	m, _ := v.(map[string]any)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeys(ks ...string) []string {
	sort.Strings(ks)
	return ks
}

func TestSeedQuickstartLegacy(t *testing.T) {
	b := setup(t)
	conn := b.must(200, "POST", legacyV+"/connections", seedCreate)

	// The answer has exactly the seed's fields at every level.
	wantConn := sortedKeys("id", "team_id", "disabled_at", "updated_at", "created_at", "paused_at", "name",
		"rules", "description", "destination", "source", "full_name")
	wantDst := sortedKeys("id", "team_id", "url", "disabled_at", "updated_at", "created_at", "rate_limit",
		"rate_limit_period", "cli_path", "path_forwarding_disabled", "name", "http_method", "auth_method", "description")
	wantSrc := sortedKeys("id", "team_id", "disabled_at", "updated_at", "created_at", "name",
		"allowed_http_methods", "custom_response", "description", "url", "verification")
	for _, c := range []struct {
		what string
		got  any
		want []string
	}{{"connection", conn, wantConn}, {"destination", conn["destination"], wantDst}, {"source", conn["source"], wantSrc}} {
		if got := keys(c.got); !slices.Equal(got, c.want) {
			t.Errorf("%s keys = %v, want %v", c.what, got, c.want)
		}
	}
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"name"}, "asynchronous-api-quickstart"},
		{[]any{"full_name"}, "inbound-api -> asynchronous-api-quickstart"},
		{[]any{"team_id"}, b.team.ID},
		{[]any{"paused_at"}, nil},
		{[]any{"description"}, nil},
		{[]any{"destination", "url"}, "https://mock.hookdeck.com"},
		{[]any{"destination", "rate_limit"}, nil},
		{[]any{"destination", "rate_limit_period"}, "second"},
		{[]any{"destination", "cli_path"}, nil},
		{[]any{"destination", "path_forwarding_disabled"}, false},
		{[]any{"destination", "http_method"}, nil},
		{[]any{"destination", "auth_method", "type"}, "HOOKDECK_SIGNATURE"},
		{[]any{"source", "name"}, "inbound-api"},
		{[]any{"source", "custom_response"}, nil},
		{[]any{"source", "verification", "type"}, "api_key"},
	}
	for _, c := range checks {
		if got := get(conn, c.path...); got != c.want {
			t.Errorf("%v = %#v, want %#v", c.path, got, c.want)
		}
	}
	if rules, _ := json.Marshal(conn["rules"]); string(rules) != "[]" {
		t.Errorf("rules = %s, want []", rules)
	}
	if got, _ := json.Marshal(get(conn, "destination", "auth_method", "config")); string(got) != "{}" {
		t.Errorf("auth_method.config = %s, want {}", got)
	}
	if got, _ := json.Marshal(get(conn, "source", "verification")); string(got) != `{"type":"api_key"}` {
		t.Errorf("verification = %s, want only the type (no secrets)", got)
	}
	if got, _ := json.Marshal(get(conn, "source", "allowed_http_methods")); string(got) != `["POST","PUT","PATCH","DELETE"]` {
		t.Errorf("allowed_http_methods = %s", got)
	}
	srcID := str(conn, "source", "id")
	if !strings.HasPrefix(str(conn, "id"), "web_") || !strings.HasPrefix(srcID, "src_") || !strings.HasPrefix(str(conn, "destination", "id"), "des_") {
		t.Errorf("id prefixes: %s %s %s", str(conn, "id"), srcID, str(conn, "destination", "id"))
	}
	if want := testPublicURL + "/" + strings.TrimPrefix(srcID, "src_"); str(conn, "source", "url") != want {
		t.Errorf("source url = %s, want %s", str(conn, "source", "url"), want)
	}
	if ts := str(conn, "created_at"); !strings.HasSuffix(ts, "Z") || len(ts) != len("2024-01-15T16:35:30.880Z") {
		t.Errorf("created_at = %q, want RFC 3339 UTC with ms", ts)
	}

	// The quickstart's PUT updates the destination URL of the same
	// connection and keeps the source's verification.
	up := b.must(200, "PUT", legacyV+"/connections", seedUpdate)
	if str(up, "id") != str(conn, "id") || str(up, "destination", "id") != str(conn, "destination", "id") || str(up, "source", "id") != srcID {
		t.Errorf("upsert made new objects: %v", up)
	}
	if got := str(up, "destination", "url"); got != "https://api.example.com/" {
		t.Errorf("destination url after upsert = %q", got)
	}
	if got := str(up, "source", "verification", "type"); got != "api_key" {
		t.Errorf("verification after upsert = %q, want api_key kept", got)
	}

	// The same connection in the typed dialect.
	typed := b.must(200, "GET", typedV+"/connections/"+str(conn, "id"), "")
	typedChecks := []struct {
		path []any
		want any
	}{
		{[]any{"source", "type"}, "WEBHOOK"},
		{[]any{"source", "authenticated"}, true},
		{[]any{"source", "config", "auth_type"}, "API_KEY"},
		{[]any{"source", "config", "auth", "header_key"}, "X-API-KEY"},
		{[]any{"source", "config", "auth", "api_key"}, strings.Repeat("*", 17) + "6789"},
		{[]any{"destination", "type"}, "HTTP"},
		{[]any{"destination", "config", "url"}, "https://api.example.com/"},
		{[]any{"destination", "config", "auth_type"}, "HOOKDECK_SIGNATURE"},
		{[]any{"destination", "config", "rate_limit_period"}, "second"},
		{[]any{"full_name"}, "inbound-api -> asynchronous-api-quickstart"},
	}
	for _, c := range typedChecks {
		if got := get(typed, c.path...); got != c.want {
			t.Errorf("typed %v = %#v, want %#v", c.path, got, c.want)
		}
	}
	if get(typed, "source", "verification") != nil || get(typed, "destination", "url") != nil {
		t.Errorf("typed answer has legacy fields: %v", typed)
	}
}

func TestConnectionTypedCreateAndLookups(t *testing.T) {
	b := setup(t)
	src := b.must(200, "POST", typedV+"/sources", `{"name":"shop","config":{"auth":{"header_key":"x-key","api_key":"abcdefgh1234"}}}`)
	if got := str(src, "config", "auth_type"); got != "API_KEY" {
		t.Fatalf("inferred auth_type = %q, want API_KEY", got)
	}
	// The CLI's listen flow: a connection by source_id with an inline CLI destination.
	conn := b.must(200, "POST", typedV+"/connections",
		`{"name":"cli-shop","source_id":"`+str(src, "id")+`","destination":{"name":"cli-shop","type":"CLI","config":{"path":"/"}}}`)
	if str(conn, "destination", "type") != "CLI" || str(conn, "destination", "config", "path") != "/" {
		t.Fatalf("CLI destination = %v", conn["destination"])
	}
	for _, q := range []string{"source_id=" + str(src, "id"), "source_id[0]=" + str(src, "id"), "source_id[]=" + str(src, "id")} {
		list := b.must(200, "GET", typedV+"/connections?"+q, "")
		if ids := models(t, list); len(ids) != 1 || ids[0] != str(conn, "id") {
			t.Errorf("%s: models = %v", q, ids)
		}
	}
	legacy := b.must(200, "GET", legacyV+"/connections/"+str(conn, "id"), "")
	if str(legacy, "destination", "cli_path") != "/" || get(legacy, "destination", "url") != nil {
		t.Errorf("legacy CLI destination = %v", legacy["destination"])
	}
	if n := b.must(200, "GET", typedV+"/connections/count?source_id="+str(src, "id"), ""); n["count"] != float64(1) {
		t.Errorf("count = %v", n)
	}

	// Rules are stored as given and validated by package rules.
	rules := `[{"type":"retry","strategy":"linear","interval":60000,"count":5}]`
	up := b.must(200, "PUT", typedV+"/connections/"+str(conn, "id"), `{"rules":`+rules+`}`)
	if got, want := canonical(t, up["rules"]), canonical(t, json.RawMessage(rules)); got != want {
		t.Errorf("rules = %s, want %s", got, want)
	}
	bad := b.call("PUT", typedV+"/connections/"+str(conn, "id"), `{"rules":[{"type":"retry","strategy":"sometimes"}]}`)
	if bad.status != 422 || get(bad.body, "data", "index") != float64(0) || str(bad.body, "data", "rule_field") != "strategy" ||
		!strings.Contains(str(bad.body, "message"), "rules[0].strategy") {
		t.Errorf("bad rule answer = %d %s", bad.status, bad.raw)
	}

	// Pause, unpause (waking the dispatcher), disable and enable.
	id := str(conn, "id")
	if p := b.must(200, "PUT", typedV+"/connections/"+id+"/pause", ""); p["paused_at"] == nil {
		t.Errorf("pause: paused_at = nil")
	}
	if p := b.must(200, "PUT", typedV+"/connections/"+id+"/unpause", "{}"); p["paused_at"] != nil || b.woken.Load() != 1 {
		t.Errorf("unpause: paused_at = %v, woken %d", p["paused_at"], b.woken.Load())
	}
	if p := b.must(200, "PUT", typedV+"/connections/"+id+"/archive", ""); p["disabled_at"] == nil {
		t.Errorf("archive: disabled_at = nil")
	}
	if p := b.must(200, "PUT", typedV+"/connections/"+id+"/enable", ""); p["disabled_at"] != nil {
		t.Errorf("enable: disabled_at = %v", p["disabled_at"])
	}
	if d := b.must(200, "DELETE", typedV+"/connections/"+id, ""); d["id"] != id {
		t.Errorf("delete = %v", d)
	}
	b.must(404, "GET", typedV+"/connections/"+id, "")
}

// canonical re-encodes a JSON value with sorted keys.
func canonical(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(x)
	return string(out)
}

// TestUpsertEmptySourceType is the Hookdeck CLI's `gateway connection
// upsert NAME --source-name EXISTING` without --source-type: it sends
// "type":"" for the source, which keeps the source's type.
func TestUpsertEmptySourceType(t *testing.T) {
	b := setup(t)
	b.must(200, "POST", typedV+"/sources", `{"name":"existing","type":"WEBHOOK"}`)
	conn := b.must(200, "PUT", typedV+"/connections",
		`{"name":"cli-existing","source":{"name":"existing","type":""},"destination":{"name":"cli-existing","type":"CLI","config":{"path":"/"}}}`)
	if got := str(conn, "source", "type"); got != "WEBHOOK" {
		t.Errorf("source type after the upsert = %q, want WEBHOOK", got)
	}
	if got := str(conn, "destination", "type"); got != "CLI" {
		t.Errorf("destination type = %q, want CLI", got)
	}
}
