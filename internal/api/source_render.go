package api

import (
	"strings"

	"github.com/sluice-gw/sluice/internal/model"
)

// legacySource is a source in the legacy dialect (API versions before
// 2025-01-01), as in the quickstart seed.
type legacySource struct {
	ID                 string                `json:"id"`
	TeamID             string                `json:"team_id"`
	DisabledAt         *string               `json:"disabled_at"`
	UpdatedAt          string                `json:"updated_at"`
	CreatedAt          string                `json:"created_at"`
	Name               string                `json:"name"`
	AllowedHTTPMethods []string              `json:"allowed_http_methods"`
	CustomResponse     *model.CustomResponse `json:"custom_response"`
	Description        *string               `json:"description"`
	URL                string                `json:"url"`
	Verification       *legacyVerification   `json:"verification"`
}

// legacyVerification is the legacy verification union: type is the
// lowercase scheme; configs appear only when secrets are asked for.
type legacyVerification struct {
	Type    string            `json:"type"`
	Configs map[string]string `json:"configs,omitempty"`
}

// typedSource is a source in the typed dialect (2025-01-01 and later).
type typedSource struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Description   *string           `json:"description"`
	TeamID        string            `json:"team_id"`
	URL           string            `json:"url"`
	Type          string            `json:"type"`
	Authenticated bool              `json:"authenticated"`
	Config        typedSourceConfig `json:"config"`
	DisabledAt    *string           `json:"disabled_at"`
	UpdatedAt     string            `json:"updated_at"`
	CreatedAt     string            `json:"created_at"`
}

// typedSourceConfig is the typed source's config.
type typedSourceConfig struct {
	AllowedHTTPMethods []string              `json:"allowed_http_methods"`
	CustomResponse     *model.CustomResponse `json:"custom_response"`
	AuthType           *string               `json:"auth_type,omitempty"`
	Auth               map[string]string     `json:"auth,omitempty"`
}

// sourceURL is the ingest URL of a source.
func (s *server) sourceURL(id string) string {
	return s.cfg.PublicURL + "/" + strings.TrimPrefix(id, model.PrefixSource)
}

// renderSource renders a source in the dialect; reveal shows secrets.
func (s *server) renderSource(v version, src model.Source, reveal bool) any {
	methods := append([]string(nil), src.Config.Methods()...)
	if v.legacy() {
		out := legacySource{
			ID: src.ID, TeamID: src.TeamID, DisabledAt: tsp(src.DisabledAt),
			UpdatedAt: ts(src.UpdatedAt), CreatedAt: ts(src.CreatedAt), Name: src.Name,
			AllowedHTTPMethods: methods, CustomResponse: src.Config.CustomResponse,
			Description: src.Description, URL: s.sourceURL(src.ID),
		}
		if src.Config.AuthType != "" {
			out.Verification = &legacyVerification{Type: strings.ToLower(src.Config.AuthType)}
			if reveal {
				out.Verification.Configs = legacyConfigs(src.Config)
			}
		}
		return out
	}
	typ := src.Type
	if typ == "" {
		typ = sourceWebhook
	}
	out := typedSource{
		ID: src.ID, Name: src.Name, Description: src.Description, TeamID: src.TeamID,
		URL: s.sourceURL(src.ID), Type: typ, Authenticated: src.Config.AuthType != "",
		Config: typedSourceConfig{
			AllowedHTTPMethods: methods, CustomResponse: src.Config.CustomResponse,
			AuthType: typedAuthType(src), Auth: renderAuth(src.Config.Auth, reveal),
		},
		DisabledAt: tsp(src.DisabledAt), UpdatedAt: ts(src.UpdatedAt), CreatedAt: ts(src.CreatedAt),
	}
	return out
}

// legacyConfigs renders the auth fields in the legacy verification form
// (basic auth's username is "name" there).
func legacyConfigs(cfg model.SourceConfig) map[string]string {
	out := renderAuth(cfg.Auth, true)
	if out == nil {
		return map[string]string{}
	}
	if cfg.AuthType == sourceAuthBasic {
		if u, ok := out["username"]; ok {
			out["name"] = u
			delete(out, "username")
		}
	}
	return out
}
