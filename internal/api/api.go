package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sluice-gw/sluice/internal/apikey"
	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules/transform"
	"github.com/sluice-gw/sluice/internal/store"
)

// MaxBodyBytes bounds the body of an API request; larger bodies get 413.
const MaxBodyBytes = 5 << 20

// Config is what the API needs from the process that serves it.
type Config struct {
	// Store holds every resource and log row. Required.
	Store store.Store
	// Team is the project every request acts on. Required (ID set).
	Team model.Team
	// APIKey authenticates clients (Bearer KEY or Basic base64(KEY:)); it
	// is compared in constant time. Required.
	APIKey string
	// PublicURL is the ingest listener's base URL, e.g.
	// http://127.0.0.1:3333; a source's url is PublicURL/<id without src_>.
	PublicURL string
	// Events makes manual event retries; nil answers 501 on that route.
	Events EventRetrier
	// Requests re-routes requests; nil answers 501 on that route.
	Requests RequestRetrier
	// CLISessions creates `hookdeck listen` sessions (POST /cli-sessions);
	// nil answers 501 on that route.
	CLISessions CLISessions
	// Waker, if set, is called after a change that makes events due at
	// once (unpause), so that the dispatcher looks for work without delay.
	Waker func()
	// ValidateSource, if set, checks a source's verification settings
	// before they are stored (e.g. verify.Validate); its error becomes a
	// 422 naming the field. When nil the API checks required fields only.
	ValidateSource func(model.SourceConfig) error
	// Transforms validates and test-runs transformation code; share the
	// router's engine. nil uses an engine with default limits.
	Transforms *transform.Engine
	// Logger receives server-side errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// EventRetrier makes one manual delivery attempt of an event, synchronously,
// and returns the updated event and the attempt. It returns an error
// wrapping store.ErrConflict when the event is being delivered and
// store.ErrNotFound when it does not exist.
type EventRetrier interface {
	RetryEvent(ctx context.Context, teamID, eventID string) (model.Event, model.Attempt, error)
}

// RequestRetrier routes a stored request again through the given
// connections (all of the source's connections when empty) and returns the
// new events.
type RequestRetrier interface {
	RetryRequest(ctx context.Context, req model.Request, connectionIDs []string) ([]model.Event, error)
}

// server is the API's http.Handler.
type server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
	now func() time.Time
}

// New returns the API handler. It serves GET /healthz and GET /readyz
// without authentication and everything else under /YYYY-MM-DD/.
func New(cfg Config) (http.Handler, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("api: Config.Store is required")
	case cfg.Team.ID == "":
		return nil, errors.New("api: Config.Team.ID is required")
	case cfg.APIKey == "":
		return nil, errors.New("api: Config.APIKey is required")
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	s := &server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.routes()
	return s, nil
}

// ServeHTTP serves health checks, then authenticates, strips the version
// prefix and dispatches to the inner routes.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	case "/readyz":
		if err := s.cfg.Store.Ping(r.Context()); err != nil {
			s.log.Error("readiness check failed", "err", err)
			writeError(w, &apiError{Status: http.StatusServiceUnavailable, Code: codeUnavailable, Message: "the database does not answer"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="sluice"`)
		writeError(w, &apiError{Status: http.StatusUnauthorized, Code: codeUnauthorized,
			Message: "missing or invalid API key: send Authorization: Bearer <key> or Basic base64(<key>:)"})
		return
	}
	v, rest, ok := splitVersion(r.URL.Path)
	if !ok {
		writeError(w, notFound("route", r.URL.Path))
		return
	}
	inner := new(http.Request)
	*inner = *r
	u := *r.URL
	u.Path, u.RawPath = rest, ""
	inner.URL = &u
	inner = inner.WithContext(context.WithValue(r.Context(), versionKey{}, v))
	inner.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	s.mux.ServeHTTP(w, inner)
}

// authorized reports whether the request carries the API key, as a bearer
// token or as the Basic username with an empty (or any) password.
func (s *server) authorized(r *http.Request) bool {
	return apikey.Authorized(r, s.cfg.APIKey)
}

// handlerFunc is an API handler: it returns the value to encode with 200,
// or an error rendered through the catalog.
type handlerFunc func(r *http.Request) (any, error)

// handle registers h for pattern on the inner mux.
func (s *server) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		v, err := h(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// routes registers every inner route (paths after the version prefix).
func (s *server) routes() {
	s.sourceRoutes()
	s.destinationRoutes()
	s.connectionRoutes()
	s.requestRoutes()
	s.eventRoutes()
	s.attemptRoutes()
	s.transformationRoutes()
	s.cliRoutes()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{Status: http.StatusNotFound, Code: codeNotFound,
			Message: "no route for " + r.Method + " " + r.URL.Path})
	})
}
