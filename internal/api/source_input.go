package api

import (
	"fmt"
	"strings"

	"github.com/sluice-gw/sluice/internal/model"
)

// sourceInput is a source in a request body, in either dialect: the typed
// form's type and config, or the legacy form's top-level
// allowed_http_methods, custom_response and verification. Both are accepted
// whatever the version; answers follow the version's dialect.
type sourceInput struct {
	Name        opt[string]              `json:"name"`
	Description opt[string]              `json:"description"`
	Type        opt[string]              `json:"type"`
	Config      opt[sourceConfigInput]   `json:"config"`
	Methods     opt[[]string]            `json:"allowed_http_methods"`
	Response    opt[customResponseInput] `json:"custom_response"`
	// Verification is the legacy form of config.auth_type + config.auth.
	Verification opt[legacyVerificationInput] `json:"verification"`
}

// sourceConfigInput is the typed dialect's source config.
type sourceConfigInput struct {
	Methods  opt[[]string]            `json:"allowed_http_methods"`
	Response opt[customResponseInput] `json:"custom_response"`
	AuthType opt[string]              `json:"auth_type"`
	Auth     opt[map[string]string]   `json:"auth"`
}

// customResponseInput is a source's custom response.
type customResponseInput struct {
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
}

// legacyVerificationInput is {"type":"api_key","configs":{…}}.
type legacyVerificationInput struct {
	Type    string            `json:"type"`
	Configs map[string]string `json:"configs"`
}

// Source auth types Sluice verifies itself.
const (
	sourceAuthAPIKey = "API_KEY"
	sourceAuthBasic  = "BASIC_AUTH"
	sourceAuthHMAC   = "HMAC"
	sourceWebhook    = "WEBHOOK"
)

// applySource applies the input to s; when creating, name is required and
// defaults fill what is not given. field prefixes error field names
// ("source" inside a connection). validate checks the resulting
// verification settings (nil: required fields only).
func applySource(in sourceInput, s *model.Source, creating bool, field string, validate func(model.SourceConfig) error) error {
	if in.Name.Set || creating {
		if err := checkName(join(field, "name"), in.Name.V); err != nil {
			return err
		}
		s.Name = in.Name.V
	}
	if err := applyDescription(join(field, "description"), in.Description, &s.Description); err != nil {
		return err
	}
	// An empty type is no type: the Hookdeck CLI's `gateway connection
	// upsert --source-name X` without --source-type sends "type":"".
	if in.Type.has() && strings.TrimSpace(in.Type.V) != "" {
		t := strings.ToUpper(strings.TrimSpace(in.Type.V))
		if len(t) > 64 {
			return invalid(join(field, "type"), fmt.Sprintf("is not a source type: %q", in.Type.V))
		}
		s.Type = t
	}
	if s.Type == "" {
		s.Type = sourceWebhook
	}
	cfg := &s.Config
	if err := applyMethods(join(field, "allowed_http_methods"), in.Methods, cfg); err != nil {
		return err
	}
	if err := applyResponse(join(field, "custom_response"), in.Response, cfg); err != nil {
		return err
	}
	if in.Verification.Set {
		if in.Verification.Null || in.Verification.V.Type == "" {
			cfg.AuthType, cfg.Auth = "", nil
		} else {
			cfg.AuthType, cfg.Auth = legacyToAuth(in.Verification.V, cfg.Auth)
		}
	}
	if in.Config.has() {
		c := in.Config.V
		if err := applyMethods(join(field, "config.allowed_http_methods"), c.Methods, cfg); err != nil {
			return err
		}
		if err := applyResponse(join(field, "config.custom_response"), c.Response, cfg); err != nil {
			return err
		}
		if err := applyTypedAuth(join(field, "config"), c, s); err != nil {
			return err
		}
	}
	return checkSourceVerification(field, in, *s, validate)
}

// applyMethods applies allowed_http_methods.
func applyMethods(field string, o opt[[]string], cfg *model.SourceConfig) error {
	if !o.Set {
		return nil
	}
	if o.Null {
		cfg.AllowedHTTPMethods = nil
		return nil
	}
	ms := make([]string, 0, len(o.V))
	for i, m := range o.V {
		u, err := checkMethod(fmt.Sprintf("%s[%d]", field, i), m)
		if err != nil {
			return err
		}
		ms = append(ms, u)
	}
	cfg.AllowedHTTPMethods = ms
	return nil
}

// applyResponse applies custom_response.
func applyResponse(field string, o opt[customResponseInput], cfg *model.SourceConfig) error {
	if !o.Set {
		return nil
	}
	if o.Null {
		cfg.CustomResponse = nil
		return nil
	}
	switch o.V.ContentType {
	case "json", "text", "xml":
	default:
		return invalid(field+".content_type", fmt.Sprintf("must be json, text or xml, not %q", o.V.ContentType))
	}
	if len(o.V.Body) > maxCustomBodyLen {
		return invalid(field+".body", fmt.Sprintf("must be at most %d characters", maxCustomBodyLen))
	}
	cfg.CustomResponse = &model.CustomResponse{ContentType: o.V.ContentType, Body: o.V.Body}
	return nil
}

// applyTypedAuth applies config.auth_type and config.auth, inferring the
// type from the auth fields when only auth is given.
func applyTypedAuth(field string, c sourceConfigInput, s *model.Source) error {
	cfg := &s.Config
	if c.AuthType.Set {
		t := strings.ToUpper(strings.TrimSpace(c.AuthType.V))
		if t != cfg.AuthType && !c.Auth.Set {
			cfg.Auth = nil
		}
		cfg.AuthType = t
	}
	if !c.Auth.Set {
		return nil
	}
	if c.Auth.Null || len(c.Auth.V) == 0 {
		cfg.Auth = nil
		if !c.AuthType.Set {
			cfg.AuthType = ""
		}
		return nil
	}
	cfg.Auth = mergeAuth(cfg.Auth, c.Auth.V)
	if !c.AuthType.has() || cfg.AuthType == "" {
		t := inferSourceAuth(s.Type, cfg.Auth)
		if t == "" {
			return invalid(field+".auth_type", "is required: it cannot be inferred from the fields of auth")
		}
		cfg.AuthType = t
	}
	return nil
}

// inferSourceAuth guesses a source's auth type from its auth fields.
func inferSourceAuth(sourceType string, auth map[string]string) string {
	has := func(k string) bool { _, ok := auth[k]; return ok }
	preset := sourceType != "" && sourceType != sourceWebhook && sourceType != "HTTP"
	switch {
	case preset:
		return sourceType
	case has("api_key"):
		return sourceAuthAPIKey
	case has("username") || has("password"):
		return sourceAuthBasic
	case has("webhook_secret_key"):
		return sourceAuthHMAC
	}
	return ""
}

// legacyToAuth maps a legacy verification to an auth type and fields.
func legacyToAuth(v legacyVerificationInput, existing map[string]string) (string, map[string]string) {
	t := strings.ToUpper(strings.TrimSpace(v.Type))
	auth := make(map[string]string, len(v.Configs))
	for k, val := range v.Configs {
		auth[k] = val
	}
	if t == sourceAuthBasic {
		if n, ok := auth["name"]; ok {
			if _, dup := auth["username"]; !dup {
				auth["username"] = n
			}
			delete(auth, "name")
		}
	}
	if len(auth) == 0 {
		// {"type":"api_key"} alone keeps the stored fields (a client
		// writing back what it read).
		return t, existing
	}
	return t, mergeAuth(existing, auth)
}

// requiredSourceAuth lists the fields each verifiable scheme needs.
var requiredSourceAuth = map[string][]string{
	sourceAuthAPIKey: {"header_key", "api_key"},
	sourceAuthBasic:  {"username", "password"},
	sourceAuthHMAC:   {"header_key", "webhook_secret_key"},
}
