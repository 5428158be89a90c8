package sqlitestore

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
)

// BenchmarkInsertRequest measures durable ingest: concurrent InsertRequest
// calls with 1 KiB bodies, group-committed. goroutines is the number of
// concurrent callers; rows/commit is the mean batch the committer formed.
// maxbatch=1 turns group commit off for comparison.
func BenchmarkInsertRequest(b *testing.B) {
	for _, bc := range []struct {
		goroutines, maxBatch int
	}{{1, 0}, {16, 0}, {64, 0}, {64, 1}} {
		b.Run(fmt.Sprintf("goroutines=%d/maxbatch=%d", bc.goroutines, bc.maxBatch), func(b *testing.B) {
			var commits, rows atomic.Int64
			s := openTest(b, Options{MaxBatch: bc.maxBatch, OnCommit: func(n int) {
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
			b.SetParallelism(max(1, bc.goroutines/max(1, testingProcs())))
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

// testingProcs is GOMAXPROCS, the factor RunParallel multiplies
// SetParallelism by.
func testingProcs() int { return runtime.GOMAXPROCS(0) }
