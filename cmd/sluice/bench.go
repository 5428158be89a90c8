package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sluice-gw/sluice/internal/bench"
)

func newBenchCommand() *cobra.Command {
	var (
		o        bench.Options
		jsonOut  bool
		logLevel string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure durable ingest and end-to-end delivery on this machine against a hello-world baseline",
		Long: `Run a self-contained benchmark: a hello-world net/http server is measured first
as the baseline, then a Sluice gateway in this process (SQLite in a temporary
directory, or --db postgres://…) with a local destination that answers 200,
both under the same keep-alive load generator. Prints ingest req/s and
p50/p99 latency (also as ratios of the baseline's), end-to-end events/s and
latency (sent → delivered) and peak RSS. --backlog N also ingests N events
while their connection is paused, then unpauses and reports the drain rate
and RSS meanwhile.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			o.Progress = cmd.ErrOrStderr()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := bench.Run(ctx, o)
			if rep != nil {
				if jsonOut {
					if werr := rep.WriteJSON(cmd.OutOrStdout()); werr != nil {
						return werr
					}
				} else if werr := rep.WriteTable(cmd.OutOrStdout()); werr != nil {
					return werr
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.DB, "db", "", "database: empty for SQLite in a temporary directory, or a postgres:// URL")
	f.BoolVar(&o.FreshPostgres, "fresh-db", true, "with a postgres:// URL, run in a new database on that server and drop it afterwards")
	f.IntVar(&o.Concurrency, "concurrency", bench.DefaultConcurrency, "keep-alive client connections of the load generator")
	f.IntVar(&o.BodyBytes, "body-bytes", bench.DefaultBodyBytes, "size of each JSON webhook body")
	f.DurationVar(&o.Duration, "duration", bench.DefaultDuration, "length of each measured phase")
	f.IntVar(&o.Workers, "workers", 0, "the gateway's deliveries in flight (default: sluice serve's)")
	f.Int64Var(&o.Backlog, "backlog", 0, "also ingest this many events with the destination held, then measure the drain")
	f.StringVar(&o.CPUProfile, "cpuprofile", "", "write a pprof CPU profile of the routing+delivery phase to this file, and one of the ingest-alone phase to this file + \".ingest\"")
	f.BoolVar(&jsonOut, "json", false, "print the report as JSON")
	f.StringVar(&logLevel, "log-level", "warn", "the gateway's log level: debug, info, warn or error")
	return cmd
}
