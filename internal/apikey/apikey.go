// Package apikey checks the API key that clients send, the way Hookdeck's
// clients send it: as a Bearer token, or as the Basic username with an empty
// (or any) password. The comparison is constant-time.
package apikey

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// Authorized reports whether r carries key. An empty key authorizes
// nothing.
func Authorized(r *http.Request, key string) bool {
	if key == "" {
		return false
	}
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok {
		return false
	}
	cred = strings.TrimSpace(cred)
	var got string
	switch strings.ToLower(scheme) {
	case "bearer":
		got = cred
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return false
		}
		got, _, _ = strings.Cut(string(raw), ":")
	default:
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(key)) == 1
}
