package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sluice-gw/sluice/internal/ingest"
	"github.com/sluice-gw/sluice/internal/metrics"
	"github.com/sluice-gw/sluice/internal/server"
)

type serveOptions struct {
	cfg      server.Config
	logLevel string
	logJSON  bool
}

func newServeCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway: ingest listener, router, dispatcher and API",
		Long: `Run the gateway. Every flag can also be set with an environment variable
SLUICE_<FLAG>, e.g. SLUICE_API_KEY or SLUICE_INGEST_ADDR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			return runServe(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.cfg.DataDir, "data-dir", server.DefaultDataDir, "directory for the SQLite database and the generated API key")
	f.StringVar(&o.cfg.DB, "db", "", "database: empty for SQLite in the data dir, a file path, or a postgres:// URL")
	f.StringVar(&o.cfg.IngestAddr, "ingest-addr", server.DefaultIngestAddr, "public listener that receives webhooks")
	f.StringVar(&o.cfg.APIAddr, "api-addr", server.DefaultAPIAddr, "listener of the REST API")
	f.StringVar(&o.cfg.PublicURL, "public-url", "", "base URL of source URLs (default: derived from --ingest-addr)")
	f.StringVar(&o.cfg.APIKey, "api-key", "", "API key (default: generated on first start and stored in the data dir)")
	f.Int64Var(&o.cfg.MaxBodyBytes, "max-body-bytes", ingest.DefaultMaxBodyBytes, "largest accepted webhook body; larger ones get 413")
	f.IntVar(&o.cfg.Workers, "workers", 64, "deliveries in flight at once")
	f.DurationVar(&o.cfg.DeliveryTimeout, "delivery-timeout", 0, "timeout of one delivery attempt (default 60s)")
	f.DurationVar(&o.cfg.MetricsInterval, "metrics-interval", metrics.DefaultQueueInterval, "how often the queue gauges of /metrics are read from the store")
	// A tuning knob, hidden from help: how long claimed work is held
	// between heartbeats, so how soon another process takes over a dead
	// one's work (SLUICE_LEASE=5s in the cluster tests).
	f.DurationVar(&o.cfg.Lease, "lease", 0, "lease on claimed work, renewed every third of it (default 30s)")
	_ = f.MarkHidden("lease")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.BoolVar(&o.logJSON, "log-json", false, "write logs as JSON")
	return cmd
}

func runServe(ctx context.Context, out io.Writer, o serveOptions) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	if o.logJSON {
		h = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	}
	o.cfg.Logger = slog.New(h)

	keyNote := ""
	if o.cfg.APIKey == "" {
		key, path, created, err := loadOrCreateAPIKey(o.cfg.DataDir)
		if err != nil {
			return err
		}
		o.cfg.APIKey = key
		if created {
			keyNote = key + "  (generated now, saved in " + path + ")"
		} else {
			keyNote = "stored in " + path
		}
	} else {
		keyNote = "given by --api-key / SLUICE_API_KEY"
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, o.cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `Sluice %s is running.
  Webhooks:  %s/{source_id}   (ingest listener %s)
  API:       %s/2025-07-01    (any /YYYY-MM-DD/ version works)
  API key:   %s
  Store:     %s
Press Ctrl+C to stop.
`, version, srv.IngestURL(), srv.IngestAddr(), srv.APIURL(), keyNote, srv.StoreDescription())
	return srv.Run(ctx)
}

// loadOrCreateAPIKey reads the key saved in dataDir, or generates and saves
// one (mode 0600) on first start.
func loadOrCreateAPIKey(dataDir string) (key, path string, created bool, err error) {
	path = filepath.Join(dataDir, "api_key")
	b, err := os.ReadFile(path)
	if err == nil {
		if k := strings.TrimSpace(string(b)); k != "" {
			return k, path, false, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", path, false, fmt.Errorf("read API key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", path, false, fmt.Errorf("create data dir: %w", err)
	}
	key, err = newAPIKey()
	if err != nil {
		return "", path, false, err
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", path, false, fmt.Errorf("save API key: %w", err)
	}
	return key, path, true, nil
}

// newAPIKey returns "sk_" and 32 random base62 characters (190 bits).
func newAPIKey() (string, error) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 32)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("generate API key: %w", err)
		}
		b[i] = alphabet[n.Int64()]
	}
	return "sk_" + string(b), nil
}
