package matching

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

// builtEngine keeps the last engine BenchmarkBuildStore built, so that a
// -memprofile taken at its end shows what the engine holds (inuse_space).
var builtEngine *Engine

// benchSource is what BenchmarkBuildStore builds from: ATIGIP_BENCH_DATA,
// a data directory of `atigip seed --scale 10` (its atigip.db, opened in
// place: give it a copy), or else the seed's data set at
// ATIGIP_BENCH_SCALE (1 by default) generated in process; with the date
// to build at (zero: today, as the server over a store seeded today).
func benchSource(b *testing.B) (atigip.Tx, atigip.Date) {
	b.Helper()
	if dir := os.Getenv("ATIGIP_BENCH_DATA"); dir != "" {
		db, err := sqlite.Open(context.Background(), filepath.Join(dir, "atigip.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db, atigip.Date{}
	}
	ds, err := seed.Generate(seed.Options{Scale: benchScale(), Seed: 1, Now: demoNow})
	if err != nil {
		b.Fatal(err)
	}
	ds.NumberByPosition()
	return dataTx{ds: ds}, atigip.DateOf(demoNow)
}

// BenchmarkBuildStore builds the server's engine as its snapshot does
// (Build, scanning the store one record at a time) and reports the
// engine's live heap once built (engine-MiB), and while building the
// peak of the live heap above the engine's start (peak-live-MiB: the
// server's memory governor sets its limit at twice the live heap) and of
// the heap's objects, garbage included (peak-heap-MiB).
//
//	ATIGIP_BENCH_DATA=/work/benchdata/smem/scale-10 go test ./matching -run '^$' -bench 'BuildStore$' -benchtime 1x
func BenchmarkBuildStore(b *testing.B) {
	src, today := benchSource(b)
	// The shared referentials (ROME, analyser) are loaded outside the
	// measure: the server holds them anyway.
	if _, err := New(synth(1, 5, 5, 5), Options{Today: synthToday}); err != nil {
		b.Fatal(err)
	}
	opts := Options{Today: today}
	var engine, live, heap float64
	for i := 0; i < b.N; i++ {
		builtEngine = nil
		base := liveHeap()
		var e *Engine
		var pl uint64
		ph := peakHeap(func() {
			pl = peakLive(func() {
				var err error
				if e, err = Build(context.Background(), src, opts, nil); err != nil {
					b.Fatal(err)
				}
			})
		})
		engine = float64(liveHeap()-base) / (1 << 20)
		live = max(live, float64(pl-min(pl, base))/(1<<20))
		heap = max(heap, float64(ph-min(ph, base))/(1<<20))
		builtEngine = e
	}
	runtime.KeepAlive(builtEngine)
	items, people := builtEngine.Counts()
	b.ReportMetric(engine, "engine-MiB")
	b.ReportMetric(live, "peak-live-MiB")
	b.ReportMetric(heap, "peak-heap-MiB")
	b.ReportMetric(float64(items), "items")
	b.ReportMetric(float64(people), "people")
}

// benchScale is ATIGIP_BENCH_SCALE (1 by default).
func benchScale() float64 {
	s, err := strconv.ParseFloat(os.Getenv("ATIGIP_BENCH_SCALE"), 64)
	if err != nil || s <= 0 {
		return 1
	}
	return s
}
