package verify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strings"
	"time"
)

// Presets whose signature is an HMAC of the raw body alone (plus, for
// Linear, a timestamp inside the signed body), and GitLab's plain token.
// Where a provider documents the encoding, only that encoding is accepted.

// checkGitHub follows GitHub's "Validating webhook deliveries"
// (docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries):
// X-Hub-Signature-256 is "sha256=" + hex(HMAC-SHA256(secret, body)). The
// legacy SHA-1 X-Hub-Signature is not accepted, as GitHub advises.
func checkGitHub(auth map[string]string, in Input) error {
	return bodyHMAC(auth, in, "X-Hub-Signature-256", "sha256=", sha256.New, hex.DecodeString)
}

// checkMeta follows Meta's Graph API webhooks guide, "Validate payloads"
// (developers.facebook.com/docs/graph-api/webhooks/getting-started), which
// WhatsApp Business webhooks share: X-Hub-Signature-256 is
// "sha256=" + hex(HMAC-SHA256(app secret, body)).
func checkMeta(auth map[string]string, in Input) error {
	return bodyHMAC(auth, in, "X-Hub-Signature-256", "sha256=", sha256.New, hex.DecodeString)
}

// checkIntercom follows Intercom's webhook docs, "Signed notifications"
// (developers.intercom.com, Webhooks): X-Hub-Signature is
// "sha1=" + hex(HMAC-SHA1(app client secret, body)).
func checkIntercom(auth map[string]string, in Input) error {
	return bodyHMAC(auth, in, "X-Hub-Signature", "sha1=", sha1.New, hex.DecodeString)
}

// checkShopify follows Shopify's HTTPS webhook docs, "Verify the webhook"
// (shopify.dev, Apps > Webhooks):
// X-Shopify-Hmac-Sha256 is base64(HMAC-SHA256(client secret, body)).
func checkShopify(auth map[string]string, in Input) error {
	return bodyHMAC(auth, in, "X-Shopify-Hmac-Sha256", "", sha256.New, base64.StdEncoding.DecodeString)
}

// checkWooCommerce follows WC_Webhook::generate_signature in WooCommerce
// core (includes/class-wc-webhook.php): X-WC-Webhook-Signature is
// base64(HMAC-SHA256(secret, body)), SHA-256 being the default of the
// woocommerce_webhook_hash_algorithm filter.
func checkWooCommerce(auth map[string]string, in Input) error {
	return bodyHMAC(auth, in, "X-WC-Webhook-Signature", "", sha256.New, base64.StdEncoding.DecodeString)
}

// checkXero follows Xero's webhooks guide, "Signature" and "Intent to
// receive" (developer.xero.com, Webhooks): x-xero-signature
// is base64(HMAC-SHA256(webhooks key, body)).
func checkXero(auth map[string]string, in Input) error {
	return bodyHMAC(auth, in, "x-xero-signature", "", sha256.New, base64.StdEncoding.DecodeString)
}

// checkTypeform follows Typeform's "Secure your webhooks"
// (typeform.com/developers/webhooks/secure-your-webhooks): Typeform-Signature
// is "sha256=" + base64(HMAC-SHA256(secret, body)).
func checkTypeform(auth map[string]string, in Input) error {
	return bodyHMAC(auth, in, "Typeform-Signature", "sha256=", sha256.New, base64.StdEncoding.DecodeString)
}

// checkTwitter follows X's Account Activity API "Validating the signature
// header" (docs.x.com/x-api/webhooks/introduction): x-twitter-webhooks-
// signature is "sha256=" + base64(HMAC-SHA256(consumer secret, body)); the
// consumer secret is the source's api_key.
func checkTwitter(auth map[string]string, in Input) error {
	return bodyHMAC(map[string]string{"webhook_secret_key": auth["api_key"]}, in,
		"x-twitter-webhooks-signature", "sha256=", sha256.New, base64.StdEncoding.DecodeString)
}

// checkVercel follows Vercel's webhooks docs, "Securing webhooks"
// (vercel.com/docs/webhooks): x-vercel-signature is
// hex(HMAC-SHA1(webhook secret, body)).
func checkVercel(auth map[string]string, in Input) error {
	return bodyHMAC(auth, in, "x-vercel-signature", "", sha1.New, hex.DecodeString)
}

// checkRazorpay follows Razorpay's webhooks docs, "Validate webhooks"
// (razorpay.com/docs/webhooks): X-Razorpay-Signature is hex(HMAC-SHA256(webhook
// secret, body)).
func checkRazorpay(auth map[string]string, in Input) error {
	return bodyHMAC(auth, in, "X-Razorpay-Signature", "", sha256.New, hex.DecodeString)
}

// checkAsana follows Asana's webhooks guide, "Security" (developers.asana.com/
// docs/webhooks-guide): X-Hook-Signature is hex(HMAC-SHA256(the
// X-Hook-Secret of the handshake, body)).
func checkAsana(auth map[string]string, in Input) error {
	return bodyHMAC(auth, in, "X-Hook-Signature", "", sha256.New, hex.DecodeString)
}

// bodyHMAC checks that header name holds prefix + the encoding (undone by
// decode) of HMAC(h, webhook_secret_key, body).
func bodyHMAC(auth map[string]string, in Input, name, prefix string, h func() hash.Hash,
	decode func(string) ([]byte, error)) error {
	sig, err := header(in, name)
	if err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(sig, prefix)
	got, err := decode(rest)
	if !ok || err != nil || !hmac.Equal(got, mac(h, []byte(auth["webhook_secret_key"]), in.Body)) {
		return fail("%s does not match the body", name)
	}
	return nil
}

// linearTolerance is how far webhookTimestamp may be from the receipt time.
const linearTolerance = time.Minute

// checkLinear follows Linear's "Securing webhooks" (linear.app/developers/
// webhooks#securing-webhooks) and LinearWebhookClient.verify in @linear/sdk:
// Linear-Signature is hex(HMAC-SHA256(secret, body)), and the body's
// webhookTimestamp (Unix milliseconds) must be within a minute of now, either
// way. Like the SDK, the timestamp is checked when the body carries one.
func checkLinear(auth map[string]string, in Input) error {
	sig, err := header(in, "Linear-Signature")
	if err != nil {
		return err
	}
	if !hexEqual(sig, hmacSHA256(auth["webhook_secret_key"], in.Body)) {
		return fail("Linear-Signature does not match the body")
	}
	var payload struct {
		WebhookTimestamp json.Number `json:"webhookTimestamp"`
	}
	dec := json.NewDecoder(bytes.NewReader(in.Body))
	dec.UseNumber()
	if dec.Decode(&payload) != nil || payload.WebhookTimestamp == "" {
		return nil
	}
	ms, err := payload.WebhookTimestamp.Int64()
	if err != nil {
		return fail("webhookTimestamp %q is not a Unix time in milliseconds", payload.WebhookTimestamp)
	}
	return checkAge(in.now(), time.UnixMilli(ms), linearTolerance, linearTolerance)
}

// checkGitLab follows GitLab's webhook docs, "Validate requests with a secret
// token" (docs.gitlab.com, Project webhooks): the secret token is sent
// verbatim in X-Gitlab-Token.
func checkGitLab(auth map[string]string, in Input) error {
	tok, err := header(in, "X-Gitlab-Token")
	if err != nil {
		return err
	}
	if !equal(tok, auth["api_key"]) {
		return fail("X-Gitlab-Token does not hold the source's secret token")
	}
	return nil
}
