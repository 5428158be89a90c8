package api

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules"
)

// connectionInput is a connection in a request body (both dialects share
// it; the inline source and destination take either form).
type connectionInput struct {
	Name          opt[string]           `json:"name"`
	Description   opt[string]           `json:"description"`
	SourceID      opt[string]           `json:"source_id"`
	DestinationID opt[string]           `json:"destination_id"`
	Source        opt[sourceInput]      `json:"source"`
	Destination   opt[destinationInput] `json:"destination"`
	Rules         opt[json.RawMessage]  `json:"rules"`
}

// connectionJSON is a connection in either dialect; the source and
// destination inside follow the dialect.
type connectionJSON struct {
	ID          string          `json:"id"`
	TeamID      string          `json:"team_id"`
	DisabledAt  *string         `json:"disabled_at"`
	UpdatedAt   string          `json:"updated_at"`
	CreatedAt   string          `json:"created_at"`
	PausedAt    *string         `json:"paused_at"`
	Name        string          `json:"name"`
	Rules       json.RawMessage `json:"rules"`
	Description *string         `json:"description"`
	Destination any             `json:"destination"`
	Source      any             `json:"source"`
	FullName    string          `json:"full_name"`
}

// emptyRules is the stored and rendered form of "no rules".
var emptyRules = json.RawMessage("[]")

// normalizeRules validates a rules array with package rules and returns
// it compacted, each rule as given (with its "type"); null or absent is [].
func normalizeRules(raw json.RawMessage) (json.RawMessage, error) {
	if _, err := rules.Parse(raw); err != nil {
		return nil, rulesError(err)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return emptyRules, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, invalid("rules", "must be an array of rule objects")
	}
	if len(items) == 0 {
		return emptyRules, nil
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := json.Compact(&buf, it); err != nil {
			return nil, invalid("rules", err.Error())
		}
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// fullName is Hookdeck's "<source name> -> <connection name>".
func fullName(sourceName, connName string) string {
	return sourceName + " -> " + connName
}

// connRenderer renders connections with their source and destination,
// fetching each of those once per request.
type connRenderer struct {
	s      *server
	r      *http.Request
	v      version
	reveal bool
	srcs   map[string]*model.Source
	dsts   map[string]*model.Destination
}

// newConnRenderer prepares rendering for the request.
func (s *server) newConnRenderer(r *http.Request) (*connRenderer, error) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	return &connRenderer{s: s, r: r, v: versionOf(r.Context()), reveal: revealAuth(q),
		srcs: map[string]*model.Source{}, dsts: map[string]*model.Destination{}}, nil
}

// seed hands the renderer a source and destination already at hand.
func (cr *connRenderer) seed(src model.Source, dst model.Destination) *connRenderer {
	cr.srcs[src.ID], cr.dsts[dst.ID] = &src, &dst
	return cr
}

// render renders one connection. A source or destination that vanished
// meanwhile renders as null.
func (cr *connRenderer) render(c model.Connection) connectionJSON {
	out := connectionJSON{
		ID: c.ID, TeamID: c.TeamID, DisabledAt: tsp(c.DisabledAt), UpdatedAt: ts(c.UpdatedAt),
		CreatedAt: ts(c.CreatedAt), PausedAt: tsp(c.PausedAt), Name: c.Name, Rules: c.Rules,
		Description: c.Description,
	}
	if len(bytes.TrimSpace(out.Rules)) == 0 || bytes.Equal(bytes.TrimSpace(out.Rules), []byte("null")) {
		out.Rules = emptyRules
	}
	ctx, team := cr.r.Context(), cr.s.cfg.Team.ID
	src, ok := cr.srcs[c.SourceID]
	if !ok {
		if x, err := cr.s.cfg.Store.GetSource(ctx, team, c.SourceID); err == nil {
			src = &x
		}
		cr.srcs[c.SourceID] = src
	}
	dst, ok := cr.dsts[c.DestinationID]
	if !ok {
		if x, err := cr.s.cfg.Store.GetDestination(ctx, team, c.DestinationID); err == nil {
			dst = &x
		}
		cr.dsts[c.DestinationID] = dst
	}
	if src != nil {
		out.Source = cr.s.renderSource(cr.v, *src, cr.reveal)
		out.FullName = fullName(src.Name, c.Name)
	}
	if dst != nil {
		out.Destination = renderDestination(cr.v, *dst, cr.reveal)
	}
	return out
}
