package api

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules/transform"
)

// largePayload is the size above which a payload is flagged
// is_large_payload (Hookdeck's searchable limit, 2.5 MB).
const largePayload = 2_500_000

// requestJSON is a request (the same in both dialects).
type requestJSON struct {
	ID                  string     `json:"id"`
	TeamID              string     `json:"team_id"`
	Verified            *bool      `json:"verified"`
	OriginalEventDataID *string    `json:"original_event_data_id"`
	RejectionCause      *string    `json:"rejection_cause"`
	IngestedAt          *string    `json:"ingested_at"`
	SourceID            string     `json:"source_id"`
	EventsCount         int        `json:"events_count"`
	CLIEventsCount      int        `json:"cli_events_count"`
	IgnoredCount        int        `json:"ignored_count"`
	UpdatedAt           string     `json:"updated_at"`
	CreatedAt           string     `json:"created_at"`
	Data                *shortData `json:"data,omitempty"`
}

// shortData is a request's data.
type shortData struct {
	Path           string            `json:"path"`
	Query          string            `json:"query"`
	ParsedQuery    map[string]any    `json:"parsed_query"`
	Headers        map[string]string `json:"headers"`
	Body           any               `json:"body"`
	IsLargePayload bool              `json:"is_large_payload"`
}

// eventJSON is an event (the same in both dialects).
type eventJSON struct {
	ID             string     `json:"id"`
	TeamID         string     `json:"team_id"`
	WebhookID      string     `json:"webhook_id"`
	SourceID       string     `json:"source_id"`
	DestinationID  string     `json:"destination_id"`
	EventDataID    string     `json:"event_data_id"`
	RequestID      string     `json:"request_id"`
	Attempts       int        `json:"attempts"`
	LastAttemptAt  *string    `json:"last_attempt_at"`
	NextAttemptAt  *string    `json:"next_attempt_at"`
	ResponseStatus *int       `json:"response_status"`
	ErrorCode      *string    `json:"error_code,omitempty"` // optional, not nullable, in the document
	Status         string     `json:"status"`
	SuccessfulAt   *string    `json:"successful_at"`
	CLIID          *string    `json:"cli_id"`
	UpdatedAt      string     `json:"updated_at"`
	CreatedAt      string     `json:"created_at"`
	Data           *eventData `json:"data,omitempty"`
}

// eventData is an event's data: what is (or was) sent.
type eventData struct {
	URL             string            `json:"url"`
	Method          string            `json:"method"`
	Path            string            `json:"path"`
	Query           string            `json:"query"`
	ParsedQuery     map[string]any    `json:"parsed_query"`
	Headers         map[string]string `json:"headers"`
	AppendedHeaders []string          `json:"appended_headers"`
	Body            any               `json:"body"`
	IsLargePayload  bool              `json:"is_large_payload"`
}

// attemptJSON is a delivery attempt.
type attemptJSON struct {
	ID              string  `json:"id"`
	TeamID          string  `json:"team_id"`
	EventID         string  `json:"event_id"`
	DestinationID   string  `json:"destination_id"`
	ResponseStatus  *int    `json:"response_status"`
	AttemptNumber   int     `json:"attempt_number"`
	Trigger         string  `json:"trigger"`
	ErrorCode       *string `json:"error_code,omitempty"` // optional, not nullable, in the document
	Body            any     `json:"body"`
	RequestedURL    *string `json:"requested_url"`
	HTTPMethod      *string `json:"http_method"`
	BulkRetryID     *string `json:"bulk_retry_id"`
	Status          string  `json:"status"`
	SuccessfulAt    *string `json:"successful_at"`
	DeliveredAt     *string `json:"delivered_at"`
	RespondedAt     *string `json:"responded_at"`
	DeliveryLatency *int    `json:"delivery_latency"`
	ResponseLatency *int    `json:"response_latency"`
	UpdatedAt       string  `json:"updated_at"`
	CreatedAt       string  `json:"created_at"`
}

// ignoredEventJSON is an ignored event.
type ignoredEventJSON struct {
	ID        string          `json:"id"`
	TeamID    string          `json:"team_id"`
	WebhookID string          `json:"webhook_id"`
	Cause     string          `json:"cause"`
	RequestID string          `json:"request_id"`
	Meta      json.RawMessage `json:"meta"`
	CreatedAt string          `json:"created_at"`
}

// rawBody is the answer of /raw_body routes.
type rawBody struct {
	Body string `json:"body"`
}

// renderRequest renders a request; withData adds its data.
func renderRequest(r model.Request, withData bool) requestJSON {
	out := requestJSON{
		ID: r.ID, TeamID: r.TeamID, Verified: r.Verified, OriginalEventDataID: nullable(r.Data.ID),
		RejectionCause: nullable(r.RejectionCause), IngestedAt: tsp(&r.IngestedAt), SourceID: r.SourceID,
		EventsCount: r.EventsCount, CLIEventsCount: r.CLIEventsCount, IgnoredCount: r.IgnoredCount,
		UpdatedAt: ts(r.UpdatedAt), CreatedAt: ts(r.CreatedAt),
	}
	if r.IngestedAt.IsZero() {
		out.IngestedAt = tsp(&r.CreatedAt)
	}
	if withData {
		p := r.Data
		out.Data = &shortData{
			Path: p.Path, Query: p.Query, ParsedQuery: transform.ParseQuery(p.Query), Headers: headersOf(p),
			Body: renderBody(p.Body, true), IsLargePayload: len(p.Body) > largePayload,
		}
	}
	return out
}

// renderEvent renders an event; dst, when known and e.Data is set, gives
// the data's URL and method.
func renderEvent(e model.Event, dst *model.Destination) eventJSON {
	out := eventJSON{
		ID: e.ID, TeamID: e.TeamID, WebhookID: e.ConnectionID, SourceID: e.SourceID,
		DestinationID: e.DestinationID, EventDataID: e.DataID, RequestID: e.RequestID,
		Attempts: e.Attempts, LastAttemptAt: tsp(e.LastAttemptAt), NextAttemptAt: tsp(e.NextAttemptAt),
		ResponseStatus: e.ResponseStatus, ErrorCode: nullable(e.ErrorCode), Status: e.Status,
		SuccessfulAt: tsp(e.SuccessfulAt), CLIID: nullable(e.CLIID), UpdatedAt: ts(e.UpdatedAt),
		CreatedAt: ts(e.CreatedAt),
	}
	if e.Data != nil {
		p := *e.Data
		d := &eventData{
			Method: p.Method, Path: p.Path, Query: p.Query, ParsedQuery: transform.ParseQuery(p.Query),
			Headers: headersOf(p), AppendedHeaders: []string{}, Body: renderBody(p.Body, true),
			IsLargePayload: len(p.Body) > largePayload,
		}
		if dst != nil {
			d.URL = deliveryURL(*dst, p)
			if dst.Config.HTTPMethod != "" {
				d.Method = dst.Config.HTTPMethod
			}
		}
		out.Data = d
	}
	return out
}

// renderAttempt renders an attempt. The response body is an object when
// it is a JSON object, else a string.
func renderAttempt(a model.Attempt) attemptJSON {
	return attemptJSON{
		ID: a.ID, TeamID: a.TeamID, EventID: a.EventID, DestinationID: a.DestinationID,
		ResponseStatus: a.ResponseStatus, AttemptNumber: a.AttemptNumber, Trigger: a.Trigger,
		ErrorCode: nullable(a.ErrorCode), Body: renderBody([]byte(a.Body), false),
		RequestedURL: nullable(a.RequestedURL), HTTPMethod: nullable(a.HTTPMethod), Status: a.Status,
		SuccessfulAt: tsp(a.SuccessfulAt), DeliveredAt: tsp(a.DeliveredAt), RespondedAt: tsp(a.RespondedAt),
		DeliveryLatency: a.DeliveryLatency, ResponseLatency: a.ResponseLatency,
		UpdatedAt: ts(a.UpdatedAt), CreatedAt: ts(a.CreatedAt),
	}
}

// renderIgnored renders an ignored event.
func renderIgnored(ie model.IgnoredEvent) ignoredEventJSON {
	return ignoredEventJSON{ID: ie.ID, TeamID: ie.TeamID, WebhookID: ie.ConnectionID, Cause: ie.Cause,
		RequestID: ie.RequestID, Meta: ignoredMeta(ie.Cause, ie.Meta), CreatedAt: ts(ie.CreatedAt)}
}

// renderBody renders a body as JSON when it parses as a JSON object (or
// an array, when allowed), else as a string; an empty body is null.
func renderBody(b []byte, allowArray bool) any {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return nil
	}
	if (t[0] == '{' || (allowArray && t[0] == '[')) && json.Valid(t) {
		return json.RawMessage(t)
	}
	return string(b)
}

// headersOf returns the payload's headers, never nil.
func headersOf(p model.Payload) map[string]string {
	if p.Headers == nil {
		return map[string]string{}
	}
	return p.Headers
}

// deliveryURL is where an event's payload goes: the destination URL (or
// CLI path) with the request path appended unless path forwarding is
// disabled, and the query.
func deliveryURL(d model.Destination, p model.Payload) string {
	base := d.Config.URL
	switch d.Type {
	case model.DestinationCLI:
		base = d.Config.Path
	case model.DestinationMockAPI:
		if base == "" {
			base = mockURL
		}
	}
	u := base
	if !d.Config.PathForwardingDisabled && p.Path != "" && p.Path != "/" {
		u = strings.TrimRight(base, "/") + p.Path
	}
	if p.Query != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + p.Query
	}
	return u
}
