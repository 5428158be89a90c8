package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Presets that sign the URL they called as well as the request content.

// checkTwilio follows Twilio's "Secure webhooks" (twilio.com/docs/usage/
// webhooks/webhooks-security) and validateRequest/validateRequestWithBody in
// twilio-node (src/webhooks/webhooks.ts): X-Twilio-Signature is
// base64(HMAC-SHA1(auth token, URL + params)), where URL is the full URL
// Twilio requested, with its query string.
//   - When the URL's query has bodySHA256 (JSON bodies), params is empty and
//     bodySHA256 must be hex(SHA-256(body)).
//   - Otherwise params are the form-encoded POST parameters, sorted by name,
//     each appended as name + value (a repeated name's distinct values in
//     sorted order); other bodies contribute no parameters.
//
// As in the SDK, the URL is tried with and without its port, since Twilio
// signs either form.
func checkTwilio(auth map[string]string, in Input) error {
	sig, err := header(in, "X-Twilio-Signature")
	if err != nil {
		return err
	}
	var params string
	if u, err := url.Parse(in.URL); err == nil && u.Query().Has("bodySHA256") {
		sum := sha256.Sum256(in.Body)
		if !equal(u.Query().Get("bodySHA256"), hex.EncodeToString(sum[:])) {
			return fail("bodySHA256 in the URL does not match the body")
		}
	} else if mt, _ := in.mediaType(); mt == "application/x-www-form-urlencoded" {
		params = twilioParams(formValues(in.Body))
	}
	for _, u := range twilioURLs(in.URL) {
		if base64Equal(sig, mac(sha1.New, []byte(auth["webhook_secret_key"]), []byte(u+params))) {
			return nil
		}
	}
	return fail("X-Twilio-Signature does not match the URL and parameters")
}

// twilioParams concatenates the POST parameters the way Twilio signs them.
func twilioParams(form url.Values) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(form)) {
		values := slices.Clone(form[name])
		slices.Sort(values)
		for _, v := range slices.Compact(values) {
			b.WriteString(name)
			b.WriteString(v)
		}
	}
	return b.String()
}

// twilioURLs returns the URL as given, without its port, and with the
// scheme's default port added when it has none.
func twilioURLs(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return []string{raw}
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	without := *u
	without.Host = host
	with := *u
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		with.Host = host + ":" + port
	}
	return distinct(raw, without.String(), with.String())
}

// checkSquare follows Square's "Validate notifications" (developer.squareup.
// com/docs/webhooks/step3validate) and WebhooksHelper.isValidWebhookEventSignature
// in Square's SDKs: x-square-hmacsha256-signature is base64(HMAC-SHA256(
// signature key, notification URL + body)). The notification URL is the URL
// Square called (Input.URL), which must equal the subscription's URL.
func checkSquare(auth map[string]string, in Input) error {
	sig, err := header(in, "x-square-hmacsha256-signature")
	if err != nil {
		return err
	}
	if !base64Equal(sig, hmacSHA256(auth["webhook_secret_key"], []byte(in.URL), in.Body)) {
		return fail("x-square-hmacsha256-signature does not match the URL and body")
	}
	return nil
}
