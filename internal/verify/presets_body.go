package verify

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// Presets whose signature is an HMAC of the raw body alone (plus, for
// Linear, a timestamp inside the signed body), and GitLab's plain token.

// checkGitHub follows GitHub's "Validating webhook deliveries"
// (docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries):
// X-Hub-Signature-256 is "sha256=" + hex(HMAC-SHA256(secret, body)). The
// legacy SHA-1 X-Hub-Signature is not accepted, as GitHub advises.
func checkGitHub(auth map[string]string, in Input) error {
	sig, err := header(in, "X-Hub-Signature-256")
	if err != nil {
		return err
	}
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	if !ok || !hexEqual(hexSig, hmacSHA256(auth["webhook_secret_key"], in.Body)) {
		return fail("X-Hub-Signature-256 does not match the body")
	}
	return nil
}

// checkShopify follows Shopify's "Verify webhooks" (shopify.dev/docs/apps/
// build/webhooks/subscribe/https#step-5-verify-the-webhook):
// X-Shopify-Hmac-Sha256 is base64(HMAC-SHA256(client secret, body)).
func checkShopify(auth map[string]string, in Input) error {
	return base64BodyHMAC(auth, in, "X-Shopify-Hmac-Sha256")
}

// checkWooCommerce follows WC_Webhook::generate_signature in WooCommerce
// core (includes/class-wc-webhook.php): X-WC-Webhook-Signature is
// base64(HMAC-SHA256(secret, body)), SHA-256 being the default of the
// woocommerce_webhook_hash_algorithm filter.
func checkWooCommerce(auth map[string]string, in Input) error {
	return base64BodyHMAC(auth, in, "X-WC-Webhook-Signature")
}

// checkTypeform follows Typeform's "Secure your webhooks"
// (typeform.com/developers/webhooks/secure-your-webhooks): Typeform-Signature
// is "sha256=" + base64(HMAC-SHA256(secret, body)).
func checkTypeform(auth map[string]string, in Input) error {
	sig, err := header(in, "Typeform-Signature")
	if err != nil {
		return err
	}
	b64, ok := strings.CutPrefix(sig, "sha256=")
	if !ok || !base64Equal(b64, hmacSHA256(auth["webhook_secret_key"], in.Body)) {
		return fail("Typeform-Signature does not match the body")
	}
	return nil
}

func base64BodyHMAC(auth map[string]string, in Input, name string) error {
	sig, err := header(in, name)
	if err != nil {
		return err
	}
	if !base64Equal(sig, hmacSHA256(auth["webhook_secret_key"], in.Body)) {
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

// checkGitLab follows GitLab's webhook docs (docs.gitlab.com/user/project/
// integrations/webhooks/#validate-requests-with-a-secret-token): the secret
// token is sent verbatim in X-Gitlab-Token.
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
