package tiles

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// The benchmarks run on the national demo set (seed scale 1: 31,000 posts,
// 176 prisons, 600 floor spaces), generated in memory once per process.

// benchScale is ATIGIP_BENCH_SCALE (1, the national set, by default):
// ATIGIP_BENCH_SCALE=10 runs the engine benchmarks ten times the country.
func benchScale(b *testing.B) float64 {
	s, err := strconv.ParseFloat(os.Getenv("ATIGIP_BENCH_SCALE"), 64)
	if err != nil || s <= 0 {
		return 1
	}
	b.Logf("scale %g", s)
	return s
}

func nationalEngine(b *testing.B, o Options) *Engine {
	b.Helper()
	d := demoData(b, benchScale(b))
	e, err := Build(d, o)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

type tileAddr struct{ z, x, y int }

// franceTiles is a shuffled list of n tile addresses z0..z14 across France:
// around random communes (so dense where people live), every zoom equally.
func franceTiles(n int) []tileAddr {
	r := rand.New(rand.NewPCG(1, 2))
	cs := refdata.Communes()
	out := make([]tileAddr, 0, n)
	for len(out) < n {
		c := cs[r.IntN(len(cs))]
		z := r.IntN(15)
		x, y := mercator(c.Lon+(r.Float64()-0.5)*0.02, c.Lat+(r.Float64()-0.5)*0.02)
		tx, ty := tileOf(x, y, z)
		out = append(out, tileAddr{z, int(tx), int(ty)})
	}
	return out
}

// BenchmarkTileCold generates tiles without the cache and reports the p99
// and p50 latency of one tile (target p99 < 5 ms).
func BenchmarkTileCold(b *testing.B) {
	e := nationalEngine(b, Options{CacheBytes: -1})
	addrs := franceTiles(10000)
	snap := e.snap.Load()
	durs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := addrs[i%len(addrs)]
		aud := i % 2
		t0 := time.Now()
		if _, err := e.render(snap, aud, a.z, uint32(a.x), uint32(a.y)); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(durs)
	q := func(p float64) float64 { return float64(durs[int(p*float64(len(durs)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(float64(durs[len(durs)-1].Microseconds())/1000, "max-ms")
}

// BenchmarkTileWarm reads cached tiles from all cores and reports the
// throughput (target ≥ 20,000 tiles/s on 2 cores).
func BenchmarkTileWarm(b *testing.B) {
	e := nationalEngine(b, Options{})
	addrs := franceTiles(10000)
	ctx := context.Background()
	for _, a := range addrs {
		if _, err := e.Tile(ctx, atigip.AudiencePublic, "public", a.z, a.x, a.y); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a := addrs[int(next.Add(1))%len(addrs)]
			t, err := e.Tile(ctx, atigip.AudiencePublic, "public", a.z, a.x, a.y)
			if err != nil || t.ETag == "" {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tiles/s")
}

// BenchmarkLargestTile renders every non-empty tile of z0..z6 for both
// audiences and reports the largest one (target < 150 KB).
func BenchmarkLargestTile(b *testing.B) {
	e := nationalEngine(b, Options{CacheBytes: -1})
	snap := e.snap.Load()
	for i := 0; i < b.N; i++ {
		largest, count := 0, 0
		for aud := range audiences {
			level := [][2]uint32{{0, 0}}
			for z := 0; z <= 6; z++ {
				var next [][2]uint32
				for _, t := range level {
					data, err := e.render(snap, aud, z, t[0], t[1])
					if err != nil {
						b.Fatal(err)
					}
					if len(data) == 0 {
						continue
					}
					count++
					largest = max(largest, len(data))
					for _, c := range [4][2]uint32{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
						next = append(next, [2]uint32{2*t[0] + c[0], 2*t[1] + c[1]})
					}
				}
				level = next
			}
		}
		b.ReportMetric(float64(largest)/1000, "max-KB")
		b.ReportMetric(float64(count), "tiles")
	}
}

// BenchmarkBuild measures loading the national set into an engine
// (clustering both audiences, simplifying floor spaces) and the live heap
// the engine keeps once its input is dropped (engine-heap-MB: records,
// pyramids and whatever domain values it still references; the shared IGN
// outlines are counted by BenchmarkBoundaries).
func BenchmarkBuild(b *testing.B) {
	if _, err := loadBoundaries(4096); err != nil { // counted apart
		b.Fatal(err)
	}
	freshDemoData(b, 1) // loads the shared reference data (communes, ROME) before measuring
	var retained float64
	var dur time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d := freshDemoData(b, 1) // not the shared copy: the engine alone may keep it alive
		b.StartTimer()
		t0 := time.Now()
		e, err := Build(d, Options{})
		if err != nil {
			b.Fatal(err)
		}
		dur += time.Since(t0)
		b.StopTimer()
		d = Data{}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(e)
		retained = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
		b.StartTimer()
	}
	b.ReportMetric(retained, "engine-heap-MB")
	b.ReportMetric(dur.Seconds()/float64(b.N), "build-s")
}

// BenchmarkBoundaries reports the heap held by the simplified IGN outlines
// (whole, sliced and the low zooms' encoded layers for the default options).
func BenchmarkBoundaries(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var s *boundarySet
	for i := 0; i < b.N; i++ {
		var err error
		if s, err = newBoundarySet(4096); err != nil {
			b.Fatal(err)
		}
		s.encodedFor(64, 5)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20)/float64(b.N), "heap-MB")
}

// BenchmarkTileGzipFirst compresses freshly generated tiles once, as the
// first gzip request of each cached tile does, and reports the bytes
// allocated and the time per tile (gzip-KB/tile, gzip-µs/tile).
func BenchmarkTileGzipFirst(b *testing.B) {
	e, err := Build(demoData(b, 0.1), Options{CacheBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	snap := e.snap.Load()
	var tiles [][]byte
	for _, a := range franceTiles(2000) {
		if t, err := e.render(snap, 0, a.z, uint32(a.x), uint32(a.y)); err == nil && len(t) > 0 {
			tiles = append(tiles, t)
		}
	}
	if len(tiles) == 0 {
		b.Fatal("no tile")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		en := &entry{data: tiles[i%len(tiles)]}
		_ = en.gzipped()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/1024, "gzip-KB/tile")
	b.ReportMetric(float64(elapsed.Microseconds())/float64(b.N), "gzip-µs/tile")
}

// BenchmarkTileColdFiltered generates filtered tiles as map viewers ask
// them: 64 random filter combinations, each kept for 100 tiles across
// France in a row (a viewer pans with the same filters), then the next,
// both audiences; tiles are never asked twice (up to 20,000 iterations),
// so each is cold. The first tile of a combination builds its clusters
// (reported apart: build-ms, mean and max); p50/p99 are over the others,
// a rebuild after the pyramid budget evicted one included.
func BenchmarkTileColdFiltered(b *testing.B) {
	e := nationalEngine(b, Options{})
	addrs := franceTiles(10000)
	r := rand.New(rand.NewPCG(3, 4))
	deps := refdata.Departements()
	filters := make([]Filter, 64)
	for i := range filters {
		f := &filters[i]
		switch r.IntN(3) {
		case 0:
			f.Domain = byte('A' + r.IntN(14))
		case 1:
			f.Departement = deps[r.IntN(len(deps))].Code
		}
		f.Minors, f.Weekends, f.Wheelchair = r.IntN(2) == 0, r.IntN(3) == 0, r.IntN(3) == 0
		if f.IsZero() {
			f.Minors = true
		}
	}
	ctx := context.Background()
	tilesets := [2]string{"public", "justice"}
	var durs, builds []time.Duration
	seen := map[[2]int]bool{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, fi, aud := addrs[i%len(addrs)], (i/100)%len(filters), i%2
		ts := tilesets[aud]
		t0 := time.Now()
		if _, err := e.FilteredTile(ctx, Tilesets[ts], ts, filters[fi], a.z, a.x, a.y); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		if k := [2]int{fi, aud}; !seen[k] {
			seen[k] = true
			builds = append(builds, d)
			continue
		}
		durs = append(durs, d)
	}
	b.StopTimer()
	if len(durs) == 0 {
		return // the one-iteration probe run
	}
	slices.Sort(durs)
	q := func(p float64) float64 { return float64(durs[int(p*float64(len(durs)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(0.50), "p50-ms")
	var sum time.Duration
	for _, d := range builds {
		sum += d
	}
	b.ReportMetric(float64(sum.Microseconds())/1000/float64(len(builds)), "build-ms")
	b.ReportMetric(float64(slices.Max(builds).Microseconds())/1000, "build-max-ms")
}
