package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"testing"
)

func TestTwilio(t *testing.T) {
	t.Parallel()
	// The example of Twilio's security docs and its SDKs' tests: auth token
	// 12345, this URL and these Gather parameters.
	const token = "12345"
	auth := map[string]string{"webhook_secret_key": token}
	const docURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
	docForm := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"},
		"From": {"+14158675309"}, "To": {"+18005551212"}}.Encode()
	const docSig = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	// The JSON-body vector of the SDKs: bodySHA256 of this body, signed over the URL.
	const jsonBody = `{"property": "value", "boolean": true}`
	const jsonURL = docURL + "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
	const jsonSig = "a9nBmqA0ju/hNViExpshrM61xv4="

	form := func(sig string) map[string]string {
		return map[string]string{"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"}
	}
	signed := func(key, data string) string { return sign(sha1.New, key, data, base64.StdEncoding.EncodeToString) }
	// Repeated names: each distinct value, sorted, appended as name + value.
	const multiURL = "https://hooks.example.com/e/src_1"
	multiBody := "To=%2B2&Body=hi+there&To=%2B1&To=%2B2"
	multiSig := signed(token, multiURL+"Bodyhi there"+"To+1"+"To+2")
	bodyHash := sha256.Sum256([]byte(`{"a":1}`))
	hashURL := "https://hooks.example.com/e/src_1?bodySHA256=" + hex.EncodeToString(bodyHash[:])

	runPresetCases(t, "TWILIO", auth, []presetCase{
		{name: "documented form vector", headers: form(docSig), url: docURL, body: docForm, ok: true},
		{name: "documented json vector", headers: map[string]string{"X-Twilio-Signature": jsonSig, "Content-Type": "application/json"}, url: jsonURL, body: jsonBody, ok: true},
		{name: "json body tampered", headers: map[string]string{"X-Twilio-Signature": jsonSig, "Content-Type": "application/json"}, url: jsonURL, body: jsonBody + " "},
		{name: "ok own json", headers: map[string]string{"X-Twilio-Signature": signed(token, hashURL)}, url: hashURL, body: `{"a":1}`, ok: true},
		{name: "ok repeated params", headers: form(multiSig), url: multiURL, body: multiBody, ok: true},
		{name: "ok signed with port", headers: form(signed(token, "https://hooks.example.com:443/e/src_1")), url: multiURL, body: "", ok: true},
		{name: "ok signed without port", headers: form(signed(token, multiURL)), url: "https://hooks.example.com:443/e/src_1", body: "", ok: true},
		{name: "wrong token", auth: map[string]string{"webhook_secret_key": "54321"}, headers: form(docSig), url: docURL, body: docForm},
		{name: "tampered param", headers: form(docSig), url: docURL, body: docForm + "&Extra=1"},
		{name: "other url", headers: form(docSig), url: "https://mycompany.com/myapp.php?foo=1&bar=3", body: docForm},
		{name: "params ignored when not a form", headers: map[string]string{"X-Twilio-Signature": docSig, "Content-Type": "text/plain"}, url: docURL, body: docForm},
		{name: "missing header", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, url: docURL, body: docForm},
	})
}

func TestSquare(t *testing.T) {
	t.Parallel()
	// The vector of Square's SDK tests (WebhooksHelper).
	sdkAuth := map[string]string{"webhook_secret_key": "Ibxx_5AKakO-3qeNVR61Dw"}
	const sdkURL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
	const sdkBody = `{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}`
	const sdkSig = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="

	auth := map[string]string{"webhook_secret_key": "sq-key"}
	const u = "https://hooks.example.com/e/src_sq"
	body := `{"type":"payment.updated"}`
	hdr := func(sig string) map[string]string { return map[string]string{"x-square-hmacsha256-signature": sig} }
	good := sign(sha256.New, "sq-key", u+body, base64.StdEncoding.EncodeToString)
	runPresetCases(t, "SQUARE", auth, []presetCase{
		{name: "sdk vector", auth: sdkAuth, headers: hdr(sdkSig), url: sdkURL, body: sdkBody, ok: true},
		{name: "sdk vector other url", auth: sdkAuth, headers: hdr(sdkSig), url: sdkURL + "/", body: sdkBody},
		{name: "ok", headers: hdr(good), url: u, body: body, ok: true},
		{name: "wrong key", headers: hdr(sign(sha256.New, "other", u+body, base64.StdEncoding.EncodeToString)), url: u, body: body},
		{name: "tampered body", headers: hdr(good), url: u, body: `{"type":"payment.created"}`},
		{name: "body only", headers: hdr(sign(sha256.New, "sq-key", body, base64.StdEncoding.EncodeToString)), url: u, body: body},
		{name: "missing header", url: u, body: body},
	})
}
