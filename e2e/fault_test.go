package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/sluice-gw/sluice/internal/store/pgstore/pgtest"
)

// SIGKILL under load, again and again: after ten crashes every
// acknowledged request exists and is delivered at least once.
func TestKillNineRepeated(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		dest := newDestination(t)
		g := start(t, b)
		var c connection
		g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
			"name":        "crashy",
			"source":      map[string]any{"name": "crashy-src"},
			"destination": map[string]any{"name": "crashy-dest", "config": map[string]any{"url": dest.URL}},
		}, &c)

		acked := map[string]bool{}
		const cycles = 10
		for cycle := range cycles {
			// Vary the moment of the crash: sometimes right after the
			// first acknowledgements, sometimes with deliveries under way,
			// and last with a large batch acknowledged.
			minAcked := 10 + cycle*8
			if cycle == cycles-1 {
				minAcked = 150
			}
			ids := loadUntilKilled(t, g, g.ingestURL+"/"+c.Source.ID, minAcked)
			for _, id := range ids {
				acked[id] = true
			}
			g = start(t, b)
		}
		t.Logf("%d requests acknowledged over %d crashes", len(acked), cycles)
		checkAllKept(t, g, dest, acked)
	})
}

// checkAllKept fails unless every acknowledged request exists and reached
// the destination at least once.
func checkAllKept(t *testing.T, g *gateway, dest *destination, acked map[string]bool) {
	t.Helper()
	for id := range acked {
		var r request
		if code := g.api("GET", "/2025-07-01/requests/"+id, nil, &r); code != 200 || r.ID != id {
			t.Fatalf("acknowledged request %s is missing (status %d)", id, code)
		}
	}
	var missing []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		seen := map[string]bool{}
		for _, r := range dest.received() {
			seen[r.Headers.Get("X-Hookdeck-Requestid")] = true
		}
		missing = missing[:0]
		for id := range acked {
			if !seen[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, id := range missing {
		if i == 5 {
			break
		}
		var r map[string]any
		g.api("GET", "/2025-07-01/requests/"+id, nil, &r)
		var evs list[map[string]any]
		g.api("GET", "/2025-07-01/events?request_id="+id, nil, &evs)
		t.Logf("undelivered request %v\n  its events: %v", r, evs.Models)
	}
	t.Fatalf("%d of %d acknowledged requests were not delivered within 60s", len(missing), len(acked))
}

// EnvPGRestart enables TestPostgresRestart, which stops the shared
// PostgreSQL server: .ci/run sets it for a final, separate go test run.
const EnvPGRestart = "SLUICE_TEST_PG_RESTART"

// PostgreSQL stopped and started under load: while it is down ingest
// answers 503 (never 2xx); once it is back ingest recovers by itself
// within seconds, and nothing acknowledged is lost.
func TestPostgresRestart(t *testing.T) {
	if os.Getenv(EnvPGRestart) != "1" {
		t.Skip(EnvPGRestart + "=1 not set: this test stops and starts the shared PostgreSQL server")
	}
	dsn := pgtest.NewDatabase(t)
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) == 0 {
		t.Fatalf("no PostgreSQL cluster under /etc/postgresql: %v", err)
	}
	version := versions[0].Name()
	pgctl := func(action string) {
		t.Helper()
		out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action).CombinedOutput()
		if err != nil {
			t.Errorf("pg_ctlcluster %s: %v\n%s", action, err, out)
		}
	}
	pgReady := func() bool { return exec.Command("pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q").Run() == nil }
	// Registered after NewDatabase, so it runs first: the server is up
	// again before the database is dropped, whatever happened.
	t.Cleanup(func() {
		if !pgReady() {
			pgctl("start")
		}
		deadline := time.Now().Add(30 * time.Second)
		for !pgReady() && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
	})

	dest := newDestination(t)
	g := start(t, backend{name: "postgres", db: dsn, dataDir: t.TempDir()})
	var c connection
	g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
		"name":        "pg-restart",
		"source":      map[string]any{"name": "pg-restart-src"},
		"destination": map[string]any{"name": "pg-restart-dest", "config": map[string]any{"url": dest.URL}},
	}, &c)

	ld := startLoad(g.ingestURL+"/"+c.Source.ID, 8)
	waitFor(t, 20*time.Second, "acknowledgements before the stop", func() bool { return ld.acked() >= 50 })
	pgctl("stop")
	stopped := time.Now()
	waitFor(t, 20*time.Second, "answers while PostgreSQL is down", func() bool { return ld.answeredAfter(stopped) >= 30 })
	restart := time.Now()
	pgctl("start")
	waitFor(t, 30*time.Second, "PostgreSQL to accept connections", pgReady)
	ready := time.Now()
	waitFor(t, 20*time.Second, "ingest to recover by itself", func() bool { return ld.ackedAfter(ready) >= 20 })
	results := ld.stop()

	var down, unavailable int
	recovered := time.Duration(-1)
	for _, r := range results {
		if r.sent.After(stopped) && r.done.Before(restart) {
			down++
			if r.status/100 == 2 {
				t.Errorf("request sent %v after PostgreSQL stopped was acknowledged (%d)", r.sent.Sub(stopped), r.status)
			}
			switch {
			case r.err != nil:
				t.Errorf("request sent while PostgreSQL was down got no answer: %v", r.err)
			case r.status == http.StatusServiceUnavailable:
				unavailable++
			default:
				t.Errorf("request sent while PostgreSQL was down answered %d, want 503", r.status)
			}
		}
		if r.sent.After(ready) && r.status/100 == 2 && (recovered < 0 || r.done.Sub(ready) < recovered) {
			recovered = r.done.Sub(ready)
		}
	}
	t.Logf("%d requests while down (%d answered 503); first acknowledgement %v after PostgreSQL was ready", down, unavailable, recovered)
	if unavailable == 0 {
		t.Fatal("no 503 while PostgreSQL was down")
	}
	if recovered < 0 || recovered > 10*time.Second {
		t.Fatalf("ingest recovered %v after PostgreSQL was ready, want within 10s", recovered)
	}
	acked := map[string]bool{}
	for _, r := range results {
		if r.id != "" {
			acked[r.id] = true
		}
	}
	checkAllKept(t, g, dest, acked)
}

// loadResult is one webhook sent by a background load.
type loadResult struct {
	sent, done time.Time
	status     int
	id         string
	err        error
	answer     string // the response body
	retryAfter string // its Retry-After header
}

// backgroundLoad sends webhooks from several clients until stopped.
type backgroundLoad struct {
	mu       sync.Mutex
	results  []loadResult
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// startLoad sends small JSON webhooks to url from clients clients.
func startLoad(url string, clients int) *backgroundLoad {
	return startPaddedLoad(url, clients, 0, 0)
}

// startPaddedLoad sends JSON webhooks padded with minPad to maxPad bytes
// (random each time) to url from clients clients. A client that gets no
// answer or a refusal waits a moment before its next webhook.
func startPaddedLoad(url string, clients, minPad, maxPad int) *backgroundLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &backgroundLoad{cancel: cancel}
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				pad := strings.Repeat("x", minPad+rand.IntN(maxPad-minPad+1))
				body := fmt.Sprintf(`{"worker":%d,"n":%d,"pad":%q}`, w, i, pad)
				req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				r := loadResult{sent: time.Now()}
				resp, err := client.Do(req)
				if ctx.Err() != nil {
					if err == nil {
						resp.Body.Close()
					}
					return
				}
				r.done, r.err = time.Now(), err
				if err == nil {
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					r.status, r.answer, r.retryAfter = resp.StatusCode, string(raw), resp.Header.Get("Retry-After")
					var ack struct {
						RequestID string `json:"request_id"`
					}
					if r.status/100 == 2 && json.Unmarshal(raw, &ack) == nil {
						r.id = ack.RequestID
					}
				}
				if err != nil || r.status/100 != 2 {
					time.Sleep(10 * time.Millisecond) // refused: do not spin
				}
				l.mu.Lock()
				l.results = append(l.results, r)
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *backgroundLoad) count(ok func(loadResult) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.results {
		if ok(r) {
			n++
		}
	}
	return n
}

func (l *backgroundLoad) acked() int {
	return l.count(func(r loadResult) bool { return r.id != "" })
}

func (l *backgroundLoad) ackedAfter(t time.Time) int {
	return l.count(func(r loadResult) bool { return r.id != "" && r.sent.After(t) })
}

func (l *backgroundLoad) answeredAfter(t time.Time) int {
	return l.count(func(r loadResult) bool { return r.sent.After(t) })
}

// unavailableAfter counts the 503 answers to webhooks sent after t.
func (l *backgroundLoad) unavailableAfter(t time.Time) int {
	return l.count(func(r loadResult) bool { return r.status == http.StatusServiceUnavailable && r.sent.After(t) })
}

// statusesAfter counts the answers to webhooks sent after t by status (0:
// no answer).
func (l *backgroundLoad) statusesAfter(t time.Time) map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int]int{}
	for _, r := range l.results {
		if r.sent.After(t) {
			out[r.status]++
		}
	}
	return out
}

// stop ends the load (once) and returns every result.
func (l *backgroundLoad) stop() []loadResult {
	l.stopOnce.Do(func() {
		l.cancel()
		l.wg.Wait()
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]loadResult(nil), l.results...)
}

// A data directory the server cannot write: start fails at once with an
// error naming the problem, and the database in it is left intact (it
// opens and passes an integrity check once writable again).
func TestReadOnlyDataDir(t *testing.T) {
	// Root ignores permission bits, so as root the server runs as nobody.
	asNobody := os.Geteuid() == 0
	root, err := os.MkdirTemp("", "sluice-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(root, "data"), 0o700); _ = os.RemoveAll(root) })
	must(t, os.Chmod(root, 0o755))
	bin := filepath.Join(root, "sluice")
	copyFile(t, binary, bin, 0o755)
	dataDir := filepath.Join(root, "data")

	// A working data dir with one stored request, closed cleanly.
	b := backend{name: "sqlite", dataDir: dataDir}
	g := start(t, b)
	var c connection
	g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
		"name": "ro", "source": map[string]any{"name": "ro-src"},
		"destination": map[string]any{"name": "ro-dest", "config": map[string]any{"url": "http://127.0.0.1:9"}},
	}, &c)
	_, ack := send(t, g.ingestURL+"/"+c.Source.ID, nil, `{"kept":true}`)
	reqID, _ := ack["request_id"].(string)
	if reqID == "" {
		t.Fatalf("no request id in %v", ack)
	}
	g.stop()
	dbPath := filepath.Join(dataDir, "sluice.db")
	before := fileDigests(t, dataDir)

	// Read-only: every file and the directory itself.
	for name := range before {
		must(t, os.Chmod(filepath.Join(dataDir, name), 0o444))
	}
	must(t, os.Chmod(dataDir, 0o555))
	cmd := exec.Command(bin, "serve", "--ingest-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0",
		"--api-key", apiKey, "--data-dir", dataDir)
	if asNobody {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	runErr := make(chan error, 1)
	must(t, cmd.Start())
	go func() { runErr <- cmd.Wait() }()
	select {
	case err := <-runErr:
		if err == nil {
			t.Fatalf("sluice started on a read-only data dir:\n%s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("sluice kept running on a read-only data dir:\n%s", stderr.String())
	}
	msg := stderr.String()
	t.Logf("start on a read-only data dir: %s", strings.TrimSpace(msg))
	if !strings.Contains(msg, dbPath) && !strings.Contains(msg, dataDir) {
		t.Errorf("the error does not name the data dir or database %s:\n%s", dbPath, msg)
	}
	lower := strings.ToLower(msg)
	if !strings.Contains(lower, "read-only") && !strings.Contains(lower, "readonly") && !strings.Contains(lower, "permission denied") {
		t.Errorf("the error does not say the data dir is not writable:\n%s", msg)
	}
	if strings.Count(msg, "\n") > 3 {
		t.Errorf("a start failure should be a short message, got:\n%s", msg)
	}
	if after := fileDigests(t, dataDir); !equalDigests(before, after) {
		t.Errorf("the failed start changed the data dir: before %v, after %v", before, after)
	}

	// Writable again: the database is intact and the request is there.
	must(t, os.Chmod(dataDir, 0o700))
	for name := range before {
		must(t, os.Chmod(filepath.Join(dataDir, name), 0o600))
	}
	integrityCheck(t, dbPath)
	g = start(t, b)
	var r request
	if code := g.api("GET", "/2025-07-01/requests/"+reqID, nil, &r); code != 200 || r.ID != reqID {
		t.Fatalf("request %s is missing after the failed start (status %d)", reqID, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	must(t, err)
	must(t, os.WriteFile(to, b, mode))
	must(t, os.Chmod(to, mode))
}

// fileDigests maps each file of dir to its SHA-256.
func fileDigests(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	out := map[string][32]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		must(t, err)
		out[e.Name()] = sha256.Sum256(b)
	}
	return out
}

func equalDigests(a, b map[string][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// integrityCheck runs SQLite's PRAGMA integrity_check on the file.
func integrityCheck(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	must(t, err)
	defer db.Close()
	var res string
	must(t, db.QueryRow("PRAGMA integrity_check").Scan(&res))
	if res != "ok" {
		t.Fatalf("integrity_check of %s: %s", path, res)
	}
}
