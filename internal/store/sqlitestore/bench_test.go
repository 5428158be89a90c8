package sqlitestore

import (
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
)

// BenchmarkInsertRequest measures durable ingest: concurrent InsertRequest
// calls with 1 KiB bodies, group-committed. goroutines is the number of
// concurrent callers (a multiple of GOMAXPROCS); rows/commit is the mean
// batch the committer formed. maxbatch=1 turns group commit off for
// comparison, and sync=each makes SQLite fsync inside every commit
// instead of pipelining the fsync (Options.SyncEachCommit).
func BenchmarkInsertRequest(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	for _, bc := range []struct {
		parallelism, maxBatch int
		syncEach              bool
	}{{1, 0, false}, {8, 0, false}, {32, 0, false}, {32, 0, true}, {32, 1, false}} {
		sync := "pipelined"
		if bc.syncEach {
			sync = "each"
		}
		b.Run(fmt.Sprintf("goroutines=%d/maxbatch=%d/sync=%s", bc.parallelism*procs, bc.maxBatch, sync), func(b *testing.B) {
			var commits, rows atomic.Int64
			s := openTest(b, Options{MaxBatch: bc.maxBatch, SyncEachCommit: bc.syncEach, Logger: slog.New(slog.DiscardHandler), OnCommit: func(n int) {
				commits.Add(1)
				rows.Add(int64(n))
			}})
			team, err := s.EnsureDefaultTeam(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			body := make([]byte, 1024)
			for i := range body {
				body[i] = byte('a' + i%26)
			}
			headers := map[string]string{"content-type": "application/json", "user-agent": "bench/1.0"}
			commits.Store(0)
			rows.Store(0)
			b.SetBytes(int64(len(body)))
			b.SetParallelism(bc.parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					now := time.Now().UTC()
					r := model.Request{
						ID: model.NewID(model.PrefixRequest), TeamID: team.ID, SourceID: "src_bench",
						Data: model.Payload{
							ID: model.NewID(model.PrefixPayload), Method: "POST", Path: "/", Headers: headers, Body: body,
						},
						OriginalIP: "127.0.0.1", IngestedAt: now, CreatedAt: now, UpdatedAt: now,
					}
					if err := s.InsertRequest(b.Context(), &r); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if c := commits.Load(); c > 0 {
				b.ReportMetric(float64(rows.Load())/float64(c), "rows/commit")
			}
		})
	}
}
