package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
)

func sign(h func() hash.Hash, secret, body string, enc func([]byte) string) string {
	m := hmac.New(h, []byte(secret))
	m.Write([]byte(body))
	return enc(m.Sum(nil))
}

func TestRequest(t *testing.T) {
	t.Parallel()
	body := `{"type":"order.created"}`
	apiKey := model.SourceConfig{AuthType: APIKey, Auth: map[string]string{"header_key": "X-API-KEY", "api_key": "k-123"}}
	basic := model.SourceConfig{AuthType: BasicAuth, Auth: map[string]string{"username": "u", "password": "p"}}
	hmacCfg := func(alg, enc string) model.SourceConfig {
		return model.SourceConfig{AuthType: HMAC, Auth: map[string]string{"algorithm": alg, "encoding": enc, "header_key": "X-Sig", "webhook_secret_key": "s3cret"}}
	}
	basicHeader := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	tests := []struct {
		name    string
		cfg     model.SourceConfig
		headers map[string]string
		ok      bool
	}{
		{"none", model.SourceConfig{}, nil, true},
		{"api key ok", apiKey, map[string]string{"X-Api-Key": "k-123"}, true},
		{"api key wrong", apiKey, map[string]string{"X-Api-Key": "k-124"}, false},
		{"api key missing", apiKey, nil, false},
		{"basic ok", basic, map[string]string{"Authorization": basicHeader("u", "p")}, true},
		{"basic wrong password", basic, map[string]string{"Authorization": basicHeader("u", "x")}, false},
		{"basic missing", basic, nil, false},
		{"hmac sha256 hex", hmacCfg("sha256", "hex"), map[string]string{"X-Sig": sign(sha256.New, "s3cret", body, hex.EncodeToString)}, true},
		{"hmac sha256 prefixed", hmacCfg("sha256", "hex"), map[string]string{"X-Sig": "sha256=" + sign(sha256.New, "s3cret", body, hex.EncodeToString)}, true},
		{"hmac sha1 base64", hmacCfg("sha1", "base64"), map[string]string{"X-Sig": sign(sha1.New, "s3cret", body, base64.StdEncoding.EncodeToString)}, true},
		{"hmac sha512 base64url", hmacCfg("sha512", "base64url"), map[string]string{"X-Sig": sign(sha512.New, "s3cret", body, base64.RawURLEncoding.EncodeToString)}, true},
		{"hmac wrong secret", hmacCfg("sha256", "hex"), map[string]string{"X-Sig": sign(sha256.New, "other", body, hex.EncodeToString)}, false},
		{"hmac wrong encoding", hmacCfg("sha256", "base64"), map[string]string{"X-Sig": sign(sha256.New, "s3cret", body, hex.EncodeToString)}, false},
		{"hmac missing", hmacCfg("sha256", "hex"), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			err := Request(tt.cfg, Input{Method: "POST", Headers: h, Body: []byte(body), Now: time.Now()})
			if (err == nil) != tt.ok {
				t.Fatalf("Request() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrFailed) {
				t.Fatalf("error %v does not wrap ErrFailed", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  model.SourceConfig
		ok   bool
	}{
		{"none", model.SourceConfig{}, true},
		{"api key", model.SourceConfig{AuthType: APIKey, Auth: map[string]string{"header_key": "x", "api_key": "y"}}, true},
		{"api key missing key", model.SourceConfig{AuthType: APIKey, Auth: map[string]string{"header_key": "x"}}, false},
		{"hmac bad alg", model.SourceConfig{AuthType: HMAC, Auth: map[string]string{"header_key": "x", "webhook_secret_key": "y", "algorithm": "crc32"}}, false},
		{"unknown", model.SourceConfig{AuthType: "MAGIC"}, false},
	}
	for _, tt := range tests {
		if err := Validate(tt.cfg); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func FuzzRequest(f *testing.F) {
	f.Add("sha256", "hex", "sig", []byte("{}"))
	f.Add("sha1", "base64", "sha1=abc", []byte("x"))
	f.Fuzz(func(t *testing.T, alg, enc, sig string, body []byte) {
		cfg := model.SourceConfig{AuthType: HMAC, Auth: map[string]string{"algorithm": alg, "encoding": enc, "header_key": "X-Sig", "webhook_secret_key": "k"}}
		h := http.Header{}
		h.Set("X-Sig", sig)
		_ = Request(cfg, Input{Headers: h, Body: body}) // must never panic
		// Every preset, with the fuzzed signature in each header presets read.
		for _, k := range presetHeaders {
			h.Set(k, sig)
		}
		for _, name := range Presets() {
			auth := map[string]string{}
			for _, f := range RequiredFields(name) {
				auth[f] = alg
			}
			_ = Request(model.SourceConfig{AuthType: name, Auth: auth}, Input{Method: enc, URL: enc, Headers: h, Body: body})
		}
	})
}
