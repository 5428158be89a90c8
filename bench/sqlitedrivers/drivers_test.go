// Package sqlitedrivers compares SQLite drivers for Sluice's ingest write
// pattern: many concurrent 1 KiB inserts, group-committed by one writer in
// WAL mode with synchronous=FULL. It is a separate module so that the
// driver Sluice does not use stays out of Sluice's go.mod.
//
//	cd bench/sqlitedrivers && go test -bench . -benchtime 5s
package sqlitedrivers

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/mattn/go-sqlite3" // driver "sqlite3" (cgo)
	_ "modernc.org/sqlite"          // driver "sqlite" (pure Go)
)

type op struct {
	id   string
	body []byte
	done chan error
}

// writer group-commits inserts: it takes every op waiting and commits them
// in one transaction, as Sluice's store does.
func writer(db *sql.DB, ops chan op, batches *[]int, wg *sync.WaitGroup) {
	defer wg.Done()
	for first := range ops {
		batch := []op{first}
	fill:
		for len(batch) < 256 {
			select {
			case o, ok := <-ops:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		*batches = append(*batches, len(batch))
		tx, err := db.Begin()
		if err == nil {
			for _, o := range batch {
				if _, err = tx.Exec(`INSERT INTO requests (id, body) VALUES (?, ?)`, o.id, o.body); err != nil {
					break
				}
			}
			if err == nil {
				err = tx.Commit()
			} else {
				_ = tx.Rollback()
			}
		}
		for _, o := range batch {
			o.done <- err
		}
	}
}

func open(b *testing.B, driver string) *sql.DB {
	dsn := filepath.Join(b.TempDir(), "bench.db")
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, p := range []string{"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
		"CREATE TABLE requests (id TEXT PRIMARY KEY, body BLOB NOT NULL)"} {
		if _, err := db.ExecContext(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

func BenchmarkGroupCommitInsert(b *testing.B) {
	body := []byte(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)
	for _, driver := range []string{"sqlite", "sqlite3"} {
		b.Run(driver, func(b *testing.B) {
			db := open(b, driver)
			defer db.Close()
			ops := make(chan op, 1024)
			var batches []int
			var wg sync.WaitGroup
			wg.Add(1)
			go writer(db, ops, &batches, &wg)
			b.SetParallelism(32) // 32 × GOMAXPROCS clients
			var n sync.Mutex
			seq := 0
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				done := make(chan error, 1)
				for pb.Next() {
					n.Lock()
					seq++
					id := fmt.Sprintf("req_%012d", seq)
					n.Unlock()
					ops <- op{id: id, body: body, done: done}
					if err := <-done; err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			close(ops)
			wg.Wait()
			total := 0
			for _, s := range batches {
				total += s
			}
			if len(batches) > 0 {
				b.ReportMetric(float64(total)/float64(len(batches)), "rows/commit")
			}
		})
	}
}
