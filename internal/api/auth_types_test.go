package api

import (
	"strings"
	"testing"
)

// destinationAuthCase is one auth type written in both dialects.
type destinationAuthCase struct {
	name     string
	authType string
	auth     string            // JSON object of the auth fields
	public   map[string]string // fields rendered as given
	secret   map[string]string // fields rendered masked unless revealed
}

var destinationAuthCases = []destinationAuthCase{
	{name: "hookdeck signature", authType: "HOOKDECK_SIGNATURE", auth: `{}`},
	{name: "custom signature", authType: "CUSTOM_SIGNATURE", auth: `{"key":"x-signature","signing_secret":"sig-secret-0001"}`,
		public: map[string]string{"key": "x-signature"}, secret: map[string]string{"signing_secret": "sig-secret-0001"}},
	{name: "basic auth", authType: "BASIC_AUTH", auth: `{"username":"alice","password":"pa55word-0002"}`,
		public: map[string]string{"username": "alice"}, secret: map[string]string{"password": "pa55word-0002"}},
	{name: "api key in a header", authType: "API_KEY", auth: `{"key":"x-api-key","api_key":"key-0003-abcdef","to":"header"}`,
		public: map[string]string{"key": "x-api-key", "to": "header"}, secret: map[string]string{"api_key": "key-0003-abcdef"}},
	{name: "api key in the query", authType: "API_KEY", auth: `{"key":"token","api_key":"key-0004-abcdef","to":"query"}`,
		public: map[string]string{"key": "token", "to": "query"}, secret: map[string]string{"api_key": "key-0004-abcdef"}},
	{name: "bearer token", authType: "BEARER_TOKEN", auth: `{"token":"tok-0005-abcdef"}`,
		secret: map[string]string{"token": "tok-0005-abcdef"}},
	{name: "oauth2 client credentials", authType: "OAUTH2_CLIENT_CREDENTIALS",
		auth:   `{"auth_server":"https://auth.example.test/token","client_id":"cid","client_secret":"csecret-0006","scope":"read write","authentication_type":"bearer"}`,
		public: map[string]string{"auth_server": "https://auth.example.test/token", "client_id": "cid", "scope": "read write", "authentication_type": "bearer"},
		secret: map[string]string{"client_secret": "csecret-0006"}},
}

func TestDestinationAuthTypesBothDialects(t *testing.T) {
	b := setup(t)
	for i, c := range destinationAuthCases {
		t.Run(c.name, func(t *testing.T) {
			bodies := map[string]string{
				"typed":  `{"name":"typed-` + itoa(i) + `","type":"HTTP","config":{"url":"https://example.test","auth_type":"` + c.authType + `","auth":` + c.auth + `}}`,
				"legacy": `{"name":"legacy-` + itoa(i) + `","url":"https://example.test","auth_method":{"type":"` + c.authType + `","config":` + c.auth + `}}`,
			}
			for dialect, body := range bodies {
				v := typedV
				if dialect == "legacy" {
					v = legacyV
				}
				created := b.must(200, "POST", v+"/destinations", body)
				id := str(created, "id")
				typed := b.must(200, "GET", typedV+"/destinations/"+id, "")
				legacy := b.must(200, "GET", legacyV+"/destinations/"+id, "")
				revealed := b.must(200, "GET", typedV+"/destinations/"+id+"?include=config.auth", "")
				if got := str(typed, "config", "auth_type"); got != c.authType {
					t.Errorf("%s: typed auth_type = %q", dialect, got)
				}
				if got := str(legacy, "auth_method", "type"); got != c.authType {
					t.Errorf("%s: legacy auth_method.type = %q", dialect, got)
				}
				for k, want := range c.public {
					if got := str(typed, "config", "auth", k); got != want {
						t.Errorf("%s: typed auth.%s = %q, want %q", dialect, k, got, want)
					}
					if got := str(legacy, "auth_method", "config", k); got != want {
						t.Errorf("%s: legacy auth_method.config.%s = %q, want %q", dialect, k, got, want)
					}
				}
				for k, secret := range c.secret {
					masked := mask(secret)
					if got := str(typed, "config", "auth", k); got != masked {
						t.Errorf("%s: typed auth.%s = %q, want masked %q", dialect, k, got, masked)
					}
					if got := str(legacy, "auth_method", "config", k); got != masked {
						t.Errorf("%s: legacy auth_method.config.%s = %q, want masked", dialect, k, got)
					}
					if got := str(revealed, "config", "auth", k); got != secret {
						t.Errorf("%s: revealed auth.%s = %q, want %q", dialect, k, got, secret)
					}
				}
				if n := len(keys(get(typed, "config", "auth"))); n != len(c.public)+len(c.secret) {
					t.Errorf("%s: auth has %d fields: %v", dialect, n, get(typed, "config", "auth"))
				}
			}
		})
	}
}

func TestDestinationAuthErrors(t *testing.T) {
	b := setup(t)
	typed := func(authType, auth string) string {
		return `{"name":"d","config":{"url":"https://example.test","auth_type":"` + authType + `","auth":` + auth + `}}`
	}
	legacy := func(authType, auth string) string {
		return `{"name":"d","url":"https://example.test","auth_method":{"type":"` + authType + `","config":` + auth + `}}`
	}
	cases := []struct {
		name, version, body, field, says string
	}{
		{"typed basic without password", typedV, typed("BASIC_AUTH", `{"username":"u"}`), "config.auth.password", "required for BASIC_AUTH"},
		{"legacy basic without password", legacyV, legacy("BASIC_AUTH", `{"username":"u"}`), "auth_method.config.password", "required"},
		{"custom signature without key", typedV, typed("CUSTOM_SIGNATURE", `{"signing_secret":"s"}`), "config.auth.key", "required"},
		{"api key without api_key", typedV, typed("API_KEY", `{"key":"x-key"}`), "config.auth.api_key", "required"},
		{"api key to elsewhere", typedV, typed("API_KEY", `{"key":"x-key","api_key":"k","to":"body"}`), "config.auth.to", "header or query"},
		{"legacy api key to elsewhere", legacyV, legacy("API_KEY", `{"key":"x-key","api_key":"k","to":"cookie"}`), "auth_method.config.to", "header or query"},
		{"bearer without token", typedV, typed("BEARER_TOKEN", `{}`), "config.auth.token", "required"},
		{"oauth2 without secret", typedV, typed("OAUTH2_CLIENT_CREDENTIALS", `{"auth_server":"https://a.test","client_id":"c"}`), "config.auth.client_secret", "required"},
		{"oauth2 bad server", typedV, typed("OAUTH2_CLIENT_CREDENTIALS", `{"auth_server":"nope","client_id":"c","client_secret":"s"}`), "config.auth.auth_server", "absolute"},
		{"oauth2 bad authentication type", typedV, typed("OAUTH2_CLIENT_CREDENTIALS", `{"auth_server":"https://a.test","client_id":"c","client_secret":"s","authentication_type":"digest"}`), "config.auth.authentication_type", "basic or bearer"},
		{"unknown field", typedV, typed("BEARER_TOKEN", `{"token":"t","header_key":"x"}`), "config.auth.header_key", "not a field of BEARER_TOKEN"},
		{"hookdeck signature takes no fields", typedV, typed("HOOKDECK_SIGNATURE", `{"secret":"x"}`), "config.auth.secret", "not a field"},
		{"aws unsupported", typedV, typed("AWS_SIGNATURE", `{"access_key_id":"a","secret_access_key":"s"}`), "config.auth_type", "not supported"},
		{"gcp unsupported", typedV, typed("GCP_SERVICE_ACCOUNT", `{"service_account_key":"{}"}`), "config.auth_type", "not supported"},
		{"oauth2 authorization code unsupported", legacyV, legacy("OAUTH2_AUTHORIZATION_CODE", `{"auth_server":"https://a.test","client_id":"c","client_secret":"s","refresh_token":"r"}`), "auth_method.type", "not supported"},
		{"unknown type", typedV, typed("MAGIC", `{}`), "config.auth_type", "not a destination auth type"},
		{"inline in a connection", typedV, `{"name":"c","source":{"name":"s"},"destination":` + typed("BASIC_AUTH", `{"username":"u"}`) + `}`, "destination.config.auth.password", "required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.version + "/destinations"
			if strings.HasPrefix(c.name, "inline") {
				path = c.version + "/connections"
			}
			res := b.call("POST", path, c.body)
			if res.status != 422 || str(res.body, "data", "field") != c.field || !strings.Contains(str(res.body, "message"), c.says) {
				t.Errorf("answer %d %s; want 422 naming %s and saying %q", res.status, res.raw, c.field, c.says)
			}
		})
	}
	// Nothing was written by the refused requests.
	if n := b.must(200, "GET", typedV+"/destinations/count", ""); n["count"] != float64(0) {
		t.Errorf("destinations after refusals = %v", n["count"])
	}
}

func TestDestinationAuthUpdates(t *testing.T) {
	b := setup(t)
	d := b.must(200, "POST", typedV+"/destinations",
		`{"name":"d","config":{"url":"https://example.test","auth_type":"BEARER_TOKEN","auth":{"token":"tok-abcdefgh"}}}`)
	id := str(d, "id")
	// Writing back the masked token keeps it; switching type needs the new
	// type's fields.
	b.must(200, "PUT", typedV+"/destinations/"+id, `{"config":{"url":"https://example.test","auth_type":"BEARER_TOKEN","auth":{"token":"`+mask("tok-abcdefgh")+`"}}}`)
	if got := b.must(200, "GET", typedV+"/destinations/"+id+"?include=config.auth", ""); str(got, "config", "auth", "token") != "tok-abcdefgh" {
		t.Errorf("token after write-back = %v", get(got, "config", "auth"))
	}
	res := b.call("PUT", typedV+"/destinations/"+id, `{"config":{"url":"https://example.test","auth_type":"BASIC_AUTH"}}`)
	if res.status != 422 || str(res.body, "data", "field") != "config.auth.username" {
		t.Errorf("type switch without fields: %d %s", res.status, res.raw)
	}
	// The legacy auth_method switches back to Hookdeck's signature.
	up := b.must(200, "PUT", legacyV+"/destinations/"+id, `{"auth_method":{"type":"HOOKDECK_SIGNATURE","config":{}}}`)
	if str(up, "auth_method", "type") != "HOOKDECK_SIGNATURE" || len(keys(get(up, "auth_method", "config"))) != 0 {
		t.Errorf("legacy switch = %v", up["auth_method"])
	}
}

// itoa formats a small integer.
func itoa(i int) string {
	return string(rune('0'+i/10)) + string(rune('0'+i%10))
}
