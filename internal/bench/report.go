package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a run; its JSON form is `sluice bench --json`.
type Report struct {
	Store       string  `json:"store"`
	Machine     Machine `json:"machine"`
	Concurrency int     `json:"concurrency"`
	BodyBytes   int     `json:"body_bytes"`
	// Seconds is the length of each measured phase.
	Seconds  float64 `json:"seconds"`
	Baseline Phase   `json:"baseline"`
	// IngestOnly is durable ingest with nothing to route (a source
	// without connections): the store's write path alone.
	IngestOnly        Phase   `json:"ingest_only"`
	IngestOnlyRatio   Ratios  `json:"ingest_only_ratio"`
	IngestOnlyCommits Commits `json:"ingest_only_commits"`
	// Ingest is durable ingest while routing and delivery run too.
	Ingest Phase `json:"ingest"`
	// Ratios of the ingest figures to the baseline's.
	IngestRatio Ratios   `json:"ingest_ratio"`
	EndToEnd    EndToEnd `json:"end_to_end"`
	// PeakRSSBytes is the process's peak RSS during the sluice phase
	// (gateway, generator and destination together).
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// Commits are the store's group commits during the sluice phase: on
	// SQLite every write (ingest, routing, delivery) goes through them, on
	// PostgreSQL only ingest does.
	Commits Commits  `json:"ingest_commits"`
	Backlog *Backlog `json:"backlog,omitempty"`
}

// Commits describes the group commits of a phase: each is one
// transaction and one fsync.
type Commits struct {
	Count  int64   `json:"count"`
	PerSec float64 `json:"per_sec"`
	// AvgWrites is the mean number of writes per commit.
	AvgWrites float64 `json:"avg_writes"`
	// Syncs are SQLite's fsyncs of its log, each for one or more commits
	// (none on PostgreSQL, which syncs its own log), and their mean time.
	Syncs       int64   `json:"syncs"`
	SyncsPerSec float64 `json:"syncs_per_sec"`
	SyncMeanMs  float64 `json:"sync_mean_ms"`
}

// Phase is one load-generator run.
type Phase struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	PerSec   float64 `json:"req_per_sec"`
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
	// CPUMicros is the process's CPU time per acknowledged request, in µs
	// (server, generator and destination together): a cost that other
	// load on the machine disturbs much less than req/s.
	CPUMicros  float64 `json:"cpu_us_per_request"`
	FirstError string  `json:"first_error,omitempty"`
}

// measure runs the generator and describes the run, with the CPU it took.
func measure(ctx context.Context, gen load) Phase {
	cpu := cpuTime()
	r := gen.run(ctx)
	return phaseOf(r, cpuTime()-cpu)
}

func phaseOf(r loadResult, cpu time.Duration) Phase {
	return Phase{Requests: r.OK, Errors: r.Errors, Seconds: r.Elapsed.Seconds(), PerSec: r.PerSec(),
		P50Ms: ms(r.Latency.Quantile(0.50)), P99Ms: ms(r.Latency.Quantile(0.99)), CPUMicros: cpuPer(cpu, r.OK),
		FirstError: r.FirstError}
}

// Ratios compare the ingest phase with the baseline: throughput (higher is
// better) and latencies (lower is better).
type Ratios struct {
	PerSec float64 `json:"req_per_sec"`
	P50    float64 `json:"p50"`
	P99    float64 `json:"p99"`
	// CPU is CPU time per request (higher costs more).
	CPU float64 `json:"cpu_per_request"`
}

// EndToEnd is webhook sent → delivered, for the ingest phase's webhooks.
type EndToEnd struct {
	Acknowledged int64 `json:"acknowledged"`
	Delivered    int64 `json:"delivered"`
	// Complete says every acknowledged event was delivered in time.
	Complete bool `json:"complete"`
	// Seconds runs from the phase's start to the last delivery.
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
	// RatioToBaseline is EventsPerSec over the baseline's req/s.
	RatioToBaseline float64 `json:"ratio_to_baseline"`
	P50Ms           float64 `json:"p50_ms"`
	P99Ms           float64 `json:"p99_ms"`
	// CPUMicros is the process's CPU time from the phase's start to the
	// last delivery, per delivered event, in µs.
	CPUMicros float64 `json:"cpu_us_per_event"`
}

// Backlog is the backlog phase.
type Backlog struct {
	Events          int64   `json:"events"`
	IngestSeconds   float64 `json:"ingest_seconds"`
	IngestPerSec    float64 `json:"ingest_req_per_sec"`
	RoutedSeconds   float64 `json:"routed_seconds"`
	RSSBeforeBytes  int64   `json:"rss_before_bytes"`
	RSSHeldMaxBytes int64   `json:"rss_max_while_ingesting_and_held_bytes"`
	UnpauseSeconds  float64 `json:"unpause_seconds"`
	Delivered       int64   `json:"delivered"`
	Complete        bool    `json:"complete"`
	DrainSeconds    float64 `json:"drain_seconds"`
	DrainPerSec     float64 `json:"drain_events_per_sec"`
	// DrainVsEmpty is DrainPerSec over the empty-queue end-to-end rate.
	DrainVsEmpty     float64 `json:"drain_vs_empty_queue"`
	RSSDrainMaxBytes int64   `json:"rss_max_while_draining_bytes"`
	RSSAfterBytes    int64   `json:"rss_after_bytes"`
}

func (r *Report) ratios() {
	r.IngestRatio = ratiosOf(r.Ingest, r.Baseline)
	r.IngestOnlyRatio = ratiosOf(r.IngestOnly, r.Baseline)
	if r.Baseline.PerSec > 0 {
		r.EndToEnd.RatioToBaseline = r.EndToEnd.EventsPerSec / r.Baseline.PerSec
	}
}

func ratiosOf(p, base Phase) Ratios {
	var out Ratios
	if base.PerSec > 0 {
		out.PerSec = p.PerSec / base.PerSec
	}
	if base.P50Ms > 0 {
		out.P50 = p.P50Ms / base.P50Ms
	}
	if base.P99Ms > 0 {
		out.P99 = p.P99Ms / base.P99Ms
	}
	if base.CPUMicros > 0 {
		out.CPU = p.CPUMicros / base.CPUMicros
	}
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as a human-readable table.
func (r *Report) WriteTable(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "sluice bench: %s\n", r.Store)
	fmt.Fprintf(w, "load: %d keep-alive connections, %d-byte JSON bodies, %.0fs per phase\n", r.Concurrency, r.BodyBytes, r.Seconds)
	fmt.Fprintf(w, "machine: %d CPUs (%s), %s RAM, load average %.2f before / %.2f after, %s\n\n",
		m.CPUs, m.CPUModel, mib(m.MemBytes), m.LoadBefore, m.LoadAfter, m.GoVersion)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\treq/s\tp50\tp99\tCPU/req\terrors\t")
	fmt.Fprintf(tw, "hello-world baseline\t%.0f\t%s\t%s\t%s\t%d\t\n", r.Baseline.PerSec, msStr(r.Baseline.P50Ms), msStr(r.Baseline.P99Ms),
		usStr(r.Baseline.CPUMicros), r.Baseline.Errors)
	row := func(name string, p Phase, q Ratios) {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%d\t\n", name, p.PerSec, msStr(p.P50Ms), msStr(p.P99Ms), usStr(p.CPUMicros), p.Errors)
		fmt.Fprintf(tw, "ratio to baseline\t%.2f×\t%.2f×\t%.2f×\t%.1f×\t\t\n", q.PerSec, q.P50, q.P99, q.CPU)
	}
	row("sluice durable ingest alone", r.IngestOnly, r.IngestOnlyRatio)
	row("sluice ingest with routing+delivery", r.Ingest, r.IngestRatio)
	e := r.EndToEnd
	fmt.Fprintf(tw, "end-to-end (sent → delivered)\t%.0f\t%s\t%s\t%s\t\t\n", e.EventsPerSec, msStr(e.P50Ms), msStr(e.P99Ms), usStr(e.CPUMicros))
	fmt.Fprintf(tw, "end-to-end ratio to baseline\t%.2f×\t\t\t\t\t\n", e.RatioToBaseline)
	if err := tw.Flush(); err != nil {
		return err
	}
	state := "all delivered"
	if !e.Complete {
		state = "NOT all delivered in time"
	}
	fmt.Fprintf(w, "\n%d acknowledged, %d deliveries (%s) in %.1fs from the phase's start\n", e.Acknowledged, e.Delivered, state, e.Seconds)
	fmt.Fprintf(w, "peak RSS during the sluice phase: %s (gateway, generator and destination in one process)\n", mib(r.PeakRSSBytes))
	for _, p := range []struct {
		name string
		c    Commits
	}{{"durable ingest alone", r.IngestOnlyCommits}, {"ingest with routing+delivery", r.Commits}} {
		if p.c.Count > 0 {
			fmt.Fprintf(w, "group commits, %s: %d (%.0f/s), %.1f writes each on average", p.name, p.c.Count, p.c.PerSec, p.c.AvgWrites)
			if p.c.Syncs > 0 {
				fmt.Fprintf(w, "; %d fsyncs of the log (%.0f/s), %.2f ms each", p.c.Syncs, p.c.SyncsPerSec, p.c.SyncMeanMs)
			}
			fmt.Fprintln(w)
		}
	}
	if r.Ingest.FirstError != "" {
		fmt.Fprintf(w, "first ingest error: %s\n", r.Ingest.FirstError)
	}
	if b := r.Backlog; b != nil {
		state := "all delivered"
		if !b.Complete {
			state = fmt.Sprintf("only %d delivered in time", b.Delivered)
		}
		fmt.Fprintf(w, "\nbacklog: %d events ingested with the connection paused (HOLD), then unpaused\n", b.Events)
		fmt.Fprintf(w, "  ingest       %.0f req/s over %.1fs (all routed after %.1fs)\n", b.IngestPerSec, b.IngestSeconds, b.RoutedSeconds)
		fmt.Fprintf(w, "  RSS          %s before, max %s while ingesting and held, max %s while draining, %s after\n",
			mib(b.RSSBeforeBytes), mib(b.RSSHeldMaxBytes), mib(b.RSSDrainMaxBytes), mib(b.RSSAfterBytes))
		fmt.Fprintf(w, "  unpause      %.2fs (releases every held event in one transaction)\n", b.UnpauseSeconds)
		fmt.Fprintf(w, "  drain        %.0f events/s over %.1fs, %s; %.2f× the empty-queue end-to-end rate\n",
			b.DrainPerSec, b.DrainSeconds, state, b.DrainVsEmpty)
	}
	return nil
}

func msStr(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 1000:
		return fmt.Sprintf("%.0fms", v)
	default:
		return fmt.Sprintf("%.2fs", v/1000)
	}
}

func usStr(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0fµs", v)
}

func mib(b int64) string {
	if b <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}
