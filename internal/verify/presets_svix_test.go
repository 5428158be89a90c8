package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"testing"
	"time"
)

func TestSvix(t *testing.T) {
	t.Parallel()
	// The test vector of the Standard Webhooks spec and Svix's libraries.
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const docID, docTS, docBody = "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", `{"test": 2432232314}`
	const docSig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	docNow := time.Unix(1614265330, 0)
	key, err := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	otherKey := []byte("another-endpoint-key")
	sig := func(key []byte, id string, ts int64, body string) string {
		m := hmac.New(sha256.New, key)
		fmt.Fprintf(m, "%s.%d.%s", id, ts, body)
		return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	headers := func(prefix, id string, ts int64, sigs string) map[string]string {
		return map[string]string{prefix + "id": id, prefix + "timestamp": fmt.Sprint(ts), prefix + "signature": sigs}
	}
	body := `{"type":"email.sent"}`
	now := testNow.Unix()
	good := sig(key, "msg_1", now, body)
	cases := []presetCase{
		{name: "documented vector svix headers", headers: map[string]string{"svix-id": docID, "svix-timestamp": docTS, "svix-signature": docSig}, body: docBody, now: docNow, ok: true},
		{name: "documented vector webhook headers", headers: map[string]string{"webhook-id": docID, "webhook-timestamp": docTS, "webhook-signature": docSig}, body: docBody, now: docNow, ok: true},
		{name: "ok", headers: headers("svix-", "msg_1", now, good), body: body, ok: true},
		{name: "ok among several", headers: headers("webhook-", "msg_1", now, "v1a,xyz "+sig(otherKey, "msg_1", now, body)+" "+good), body: body, ok: true},
		{name: "ok bare secret", auth: map[string]string{"webhook_secret_key": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, headers: headers("svix-", "msg_1", now, good), body: body, ok: true},
		{name: "incomplete svix headers fall back", headers: map[string]string{"svix-id": "msg_1", "webhook-id": "msg_1", "webhook-timestamp": fmt.Sprint(now), "webhook-signature": good}, body: body, ok: true},
		{name: "wrong secret", headers: headers("svix-", "msg_1", now, sig(otherKey, "msg_1", now, body)), body: body},
		{name: "secret not decoded", headers: headers("svix-", "msg_1", now, sig([]byte(secret), "msg_1", now, body)), body: body},
		{name: "tampered body", headers: headers("svix-", "msg_1", now, good), body: body + " "},
		{name: "other id", headers: headers("svix-", "msg_2", now, good), body: body},
		{name: "v2 version", headers: headers("svix-", "msg_1", now, "v2"+good[2:]), body: body},
		{name: "stale timestamp", headers: headers("svix-", "msg_1", now-301, sig(key, "msg_1", now-301, body)), body: body},
		{name: "future timestamp", headers: headers("svix-", "msg_1", now+301, sig(key, "msg_1", now+301, body)), body: body},
		{name: "missing signature", headers: without(headers("svix-", "msg_1", now, good), "svix-signature"), body: body},
		{name: "missing headers", body: body},
	}
	for _, authType := range []string{"SVIX", "RESEND"} {
		t.Run(authType, func(t *testing.T) {
			t.Parallel()
			runPresetCases(t, authType, map[string]string{"webhook_secret_key": secret}, cases)
		})
	}
}
