package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"maps"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A preset verifies requests the way one provider signs them. A source
// selects it by naming it as its AuthType; Auth then holds the preset's
// fields, named as in Hookdeck's SourceConfigWebhookAuth<Provider> schemas.
type preset struct {
	// fields are the Auth keys the preset cannot work without.
	fields []string
	// validate checks the fields' format beyond presence; it may be nil.
	validate func(auth map[string]string) error
	// check verifies one request; every error it returns wraps ErrFailed.
	check func(auth map[string]string, in Input) error
}

// presets maps each supported provider preset to its verifier. Every name
// is a value of Hookdeck's SourceTypeConfigWEBHOOK.auth_type enum.
var presets = map[string]preset{
	"ASANA":             {fields: secretField, check: checkAsana},
	"CHARGEBEE_BILLING": {fields: basicFields, check: checkBasic},
	"DISCORD":           {fields: []string{"public_key"}, validate: validateEd25519Hex, check: checkDiscord},
	"FACEBOOK":          {fields: secretField, check: checkMeta},
	"GITHUB":            {fields: secretField, check: checkGitHub},
	"GITLAB":            {fields: []string{"api_key"}, check: checkGitLab},
	"HUBSPOT":           {fields: secretField, check: checkHubSpot},
	"INTERCOM":          {fields: secretField, check: checkIntercom},
	"LINEAR":            {fields: secretField, check: checkLinear},
	"MAILGUN":           {fields: secretField, check: checkMailgun},
	"OPENAI":            {fields: secretField, validate: validateSvixSecret, check: checkSvix},
	"PADDLE":            {fields: secretField, check: checkPaddle},
	"PIPEDRIVE":         {fields: basicFields, check: checkBasic},
	"POLAR":             {fields: secretField, check: checkPolar},
	"POSTMARK":          {fields: basicFields, check: checkBasic},
	"RAZORPAY":          {fields: secretField, check: checkRazorpay},
	"REPLICATE":         {fields: secretField, validate: validateSvixSecret, check: checkSvix},
	"RESEND":            {fields: secretField, validate: validateSvixSecret, check: checkSvix},
	"SENDGRID":          {fields: secretField, validate: validateSendGridKey, check: checkSendGrid},
	"SHOPIFY":           {fields: secretField, check: checkShopify},
	"SLACK":             {fields: secretField, check: checkSlack},
	"SQUARE":            {fields: secretField, check: checkSquare},
	"STRIPE":            {fields: secretField, check: checkStripe},
	"SVIX":              {fields: secretField, validate: validateSvixSecret, check: checkSvix},
	"TELNYX":            {fields: []string{"public_key"}, validate: validateEd25519Base64, check: checkTelnyx},
	"TWILIO":            {fields: secretField, check: checkTwilio},
	"TWITCH":            {fields: secretField, check: checkTwitch},
	"TWITTER":           {fields: []string{"api_key"}, check: checkTwitter},
	"TYPEFORM":          {fields: secretField, check: checkTypeform},
	"VERCEL":            {fields: secretField, check: checkVercel},
	"WHATSAPP":          {fields: secretField, check: checkMeta},
	"WOOCOMMERCE":       {fields: secretField, check: checkWooCommerce},
	"WORKOS":            {fields: secretField, check: checkWorkOS},
	"XERO":              {fields: secretField, check: checkXero},
	"ZENDESK":           {fields: secretField, check: checkZendesk},
	"ZOOM":              {fields: secretField, check: checkZoom},
}

// secretField is the Auth shape of most presets: one shared secret.
var secretField = []string{"webhook_secret_key"}

// basicFields is the Auth shape of presets whose providers send HTTP Basic
// credentials instead of signing: Postmark ("Protecting your webhook",
// postmarkapp.com/developer/webhooks/webhooks-overview), Pipedrive
// (http_auth_user and http_auth_password of its Webhooks API) and Chargebee
// (webhook basic authentication).
var basicFields = []string{"username", "password"}

// Presets lists, sorted, the provider preset names Sluice can verify.
func Presets() []string {
	return slices.Sorted(maps.Keys(presets))
}

// RequiredFields lists the Auth fields a source of this verification type
// must set for Validate to accept it: for a preset, its fields as in the
// Hookdeck API; for API_KEY, BASIC_AUTH and HMAC, the fields without a
// default. It returns nil for no verification and for unknown types.
func RequiredFields(authType string) []string {
	switch authType {
	case APIKey:
		return []string{"header_key", "api_key"}
	case BasicAuth:
		return []string{"username", "password"}
	case HMAC:
		return []string{"header_key", "webhook_secret_key"}
	}
	if p, ok := presets[authType]; ok {
		return slices.Clone(p.fields)
	}
	return nil
}

// validatePreset checks a preset source's Auth fields.
func validatePreset(name string, p preset, auth map[string]string) error {
	for _, f := range p.fields {
		if auth[f] == "" {
			return fmt.Errorf("auth.%s is required for %s verification", f, name)
		}
	}
	if p.validate != nil {
		return p.validate(auth)
	}
	return nil
}

// fail builds a verification error wrapping ErrFailed.
func fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFailed, fmt.Sprintf(format, args...))
}

// mac returns the HMAC of the concatenated parts under key.
func mac(h func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// hmacSHA256 is mac with SHA-256 and a string key, the common case.
func hmacSHA256(key string, parts ...[]byte) []byte {
	return mac(sha256.New, []byte(key), parts...)
}

// hexEqual reports whether sig is the hex encoding (either case) of want.
func hexEqual(sig string, want []byte) bool {
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	return err == nil && hmac.Equal(got, want)
}

// base64Equal reports whether sig is the standard base64 encoding of want.
func base64Equal(sig string, want []byte) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	return err == nil && hmac.Equal(got, want)
}

// header returns a required header, trimmed, or an error naming it.
func header(in Input, name string) (string, error) {
	v := strings.TrimSpace(in.Headers.Get(name))
	if v == "" {
		return "", fail("header %s is missing", name)
	}
	return v, nil
}

// unixTime parses a decimal timestamp in seconds (or milliseconds when ms).
func unixTime(s string, ms bool) (time.Time, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fail("timestamp %q is not a Unix time", s)
	}
	if ms {
		return time.UnixMilli(n), nil
	}
	return time.Unix(n, 0), nil
}

// noLimit, as checkAge's future bound, accepts any timestamp ahead of now.
const noLimit time.Duration = -1

// checkAge rejects a timestamp more than maxPast before now or, unless
// maxFuture is noLimit, more than maxFuture after it.
func checkAge(now, ts time.Time, maxPast, maxFuture time.Duration) error {
	if now.Sub(ts) > maxPast {
		return fail("timestamp %d is older than the %s tolerance", ts.Unix(), maxPast)
	}
	if maxFuture != noLimit && ts.Sub(now) > maxFuture {
		return fail("timestamp %d is further ahead than the %s tolerance", ts.Unix(), maxFuture)
	}
	return nil
}

// now is the receipt time, or the current time when the caller set none.
func (in Input) now() time.Time {
	if in.Now.IsZero() {
		return time.Now()
	}
	return in.Now
}

// mediaType returns the request's lower-case media type without parameters.
func (in Input) mediaType() (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(in.Headers.Get("Content-Type"))
	if err != nil {
		return "", nil
	}
	return mt, params
}

// formValues parses a URL-encoded body; unparsable pairs are dropped, as
// form parsers in the providers' SDK frameworks drop them.
func formValues(body []byte) url.Values {
	v, _ := url.ParseQuery(string(body))
	return v
}
