package bench

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/store/pgstore/pgtest"
)

// A short run of every phase on both stores: the figures exist, every
// acknowledged event is delivered, the backlog drains, and both report
// forms render.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("bench run skipped in -short mode")
	}
	for _, tc := range []struct {
		name string
		db   func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return pgtest.NewDatabase(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Run(t.Context(), Options{
				DB:          tc.db(t),
				Concurrency: 4,
				Duration:    300 * time.Millisecond,
				Backlog:     150,
				Logger:      slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Baseline.Requests == 0 || rep.Ingest.Requests == 0 || rep.Ingest.Errors != 0 || rep.IngestOnly.Requests == 0 || rep.IngestOnly.Errors != 0 {
				t.Fatalf("baseline %+v, ingest alone %+v, ingest %+v", rep.Baseline, rep.IngestOnly, rep.Ingest)
			}
			e := rep.EndToEnd
			if !e.Complete || e.Delivered < e.Acknowledged || e.EventsPerSec <= 0 || e.P99Ms < e.P50Ms {
				t.Fatalf("end to end %+v", e)
			}
			if rep.IngestRatio.PerSec <= 0 || rep.PeakRSSBytes <= 0 {
				t.Fatalf("ratios %+v, peak RSS %d", rep.IngestRatio, rep.PeakRSSBytes)
			}
			if rep.Baseline.CPUMicros <= 0 || rep.IngestOnly.CPUMicros <= 0 || e.CPUMicros <= 0 || rep.IngestOnlyRatio.CPU <= 0 {
				t.Fatalf("CPU per request: baseline %v, ingest alone %v, end to end %v", rep.Baseline.CPUMicros, rep.IngestOnly.CPUMicros, e.CPUMicros)
			}
			if rep.IngestOnlyCommits.Count == 0 || rep.Commits.Count == 0 {
				t.Fatalf("commits: ingest alone %+v, routing %+v", rep.IngestOnlyCommits, rep.Commits)
			}
			if syncs := rep.Commits.Syncs > 0 && rep.Commits.SyncMeanMs > 0; syncs != (tc.name == "sqlite") {
				t.Fatalf("fsyncs of the log %+v: want them on SQLite only", rep.Commits)
			}
			b := rep.Backlog
			if b == nil || !b.Complete || b.Delivered < b.Events || b.Events < 150 || b.DrainPerSec <= 0 || b.RSSHeldMaxBytes <= 0 {
				t.Fatalf("backlog %+v", b)
			}

			var table bytes.Buffer
			if err := rep.WriteTable(&table); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"hello-world baseline", "sluice durable ingest alone", "sluice ingest with routing+delivery", "ratio to baseline", "end-to-end", "peak RSS", "CPU/req", "group commits, durable ingest alone", "backlog: "} {
				if !strings.Contains(table.String(), want) {
					t.Errorf("table lacks %q:\n%s", want, table.String())
				}
			}
			var js bytes.Buffer
			if err := rep.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			var back Report
			if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Ingest.Requests != rep.Ingest.Requests {
				t.Fatalf("JSON round trip: %v\n%s", err, js.String())
			}
		})
	}
}

func TestBodySize(t *testing.T) {
	for _, size := range []int{64, 1024, 4096} {
		b := body(size, 7)
		if len(b) != size || !json.Valid(b) {
			t.Errorf("body(%d) has %d bytes, valid JSON %v", size, len(b), json.Valid(b))
		}
	}
}
