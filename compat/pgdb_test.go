package compat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// newPostgresDB creates an empty database on the server named by
// SLUICE_TEST_POSTGRES_DSN, drops it when the test ends, and returns its
// DSN. Without the variable the test is skipped (failed in CI). It does
// what the main module's pgtest does, so that this module needs none of
// the main module's packages (only the sluice binary).
func newPostgresDB(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("SLUICE_TEST_POSTGRES_DSN")
	if dsn == "" {
		missing(t, "SLUICE_TEST_POSTGRES_DSN not set; skipping the PostgreSQL run")
	}
	var suffix [8]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		t.Fatal(err)
	}
	name := "sluice_compat_" + hex.EncodeToString(suffix[:])
	if err := pgExec(dsn, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := pgExec(dsn, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("SLUICE_TEST_POSTGRES_DSN: %v", err)
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String()
	}
	return dsn + " dbname=" + name // keyword/value form: the last dbname wins
}

// pgExec runs one statement on a connection of its own.
func pgExec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	_, err = conn.Exec(ctx, sql)
	return err
}
