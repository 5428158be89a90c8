package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A CLI session held by one process receives the events of webhooks that
// other processes ingest: the processes without a session for the
// connection leave its events to the one that has it (the session is
// registered in the database), so no sticky load balancing is needed.
func TestClusterCLISessionOnAnyProcess(t *testing.T) {
	gs := startCluster(t, 3)
	app := newDestination(t)
	port := app.URL[strings.LastIndex(app.URL, ":")+1:]
	holder := gs[1]
	startListen(t, holder, port, "cli-src")

	// The holder registers the session as it connects.
	dsn := holder.cmd.Args[len(holder.cmd.Args)-1]
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	waitFor(t, 10*time.Second, "the session registered", func() bool {
		var n int
		return conn.QueryRow(ctx, `SELECT count(*) FROM cli_listeners`).Scan(&n) == nil && n > 0
	})

	var sources list[source]
	holder.mustAPI("GET", "/2025-07-01/sources?name=cli-src", nil, &sources)
	if len(sources.Models) != 1 {
		t.Fatalf("listen did not create its source: %+v", sources.Models)
	}
	const n = 30
	for i := range n {
		// Webhooks land on the processes that hold no session.
		g := gs[[]int{0, 2}[i%2]]
		if status, _ := send(t, g.ingestURL+"/"+sources.Models[0].ID, nil, fmt.Sprintf(`{"seq":%d}`, i)); status != 200 {
			t.Fatalf("ingest answered %d", status)
		}
	}
	waitFor(t, 30*time.Second, "every webhook forwarded to the app", func() bool { return app.count() >= n })
	var events list[event]
	waitFor(t, 10*time.Second, "every event SUCCESSFUL", func() bool {
		gs[0].mustAPI("GET", "/2025-07-01/events?status=SUCCESSFUL&limit=100", nil, &events)
		return len(events.Models) == n
	})
	var failed list[event]
	gs[2].mustAPI("GET", "/2025-07-01/events?status=FAILED", nil, &failed)
	if len(failed.Models) > 0 {
		t.Fatalf("%d events failed (a process without the session attempted them)", len(failed.Models))
	}
}
