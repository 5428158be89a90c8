package pgtest

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dsn, want string
	}{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "postgres://postgres@127.0.0.1:5432/db1?sslmode=disable"},
		{"postgresql://u:p@h/", "postgresql://u:p@h/db1"},
		{"postgres://h", "postgres://h/db1"},
		{"host=127.0.0.1 user=postgres dbname=postgres", "host=127.0.0.1 user=postgres dbname=postgres dbname=db1"},
	}
	for _, tc := range tests {
		got, err := withDatabase(tc.dsn, "db1")
		if err != nil {
			t.Fatalf("withDatabase(%q): %v", tc.dsn, err)
		}
		if got != tc.want {
			t.Errorf("withDatabase(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
		cfg, err := pgx.ParseConfig(got)
		if err != nil {
			t.Fatalf("ParseConfig(%q): %v", got, err)
		}
		if cfg.Database != "db1" {
			t.Errorf("ParseConfig(%q).Database = %q, want db1", got, cfg.Database)
		}
	}
}

func TestNewDatabase(t *testing.T) {
	dsn := NewDatabase(t)
	if dsn == "" {
		t.Fatal("empty DSN")
	}
	if err := exec(t.Context(), dsn, "CREATE TABLE t (x int)"); err != nil {
		t.Fatalf("use the new database: %v", err)
	}
}
