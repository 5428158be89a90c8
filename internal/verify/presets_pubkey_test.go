package verify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strconv"
	"testing"
	"time"
)

// sendGridDocKey and the constants below are the vector of sendgrid-go's
// helpers/eventwebhook tests.
const (
	sendGridDocKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA=="
	sendGridDocSig = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0="
	sendGridDocTS  = "1588788367"
	// sendGridDocBody is json.Marshal of the test's payload map.
	sendGridDocBody = `{"category":"example_payload","event":"test_event","message_id":"message_id"}`
)

func TestSendGrid(t *testing.T) {
	t.Parallel()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	auth := map[string]string{"webhook_secret_key": base64.StdEncoding.EncodeToString(der)}
	pemAuth := map[string]string{"webhook_secret_key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
	body := `[{"email":"a@b.c","event":"processed"}]`
	signed := func(ts, body string) map[string]string {
		digest := sha256.Sum256([]byte(ts + body))
		sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{
			"X-Twilio-Email-Event-Webhook-Signature": base64.StdEncoding.EncodeToString(sig),
			"X-Twilio-Email-Event-Webhook-Timestamp": ts,
		}
	}
	docAuth := map[string]string{"webhook_secret_key": sendGridDocKey}
	docHeaders := map[string]string{"X-Twilio-Email-Event-Webhook-Signature": sendGridDocSig, "X-Twilio-Email-Event-Webhook-Timestamp": sendGridDocTS}
	ts := strconv.FormatInt(testNow.Unix(), 10)
	good := signed(ts, body)
	runPresetCases(t, "SENDGRID", auth, []presetCase{
		{name: "sdk vector", auth: docAuth, headers: docHeaders, body: sendGridDocBody, ok: true},
		{name: "sdk vector tampered", auth: docAuth, headers: docHeaders, body: sendGridDocBody + " "},
		{name: "sdk vector other timestamp", auth: docAuth, headers: with(docHeaders, "X-Twilio-Email-Event-Webhook-Timestamp", "1588788368"), body: sendGridDocBody},
		{name: "ok", headers: good, body: body, ok: true},
		{name: "ok pem key", auth: pemAuth, headers: good, body: body, ok: true},
		{name: "wrong key", auth: docAuth, headers: good, body: body},
		{name: "tampered body", headers: good, body: `[]`},
		{name: "missing timestamp", headers: without(good, "X-Twilio-Email-Event-Webhook-Timestamp"), body: body},
		{name: "missing signature", headers: without(good, "X-Twilio-Email-Event-Webhook-Signature"), body: body},
	})
}

func TestDiscord(t *testing.T) {
	t.Parallel()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, ed25519.SeedSize))
	auth := map[string]string{"public_key": hex.EncodeToString(priv.Public().(ed25519.PublicKey))}
	body := `{"type":1}`
	signed := func(k ed25519.PrivateKey, ts, body string) map[string]string {
		return map[string]string{
			"X-Signature-Ed25519":   hex.EncodeToString(ed25519.Sign(k, []byte(ts+body))),
			"X-Signature-Timestamp": ts,
		}
	}
	ts := strconv.FormatInt(testNow.Unix(), 10)
	runPresetCases(t, "DISCORD", auth, []presetCase{
		{name: "ok", headers: signed(priv, ts, body), body: body, ok: true},
		{name: "wrong key", headers: signed(other, ts, body), body: body},
		{name: "tampered body", headers: signed(priv, ts, body), body: `{"type":2}`},
		{name: "other timestamp", headers: with(signed(priv, ts, body), "X-Signature-Timestamp", "1"), body: body},
		{name: "missing timestamp", headers: without(signed(priv, ts, body), "X-Signature-Timestamp"), body: body},
		{name: "missing signature", headers: without(signed(priv, ts, body), "X-Signature-Ed25519"), body: body},
	})
}

func TestTelnyx(t *testing.T) {
	t.Parallel()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{10}, ed25519.SeedSize))
	auth := map[string]string{"public_key": base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))}
	body := `{"data":{"event_type":"message.received"}}`
	signed := func(k ed25519.PrivateKey, unix int64, body string) map[string]string {
		ts := strconv.FormatInt(unix, 10)
		return map[string]string{
			"telnyx-signature-ed25519": base64.StdEncoding.EncodeToString(ed25519.Sign(k, []byte(ts+"|"+body))),
			"telnyx-timestamp":         ts,
		}
	}
	now := testNow.Unix()
	runPresetCases(t, "TELNYX", auth, []presetCase{
		{name: "ok", headers: signed(priv, now-5, body), body: body, ok: true},
		{name: "ok 299s ahead", headers: signed(priv, now+299, body), body: body, ok: true},
		{name: "wrong key", headers: signed(other, now, body), body: body},
		{name: "tampered body", headers: signed(priv, now, body), body: body + " "},
		{name: "no separator", headers: map[string]string{
			"telnyx-signature-ed25519": base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(strconv.FormatInt(now, 10)+body))),
			"telnyx-timestamp":         strconv.FormatInt(now, 10)}, body: body},
		{name: "stale timestamp", headers: signed(priv, now-301, body), body: body},
		{name: "future timestamp", headers: signed(priv, now+301, body), body: body},
		{name: "stale by receipt time", headers: signed(priv, now, body), body: body, now: testNow.Add(6 * time.Minute)},
		{name: "missing timestamp", headers: without(signed(priv, now, body), "telnyx-timestamp"), body: body},
		{name: "missing signature", headers: without(signed(priv, now, body), "telnyx-signature-ed25519"), body: body},
	})
}
