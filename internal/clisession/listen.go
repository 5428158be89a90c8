package clisession

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// ListenConfig configures `sluice listen`.
type ListenConfig struct {
	// APIURL is the base URL of the Sluice API listener
	// (http://127.0.0.1:4481); the WebSocket is its /ws.
	APIURL string
	APIKey string
	// Target is the local app: a port ("3000") or a URL.
	Target string
	// Sources are source names (created when missing); "*" means every
	// source.
	Sources []string
	// Path, if set, is the CLI destinations' path (events go to Target +
	// Path + the request path).
	Path string
	// Filters are the session filters; only matching events are forwarded.
	Filters Filters
	// Out receives the human-readable log.
	Out io.Writer
	// HTTPClient calls the API (default: 30 s timeout).
	HTTPClient *http.Client
	// LocalClient calls the local app (default: no redirects followed).
	LocalClient *http.Client
	// MinBackoff and MaxBackoff bound the reconnect delay (250 ms, 10 s).
	MinBackoff, MaxBackoff time.Duration
	// PingInterval is how often the connection is checked (9 s).
	PingInterval time.Duration
	// Ready, if set, is called once the first connection is up.
	Ready func()
}

// TimeLayout is the time format of listen's log lines.
const TimeLayout = "2006-01-02 15:04:05"

// Listen forwards the events of the sources' CLI connections to the local
// app until ctx ends: it finds or creates the sources and their CLI
// connections, opens a session, and keeps a WebSocket to the server,
// reconnecting with back-off. It returns nil when ctx ends.
func Listen(ctx context.Context, cfg ListenConfig) error {
	l, err := newListener(cfg)
	if err != nil {
		return err
	}
	if err := l.setup(ctx); err != nil {
		return err
	}
	return l.run(ctx)
}

type listener struct {
	cfg    ListenConfig
	api    *apiClient
	target *url.URL
	wsURL  string
	out    *lineWriter

	sources []apiSource
	conns   []apiConnection
	session string

	mu     sync.Mutex
	conn   *websocket.Conn
	unsent [][]byte // answers to resend after a reconnect
}

func newListener(cfg ListenConfig) (*listener, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("no API key: pass --api-key, set SLUICE_API_KEY or run `sluice login`")
	}
	if len(cfg.Sources) == 0 {
		return nil, errors.New("name at least one source (or * for all)")
	}
	target, err := ParseTarget(cfg.Target)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(strings.TrimRight(cfg.APIURL, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("API URL %q: want http(s)://host:port", cfg.APIURL)
	}
	ws := *base
	ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[base.Scheme]
	ws.Path = strings.TrimRight(base.Path, "/") + "/ws"
	if cfg.Path != "" && !strings.HasPrefix(cfg.Path, "/") {
		cfg.Path = "/" + cfg.Path
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.LocalClient == nil {
		cfg.LocalClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 9 * time.Second
	}
	return &listener{
		cfg:    cfg,
		api:    &apiClient{base: base.String() + "/" + APIVersion, key: cfg.APIKey, http: cfg.HTTPClient},
		target: target,
		wsURL:  ws.String(),
		out:    &lineWriter{w: cfg.Out},
	}, nil
}

// ParseTarget reads listen's first argument: a port or a URL (http://
// assumed when no scheme is given).
func ParseTarget(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if p, err := strconv.Atoi(s); err == nil {
		if p <= 0 || p > 65535 {
			return nil, fmt.Errorf("port %d is out of range", p)
		}
		return &url.URL{Scheme: "http", Host: "localhost:" + s}, nil
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%q is neither a port nor an http(s) URL", s)
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// localURL is where an attempt with that cli_path goes.
func (l *listener) localURL(cliPath string) string {
	path, query, _ := strings.Cut(cliPath, "?")
	u := *l.target
	u.Path = strings.TrimRight(u.Path, "/") + "/" + strings.TrimLeft(path, "/")
	u.RawPath = ""
	u.RawQuery = query
	return u.String()
}

// run keeps the WebSocket up until ctx ends.
func (l *listener) run(ctx context.Context) error {
	backoff := l.cfg.MinBackoff
	connectedOnce := false
	for {
		c, err := l.dial(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, errUnknownSession) {
				l.out.printf("The server no longer knows this session; opening a new one.\n")
				if err := l.openSession(ctx); err != nil && ctx.Err() == nil {
					l.out.printf("Could not open a new session: %v\n", err)
				}
			} else if isAuthError(err) {
				return fmt.Errorf("the server refused the API key: %w", err)
			} else {
				l.out.printf("Cannot reach Sluice at %s (%v); retrying in %s.\n", l.wsURL, shortErr(err), backoff.Round(time.Millisecond))
			}
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(backoff*2, l.cfg.MaxBackoff)
			continue
		}
		backoff = l.cfg.MinBackoff
		if connectedOnce {
			l.out.printf("Reconnected.\n")
		} else {
			l.out.printf("Ready. Waiting for events… (Ctrl+C to quit)\n")
			if l.cfg.Ready != nil {
				l.cfg.Ready()
			}
		}
		connectedOnce = true
		l.serve(ctx, c)
		if ctx.Err() != nil {
			return nil
		}
		l.out.printf("Connection to Sluice lost; reconnecting…\n")
	}
}

// errUnknownSession carries the server's refusal word for word, as the
// Hookdeck CLI shows it.
//
//lint:ignore ST1005 the protocol's exact message
var errUnknownSession = errors.New(UnknownSessionMessage)

type handshakeError struct {
	status int
	msg    string
}

func (e *handshakeError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.msg) }

func isAuthError(err error) bool {
	var he *handshakeError
	return errors.As(err, &he) && he.status == http.StatusUnauthorized
}

// dial opens the WebSocket for the session.
func (l *listener) dial(ctx context.Context) (*websocket.Conn, error) {
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(l.cfg.APIKey+":")))
	h.Set(HeaderSessionID, l.session)
	ids := make([]string, len(l.conns))
	for i, c := range l.conns {
		ids[i] = c.ID
	}
	h.Set(HeaderWebhookIDs, strings.Join(ids, ","))
	if !l.cfg.Filters.empty() {
		b, _ := json.Marshal(l.cfg.Filters)
		h.Set(HeaderSessionFilters, base64.StdEncoding.EncodeToString(b))
	}
	h.Set(HeaderCapabilities, CapabilityBinary)
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(dctx, l.wsURL, &websocket.DialOptions{
		HTTPHeader:      h,
		Subprotocols:    []string{Subprotocol},
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			var eb errorBody
			if resp.Body != nil {
				raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
				_ = json.Unmarshal(raw, &eb)
			}
			if eb.Error.Message == UnknownSessionMessage {
				return nil, errUnknownSession
			}
			return nil, &handshakeError{status: resp.StatusCode, msg: eb.Error.Message}
		}
		return nil, err
	}
	c.SetReadLimit(maxFrameBytes)
	return c, nil
}

// serve reads attempts until the connection fails, pinging it meanwhile.
func (l *listener) serve(ctx context.Context, c *websocket.Conn) {
	// Reads do not use ctx: a cancelled read drops the connection without
	// a close frame, and the server would wait for the session to come
	// back. When ctx ends the connection is closed properly instead.
	cctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-ctx.Done():
			_ = c.Close(websocket.StatusNormalClosure, "bye")
		case <-cctx.Done():
		}
	}()
	l.mu.Lock()
	l.conn = c
	unsent := l.unsent
	l.unsent = nil
	l.mu.Unlock()
	for _, msg := range unsent {
		l.send(cctx, msg)
	}
	defer func() {
		l.mu.Lock()
		if l.conn == c {
			l.conn = nil
		}
		l.mu.Unlock()
		_ = c.CloseNow()
	}()
	go func() {
		t := time.NewTicker(l.cfg.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-cctx.Done():
				return
			case <-t.C:
			}
			pctx, pcancel := context.WithTimeout(cctx, 10*time.Second)
			err := c.Ping(pctx)
			pcancel()
			if err != nil {
				_ = c.CloseNow()
				return
			}
		}
	}()
	for {
		typ, data, err := c.Read(cctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		var f Frame
		if json.Unmarshal(data, &f) != nil || f.Event != EventAttempt {
			continue
		}
		var a AttemptBody
		if json.Unmarshal(f.Body, &a) != nil || a.AttemptID == "" {
			continue
		}
		go l.forward(ctx, a)
	}
}

// send writes a frame on the current connection, or keeps it for the next
// one.
func (l *listener) send(ctx context.Context, msg []byte) {
	l.mu.Lock()
	c := l.conn
	l.mu.Unlock()
	if c != nil {
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err := c.Write(wctx, websocket.MessageText, msg)
		cancel()
		if err == nil {
			return
		}
	}
	l.mu.Lock()
	l.unsent = append(l.unsent, msg)
	l.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// lineWriter serialises output lines from concurrent forwards.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lineWriter) printf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.w, format, args...)
}
