package httpapi

import (
	"runtime"
	rtmetrics "runtime/metrics"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	demoseed "github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/matching"
)

// liveHeap is the heap held by reachable objects, after a full collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// peakHeapDuring samples the heap (live and not yet collected) while fn
// runs.
func peakHeapDuring(fn func()) int64 {
	sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			rtmetrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return int64(peak)
}

// demoMatchingData is the seed's national demo data set (31,000 posts,
// 3,800 offers, 20,000 profiles) in memory, with store-like ids.
func demoMatchingData(b *testing.B) matching.Data {
	ds, err := demoseed.Generate(demoseed.Options{Scale: 1, Seed: 1, Now: time.Date(2025, time.March, 3, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	ds.NumberByPosition()
	return matching.Data{Posts: ds.Posts, Offers: ds.Offers, Organisations: ds.Organisations, People: ds.People, Measures: ds.Measures}
}

// BenchmarkMatchingSnapshot builds the matching snapshot of the national
// demo data and reports the live heap it keeps once the loaded data is
// dropped (snapshot-MB: what the server holds between rebuilds, next to
// tiles and search under a 400 MB RSS target), the heap peak above the
// loaded data while building (build-peak-MB, collector permitting) and
// the build time from loaded data (build-s; loading from the store comes
// on top).
func BenchmarkMatchingSnapshot(b *testing.B) {
	m := newSnapshotService()
	today := atigip.NewDate(2025, time.March, 3)
	// Load the shared referentials (ROME, analyser, the generator's
	// tables) outside the measure.
	d := demoMatchingData(b)
	if _, err := m.NewSnapshot(matching.Data{People: d.People[:1], Posts: d.Posts[:1]}, today, 1); err != nil {
		b.Fatal(err)
	}
	d = matching.Data{}
	var keptMB, peakMB, seconds float64
	for i := 0; i < b.N; i++ {
		base := liveHeap()
		d = demoMatchingData(b)
		loaded := liveHeap()
		var snap *matchingSnapshot
		peak := peakHeapDuring(func() {
			t0 := time.Now()
			var err error
			if snap, err = m.NewSnapshot(d, today, 1); err != nil {
				b.Fatal(err)
			}
			seconds = time.Since(t0).Seconds()
		})
		d = matching.Data{}
		keptMB = float64(liveHeap()-base) / (1 << 20)
		peakMB = float64(peak-loaded) / (1 << 20)
		runtime.KeepAlive(snap)
	}
	runtime.KeepAlive(d)
	b.ReportMetric(keptMB, "snapshot-MB")
	b.ReportMetric(peakMB, "build-peak-MB")
	b.ReportMetric(seconds, "build-s")
}
