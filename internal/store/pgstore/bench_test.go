package pgstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store/pgstore"
	"github.com/sluice-gw/sluice/internal/store/pgstore/pgtest"
)

// BenchmarkInsertRequest measures group-committed ingest: 64 goroutines per
// core insert requests with 1 KiB bodies and batches form by themselves.
// It reports the mean rows per commit, for several numbers of writers.
func BenchmarkInsertRequest(b *testing.B) {
	for _, writers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			benchmarkInsertRequest(b, writers)
		})
	}
}

func benchmarkInsertRequest(b *testing.B, writers int) {
	dsn := pgtest.NewDatabase(b)
	var commits, rows atomic.Int64
	s, err := pgstore.Open(b.Context(), dsn, pgstore.Options{CommitWriters: writers, OnCommit: func(n int) {
		commits.Add(1)
		rows.Add(int64(n))
	}})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer func() { _ = s.Close() }()
	team, err := s.EnsureDefaultTeam(b.Context())
	if err != nil {
		b.Fatalf("EnsureDefaultTeam: %v", err)
	}
	srcID := model.NewID(model.PrefixSource)
	body := make([]byte, 1024)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	headers := map[string]string{"content-type": "application/json", "user-agent": "bench"}

	b.SetBytes(int64(len(body)))
	b.SetParallelism(32) // 64 concurrent clients on 2 cores, as in ARCHITECTURE.md
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			now := time.Now()
			r := model.Request{
				ID: model.NewID(model.PrefixRequest), TeamID: team.ID, SourceID: srcID,
				Data: model.Payload{
					ID: model.NewID(model.PrefixPayload), Method: "POST", Path: "/", Headers: headers, Body: body,
				},
				OriginalIP: "127.0.0.1", IngestedAt: now, CreatedAt: now, UpdatedAt: now,
			}
			if err := s.InsertRequest(b.Context(), &r); err != nil {
				b.Errorf("InsertRequest: %v", err)
				return
			}
		}
	})
	b.StopTimer()
	if c := commits.Load(); c > 0 {
		b.ReportMetric(float64(rows.Load())/float64(c), "rows/commit")
	}
}
