package clisession

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// APIVersion is the API version `sluice listen` speaks (the typed dialect).
const APIVersion = "2025-07-01"

// apiClient calls a Sluice (or Hookdeck) REST API with an API key.
type apiClient struct {
	base string // http://host:port/2025-07-01
	key  string
	http *http.Client
}

// APIError is an error answer of the REST API.
type APIError struct {
	Status  int
	Code    string
	Message string
}

// Error implements error.
func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.key+":")))
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &APIError{Status: resp.StatusCode}
		var eb struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &eb) == nil {
			e.Code, e.Message = eb.Code, eb.Message
		}
		return fmt.Errorf("%s %s: %w", method, path, e)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// isStatus reports whether err is an API error with that status.
func isStatus(err error, status int) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == status
}

// apiSource, apiDestination and apiConnection are the fields listen reads.
type apiSource struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

type apiDestination struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Config struct {
		Path string `json:"path"`
	} `json:"config"`
}

type apiConnection struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	PausedAt    *string         `json:"paused_at"`
	DisabledAt  *string         `json:"disabled_at"`
	Source      apiSource       `json:"source"`
	Destination *apiDestination `json:"destination"`
}

type listPage[T any] struct {
	Pagination struct {
		Next string `json:"next"`
	} `json:"pagination"`
	Models []T `json:"models"`
}

// listAll pages through a list route.
func listAll[T any](ctx context.Context, c *apiClient, path string, q url.Values) ([]T, error) {
	var all []T
	q.Set("limit", "255")
	for {
		var page listPage[T]
		if err := c.do(ctx, http.MethodGet, path+"?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Models...)
		if page.Pagination.Next == "" || len(page.Models) == 0 {
			return all, nil
		}
		q.Set("next", page.Pagination.Next)
	}
}

// findOrCreateSource returns the source named name, creating it if needed.
func (c *apiClient) findOrCreateSource(ctx context.Context, name string) (apiSource, bool, error) {
	found, err := listAll[apiSource](ctx, c, "/sources", url.Values{"name": {name}})
	if err != nil {
		return apiSource{}, false, err
	}
	for _, s := range found {
		if s.Name == name {
			return s, false, nil
		}
	}
	var s apiSource
	err = c.do(ctx, http.MethodPost, "/sources", map[string]any{"name": name, "type": "WEBHOOK"}, &s)
	if isStatus(err, http.StatusConflict) { // created meanwhile
		return c.findOrCreateSource(ctx, name)
	}
	return s, err == nil, err
}

// cliConnections returns the source's connections to CLI destinations.
func (c *apiClient) cliConnections(ctx context.Context, sourceID string) ([]apiConnection, error) {
	all, err := listAll[apiConnection](ctx, c, "/connections", url.Values{"source_id": {sourceID}})
	if err != nil {
		return nil, err
	}
	var out []apiConnection
	for _, conn := range all {
		if conn.Destination != nil && strings.EqualFold(conn.Destination.Type, "CLI") {
			out = append(out, conn)
		}
	}
	return out, nil
}

// createCLIConnection connects the source to a CLI destination named
// cli-<source> with the path, reusing such a destination if it exists.
func (c *apiClient) createCLIConnection(ctx context.Context, src apiSource, path string) (apiConnection, error) {
	name := "cli-" + src.Name
	dest := map[string]any{"name": name, "type": "CLI", "config": map[string]any{"path": path}}
	var conn apiConnection
	err := c.do(ctx, http.MethodPost, "/connections", map[string]any{"name": name, "source_id": src.ID, "destination": dest}, &conn)
	if !isStatus(err, http.StatusConflict) {
		return conn, err
	}
	// The destination (or a connection of that name) exists: reuse the
	// destination if it is a CLI one.
	dests, lerr := listAll[apiDestination](ctx, c, "/destinations", url.Values{"name": {name}})
	if lerr != nil {
		return conn, lerr
	}
	for _, d := range dests {
		if d.Name == name && strings.EqualFold(d.Type, "CLI") {
			cerr := c.do(ctx, http.MethodPost, "/connections", map[string]any{"name": name, "source_id": src.ID, "destination_id": d.ID}, &conn)
			if isStatus(cerr, http.StatusConflict) {
				return conn, fmt.Errorf("a connection named %q already exists on source %s and does not lead to a CLI destination: rename it or pass another source", name, src.Name)
			}
			return conn, cerr
		}
	}
	return conn, fmt.Errorf("a destination named %q exists and is not a CLI destination: %w", name, err)
}

// setDestinationPath changes a CLI destination's path.
func (c *apiClient) setDestinationPath(ctx context.Context, d *apiDestination, path string) error {
	var out apiDestination
	if err := c.do(ctx, http.MethodPut, "/destinations/"+url.PathEscape(d.ID), map[string]any{"type": "CLI", "config": map[string]any{"path": path}}, &out); err != nil {
		return err
	}
	*d = out
	return nil
}

// createSession opens a listen session for the connections.
func (c *apiClient) createSession(ctx context.Context, connIDs []string, filters *Filters) (string, error) {
	in := map[string]any{"webhook_ids": connIDs}
	if filters != nil && !filters.empty() {
		in["filters"] = filters
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, "/cli-sessions", in, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", errors.New("POST /cli-sessions: the answer has no session id")
	}
	return out.ID, nil
}

// Whoami checks an API URL and key with GET /cli-auth/validate and returns
// the team's name.
func Whoami(ctx context.Context, apiURL, key string, client *http.Client) (string, error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	c := &apiClient{base: strings.TrimRight(apiURL, "/") + "/" + APIVersion, key: key, http: client}
	var out struct {
		TeamID   string `json:"team_id"`
		TeamName string `json:"team_name"`
		NoOrg    string `json:"team_name_no_org"`
	}
	if err := c.do(ctx, http.MethodGet, "/cli-auth/validate", nil, &out); err != nil {
		return "", err
	}
	switch {
	case out.NoOrg != "":
		return out.NoOrg, nil
	case out.TeamName != "":
		return out.TeamName, nil
	}
	return out.TeamID, nil
}
