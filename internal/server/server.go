// Package server assembles a Sluice gateway from its stages: it opens the
// store, starts the router and the dispatcher, and serves the public ingest
// listener and the private API listener. cmd/sluice and the end-to-end
// tests both run the gateway through it.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluice-gw/sluice/internal/api"
	"github.com/sluice-gw/sluice/internal/clisession"
	"github.com/sluice-gw/sluice/internal/dispatch"
	"github.com/sluice-gw/sluice/internal/ingest"
	"github.com/sluice-gw/sluice/internal/metrics"
	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/router"
	"github.com/sluice-gw/sluice/internal/rules/transform"
	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/store/pgstore"
	"github.com/sluice-gw/sluice/internal/store/sqlitestore"
	"github.com/sluice-gw/sluice/internal/verify"
)

// Defaults for Config. The ports avoid those local apps commonly use
// (3000, 8080); the API binds to loopback unless told otherwise.
const (
	DefaultDataDir    = "./sluice-data"
	DefaultIngestAddr = ":4480"
	DefaultAPIAddr    = "127.0.0.1:4481"
)

// Config configures a gateway.
type Config struct {
	// DataDir holds the SQLite database and the generated API key.
	DataDir string
	// DB is "" (SQLite in DataDir), a file path or sqlite:// URL, or a
	// postgres:// URL.
	DB string
	// IngestAddr is the public listener for webhooks.
	IngestAddr string
	// APIAddr is the listener of the REST API.
	APIAddr string
	// PublicURL is the base of source URLs (default: derived from the
	// ingest listener).
	PublicURL string
	// APIKey authenticates API calls; required.
	APIKey string
	// MaxBodyBytes caps ingested bodies (default 10 MiB).
	MaxBodyBytes int64
	// Workers is the number of deliveries in flight (default 64).
	Workers int
	// DeliveryTimeout bounds one attempt (default 60 s).
	DeliveryTimeout time.Duration
	// MetricsInterval is how often the queue gauges of /metrics are
	// refreshed from the store (default 5 s).
	MetricsInterval time.Duration
	// Lease is how long claimed work is held between heartbeats (default
	// 30 s): a crashed process's work is taken over within it. A tuning
	// knob; shorter leases cost more heartbeat writes.
	Lease  time.Duration
	Logger *slog.Logger
}

// leaseDuration is the default of Config.Lease: how long the router and
// the dispatcher hold claimed work between heartbeats; a crashed process's
// work is taken over within it.
const leaseDuration = 30 * time.Second

// Server is a running gateway.
type Server struct {
	heartbeat  *heartbeat
	cluster    *cluster // nil on a single-process store
	cfg        Config
	log        *slog.Logger
	store      store.Store
	storeDesc  string
	team       model.Team
	ingestLn   net.Listener
	apiLn      net.Listener
	ingestHTTP *http.Server
	apiHTTP    *http.Server
	router     *router.Router
	dispatcher *dispatch.Dispatcher
	cli        *clisession.Hub
	metrics    *metrics.Metrics
}

// New opens the store (applying migrations), binds both listeners and
// wires the stages. Call Run to serve.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.IngestAddr == "" {
		cfg.IngestAddr = DefaultIngestAddr
	}
	if cfg.APIAddr == "" {
		cfg.APIAddr = DefaultAPIAddr
	}
	if cfg.APIKey == "" {
		return nil, errors.New("server: an API key is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Lease <= 0 {
		cfg.Lease = leaseDuration
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: metrics.New(cfg.Logger)}

	var err error
	s.store, s.storeDesc, err = openStore(ctx, cfg, s.metrics)
	if err != nil {
		return nil, err
	}
	shared, clustered := s.store.(clusterStore)
	// Every stage writes through the instrumented store (/metrics).
	s.store = s.metrics.Store(s.store)
	fail := func(err error) (*Server, error) {
		s.closeListeners()
		_ = s.store.Close()
		return nil, err
	}
	if s.team, err = s.store.EnsureDefaultTeam(ctx); err != nil {
		return fail(fmt.Errorf("server: default team: %w", err))
	}
	if s.ingestLn, err = net.Listen("tcp", cfg.IngestAddr); err != nil {
		return fail(fmt.Errorf("server: ingest listener: %w", err))
	}
	if s.apiLn, err = net.Listen("tcp", cfg.APIAddr); err != nil {
		return fail(fmt.Errorf("server: API listener: %w", err))
	}
	if s.cfg.PublicURL == "" {
		s.cfg.PublicURL = baseURL(s.ingestLn.Addr())
	}
	s.cfg.PublicURL = strings.TrimRight(s.cfg.PublicURL, "/")

	owner := ownerID()
	// Router and dispatcher leases are short and renewed by a heartbeat.
	s.heartbeat = newHeartbeat(s.store, owner, cfg.Lease, s.log)
	var nextEventDue, nextRequestDue func(context.Context, time.Time) (time.Time, bool, error)
	if clustered {
		s.cluster = &cluster{store: shared, owner: owner, lease: cfg.Lease, log: s.log}
		nextEventDue, nextRequestDue = shared.NextEventDue, shared.NextRequestDue
	}
	// CLI sessions (hookdeck listen, sluice listen): the hub carries CLI
	// deliveries and, when a session connects, has the dispatcher resume
	// the events that waited for one.
	s.cli = clisession.New(clisession.Config{
		TeamID: s.team.ID,
		APIKey: cfg.APIKey,
		Store:  s.store,
		Resume: func(ctx context.Context, teamID string, connIDs []string) (int, error) {
			if s.cluster != nil {
				// Other processes leave these connections' events to us now.
				s.cluster.publishCLI(ctx, s.cli.ListeningConnections())
			}
			return s.dispatcher.ResumeCLI(ctx, teamID, connIDs)
		},
		Logger: s.log,
	})
	s.dispatcher = dispatch.New(s.store, dispatch.Config{
		Owner:         owner,
		Lease:         cfg.Lease,
		PollInterval:  pollInterval(clustered, cfg.Lease),
		NextDue:       nextEventDue,
		Workers:       cfg.Workers,
		Timeout:       cfg.DeliveryTimeout,
		SigningSecret: s.team.SigningSecret,
		CLI:           s.cli,
		OnAttempt:     s.cli.ObserveAttempt,
		Logger:        s.log,
	})
	// One transformation engine (its runtime pool and compiled programs)
	// for the router's transform rules and the API's validation and runs.
	transforms := transform.NewEngine(transform.Config{})
	s.router = router.New(s.store, router.Config{
		Owner:        owner,
		Lease:        cfg.Lease,
		PollInterval: pollInterval(clustered, cfg.Lease),
		NextDue:      nextRequestDue,
		OnRouted:     s.dispatcher.WakeAt,
		Transforms:   transforms,
		Logger:       s.log,
	})
	ingestHandler := ingest.New(s.store, ingest.Config{
		TeamID:       s.team.ID,
		PublicURL:    s.cfg.PublicURL,
		MaxBodyBytes: cfg.MaxBodyBytes,
		OnAccepted:   s.router.Wake,
		OnResult:     s.metrics.ObserveIngest,
		Logger:       s.log,
	})
	apiHandler, err := api.New(api.Config{
		Store:     s.store,
		Team:      s.team,
		APIKey:    cfg.APIKey,
		PublicURL: s.cfg.PublicURL,
		Events:    s.dispatcher,
		Requests:  s.router,
		Waker:     s.dispatcher.Wake,
		// POST /cli-sessions; the sessions' WebSocket is /ws below.
		CLISessions: s.cli,
		// Source verification settings are checked on write.
		ValidateSource: verify.Validate,
		Transforms:     transforms,
		Logger:         s.log,
	})
	if err != nil {
		s.cli.Close()
		return fail(fmt.Errorf("server: API: %w", err))
	}
	s.ingestHTTP = newHTTPServer(s.metrics.WrapIngest(ingestHandler), s.log)
	// GET /metrics is served without authentication, like /healthz.
	s.apiHTTP = newHTTPServer(s.metrics.Mount(withCLISocket(s.cli, apiHandler)), s.log)
	return s, nil
}

// withCLISocket serves the CLI sessions' WebSocket at /ws (the URL given
// to `hookdeck listen --ws-base`) and the API everywhere else.
func withCLISocket(ws, apiHandler http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			ws.ServeHTTP(w, r)
			return
		}
		apiHandler.ServeHTTP(w, r)
	})
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// IngestURL is the base URL webhooks are sent to (the public URL).
func (s *Server) IngestURL() string { return s.cfg.PublicURL }

// IngestAddr is the bound ingest listener address.
func (s *Server) IngestAddr() string { return s.ingestLn.Addr().String() }

// APIURL is the base URL of the API listener.
func (s *Server) APIURL() string { return baseURL(s.apiLn.Addr()) }

// StoreDescription says which store is in use, without secrets.
func (s *Server) StoreDescription() string { return s.storeDesc }

// Team is the default team.
func (s *Server) Team() model.Team { return s.team }

// Run serves until ctx ends, then shuts down gracefully: it stops
// accepting, lets in-flight ingests commit, lets the router commit its
// batch and in-flight deliveries finish and be recorded, releases leases
// and closes the store.
func (s *Server) Run(ctx context.Context) error {
	s.heartbeat.Start(ctx)
	if err := s.router.Start(ctx); err != nil {
		return fmt.Errorf("server: start router: %w", err)
	}
	if err := s.dispatcher.Start(ctx); err != nil {
		return fmt.Errorf("server: start dispatcher: %w", err)
	}
	if s.cluster != nil {
		s.cluster.listening = s.cli.ListeningConnections
		s.cluster.start(ctx, s.router.Wake, s.dispatcher.Wake)
	}
	pollCtx, stopPoll := context.WithCancel(ctx)
	polled := make(chan struct{})
	go func() { s.metrics.PollQueues(pollCtx, s.store, s.cfg.MetricsInterval); close(polled) }()
	errc := make(chan error, 2)
	go func() { errc <- serve(s.ingestHTTP, s.ingestLn, "ingest") }()
	go func() { errc <- serve(s.apiHTTP, s.apiLn, "API") }()

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.ingestHTTP.Shutdown(shutdownCtx); err != nil {
		s.log.Warn("ingest listener shutdown", "err", err)
	}
	if err := s.apiHTTP.Shutdown(shutdownCtx); err != nil {
		s.log.Warn("API listener shutdown", "err", err)
	}
	// WebSockets are hijacked connections that Shutdown leaves open; the
	// hub closes them and fails the attempts waiting on them (they are
	// resumed when a CLI connects again).
	s.cli.Close()
	s.router.Stop()
	s.dispatcher.Stop()
	if s.cluster != nil {
		s.cluster.stop()
	}
	s.heartbeat.Stop()
	stopPoll()
	<-polled
	if err := s.store.Close(); err != nil {
		s.log.Warn("store close", "err", err)
	}
	return runErr
}

func serve(srv *http.Server, ln net.Listener, name string) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %s listener: %w", name, err)
	}
	return nil
}

func (s *Server) closeListeners() {
	for _, ln := range []net.Listener{s.ingestLn, s.apiLn} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// openStore picks the store from cfg.DB; m observes its group commits and
// syncs.
func openStore(ctx context.Context, cfg Config, m *metrics.Metrics) (store.Store, string, error) {
	onCommit := m.ObserveCommit
	db := cfg.DB
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		st, err := pgstore.Open(ctx, db, pgstore.Options{OnCommit: onCommit})
		if err != nil {
			return nil, "", fmt.Errorf("server: open PostgreSQL: %w", err)
		}
		return st, "PostgreSQL " + redactDSN(db), nil
	}
	path := strings.TrimPrefix(db, "sqlite://")
	if path == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, "", fmt.Errorf("server: create data dir: %w", err)
		}
		path = filepath.Join(cfg.DataDir, "sluice.db")
	}
	if err := checkWritable(filepath.Dir(path)); err != nil {
		return nil, "", err
	}
	st, err := sqlitestore.Open(ctx, path, sqlitestore.Options{Logger: cfg.Logger, OnCommit: onCommit, OnSync: m.ObserveSync})
	if err != nil {
		return nil, "", fmt.Errorf("server: open SQLite %s: %w", path, err)
	}
	return st, "SQLite " + path, nil
}

// redactDSN hides a password in a connection URL.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			cred := dsn[i+3 : at]
			if c := strings.IndexByte(cred, ':'); c >= 0 {
				return dsn[:i+3] + cred[:c] + ":****" + dsn[at:]
			}
		}
	}
	return dsn
}

// baseURL turns a listener address into http://host:port, using localhost
// for wildcard addresses.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// ownerID names this process in leases: host, pid and a random suffix.
func ownerID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
