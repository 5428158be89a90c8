package api

import (
	"fmt"
	"strings"

	"github.com/sluice-gw/sluice/internal/model"
)

// Provider presets. A source verifies with a provider's own signing scheme
// when its auth type names a preset (verify.Presets). Both dialects select
// one:
//
//   - typed: type "STRIPE" with config.auth {webhook_secret_key} (the auth
//     type is the source's type), or type "WEBHOOK" with config.auth_type
//     "STRIPE";
//   - legacy: verification {type: "stripe", configs: {webhook_secret_key}}
//     (the preset's name in lower case, as the legacy dialect renders it).
//
// The settings are checked by Config.ValidateSource (verify.Validate) and
// its errors name the field: config.auth.<field> or
// verification.configs.<field>, config.auth_type, verification.type or
// type for the scheme itself.

// genericSourceType reports whether a source type carries its
// verification scheme in config.auth_type (WEBHOOK and HTTP) rather than
// being a preset itself.
func genericSourceType(t string) bool {
	return t == "" || t == sourceWebhook || t == "HTTP"
}

// typedAuthType is the config.auth_type a typed answer shows: preset-typed
// sources (type STRIPE …) have no auth_type in their config (OpenAPI
// SourceTypeConfig<PRESET>); generic ones show it, or omit it when unset.
func typedAuthType(src model.Source) *string {
	if !genericSourceType(src.Type) {
		return nil
	}
	return nullable(src.Config.AuthType)
}

// checkSourceVerification validates a source's verification settings
// after the input is applied, naming the field the way the client gave it.
func checkSourceVerification(field string, in sourceInput, s model.Source, validate func(model.SourceConfig) error) error {
	cfg := s.Config
	legacy := in.Verification.Set && !in.Config.has()
	typeField, authField := join(field, "config.auth_type"), join(field, "config.auth")
	switch {
	case legacy:
		typeField, authField = join(field, "verification.type"), join(field, "verification.configs")
	case !(in.Config.has() && in.Config.V.AuthType.Set) && !genericSourceType(s.Type) && cfg.AuthType == s.Type:
		typeField = join(field, "type")
	}
	if !legacy && cfg.AuthType != "" && !genericSourceType(s.Type) && cfg.AuthType != s.Type {
		return invalid(typeField, fmt.Sprintf("a %s source verifies with %s, not %s (use type WEBHOOK with config.auth_type %s)",
			s.Type, s.Type, cfg.AuthType, cfg.AuthType))
	}
	if validate == nil {
		for _, k := range requiredSourceAuth[cfg.AuthType] {
			if cfg.Auth[k] == "" {
				return invalid(authField+"."+legacyAuthName(legacy, cfg.AuthType, k),
					fmt.Sprintf("is required for %s verification", cfg.AuthType))
			}
		}
		return nil
	}
	err := validate(cfg)
	if err == nil {
		return nil
	}
	return sourceAuthError(typeField, authField, legacy, cfg.AuthType, err.Error())
}

// sourceAuthError turns a validation message of the form "auth.<field> …",
// "auth.<field>: …" or "auth_type …" into a 422 naming that field.
func sourceAuthError(typeField, authField string, legacy bool, authType, msg string) error {
	switch {
	case strings.HasPrefix(msg, "auth."):
		rest := msg[len("auth."):]
		end := strings.IndexAny(rest, " :")
		if end <= 0 {
			return invalid(authField, msg)
		}
		name, text := rest[:end], strings.TrimSpace(strings.TrimPrefix(rest[end:], ":"))
		return invalid(authField+"."+legacyAuthName(legacy, authType, name), text)
	case strings.HasPrefix(msg, "auth_type"):
		return invalid(typeField, strings.TrimSpace(strings.TrimPrefix(msg, "auth_type")))
	}
	return invalid(authField, msg)
}

// legacyAuthName is the name of an auth field in the client's dialect:
// the legacy dialect calls basic auth's username "name".
func legacyAuthName(legacy bool, authType, name string) string {
	if legacy && authType == sourceAuthBasic && name == "username" {
		return "name"
	}
	return name
}
