package verify

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"testing"
	"time"
)

func TestGitHub(t *testing.T) {
	t.Parallel()
	auth := map[string]string{"webhook_secret_key": "gh-secret"}
	body := `{"action":"opened"}`
	good := "sha256=" + sign(sha256.New, "gh-secret", body, hex.EncodeToString)
	runPresetCases(t, "GITHUB", auth, []presetCase{
		// GitHub's documented test values (docs.github.com, "Validating
		// webhook deliveries": "Testing the webhook payload validation").
		{name: "documented vector", auth: map[string]string{"webhook_secret_key": "It's a Secret to Everybody"},
			headers: map[string]string{"X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
			body:    "Hello, World!", ok: true},
		{name: "ok", headers: map[string]string{"X-Hub-Signature-256": good}, body: body, ok: true},
		{name: "wrong secret", headers: map[string]string{"X-Hub-Signature-256": "sha256=" + sign(sha256.New, "other", body, hex.EncodeToString)}, body: body},
		{name: "tampered body", headers: map[string]string{"X-Hub-Signature-256": good}, body: body + " "},
		{name: "no prefix", headers: map[string]string{"X-Hub-Signature-256": good[len("sha256="):]}, body: body},
		{name: "sha1 header only", headers: map[string]string{"X-Hub-Signature": good}, body: body},
		{name: "missing header", body: body},
	})
}

func TestBase64BodyPresets(t *testing.T) {
	t.Parallel()
	body := `{"id":820982911946154508}`
	for _, p := range []struct{ authType, header string }{
		// Shopify: X-Shopify-Hmac-Sha256; WooCommerce: X-WC-Webhook-Signature.
		{"SHOPIFY", "X-Shopify-Hmac-Sha256"},
		{"WOOCOMMERCE", "X-WC-Webhook-Signature"},
	} {
		t.Run(p.authType, func(t *testing.T) {
			t.Parallel()
			auth := map[string]string{"webhook_secret_key": "shared"}
			good := sign(sha256.New, "shared", body, base64.StdEncoding.EncodeToString)
			runPresetCases(t, p.authType, auth, []presetCase{
				{name: "ok", headers: map[string]string{p.header: good}, body: body, ok: true},
				{name: "wrong secret", headers: map[string]string{p.header: sign(sha256.New, "other", body, base64.StdEncoding.EncodeToString)}, body: body},
				{name: "tampered body", headers: map[string]string{p.header: good}, body: `{"id":820982911946154509}`},
				{name: "hex instead of base64", headers: map[string]string{p.header: sign(sha256.New, "shared", body, hex.EncodeToString)}, body: body},
				{name: "missing header", body: body},
			})
		})
	}
}

func TestTypeform(t *testing.T) {
	t.Parallel()
	auth := map[string]string{"webhook_secret_key": "tf-secret"}
	body := `{"event_type":"form_response"}`
	good := "sha256=" + sign(sha256.New, "tf-secret", body, base64.StdEncoding.EncodeToString)
	runPresetCases(t, "TYPEFORM", auth, []presetCase{
		{name: "ok", headers: map[string]string{"Typeform-Signature": good}, body: body, ok: true},
		{name: "wrong secret", headers: map[string]string{"Typeform-Signature": "sha256=" + sign(sha256.New, "x", body, base64.StdEncoding.EncodeToString)}, body: body},
		{name: "tampered body", headers: map[string]string{"Typeform-Signature": good}, body: body + "\n"},
		{name: "no prefix", headers: map[string]string{"Typeform-Signature": good[len("sha256="):]}, body: body},
		{name: "missing header", body: body},
	})
}

func TestLinear(t *testing.T) {
	t.Parallel()
	auth := map[string]string{"webhook_secret_key": "lin_wh_secret"}
	bodyAt := func(ms int64) string {
		return fmt.Sprintf(`{"action":"create","type":"Issue","webhookTimestamp":%d}`, ms)
	}
	sig := func(body string) map[string]string {
		return map[string]string{"Linear-Signature": sign(sha256.New, "lin_wh_secret", body, hex.EncodeToString)}
	}
	now := testNow.UnixMilli()
	fresh := bodyAt(now - 30_000)
	runPresetCases(t, "LINEAR", auth, []presetCase{
		{name: "ok", headers: sig(fresh), body: fresh, ok: true},
		{name: "ok 59s ahead", headers: sig(bodyAt(now + 59_000)), body: bodyAt(now + 59_000), ok: true},
		{name: "ok without timestamp", headers: sig(`{"type":"Issue"}`), body: `{"type":"Issue"}`, ok: true},
		{name: "wrong secret", headers: map[string]string{"Linear-Signature": sign(sha256.New, "x", fresh, hex.EncodeToString)}, body: fresh},
		{name: "tampered body", headers: sig(fresh), body: bodyAt(now - 29_000)},
		{name: "stale timestamp", headers: sig(bodyAt(now - 61_000)), body: bodyAt(now - 61_000)},
		{name: "future timestamp", headers: sig(bodyAt(now + 61_000)), body: bodyAt(now + 61_000)},
		{name: "timestamp in seconds", headers: sig(bodyAt(testNow.Unix())), body: bodyAt(testNow.Unix())},
		{name: "stale by receipt time", headers: sig(fresh), body: fresh, now: testNow.Add(2 * time.Minute)},
		{name: "missing header", body: fresh},
	})
}

func TestGitLab(t *testing.T) {
	t.Parallel()
	auth := map[string]string{"api_key": "glpat-token"}
	runPresetCases(t, "GITLAB", auth, []presetCase{
		{name: "ok", headers: map[string]string{"X-Gitlab-Token": "glpat-token"}, body: "{}", ok: true},
		{name: "wrong token", headers: map[string]string{"X-Gitlab-Token": "glpat-tokem"}, body: "{}"},
		{name: "token prefix", headers: map[string]string{"X-Gitlab-Token": "glpat"}, body: "{}"},
		{name: "missing header", body: "{}"},
	})
}

func TestPostmark(t *testing.T) {
	t.Parallel()
	auth := map[string]string{"username": "pm-user", "password": "pm-pass"}
	basic := func(u, p string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))}
	}
	runPresetCases(t, "POSTMARK", auth, []presetCase{
		{name: "ok", headers: basic("pm-user", "pm-pass"), body: "{}", ok: true},
		{name: "wrong password", headers: basic("pm-user", "pm-pasS"), body: "{}"},
		{name: "wrong user", headers: basic("other", "pm-pass"), body: "{}"},
		{name: "missing header", body: "{}"},
	})
}
