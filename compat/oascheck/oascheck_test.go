package oascheck

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	loadOnce sync.Once
	loaded   *Validator
	loadErr  error
)

// validator loads the document once; without it the test is skipped, or
// failed when CI is set.
func validator(t *testing.T) *Validator {
	t.Helper()
	path := os.Getenv("SLUICE_COMPAT_OPENAPI")
	if path == "" {
		path = filepath.Join("..", "..", "..", "shared", "reference", "hookdeck-openapi-2025-07-01.json")
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the OpenAPI document is absent (required in CI): %v", err)
		}
		t.Skipf("the OpenAPI document is absent: %v", err)
	}
	loadOnce.Do(func() { loaded, loadErr = Load(path) })
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}

const (
	times     = `"disabled_at":null,"updated_at":"2026-01-02T03:04:05.000Z","created_at":"2026-01-02T03:04:05.000Z"`
	srcCommon = `"id":"src_1","name":"s","description":null,"team_id":"tm_1","url":"http://127.0.0.1:1/1",` + times
	typedSrc  = `{` + srcCommon + `,"type":"WEBHOOK","authenticated":true,"config":{"allowed_http_methods":["POST"],"custom_response":null,"auth_type":"API_KEY","auth":{"api_key":"****1234","header_key":"x-api-key"}}}`
	legacySrc = `{` + srcCommon + `,"allowed_http_methods":["POST"],"custom_response":null,"verification":{"type":"api_key"}}`
	dstCommon = `"id":"des_1","name":"d","description":null,"team_id":"tm_1",` + times
	request   = `{"id":"req_1","team_id":"tm_1","verified":true,"original_event_data_id":"edt_1","rejection_cause":null,"ingested_at":"2026-01-02T03:04:05.000Z","source_id":"src_1","events_count":1,"cli_events_count":0,"ignored_count":0,"updated_at":"2026-01-02T03:04:05.000Z","created_at":"2026-01-02T03:04:05.000Z"}`
	notFound  = `{"code":"NOT_FOUND","status":404,"message":"connection \"web_x\" not found","data":{"id":"web_x"}}`
)

// typedDst is a typed HTTP destination with the given config.auth.
func typedDst(auth string) string {
	return `{` + dstCommon + `,"type":"HTTP","config":{"url":"http://127.0.0.1:1/x","rate_limit":null,"rate_limit_period":"second","path_forwarding_disabled":false,"http_method":null,"auth_type":"HOOKDECK_SIGNATURE","auth":` + auth + `}}`
}

func TestCheck(t *testing.T) {
	v := validator(t)
	tests := []struct {
		name, method, path string
		status             int
		body               string
		want               string // "valid", "invalid" or "skipped"
		problem            string // part of the problem or skip reason
	}{
		{"typed source", "GET", "/2025-07-01/sources/src_1", 200, typedSrc, "valid", ""},
		{"2026 is typed too", "GET", "/2026-09-01/sources/src_1", 200, typedSrc, "valid", ""},
		{"unknown field", "GET", "/2025-07-01/sources/src_1", 200, strings.Replace(typedSrc, `"name":"s"`, `"name":"s","extra":1`, 1), "invalid", `property "extra" is unsupported`},
		{"config of another type", "GET", "/2025-07-01/sources/src_1", 200, strings.Replace(typedSrc, `"type":"WEBHOOK"`, `"type":"STRIPE"`, 1), "invalid", "auth_type"},
		{"legacy source on a typed version", "GET", "/2025-07-01/sources/src_1", 200, legacySrc, "invalid", ""},
		{"legacy source on the SDK's version", "GET", "/2024-09-01/sources/src_1", 200, legacySrc, "valid", ""},
		{"legacy keeps the shared fields strict", "GET", "/2024-09-01/sources/src_1", 200, strings.Replace(legacySrc, `"team_id":"tm_1"`, `"team_id":7`, 1), "invalid", "team_id"},
		{"destination auth null", "GET", "/2025-07-01/destinations/des_1", 200, typedDst("null"), "valid", ""},
		{"destination auth {}", "GET", "/2025-07-01/destinations/des_1", 200, typedDst("{}"), "valid", ""},
		{"auth of another type", "GET", "/2025-07-01/destinations/des_1", 200, typedDst(`{"token":"****abcd"}`), "invalid", "token"},
		{"basic auth source", "GET", "/2025-07-01/sources/src_1", 200, strings.Replace(strings.Replace(typedSrc, `"API_KEY"`, `"BASIC_AUTH"`, 1),
			`{"api_key":"****1234","header_key":"x-api-key"}`, `{"username":"u","password":"********"}`, 1), "valid", ""},
		{"source without auth", "GET", "/2025-07-01/sources/src_1", 200, strings.Replace(typedSrc,
			`,"auth_type":"API_KEY","auth":{"api_key":"****1234","header_key":"x-api-key"}`, ``, 1), "valid", ""},
		{"auth_type without its fields", "GET", "/2025-07-01/sources/src_1", 200, strings.Replace(typedSrc, `"API_KEY"`, `"HMAC"`, 1), "invalid", "webhook_secret_key"},
		{"destination bearer auth", "GET", "/2025-07-01/destinations/des_1", 200, strings.Replace(typedDst(`{"token":"****abcd"}`), "HOOKDECK_SIGNATURE", "BEARER_TOKEN", 1), "valid", ""},
		{"list without cursors", "GET", "/2025-07-01/requests", 200, `{"pagination":{"order_by":"created_at","dir":"desc","limit":100},"count":1,"models":[` + request + `]}`, "valid", ""},
		{"null cursor", "GET", "/2025-07-01/requests", 200, `{"pagination":{"order_by":"created_at","dir":"desc","limit":100,"next":null},"count":0,"models":[]}`, "invalid", "/pagination/next"},
		{"string-or-object body", "PUT", "/2025-07-01/transformations/run", 200, `{"request_id":null,"transformation_id":null,"execution_id":null,"log_level":"debug","request":{"headers":{"content-type":"application/json"},"path":"","query":"","parsed_query":{},"body":{"a":1}},"console":[]}`, "valid", ""},
		{"count route is not an id", "GET", "/2025-07-01/connections/count", 200, `{"count":2}`, "valid", ""},
		{"documented error", "GET", "/2025-07-01/connections/web_x", 404, notFound, "valid", ""},
		{"undocumented status", "GET", "/2025-07-01/connections", 401, notFound, "skipped", "status 401"},
		{"route outside the document", "POST", "/2025-07-01/cli-sessions", 200, `{"id":"cses_1"}`, "skipped", "no path"},
		{"no version", "GET", "/healthz", 200, `{"status":"ok"}`, "skipped", "version prefix"},
		{"WebSocket upgrade", "GET", "/ws", 101, "", "skipped", "WebSocket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://sluice"+tc.path, nil)
			h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
			r := v.Check(req, tc.status, h, []byte(tc.body))
			got := "valid"
			detail := ""
			switch {
			case r.Err != nil:
				got, detail = "invalid", r.Err.Error()
			case r.Skipped != "":
				got, detail = "skipped", r.Skipped
			}
			t.Logf("%s: %s", got, detail)
			if got != tc.want || !strings.Contains(detail, tc.problem) {
				t.Errorf("%s = %s (%s), want %s with %q", tc.name, got, detail, tc.want, tc.problem)
			}
		})
	}
}

// TestTransportRecords checks that the transport records answers and
// hands the body on intact.
func TestTransportRecords(t *testing.T) {
	v := validator(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"count":3}`))
	}))
	defer srv.Close()
	rec := NewRecorder(v)
	c := &http.Client{Transport: &Transport{Rec: rec}}
	resp, err := c.Get(srv.URL + "/2025-07-01/sources/count")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := new(strings.Builder)
	if _, err := io.Copy(buf, resp.Body); err != nil {
		t.Fatal(err)
	}
	if buf.String() != `{"count":3}` {
		t.Errorf("body handed on = %q", buf.String())
	}
	rs := rec.Results()
	if len(rs) != 1 || !rs[0].Validated() || rs[0].Operation != "GET /sources/count" {
		t.Errorf("results = %v, want one validated GET /sources/count", rs)
	}
}
