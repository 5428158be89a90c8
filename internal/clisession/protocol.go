package clisession

import (
	"encoding/json"
	"strings"
)

// The wire protocol of Hookdeck's CLI dev proxy, as `hookdeck listen`
// speaks it (see shared/design/COMPAT.md, "`hookdeck listen` against
// sluice").
const (
	// Subprotocol is the WebSocket subprotocol the CLI asks for.
	Subprotocol = "hookdeckcli-devproxy-v1"
	// HeaderSessionID names the session the connection joins.
	HeaderSessionID = "Websocket-Id"
	// HeaderWebhookIDs lists the session's connections (comma separated),
	// so that a server that lost the session can recreate it.
	HeaderWebhookIDs = "X-Webhook-Ids"
	// HeaderSessionFilters carries the session filters, base64(JSON).
	HeaderSessionFilters = "X-Session-Filters"
	// HeaderCapabilities lists optional features the client understands,
	// comma separated; "binary" means it forwards request.data_base64.
	HeaderCapabilities = "X-Hookdeck-CLI-Capabilities"
	// CapabilityBinary is the capability of binary bodies.
	CapabilityBinary = "binary"
	// UnknownSessionMessage is the refusal the CLI recognises for a
	// session id the server does not know.
	UnknownSessionMessage = "Unknown WebSocket ID."
)

// Frame event names.
const (
	EventAttempt         = "attempt"
	EventAttemptResponse = "attempt_response"
)

// Frame is one WebSocket text message: {"event": …, "body": …}.
type Frame struct {
	Event string          `json:"event"`
	Body  json.RawMessage `json:"body"`
}

// AttemptBody is the body of an attempt frame (server → CLI).
type AttemptBody struct {
	AttemptID string         `json:"attempt_id"`
	EventID   string         `json:"event_id"`
	WebhookID string         `json:"webhook_id"`
	CLIPath   string         `json:"cli_path"`
	Request   AttemptRequest `json:"request"`
}

// AttemptRequest is the request the CLI makes to the local app.
type AttemptRequest struct {
	Method string `json:"method"`
	// Timeout is in milliseconds.
	Timeout    int64             `json:"timeout"`
	DataString string            `json:"data_string"`
	Headers    map[string]string `json:"headers"`
	// BodyFormat is "binary" when the body travels in DataBase64 (sent
	// only to clients that announced CapabilityBinary).
	BodyFormat string `json:"body_format,omitempty"`
	DataBase64 string `json:"data_base64,omitempty"`
}

// AttemptResponseBody is the body of an attempt_response frame (CLI →
// server). Error is true when the local app could not be reached.
type AttemptResponseBody struct {
	AttemptID string `json:"attempt_id"`
	CLIPath   string `json:"cli_path,omitempty"`
	Status    int    `json:"status,omitempty"`
	Data      string `json:"data,omitempty"`
	Error     bool   `json:"error,omitempty"`
}

// Filters are a session's filters, in the connection filter language; an
// absent part matches everything.
type Filters struct {
	Body    json.RawMessage `json:"body,omitempty"`
	Headers json.RawMessage `json:"headers,omitempty"`
	Query   json.RawMessage `json:"query,omitempty"`
	Path    json.RawMessage `json:"path,omitempty"`
}

// empty reports whether no part is set (null counts as unset).
func (f Filters) empty() bool {
	for _, p := range []json.RawMessage{f.Body, f.Headers, f.Query, f.Path} {
		if s := strings.TrimSpace(string(p)); s != "" && s != "null" {
			return false
		}
	}
	return true
}

// errorBody is the JSON body of a refused WebSocket handshake, which the
// CLI reads as {"error":{"message":…}}.
type errorBody struct {
	Error struct {
		Message string `json:"message"`
	} `json:"error"`
}

func refusal(msg string) []byte {
	var e errorBody
	e.Error.Message = msg
	b, _ := json.Marshal(e)
	return b
}
