// Package bench is `sluice bench`: a self-contained benchmark that runs a
// Sluice gateway in process (SQLite in a temporary directory, or
// PostgreSQL), a local destination answering 200 and a keep-alive load
// generator, and measures in the same run a hello-world net/http server
// with the same generator as the baseline the figures are compared with.
//
// It reports durable ingest throughput and latency (also as ratios of the
// baseline's), end-to-end throughput and latency (webhook sent → delivered
// to the destination, measured from a timestamp header the gateway
// forwards), and the process's peak RSS. With a backlog it also ingests N
// events while their connection is paused, samples RSS meanwhile, unpauses
// and reports the drain rate against the empty-queue end-to-end rate.
//
// Everything runs in one process on the same cores: the generator and the
// destination compete with the gateway for CPU, as they do for the
// baseline.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/sluice-gw/sluice/internal/server"
)

// Defaults for Options.
const (
	DefaultConcurrency = 64
	DefaultBodyBytes   = 1024
	DefaultDuration    = 10 * time.Second
	// warmup runs before each measured phase, unmeasured.
	warmup = time.Second
)

// Options configures a run. Zero fields take the defaults.
type Options struct {
	// DB is "" for SQLite in a temporary directory, or a postgres:// URL.
	DB string
	// FreshPostgres creates a new database on DB's server for the run and
	// drops it afterwards (instead of using DB's database).
	FreshPostgres bool
	// Concurrency is the number of keep-alive clients (default 64).
	Concurrency int
	// BodyBytes is the size of each JSON body (default 1024).
	BodyBytes int
	// Duration is the length of each measured phase (default 10 s).
	Duration time.Duration
	// Workers is the gateway's deliveries in flight (its default when 0).
	Workers int
	// Backlog, if > 0, adds the backlog phase with this many events.
	Backlog int64
	// CPUProfile, if set, receives a pprof CPU profile of the phase with
	// routing and delivery (the whole process: gateway, generator and
	// destination); CPUProfile+".ingest" receives one of the durable
	// ingest phase.
	CPUProfile string
	// Progress receives progress lines (nothing when nil).
	Progress io.Writer
	// Logger receives the gateway's logs (warnings and errors by default).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.BodyBytes <= 0 {
		o.BodyBytes = DefaultBodyBytes
	}
	if o.Duration <= 0 {
		o.Duration = DefaultDuration
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return o
}

// Run runs the benchmark and returns its report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	rep := &Report{
		Machine:     describeMachine(),
		Concurrency: opts.Concurrency,
		BodyBytes:   opts.BodyBytes,
		Seconds:     opts.Duration.Seconds(),
	}
	progress := func(format string, args ...any) { fmt.Fprintf(opts.Progress, "bench: "+format+"\n", args...) }

	// 1. The baseline.
	hello, err := listen(helloWorld())
	if err != nil {
		return nil, fmt.Errorf("bench: baseline server: %w", err)
	}
	progress("hello-world baseline, %v", opts.Duration)
	gen := load{URL: hello.URL, Concurrency: opts.Concurrency, BodyBytes: opts.BodyBytes}
	gen.Duration = min(warmup, opts.Duration)
	gen.run(ctx)
	gen.Duration = opts.Duration
	rep.Baseline = measure(ctx, gen)
	hello.Close()
	if rep.Baseline.Requests == 0 {
		return nil, fmt.Errorf("bench: the baseline acknowledged nothing: %s", rep.Baseline.FirstError)
	}

	// 2. The gateway.
	gw, err := startGateway(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer gw.close()
	rep.Store = gw.srv.StoreDescription()
	dest := &destination{}
	destSrv, err := listen(dest)
	if err != nil {
		return nil, fmt.Errorf("bench: destination: %w", err)
	}
	defer destSrv.Close()
	conn, err := gw.connect(ctx, "bench", destSrv.URL)
	if err != nil {
		return nil, err
	}

	// Durable ingest alone: a source without connections stores and
	// acknowledges every request (NO_CONNECTION) and routes nothing, so
	// the writer does ingest only.
	var src struct {
		ID string `json:"id"`
	}
	if err := gw.api(ctx, "POST", "/sources", map[string]any{"name": "bench-ingest-only"}, &src); err != nil {
		return nil, err
	}
	progress("sluice durable ingest alone (%s), %v", rep.Store, opts.Duration)
	gen = load{URL: gw.srv.IngestURL() + "/" + src.ID, Concurrency: opts.Concurrency, BodyBytes: opts.BodyBytes, Duration: min(warmup, opts.Duration)}
	gen.run(ctx)
	gen.Duration = opts.Duration
	stopProfile, err := startProfile(opts.CPUProfile, ".ingest")
	if err != nil {
		return nil, err
	}
	ingestCommits, ingestStart := gw.commits(ctx), time.Now()
	rep.IngestOnly = measure(ctx, gen)
	rep.IngestOnlyCommits = gw.commits(ctx).since(ingestCommits, time.Since(ingestStart))
	stopProfile()

	progress("sluice ingest, routing and delivery (%s), %v", rep.Store, opts.Duration)
	gen = load{URL: gw.ingestURL(conn), Concurrency: opts.Concurrency, BodyBytes: opts.BodyBytes, Duration: min(warmup, opts.Duration)}
	warm := gen.run(ctx)
	if !dest.waitReceived(ctx, warm.OK, time.Minute) {
		return nil, fmt.Errorf("bench: the warm-up's %d events were not delivered within a minute", warm.OK)
	}
	dest.reset()
	resetPeakRSS()
	stopProfile, err = startProfile(opts.CPUProfile, "")
	if err != nil {
		return nil, err
	}
	gen.Duration = opts.Duration
	commitsBefore := gw.commits(ctx)
	start, cpuStart := time.Now(), cpuTime()
	res := gen.run(ctx)
	rep.Ingest = phaseOf(res, cpuTime()-cpuStart)
	drainWait := max(time.Minute, 6*opts.Duration)
	complete := dest.waitReceived(ctx, res.OK, drainWait)
	cpuDrained := cpuTime() - cpuStart
	stopProfile()
	rep.Commits = gw.commits(ctx).since(commitsBefore, time.Since(start))
	_, rep.PeakRSSBytes = rss()
	rep.EndToEnd = endToEnd(dest, start, res.OK, complete)
	rep.EndToEnd.CPUMicros = cpuPer(cpuDrained, rep.EndToEnd.Delivered)
	rep.ratios()
	if !complete {
		progress("only %d of %d acknowledged events were delivered within %v", dest.received.Load(), res.OK, drainWait)
	}

	// 3. The backlog.
	if opts.Backlog > 0 {
		if rep.Backlog, err = runBacklog(ctx, opts, gw, rep.EndToEnd.EventsPerSec, progress); err != nil {
			return rep, err
		}
	}
	rep.Machine.LoadAfter = loadAvg()
	return rep, nil
}

// endToEnd summarises the deliveries of a phase that started at start.
func endToEnd(d *destination, start time.Time, acked int64, complete bool) EndToEnd {
	e := EndToEnd{Acknowledged: acked, Delivered: d.received.Load(), Complete: complete,
		P50Ms: ms(d.latency.Quantile(0.50)), P99Ms: ms(d.latency.Quantile(0.99))}
	if last := d.lastAt.Load(); last > 0 {
		e.Seconds = time.Unix(0, last).Sub(start).Seconds()
		if e.Seconds > 0 {
			e.EventsPerSec = float64(e.Delivered) / e.Seconds
		}
	}
	return e
}

// startProfile starts a CPU profile written to path+suffix; nothing when
// path is empty.
func startProfile(path, suffix string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path + suffix)
	if err != nil {
		return nil, fmt.Errorf("bench: CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("bench: CPU profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// gateway is the in-process sluice server.
type gateway struct {
	srv     *server.Server
	apiKey  string
	cancel  context.CancelFunc
	done    chan error
	cleanup []func()
}

func startGateway(ctx context.Context, opts Options) (*gateway, error) {
	g := &gateway{apiKey: "sk_bench_" + randomHex(12), done: make(chan error, 1)}
	dataDir, err := os.MkdirTemp("", "sluice-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: data dir: %w", err)
	}
	g.cleanup = append(g.cleanup, func() { _ = os.RemoveAll(dataDir) })
	db := opts.DB
	if isPostgres(db) && opts.FreshPostgres {
		fresh, drop, err := freshPostgres(ctx, db)
		if err != nil {
			g.close()
			return nil, err
		}
		db = fresh
		g.cleanup = append(g.cleanup, drop)
	}
	g.srv, err = server.New(ctx, server.Config{
		DataDir:         dataDir,
		DB:              db,
		IngestAddr:      "127.0.0.1:0",
		APIAddr:         "127.0.0.1:0",
		APIKey:          g.apiKey,
		Workers:         opts.Workers,
		MetricsInterval: time.Second,
		Logger:          opts.Logger,
	})
	if err != nil {
		g.close()
		return nil, fmt.Errorf("bench: start the gateway: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g.cancel = cancel
	go func() { g.done <- g.srv.Run(runCtx) }()
	return g, nil
}

// close stops the gateway gracefully and removes what the run created.
func (g *gateway) close() {
	if g.cancel != nil {
		g.cancel()
		select {
		case <-g.done:
		case <-time.After(time.Minute):
		}
		g.cancel = nil
	}
	for i := len(g.cleanup) - 1; i >= 0; i-- {
		g.cleanup[i]()
	}
	g.cleanup = nil
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
