package apikey

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"
)

func TestAuthorized(t *testing.T) {
	t.Parallel()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, header, key string
		ok                bool
	}{
		{"bearer", "Bearer sk_1", "sk_1", true},
		{"bearer lower-case scheme", "bearer sk_1", "sk_1", true},
		{"bearer wrong", "Bearer sk_2", "sk_1", false},
		{"basic empty password", "Basic " + b64("sk_1:"), "sk_1", true},
		{"basic with password", "Basic " + b64("sk_1:x"), "sk_1", true},
		{"basic wrong", "Basic " + b64("sk_2:"), "sk_1", false},
		{"basic not base64", "Basic !!!", "sk_1", false},
		{"other scheme", "Token sk_1", "sk_1", false},
		{"missing", "", "sk_1", false},
		{"empty key never matches", "Bearer ", "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		if got := Authorized(r, tt.key); got != tt.ok {
			t.Errorf("%s: Authorized = %v, want %v", tt.name, got, tt.ok)
		}
	}
}
