package pgstore_test

import (
	"context"
	"testing"

	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/store/pgstore"
	"github.com/sluice-gw/sluice/internal/store/pgstore/pgtest"
	"github.com/sluice-gw/sluice/internal/store/storetest"
)

// open returns a store over a fresh database, closed when t ends.
func open(t testing.TB) *pgstore.Store {
	t.Helper()
	return openWith(t, pgstore.Options{})
}

// openWith opens a store with opts on a fresh database, closed when t ends.
func openWith(t testing.TB, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	s, err := pgstore.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}
