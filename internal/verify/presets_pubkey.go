package verify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Presets whose sender signs with a private key; the source holds the
// provider's public key.

// sendGridKey parses SendGrid's verification key: base64 of a DER
// SubjectPublicKeyInfo holding an ECDSA key, optionally PEM-wrapped.
func sendGridKey(s string) (*ecdsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	var der []byte
	if block, _ := pem.Decode([]byte(s)); block != nil {
		der = block.Bytes
	} else {
		var err error
		if der, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, fmt.Errorf("not base64: %w", err)
		}
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	key, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("not an ECDSA public key")
	}
	return key, nil
}

func validateSendGridKey(auth map[string]string) error {
	if _, err := sendGridKey(auth["webhook_secret_key"]); err != nil {
		return fmt.Errorf("auth.webhook_secret_key is not SendGrid's verification key: %w", err)
	}
	return nil
}

// checkSendGrid follows SendGrid's "Getting started with the Event Webhook
// security features" (twilio.com/docs/sendgrid, Event Webhook) and
// sendgrid-go's
// helpers/eventwebhook: X-Twilio-Email-Event-Webhook-Signature is the base64
// of an ASN.1 DER ECDSA signature of SHA-256(X-Twilio-Email-Event-Webhook-
// Timestamp + body). SendGrid documents no timestamp tolerance.
func checkSendGrid(auth map[string]string, in Input) error {
	key, err := sendGridKey(auth["webhook_secret_key"])
	if err != nil {
		return fail("the source's verification key is unusable: %v", err)
	}
	sig, err := header(in, "X-Twilio-Email-Event-Webhook-Signature")
	if err != nil {
		return err
	}
	ts, err := header(in, "X-Twilio-Email-Event-Webhook-Timestamp")
	if err != nil {
		return err
	}
	der, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return fail("X-Twilio-Email-Event-Webhook-Signature is not base64")
	}
	h := sha256.New()
	h.Write([]byte(ts))
	h.Write(in.Body)
	if !ecdsa.VerifyASN1(key, h.Sum(nil), der) {
		return fail("X-Twilio-Email-Event-Webhook-Signature does not match the request")
	}
	return nil
}

func validateEd25519Hex(auth map[string]string) error {
	if b, err := hex.DecodeString(strings.TrimSpace(auth["public_key"])); err != nil || len(b) != ed25519.PublicKeySize {
		return errors.New("auth.public_key is not a hex Ed25519 public key (64 hex digits)")
	}
	return nil
}

// checkDiscord follows Discord's interactions docs, "Validating security
// request headers" (discord.com/developers/docs/interactions/overview) and
// verifyKey in
// discord-interactions-js: X-Signature-Ed25519 is the hex Ed25519 signature of
// X-Signature-Timestamp + body under the application's hex public key.
// Discord documents no timestamp tolerance.
func checkDiscord(auth map[string]string, in Input) error {
	key, err := hex.DecodeString(strings.TrimSpace(auth["public_key"]))
	if err != nil || len(key) != ed25519.PublicKeySize {
		return fail("the source's public key is not a hex Ed25519 key")
	}
	sig, err := header(in, "X-Signature-Ed25519")
	if err != nil {
		return err
	}
	ts, err := header(in, "X-Signature-Timestamp")
	if err != nil {
		return err
	}
	raw, err := hex.DecodeString(sig)
	if err != nil || !ed25519.Verify(key, append([]byte(ts), in.Body...), raw) {
		return fail("X-Signature-Ed25519 does not match the request")
	}
	return nil
}

func validateEd25519Base64(auth map[string]string) error {
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth["public_key"])); err != nil || len(b) != ed25519.PublicKeySize {
		return errors.New("auth.public_key is not a base64 Ed25519 public key (32 bytes)")
	}
	return nil
}

// telnyxTolerance is TIMESTAMP_TOLERANCE_SECONDS of Telnyx's SDKs.
const telnyxTolerance = 300 * time.Second

// checkTelnyx follows Telnyx's webhook signing (developers.telnyx.com/docs/
// development/api-fundamentals/webhooks) and WebhookVerification in
// telnyx-ruby: telnyx-signature-ed25519 is the base64 Ed25519 signature of
// telnyx-timestamp + "|" + body under the account's base64 public key, and
// the timestamp (seconds) must be within five minutes of now, either way.
func checkTelnyx(auth map[string]string, in Input) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth["public_key"]))
	if err != nil || len(key) != ed25519.PublicKeySize {
		return fail("the source's public key is not a base64 Ed25519 key")
	}
	sig, err := header(in, "telnyx-signature-ed25519")
	if err != nil {
		return err
	}
	ts, err := header(in, "telnyx-timestamp")
	if err != nil {
		return err
	}
	t, err := unixTime(ts, false)
	if err != nil {
		return err
	}
	if err := checkAge(in.now(), t, telnyxTolerance, telnyxTolerance); err != nil {
		return err
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !ed25519.Verify(key, append([]byte(ts+"|"), in.Body...), raw) {
		return fail("telnyx-signature-ed25519 does not match the request")
	}
	return nil
}
