// Package store is the contract between Sluice's pipeline stages and its
// databases. Every stage reads its work from the store and writes its results
// back, so a crash loses nothing that was committed, and a restart resumes.
//
// Two implementations satisfy it: sqlitestore (embedded default) and pgstore
// (PostgreSQL, for several processes). Both pass the conformance suite in
// package storetest.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
)

// Sentinel errors; implementations translate driver errors into these at
// the boundary and wrap them with context.
var (
	// ErrNotFound means the addressed row does not exist (in that team).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a uniqueness rule or a state precondition failed:
	// a duplicate name, an event already leased by another worker, an
	// event that is no longer cancellable.
	ErrConflict = errors.New("conflict")
	// ErrLeaseLost means the caller's lease on a row expired and another
	// owner took it; the caller's state change was not applied.
	ErrLeaseLost = errors.New("lease lost")
	// ErrAtCapacity means a claim with Claim.MaxLeased found the
	// destination's cap taken by leases already held.
	ErrAtCapacity = errors.New("at capacity")
)

// Store is everything Sluice persists. It is split by use so that each
// stage can depend on the small part it needs.
type Store interface {
	Teams
	Resources
	Ingest
	Routing
	Dispatch
	Log
	Transformations
	Stats
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close flushes pending group commits and releases the database.
	Close() error
}

// Teams manages projects. Sluice starts with one default team.
type Teams interface {
	// EnsureDefaultTeam returns the default team, creating it (with a
	// fresh signing secret) on first use. It is idempotent and safe to
	// call from several processes at once.
	EnsureDefaultTeam(ctx context.Context) (model.Team, error)
}

// Resources is the configuration: sources, destinations, connections.
// Names are unique per team (per team and source for connections):
// creating or renaming onto a taken name returns ErrConflict. Get, Update
// and Delete of a missing id return ErrNotFound.
type Resources interface {
	CreateSource(ctx context.Context, s *model.Source) error
	// UpdateSource overwrites every field but ID, TeamID and CreatedAt.
	UpdateSource(ctx context.Context, s *model.Source) error
	GetSource(ctx context.Context, teamID, id string) (model.Source, error)
	GetSourceByName(ctx context.Context, teamID, name string) (model.Source, error)
	ListSources(ctx context.Context, f SourceFilter) ([]model.Source, error)
	CountSources(ctx context.Context, f SourceFilter) (int, error)
	// DeleteSource deletes the source and its connections.
	DeleteSource(ctx context.Context, teamID, id string) error

	CreateDestination(ctx context.Context, d *model.Destination) error
	UpdateDestination(ctx context.Context, d *model.Destination) error
	GetDestination(ctx context.Context, teamID, id string) (model.Destination, error)
	GetDestinationByName(ctx context.Context, teamID, name string) (model.Destination, error)
	ListDestinations(ctx context.Context, f DestinationFilter) ([]model.Destination, error)
	CountDestinations(ctx context.Context, f DestinationFilter) (int, error)
	// DeleteDestination deletes the destination and its connections.
	DeleteDestination(ctx context.Context, teamID, id string) error

	CreateConnection(ctx context.Context, c *model.Connection) error
	// UpdateConnection overwrites Name, Description, Rules, SourceID,
	// DestinationID, DisabledAt and UpdatedAt. PausedAt is changed only by
	// PauseConnection and UnpauseConnection.
	UpdateConnection(ctx context.Context, c *model.Connection) error
	GetConnection(ctx context.Context, teamID, id string) (model.Connection, error)
	// GetConnectionByName finds a connection by name within a source.
	GetConnectionByName(ctx context.Context, teamID, sourceID, name string) (model.Connection, error)
	ListConnections(ctx context.Context, f ConnectionFilter) ([]model.Connection, error)
	CountConnections(ctx context.Context, f ConnectionFilter) (int, error)
	DeleteConnection(ctx context.Context, teamID, id string) error

	// PauseConnection sets paused_at (keeping an earlier value) and, in the
	// same transaction, moves the connection's QUEUED and SCHEDULED events
	// that no worker holds to HOLD. It returns the updated connection.
	PauseConnection(ctx context.Context, teamID, id string, at time.Time) (model.Connection, error)
	// UnpauseConnection clears paused_at and, in the same transaction,
	// releases every HOLD event of the connection: status QUEUED, due now,
	// next attempt trigger UNPAUSE. It returns the connection and the
	// number of events released.
	UnpauseConnection(ctx context.Context, teamID, id string, at time.Time) (model.Connection, int, error)
}

// Ingest is the write path of the public listener.
type Ingest interface {
	// InsertRequest durably commits the request and its payload
	// (r.Data, whose ID must be set). When it returns nil the request is on
	// disk (fsynced); any error means it was not committed. Concurrent
	// calls are group-committed: many requests share one transaction. An
	// accepted request (empty RejectionCause) whose source has no
	// connection at the commit is stored as NO_CONNECTION, and
	// r.RejectionCause says so on return.
	InsertRequest(ctx context.Context, r *model.Request) error
}

// Claim asks for up to Limit rows of work, leased to Owner until Now+Lease.
// A lease that expires (its owner crashed) makes the row claimable again.
type Claim struct {
	Owner string
	Limit int
	Lease time.Duration
	Now   time.Time
	// ExcludeDestinations, for ClaimEvents, skips events bound for these
	// destinations (ones the caller knows to be throttled right now).
	ExcludeDestinations []string
	// Destination, for ClaimEvents, when set, claims only events bound for
	// this destination (a rate-limited one whose slot came up).
	Destination string
	// MaxLeased, for ClaimEvents with Destination, caps the destination's
	// events leased at once, counted over every owner (a "concurrent" rate
	// limit enforced for the whole cluster): the claim takes at most the
	// room left, atomically with respect to other claims, and returns
	// ErrAtCapacity when there is none.
	MaxLeased int
}

// Routing is the router's part: turning requests into events.
type Routing interface {
	// ClaimUnroutedRequests leases accepted requests that have no events
	// yet, oldest first, with their payloads: those with no lease, an
	// expired one, or one held by c.Owner itself. A router claims one batch
	// at a time, so requests it still holds at its next claim are ones a
	// failed batch left behind (its heartbeat keeps their leases alive),
	// and it takes them up again.
	ClaimUnroutedRequests(ctx context.Context, c Claim) ([]model.Request, error)
	// CompleteRouting commits the outcome of routing several requests, each
	// atomically: its new payloads, events and ignored events are inserted,
	// its counters set and it is marked routed — or, if the request was
	// already routed (by another owner, say), nothing of it is written.
	// When Rerun is set the routed check is skipped and counters are added
	// to (a manual request retry).
	//
	// An event whose connection is paused at commit time is stored in
	// HOLD whatever status the router chose, so that a concurrent unpause
	// can never strand it.
	CompleteRouting(ctx context.Context, outcomes []RoutingOutcome) error
	// CheckDedup records deduplication keys and reports, for each, whether
	// it duplicates a key recorded by a different request that is still
	// inside its window (ExpiresAt after now). A key that is new, expired,
	// or recorded by the same request (a router retrying after a crash) is
	// not a duplicate, and is (re)recorded with its ExpiresAt. Within one
	// call, keys are considered in order.
	CheckDedup(ctx context.Context, keys []DedupKey, now time.Time) (duplicate []bool, err error)
}

// DedupKey identifies an event's content for a connection's deduplicate
// rule.
type DedupKey struct {
	ConnectionID string
	// Hash is a digest of the fields the rule selects.
	Hash      string
	RequestID string
	ExpiresAt time.Time
}

// RoutingOutcome is what the router decided for one request.
type RoutingOutcome struct {
	RequestID string
	Rerun     bool
	// Payloads are new payloads (transformed event data) the events use.
	Payloads []model.Payload
	// Events must have ID, TeamID, ConnectionID, SourceID, DestinationID,
	// RequestID, DataID, Status (QUEUED or SCHEDULED), NextAttemptAt (when
	// due; nil means now), NextTrigger and timestamps set.
	Events  []model.Event
	Ignored []model.IgnoredEvent
	// CLIEvents counts the events bound for CLI destinations (they are not
	// included in the request's events_count).
	CLIEvents int
	// Executions are the transformation runs made while routing; they are
	// stored with the outcome (their payload ids refer to Payloads or to
	// the request's payload).
	Executions []model.TransformationExecution
	RoutedAt   time.Time
}

// Dispatch is the delivery workers' part.
type Dispatch interface {
	// ClaimEvents leases events that are due (QUEUED, or SCHEDULED with a
	// next attempt time in the past), earliest due first, with their
	// payloads (Event.Data) filled in.
	//
	// Events of a destination whose DeliveryMode is model.DeliveryOrdered
	// are handed out one at a time in ingest order (the request's
	// IngestedAt, then request id, then event id): only the destination's
	// head — its first pending (QUEUED or SCHEDULED) event outside paused
	// connections — may be claimed, only once it is due, only while no
	// other event of the destination is leased, and only when no accepted
	// request ingested before it (to a source connected to the
	// destination) is still unrouted. A head waiting for a retry thus
	// holds back the events behind it. ClaimEvent (manual attempts)
	// ignores the order.
	ClaimEvents(ctx context.Context, c Claim) ([]model.Event, error)
	// ClaimEvent leases one event for an immediate manual attempt, whatever
	// its status or due time. It returns ErrConflict when another owner
	// holds an unexpired lease on it, ErrNotFound when it does not exist.
	ClaimEvent(ctx context.Context, teamID, id string, c Claim) (model.Event, error)
	// RecordAttempt stores the attempt and, if the caller still holds the
	// event's lease, applies the outcome to the event and releases the
	// lease, in one transaction. If the lease was lost the attempt is still
	// stored (it happened) and ErrLeaseLost is returned. The event's
	// attempts count grows by one, its last attempt time is the attempt's
	// CreatedAt, and its response status, error code and successful time
	// are the attempt's. A SCHEDULED outcome for an event whose connection
	// is paused is stored as HOLD, as in CompleteRouting.
	RecordAttempt(ctx context.Context, r AttemptOutcome) error
	// ReleaseLeases gives up every lease Owner holds (graceful shutdown),
	// so that the work is claimable at once.
	ReleaseLeases(ctx context.Context, owner string) error
	// RenewLeases extends every lease Owner still holds, on events and on
	// unrouted requests, to until (a heartbeat: leases stay short, so a
	// dead process's work is taken over quickly, while live work that runs
	// long keeps its lease). It returns the number of leases renewed.
	RenewLeases(ctx context.Context, owner string, until time.Time) (int, error)
	// ReleaseEvent gives up Owner's lease on an event without an attempt
	// (the destination is throttled), making it due again at dueAt so it
	// keeps its place in line. A lost lease gives ErrLeaseLost.
	ReleaseEvent(ctx context.Context, id, owner string, dueAt time.Time) error
	// AcquireRate takes delivery slots of a rate-limited destination,
	// shared by every process on the store: slots are at least interval
	// apart (a generic cell rate algorithm with no burst). When the
	// destination's next slot has come (is at or before now) it takes n
	// consecutive slots, at now, now+interval, … now+(n-1)·interval, and
	// returns ok and the next free slot (now+n·interval); the caller must
	// not use a slot before its time. When the next slot is still ahead it
	// returns ok=false and its time, and takes nothing. Taking several
	// slots in one call lets high rates be served with few round trips.
	AcquireRate(ctx context.Context, destinationID string, interval time.Duration, now time.Time, n int) (ok bool, next time.Time, err error)
	// CancelEvent marks a QUEUED, SCHEDULED or HOLD event CANCELLED and
	// returns it; other statuses give ErrConflict. It drops any lease on
	// the event, so an attempt in flight ends in ErrLeaseLost.
	CancelEvent(ctx context.Context, teamID, id string, at time.Time) (model.Event, error)
}

// Stats is what monitoring reads (the /metrics gauges).
type Stats interface {
	// QueueStats returns, for every destination that has undelivered
	// events (QUEUED, SCHEDULED or HOLD), their counts by status and the
	// creation time of its oldest QUEUED or SCHEDULED event. It reads the
	// whole queue, so callers poll it at a slow pace.
	QueueStats(ctx context.Context) ([]DestinationQueue, error)
}

// DestinationQueue is the undelivered work of one destination.
type DestinationQueue struct {
	TeamID        string
	DestinationID string
	// Queued, Scheduled and Hold count the events in each status.
	Queued, Scheduled, Hold int
	// OldestPendingAt is the creation time of the oldest QUEUED or
	// SCHEDULED event; zero when there is none (only HOLD events).
	OldestPendingAt time.Time
}

// AttemptOutcome is one finished attempt and the event's next state.
type AttemptOutcome struct {
	Owner   string
	Attempt model.Attempt
	// EventStatus is the event's new status: SUCCESSFUL, FAILED, or
	// SCHEDULED when NextAttemptAt holds the automatic retry's time.
	EventStatus   string
	NextAttemptAt *time.Time
	// NextTrigger is the trigger of the next attempt (AUTOMATIC for a
	// scheduled retry).
	NextTrigger string
}

// Log is the read side of requests, events, attempts and ignored events.
// Get of a missing id returns ErrNotFound.
type Log interface {
	GetRequest(ctx context.Context, teamID, id string, withData bool) (model.Request, error)
	ListRequests(ctx context.Context, f RequestFilter) ([]model.Request, error)
	GetEvent(ctx context.Context, teamID, id string, withData bool) (model.Event, error)
	ListEvents(ctx context.Context, f EventFilter) ([]model.Event, error)
	GetAttempt(ctx context.Context, teamID, id string) (model.Attempt, error)
	ListAttempts(ctx context.Context, f AttemptFilter) ([]model.Attempt, error)
	ListIgnoredEvents(ctx context.Context, f IgnoredEventFilter) ([]model.IgnoredEvent, error)
	GetPayload(ctx context.Context, id string) (model.Payload, error)
}

// Transformations stores JavaScript transformations and their runs.
// Names are unique per team (ErrConflict).
type Transformations interface {
	CreateTransformation(ctx context.Context, t *model.Transformation) error
	// UpdateTransformation overwrites Name, Code, Env and UpdatedAt.
	UpdateTransformation(ctx context.Context, t *model.Transformation) error
	GetTransformation(ctx context.Context, teamID, id string) (model.Transformation, error)
	GetTransformationByName(ctx context.Context, teamID, name string) (model.Transformation, error)
	ListTransformations(ctx context.Context, f TransformationFilter) ([]model.Transformation, error)
	CountTransformations(ctx context.Context, f TransformationFilter) (int, error)
	DeleteTransformation(ctx context.Context, teamID, id string) error
	GetTransformationExecution(ctx context.Context, teamID, id string) (model.TransformationExecution, error)
	ListTransformationExecutions(ctx context.Context, f ExecutionFilter) ([]model.TransformationExecution, error)
}

// TransformationFilter selects transformations. Empty fields do not filter.
type TransformationFilter struct {
	TeamID string
	IDs    []string
	Names  []string
	Page   Page
}

// ExecutionFilter selects transformation executions. Empty fields do not
// filter.
type ExecutionFilter struct {
	TeamID           string
	TransformationID string
	ConnectionIDs    []string
	LogLevels        []string
	CreatedAt        TimeRange
	Page             Page
}

// Page selects one page of a list ordered by id (ids sort by creation
// time). Results come in the page's direction: newest first unless Asc.
type Page struct {
	// Limit is the maximum number of rows; 0 means 100.
	Limit int
	Asc   bool
	// After, when set, starts the page just past this id in the page's
	// direction (exclusive).
	After string
}

// TimeRange bounds a timestamp; nil bounds are open.
type TimeRange struct {
	GT, GTE, LT, LTE *time.Time
}

// IntRange bounds an integer; nil bounds are open.
type IntRange struct {
	GT, GTE, LT, LTE, EQ *int
}

// SourceFilter selects sources. Empty fields do not filter.
type SourceFilter struct {
	TeamID   string
	IDs      []string
	Names    []string
	Disabled *bool
	Page     Page
}

// DestinationFilter selects destinations. Empty fields do not filter.
type DestinationFilter struct {
	TeamID   string
	IDs      []string
	Names    []string
	Types    []string
	Disabled *bool
	Page     Page
}

// ConnectionFilter selects connections. Empty fields do not filter.
type ConnectionFilter struct {
	TeamID         string
	IDs            []string
	Names          []string
	SourceIDs      []string
	DestinationIDs []string
	Disabled       *bool
	Paused         *bool
	Page           Page
}

// RequestFilter selects requests. Empty fields do not filter.
type RequestFilter struct {
	TeamID    string
	IDs       []string
	SourceIDs []string
	// Status is "accepted", "rejected" or "".
	Status          string
	RejectionCauses []string
	Verified        *bool
	CreatedAt       TimeRange
	EventsCount     IntRange
	IgnoredCount    IntRange
	WithData        bool
	Page            Page
}

// EventFilter selects events. Empty fields do not filter.
type EventFilter struct {
	TeamID           string
	IDs              []string
	Statuses         []string
	ConnectionIDs    []string
	SourceIDs        []string
	DestinationIDs   []string
	RequestIDs       []string
	ErrorCodes       []string
	ResponseStatuses []int
	CLIIDs           []string
	Attempts         IntRange
	CreatedAt        TimeRange
	SuccessfulAt     TimeRange
	LastAttemptAt    TimeRange
	NextAttemptAt    TimeRange
	WithData         bool
	Page             Page
}

// AttemptFilter selects attempts. Empty fields do not filter.
type AttemptFilter struct {
	TeamID   string
	IDs      []string
	EventIDs []string
	Page     Page
}

// IgnoredEventFilter selects ignored events. Empty fields do not filter.
type IgnoredEventFilter struct {
	TeamID        string
	RequestIDs    []string
	ConnectionIDs []string
	Causes        []string
	Page          Page
}

// DefaultPageLimit is the page size when a Page names none.
const DefaultPageLimit = 100
