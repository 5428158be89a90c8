package api

import (
	"fmt"
	"strings"
	"testing"
)

func TestAuth(t *testing.T) {
	b := setup(t)
	cases := []struct {
		name string
		path string
		auth string
		want int
	}{
		{"no header", typedV + "/sources", "", 401},
		{"wrong bearer", typedV + "/sources", "Bearer nope", 401},
		{"bearer", typedV + "/sources", "Bearer " + testKey, 200},
		{"basic with empty password", legacyV + "/sources", basic(testKey, ""), 200},
		{"basic wrong key", typedV + "/sources", basic("nope", ""), 401},
		{"basic garbage", typedV + "/sources", "Basic %%%", 401},
		{"other scheme", typedV + "/sources", "Token " + testKey, 401},
		{"unknown route needs auth", "/nothing", "", 401},
		{"healthz is open", "/healthz", "", 200},
		{"readyz is open", "/readyz", "", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := b.callAuth("GET", c.path, "", c.auth)
			if res.status != c.want {
				t.Fatalf("status %d, want %d: %s", res.status, c.want, res.raw)
			}
			if c.want == 401 && (str(res.body, "code") != "UNAUTHORIZED" || res.body["status"] != float64(401) || str(res.body, "message") == "") {
				t.Errorf("401 body = %s", res.raw)
			}
		})
	}
}

func TestErrorBodies(t *testing.T) {
	b := setup(t)
	b.must(200, "POST", typedV+"/sources", `{"name":"taken"}`)
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
		field                    string // data.field, when the error names one
		inMessage                string
	}{
		{"unknown id", "GET", typedV + "/sources/src_missing", "", 404, "NOT_FOUND", "", "src_missing"},
		{"unknown route", "GET", typedV + "/nothing/here", "", 404, "NOT_FOUND", "", "/nothing/here"},
		{"no version prefix", "GET", "/sources", "", 404, "NOT_FOUND", "", ""},
		{"wrong method", "PATCH", typedV + "/sources", "", 404, "NOT_FOUND", "", ""},
		{"malformed JSON", "POST", typedV + "/sources", "{\n\"name\": \"x\",,}", 400, "BAD_REQUEST", "body", "line 2"},
		{"truncated JSON", "POST", typedV + "/sources", `{"name":`, 400, "BAD_REQUEST", "body", "offset"},
		{"wrong type", "POST", typedV + "/destinations", `{"name":"d","config":{"url":"http://x.test","rate_limit":"fast"}}`, 422, "UNPROCESSABLE_ENTITY", "config.rate_limit", "number"},
		{"name missing", "POST", typedV + "/sources", `{}`, 422, "UNPROCESSABLE_ENTITY", "name", "required"},
		{"name pattern", "POST", typedV + "/sources", `{"name":"has space"}`, 422, "UNPROCESSABLE_ENTITY", "name", "has space"},
		{"name too long", "POST", typedV + "/sources", `{"name":"` + strings.Repeat("a", 156) + `"}`, 422, "UNPROCESSABLE_ENTITY", "name", "155"},
		{"duplicate name", "POST", typedV + "/sources", `{"name":"taken"}`, 409, "CONFLICT", "name", "taken"},
		{"missing api key", "POST", typedV + "/sources", `{"name":"s2","config":{"auth_type":"API_KEY","auth":{"header_key":"x"}}}`, 422, "UNPROCESSABLE_ENTITY", "config.auth.api_key", "required"},
		{"http destination without url", "POST", typedV + "/destinations", `{"name":"d","type":"HTTP"}`, 422, "UNPROCESSABLE_ENTITY", "config.url", "required"},
		{"legacy destination bad url", "POST", legacyV + "/destinations", `{"name":"d","url":"ftp://x"}`, 422, "UNPROCESSABLE_ENTITY", "url", "http"},
		{"inline destination field", "POST", legacyV + "/connections", `{"name":"c","source":{"name":"s3"},"destination":{"name":"bad name"}}`, 422, "UNPROCESSABLE_ENTITY", "destination.name", ""},
		{"rules not an array", "POST", typedV + "/connections", `{"name":"c","source":{"name":"s4"},"destination":{"name":"d4","type":"MOCK_API"},"rules":{"type":"retry"}}`, 422, "UNPROCESSABLE_ENTITY", "rules", ""},
		{"order_by", "GET", typedV + "/sources?order_by=name", "", 400, "BAD_REQUEST", "order_by", "created_at"},
		{"limit", "GET", typedV + "/sources?limit=256", "", 400, "BAD_REQUEST", "limit", ""},
		{"dir", "GET", typedV + "/sources?dir=up", "", 400, "BAD_REQUEST", "dir", ""},
		{"bad cursor", "GET", typedV + "/sources?next=zzz", "", 400, "BAD_REQUEST", "next", ""},
		{"bad operator JSON", "GET", typedV + "/events?attempts={gte", "", 400, "BAD_REQUEST", "attempts", ""},
		{"bad time", "GET", typedV + "/events?created_at[gte]=yesterday", "", 400, "BAD_REQUEST", "created_at[gte]", ""},
		{"event not found", "PUT", typedV + "/events/evt_missing/cancel", "", 404, "NOT_FOUND", "", ""},
		{"attempt not found", "GET", typedV + "/attempts/atm_missing", "", 404, "NOT_FOUND", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := b.call(c.method, c.path, c.body)
			if res.status != c.status || str(res.body, "code") != c.code || res.body["status"] != float64(c.status) {
				t.Fatalf("answer %d %s, want %d %s", res.status, res.raw, c.status, c.code)
			}
			if c.field != "" && str(res.body, "data", "field") != c.field {
				t.Errorf("data.field = %q, want %q (%s)", str(res.body, "data", "field"), c.field, res.raw)
			}
			if !strings.Contains(str(res.body, "message"), c.inMessage) {
				t.Errorf("message %q does not mention %q", str(res.body, "message"), c.inMessage)
			}
		})
	}
	// A failed connection create writes nothing.
	if n := b.must(200, "GET", typedV+"/sources/count", ""); n["count"] != float64(1) {
		t.Errorf("sources after failed creates = %v, want 1", n["count"])
	}
}

func TestBodyLimit(t *testing.T) {
	b := setup(t)
	big := `{"name":"x","description":"` + strings.Repeat("a", MaxBodyBytes) + `"}`
	res := b.call("POST", typedV+"/sources", big)
	if res.status != 413 || str(res.body, "code") != "PAYLOAD_TOO_LARGE" {
		t.Fatalf("answer %d %.200s", res.status, res.raw)
	}
}

func TestSecretsMasked(t *testing.T) {
	b := setup(t)
	const secret = "whsec_abcdefghijklmnop"
	src := b.must(200, "POST", typedV+"/sources",
		`{"name":"signed","config":{"auth":{"webhook_secret_key":"`+secret+`","header_key":"x-sig","algorithm":"sha256","encoding":"hex"}}}`)
	id := str(src, "id")
	dst := b.must(200, "POST", typedV+"/destinations",
		`{"name":"api","config":{"url":"https://example.test","auth":{"username":"u","password":"`+secret+`"}}}`)
	masked := strings.Repeat("*", len(secret)-4) + "mnop"
	cases := []struct {
		name, path string
		at         []any
		want       any
	}{
		{"typed source masked", typedV + "/sources/" + id, []any{"config", "auth", "webhook_secret_key"}, masked},
		{"typed source public field", typedV + "/sources/" + id, []any{"config", "auth", "header_key"}, "x-sig"},
		{"typed source inferred type", typedV + "/sources/" + id, []any{"config", "auth_type"}, "HMAC"},
		{"typed source revealed", typedV + "/sources/" + id + "?include=config.auth", []any{"config", "auth", "webhook_secret_key"}, secret},
		{"legacy source hides configs", legacyV + "/sources/" + id, []any{"verification", "configs"}, nil},
		{"legacy source type", legacyV + "/sources/" + id, []any{"verification", "type"}, "hmac"},
		{"legacy source revealed", legacyV + "/sources/" + id + "?include=verification.configs", []any{"verification", "configs", "webhook_secret_key"}, secret},
		{"list masked", typedV + "/sources", []any{"models", 0, "config", "auth", "webhook_secret_key"}, masked},
		{"typed destination masked", typedV + "/destinations/" + str(dst, "id"), []any{"config", "auth", "password"}, masked},
		{"typed destination type", typedV + "/destinations/" + str(dst, "id"), []any{"config", "auth_type"}, "BASIC_AUTH"},
		{"legacy destination masked", legacyV + "/destinations/" + str(dst, "id"), []any{"auth_method", "config", "password"}, masked},
		{"legacy destination union", legacyV + "/destinations/" + str(dst, "id"), []any{"auth_method", "type"}, "BASIC_AUTH"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := b.must(200, "GET", c.path, "")
			if got := get(body, c.at...); got != c.want {
				t.Errorf("%v = %#v, want %#v", c.at, got, c.want)
			}
		})
	}
	// Writing back what was read (masked) keeps the secret.
	b.must(200, "PUT", typedV+"/sources/"+id, `{"config":{"auth_type":"HMAC","auth":{"webhook_secret_key":"`+masked+`","header_key":"x-sig2"}}}`)
	got := b.must(200, "GET", typedV+"/sources/"+id+"?include=config.auth", "")
	if str(got, "config", "auth", "webhook_secret_key") != secret || str(got, "config", "auth", "header_key") != "x-sig2" {
		t.Errorf("after write-back: %v", got["config"])
	}
}

func TestSourceAndDestinationLifecycle(t *testing.T) {
	b := setup(t)
	for _, v := range []string{legacyV, typedV} {
		t.Run(v, func(t *testing.T) {
			name := "life" + strings.ReplaceAll(v, "-", "")[1:]
			src := b.must(200, "PUT", v+"/sources", `{"name":"`+name+`","allowed_http_methods":["post","get"]}`)
			id := str(src, "id")
			again := b.must(200, "PUT", v+"/sources", `{"name":"`+name+`","description":"second"}`)
			if str(again, "id") != id || str(again, "description") != "second" {
				t.Fatalf("upsert by name: %v", again)
			}
			methods := get(b.must(200, "GET", v+"/sources/"+id, ""), "allowed_http_methods")
			if v == typedV {
				methods = get(b.must(200, "GET", v+"/sources/"+id, ""), "config", "allowed_http_methods")
			}
			if fmt.Sprint(methods) != "[POST GET]" {
				t.Errorf("allowed_http_methods = %v", methods)
			}
			for _, action := range []struct {
				path     string
				body     string
				disabled bool
			}{{"/disable", "", true}, {"/enable", "{}", false}, {"/archive", "{}", true}, {"/unarchive", "", false}} {
				got := b.must(200, "PUT", v+"/sources/"+id+action.path, action.body)
				if (got["disabled_at"] != nil) != action.disabled {
					t.Errorf("%s: disabled_at = %v", action.path, got["disabled_at"])
				}
			}
			b.must(200, "PUT", v+"/sources/"+id, `{"name":"`+name+`-renamed"}`)
			if got := b.must(200, "GET", v+"/sources?name="+name+"-renamed", ""); len(models(t, got)) != 1 {
				t.Errorf("by new name: %v", got)
			}
			if d := b.must(200, "DELETE", v+"/sources/"+id, ""); d["id"] != id {
				t.Errorf("delete = %v", d)
			}
			b.must(404, "DELETE", v+"/sources/"+id, "")
		})
	}
	d := b.must(200, "POST", typedV+"/destinations", `{"name":"mock","type":"MOCK_API"}`)
	if str(d, "type") != "MOCK_API" || get(d, "config", "url") != nil {
		t.Errorf("mock destination = %v", d)
	}
	if got := b.must(200, "GET", legacyV+"/destinations/"+str(d, "id"), ""); str(got, "url") != "https://mock.hookdeck.com" {
		t.Errorf("legacy mock url = %v", got["url"])
	}
	if got := b.must(200, "GET", typedV+"/destinations?type=MOCK_API", ""); len(models(t, got)) != 1 {
		t.Errorf("type filter: %v", got)
	}
	if got := b.must(200, "GET", typedV+"/destinations/count?type=HTTP", ""); got["count"] != float64(0) {
		t.Errorf("count HTTP = %v", got)
	}
}
