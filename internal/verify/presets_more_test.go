package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"testing"
	"time"
)

// TestBodyHMACPresets covers the presets that sign the raw body alone with
// a documented header, prefix, hash and encoding.
func TestBodyHMACPresets(t *testing.T) {
	t.Parallel()
	hexEnc, b64Enc := hex.EncodeToString, base64.StdEncoding.EncodeToString
	presets := []struct {
		authType, field, header, prefix string
		h                               func() hash.Hash
		enc, wrongEnc                   func([]byte) string
	}{
		{"FACEBOOK", "webhook_secret_key", "X-Hub-Signature-256", "sha256=", sha256.New, hexEnc, b64Enc},
		{"WHATSAPP", "webhook_secret_key", "X-Hub-Signature-256", "sha256=", sha256.New, hexEnc, b64Enc},
		{"INTERCOM", "webhook_secret_key", "X-Hub-Signature", "sha1=", sha1.New, hexEnc, b64Enc},
		{"XERO", "webhook_secret_key", "x-xero-signature", "", sha256.New, b64Enc, hexEnc},
		{"TWITTER", "api_key", "x-twitter-webhooks-signature", "sha256=", sha256.New, b64Enc, hexEnc},
		{"VERCEL", "webhook_secret_key", "x-vercel-signature", "", sha1.New, hexEnc, b64Enc},
		{"RAZORPAY", "webhook_secret_key", "X-Razorpay-Signature", "", sha256.New, hexEnc, b64Enc},
		{"ASANA", "webhook_secret_key", "X-Hook-Signature", "", sha256.New, hexEnc, b64Enc},
	}
	body := `{"events":[{"action":"changed"}]}`
	for _, p := range presets {
		t.Run(p.authType, func(t *testing.T) {
			t.Parallel()
			auth := map[string]string{p.field: "the-secret"}
			hdr := func(key, prefix, body string, enc func([]byte) string) map[string]string {
				m := hmac.New(p.h, []byte(key))
				m.Write([]byte(body))
				return map[string]string{p.header: prefix + enc(m.Sum(nil))}
			}
			other := sha256.New
			if p.h().Size() == sha256.Size {
				other = sha1.New
			}
			cases := []presetCase{
				{name: "ok", headers: hdr("the-secret", p.prefix, body, p.enc), body: body, ok: true},
				{name: "wrong secret", headers: hdr("other-secret", p.prefix, body, p.enc), body: body},
				{name: "tampered body", headers: hdr("the-secret", p.prefix, body, p.enc), body: body + " "},
				{name: "other encoding", headers: hdr("the-secret", p.prefix, body, p.wrongEnc), body: body},
				{name: "other hash", headers: func() map[string]string {
					m := hmac.New(other, []byte("the-secret"))
					m.Write([]byte(body))
					return map[string]string{p.header: p.prefix + p.enc(m.Sum(nil))}
				}(), body: body},
				{name: "missing header", body: body},
			}
			if p.prefix != "" {
				cases = append(cases, presetCase{name: "no prefix", headers: hdr("the-secret", "", body, p.enc), body: body})
			}
			runPresetCases(t, p.authType, auth, cases)
		})
	}
}

func TestStandardWebhooksPresets(t *testing.T) {
	t.Parallel()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	sig := func(key []byte, id string, ts int64, body string) string {
		m := hmac.New(sha256.New, key)
		fmt.Fprintf(m, "%s.%d.%s", id, ts, body)
		return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	headers := func(ts int64, sigs string) map[string]string {
		return map[string]string{"webhook-id": "msg_1", "webhook-timestamp": fmt.Sprint(ts), "webhook-signature": sigs}
	}
	body := `{"type":"batch.completed"}`
	now := testNow.Unix()
	for _, authType := range []string{"OPENAI", "REPLICATE"} {
		t.Run(authType, func(t *testing.T) {
			t.Parallel()
			runPresetCases(t, authType, map[string]string{"webhook_secret_key": secret}, []presetCase{
				{name: "documented vector", headers: map[string]string{"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
					"webhook-timestamp": "1614265330", "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
					body: `{"test": 2432232314}`, now: time.Unix(1614265330, 0), ok: true},
				{name: "ok", headers: headers(now, sig(key, "msg_1", now, body)), body: body, ok: true},
				{name: "wrong secret", headers: headers(now, sig([]byte("other"), "msg_1", now, body)), body: body},
				{name: "tampered body", headers: headers(now, sig(key, "msg_1", now, body)), body: body + " "},
				{name: "stale timestamp", headers: headers(now-301, sig(key, "msg_1", now-301, body)), body: body},
				{name: "missing headers", body: body},
			})
		})
	}
	t.Run("POLAR", func(t *testing.T) {
		t.Parallel()
		const polarSecret = "polar_whs_abc123"
		raw := []byte(polarSecret)
		runPresetCases(t, "POLAR", map[string]string{"webhook_secret_key": polarSecret}, []presetCase{
			{name: "ok raw secret as key", headers: headers(now, sig(raw, "msg_1", now, body)), body: body, ok: true},
			{name: "base64-decoded secret as key", headers: headers(now, sig(key, "msg_1", now, body)), body: body},
			{name: "tampered body", headers: headers(now, sig(raw, "msg_1", now, body)), body: body + " "},
			{name: "stale timestamp", headers: headers(now-301, sig(raw, "msg_1", now-301, body)), body: body},
			{name: "future timestamp", headers: headers(now+301, sig(raw, "msg_1", now+301, body)), body: body},
			{name: "missing headers", body: body},
		})
	})
}

func TestZendesk(t *testing.T) {
	t.Parallel()
	const secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
	auth := map[string]string{"webhook_secret_key": secret}
	body := `{"type":"zen:event-type:ticket.created"}`
	const ts = "2023-11-14T22:13:20Z"
	signed := func(key, ts, body string) map[string]string {
		return map[string]string{
			"X-Zendesk-Webhook-Signature":           sign(sha256.New, key, ts+body, base64.StdEncoding.EncodeToString),
			"X-Zendesk-Webhook-Signature-Timestamp": ts,
		}
	}
	runPresetCases(t, "ZENDESK", auth, []presetCase{
		{name: "ok", headers: signed(secret, ts, body), body: body, ok: true},
		{name: "ok empty body", headers: signed(secret, ts, ""), ok: true},
		{name: "wrong secret", headers: signed("other", ts, body), body: body},
		{name: "tampered body", headers: signed(secret, ts, body), body: body + " "},
		{name: "timestamp changed", headers: with(signed(secret, ts, body), "X-Zendesk-Webhook-Signature-Timestamp", "2023-11-14T22:13:21Z"), body: body},
		{name: "missing timestamp", headers: without(signed(secret, ts, body), "X-Zendesk-Webhook-Signature-Timestamp"), body: body},
		{name: "missing signature", headers: without(signed(secret, ts, body), "X-Zendesk-Webhook-Signature"), body: body},
	})
}

func TestTwitch(t *testing.T) {
	t.Parallel()
	const secret = "twitch-subscription-secret"
	auth := map[string]string{"webhook_secret_key": secret}
	body := `{"subscription":{"type":"channel.follow"},"event":{}}`
	signed := func(key, id string, at time.Time, body string) map[string]string {
		ts := at.UTC().Format(time.RFC3339Nano)
		return map[string]string{
			"Twitch-Eventsub-Message-Id":        id,
			"Twitch-Eventsub-Message-Timestamp": ts,
			"Twitch-Eventsub-Message-Signature": "sha256=" + sign(sha256.New, key, id+ts+body, hex.EncodeToString),
		}
	}
	at := testNow.Add(-time.Minute + 123456789*time.Nanosecond)
	runPresetCases(t, "TWITCH", auth, []presetCase{
		{name: "ok", headers: signed(secret, "e76c6bd4", at, body), body: body, ok: true},
		{name: "wrong secret", headers: signed("other", "e76c6bd4", at, body), body: body},
		{name: "tampered body", headers: signed(secret, "e76c6bd4", at, body), body: body + " "},
		{name: "other id", headers: with(signed(secret, "e76c6bd4", at, body), "Twitch-Eventsub-Message-Id", "e76c6bd5"), body: body},
		{name: "stale timestamp", headers: signed(secret, "e76c6bd4", testNow.Add(-10*time.Minute-time.Second), body), body: body},
		{name: "unix timestamp", headers: with(signed(secret, "e76c6bd4", at, body), "Twitch-Eventsub-Message-Timestamp", strconv.FormatInt(at.Unix(), 10)), body: body},
		{name: "missing id", headers: without(signed(secret, "e76c6bd4", at, body), "Twitch-Eventsub-Message-Id"), body: body},
		{name: "missing signature", headers: without(signed(secret, "e76c6bd4", at, body), "Twitch-Eventsub-Message-Signature"), body: body},
	})
}

func TestWorkOS(t *testing.T) {
	t.Parallel()
	const secret = "workos-webhook-secret"
	auth := map[string]string{"webhook_secret_key": secret}
	body := `{"id":"event_01","event":"user.created","data":{}}`
	signed := func(key string, ms int64, body string) map[string]string {
		ts := strconv.FormatInt(ms, 10)
		return map[string]string{"WorkOS-Signature": "t=" + ts + ", v1=" + sign(sha256.New, key, ts+"."+body, hex.EncodeToString)}
	}
	ms := testNow.UnixMilli() - 5000
	runPresetCases(t, "WORKOS", auth, []presetCase{
		{name: "ok", headers: signed(secret, ms, body), body: body, ok: true},
		{name: "wrong secret", headers: signed("other", ms, body), body: body},
		{name: "tampered body", headers: signed(secret, ms, body), body: body + " "},
		{name: "stale timestamp", headers: signed(secret, testNow.UnixMilli()-180_001, body), body: body},
		{name: "seconds timestamp", headers: signed(secret, testNow.Unix(), body), body: body},
		{name: "no v1", headers: map[string]string{"WorkOS-Signature": "t=" + strconv.FormatInt(ms, 10)}, body: body},
		{name: "missing header", body: body},
	})
}

func TestBasicAuthPresets(t *testing.T) {
	t.Parallel()
	basic := func(u, p string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))}
	}
	for _, authType := range []string{"PIPEDRIVE", "CHARGEBEE_BILLING"} {
		t.Run(authType, func(t *testing.T) {
			t.Parallel()
			runPresetCases(t, authType, map[string]string{"username": "hook", "password": "s3cret"}, []presetCase{
				{name: "ok", headers: basic("hook", "s3cret"), body: "{}", ok: true},
				{name: "wrong password", headers: basic("hook", "s3cre7"), body: "{}"},
				{name: "missing header", body: "{}"},
			})
		})
	}
}
