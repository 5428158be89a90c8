// Package e2e runs the real sluice binary as a child process and talks to it
// over real HTTP on loopback, against SQLite and PostgreSQL.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/sluice-gw/sluice/internal/store/pgstore/pgtest"
)

// binary is the sluice binary built once for the package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sluice")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "../cmd/sluice")...)
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sluice:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// backend is a store the gateway runs on: its --db value and data dir.
type backend struct {
	name    string
	db      string
	dataDir string
}

// backends returns a fresh SQLite and a fresh PostgreSQL backend; the
// PostgreSQL one is skipped (or failed in CI) without SLUICE_TEST_POSTGRES_DSN.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, backend{name: "sqlite", dataDir: t.TempDir()})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		fn(t, backend{name: "postgres", db: dsn, dataDir: t.TempDir()})
	})
}

const apiKey = "sk_e2e_test_key"

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
func start(t *testing.T, b backend, extra ...string) *gateway {
	t.Helper()
	args := []string{"serve", "--ingest-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0",
		"--api-key", apiKey, "--data-dir", b.dataDir, "--log-level", "warn"}
	if b.db != "" {
		args = append(args, "--db", b.db)
	}
	cmd := exec.Command(binary, append(args, extra...)...)
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
		if strings.Contains(g.logs.String(), "WARNING: DATA RACE") {
			t.Errorf("the race detector found a data race in sluice serve")
		}
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
		return resp.StatusCode == 200
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

// kill ends the process with SIGKILL, as a crash would.
func (g *gateway) kill() {
	_ = g.cmd.Process.Kill()
	<-g.exited
}

// api calls the REST API with the key and decodes a JSON answer into out
// (if non-nil). It returns the status code.
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
	req, err := http.NewRequest(method, g.apiURL+path, rd)
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

// mustAPI is api that fails the test unless the answer is 200.
func (g *gateway) mustAPI(method, path string, body any, out any) {
	g.t.Helper()
	var raw json.RawMessage
	if code := g.api(method, path, body, &raw); code != http.StatusOK {
		g.t.Fatalf("%s %s = %d: %s", method, path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			g.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// send posts a webhook and returns the status and decoded answer.
func send(t *testing.T, url string, headers map[string]string, body string) (int, map[string]any) {
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
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// received is one request a test destination got.
type received struct {
	Method  string
	Path    string
	Query   string
	Headers http.Header
	Body    string
	At      time.Time
}

// destination is a local HTTP server that records what it receives and
// answers with the statuses it is told (200 once the list runs out).
type destination struct {
	mu       sync.Mutex
	got      []received
	statuses []int
	server   *http.Server
	URL      string
}

func newDestination(t *testing.T, statuses ...int) *destination {
	t.Helper()
	d := &destination{statuses: statuses}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.URL = "http://" + ln.Addr().String()
	d.server = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d.mu.Lock()
		d.got = append(d.got, received{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Headers: r.Header.Clone(), Body: string(body), At: time.Now()})
		status := 200
		if len(d.statuses) > 0 {
			status, d.statuses = d.statuses[0], d.statuses[1:]
		}
		d.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"ok":%v}`, status < 300)
	})}
	go func() { _ = d.server.Serve(ln) }()
	t.Cleanup(func() { _ = d.server.Close() })
	return d
}

func (d *destination) received() []received {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]received(nil), d.got...)
}

func (d *destination) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.got)
}

// syncBuffer is a goroutine-safe bytes.Buffer for process output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// list is the shape of every list answer.
type list[T any] struct {
	Pagination map[string]any `json:"pagination"`
	Count      int            `json:"count"`
	Models     []T            `json:"models"`
}
