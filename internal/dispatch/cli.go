package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// CLI destinations are delivered through listening CLI sessions (`hookdeck
// listen`, `sluice listen`) rather than over HTTP. The dispatcher owns the
// seam: it hands each attempt to a CLIDelivery (the clisession hub) and
// waits for the answer the CLI relays from the local app.

// CLI attempt error codes (OpenAPI AttemptErrorCodes).
const (
	// ErrorCodeCLIUnavailable: no session was listening for the
	// connection. Such events are redelivered when a session connects
	// (ResumeCLI).
	ErrorCodeCLIUnavailable = "CLI_UNAVAILABLE"
	// ErrorCodeCLI: the CLI could not reach the local app.
	ErrorCodeCLI = "CLI"
	// errorCodeFiltered: every listening session's filters turned the
	// event away; it is not redelivered on reconnect.
	errorCodeFiltered = "CANCELLED"
)

// Errors a CLIDelivery returns.
var (
	// ErrNoCLISession means no live session holds the attempt's connection.
	ErrNoCLISession = errors.New("no CLI session is listening for this connection")
	// ErrCLIFiltered means live sessions hold the connection but the
	// session filters of every one of them reject the event.
	ErrCLIFiltered = errors.New("the session filters of every listening CLI reject this event")
)

// CLIDelivery carries an attempt to the live CLI sessions holding its
// connection and returns the first answer. It returns ErrNoCLISession or
// ErrCLIFiltered when nobody can take the attempt, and ctx's error when no
// answer came before ctx ended.
type CLIDelivery interface {
	DeliverCLI(ctx context.Context, a CLIAttempt) (CLIResponse, error)
}

// CLIAttempt is one delivery attempt for a CLI destination: the body of the
// `attempt` frame and what session filters need.
type CLIAttempt struct {
	TeamID       string
	AttemptID    string
	EventID      string
	ConnectionID string
	// Path is the frame's cli_path: the destination's path joined with the
	// forwarded request path, and the query.
	Path    string
	Method  string
	Headers map[string]string
	Body    []byte
	// Timeout is how long the CLI may wait for the local app.
	Timeout time.Duration
	// Payload is the event's request data, for session filters.
	Payload *model.Payload
}

// CLIResponse is a CLI's attempt_response.
type CLIResponse struct {
	// SessionID is the session that answered.
	SessionID string
	// Error is true when the CLI could not reach the local app.
	Error  bool
	Status int
	Body   string
}

// deliverCLI makes one attempt through the CLI sessions and fills the
// attempt's method and URL (the cli_path).
func (d *Dispatcher) deliverCLI(ctx context.Context, ev model.Event, tg target, number int, trigger string, att *model.Attempt) result {
	att.HTTPMethod = method(tg.destination, ev)
	if d.cfg.CLI == nil {
		return result{errorCode: ErrorCodeCLIUnavailable, body: ErrNoCLISession.Error()}
	}
	if ev.Data == nil {
		return result{errorCode: "PAYLOAD_MISSING", body: "the event's payload is missing"}
	}
	a := CLIAttempt{
		TeamID:       ev.TeamID,
		AttemptID:    att.ID,
		EventID:      ev.ID,
		ConnectionID: ev.ConnectionID,
		Path:         CLIPath(tg.destination.Config, ev.Data),
		Method:       att.HTTPMethod,
		Headers:      d.cliHeaders(ev, tg, number, trigger),
		Body:         ev.Data.Body,
		Timeout:      d.cfg.Timeout,
		Payload:      ev.Data,
	}
	att.RequestedURL = a.Path
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	resp, err := d.cfg.CLI.DeliverCLI(ctx, a)
	switch {
	case errors.Is(err, ErrNoCLISession):
		return result{errorCode: ErrorCodeCLIUnavailable, body: err.Error()}
	case errors.Is(err, ErrCLIFiltered):
		return result{errorCode: errorCodeFiltered, body: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return result{errorCode: "TIMEOUT", body: fmt.Sprintf("no answer from the CLI within %s", d.cfg.Timeout)}
	case err != nil:
		return result{errorCode: ErrorCodeCLI, body: err.Error()}
	case resp.Error:
		return result{errorCode: ErrorCodeCLI, body: "the CLI could not reach the local app"}
	}
	body := resp.Body
	if len(body) > d.cfg.MaxResponseBody {
		body = body[:d.cfg.MaxResponseBody]
	}
	return result{status: resp.Status, body: printable([]byte(body)), headersAt: time.Now()}
}

// cliHeaders are the original request headers, without hop-by-hop ones,
// plus the headers Sluice adds to every delivery.
func (d *Dispatcher) cliHeaders(ev model.Event, tg target, number int, trigger string) map[string]string {
	h := make(map[string]string, len(ev.Data.Headers)+10)
	for k, v := range ev.Data.Headers {
		if !hopByHop[strings.ToLower(k)] {
			h[strings.ToLower(k)] = v
		}
	}
	h["x-hookdeck-eventid"] = ev.ID
	h["x-hookdeck-requestid"] = ev.RequestID
	h["x-hookdeck-source-name"] = tg.source.Name
	h["x-hookdeck-destination-name"] = tg.destination.Name
	h["x-hookdeck-connection-name"] = tg.connection.Name
	h["x-hookdeck-attempt-count"] = strconv.Itoa(number)
	h["x-hookdeck-attempt-trigger"] = trigger
	h["idempotency-key"] = ev.ID
	if d.cfg.EventURL != nil {
		h["x-hookdeck-event-url"] = d.cfg.EventURL(ev.ID)
	}
	if d.cfg.SigningSecret != "" {
		h["x-hookdeck-signature"] = sign(d.cfg.SigningSecret, ev.Data.Body)
	}
	return h
}

// CLIPath is the cli_path of an attempt: the destination's path with the
// request path appended unless path forwarding is disabled, then the query.
func CLIPath(cfg model.DestinationConfig, p *model.Payload) string {
	base := cfg.Path
	if base == "" {
		base = "/"
	}
	if !strings.HasPrefix(base, "/") {
		base = "/" + base
	}
	path := base
	if !cfg.PathForwardingDisabled && p.Path != "" && p.Path != "/" {
		path = strings.TrimRight(base, "/") + "/" + strings.TrimLeft(p.Path, "/")
	}
	if p.Query != "" {
		path += "?" + p.Query
	}
	return path
}

// Resume limits: how far back and how many undelivered CLI events a new
// session picks up.
const (
	// ResumeWindow bounds the age of the events ResumeCLI redelivers.
	ResumeWindow = 24 * time.Hour
	// ResumeLimit bounds how many events one ResumeCLI call redelivers.
	ResumeLimit = 1000
)

// cliEventLister is the store read ResumeCLI needs; every store.Store has
// it (the dispatcher's Store interface leaves it out because the claim loop
// does not list).
type cliEventLister interface {
	ListEvents(ctx context.Context, f store.EventFilter) ([]model.Event, error)
}

// ResumeCLI is called when a CLI session (re)connects to the given
// connections. It wakes the claim loop for their queued events, then
// redelivers, oldest first and one at a time, the events of the last
// ResumeWindow whose last attempt failed with CLI_UNAVAILABLE (nobody was
// listening), as AUTOMATIC attempts. It stops early when a redelivery
// finds nobody listening again, and returns how many it attempted.
//
// Killing `hookdeck listen` and starting it again therefore loses nothing:
// events that arrived meanwhile failed with CLI_UNAVAILABLE and come back
// when the new session connects.
func (d *Dispatcher) ResumeCLI(ctx context.Context, teamID string, connectionIDs []string) (int, error) {
	d.Wake()
	if len(connectionIDs) == 0 {
		return 0, nil
	}
	lister, ok := d.store.(cliEventLister)
	if !ok {
		return 0, errors.New("dispatch: the store cannot list events; CLI events are not resumed")
	}
	since := time.Now().UTC().Add(-ResumeWindow)
	page := store.Page{Limit: 100, Asc: true}
	done := 0
	for done < ResumeLimit {
		evs, err := lister.ListEvents(ctx, store.EventFilter{
			TeamID:        teamID,
			ConnectionIDs: connectionIDs,
			Statuses:      []string{model.EventFailed, model.EventScheduled},
			ErrorCodes:    []string{ErrorCodeCLIUnavailable},
			CreatedAt:     store.TimeRange{GTE: &since},
			Page:          page,
		})
		if err != nil {
			return done, fmt.Errorf("dispatch: list CLI events to resume: %w", err)
		}
		for _, ev := range evs {
			if ctx.Err() != nil || done >= ResumeLimit {
				return done, ctx.Err()
			}
			att, retried, err := d.resumeOne(ctx, teamID, ev.ID)
			if err != nil {
				d.log.Warn("dispatch: resume CLI event", "event_id", ev.ID, "err", err)
				continue
			}
			if !retried {
				continue
			}
			done++
			if att.ErrorCode == ErrorCodeCLIUnavailable {
				return done, nil // nobody listens any more
			}
		}
		if len(evs) < page.Limit {
			return done, nil
		}
		page.After = evs[len(evs)-1].ID
	}
	return done, nil
}

// resumeOne claims one event and, if it still waits for a CLI, attempts it.
func (d *Dispatcher) resumeOne(ctx context.Context, teamID, id string) (model.Attempt, bool, error) {
	ev, err := d.store.ClaimEvent(ctx, teamID, id, store.Claim{Owner: d.cfg.Owner, Limit: 1, Lease: d.cfg.Lease, Now: time.Now().UTC()})
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return model.Attempt{}, false, nil // being delivered, or gone
	}
	if err != nil {
		return model.Attempt{}, false, fmt.Errorf("claim: %w", err)
	}
	waiting := ev.Status == model.EventFailed || ev.Status == model.EventScheduled || ev.Status == model.EventQueued
	if !waiting || ev.ErrorCode != ErrorCodeCLIUnavailable {
		// Delivered meanwhile: the lease just taken expires unused.
		return model.Attempt{}, false, nil
	}
	d.wg.Add(1)
	defer d.wg.Done()
	att, _, err := d.attempt(ctx, newResourceCache(d.store), ev, model.TriggerAutomatic)
	if err != nil {
		return att, false, err
	}
	return att, true, nil
}
