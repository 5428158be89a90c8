//go:build linux

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The data dir's disk fills up under load: while it is full ingest answers
// 503 with a JSON message (never a 2xx for a request it could not commit),
// the process stays up and its API answers; once space is freed ingest
// recovers by itself within seconds. Every acknowledged request exists and
// is delivered, the database passes an integrity check after a clean stop,
// and a restart on the same dir finds everything acknowledged.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("disk-full test skipped in -short mode")
	}
	dataDir := mountTmpfs(t, 32)
	b := backend{name: "sqlite", dataDir: dataDir}
	dbPath := filepath.Join(dataDir, "sluice.db")
	filler := filepath.Join(dataDir, "filler")

	dest := newDestination(t)
	g := start(t, b)
	var c connection
	g.mustAPI("POST", "/2025-07-01/connections", map[string]any{
		"name":        "disk-full",
		"source":      map[string]any{"name": "disk-full-src"},
		"destination": map[string]any{"name": "disk-full-dest", "config": map[string]any{"url": dest.URL}},
	}, &c)

	ld := startPaddedLoad(g.ingestURL+"/"+c.Source.ID, 4, 4<<10, 16<<10)
	// On an early failure: end the load, then free the disk before the
	// server is stopped (cleanups run last in, first out).
	t.Cleanup(func() { ld.stop(); _ = os.Remove(filler) })
	waitFor(t, 10*time.Second, "acknowledgements before the disk fills", func() bool { return ld.acked() >= 20 })

	// Leave 256 KiB: room for a few more webhooks, then the disk is full.
	full := time.Now()
	fillDisk(t, dataDir, filler, 256<<10)
	var firstFail time.Time
	if !within(15*time.Second, func() bool { return ld.unavailableAfter(full) >= 1 }) {
		// Go on: whether what was acknowledged exists is checked below.
		t.Errorf("no 503 within 15s of filling the disk; answers since: %v", ld.statusesAfter(full))
		firstFail = time.Now()
	} else {
		firstFail = time.Now()
		// Keep the load on the full disk for a while: every answer now
		// must be a 503 or a truthful 2xx.
		if !within(10*time.Second, func() bool { return ld.unavailableAfter(full) >= 40 && time.Since(firstFail) >= time.Second }) {
			t.Errorf("fewer than 40 answers 503 in 10s on the full disk; answers since the fill: %v", ld.statusesAfter(full))
		}
	}

	// Still up: the process runs, reads and health checks answer.
	select {
	case <-g.exited:
		t.Fatalf("sluice exited while the disk was full")
	default:
	}
	if code := g.api("GET", "/healthz", nil, nil); code != http.StatusOK {
		t.Errorf("GET /healthz on a full disk = %d, want 200", code)
	}
	readyz := g.api("GET", "/readyz", nil, nil)
	var page list[request]
	if code := g.api("GET", "/2025-07-01/requests?limit=5", nil, &page); code != http.StatusOK || len(page.Models) == 0 {
		t.Errorf("GET /requests on a full disk = %d with %d requests, want 200 with some", code, len(page.Models))
	}

	// Free the space: ingest recovers without a restart.
	must(t, os.Remove(filler))
	freed := time.Now()
	waitFor(t, 10*time.Second, "ingest to recover by itself", func() bool { return ld.ackedAfter(freed) >= 20 })
	results := ld.stop()

	var whileFull, unavailable, ackedWhileFull int
	recovered := time.Duration(-1)
	acked := map[string]bool{}
	var sample string
	for _, r := range results {
		if r.id != "" {
			acked[r.id] = true
		}
		switch {
		case r.err != nil:
			t.Errorf("request sent %v from the fill got no answer: %v", r.sent.Sub(full), r.err)
		case r.status/100 == 2 && r.id == "":
			t.Errorf("a %d answer without a request id: %s", r.status, r.answer)
		case r.status/100 == 2:
		case r.status != http.StatusServiceUnavailable:
			t.Errorf("request sent %v from the fill answered %d, want 2xx or 503: %s", r.sent.Sub(full), r.status, r.answer)
		default:
			if msg := checkUnavailable(r); msg != "" {
				t.Errorf("503 answer: %s", msg)
			}
			if sample == "" {
				sample = fmt.Sprintf("%s (Retry-After: %s)", strings.TrimSpace(r.answer), r.retryAfter)
			}
		}
		if r.sent.After(firstFail) && r.done.Before(freed) {
			whileFull++
			if r.status == http.StatusServiceUnavailable {
				unavailable++
			} else if r.id != "" {
				ackedWhileFull++
			}
		}
		if r.sent.After(freed) && r.id != "" && (recovered < 0 || r.done.Sub(freed) < recovered) {
			recovered = r.done.Sub(freed)
		}
	}
	t.Logf("%d requests in all, %d acknowledged; %d sent while the disk was full: %d answered 503, %d acknowledged (they fit); first acknowledgement %v after space was freed; /readyz on the full disk: %d",
		len(results), len(acked), whileFull, unavailable, ackedWhileFull, recovered, readyz)
	t.Logf("ingest's answer on the full disk: %s", sample)
	if unavailable == 0 {
		t.Error("no 503 while the disk was full")
	}
	if recovered < 0 || recovered > 10*time.Second {
		t.Errorf("ingest recovered %v after space was freed, want within 10s", recovered)
	}

	// The log says what happened.
	logs := g.logs.String()
	var commitLines []string
	for line := range strings.Lines(logs) {
		if strings.Contains(line, "ingest: commit request") {
			commitLines = append(commitLines, strings.TrimSpace(line))
		}
	}
	if len(commitLines) == 0 {
		t.Errorf("no \"ingest: commit request\" error in the log while the disk was full")
	} else {
		t.Logf("%d ingest commit failures logged, the first: %s", len(commitLines), commitLines[0])
		if !strings.Contains(strings.ToLower(commitLines[0]), "full") {
			t.Errorf("the ingest error does not say the disk is full: %s", commitLines[0])
		}
	}

	checkAllKept(t, g, dest, acked)
	t.Logf("every acknowledged request delivered %v after space was freed", time.Since(freed).Round(time.Millisecond))

	// A clean stop, an intact database, and a restart that finds it all.
	g.stop()
	if !g.cmd.ProcessState.Success() {
		t.Errorf("sluice did not exit cleanly after the disk was full: %v", g.cmd.ProcessState)
	}
	integrityCheck(t, dbPath)
	g = start(t, b)
	checkAllKept(t, g, dest, acked)
	g.stop()
	integrityCheck(t, dbPath)
}

// within polls cond until it holds (true) or d has passed (false).
func within(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// checkUnavailable returns what is wrong with a 503 answer from ingest, or "".
func checkUnavailable(r loadResult) string {
	var body struct {
		Code    string `json:"code"`
		Status  int    `json:"status"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(r.answer), &body); err != nil {
		return fmt.Sprintf("not JSON (%v): %q", err, r.answer)
	}
	if body.Code == "" || body.Status != http.StatusServiceUnavailable || body.Message == "" {
		return fmt.Sprintf("want a code, status 503 and a message: %s", r.answer)
	}
	if r.retryAfter == "" {
		return "no Retry-After header"
	}
	return ""
}

// mountTmpfs mounts a fresh tmpfs of sizeMiB MiB on a new directory and
// unmounts it (lazily) when the test ends. Without the right to mount
// (not root, no CAP_SYS_ADMIN) it skips the test, or fails it when CI is
// set, as the PostgreSQL tests do without a server.
func mountTmpfs(t *testing.T, sizeMiB int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dm,mode=0700", sizeMiB)); err != nil {
		msg := fmt.Sprintf("cannot mount a tmpfs on %s (needs root or CAP_SYS_ADMIN): %v", dir, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; the disk-full test is required in CI")
		}
		t.Skip(msg + "; skipping the disk-full test")
	}
	// Registered after TempDir's cleanup, so it runs first.
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount the tmpfs on %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk writes a file at path until about leave bytes are free on
// dir's filesystem (or none, if the server took the rest meanwhile).
func fillDisk(t *testing.T, dir, path string, leave int64) {
	t.Helper()
	free := func() int64 {
		var st syscall.Statfs_t
		must(t, syscall.Statfs(dir, &st))
		return int64(st.Bavail) * int64(st.Bsize)
	}
	f, err := os.Create(path)
	must(t, err)
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i) | 1 // not zeros, whatever the filesystem does with those
	}
	// The server writes meanwhile: look again before each chunk.
	for n := free() - leave; n > 0; n = free() - leave {
		_, err := f.Write(buf[:min(n, int64(len(buf)))])
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		must(t, err)
	}
	must(t, f.Close())
	t.Logf("filler written: %d KiB free on the data dir", free()>>10)
}
