package tiles

import (
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/seed"
)

var (
	demoMu    sync.Mutex
	demoCache = map[float64]Data{}
)

// demoData is the seed package's demo data set at scale, with store-like
// ids: the generator's references are 1-based positions, so giving every
// entity its position as id makes the set consistent without a store.
func demoData(t testing.TB, scale float64) Data {
	t.Helper()
	demoMu.Lock()
	defer demoMu.Unlock()
	if d, ok := demoCache[scale]; ok {
		return d
	}
	d := freshDemoData(t, scale)
	demoCache[scale] = d
	return d
}

// freshDemoData generates the demo set anew, for measures of what an engine
// keeps alive.
func freshDemoData(t testing.TB, scale float64) Data {
	t.Helper()
	ds, err := seed.Generate(seed.Options{Scale: scale, Seed: 1, Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range ds.Organisations {
		o.ID, o.Version = int64(i+1), 1
	}
	for i, p := range ds.Posts {
		p.ID, p.Version = int64(i+1), 1
	}
	for i, p := range ds.Prisons {
		p.ID, p.Version = int64(i+1), 1
	}
	for i, f := range ds.FloorSpaces {
		f.ID, f.Version = int64(i+1), 1
	}
	return Data{Organisations: ds.Organisations, Posts: ds.Posts, Prisons: ds.Prisons, FloorSpaces: ds.FloorSpaces}
}
