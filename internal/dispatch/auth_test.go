package dispatch

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/sluice-gw/sluice/internal/model"
)

func TestAuthorize(t *testing.T) {
	t.Parallel()
	var tokenCalls atomic.Int32
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenCalls.Add(1)
		_ = r.ParseForm()
		user, pass, ok := r.BasicAuth()
		if r.Form.Get("grant_type") != "client_credentials" || !ok || user != "cid" || pass != "csecret" {
			http.Error(w, "bad client", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"access_token":"tok-%s","expires_in":3600}`, r.Form.Get("scope"))
	}))
	defer tokens.Close()

	d := New(nil, Config{SigningSecret: "project-secret", Workers: 1})
	body := []byte(`{"a":1}`)
	tests := []struct {
		name   string
		cfg    model.DestinationConfig
		header string
		want   string
		query  string
	}{
		{"hookdeck signature by default", model.DestinationConfig{}, "X-Hookdeck-Signature", sign("project-secret", body), ""},
		{"custom signature", model.DestinationConfig{AuthType: "CUSTOM_SIGNATURE", Auth: map[string]string{"key": "X-Sig", "signing_secret": "s"}}, "X-Sig", hex256("s", body), ""},
		{"basic", model.DestinationConfig{AuthType: "BASIC_AUTH", Auth: map[string]string{"username": "u", "password": "p"}}, "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p")), ""},
		{"bearer", model.DestinationConfig{AuthType: "BEARER_TOKEN", Auth: map[string]string{"token": "t0k"}}, "Authorization", "Bearer t0k", ""},
		{"api key header", model.DestinationConfig{AuthType: "API_KEY", Auth: map[string]string{"key": "X-Key", "api_key": "k1", "to": "header"}}, "X-Key", "k1", ""},
		{"api key query", model.DestinationConfig{AuthType: "API_KEY", Auth: map[string]string{"key": "key", "api_key": "k 2", "to": "query"}}, "", "", "key=k+2"},
		{"oauth2 client credentials", model.DestinationConfig{AuthType: "OAUTH2_CLIENT_CREDENTIALS", Auth: map[string]string{"auth_server": tokens.URL, "client_id": "cid", "client_secret": "csecret", "scope": "write"}}, "Authorization", "Bearer tok-write", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // the second run of OAuth2 must use the cached token
				req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "http://127.0.0.1/x", nil)
				if err := d.authorize(req, tt.cfg, body); err != nil {
					t.Fatal(err)
				}
				if tt.header != "" && req.Header.Get(tt.header) != tt.want {
					t.Fatalf("%s = %q, want %q", tt.header, req.Header.Get(tt.header), tt.want)
				}
				if tt.query != "" && req.URL.RawQuery != tt.query {
					t.Fatalf("query = %q, want %q", req.URL.RawQuery, tt.query)
				}
				if tt.cfg.AuthType != "" && tt.cfg.AuthType != "HOOKDECK_SIGNATURE" && req.Header.Get("X-Hookdeck-Signature") != "" {
					t.Fatal("the Hookdeck signature is sent with another auth type")
				}
			}
		})
	}
	if n := tokenCalls.Load(); n != 1 {
		t.Fatalf("token endpoint called %d times, want 1 (cached)", n)
	}
	bad := model.DestinationConfig{AuthType: "OAUTH2_CLIENT_CREDENTIALS", Auth: map[string]string{"auth_server": tokens.URL, "client_id": "cid", "client_secret": "wrong"}}
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/x", nil)
	if err := d.authorize(req, bad, body); err == nil {
		t.Fatal("a refused client got a token")
	}
}
