package clisession

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules/filter"
	"github.com/sluice-gw/sluice/internal/store"
)

// Defaults for Config.
const (
	DefaultSessionTTL   = 24 * time.Hour
	DefaultGrace        = 10 * time.Second
	DefaultPingInterval = 30 * time.Second
	// SessionPrefix starts every session id.
	SessionPrefix = "cses_"
)

// Store is what the hub reads: connections, to check the ids a session
// names.
type Store interface {
	GetConnection(ctx context.Context, teamID, id string) (model.Connection, error)
}

// Config configures a Hub.
type Config struct {
	// TeamID is the team of the sessions recreated from connect headers.
	TeamID string
	// APIKey authenticates WebSocket connections (Basic base64(KEY:) or
	// Bearer KEY), compared in constant time. Required.
	APIKey string
	// Store checks connection ids; required to recreate sessions.
	Store Store
	// SessionTTL is how long a session without a live connection is kept
	// (default 24 h). Sessions live in memory only.
	SessionTTL time.Duration
	// Grace is how long a disconnected session is waited for before its
	// unanswered attempts go to other sessions or fail (default 10 s).
	Grace time.Duration
	// PingInterval is how often the server pings each connection to find
	// dead peers (default 30 s).
	PingInterval time.Duration
	// Resume, if set, is called (from one goroutine, coalesced) when a
	// session connects: dispatch.Dispatcher.ResumeCLI.
	Resume func(ctx context.Context, teamID string, connectionIDs []string) (int, error)
	Logger *slog.Logger
}

// ErrInvalidFilters wraps a session filter that does not compile.
var ErrInvalidFilters = errors.New("invalid session filters")

// Hub holds the CLI sessions of one process: the sessions created with
// POST /cli-sessions, the WebSocket connections that join them at /ws, and
// the attempts waiting for their answers. Sessions are in memory: they
// survive reconnects (the CLI resets its connection every minute) and are
// forgotten SessionTTL after their last connection closed, or when the
// process stops; a client that reconnects to a forgotten session with its
// X-Webhook-Ids header gets it recreated under the same id.
type Hub struct {
	cfg    Config
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	sessions map[string]*session
	pending  map[string]*pending // by attempt id
	// unavailable remembers, for attempts answered ErrNoCLISession, their
	// connection, until the attempt is observed recorded (ObserveAttempt).
	unavailable map[string]connKey
	resumeWant  map[string]map[string]bool // team → connection ids
	resumeWake  chan struct{}
}

type connKey struct{ team, conn string }

// session is one CLI session.
type session struct {
	id      string
	teamID  string
	connIDs []string
	filters json.RawMessage // as given, for display
	filter  *filter.RuleFilter
	conns   []*wsConn // live WebSocket connections, newest last
	// connected is set once a connection has joined.
	connected bool
	offSince  time.Time // when the last connection closed (creation if never connected)
}

func (s *session) live() bool { return len(s.conns) > 0 }

func (s *session) holds(connID string) bool { return slices.Contains(s.connIDs, connID) }

// New returns a Hub; call Close to stop it.
func New(cfg Config) *Hub {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Hub{
		cfg:         cfg,
		log:         cfg.Logger,
		sessions:    map[string]*session{},
		pending:     map[string]*pending{},
		unavailable: map[string]connKey{},
		resumeWant:  map[string]map[string]bool{},
		resumeWake:  make(chan struct{}, 1),
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.wg.Add(1)
	go h.resumeLoop()
	return h
}

// CreateSession creates a session for the given connections of a team and
// returns its id. filters is the session filter object
// ({"body","headers","query","path"}) or empty; an invalid one gives an
// error wrapping ErrInvalidFilters. The caller checks that the
// connections exist.
func (h *Hub) CreateSession(teamID string, connectionIDs []string, filters json.RawMessage) (string, error) {
	id, err := newSessionID()
	if err != nil {
		return "", err
	}
	if err := h.addSession(id, teamID, connectionIDs, filters); err != nil {
		return "", err
	}
	return id, nil
}

// addSession compiles the filters and stores a session under id.
func (h *Hub) addSession(id, teamID string, connectionIDs []string, filters json.RawMessage) error {
	f, err := compileFilters(filters)
	if err != nil {
		return err
	}
	ids := slices.Clone(connectionIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errors.New("clisession: the hub is closed")
	}
	h.sweepLocked(now)
	if _, ok := h.sessions[id]; !ok {
		h.sessions[id] = &session{id: id, teamID: teamID, connIDs: ids, filters: filters, filter: f, offSince: now}
	}
	return nil
}

// compileFilters compiles a session filter object.
func compileFilters(raw json.RawMessage) (*filter.RuleFilter, error) {
	if s := strings.TrimSpace(string(raw)); s == "" || s == "null" || s == "{}" {
		return nil, nil
	}
	var f Filters
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFilters, err)
	}
	if f.empty() {
		return nil, nil
	}
	rf, err := filter.CompileRule(f.Body, f.Headers, f.Query, f.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFilters, err)
	}
	return rf, nil
}

// sweepLocked forgets sessions idle for longer than SessionTTL.
func (h *Hub) sweepLocked(now time.Time) {
	for id, s := range h.sessions {
		if !s.live() && now.Sub(s.offSince) > h.cfg.SessionTTL {
			delete(h.sessions, id)
		}
	}
}

// Listening reports whether a live session holds the connection.
func (h *Hub) Listening(teamID, connectionID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.sessions {
		if s.teamID == teamID && s.live() && s.holds(connectionID) {
			return true
		}
	}
	return false
}

// ObserveAttempt is told of every recorded attempt (dispatch's OnAttempt).
// An attempt that failed CLI_UNAVAILABLE while a session was connecting
// may have been recorded after that session's resume looked for such
// events; when a session now listens for its connection, resume again.
func (h *Hub) ObserveAttempt(a model.Attempt) {
	h.mu.Lock()
	k, ok := h.unavailable[a.ID]
	delete(h.unavailable, a.ID)
	h.mu.Unlock()
	if ok && h.Listening(k.team, k.conn) {
		h.requestResume(k.team, []string{k.conn})
	}
}

// requestResume asks the resume goroutine to resume the connections.
func (h *Hub) requestResume(teamID string, connIDs []string) {
	if h.cfg.Resume == nil {
		return
	}
	h.mu.Lock()
	set := h.resumeWant[teamID]
	if set == nil {
		set = map[string]bool{}
		h.resumeWant[teamID] = set
	}
	for _, c := range connIDs {
		set[c] = true
	}
	h.mu.Unlock()
	select {
	case h.resumeWake <- struct{}{}:
	default:
	}
}

// resumeLoop runs the resume requests one at a time, coalescing those that
// come in meanwhile.
func (h *Hub) resumeLoop() {
	defer h.wg.Done()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.resumeWake:
		}
		h.mu.Lock()
		want := h.resumeWant
		h.resumeWant = map[string]map[string]bool{}
		h.mu.Unlock()
		for team, set := range want {
			ids := make([]string, 0, len(set))
			for c := range set {
				ids = append(ids, c)
			}
			slices.Sort(ids)
			n, err := h.cfg.Resume(h.ctx, team, ids)
			if err != nil && h.ctx.Err() == nil {
				h.log.Warn("clisession: resume CLI events", "err", err)
			} else if n > 0 {
				h.log.Info("clisession: redelivered events that waited for a CLI", "count", n, "connections", ids)
			}
		}
	}
}

// Close closes every WebSocket connection, fails the attempts waiting for
// an answer (as if nobody listened, so that they are resumed later) and
// stops the resume goroutine.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	var conns []*wsConn
	for _, s := range h.sessions {
		conns = append(conns, s.conns...)
	}
	h.wakeAllLocked()
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() { defer wg.Done(); c.close("the server is shutting down") }()
	}
	wg.Wait()
	h.cancel()
	h.wg.Wait()
}

// newSessionID returns "cses_" and 24 random base62 characters.
func newSessionID() (string, error) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("clisession: session id: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return SessionPrefix + string(b[:]), nil
}

// validSessionID reports whether id looks like a session id a client may
// bring back (bounded, printable, no separators).
func validSessionID(id string) bool {
	if len(id) < 8 || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// checkConnections verifies that every id is a connection of the team.
func checkConnections(ctx context.Context, st Store, teamID string, ids []string) error {
	if len(ids) == 0 {
		return errors.New("no connection ids")
	}
	for _, id := range ids {
		if _, err := st.GetConnection(ctx, teamID, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("connection %q not found", id)
			}
			return fmt.Errorf("connection %s: %w", id, err)
		}
	}
	return nil
}
