package compat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/compat/oascheck"
)

// apiKey is the gateway's key in every test (the Hookdeck CLI wants at
// least 12 characters).
const apiKey = "sk_compat_test_key_0123456789"

var (
	// binary is the sluice binary built once for the package.
	binary string
	// specPath is the OpenAPI document the answers are checked against.
	specPath = envOr("SLUICE_COMPAT_OPENAPI", filepath.Join("..", "..", "shared", "reference", "hookdeck-openapi-2025-07-01.json"))
	// validator is loaded once, on first use.
	validatorOnce sync.Once
	validator     *oascheck.Validator
	validatorErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-compat-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// SLUICE_COMPAT_BINARY runs a sluice built elsewhere; by default it is
	// built from the main module (the repository root), not this one.
	binary = os.Getenv("SLUICE_COMPAT_BINARY")
	if binary == "" {
		binary = filepath.Join(dir, "sluice")
		build := exec.Command("go", "build", "-o", binary, "./cmd/sluice")
		build.Dir = ".."
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build sluice:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// envOr returns the environment variable or def.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// missing skips the test because something it needs is absent, or fails
// it when CI is set (CI must run every compat test).
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (required in CI)", msg)
	}
	t.Skip(msg)
}

// recordingProxy puts a proxy in front of g's API that records every
// exchange for v to validate; it is closed when t ends.
func recordingProxy(t *testing.T, g *gateway, v *oascheck.Validator) (*oascheck.Recorder, string) {
	t.Helper()
	rec := oascheck.NewRecorder(v)
	proxy, err := oascheck.NewProxy(g.apiURL, rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	return rec, proxy.URL
}

// openAPI returns the validator over the 2025-07-01 document, skipping
// the test (failing it in CI) when ../shared is absent.
func openAPI(t *testing.T) *oascheck.Validator {
	t.Helper()
	validatorOnce.Do(func() {
		if _, err := os.Stat(specPath); err != nil {
			validatorErr = fmt.Errorf("%w: %v", fs.ErrNotExist, err)
			return
		}
		validator, validatorErr = oascheck.Load(specPath)
	})
	switch {
	case errors.Is(validatorErr, fs.ErrNotExist):
		missing(t, "the OpenAPI document is absent (%v); set SLUICE_COMPAT_OPENAPI or lay ../shared beside the repository", validatorErr)
	case validatorErr != nil:
		t.Fatal(validatorErr)
	}
	return validator
}

// requireValid fails the test for every answer that did not match the
// document, logs the skipped ones, and checks that at least one was
// validated.
func requireValid(t *testing.T, rec *oascheck.Recorder) {
	t.Helper()
	validated := 0
	for _, r := range rec.Results() {
		switch {
		case r.Err != nil:
			t.Errorf("OpenAPI: %s\nbody: %s", r, truncate(r.Body, 2000))
		case r.Skipped != "":
			t.Logf("OpenAPI: %s", r)
		default:
			validated++
		}
	}
	if validated == 0 {
		t.Errorf("OpenAPI: no answer was validated")
	}
	t.Logf("OpenAPI: %d answers validated", validated)
}

// truncate shortens b for a message.
func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

// backend is a store the gateway runs on: its --db value and data dir.
type backend struct {
	name    string
	db      string
	dataDir string
}

// forEachBackend runs fn on a fresh SQLite and a fresh PostgreSQL backend;
// the PostgreSQL one is skipped (failed in CI) without
// SLUICE_TEST_POSTGRES_DSN.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, backend{name: "sqlite", dataDir: t.TempDir()})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := newPostgresDB(t)
		fn(t, backend{name: "postgres", db: dsn, dataDir: t.TempDir()})
	})
}

// gateway is one running sluice process.
type gateway struct {
	t         *testing.T
	cmd       *exec.Cmd
	ingestURL string
	apiURL    string
	exited    chan struct{}
	logs      *syncBuffer
}

var (
	webhooksLine = regexp.MustCompile(`Webhooks:\s+(\S+)/\{source_id\}`)
	apiLine      = regexp.MustCompile(`API:\s+(\S+)/2025-07-01`)
)

// start runs `sluice serve` on b with loopback listeners on free ports and
// waits until the API answers.
func start(t *testing.T, b backend) *gateway {
	t.Helper()
	args := []string{"serve", "--ingest-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0",
		"--api-key", apiKey, "--data-dir", b.dataDir, "--log-level", "warn", "--delivery-timeout", "5s"}
	if b.db != "" {
		args = append(args, "--db", b.db)
	}
	cmd := exec.Command(binary, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	g := &gateway{t: t, cmd: cmd, exited: make(chan struct{}), logs: &syncBuffer{}}
	cmd.Stderr = g.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(g.exited) }()
	t.Cleanup(func() {
		g.stop()
		if t.Failed() {
			t.Logf("sluice logs:\n%s", g.logs.String())
		}
	})
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if m := webhooksLine.FindStringSubmatch(line); m != nil {
				g.ingestURL = m[1]
			}
			if m := apiLine.FindStringSubmatch(line); m != nil {
				g.apiURL = m[1]
				close(found)
			}
		}
	}()
	select {
	case <-found:
	case <-g.exited:
		t.Fatalf("sluice exited at start:\n%s", g.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("sluice did not print its URLs in time:\n%s", g.logs.String())
	}
	waitFor(t, 10*time.Second, "API health", func() bool {
		resp, err := http.Get(g.apiURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return g
}

// stop ends the process gracefully (SIGTERM), killing it after a while.
func (g *gateway) stop() {
	select {
	case <-g.exited:
		return
	default:
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(20 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
}

// api calls the REST API (2025-07-01) with the key and decodes the JSON
// answer into out (if non-nil); it returns the status code.
func (g *gateway) api(method, path string, body any, out any) int {
	g.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			g.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.apiURL+"/2025-07-01"+path, rd)
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			g.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// send posts a webhook and returns the status.
func send(t *testing.T, url string, headers map[string]string, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// received is one request a test app got.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   string
}

// app is a local HTTP server standing for the user's application: it
// records what it receives and answers 200 with a JSON body.
type app struct {
	mu     sync.Mutex
	got    []received
	server *http.Server
	URL    string
	Port   string
}

// newApp starts an app on a free loopback port.
func newApp(t *testing.T) *app {
	t.Helper()
	a := &app{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.URL = "http://" + ln.Addr().String()
	_, a.Port, _ = net.SplitHostPort(ln.Addr().String())
	a.server = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.got = append(a.got, received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: string(body)})
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	})}
	go func() { _ = a.server.Serve(ln) }()
	t.Cleanup(func() { _ = a.server.Close() })
	return a
}

// received returns what the app got so far.
func (a *app) received() []received {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]received(nil), a.got...)
}

// syncBuffer is a goroutine-safe bytes.Buffer for process output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written.
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
