package clisession

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/sluice-gw/sluice/internal/dispatch"
	"github.com/sluice-gw/sluice/internal/rules/filter"
)

// The Hub is the dispatcher's CLI delivery.
var _ dispatch.CLIDelivery = (*Hub)(nil)

// maxUnavailable bounds the attempts remembered for ObserveAttempt.
const maxUnavailable = 10000

// pending is an attempt waiting for an answer.
type pending struct {
	a        dispatch.CLIAttempt
	wake     chan struct{} // buffered 1: something changed
	sent     map[*session]bool
	answered map[*session]bool
	answers  []answer
}

type answer struct {
	s    *session
	body AttemptResponseBody
}

// wakeAllLocked tells every waiting attempt that sessions changed.
func (h *Hub) wakeAllLocked() {
	for _, p := range h.pending {
		p.poke()
	}
}

func (p *pending) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// answer routes an attempt_response to the attempt waiting for it. Only a
// session the attempt was sent to may answer it; it may answer on any of
// its connections (the CLI resends answers after a reconnect).
func (h *Hub) answer(s *session, b AttemptResponseBody) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.pending[b.AttemptID]
	if !ok || !p.sent[s] {
		h.log.Debug("clisession: answer for no waiting attempt", "session_id", s.id, "attempt_id", b.AttemptID)
		return
	}
	p.answers = append(p.answers, answer{s: s, body: b})
	p.poke()
}

// DeliverCLI sends the attempt to every live session that holds its
// connection and whose filters accept it, and returns the first answer
// from the local app (a failed one only when every session failed). A
// session whose connection drops is waited for Grace; then the attempt
// goes to sessions that joined meanwhile (a restarted `hookdeck listen`)
// or fails with dispatch.ErrNoCLISession, as it does at once when no
// session (or only one that is reconnecting past its grace) listens.
func (h *Hub) DeliverCLI(ctx context.Context, a dispatch.CLIAttempt) (dispatch.CLIResponse, error) {
	p := &pending{a: a, wake: make(chan struct{}, 1), sent: map[*session]bool{}, answered: map[*session]bool{}}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return dispatch.CLIResponse{}, dispatch.ErrNoCLISession
	}
	h.pending[a.AttemptID] = p
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.pending, a.AttemptID)
		h.mu.Unlock()
	}()

	var input *filter.Input
	var failed *answer
	for {
		h.mu.Lock()
		for _, an := range p.answers {
			if !an.body.Error {
				h.mu.Unlock()
				return response(an), nil
			}
			p.answered[an.s] = true
			failed = &an
		}
		p.answers = nil
		var targets []*session
		filtered := false
		for _, s := range h.sessions {
			if s.teamID != a.TeamID || !s.holds(a.ConnectionID) || !s.live() || p.sent[s] {
				continue
			}
			if s.filter != nil {
				if input == nil {
					input = filterInput(a)
				}
				if ok, _ := s.filter.Match(*input); !ok {
					filtered = true
					continue
				}
			}
			targets = append(targets, s)
		}
		closed := h.closed
		h.mu.Unlock()
		if closed {
			return dispatch.CLIResponse{}, dispatch.ErrNoCLISession
		}

		for _, s := range targets {
			// Marked before the write: the answer may come back before
			// the write returns.
			h.mu.Lock()
			p.sent[s] = true
			h.mu.Unlock()
			if err := h.send(ctx, s, a); err != nil {
				h.log.Info("clisession: could not send attempt", "session_id", s.id, "attempt_id", a.AttemptID, "err", err)
				h.mu.Lock()
				delete(p.sent, s)
				h.mu.Unlock()
			}
		}

		// Who may still answer, and until when a reconnecting one is
		// waited for.
		h.mu.Lock()
		waiting, graceEnds := false, time.Time{}
		for s := range p.sent {
			if p.answered[s] || h.sessions[s.id] != s {
				continue
			}
			if s.live() {
				waiting = true
				continue
			}
			if end := s.offSince.Add(h.cfg.Grace); time.Now().Before(end) {
				waiting = true
				if graceEnds.IsZero() || end.Before(graceEnds) {
					graceEnds = end
				}
			}
		}
		if len(p.sent) == 0 && !filtered {
			// Nobody took it yet: wait for a session of the connection
			// that is reconnecting, as the CLI does every minute.
			for _, s := range h.sessions {
				if s.teamID == a.TeamID && s.holds(a.ConnectionID) && !s.live() {
					if end := s.offSince.Add(h.cfg.Grace); time.Now().Before(end) {
						waiting = true
						if graceEnds.IsZero() || end.Before(graceEnds) {
							graceEnds = end
						}
					}
				}
			}
		}
		if !waiting {
			if failed == nil && len(p.sent) == 0 {
				if len(h.unavailable) > maxUnavailable {
					clear(h.unavailable) // nobody observes attempts
				}
				h.unavailable[a.AttemptID] = connKey{a.TeamID, a.ConnectionID}
			}
			h.mu.Unlock()
			switch {
			case failed != nil:
				return response(*failed), nil
			case len(p.sent) == 0 && filtered:
				return dispatch.CLIResponse{}, dispatch.ErrCLIFiltered
			}
			return dispatch.CLIResponse{}, dispatch.ErrNoCLISession
		}
		h.mu.Unlock()

		if err := p.wait(ctx, graceEnds); err != nil {
			if failed != nil {
				return response(*failed), nil
			}
			return dispatch.CLIResponse{}, err
		}
	}
}

// wait blocks until something changes, until (if set) or ctx ends.
func (p *pending) wait(ctx context.Context, until time.Time) error {
	var timer <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until) + time.Millisecond)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-p.wake:
	case <-timer:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func response(an answer) dispatch.CLIResponse {
	return dispatch.CLIResponse{SessionID: an.s.id, Error: an.body.Error, Status: an.body.Status, Body: an.body.Data}
}

// send writes the attempt frame on the session's newest live connection,
// falling back to older ones.
func (h *Hub) send(ctx context.Context, s *session, a dispatch.CLIAttempt) error {
	h.mu.Lock()
	conns := append([]*wsConn(nil), s.conns...)
	h.mu.Unlock()
	if len(conns) == 0 {
		return errors.New("the session has no live connection")
	}
	var err error
	for i := len(conns) - 1; i >= 0; i-- {
		c := conns[i]
		var frame []byte
		if frame, err = attemptFrame(a, c.binary); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err = c.c.Write(wctx, websocket.MessageText, frame)
		cancel()
		if err == nil {
			return nil
		}
		c.close("write failed")
	}
	return err
}

// attemptFrame encodes the attempt frame. A body that is not UTF-8 goes
// as data_base64 to clients that can forward it; others get it as a
// (lossy) string, as Hookdeck's older CLIs expect.
func attemptFrame(a dispatch.CLIAttempt, binary bool) ([]byte, error) {
	req := AttemptRequest{Method: a.Method, Timeout: a.Timeout.Milliseconds(), Headers: a.Headers}
	if req.Headers == nil {
		req.Headers = map[string]string{}
	}
	if binary && !utf8.Valid(a.Body) {
		req.BodyFormat, req.DataBase64 = CapabilityBinary, base64.StdEncoding.EncodeToString(a.Body)
	} else {
		req.DataString = string(a.Body)
	}
	body, err := json.Marshal(AttemptBody{AttemptID: a.AttemptID, EventID: a.EventID, WebhookID: a.ConnectionID, CLIPath: a.Path, Request: req})
	if err != nil {
		return nil, fmt.Errorf("clisession: encode attempt: %w", err)
	}
	return json.Marshal(Frame{Event: EventAttempt, Body: body})
}

// filterInput is what session filters match: the original request.
func filterInput(a dispatch.CLIAttempt) *filter.Input {
	in := &filter.Input{Headers: map[string]string{}}
	p := a.Payload
	if p == nil {
		return in
	}
	for k, v := range p.Headers {
		in.Headers[strings.ToLower(k)] = v
	}
	in.Body = filter.Decode(p.Body)
	in.Path = p.Path
	q := map[string]any{}
	vals, _ := url.ParseQuery(p.Query)
	for k, vs := range vals {
		if len(vs) == 1 {
			q[k] = vs[0]
		} else {
			list := make([]any, len(vs))
			for i, v := range vs {
				list[i] = v
			}
			q[k] = list
		}
	}
	in.Query = q
	return in
}
