package verify

import (
	"crypto/sha256"
	"slices"
	"strings"
	"time"
)

// Presets that sign a timestamp together with the body, most of them with a
// replay tolerance measured against the receipt time (Input.Now).

// stripeTolerance is stripe-go's webhook.DefaultTolerance.
const stripeTolerance = 300 * time.Second

// checkStripe follows Stripe's webhooks guide, "Verify signatures manually"
// (docs.stripe.com/webhooks), and stripe-go's
// webhook.ValidatePayload: Stripe-Signature is "t=<unix>,v1=<hex>[,v1=…]
// [,v0=…]"; each v1 is hex(HMAC-SHA256(secret, t + "." + body)), and any one
// matching passes (several are sent while a secret is rolled). Other schemes
// are ignored. Like the SDK, a timestamp older than five minutes is rejected
// and one ahead of the clock is not.
func checkStripe(auth map[string]string, in Input) error {
	sig, err := header(in, "Stripe-Signature")
	if err != nil {
		return err
	}
	var ts string
	var v1 []string
	for _, item := range strings.Split(sig, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(item), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = append(v1, v)
		}
	}
	if ts == "" || len(v1) == 0 {
		return fail("Stripe-Signature has no timestamp or no v1 signature")
	}
	t, err := unixTime(ts, false)
	if err != nil {
		return err
	}
	if err := checkAge(in.now(), t, stripeTolerance, noLimit); err != nil {
		return err
	}
	want := hmacSHA256(auth["webhook_secret_key"], []byte(ts), []byte("."), in.Body)
	for _, s := range v1 {
		if hexEqual(s, want) {
			return nil
		}
	}
	return fail("no v1 signature in Stripe-Signature matches the body")
}

// slackTolerance is the five minutes of Slack's guide and slack_sdk.
const slackTolerance = 5 * time.Minute

// checkSlack follows Slack's "Verifying requests from Slack"
// (docs.slack.dev/authentication/verifying-requests-from-slack) and
// slack_sdk.signature.SignatureVerifier: X-Slack-Signature is "v0=" +
// hex(HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp + ":" +
// body)), and the timestamp must be within five minutes of now, either way.
func checkSlack(auth map[string]string, in Input) error {
	sig, err := header(in, "X-Slack-Signature")
	if err != nil {
		return err
	}
	ts, err := header(in, "X-Slack-Request-Timestamp")
	if err != nil {
		return err
	}
	t, err := unixTime(ts, false)
	if err != nil {
		return err
	}
	if err := checkAge(in.now(), t, slackTolerance, slackTolerance); err != nil {
		return err
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	want := hmacSHA256(auth["webhook_secret_key"], []byte("v0:"+ts+":"), in.Body)
	if !ok || !hexEqual(hexSig, want) {
		return fail("X-Slack-Signature does not match the request")
	}
	return nil
}

// paddleTolerance is MAX_VALID_TIME_DIFFERENCE of the Paddle SDKs, which
// Paddle's guide tells manual verifiers to apply too.
const paddleTolerance = 5 * time.Second

// checkPaddle follows Paddle Billing's "Verify webhook signatures"
// (developer.paddle.com/webhooks/signature-verification) and the Paddle Node
// SDK's WebhooksValidator: Paddle-Signature is "ts=<unix>;h1=<hex>[;h1=…]",
// each h1 is hex(HMAC-SHA256(secret key, ts + ":" + body)), and any one
// matching passes (several are sent while a secret is rotated). Requests
// signed more than five seconds before receipt are rejected.
func checkPaddle(auth map[string]string, in Input) error {
	sig, err := header(in, "Paddle-Signature")
	if err != nil {
		return err
	}
	var ts string
	var h1 []string
	for _, item := range strings.Split(sig, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(item), "=")
		switch k {
		case "ts":
			ts = v
		case "h1":
			h1 = append(h1, v)
		}
	}
	if ts == "" || len(h1) == 0 {
		return fail("Paddle-Signature has no ts or no h1 signature")
	}
	t, err := unixTime(ts, false)
	if err != nil {
		return err
	}
	if err := checkAge(in.now(), t, paddleTolerance, noLimit); err != nil {
		return err
	}
	want := hmacSHA256(auth["webhook_secret_key"], []byte(ts+":"), in.Body)
	for _, s := range h1 {
		if hexEqual(s, want) {
			return nil
		}
	}
	return fail("no h1 signature in Paddle-Signature matches the body")
}

// checkZoom follows Zoom's "Verify webhook events" (developers.zoom.us/docs/
// api/webhooks/#verify-webhook-events): x-zm-signature is "v0=" +
// hex(HMAC-SHA256(secret token, "v0:" + x-zm-request-timestamp + ":" + body)).
// Zoom documents no timestamp tolerance, so none is applied.
func checkZoom(auth map[string]string, in Input) error {
	sig, err := header(in, "x-zm-signature")
	if err != nil {
		return err
	}
	ts, err := header(in, "x-zm-request-timestamp")
	if err != nil {
		return err
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	want := hmacSHA256(auth["webhook_secret_key"], []byte("v0:"+ts+":"), in.Body)
	if !ok || !hexEqual(hexSig, want) {
		return fail("x-zm-signature does not match the request")
	}
	return nil
}

// checkZendesk follows Zendesk's "Verifying webhook authenticity"
// (developer.zendesk.com/documentation/webhooks/verifying):
// X-Zendesk-Webhook-Signature is base64(HMAC-SHA256(signing secret,
// X-Zendesk-Webhook-Signature-Timestamp + body)). Zendesk documents no
// tolerance for the timestamp, so none is applied.
func checkZendesk(auth map[string]string, in Input) error {
	sig, err := header(in, "X-Zendesk-Webhook-Signature")
	if err != nil {
		return err
	}
	ts, err := header(in, "X-Zendesk-Webhook-Signature-Timestamp")
	if err != nil {
		return err
	}
	if !base64Equal(sig, hmacSHA256(auth["webhook_secret_key"], []byte(ts), in.Body)) {
		return fail("X-Zendesk-Webhook-Signature does not match the request")
	}
	return nil
}

// twitchTolerance is how old Twitch's guide lets a message timestamp be.
const twitchTolerance = 10 * time.Minute

// checkTwitch follows Twitch's "Verifying the event message" for EventSub
// webhooks (dev.twitch.tv/docs/eventsub/handling-webhook-events#verifying-
// the-event-message): Twitch-Eventsub-Message-Signature is "sha256=" +
// hex(HMAC-SHA256(subscription secret, Twitch-Eventsub-Message-Id +
// Twitch-Eventsub-Message-Timestamp + body)); the timestamp (RFC 3339) must
// not be older than ten minutes.
func checkTwitch(auth map[string]string, in Input) error {
	sig, err := header(in, "Twitch-Eventsub-Message-Signature")
	if err != nil {
		return err
	}
	id, err := header(in, "Twitch-Eventsub-Message-Id")
	if err != nil {
		return err
	}
	ts, err := header(in, "Twitch-Eventsub-Message-Timestamp")
	if err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return fail("Twitch-Eventsub-Message-Timestamp %q is not an RFC 3339 time", ts)
	}
	if err := checkAge(in.now(), t, twitchTolerance, noLimit); err != nil {
		return err
	}
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	if !ok || !hexEqual(hexSig, hmacSHA256(auth["webhook_secret_key"], []byte(id+ts), in.Body)) {
		return fail("Twitch-Eventsub-Message-Signature does not match the message")
	}
	return nil
}

// workosTolerance is the default tolerance of WorkOS's SDKs.
const workosTolerance = 180 * time.Second

// checkWorkOS follows WorkOS's webhook docs, "Validating events are from
// WorkOS" (workos.com/docs, Webhooks) and SignatureProvider in
// workos-node: WorkOS-Signature is "t=<unix ms>, v1=<hex>", v1 being
// hex(HMAC-SHA256(secret, t + "." + body)); like the SDKs, a timestamp more
// than three minutes old is rejected.
func checkWorkOS(auth map[string]string, in Input) error {
	sig, err := header(in, "WorkOS-Signature")
	if err != nil {
		return err
	}
	var ts, v1 string
	for _, item := range strings.Split(sig, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(item), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	if ts == "" || v1 == "" {
		return fail("WorkOS-Signature has no timestamp or no v1 signature")
	}
	t, err := unixTime(ts, true)
	if err != nil {
		return err
	}
	if err := checkAge(in.now(), t, workosTolerance, noLimit); err != nil {
		return err
	}
	if !hexEqual(v1, hmacSHA256(auth["webhook_secret_key"], []byte(ts+"."), in.Body)) {
		return fail("WorkOS-Signature does not match the body")
	}
	return nil
}

// hubspotTolerance is MAX_ALLOWED_TIMESTAMP (300000 ms) of HubSpot's SDKs.
const hubspotTolerance = 5 * time.Minute

// hubspotURIDecoder decodes the characters HubSpot's guide lists as to be
// decoded in the request URI before signing.
var hubspotURIDecoder = strings.NewReplacer(
	"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
	"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
	"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";",
)

// checkHubSpot follows HubSpot's "Validating requests", v3 signatures
// (developers.hubspot.com/docs/apps/developer-platform/build-apps/
// authentication/request-validation) and Signature.isValid in
// hubspot-api-nodejs: X-HubSpot-Signature-v3 is base64(HMAC-SHA256(client
// secret, method + URI + body + X-HubSpot-Request-Timestamp)), the timestamp
// is in milliseconds and may be at most five minutes old. The URI is the full
// URL HubSpot called, with the listed percent-encodings decoded; the SDKs sign
// it undecoded, so both forms are accepted.
func checkHubSpot(auth map[string]string, in Input) error {
	sig, err := header(in, "X-HubSpot-Signature-v3")
	if err != nil {
		return err
	}
	ts, err := header(in, "X-HubSpot-Request-Timestamp")
	if err != nil {
		return err
	}
	t, err := unixTime(ts, true)
	if err != nil {
		return err
	}
	if err := checkAge(in.now(), t, hubspotTolerance, noLimit); err != nil {
		return err
	}
	secret := auth["webhook_secret_key"]
	for _, uri := range distinct(hubspotURIDecoder.Replace(in.URL), in.URL) {
		want := mac(sha256.New, []byte(secret), []byte(in.Method+uri), in.Body, []byte(ts))
		if base64Equal(sig, want) {
			return nil
		}
	}
	return fail("X-HubSpot-Signature-v3 does not match the request")
}

// distinct returns its arguments without repeats, in order.
func distinct(ss ...string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
