package api

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/sluice-gw/sluice/internal/model"
)

// authSpec describes the auth fields of one destination auth type, as in
// the OpenAPI schemas DestinationConfigHTTPAuth*.
type authSpec struct {
	required []string
	optional []string
	// enums lists the allowed values of fields that have a fixed set
	// (an empty value means the default).
	enums map[string][]string
	// urls are fields that must hold an absolute http(s) URL.
	urls []string
	// unsupported is set for types Hookdeck has and Sluice cannot deliver
	// with yet; they are refused on write.
	unsupported bool
}

// fields lists every field of the type, required first.
func (a authSpec) fields() []string { return append(slices.Clone(a.required), a.optional...) }

// destinationAuthTypes are the destination auth types, in both dialects
// (typed config.auth_type + config.auth, legacy auth_method {type, config}).
var destinationAuthTypes = map[string]authSpec{
	authHookdeckSignature: {},
	"CUSTOM_SIGNATURE":    {required: []string{"key", "signing_secret"}},
	"BASIC_AUTH":          {required: []string{"username", "password"}},
	"API_KEY": {required: []string{"key", "api_key"}, optional: []string{"to"},
		enums: map[string][]string{"to": {"header", "query"}}},
	"BEARER_TOKEN": {required: []string{"token"}},
	"OAUTH2_CLIENT_CREDENTIALS": {required: []string{"auth_server", "client_id", "client_secret"},
		optional: []string{"scope", "authentication_type"},
		enums:    map[string][]string{"authentication_type": {"basic", "bearer", "x-www-form-urlencoded"}},
		urls:     []string{"auth_server"}},
	"OAUTH2_AUTHORIZATION_CODE": {unsupported: true,
		required: []string{"auth_server", "client_id", "client_secret", "refresh_token"}, optional: []string{"scope"}},
	"AWS_SIGNATURE": {unsupported: true,
		required: []string{"access_key_id", "secret_access_key"}, optional: []string{"region", "service"}},
	"GCP_SERVICE_ACCOUNT": {unsupported: true, required: []string{"service_account_key"}, optional: []string{"scope"}},
}

// supportedDestinationAuth lists, sorted, the auth types Sluice delivers
// with.
func supportedDestinationAuth() []string {
	var out []string
	for t, a := range destinationAuthTypes {
		if !a.unsupported {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// authFieldNames names the fields of a destination's auth in the
// form the client used: auth_method.type / auth_method.config.<f> for the
// legacy auth_method, config.auth_type / config.auth.<f> for the typed
// config, and the bare auth_type / auth.<f> for legacy top-level fields.
func authFieldNames(field string, in destinationInput) (typeField, authField string) {
	switch {
	case in.AuthMethod.Set && !in.Config.has():
		return join(field, "auth_method.type"), join(field, "auth_method.config")
	case !in.Config.has() && (in.AuthType.Set || in.Auth.Set):
		return join(field, "auth_type"), join(field, "auth")
	}
	return join(field, "config.auth_type"), join(field, "config.auth")
}

// checkDestinationAuth validates a destination's auth type and fields:
// the type must be one Sluice supports, every required field must be set,
// enumerated fields must hold an allowed value, and no other field may be
// given. Errors are 422s naming the field (config.auth.<field>).
func checkDestinationAuth(field string, in destinationInput, cfg model.DestinationConfig) error {
	t := cfg.AuthType
	if t == "" {
		return nil
	}
	typeField, authField := authFieldNames(field, in)
	spec, ok := destinationAuthTypes[t]
	switch {
	case !ok:
		return invalid(typeField, fmt.Sprintf("%q is not a destination auth type (want one of %s)",
			t, strings.Join(supportedDestinationAuth(), ", ")))
	case spec.unsupported:
		return invalid(typeField, fmt.Sprintf("%s is not supported by Sluice (supported: %s)",
			t, strings.Join(supportedDestinationAuth(), ", ")))
	}
	for _, k := range spec.required {
		if cfg.Auth[k] == "" {
			return invalid(authField+"."+k, fmt.Sprintf("is required for %s", t))
		}
	}
	keys := make([]string, 0, len(cfg.Auth))
	for k := range cfg.Auth {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	all := spec.fields()
	for _, k := range keys {
		if !slices.Contains(all, k) {
			want := "none"
			if len(all) > 0 {
				want = strings.Join(all, ", ")
			}
			return invalid(authField+"."+k, fmt.Sprintf("is not a field of %s auth (fields: %s)", t, want))
		}
	}
	for k, allowed := range spec.enums {
		if v := cfg.Auth[k]; v != "" && !slices.Contains(allowed, v) {
			return invalid(authField+"."+k, fmt.Sprintf("must be %s, not %q", strings.Join(allowed, " or "), v))
		}
	}
	for _, k := range spec.urls {
		u, err := url.Parse(cfg.Auth[k])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid(authField+"."+k, fmt.Sprintf("must be an absolute http or https URL, not %q", cfg.Auth[k]))
		}
	}
	return nil
}
