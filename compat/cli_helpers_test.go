package compat

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cliVersion is a Hookdeck CLI release and the API version it speaks.
type cliVersion struct {
	version string
	api     string // the /YYYY-MM-DD/ prefix it calls
}

// cliVersions are the CLI releases the tests run.
var cliVersions = []cliVersion{
	{version: "2.5.0", api: "2025-07-01"},
	{version: "2.6.0", api: "2026-09-01"},
}

// cliCache is where install-hookdeck-cli.sh puts the binaries.
func cliCache() string {
	if d := os.Getenv("SLUICE_COMPAT_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "sluice-compat")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "sluice-compat")
}

// cliBinary returns the installed CLI of that version, skipping the test
// (failing it in CI) when it is not installed.
func cliBinary(t *testing.T, version string) string {
	t.Helper()
	bin := filepath.Join(cliCache(), "hookdeck-cli-"+version, "hookdeck")
	if _, err := os.Stat(bin); err != nil {
		missing(t, "Hookdeck CLI %s is not installed at %s: run compat/install-hookdeck-cli.sh (needs npm)", version, bin)
	}
	return bin
}

// cli runs one Hookdeck CLI binary with its own HOME and config, pointed
// at an API base (the recording proxy) and a WebSocket base.
type cli struct {
	t       *testing.T
	bin     string
	home    string
	apiBase string
	wsBase  string
}

// newCLI prepares a CLI with a fresh HOME.
func newCLI(t *testing.T, bin, apiBase, wsBase string) *cli {
	return &cli{t: t, bin: bin, home: t.TempDir(), apiBase: apiBase, wsBase: wsBase}
}

// env is the CLI's environment: telemetry off, HOME and config inside the
// test's temp dir, no inherited Hookdeck settings.
func (c *cli) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "HOOKDECK_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOOKDECK_CLI_TELEMETRY_DISABLED=1", "HOME="+c.home,
		"XDG_CONFIG_HOME="+filepath.Join(c.home, ".config"))
}

// command builds a CLI command with the global base flags.
func (c *cli) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{"--api-base", c.apiBase, "--ws-base", c.wsBase}, args...)
	cmd := exec.CommandContext(ctx, c.bin, full...)
	cmd.Env = c.env()
	cmd.Dir = c.home
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs a CLI command to its end and returns stdout and stderr.
func (c *cli) run(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := c.command(ctx, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	c.offline(args, out.String()+errb.String())
	return out.String(), errb.String(), err
}

// offline fails the test when the CLI's output shows it reached for the
// internet (tests talk to loopback only): some flags make it fetch
// Hookdeck's OpenAPI document from api.hookdeck.com.
func (c *cli) offline(args []string, output string) {
	c.t.Helper()
	if strings.Contains(output, "api.hookdeck.com") || strings.Contains(output, "failed to download") {
		c.t.Errorf("hookdeck %s tried to reach the internet; change the test to avoid it:\n%s", strings.Join(args, " "), output)
	}
}

// must runs a CLI command and fails the test unless it succeeds.
func (c *cli) must(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("hookdeck %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// mustJSON runs a CLI command with --output json and decodes its output.
func (c *cli) mustJSON(out any, args ...string) {
	c.t.Helper()
	raw := c.must(append(args, "--output", "json")...)
	if err := json.Unmarshal([]byte(raw), out); err != nil {
		c.t.Fatalf("hookdeck %s: output is not JSON (%v):\n%s", strings.Join(args, " "), err, raw)
	}
}

// cliConnection is the part of a connection the CLI tests read from the
// CLI's JSON output.
type cliConnection struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	PausedAt *string `json:"paused_at"`
	Source   struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		URL    string `json:"url"`
		Type   string `json:"type"`
		Config struct {
			AuthType string            `json:"auth_type"`
			Auth     map[string]string `json:"auth"`
		} `json:"config"`
	} `json:"source"`
	Destination struct {
		ID     string         `json:"id"`
		Name   string         `json:"name"`
		Type   string         `json:"type"`
		Config map[string]any `json:"config"`
	} `json:"destination"`
}

// apiEvent is the part of an event the tests read from the API.
type apiEvent struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	Attempts       int    `json:"attempts"`
	ResponseStatus *int   `json:"response_status"`
	ErrorCode      string `json:"error_code"`
	WebhookID      string `json:"webhook_id"`
}

// apiAttempt is the part of an attempt the tests read from the API.
type apiAttempt struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	ResponseStatus *int   `json:"response_status"`
	ErrorCode      string `json:"error_code"`
	Body           any    `json:"body"`
	Trigger        string `json:"trigger"`
}

// list is the shape of every list answer.
type list[T any] struct {
	Count  int `json:"count"`
	Models []T `json:"models"`
}

// cliProc is a long-running CLI command (listen).
type cliProc struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs a CLI command in the background; it is interrupted (SIGINT,
// then killed) when the test ends or stop is called.
func (c *cli) start(args ...string) *cliProc {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := c.command(ctx, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	p := &cliProc{cmd: cmd, out: &syncBuffer{}, cancel: cancel, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		cancel()
		c.t.Fatalf("hookdeck %s: %v", strings.Join(args, " "), err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t := c.t
	t.Cleanup(func() {
		p.stop()
		c.offline(args, p.out.String())
		if t.Failed() {
			t.Logf("hookdeck %s output:\n%s", strings.Join(args, " "), p.out.String())
		}
	})
	return p
}

// stop interrupts the command and waits for it to end.
func (p *cliProc) stop() {
	p.cancel()
	<-p.done
}

// exited reports whether the command has ended.
func (p *cliProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill ends the command with SIGKILL, as a crash would, and waits.
func (p *cliProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}
