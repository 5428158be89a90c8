package compat

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHookdeckCLIResources drives the CLI's transformation commands, a
// connection with rules (a transformation named by the CLI, filter, retry,
// delay), and sources and destinations with other auth types; every answer
// is validated strictly.
func TestHookdeckCLIResources(t *testing.T) {
	v := openAPI(t)
	for _, cv := range cliVersions {
		t.Run(cv.version, func(t *testing.T) {
			t.Parallel()
			bin := cliBinary(t, cv.version)
			g := start(t, backend{name: "sqlite", dataDir: t.TempDir()})
			rec, proxyURL := recordingProxy(t, g, v)
			c := newCLI(t, bin, proxyURL, wsBase(g))
			login(t, c)
			runCLITransformations(t, c, g)
			runCLIAuthTypes(t, c)
			requireDialect(t, rec, cv.api)
			requireValid(t, rec)
		})
	}
}

// cliTransformation is the part of a transformation the tests read.
type cliTransformation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Code string `json:"code"`
}

// runCLITransformations creates, reads and runs a transformation, applies
// it by name in a connection's rules and checks that a webhook runs it.
func runCLITransformations(t *testing.T, c *cli, g *gateway) {
	const code = `addHandler("transform", (request, context) => { request.headers["x-transformed"] = "yes"; return request; });`
	var tr cliTransformation
	c.mustJSON(&tr, "gateway", "transformation", "create", "--name", "tag-it", "--code", code)
	if tr.ID == "" || tr.Name != "tag-it" || tr.Code != code {
		t.Fatalf("transformation create = %+v", tr)
	}
	var trs list[cliTransformation]
	c.mustJSON(&trs, "gateway", "transformation", "list")
	if len(trs.Models) != 1 || trs.Models[0].ID != tr.ID {
		t.Errorf("transformation list = %+v", trs.Models)
	}
	var got cliTransformation
	c.mustJSON(&got, "gateway", "transformation", "get", "tag-it")
	if got.ID != tr.ID {
		t.Errorf("transformation get by name = %+v", got)
	}
	c.must("gateway", "transformation", "count")
	c.mustJSON(&got, "gateway", "transformation", "upsert", "tag-it", "--code", code)
	if got.ID != tr.ID {
		t.Errorf("transformation upsert made %s, want %s", got.ID, tr.ID)
	}
	var run struct {
		Request struct {
			Headers map[string]any `json:"headers"`
			Body    any            `json:"body"`
		} `json:"request"`
	}
	c.mustJSON(&run, "gateway", "transformation", "run", "--code", code, "--request", `{"headers":{},"body":{"a":1}}`)
	if run.Request.Headers["x-transformed"] != "yes" {
		t.Errorf("transformation run output = %+v, want the header set", run.Request)
	}

	// Rules: the transformation by name, a filter, retry and delay.
	var conn struct {
		ID     string            `json:"id"`
		Rules  []json.RawMessage `json:"rules"`
		Source struct {
			URL string `json:"url"`
		} `json:"source"`
	}
	c.mustJSON(&conn, "gateway", "connection", "upsert", "ruled",
		"--source-name", "ruled-src", "--source-type", "WEBHOOK",
		"--destination-name", "ruled-dst", "--destination-type", "MOCK_API",
		"--rule-transform-name", "tag-it", "--rule-filter-body", `{"keep":true}`,
		"--rule-retry-strategy", "linear", "--rule-retry-count", "3", "--rule-retry-interval", "10000",
		"--rule-delay", "100")
	rules := map[string]map[string]any{}
	for _, raw := range conn.Rules {
		var r map[string]any
		_ = json.Unmarshal(raw, &r)
		typ, _ := r["type"].(string)
		rules[typ] = r
	}
	if rules["transform"]["transformation_id"] != tr.ID || rules["filter"] == nil || rules["retry"] == nil || rules["delay"] == nil {
		t.Fatalf("connection rules = %s, want transform (by id %s), filter, retry and delay", conn.Rules, tr.ID)
	}
	if code := send(t, conn.Source.URL, nil, `{"keep":true}`); code != http.StatusOK {
		t.Fatalf("webhook = %d", code)
	}
	waitFor(t, 20*time.Second, "a transformation execution", func() bool {
		var ex list[struct {
			ID string `json:"id"`
		}]
		g.api("GET", "/transformations/"+tr.ID+"/executions", nil, &ex)
		return len(ex.Models) > 0
	})
	var ex list[struct {
		ID string `json:"id"`
	}]
	c.mustJSON(&ex, "gateway", "transformation", "executions", "list", "tag-it")
	if len(ex.Models) == 0 {
		t.Errorf("transformation executions list is empty")
	}
}

// runCLIAuthTypes creates sources and destinations with other auth types
// and checks what the CLI reads back.
func runCLIAuthTypes(t *testing.T, c *cli) {
	type resource struct {
		ID     string `json:"id"`
		Type   string `json:"type"`
		Config struct {
			AuthType string            `json:"auth_type"`
			Auth     map[string]string `json:"auth"`
			Path     string            `json:"path"`
		} `json:"config"`
		DisabledAt *string `json:"disabled_at"`
	}
	cases := []struct {
		name     string
		args     []string
		typ      string
		authType string
	}{
		// Sources get their auth as --config: the --basic-auth-*/--hmac-*
		// flags of `gateway source` make the CLI download an OpenAPI
		// document from api.hookdeck.com whatever --api-base says.
		{"basic-src", []string{"gateway", "source", "upsert", "basic-src", "--type", "WEBHOOK",
			"--config", `{"auth_type":"BASIC_AUTH","auth":{"username":"u","password":"p4ssw0rd-secret"}}`}, "WEBHOOK", "BASIC_AUTH"},
		{"hmac-src", []string{"gateway", "source", "upsert", "hmac-src", "--type", "WEBHOOK",
			"--config", `{"auth_type":"HMAC","auth":{"webhook_secret_key":"hmac-secret-123","algorithm":"sha256","encoding":"hex","header_key":"x-signature"}}`}, "WEBHOOK", "HMAC"},
		{"stripe-src", []string{"gateway", "source", "create", "--name", "stripe-src", "--type", "STRIPE", "--webhook-secret", "whsec_0123456789"}, "STRIPE", ""},
		{"basic-dst", []string{"gateway", "destination", "upsert", "basic-dst", "--type", "HTTP", "--url", "http://127.0.0.1:1/x", "--auth-method", "basic", "--basic-auth-user", "u", "--basic-auth-pass", "p4ssw0rd-secret"}, "HTTP", "BASIC_AUTH"},
		{"cli-dst", []string{"gateway", "destination", "upsert", "cli-dst", "--type", "CLI", "--cli-path", "/hooks"}, "CLI", "HOOKDECK_SIGNATURE"},
	}
	for _, tc := range cases {
		var r resource
		c.mustJSON(&r, tc.args...)
		if r.ID == "" || r.Type != tc.typ || r.Config.AuthType != tc.authType {
			t.Errorf("%s = type %s auth_type %q, want %s %q", tc.name, r.Type, r.Config.AuthType, tc.typ, tc.authType)
		}
		for k, val := range r.Config.Auth {
			if strings.Contains(val, "secret") || strings.HasPrefix(val, "whsec_") {
				t.Errorf("%s: auth %s is echoed in full", tc.name, k)
			}
		}
		kind := tc.args[1]
		c.must("gateway", kind, "disable", r.ID)
		c.mustJSON(&r, "gateway", kind, "get", r.ID)
		if r.DisabledAt == nil {
			t.Errorf("%s: disabled_at null after disable", tc.name)
		}
		c.must("gateway", kind, "enable", r.ID)
	}
}
