// Package model holds Sluice's domain types: the resources a user configures
// (sources, destinations, connections) and the log they produce (requests,
// events, attempts). The types carry no storage or wire concerns; the store
// persists them and the API renders them in each Hookdeck dialect.
package model

import (
	"encoding/json"
	"time"
)

// Source is an inbound endpoint that receives webhooks at its URL.
type Source struct {
	ID          string
	TeamID      string
	Name        string
	Description *string
	// Type is "WEBHOOK" (generic) or a provider preset such as "STRIPE".
	Type       string
	Config     SourceConfig
	DisabledAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// SourceConfig is the behaviour of a source at ingest time.
type SourceConfig struct {
	// AllowedHTTPMethods lists the methods the source accepts; empty means
	// the default (POST, PUT, PATCH, DELETE).
	AllowedHTTPMethods []string        `json:"allowed_http_methods,omitempty"`
	CustomResponse     *CustomResponse `json:"custom_response,omitempty"`
	// AuthType is the verification scheme: "" (none), "API_KEY",
	// "BASIC_AUTH", "HMAC" or a provider preset name.
	AuthType string `json:"auth_type,omitempty"`
	// Auth holds the scheme's fields (header_key, api_key, username,
	// password, algorithm, encoding, webhook_secret_key …). Secrets live
	// here; the API masks them.
	Auth map[string]string `json:"auth,omitempty"`
}

// DefaultAllowedHTTPMethods are the methods a source accepts when its
// configuration names none, as in Hookdeck.
var DefaultAllowedHTTPMethods = []string{"POST", "PUT", "PATCH", "DELETE"}

// Methods returns the methods the source accepts.
func (c SourceConfig) Methods() []string {
	if len(c.AllowedHTTPMethods) == 0 {
		return DefaultAllowedHTTPMethods
	}
	return c.AllowedHTTPMethods
}

// CustomResponse is the fixed answer a source gives instead of Hookdeck's
// default JSON acknowledgement.
type CustomResponse struct {
	// ContentType is "json", "text" or "xml".
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
}

// Destination types.
const (
	DestinationHTTP    = "HTTP"
	DestinationCLI     = "CLI"
	DestinationMockAPI = "MOCK_API"
)

// Destination is where events are delivered.
type Destination struct {
	ID          string
	TeamID      string
	Name        string
	Description *string
	Type        string // DestinationHTTP, DestinationCLI or DestinationMockAPI
	Config      DestinationConfig
	DisabledAt  *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// DestinationConfig is how events are delivered to a destination.
type DestinationConfig struct {
	URL                    string   `json:"url,omitempty"`
	Path                   string   `json:"path,omitempty"` // CLI destinations
	RateLimit              *float64 `json:"rate_limit,omitempty"`
	RateLimitPeriod        string   `json:"rate_limit_period,omitempty"` // second|minute|hour|concurrent
	PathForwardingDisabled bool     `json:"path_forwarding_disabled,omitempty"`
	HTTPMethod             string   `json:"http_method,omitempty"` // "" = the request's method
	// AuthType is "" or "HOOKDECK_SIGNATURE" (default), "CUSTOM_SIGNATURE",
	// "BASIC_AUTH", "API_KEY", "BEARER_TOKEN", "OAUTH2_CLIENT_CREDENTIALS" ….
	AuthType string            `json:"auth_type,omitempty"`
	Auth     map[string]string `json:"auth,omitempty"`
	// DeliveryMode is "" (parallel: events go out as workers take them)
	// or DeliveryOrdered.
	DeliveryMode string `json:"delivery_mode,omitempty"`
}

// DeliveryOrdered is the delivery mode in which a destination's events go
// out one at a time, in the order their requests were ingested, across
// every process: a failing event holds back the ones behind it until it
// succeeds, fails finally or is cancelled.
const DeliveryOrdered = "ordered"

// Connection routes a source's requests to a destination through rules.
type Connection struct {
	ID            string
	TeamID        string
	Name          string
	Description   *string
	SourceID      string
	DestinationID string
	// Rules is the connection's rules array as given by the user (JSON),
	// validated by package rules before it is stored.
	Rules      json.RawMessage
	DisabledAt *time.Time
	PausedAt   *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Payload is the HTTP data of a request or event: what was received, or
// what will be sent after transformation. Payloads are stored apart from the
// rows that index them (Hookdeck's "event data").
type Payload struct {
	ID      string
	Method  string
	Path    string // path after the source id, "" or "/…"
	Query   string // raw query string without '?'
	Headers map[string]string
	Body    []byte
}

// Request rejection causes (OpenAPI RequestRejectionCause).
const (
	RejectSourceDisabled      = "SOURCE_DISABLED"
	RejectNoConnection        = "NO_CONNECTION"
	RejectVerificationFailed  = "VERIFICATION_FAILED"
	RejectUnsupportedMethod   = "UNSUPPORTED_HTTP_METHOD"
	RejectUnparsableJSON      = "UNPARSABLE_JSON"
	RejectPayloadTooLarge     = "PAYLOAD_TOO_LARGE"
	RejectUnsupportedContent  = "UNSUPPORTED_CONTENT_TYPE"
	RejectIngestionFatalError = "INGESTION_FATAL"
)

// Request is one HTTP request received by a source, accepted or rejected.
type Request struct {
	ID       string
	TeamID   string
	SourceID string
	// Verified is nil when the source has no verification.
	Verified       *bool
	RejectionCause string // "" when accepted
	Data           Payload
	OriginalIP     string
	EventsCount    int
	CLIEventsCount int
	IgnoredCount   int
	// RoutedAt is set once the router has created the request's events.
	// Rejected requests are never routed.
	RoutedAt   *time.Time
	IngestedAt time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Event statuses (OpenAPI EventStatus).
const (
	EventScheduled  = "SCHEDULED"
	EventQueued     = "QUEUED"
	EventHold       = "HOLD"
	EventSuccessful = "SUCCESSFUL"
	EventFailed     = "FAILED"
	EventCancelled  = "CANCELLED"
)

// Attempt triggers (OpenAPI AttemptTrigger).
const (
	TriggerInitial   = "INITIAL"
	TriggerAutomatic = "AUTOMATIC"
	TriggerManual    = "MANUAL"
	TriggerBulkRetry = "BULK_RETRY"
	TriggerUnpause   = "UNPAUSE"
)

// Event is one request routed through one connection: the unit of delivery.
type Event struct {
	ID            string
	TeamID        string
	ConnectionID  string // "webhook_id" in the API
	SourceID      string
	DestinationID string
	RequestID     string
	// DataID is the payload delivered; it equals the request's payload id
	// unless a transformation produced a new one.
	DataID         string
	Status         string
	Attempts       int
	LastAttemptAt  *time.Time
	NextAttemptAt  *time.Time
	ResponseStatus *int
	ErrorCode      string
	SuccessfulAt   *time.Time
	CLIID          string
	// NextTrigger is the trigger recorded on the next attempt.
	NextTrigger string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Data is filled only where a caller asked for the payload.
	Data *Payload
}

// Attempt statuses.
const (
	AttemptSuccessful = "SUCCESSFUL"
	AttemptFailed     = "FAILED"
)

// Attempt is one delivery try of an event.
type Attempt struct {
	ID             string
	TeamID         string
	EventID        string
	DestinationID  string
	AttemptNumber  int
	Trigger        string
	Status         string
	ResponseStatus *int
	ErrorCode      string
	// Body is the destination's response body, truncated.
	Body            string
	RequestedURL    string
	HTTPMethod      string
	SuccessfulAt    *time.Time
	DeliveredAt     *time.Time
	RespondedAt     *time.Time
	DeliveryLatency *int // ms from send to response headers
	ResponseLatency *int // ms from send to full response
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Team is a project; every resource belongs to one.
type Team struct {
	ID   string
	Name string
	// SigningSecret signs outgoing deliveries (x-hookdeck-signature).
	SigningSecret string
	CreatedAt     time.Time
}

// Ignored-event causes (OpenAPI IgnoredEventCause, plus Sluice's DEDUPLICATED).
const (
	IgnoredDisabled             = "DISABLED"
	IgnoredFiltered             = "FILTERED"
	IgnoredTransformationFailed = "TRANSFORMATION_FAILED"
	IgnoredCLIDisconnected      = "CLI_DISCONNECTED"
	IgnoredDeduplicated         = "DEDUPLICATED"
)

// IgnoredEvent records that a request produced no event for a connection,
// and why.
type IgnoredEvent struct {
	ID           string
	TeamID       string
	ConnectionID string // "webhook_id" in the API
	RequestID    string
	Cause        string
	Meta         json.RawMessage // cause-specific details, or nil
	CreatedAt    time.Time
}

// Transformation is JavaScript code that rewrites a request before it is
// filtered and delivered.
type Transformation struct {
	ID        string
	TeamID    string
	Name      string
	Code      string
	Env       map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ConsoleLine is one console.* call of a transformation run.
type ConsoleLine struct {
	Type    string `json:"type"` // log|info|warn|error|debug
	Message string `json:"message"`
}

// TransformationExecution records one run of a transformation on a
// request for a connection.
type TransformationExecution struct {
	ID               string
	TeamID           string
	TransformationID string
	ConnectionID     string // "webhook_id"
	RequestID        string
	// LogLevel is the highest level logged: debug, info, warn, error, or
	// fatal when the run failed.
	LogLevel string
	Logs     []ConsoleLine
	// OriginalDataID is the payload the run received; TransformedDataID the
	// one it produced ("" when it failed).
	OriginalDataID    string
	TransformedDataID string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}
