package e2e

import (
	"bufio"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// listener is a running `sluice listen` process.
type listener struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	ready  chan struct{}
	exited chan struct{}
}

var sourceURLLine = regexp.MustCompile(`https?://\S+/\S+`)

// startListen runs `sluice listen` against g and waits for its header.
func startListen(t *testing.T, g *gateway, args ...string) *listener {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"listen", "--api-url", g.apiURL, "--api-key", apiKey}, args...)...)
	cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	l := &listener{cmd: cmd, ready: make(chan struct{}), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			l.mu.Lock()
			l.lines = append(l.lines, sc.Text())
			l.mu.Unlock()
			if strings.Contains(sc.Text(), "Ready") || strings.Contains(strings.ToLower(sc.Text()), "connected") {
				once.Do(func() { close(l.ready) })
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(l.exited) }()
	t.Cleanup(func() { l.kill(); t.Logf("sluice listen output:\n%s", l.output()) })
	select {
	case <-l.ready:
	case <-l.exited:
		t.Fatalf("sluice listen exited:\n%s", l.output())
	case <-time.After(20 * time.Second):
		t.Fatalf("sluice listen did not get ready:\n%s", l.output())
	}
	return l
}

func (l *listener) output() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (l *listener) kill() {
	select {
	case <-l.exited:
	default:
		_ = l.cmd.Process.Kill()
		<-l.exited
	}
}

// `sluice listen` receives webhooks sent to the source URL and forwards them
// to a local app; the app's answer is recorded on the attempt; a body filter
// drops what does not match; killing and restarting listen resumes delivery
// of the events queued meanwhile.
func TestSluiceListen(t *testing.T) {
	g := start(t, backend{name: "sqlite", dataDir: t.TempDir()})
	app := newDestination(t)
	port := app.URL[strings.LastIndex(app.URL, ":")+1:]

	l := startListen(t, g, port, "shop,billing", "--filter-body", `{"type":{"$startsWith":"order."}}`)
	if !sourceURLLine.MatchString(l.output()) {
		t.Fatalf("listen printed no source URL:\n%s", l.output())
	}
	var sources list[source]
	g.mustAPI("GET", "/2025-07-01/sources", nil, &sources)
	urls := map[string]string{}
	for _, s := range sources.Models {
		urls[s.Name] = g.ingestURL + "/" + s.ID
	}
	if urls["shop"] == "" || urls["billing"] == "" {
		t.Fatalf("listen did not create both sources: %+v", sources.Models)
	}

	send(t, urls["shop"]+"/hooks", nil, `{"type":"order.created"}`)
	send(t, urls["billing"], nil, `{"type":"order.paid"}`)
	send(t, urls["shop"], nil, `{"type":"customer.created"}`) // filtered out
	waitFor(t, 15*time.Second, "two forwarded webhooks", func() bool { return app.count() >= 2 })
	time.Sleep(300 * time.Millisecond)
	got := app.received()
	if len(got) != 2 {
		t.Fatalf("the app received %d webhooks, want 2 (the filter drops customer.created)", len(got))
	}
	paths := map[string]bool{got[0].Path: true, got[1].Path: true}
	if !paths["/hooks"] {
		t.Fatalf("forwarded paths %v, want /hooks among them", paths)
	}
	var events list[event]
	waitFor(t, 10*time.Second, "successful CLI attempts", func() bool {
		g.mustAPI("GET", "/2025-07-01/events?status=SUCCESSFUL", nil, &events)
		return len(events.Models) == 2
	})

	// Kill listen; a webhook sent meanwhile is delivered once it is back.
	l.kill()
	send(t, urls["shop"], nil, `{"type":"order.updated"}`)
	startListen(t, g, port, "shop,billing", "--filter-body", `{"type":{"$startsWith":"order."}}`)
	waitFor(t, 30*time.Second, "the queued webhook after restart", func() bool { return app.count() >= 3 })
	if body := app.received()[2].Body; body != `{"type":"order.updated"}` {
		t.Fatalf("after restart the app got %s", body)
	}
}
