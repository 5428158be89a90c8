package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-gw/sluice/internal/server"
	"github.com/sluice-gw/sluice/internal/store/pgstore"
	"github.com/sluice-gw/sluice/internal/store/sqlitestore"
)

type migrateOptions struct {
	dataDir string
	db      string
}

func newMigrateCommand() *cobra.Command {
	var o migrateOptions
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations and exit",
		Long: `Apply the pending database migrations and exit, for operators who migrate
before rolling out a new version. 'sluice serve' applies them at start-up as
well; on PostgreSQL an advisory lock makes processes that start together
apply each migration once. Flags can be set with SLUICE_<FLAG> as for serve.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			return runMigrate(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "data-dir", server.DefaultDataDir, "directory of the SQLite database")
	f.StringVar(&o.db, "db", "", "database: empty for SQLite in the data dir, a file path, or a postgres:// URL")
	return cmd
}

func runMigrate(ctx context.Context, out io.Writer, o migrateOptions) error {
	if strings.HasPrefix(o.db, "postgres://") || strings.HasPrefix(o.db, "postgresql://") {
		applied, err := pgstore.Migrate(ctx, o.db)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(out, "PostgreSQL schema is up to date.")
		}
		for _, name := range applied {
			fmt.Fprintln(out, "applied", name)
		}
		return nil
	}
	path := strings.TrimPrefix(o.db, "sqlite://")
	if path == "" {
		if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
			return fmt.Errorf("create data dir: %w", err)
		}
		path = filepath.Join(o.dataDir, "sluice.db")
	}
	// SQLite logs each migration it applies.
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := sqlitestore.Open(ctx, path, sqlitestore.Options{Logger: log})
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	fmt.Fprintln(out, "SQLite schema of", path, "is up to date.")
	return nil
}
