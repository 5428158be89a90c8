package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestMailgun(t *testing.T) {
	t.Parallel()
	const key = "mg-signing-key"
	auth := map[string]string{"webhook_secret_key": key}
	const token = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123"
	const ts = "1770920772"
	sig := func(k, ts, token string) string { return sign(sha256.New, k, ts+token, hex.EncodeToString) }
	jsonBody := func(tsJSON, token, signature string) string {
		return fmt.Sprintf(`{"signature":{"token":%q,"timestamp":%s,"signature":%q},"event-data":{"event":"delivered"}}`,
			token, tsJSON, signature)
	}
	jsonCT := map[string]string{"Content-Type": "application/json"}
	formBody := url.Values{"timestamp": {ts}, "token": {token}, "signature": {sig(key, ts, token)}, "event": {"opened"}}.Encode()
	formCT := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	multipartBody := func(signature string) string {
		var b strings.Builder
		for _, f := range [][2]string{{"recipient", "a@b.c"}, {"timestamp", ts}, {"token", token}, {"signature", signature}} {
			fmt.Fprintf(&b, "--XyZ\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", f[0], f[1])
		}
		b.WriteString("--XyZ--\r\n")
		return b.String()
	}
	multipartCT := map[string]string{"Content-Type": "multipart/form-data; boundary=XyZ"}
	parentBody := fmt.Sprintf(`{"signature":{"token":%q,"timestamp":%q,"signature":%q,"parent-signature":%q}}`,
		token, ts, sig("subaccount-key", ts, token), sig(key, ts, token))

	runPresetCases(t, "MAILGUN", auth, []presetCase{
		{name: "json string timestamp", headers: jsonCT, body: jsonBody(`"`+ts+`"`, token, sig(key, ts, token)), ok: true},
		{name: "json number timestamp", headers: jsonCT, body: jsonBody(ts, token, sig(key, ts, token)), ok: true},
		{name: "json parent signature", headers: jsonCT, body: parentBody, ok: true},
		{name: "form", headers: formCT, body: formBody, ok: true},
		{name: "multipart", headers: multipartCT, body: multipartBody(sig(key, ts, token)), ok: true},
		{name: "wrong key", headers: jsonCT, body: jsonBody(ts, token, sig("other", ts, token))},
		{name: "tampered token", headers: jsonCT, body: jsonBody(ts, token[1:], sig(key, ts, token))},
		{name: "tampered timestamp", headers: jsonCT, body: jsonBody("1770920773", token, sig(key, ts, token))},
		{name: "multipart wrong key", headers: multipartCT, body: multipartBody(sig("other", ts, token))},
		{name: "multipart without boundary", headers: map[string]string{"Content-Type": "multipart/form-data"}, body: multipartBody(sig(key, ts, token))},
		{name: "form as json", headers: jsonCT, body: formBody},
		{name: "missing signature", headers: jsonCT, body: `{"event-data":{"event":"delivered"}}`},
		{name: "empty body", headers: jsonCT},
	})
}
