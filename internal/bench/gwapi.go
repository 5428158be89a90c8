package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// benchConnection is the part of a connection answer the bench uses.
type benchConnection struct {
	ID     string `json:"id"`
	Source struct {
		ID string `json:"id"`
	} `json:"source"`
}

// api calls the gateway's REST API and decodes a 200 answer into out.
func (g *gateway) api(ctx context.Context, method, path string, in, out any) error {
	var rd io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.srv.APIURL()+"/2025-07-01"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+g.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("bench: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: %s %s = %d: %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("bench: %s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// connect creates a source, a destination at url and their connection.
func (g *gateway) connect(ctx context.Context, name, destURL string) (benchConnection, error) {
	var c benchConnection
	err := g.api(ctx, http.MethodPost, "/connections", map[string]any{
		"name":        name,
		"source":      map[string]any{"name": name + "-src"},
		"destination": map[string]any{"name": name + "-dest", "config": map[string]any{"url": destURL}},
	}, &c)
	return c, err
}

func (g *gateway) ingestURL(c benchConnection) string {
	return g.srv.IngestURL() + "/" + c.Source.ID
}

// metric reads one sample from /metrics (0 when absent).
func (g *gateway) metric(ctx context.Context, series string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.srv.APIURL()+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("bench: scrape /metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, sc.Err()
}

// commitCounters are the totals of the group-commit and log-sync
// histograms.
type commitCounters struct{ count, sum, syncs, syncSeconds float64 }

// commits reads the group-commit and sync totals (zeros if /metrics fails).
func (g *gateway) commits(ctx context.Context) commitCounters {
	var c commitCounters
	c.count, _ = g.metric(ctx, "sluice_store_commit_batch_size_count")
	c.sum, _ = g.metric(ctx, "sluice_store_commit_batch_size_sum")
	c.syncs, _ = g.metric(ctx, "sluice_store_sync_duration_seconds_count")
	c.syncSeconds, _ = g.metric(ctx, "sluice_store_sync_duration_seconds_sum")
	return c
}

// since summarises the group commits and syncs made since before, over d.
func (c commitCounters) since(before commitCounters, d time.Duration) Commits {
	n, sum := c.count-before.count, c.sum-before.sum
	syncs, syncSeconds := c.syncs-before.syncs, c.syncSeconds-before.syncSeconds
	out := Commits{Count: int64(n), Syncs: int64(syncs)}
	if d > 0 {
		out.PerSec = n / d.Seconds()
		out.SyncsPerSec = syncs / d.Seconds()
	}
	if n > 0 {
		out.AvgWrites = sum / n
	}
	if syncs > 0 {
		out.SyncMeanMs = 1000 * syncSeconds / syncs
	}
	return out
}

// waitMetric polls a series until it reaches want or the timeout passes.
func (g *gateway) waitMetric(ctx context.Context, series string, want float64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		v, err := g.metric(ctx, series)
		if err == nil && v >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: %s stayed at %v below %v for %v (%v)", series, v, want, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freshPostgres creates a database with a unique name on dsn's server and
// returns its DSN and a function that drops it.
func freshPostgres(ctx context.Context, dsn string) (string, func(), error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("bench: parse the PostgreSQL URL: %w", err)
	}
	name := "sluice_bench_" + randomHex(6)
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer func() { _ = conn.Close(context.Background()) }()
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("bench: create database %s (use --fresh-db=false to bench in the given database): %w", name, err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
