package api

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/sluice-gw/sluice/internal/model"
)

// destinationInput is a destination in a request body, in either dialect:
// the typed form's type and config, or the legacy form's top-level url,
// cli_path, rate_limit, rate_limit_period, http_method, auth_method and
// path_forwarding_disabled.
type destinationInput struct {
	Name        opt[string]                 `json:"name"`
	Description opt[string]                 `json:"description"`
	Type        opt[string]                 `json:"type"`
	Config      opt[destinationConfigInput] `json:"config"`
	destinationConfigInput
	CLIPath    opt[string]                `json:"cli_path"`
	AuthMethod opt[legacyAuthMethodInput] `json:"auth_method"`
}

// destinationConfigInput is the typed destination config; its fields also
// appear at the top level of a legacy destination.
type destinationConfigInput struct {
	URL                    opt[string]            `json:"url"`
	Path                   opt[string]            `json:"path"`
	RateLimit              opt[float64]           `json:"rate_limit"`
	RateLimitPeriod        opt[string]            `json:"rate_limit_period"`
	PathForwardingDisabled opt[bool]              `json:"path_forwarding_disabled"`
	HTTPMethod             opt[string]            `json:"http_method"`
	AuthType               opt[string]            `json:"auth_type"`
	Auth                   opt[map[string]string] `json:"auth"`
	// DeliveryMode is Sluice's own: "ordered" or "parallel" (the default).
	DeliveryMode opt[string] `json:"delivery_mode"`
}

// legacyAuthMethodInput is {"type":"BASIC_AUTH","config":{…}}.
type legacyAuthMethodInput struct {
	Type   string            `json:"type"`
	Config map[string]string `json:"config"`
}

// Destination auth types.
const authHookdeckSignature = "HOOKDECK_SIGNATURE"

// ratePeriods are the valid rate_limit_period values.
var ratePeriods = map[string]bool{"second": true, "minute": true, "hour": true, "concurrent": true}

// mockHost is Hookdeck's mock API; a legacy destination pointing at it
// becomes a MOCK_API destination, which Sluice answers in process.
const mockHost = "mock.hookdeck.com"

// applyDestination applies the input to d; when creating, name is
// required and the type defaults from what is given. field prefixes error
// field names.
func applyDestination(in destinationInput, d *model.Destination, creating bool, field string) error {
	if in.Name.Set || creating {
		if err := checkName(join(field, "name"), in.Name.V); err != nil {
			return err
		}
		d.Name = in.Name.V
	}
	if err := applyDescription(join(field, "description"), in.Description, &d.Description); err != nil {
		return err
	}
	// Legacy top-level fields.
	if err := applyDestinationConfig(field, in.destinationConfigInput, d); err != nil {
		return err
	}
	if in.CLIPath.Set {
		d.Config.Path = in.CLIPath.V
	}
	if in.AuthMethod.Set {
		if in.AuthMethod.Null {
			d.Config.AuthType, d.Config.Auth = "", nil
		} else {
			am := in.AuthMethod.V
			d.Config.AuthType = strings.ToUpper(strings.TrimSpace(am.Type))
			d.Config.Auth = mergeAuth(d.Config.Auth, am.Config)
		}
	}
	if in.Config.has() {
		if err := applyDestinationConfig(join(field, "config"), in.Config.V, d); err != nil {
			return err
		}
	}
	switch {
	case in.Type.has():
		d.Type = strings.ToUpper(strings.TrimSpace(in.Type.V))
	case in.CLIPath.has():
		d.Type = model.DestinationCLI
	case in.URL.has():
		d.Type = model.DestinationHTTP
		if u, err := url.Parse(in.URL.V); err == nil && strings.EqualFold(u.Hostname(), mockHost) {
			d.Type = model.DestinationMockAPI
		}
	case d.Type == "" && d.Config.Path != "" && d.Config.URL == "":
		d.Type = model.DestinationCLI
	case d.Type == "":
		d.Type = model.DestinationHTTP
	}
	return checkDestination(field, in, *d)
}

// legacyForm reports whether the input used the legacy top-level fields.
func (in destinationInput) legacyForm() bool {
	c := in.destinationConfigInput
	return in.CLIPath.Set || in.AuthMethod.Set || c.URL.Set || c.Path.Set || c.RateLimit.Set ||
		c.RateLimitPeriod.Set || c.PathForwardingDisabled.Set || c.HTTPMethod.Set || c.AuthType.Set || c.Auth.Set ||
		c.DeliveryMode.Set
}

// applyDestinationConfig applies config fields (typed config or legacy
// top level).
func applyDestinationConfig(field string, c destinationConfigInput, d *model.Destination) error {
	cfg := &d.Config
	if c.URL.Set {
		cfg.URL = strings.TrimSpace(c.URL.V)
	}
	if c.Path.Set {
		cfg.Path = c.Path.V
	}
	if c.RateLimit.Set {
		if c.RateLimit.Null {
			cfg.RateLimit = nil
		} else {
			if c.RateLimit.V < 0 {
				return invalid(join(field, "rate_limit"), "must not be negative")
			}
			r := c.RateLimit.V
			cfg.RateLimit = &r
		}
	}
	if c.RateLimitPeriod.Set {
		p := strings.ToLower(c.RateLimitPeriod.V)
		if p != "" && !ratePeriods[p] {
			return invalid(join(field, "rate_limit_period"), fmt.Sprintf("must be second, minute, hour or concurrent, not %q", c.RateLimitPeriod.V))
		}
		cfg.RateLimitPeriod = p
	}
	if c.PathForwardingDisabled.Set {
		cfg.PathForwardingDisabled = c.PathForwardingDisabled.V
	}
	if c.DeliveryMode.Set {
		switch m := strings.ToLower(strings.TrimSpace(c.DeliveryMode.V)); m {
		case "", "parallel":
			cfg.DeliveryMode = ""
		case model.DeliveryOrdered:
			cfg.DeliveryMode = m
		default:
			return invalid(join(field, "delivery_mode"), fmt.Sprintf("must be ordered or parallel, not %q", c.DeliveryMode.V))
		}
	}
	if c.HTTPMethod.Set {
		cfg.HTTPMethod = ""
		if c.HTTPMethod.V != "" {
			m, err := checkMethod(join(field, "http_method"), c.HTTPMethod.V)
			if err != nil {
				return err
			}
			cfg.HTTPMethod = m
		}
	}
	if c.AuthType.Set {
		t := strings.ToUpper(strings.TrimSpace(c.AuthType.V))
		if t != cfg.AuthType && !c.Auth.Set {
			cfg.Auth = nil
		}
		cfg.AuthType = t
	}
	if c.Auth.Set {
		if c.Auth.Null || len(c.Auth.V) == 0 {
			cfg.Auth = nil
		} else {
			cfg.Auth = mergeAuth(cfg.Auth, c.Auth.V)
			if !c.AuthType.has() {
				cfg.AuthType = inferDestinationAuth(cfg.Auth)
				if cfg.AuthType == "" {
					return invalid(join(field, "auth_type"), "is required: it cannot be inferred from the fields of auth")
				}
			}
		}
	}
	return nil
}

// inferDestinationAuth guesses a destination's auth type from its fields.
func inferDestinationAuth(auth map[string]string) string {
	has := func(k string) bool { _, ok := auth[k]; return ok }
	switch {
	case has("signing_secret"):
		return "CUSTOM_SIGNATURE"
	case has("username") || has("password"):
		return "BASIC_AUTH"
	case has("api_key"):
		return "API_KEY"
	case has("token"):
		return "BEARER_TOKEN"
	case has("refresh_token"):
		return "OAUTH2_AUTHORIZATION_CODE"
	case has("client_id") || has("client_secret"):
		return "OAUTH2_CLIENT_CREDENTIALS"
	case has("access_key_id") || has("secret_access_key"):
		return "AWS_SIGNATURE"
	case has("service_account_key"):
		return "GCP_SERVICE_ACCOUNT"
	}
	return ""
}

// checkDestination validates the destination after the input is applied.
func checkDestination(field string, in destinationInput, d model.Destination) error {
	cfgField := join(field, "config")
	if !in.Config.has() && in.legacyForm() {
		cfgField = field // legacy fields are top-level
	}
	switch d.Type {
	case model.DestinationHTTP:
		if err := checkURL(join(cfgField, "url"), d.Config.URL); err != nil {
			return err
		}
	case model.DestinationCLI:
		if d.Config.Path == "" {
			f := join(cfgField, "path")
			if !in.Config.has() && in.legacyForm() {
				f = join(field, "cli_path")
			}
			return invalid(f, "is required for a CLI destination")
		}
		if !strings.HasPrefix(d.Config.Path, "/") {
			return invalid(join(cfgField, "path"), fmt.Sprintf("must start with /, not %q", d.Config.Path))
		}
	case model.DestinationMockAPI:
	default:
		return invalid(join(field, "type"), fmt.Sprintf("must be HTTP, CLI or MOCK_API, not %q", d.Type))
	}
	return checkDestinationAuth(field, in, d.Config)
}

// checkURL validates an absolute http(s) URL.
func checkURL(field, raw string) error {
	if raw == "" {
		return invalid(field, "is required for an HTTP destination")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid(field, fmt.Sprintf("must be an absolute http or https URL, not %q", raw))
	}
	return nil
}
