package api

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-gw/sluice/internal/verify"
)

// setupWith starts the API like setup, with the Config changed by mod.
func setupWith(t *testing.T, mod func(*Config)) *bundle {
	t.Helper()
	st := openStore(t)
	b := &bundle{t: t, ctx: t.Context(), store: st}
	team, err := st.EnsureDefaultTeam(b.ctx)
	if err != nil {
		t.Fatalf("default team: %v", err)
	}
	b.team = team
	cfg := Config{
		Store: st, Team: team, APIKey: testKey, PublicURL: testPublicURL,
		Events: &storeRetrier{st: st}, Requests: &requestRetrier{st: st},
		Waker:  func() { b.woken.Add(1) },
		Logger: slog.New(slog.NewTextHandler(tWriter{t}, nil)),
	}
	mod(&cfg)
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	return b
}

// setupVerified is setup with source settings checked by verify.Validate,
// as the server wires it.
func setupVerified(t *testing.T) *bundle {
	return setupWith(t, func(c *Config) { c.ValidateSource = verify.Validate })
}

func TestPresetSourcesBothDialects(t *testing.T) {
	b := setupVerified(t)
	const secret = "whsec_stripe_0123456789"
	cases := []struct {
		name, version, body string
		typ, authType       string // typed answer: type, config.auth_type (absent when "")
	}{
		{"typed preset type", typedV, `{"name":"stripe-typed","type":"STRIPE","config":{"auth":{"webhook_secret_key":"` + secret + `"}}}`, "STRIPE", ""},
		{"typed preset type lower case", typedV, `{"name":"stripe-lower","type":"stripe","config":{"auth":{"webhook_secret_key":"` + secret + `"}}}`, "STRIPE", ""},
		{"webhook with a preset auth type", typedV, `{"name":"stripe-webhook","type":"WEBHOOK","config":{"auth_type":"STRIPE","auth":{"webhook_secret_key":"` + secret + `"}}}`, "WEBHOOK", "STRIPE"},
		{"legacy verification", legacyV, `{"name":"stripe-legacy","verification":{"type":"stripe","configs":{"webhook_secret_key":"` + secret + `"}}}`, "WEBHOOK", "STRIPE"},
		{"legacy verification in a typed version", typedV, `{"name":"stripe-mixed","verification":{"type":"stripe","configs":{"webhook_secret_key":"` + secret + `"}}}`, "WEBHOOK", "STRIPE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := str(b.must(200, "POST", c.version+"/sources", c.body), "id")
			typed := b.must(200, "GET", typedV+"/sources/"+id, "")
			if str(typed, "type") != c.typ || get(typed, "authenticated") != true {
				t.Errorf("typed type = %v, authenticated = %v", typed["type"], typed["authenticated"])
			}
			at, has := get(typed, "config").(map[string]any)["auth_type"]
			if c.authType == "" && has {
				t.Errorf("preset-typed source renders config.auth_type %v", at)
			}
			if c.authType != "" && at != c.authType {
				t.Errorf("config.auth_type = %v, want %s", at, c.authType)
			}
			if got := str(typed, "config", "auth", "webhook_secret_key"); got != mask(secret) {
				t.Errorf("typed secret = %q, want masked", got)
			}
			legacy := b.must(200, "GET", legacyV+"/sources/"+id, "")
			if got, _ := get(legacy, "verification").(map[string]any); got["type"] != "stripe" || got["configs"] != nil {
				t.Errorf("legacy verification = %v, want {type: stripe} without configs", got)
			}
			revealed := b.must(200, "GET", legacyV+"/sources/"+id+"?include=verification.configs", "")
			if got := str(revealed, "verification", "configs", "webhook_secret_key"); got != secret {
				t.Errorf("revealed legacy secret = %q", got)
			}
			revealed = b.must(200, "GET", typedV+"/sources/"+id+"?include=config.auth", "")
			if got := str(revealed, "config", "auth", "webhook_secret_key"); got != secret {
				t.Errorf("revealed typed secret = %q", got)
			}
		})
	}
}

func TestPresetSourceErrors(t *testing.T) {
	b := setupVerified(t)
	cases := []struct {
		name, version, path, body, field, says string
	}{
		{"typed preset without its secret", typedV, "/sources", `{"name":"s","type":"STRIPE","config":{"auth":{"other":"x"}}}`,
			"config.auth.webhook_secret_key", "required for STRIPE"},
		{"webhook preset auth type without its secret", typedV, "/sources", `{"name":"s","config":{"auth_type":"GITHUB"}}`,
			"config.auth.webhook_secret_key", "required for GITHUB"},
		{"legacy preset without its secret", legacyV, "/sources", `{"name":"s","verification":{"type":"shopify","configs":{}}}`,
			"verification.configs.webhook_secret_key", "required for SHOPIFY"},
		{"legacy basic auth names its fields as legacy does", legacyV, "/sources", `{"name":"s","verification":{"type":"basic_auth","configs":{"password":"p"}}}`,
			"verification.configs.name", "required"},
		{"a secret in the wrong format", typedV, "/sources", `{"name":"s","type":"SVIX","config":{"auth":{"webhook_secret_key":"not base64!"}}}`,
			"config.auth.webhook_secret_key", "whsec_"},
		{"a public key in the wrong format", typedV, "/sources", `{"name":"s","type":"DISCORD","config":{"auth":{"public_key":"zz"}}}`,
			"config.auth.public_key", "Ed25519"},
		{"an unsupported preset type", typedV, "/sources", `{"name":"s","type":"NOT_A_PROVIDER","config":{"auth":{"webhook_secret_key":"x"}}}`,
			"type", "not supported"},
		{"an unsupported legacy verification", legacyV, "/sources", `{"name":"s","verification":{"type":"carrier_pigeon","configs":{"k":"v"}}}`,
			"verification.type", "not supported"},
		{"a preset type with another auth type", typedV, "/sources", `{"name":"s","type":"STRIPE","config":{"auth_type":"GITHUB","auth":{"webhook_secret_key":"x"}}}`,
			"config.auth_type", "STRIPE source verifies with STRIPE"},
		{"inline in a connection", typedV, "/connections", `{"name":"c","source":{"name":"s","type":"STRIPE","config":{"auth":{"webhook_secret_key":""}}},"destination":{"name":"d","type":"MOCK_API"}}`,
			"source.config.auth.webhook_secret_key", "required for STRIPE"},
		{"inline legacy in a connection", legacyV, "/connections", `{"name":"c","source":{"name":"s","verification":{"type":"stripe"}},"destination":{"name":"d","url":"https://example.test"}}`,
			"source.verification.configs.webhook_secret_key", "required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := b.call("POST", c.version+c.path, c.body)
			if res.status != 422 || str(res.body, "data", "field") != c.field || !strings.Contains(str(res.body, "message"), c.says) {
				t.Errorf("answer %d %s; want 422 naming %s and saying %q", res.status, res.raw, c.field, c.says)
			}
		})
	}
	if n := b.must(200, "GET", typedV+"/sources/count", ""); n["count"] != float64(0) {
		t.Errorf("sources after refusals = %v", n["count"])
	}
}
