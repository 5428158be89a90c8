package api

import (
	"strings"
)

// publicAuthKeys are auth fields that are not secret and are rendered as
// stored. Every other auth field is treated as a secret.
var publicAuthKeys = map[string]bool{
	"header_key": true, "username": true, "name": true, "algorithm": true, "encoding": true,
	"key": true, "to": true, "region": true, "service": true, "auth_server": true,
	"client_id": true, "scope": true, "authentication_type": true, "environment": true,
	"store_name": true, "public_key": true, "webhook_id": true,
}

// mask hides a secret: all but its last 4 characters become '*', and
// short secrets are hidden entirely.
func mask(s string) string {
	if s == "" {
		return ""
	}
	const keep = 4
	if len(s) < 2*keep {
		return strings.Repeat("*", 8)
	}
	return strings.Repeat("*", len(s)-keep) + s[len(s)-keep:]
}

// renderAuth copies an auth map for an answer, masking the secrets unless
// reveal is set. It returns nil for an empty map.
func renderAuth(auth map[string]string, reveal bool) map[string]string {
	if len(auth) == 0 {
		return nil
	}
	out := make(map[string]string, len(auth))
	for k, v := range auth {
		if reveal || publicAuthKeys[k] {
			out[k] = v
		} else {
			out[k] = mask(v)
		}
	}
	return out
}

// mergeAuth returns the auth map to store when a client sends given over
// existing. A secret sent back in its masked form (a client that read the
// resource and writes it back) keeps the stored value.
func mergeAuth(existing, given map[string]string) map[string]string {
	if given == nil {
		return nil
	}
	out := make(map[string]string, len(given))
	for k, v := range given {
		if old, ok := existing[k]; ok && old != v && !publicAuthKeys[k] && v == mask(old) {
			v = old
		}
		out[k] = v
	}
	return out
}

// revealAuth reports whether the query asks for secrets in full
// (include=config.auth, or the legacy include=verification.configs).
func revealAuth(q query) bool {
	return q.includes("config.auth") || q.includes("verification.configs") || q.includes("auth")
}
