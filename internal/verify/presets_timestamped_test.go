package verify

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"testing"
	"time"
)

func TestStripe(t *testing.T) {
	t.Parallel()
	const secret = "whsec_test_secret"
	auth := map[string]string{"webhook_secret_key": secret}
	body := `{"id":"evt_1","object":"event"}`
	v1 := func(key string, ts int64, body string) string {
		return sign(sha256.New, key, fmt.Sprintf("%d.%s", ts, body), hex.EncodeToString)
	}
	ts := testNow.Unix() - 10
	hdr := func(v string) map[string]string { return map[string]string{"Stripe-Signature": v} }
	good := fmt.Sprintf("t=%d,v1=%s", ts, v1(secret, ts, body))
	runPresetCases(t, "STRIPE", auth, []presetCase{
		{name: "ok", headers: hdr(good), body: body, ok: true},
		{name: "ok with test-mode v0", headers: hdr(good + ",v0=" + v1("fake", ts, body)), body: body, ok: true},
		{name: "ok rolled secret", headers: hdr(fmt.Sprintf("t=%d,v1=%s,v1=%s", ts, v1("old", ts, body), v1(secret, ts, body))), body: body, ok: true},
		{name: "ok at tolerance", headers: hdr(fmt.Sprintf("t=%d,v1=%s", testNow.Unix()-300, v1(secret, testNow.Unix()-300, body))), body: body, ok: true},
		{name: "wrong secret", headers: hdr(fmt.Sprintf("t=%d,v1=%s", ts, v1("other", ts, body))), body: body},
		{name: "tampered body", headers: hdr(good), body: body + " "},
		{name: "timestamp changed", headers: hdr(fmt.Sprintf("t=%d,v1=%s", ts+1, v1(secret, ts, body))), body: body},
		{name: "only v0", headers: hdr(fmt.Sprintf("t=%d,v0=%s", ts, v1(secret, ts, body))), body: body},
		{name: "no timestamp", headers: hdr("v1=" + v1(secret, ts, body)), body: body},
		{name: "stale timestamp", headers: hdr(fmt.Sprintf("t=%d,v1=%s", testNow.Unix()-301, v1(secret, testNow.Unix()-301, body))), body: body},
		{name: "missing header", body: body},
	})
}

func TestSlack(t *testing.T) {
	t.Parallel()
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	auth := map[string]string{"webhook_secret_key": secret}
	// Slack's worked example ("Verifying requests from Slack").
	docBody := "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	docHeaders := map[string]string{
		"X-Slack-Request-Timestamp": "1531420618",
		"X-Slack-Signature":         "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
	}
	docNow := time.Unix(1531420618+60, 0)
	signed := func(key string, ts int64, body string) map[string]string {
		return map[string]string{
			"X-Slack-Request-Timestamp": strconv.FormatInt(ts, 10),
			"X-Slack-Signature":         "v0=" + sign(sha256.New, key, fmt.Sprintf("v0:%d:%s", ts, body), hex.EncodeToString),
		}
	}
	body := `{"type":"event_callback"}`
	now := testNow.Unix()
	runPresetCases(t, "SLACK", auth, []presetCase{
		{name: "documented vector", headers: docHeaders, body: docBody, now: docNow, ok: true},
		{name: "documented vector stale", headers: docHeaders, body: docBody, now: time.Unix(1531420618+301, 0)},
		{name: "ok", headers: signed(secret, now, body), body: body, ok: true},
		{name: "ok 299s ahead", headers: signed(secret, now+299, body), body: body, ok: true},
		{name: "wrong secret", headers: signed("other", now, body), body: body},
		{name: "tampered body", headers: signed(secret, now, body), body: body + " "},
		{name: "stale timestamp", headers: signed(secret, now-301, body), body: body},
		{name: "future timestamp", headers: signed(secret, now+301, body), body: body},
		{name: "missing timestamp", headers: without(signed(secret, now, body), "X-Slack-Request-Timestamp"), body: body},
		{name: "missing signature", headers: without(signed(secret, now, body), "X-Slack-Signature"), body: body},
	})
}

func TestPaddle(t *testing.T) {
	t.Parallel()
	const secret = "pdl_ntfset_01_secret"
	auth := map[string]string{"webhook_secret_key": secret}
	body := `{"event_type":"transaction.completed"}`
	h1 := func(key string, ts int64, body string) string {
		return sign(sha256.New, key, fmt.Sprintf("%d:%s", ts, body), hex.EncodeToString)
	}
	hdr := func(v string) map[string]string { return map[string]string{"Paddle-Signature": v} }
	ts := testNow.Unix() - 2
	good := fmt.Sprintf("ts=%d;h1=%s", ts, h1(secret, ts, body))
	runPresetCases(t, "PADDLE", auth, []presetCase{
		{name: "ok", headers: hdr(good), body: body, ok: true},
		{name: "ok rotated secret", headers: hdr(fmt.Sprintf("ts=%d;h1=%s;h1=%s", ts, h1("old", ts, body), h1(secret, ts, body))), body: body, ok: true},
		{name: "wrong secret", headers: hdr(fmt.Sprintf("ts=%d;h1=%s", ts, h1("other", ts, body))), body: body},
		{name: "tampered body", headers: hdr(good), body: body + " "},
		{name: "dot separator", headers: hdr(fmt.Sprintf("ts=%d;h1=%s", ts, sign(sha256.New, secret, fmt.Sprintf("%d.%s", ts, body), hex.EncodeToString))), body: body},
		{name: "stale timestamp", headers: hdr(good), body: body, now: time.Unix(ts+6, 0)},
		{name: "no h1", headers: hdr(fmt.Sprintf("ts=%d", ts)), body: body},
		{name: "missing header", body: body},
	})
}

func TestZoom(t *testing.T) {
	t.Parallel()
	const secret = "zoom-secret-token"
	auth := map[string]string{"webhook_secret_key": secret}
	body := `{"event":"meeting.started","payload":{}}`
	signed := func(key, ts, body string) map[string]string {
		return map[string]string{
			"x-zm-request-timestamp": ts,
			"x-zm-signature":         "v0=" + sign(sha256.New, key, "v0:"+ts+":"+body, hex.EncodeToString),
		}
	}
	ts := strconv.FormatInt(testNow.Unix(), 10)
	runPresetCases(t, "ZOOM", auth, []presetCase{
		{name: "ok", headers: signed(secret, ts, body), body: body, ok: true},
		{name: "wrong secret", headers: signed("other", ts, body), body: body},
		{name: "tampered body", headers: signed(secret, ts, body), body: `{"event":"meeting.ended","payload":{}}`},
		{name: "timestamp changed", headers: with(signed(secret, ts, body), "x-zm-request-timestamp", "1"), body: body},
		{name: "missing timestamp", headers: without(signed(secret, ts, body), "x-zm-request-timestamp"), body: body},
		{name: "missing signature", headers: without(signed(secret, ts, body), "x-zm-signature"), body: body},
	})
}

func TestHubSpot(t *testing.T) {
	t.Parallel()
	const secret = "hubspot-client-secret"
	auth := map[string]string{"webhook_secret_key": secret}
	body := `[{"eventId":1,"subscriptionType":"contact.creation"}]`
	const uri = "https://hooks.example.com/e/src_1?a=b"
	signed := func(key, method, uri, body string, ms int64) map[string]string {
		ts := strconv.FormatInt(ms, 10)
		return map[string]string{
			"X-HubSpot-Request-Timestamp": ts,
			"X-HubSpot-Signature-v3":      sign(sha256.New, key, method+uri+body+ts, base64.StdEncoding.EncodeToString),
		}
	}
	ms := testNow.UnixMilli() - 1000
	// The v3 vector of hubspot-api-python's tests/unit/utils/test_signature.py.
	sdkAuth := map[string]string{"webhook_secret_key": "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"}
	sdkHeaders := map[string]string{
		"X-HubSpot-Request-Timestamp": "1693657560000",
		"X-HubSpot-Signature-v3":      "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=",
	}
	runPresetCases(t, "HUBSPOT", auth, []presetCase{
		{name: "sdk vector", auth: sdkAuth, headers: sdkHeaders, url: "https://www.example.com/webhook_uri",
			body: "{'example_field':'example_value'}", now: time.UnixMilli(1693657560000 + 1000), ok: true},
		{name: "ok", headers: signed(secret, "POST", uri, body, ms), url: uri, body: body, ok: true},
		{name: "ok decoded uri", headers: signed(secret, "POST", "https://hooks.example.com/e/src_1?to=a@b.c", body, ms),
			url: "https://hooks.example.com/e/src_1?to=a%40b.c", body: body, ok: true},
		{name: "wrong secret", headers: signed("other", "POST", uri, body, ms), url: uri, body: body},
		{name: "tampered body", headers: signed(secret, "POST", uri, body, ms), url: uri, body: "[]"},
		{name: "other method", headers: signed(secret, "PUT", uri, body, ms), url: uri, body: body},
		{name: "other url", headers: signed(secret, "POST", uri, body, ms), url: uri + "&c=d", body: body},
		{name: "stale timestamp", headers: signed(secret, "POST", uri, body, testNow.UnixMilli()-300_001), url: uri, body: body},
		{name: "seconds timestamp", headers: signed(secret, "POST", uri, body, testNow.Unix()), url: uri, body: body},
		{name: "missing timestamp", headers: without(signed(secret, "POST", uri, body, ms), "X-HubSpot-Request-Timestamp"), url: uri, body: body},
		{name: "missing signature", headers: without(signed(secret, "POST", uri, body, ms), "X-HubSpot-Signature-v3"), url: uri, body: body},
	})
}
