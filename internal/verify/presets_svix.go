package verify

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The Svix scheme, published as the Standard Webhooks specification and used
// by Svix's customers and adopters of the spec: Resend (resend.com/docs,
// "Verify webhooks requests", which signs with Svix), OpenAI
// (platform.openai.com/docs/guides/webhooks; its SDKs verify webhook-*
// headers with a whsec_ secret and a 300 s tolerance), Replicate
// (replicate.com/docs/topics/webhooks/verify-webhook) and Polar.

// svixTolerance is the five minutes of svix-webhooks and Standard Webhooks.
const svixTolerance = 5 * time.Minute

// svixKey decodes a "whsec_"-prefixed (or bare) base64 signing secret.
func svixKey(secret string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(secret), "whsec_"))
}

func validateSvixSecret(auth map[string]string) error {
	if _, err := svixKey(auth["webhook_secret_key"]); err != nil {
		return fmt.Errorf("auth.webhook_secret_key is not a whsec_ base64 signing secret: %w", err)
	}
	return nil
}

// checkSvix follows Svix's "Verifying webhooks manually" (docs.svix.com/
// receiving/verifying-payloads/how-manual), the Standard Webhooks spec
// (github.com/standard-webhooks/standard-webhooks/blob/main/spec/
// standard-webhooks.md) and Webhook.Verify in svix-webhooks/go: the headers
// are svix-id, svix-timestamp and svix-signature, or, when any of those is
// missing, webhook-id, webhook-timestamp and webhook-signature. The signature
// header is a space-separated list of "v1,<base64>" entries; each is
// base64(HMAC-SHA256(base64-decoded secret, id + "." + timestamp + "." +
// body)) and any one matching passes. The timestamp (seconds) must be within
// five minutes of now, either way.
func checkSvix(auth map[string]string, in Input) error {
	key, err := svixKey(auth["webhook_secret_key"])
	if err != nil {
		return fail("the source's signing secret is not base64")
	}
	return verifySvix(key, in)
}

// checkPolar follows Polar's webhook docs (docs.polar.sh, "Webhooks") and
// validateEvent in @polar-sh/sdk (polar-js src/webhooks.ts): Polar signs
// by Standard Webhooks, but with the secret's own UTF-8 bytes as the HMAC key
// (the SDK base64-encodes the secret before handing it to standardwebhooks,
// which decodes it again).
func checkPolar(auth map[string]string, in Input) error {
	return verifySvix([]byte(auth["webhook_secret_key"]), in)
}

// verifySvix checks a Svix / Standard Webhooks request under key.
func verifySvix(key []byte, in Input) error {
	id, ts, sigs := svixHeaders(in, "svix-")
	if id == "" || ts == "" || sigs == "" {
		id, ts, sigs = svixHeaders(in, "webhook-")
		if id == "" || ts == "" || sigs == "" {
			return fail("headers svix-id, svix-timestamp and svix-signature (or webhook-*) are missing")
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < 0 {
		return fail("timestamp %q is not a Unix time", ts)
	}
	if err := checkAge(in.now(), time.Unix(sec, 0), svixTolerance, svixTolerance); err != nil {
		return err
	}
	want := mac(sha256.New, key, []byte(id+"."+strconv.FormatInt(sec, 10)+"."), in.Body)
	for _, entry := range strings.Split(sigs, " ") {
		version, sig, ok := strings.Cut(entry, ",")
		if ok && version == "v1" && base64Equal(sig, want) {
			return nil
		}
	}
	return fail("no v1 signature matches the message")
}

func svixHeaders(in Input, prefix string) (id, ts, sigs string) {
	return strings.TrimSpace(in.Headers.Get(prefix + "id")),
		strings.TrimSpace(in.Headers.Get(prefix + "timestamp")),
		strings.TrimSpace(in.Headers.Get(prefix + "signature"))
}
