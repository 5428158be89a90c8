package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules/filter"
	"github.com/sluice-gw/sluice/internal/store"
)

// The routes Hookdeck's CLI calls besides the resources: its login for CI
// (`hookdeck ci`), `whoami`, the project list and the listen sessions.
// Sluice has one team and one API key, so "logging in" with the key
// answers that team; the WebSocket side of sessions lives in package
// clisession at /ws.

// CLISessions creates listen sessions (clisession.Hub).
type CLISessions interface {
	// CreateSession creates a session for the team's connections and
	// returns its id; filters is the session filter object or empty.
	CreateSession(teamID string, connectionIDs []string, filters json.RawMessage) (string, error)
}

// What Sluice answers where Hookdeck names a user, an organization and a
// CLI client.
const (
	cliUserID  = "usr_sluice"
	cliUser    = "Sluice"
	cliOrgID   = "org_sluice"
	cliOrg     = "Sluice"
	cliClient  = "cl_sluice"
	cliMode    = "inbound"
	cliProduct = "EVENT_GATEWAY"
)

// cliRoutes registers the CLI's routes.
func (s *server) cliRoutes() {
	s.handle("POST /cli-auth/ci", s.cliAuthCI)
	s.handle("GET /cli-auth/validate", s.cliAuthValidate)
	s.handle("GET /teams", s.cliTeams)
	s.handle("GET /projects", s.cliTeams)
	s.handle("POST /cli-sessions", s.createCLISession)
}

// cliAuthCI answers `hookdeck ci --api-key KEY`: the key is valid (the
// request got past authentication), so the "client" is claimed at once.
func (s *server) cliAuthCI(r *http.Request) (any, error) {
	var in struct {
		DeviceName string `json:"device_name"`
	}
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	t := s.cfg.Team
	return map[string]any{
		"claimed": true, "key": s.cfg.APIKey,
		"team_id": t.ID, "team_name": teamName(t), "team_mode": cliMode, "team_product": cliProduct,
		"user_id": cliUserID, "user_name": cliUser,
		"organization_id": cliOrgID, "organization_name": cliOrg, "client_id": cliClient,
	}, nil
}

// cliAuthValidate answers `hookdeck whoami`.
func (s *server) cliAuthValidate(r *http.Request) (any, error) {
	t := s.cfg.Team
	return map[string]any{
		"user_id": cliUserID, "user_name": cliUser, "user_email": "", "user_is_guest": false,
		"organization_id": cliOrgID, "organization_name": cliOrg,
		"team_id": t.ID, "team_name": "[" + cliOrg + "] " + teamName(t), "team_name_no_org": teamName(t),
		"team_mode": cliMode, "team_product": cliProduct, "client_id": cliClient,
	}, nil
}

// cliTeams lists the one team (GET /teams for CLI 2.5, /projects for 2.6).
func (s *server) cliTeams(r *http.Request) (any, error) {
	t := s.cfg.Team
	return []map[string]any{{
		"id": t.ID, "name": "[" + cliOrg + "] " + teamName(t), "mode": cliMode,
		"type": cliMode, "product": cliProduct,
		"organization_id": cliOrgID, "organization_name": cliOrg,
	}}, nil
}

func teamName(t model.Team) string {
	if t.Name == "" {
		return "Default"
	}
	return t.Name
}

// cliSessionInput is the body of POST /cli-sessions. Older CLIs send a
// source_id with the connections; without webhook_ids, the source's CLI
// connections are used.
type cliSessionInput struct {
	WebhookIDs []string        `json:"webhook_ids"`
	SourceID   string          `json:"source_id"`
	Filters    json.RawMessage `json:"filters"`
}

// createCLISession opens a listen session: {"id": SESSION}.
func (s *server) createCLISession(r *http.Request) (any, error) {
	if s.cfg.CLISessions == nil {
		return nil, notImplemented("CLI sessions")
	}
	var in cliSessionInput
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	ids, err := s.sessionConnections(r, in)
	if err != nil {
		return nil, err
	}
	if err := checkSessionFilters(in.Filters); err != nil {
		return nil, err
	}
	id, err := s.cfg.CLISessions.CreateSession(s.cfg.Team.ID, ids, in.Filters)
	if err != nil {
		return nil, fmt.Errorf("create CLI session: %w", err)
	}
	return map[string]string{"id": id}, nil
}

// sessionConnections checks the session's connection ids, or finds the
// source's CLI connections when none are given.
func (s *server) sessionConnections(r *http.Request, in cliSessionInput) ([]string, error) {
	ctx := r.Context()
	var ids []string
	for _, id := range in.WebhookIDs {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 && in.SourceID != "" {
		conns, err := s.cfg.Store.ListConnections(ctx, store.ConnectionFilter{TeamID: s.cfg.Team.ID, SourceIDs: []string{in.SourceID}, Page: store.Page{Limit: 255}})
		if err != nil {
			return nil, fmt.Errorf("list connections of %s: %w", in.SourceID, err)
		}
		for _, c := range conns {
			d, err := s.cfg.Store.GetDestination(ctx, s.cfg.Team.ID, c.DestinationID)
			if err == nil && d.Type == model.DestinationCLI {
				ids = append(ids, c.ID)
			}
		}
	}
	if len(ids) == 0 {
		return nil, invalid("webhook_ids", "name at least one connection")
	}
	for _, id := range ids {
		if _, err := s.cfg.Store.GetConnection(ctx, s.cfg.Team.ID, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, invalid("webhook_ids", fmt.Sprintf("connection %q not found", id))
			}
			return nil, fmt.Errorf("connection %s: %w", id, err)
		}
	}
	return ids, nil
}

// checkSessionFilters validates a session filter object with the filter
// language: {"body","headers","query","path"}, each optional.
func checkSessionFilters(raw json.RawMessage) error {
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		return nil
	}
	var f struct {
		Body    json.RawMessage `json:"body"`
		Headers json.RawMessage `json:"headers"`
		Query   json.RawMessage `json:"query"`
		Path    json.RawMessage `json:"path"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return invalid("filters", "must be an object with body, headers, query and path filters")
	}
	if _, err := filter.CompileRule(f.Body, f.Headers, f.Query, f.Path); err != nil {
		var se *filter.SchemaError
		if errors.As(err, &se) {
			return invalid("filters."+se.Path, se.Message)
		}
		return invalid("filters", err.Error())
	}
	return nil
}
