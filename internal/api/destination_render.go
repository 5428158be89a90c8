package api

import (
	"github.com/sluice-gw/sluice/internal/model"
)

// mockURL is what a legacy answer shows as the url of a MOCK_API
// destination created without one.
const mockURL = "https://" + mockHost

// legacyDestination is a destination in the legacy dialect.
type legacyDestination struct {
	ID                     string            `json:"id"`
	TeamID                 string            `json:"team_id"`
	URL                    *string           `json:"url"`
	DisabledAt             *string           `json:"disabled_at"`
	UpdatedAt              string            `json:"updated_at"`
	CreatedAt              string            `json:"created_at"`
	RateLimit              *float64          `json:"rate_limit"`
	RateLimitPeriod        string            `json:"rate_limit_period"`
	CLIPath                *string           `json:"cli_path"`
	PathForwardingDisabled bool              `json:"path_forwarding_disabled"`
	Name                   string            `json:"name"`
	HTTPMethod             *string           `json:"http_method"`
	AuthMethod             *legacyAuthMethod `json:"auth_method"`
	Description            *string           `json:"description"`
	// DeliveryMode is Sluice's own, shown only when not the default.
	DeliveryMode string `json:"delivery_mode,omitempty"`
}

// legacyAuthMethod is the legacy auth_method union.
type legacyAuthMethod struct {
	Type   string            `json:"type"`
	Config map[string]string `json:"config"`
}

// typedDestination is a destination in the typed dialect.
type typedDestination struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Description *string        `json:"description"`
	TeamID      string         `json:"team_id"`
	Type        string         `json:"type"`
	Config      map[string]any `json:"config"`
	DisabledAt  *string        `json:"disabled_at"`
	UpdatedAt   string         `json:"updated_at"`
	CreatedAt   string         `json:"created_at"`
}

// renderDestination renders a destination in the dialect; reveal shows
// secrets.
func renderDestination(v version, d model.Destination, reveal bool) any {
	c := d.Config
	period := c.RateLimitPeriod
	if period == "" {
		period = "second"
	}
	authType := c.AuthType
	if authType == "" {
		authType = authHookdeckSignature
	}
	auth := renderAuth(c.Auth, reveal)
	if v.legacy() {
		out := legacyDestination{
			ID: d.ID, TeamID: d.TeamID, DisabledAt: tsp(d.DisabledAt), UpdatedAt: ts(d.UpdatedAt),
			CreatedAt: ts(d.CreatedAt), RateLimit: c.RateLimit, RateLimitPeriod: period,
			PathForwardingDisabled: c.PathForwardingDisabled, Name: d.Name,
			HTTPMethod: nullable(c.HTTPMethod), Description: d.Description,
			AuthMethod: &legacyAuthMethod{Type: authType, Config: auth}, DeliveryMode: c.DeliveryMode,
		}
		if out.AuthMethod.Config == nil {
			out.AuthMethod.Config = map[string]string{}
		}
		switch d.Type {
		case model.DestinationCLI:
			out.CLIPath = nullable(c.Path)
		case model.DestinationMockAPI:
			u := c.URL
			if u == "" {
				u = mockURL
			}
			out.URL = &u
		default:
			out.URL = nullable(c.URL)
		}
		return out
	}
	// An auth without fields (HOOKDECK_SIGNATURE) is null, which the
	// document's auth union admits as written (its "Empty" branch); {}
	// matched two of its branches.
	cfg := map[string]any{
		"path_forwarding_disabled": c.PathForwardingDisabled,
		"http_method":              nullable(c.HTTPMethod),
		"auth_type":                authType,
		"auth":                     auth,
	}
	switch d.Type {
	case model.DestinationCLI:
		cfg["path"] = c.Path
	case model.DestinationMockAPI:
		cfg["rate_limit"], cfg["rate_limit_period"] = c.RateLimit, period
	default:
		cfg["url"] = c.URL
		cfg["rate_limit"], cfg["rate_limit_period"] = c.RateLimit, period
	}
	if c.DeliveryMode != "" {
		cfg["delivery_mode"] = c.DeliveryMode // Sluice's own, shown only when not the default
	}
	return typedDestination{
		ID: d.ID, Name: d.Name, Description: d.Description, TeamID: d.TeamID, Type: d.Type,
		Config: cfg, DisabledAt: tsp(d.DisabledAt), UpdatedAt: ts(d.UpdatedAt), CreatedAt: ts(d.CreatedAt),
	}
}
