package search

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

// The demo set the tests and the relevance suite run on: fixed seed and
// scale. Its date is today (seed.Options.Now zero) because person profiles
// are validated against the real clock; the date moves only dates, never
// the posts' text, codes or places the judgments of relevance.json rely on.
const (
	testSeed  = 42
	testScale = 0.05
)

var (
	fixtureMu  sync.Mutex
	fixtureDir string
	fixtures   = map[float64]string{} // scale → seeded database file
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// seededDB returns the path of a database seeded at scale, seeding it once
// per test binary; callers copy it when they write (see openStore).
func seededDB(tb testing.TB, scale float64) string {
	tb.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if p, ok := fixtures[scale]; ok {
		return p
	}
	if fixtureDir == "" {
		d, err := os.MkdirTemp("", "atigip-search-test-")
		if err != nil {
			tb.Fatal(err)
		}
		fixtureDir = d
	}
	ctx := context.Background()
	p := filepath.Join(fixtureDir, "seed-"+time.Now().Format("150405.000000")+".db")
	db, err := sqlite.Open(ctx, p)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	if _, err := seed.Run(ctx, db, seed.Options{Scale: scale, Seed: testSeed}); err != nil {
		tb.Fatal(err)
	}
	fixtures[scale] = p
	return p
}

// openStore opens a private copy of the seeded database at scale, so that
// a test may change it freely.
func openStore(tb testing.TB, scale float64) *sqlite.DB {
	tb.Helper()
	src := seededDB(tb, scale)
	dst := filepath.Join(tb.TempDir(), "atigip.db")
	data, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dst)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

// builtIndex opens an index at dir (in memory when dir is "") and builds it
// from store.
func builtIndex(tb testing.TB, store atigip.Store, dir string) *Index {
	tb.Helper()
	ix, err := Open(dir, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ix.Close() })
	if _, err := ix.CatchUp(context.Background(), store); err != nil {
		tb.Fatal(err)
	}
	return ix
}

// diskIndex opens a private copy of the demo set and an index on disk
// built from it (an index in memory keeps norms differently and hid the
// NaN scores of issue 12).
func diskIndex(tb testing.TB) (*sqlite.DB, *Index) {
	tb.Helper()
	db := openStore(tb, testScale)
	return db, builtIndex(tb, db, filepath.Join(tb.TempDir(), "index"))
}

// textOf normalizes r and builds its text query on ix, as Search does.
func textOf(tb testing.TB, ix *Index, r *Request) (parsedQuery, *textQuery) {
	tb.Helper()
	pq, err := r.normalize()
	if err != nil {
		tb.Fatal(err)
	}
	docs, err := ix.idx.DocCount()
	if err != nil {
		tb.Fatal(err)
	}
	tq, err := ix.textQuery(pq, docs)
	if err != nil {
		tb.Fatal(err)
	}
	return pq, tq
}

// bytes is the size of the bitmaps the cache holds.
func (c *facetCache) bytes() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n uint64
	for _, e := range c.segs {
		for _, v := range e.values {
			n += v.docs.GetSizeInBytes()
		}
	}
	return n
}
