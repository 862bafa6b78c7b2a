package seedtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

// Empty returns a migrated, empty SQLite store in tb's temporary directory,
// closed when tb ends. The concrete type is returned because some callers
// need more than atigip.Store (Close, Migrate).
func Empty(tb testing.TB) *sqlite.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "atigip.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

// Store returns an Empty store seeded with the demonstration data at scale
// (1 is the national set) from dataSeed, built around today: the same
// scale and dataSeed give the same data on the same day.
func Store(tb testing.TB, scale float64, dataSeed uint64) *sqlite.DB {
	tb.Helper()
	db := Empty(tb)
	if _, err := seed.Run(context.Background(), db, seed.Options{Scale: scale, Seed: dataSeed}); err != nil {
		tb.Fatal(err)
	}
	return db
}
