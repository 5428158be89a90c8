package clisession

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/sluice-gw/sluice/internal/apikey"
)

// Limits of one WebSocket connection.
const (
	// maxFrameBytes bounds a frame read from the CLI (an attempt_response
	// carries the local app's whole response body).
	maxFrameBytes = 16 << 20
	writeTimeout  = 10 * time.Second
	pingTimeout   = 10 * time.Second
)

// wsConn is one live WebSocket connection of a session.
type wsConn struct {
	c       *websocket.Conn
	s       *session
	binary  bool // the client forwards data_base64
	closing sync.Once
}

func (c *wsConn) close(reason string) {
	c.closing.Do(func() { _ = c.c.Close(websocket.StatusGoingAway, reason) })
}

// ServeHTTP is the /ws endpoint: it authenticates the client with the API
// key, finds (or recreates) the session named by Websocket-Id, upgrades to
// the hookdeckcli-devproxy-v1 subprotocol and serves the connection until
// it closes.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="sluice"`)
		refuse(w, http.StatusUnauthorized, "Invalid API key: send Authorization: Basic base64(<key>:).")
		return
	}
	id := strings.TrimSpace(r.Header.Get(HeaderSessionID))
	s, err := h.sessionFor(r, id)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			refuse(w, he.status, he.msg)
			return
		}
		h.log.Error("clisession: find session", "session_id", id, "err", err)
		refuse(w, http.StatusInternalServerError, "internal error")
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:    []string{Subprotocol},
		CompressionMode: websocket.CompressionDisabled,
		// The CLI is not a browser; it sends no Origin header. Browsers
		// that do are held to the same host by default.
	})
	if err != nil {
		h.log.Warn("clisession: WebSocket handshake", "session_id", id, "err", err)
		return
	}
	c.SetReadLimit(maxFrameBytes)
	wc := &wsConn{c: c, s: s, binary: hasToken(r.Header.Get(HeaderCapabilities), CapabilityBinary)}
	first, ok := h.attach(wc)
	if !ok {
		wc.close("the server is shutting down")
		return
	}
	// Hookdeck's CLI reconnects every minute: only the first connection
	// of a session is worth an info line.
	level := slog.LevelDebug
	if first {
		level = slog.LevelInfo
	}
	h.log.Log(r.Context(), level, "clisession: CLI connected", "session_id", s.id, "connections", s.connIDs, "remote", r.RemoteAddr)
	h.requestResume(s.teamID, s.connIDs)
	quit := h.serveConn(wc)
	h.detach(wc, quit)
	if quit {
		level = slog.LevelInfo
	}
	h.log.Log(context.Background(), level, "clisession: CLI disconnected", "session_id", s.id, "quit", quit)
}

// httpError is a refused handshake.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// sessionFor finds the session, or recreates a forgotten one from the
// client's X-Webhook-Ids and X-Session-Filters headers.
func (h *Hub) sessionFor(r *http.Request, id string) (*session, error) {
	h.mu.Lock()
	s, ok := h.sessions[id]
	closed := h.closed
	h.mu.Unlock()
	switch {
	case closed:
		return nil, &httpError{http.StatusServiceUnavailable, "The server is shutting down."}
	case ok:
		return s, nil
	case !validSessionID(id):
		return nil, &httpError{http.StatusNotFound, UnknownSessionMessage}
	}
	var ids []string
	for _, p := range strings.Split(r.Header.Get(HeaderWebhookIDs), ",") {
		if p = strings.TrimSpace(p); p != "" {
			ids = append(ids, p)
		}
	}
	if len(ids) == 0 || h.cfg.Store == nil {
		return nil, &httpError{http.StatusNotFound, UnknownSessionMessage}
	}
	if err := checkConnections(r.Context(), h.cfg.Store, h.cfg.TeamID, ids); err != nil {
		h.log.Info("clisession: not recreating session", "session_id", id, "err", err)
		return nil, &httpError{http.StatusNotFound, UnknownSessionMessage}
	}
	var filters json.RawMessage
	if enc := strings.TrimSpace(r.Header.Get(HeaderSessionFilters)); enc != "" {
		b, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, &httpError{http.StatusBadRequest, "X-Session-Filters is not base64."}
		}
		filters = b
	}
	if err := h.addSession(id, h.cfg.TeamID, ids, filters); err != nil {
		if errors.Is(err, ErrInvalidFilters) {
			return nil, &httpError{http.StatusBadRequest, err.Error()}
		}
		return nil, err
	}
	h.log.Info("clisession: recreated session from the client's headers", "session_id", id)
	h.mu.Lock()
	s = h.sessions[id]
	h.mu.Unlock()
	if s == nil {
		return nil, &httpError{http.StatusNotFound, UnknownSessionMessage}
	}
	return s, nil
}

// attach adds a live connection to its session; first reports whether it
// is the session's first connection.
func (h *Hub) attach(c *wsConn) (first, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false, false
	}
	first = !c.s.connected
	c.s.connected = true
	c.s.conns = append(c.s.conns, c)
	h.sessions[c.s.id] = c.s // a swept session comes back
	h.wakeAllLocked()
	return first, true
}

// detach removes a closed connection. When the client closed it normally
// (it quit), its session is not waited for.
func (h *Hub) detach(c *wsConn, quit bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c.s.conns = slices.DeleteFunc(c.s.conns, func(x *wsConn) bool { return x == c })
	if !c.s.live() {
		c.s.offSince = time.Now()
		if quit {
			c.s.offSince = c.s.offSince.Add(-h.cfg.Grace)
		}
	}
	h.wakeAllLocked()
}

// serveConn reads frames until the connection ends, pinging it meanwhile.
// It reports whether the client closed the connection normally.
func (h *Hub) serveConn(c *wsConn) (quit bool) {
	// Not h.ctx: a cancelled read drops the connection without a close
	// frame; Close closes the connections properly instead.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer c.close("")
	go func() {
		t := time.NewTicker(h.cfg.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			pctx, pcancel := context.WithTimeout(ctx, pingTimeout)
			err := c.c.Ping(pctx)
			pcancel()
			if err != nil {
				if ctx.Err() == nil {
					h.log.Info("clisession: CLI does not answer pings; closing", "session_id", c.s.id, "err", err)
				}
				c.close("ping timeout")
				return
			}
		}
	}()
	for {
		typ, data, err := c.c.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err) == websocket.StatusNormalClosure
		}
		if typ != websocket.MessageText {
			continue
		}
		var f Frame
		if err := json.Unmarshal(data, &f); err != nil {
			h.log.Debug("clisession: malformed frame", "session_id", c.s.id, "err", err)
			continue
		}
		switch f.Event {
		case EventAttemptResponse:
			var b AttemptResponseBody
			if err := json.Unmarshal(f.Body, &b); err != nil || b.AttemptID == "" {
				h.log.Debug("clisession: malformed attempt_response", "session_id", c.s.id)
				continue
			}
			h.answer(c.s, b)
		default:
			h.log.Debug("clisession: ignored frame", "session_id", c.s.id, "event", f.Event)
		}
	}
}

// authorized checks the API key, as Basic username or Bearer token.
func (h *Hub) authorized(r *http.Request) bool {
	return apikey.Authorized(r, h.cfg.APIKey)
}

// refuse answers a handshake with the JSON error the CLI reads.
func refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(refusal(msg))
}

// hasToken reports whether a comma-separated header value holds tok.
func hasToken(v, tok string) bool {
	for _, p := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(p), tok) {
			return true
		}
	}
	return false
}
