// Package verify checks that an inbound request really comes from the
// source's sender, by the source's verification scheme: an API key in a
// header, HTTP Basic credentials, an HMAC signature of the raw body, or a
// provider preset that verifies the provider's own signing scheme (see
// Presets). Every comparison of a secret is constant-time.
package verify

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
)

// Verification schemes (a source's AuthType).
const (
	APIKey    = "API_KEY"
	BasicAuth = "BASIC_AUTH"
	HMAC      = "HMAC"
)

// ErrFailed is wrapped by every verification failure.
var ErrFailed = errors.New("verification failed")

// Supported reports whether Sluice can verify requests of this scheme: a
// generic scheme or one of Presets.
func Supported(authType string) bool {
	switch authType {
	case "", APIKey, BasicAuth, HMAC:
		return true
	}
	_, ok := presets[authType]
	return ok
}

// Validate checks a source's verification settings, naming the missing or
// wrong field in its error.
func Validate(cfg model.SourceConfig) error {
	need := func(fields ...string) error {
		for _, f := range fields {
			if cfg.Auth[f] == "" {
				return fmt.Errorf("auth.%s is required for %s verification", f, cfg.AuthType)
			}
		}
		return nil
	}
	switch cfg.AuthType {
	case "":
		return nil
	case APIKey:
		return need("header_key", "api_key")
	case BasicAuth:
		return need("username", "password")
	case HMAC:
		if err := need("header_key", "webhook_secret_key"); err != nil {
			return err
		}
		if _, err := hasher(algorithm(cfg)); err != nil {
			return fmt.Errorf("auth.algorithm: %w", err)
		}
		if _, err := encoder(encoding(cfg)); err != nil {
			return fmt.Errorf("auth.encoding: %w", err)
		}
		return nil
	default:
		if p, ok := presets[cfg.AuthType]; ok {
			return validatePreset(cfg.AuthType, p, cfg.Auth)
		}
		return fmt.Errorf("auth_type %q is not supported (want API_KEY, BASIC_AUTH, HMAC or a preset: %s)",
			cfg.AuthType, strings.Join(Presets(), ", "))
	}
}

// Input is what verification sees of one inbound request.
type Input struct {
	Method string
	// URL is the full URL the sender addressed (public base + path +
	// query); some providers sign it.
	URL     string
	Headers http.Header
	Body    []byte
	// Now is the time of receipt, for timestamp tolerance checks.
	Now time.Time
}

// Request checks one request against the source's configuration. It
// returns nil when the request passes (or the source has no verification)
// and an error wrapping ErrFailed that says why otherwise.
func Request(cfg model.SourceConfig, in Input) error {
	h, body := in.Headers, in.Body
	switch cfg.AuthType {
	case "":
		return nil
	case APIKey:
		if !equal(h.Get(cfg.Auth["header_key"]), cfg.Auth["api_key"]) {
			return fmt.Errorf("%w: header %s does not hold the source's API key", ErrFailed, cfg.Auth["header_key"])
		}
		return nil
	case BasicAuth:
		return checkBasic(cfg.Auth, in)
	case HMAC:
		return checkHMAC(cfg, h, body)
	default:
		if p, ok := presets[cfg.AuthType]; ok {
			return p.check(cfg.Auth, in)
		}
		return fmt.Errorf("%w: verification type %q is not supported", ErrFailed, cfg.AuthType)
	}
}

func checkHMAC(cfg model.SourceConfig, h http.Header, body []byte) error {
	newHash, err := hasher(algorithm(cfg))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFailed, err)
	}
	encode, err := encoder(encoding(cfg))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFailed, err)
	}
	got := strings.TrimSpace(h.Get(cfg.Auth["header_key"]))
	if got == "" {
		return fmt.Errorf("%w: signature header %s is missing", ErrFailed, cfg.Auth["header_key"])
	}
	// Senders often prefix the algorithm ("sha256=…"); accept that form.
	if i := strings.IndexByte(got, '='); i > 0 && strings.EqualFold(got[:i], algorithm(cfg)) {
		got = got[i+1:]
	}
	mac := hmac.New(newHash, []byte(cfg.Auth["webhook_secret_key"]))
	mac.Write(body)
	if !equal(got, encode(mac.Sum(nil))) {
		return fmt.Errorf("%w: signature in %s does not match the body", ErrFailed, cfg.Auth["header_key"])
	}
	return nil
}

func algorithm(cfg model.SourceConfig) string {
	if a := cfg.Auth["algorithm"]; a != "" {
		return strings.ToLower(a)
	}
	return "sha256"
}

func encoding(cfg model.SourceConfig) string {
	if e := cfg.Auth["encoding"]; e != "" {
		return strings.ToLower(e)
	}
	return "hex"
}

func hasher(alg string) (func() hash.Hash, error) {
	switch alg {
	case "sha1":
		return sha1.New, nil
	case "sha256":
		return sha256.New, nil
	case "sha512":
		return sha512.New, nil
	case "md5":
		return md5.New, nil
	}
	return nil, fmt.Errorf("unknown algorithm %q (want sha1, sha256, sha512 or md5)", alg)
}

func encoder(enc string) (func([]byte) string, error) {
	switch enc {
	case "hex":
		return hex.EncodeToString, nil
	case "base64":
		return base64.StdEncoding.EncodeToString, nil
	case "base64url":
		return base64.RawURLEncoding.EncodeToString, nil
	}
	return nil, fmt.Errorf("unknown encoding %q (want hex, base64 or base64url)", enc)
}

// checkBasic compares the request's HTTP Basic credentials with the
// source's username and password.
func checkBasic(auth map[string]string, in Input) error {
	user, pass, ok := (&http.Request{Header: in.Headers}).BasicAuth()
	// Evaluate both comparisons so timing does not reveal which failed.
	okUser := equal(user, auth["username"])
	okPass := equal(pass, auth["password"])
	if !ok || !okUser || !okPass {
		return fmt.Errorf("%w: basic credentials do not match", ErrFailed)
	}
	return nil
}

// equal compares two strings in constant time (for equal lengths).
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
