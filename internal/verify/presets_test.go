package verify

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
)

// testNow is the receipt time of every preset test request.
var testNow = time.Unix(1_700_000_000, 0)

// presetCase is one request checked against a preset.
type presetCase struct {
	name    string
	auth    map[string]string // nil: the test's default auth
	method  string            // "": POST
	url     string
	headers map[string]string
	body    string
	now     time.Time // zero: testNow
	ok      bool
}

// runPresetCases checks that each case is accepted or rejected as expected,
// that the configuration validates, and that rejections wrap ErrFailed.
func runPresetCases(t *testing.T, authType string, auth map[string]string, cases []presetCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := auth
			if tc.auth != nil {
				a = tc.auth
			}
			cfg := model.SourceConfig{AuthType: authType, Auth: a}
			if err := Validate(cfg); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			in := Input{Method: tc.method, URL: tc.url, Headers: h, Body: []byte(tc.body), Now: tc.now}
			if in.Method == "" {
				in.Method = http.MethodPost
			}
			if in.Now.IsZero() {
				in.Now = testNow
			}
			err := Request(cfg, in)
			if (err == nil) != tc.ok {
				t.Fatalf("Request() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrFailed) {
				t.Fatalf("error %v does not wrap ErrFailed", err)
			}
		})
	}
}

// without returns a copy of m without the named keys.
func without(m map[string]string, keys ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if !slices.Contains(keys, k) {
			out[k] = v
		}
	}
	return out
}

// with returns a copy of m with the given key set to v.
func with(m map[string]string, k, v string) map[string]string {
	out := without(m)
	out[k] = v
	return out
}

func TestPresets(t *testing.T) {
	t.Parallel()
	got := Presets()
	if !slices.IsSorted(got) {
		t.Errorf("Presets() = %v, not sorted", got)
	}
	required := []string{"STRIPE", "GITHUB", "SHOPIFY", "TWILIO", "SLACK", "SVIX", "RESEND", "PADDLE", "SQUARE",
		"GITLAB", "LINEAR", "ZOOM", "MAILGUN", "SENDGRID", "HUBSPOT", "TYPEFORM", "POSTMARK", "WOOCOMMERCE"}
	for _, name := range required {
		if !slices.Contains(got, name) {
			t.Errorf("Presets() lacks %s", name)
		}
	}
	for _, name := range got {
		if !Supported(name) {
			t.Errorf("Supported(%q) = false", name)
		}
		if len(RequiredFields(name)) == 0 {
			t.Errorf("RequiredFields(%q) is empty", name)
		}
	}
	if Supported("MAGIC") || Supported("stripe") {
		t.Error("Supported accepts an unknown or lower-case name")
	}
	got[0] = "CHANGED"
	if Presets()[0] == "CHANGED" {
		t.Error("Presets() returns shared state")
	}
}

func TestRequiredFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		authType string
		want     []string
	}{
		{"", nil},
		{"MAGIC", nil},
		{APIKey, []string{"header_key", "api_key"}},
		{BasicAuth, []string{"username", "password"}},
		{HMAC, []string{"header_key", "webhook_secret_key"}},
		{"STRIPE", []string{"webhook_secret_key"}},
		{"SENDGRID", []string{"webhook_secret_key"}},
		{"GITLAB", []string{"api_key"}},
		{"POSTMARK", []string{"username", "password"}},
		{"DISCORD", []string{"public_key"}},
	}
	for _, tt := range tests {
		if got := RequiredFields(tt.authType); !slices.Equal(got, tt.want) {
			t.Errorf("RequiredFields(%q) = %v, want %v", tt.authType, got, tt.want)
		}
	}
	RequiredFields("STRIPE")[0] = "changed"
	if RequiredFields("STRIPE")[0] != "webhook_secret_key" {
		t.Error("RequiredFields returns shared state")
	}
}

func TestValidatePresets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     model.SourceConfig
		wantErr string // "": valid
	}{
		{"stripe", model.SourceConfig{AuthType: "STRIPE", Auth: map[string]string{"webhook_secret_key": "whsec_x"}}, ""},
		{"stripe missing secret", model.SourceConfig{AuthType: "STRIPE"}, "auth.webhook_secret_key is required for STRIPE"},
		{"gitlab missing token", model.SourceConfig{AuthType: "GITLAB", Auth: map[string]string{"webhook_secret_key": "x"}}, "auth.api_key"},
		{"postmark missing password", model.SourceConfig{AuthType: "POSTMARK", Auth: map[string]string{"username": "u"}}, "auth.password"},
		{"svix not base64", model.SourceConfig{AuthType: "SVIX", Auth: map[string]string{"webhook_secret_key": "whsec_not base64!"}}, "auth.webhook_secret_key"},
		{"svix bare base64", model.SourceConfig{AuthType: "SVIX", Auth: map[string]string{"webhook_secret_key": "c2VjcmV0"}}, ""},
		{"sendgrid not a key", model.SourceConfig{AuthType: "SENDGRID", Auth: map[string]string{"webhook_secret_key": "c2VjcmV0"}}, "auth.webhook_secret_key"},
		{"sendgrid key", model.SourceConfig{AuthType: "SENDGRID", Auth: map[string]string{"webhook_secret_key": sendGridDocKey}}, ""},
		{"discord short key", model.SourceConfig{AuthType: "DISCORD", Auth: map[string]string{"public_key": "abcd"}}, "auth.public_key"},
		{"telnyx hex key", model.SourceConfig{AuthType: "TELNYX", Auth: map[string]string{"public_key": strings.Repeat("ab", 32)}}, "auth.public_key"},
		{"unknown lists presets", model.SourceConfig{AuthType: "MAGIC"}, "STRIPE"},
	}
	for _, tt := range tests {
		err := Validate(tt.cfg)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: Validate() = %v, want an error mentioning %q", tt.name, err, tt.wantErr)
		}
	}
}

// presetHeaders are all the headers the presets read.
var presetHeaders = []string{
	"Stripe-Signature", "X-Hub-Signature-256", "X-Shopify-Hmac-Sha256", "X-Twilio-Signature",
	"X-Slack-Signature", "X-Slack-Request-Timestamp", "svix-id", "svix-timestamp", "svix-signature",
	"webhook-id", "webhook-timestamp", "webhook-signature", "Paddle-Signature",
	"x-square-hmacsha256-signature", "X-Gitlab-Token", "Linear-Signature", "x-zm-signature",
	"x-zm-request-timestamp", "X-Twilio-Email-Event-Webhook-Signature",
	"X-Twilio-Email-Event-Webhook-Timestamp", "X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp",
	"Typeform-Signature", "Authorization", "X-WC-Webhook-Signature", "X-Signature-Ed25519",
	"X-Signature-Timestamp", "telnyx-signature-ed25519", "telnyx-timestamp", "X-Hub-Signature",
	"x-xero-signature", "x-twitter-webhooks-signature", "x-vercel-signature", "X-Razorpay-Signature",
	"X-Hook-Signature", "X-Zendesk-Webhook-Signature", "X-Zendesk-Webhook-Signature-Timestamp",
	"Twitch-Eventsub-Message-Signature", "Twitch-Eventsub-Message-Id", "Twitch-Eventsub-Message-Timestamp",
	"WorkOS-Signature",
}

// FuzzPresets feeds arbitrary secrets, headers, URLs and bodies to every
// preset: verification must fail cleanly, never panic.
func FuzzPresets(f *testing.F) {
	f.Add(uint8(0), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "t=1,v1=00", "1700000000", "https://x.test/a?bodySHA256=00", "application/json", []byte(`{"webhookTimestamp":1}`))
	f.Add(uint8(7), sendGridDocKey, "v1,AAAA v1,", "-1", "http://[::1]:80/p", "multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nx\r\n--b--"))
	f.Add(uint8(3), "k", "sha256=zz", "99999999999999999999", "%zz", "application/x-www-form-urlencoded", []byte("a=1&a=2&b"))
	names := Presets()
	f.Fuzz(func(t *testing.T, which uint8, secret, sig, ts, rawURL, contentType string, body []byte) {
		name := names[int(which)%len(names)]
		auth := map[string]string{}
		for _, field := range RequiredFields(name) {
			auth[field] = secret
		}
		h := http.Header{}
		for _, k := range presetHeaders {
			h.Set(k, sig)
		}
		for _, k := range []string{"X-Slack-Request-Timestamp", "svix-timestamp", "webhook-timestamp",
			"x-zm-request-timestamp", "X-Twilio-Email-Event-Webhook-Timestamp", "X-HubSpot-Request-Timestamp",
			"X-Signature-Timestamp", "telnyx-timestamp", "Twitch-Eventsub-Message-Timestamp",
			"X-Zendesk-Webhook-Signature-Timestamp"} {
			h.Set(k, ts)
		}
		h.Set("Content-Type", contentType)
		cfg := model.SourceConfig{AuthType: name, Auth: auth}
		_ = Validate(cfg)
		err := Request(cfg, Input{Method: "POST", URL: rawURL, Headers: h, Body: body, Now: testNow})
		if err != nil && !errors.Is(err, ErrFailed) {
			t.Fatalf("%s: error %v does not wrap ErrFailed", name, err)
		}
	})
}
