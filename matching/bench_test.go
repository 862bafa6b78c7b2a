package matching

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// National sizes of the issue: 31,000 posts, 20,000 profiles (16,000
// people to place).
var (
	nationalOnce sync.Once
	national     Data
)

// ATIGIP_BENCH_SCALE multiplies them (1 by default; 10: ten times the
// country).
func nationalData() Data {
	nationalOnce.Do(func() {
		s := benchScale()
		n := func(v int) int { return int(float64(v) * s) }
		national = synth(2025, n(15000), n(31000), n(20000))
	})
	return national
}

func nationalEngine(b *testing.B) *Engine {
	b.Helper()
	e, err := New(nationalData(), Options{Today: synthToday})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// reportLatencies reports p50 and p95 of per-call durations in ms.
func reportLatencies(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	ms := func(q float64) float64 {
		i := min(len(ds)-1, int(q*float64(len(ds))))
		return float64(ds[i].Microseconds()) / 1000
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.95), "p95-ms")
}

// BenchmarkOffersForPerson ranks all national posts for one person at a
// time (target p95 < 10 ms).
func BenchmarkOffersForPerson(b *testing.B) {
	e := nationalEngine(b)
	d := nationalData()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := d.People[i%len(d.People)].ID
		t0 := time.Now()
		if _, err := e.OffersForPerson(id, Query{Limit: 20}); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	reportLatencies(b, ds)
}

// BenchmarkCandidatesForPost ranks 20,000 profiles for one post at a time
// (target p95 < 20 ms).
func BenchmarkCandidatesForPost(b *testing.B) {
	e := nationalEngine(b)
	d := nationalData()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ref := Ref{KindTIG, d.Posts[(i*7919)%len(d.Posts)].ID}
		t0 := time.Now()
		if _, err := e.CandidatesFor(ref, Query{Limit: 20}); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	reportLatencies(b, ds)
}

// peakHeap samples the heap's objects, live or not yet collected, while
// fn runs.
func peakHeap(fn func()) uint64 { return peakOf("/memory/classes/heap/objects:bytes", fn) }

// peakLive samples the heap the last collection marked live while fn
// runs: what the server's memory governor sets its limit from.
func peakLive(fn func()) uint64 { return peakOf("/gc/heap/live:bytes", fn) }

// peakOf samples the runtime metric name while fn runs.
func peakOf(name string, fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: name}}
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
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
	return peak
}

// BenchmarkAssignNational assigns the 16,000 people with a measure to
// place to the 31,000 posts (target < 30 s, < 2 GiB), next to greedy.
func BenchmarkAssignNational(b *testing.B) {
	for _, method := range []string{"flow", "greedy"} {
		b.Run(method, func(b *testing.B) {
			d := nationalData()
			people := make([]int64, 0, 16000)
			for _, p := range d.People[:len(d.People)*4/5] {
				people = append(people, p.ID)
			}
			var a *Assignment
			var peak uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				peak = max(peak, peakHeap(func() {
					// The engine is part of the cost: it is what the
					// server holds in memory.
					e, err := New(d, Options{Today: synthToday})
					if err != nil {
						b.Fatal(err)
					}
					run := e.Assign
					if method == "greedy" {
						run = e.AssignGreedy
					}
					a, err = run(context.Background(), AssignRequest{People: people}, nil)
					if err != nil {
						b.Fatal(err)
					}
				}))
			}
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/op")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(a.Stats.SharePlaced, "share-placed")
			b.ReportMetric(a.Stats.ShareFilled, "share-filled")
			b.ReportMetric(a.Objective, "objective")
			b.ReportMetric(a.Stats.MeanKm, "mean-km")
			b.ReportMetric(a.Stats.P95Km, "p95-km")
			b.ReportMetric(a.Stats.LoadGini, "load-gini")
		})
	}
}

// BenchmarkAssignJob runs what a job runs on a built engine, everyone to
// place (AssignWithBaseline: the optimal assignment and the greedy
// baseline's statistics), and reports the live heap above the engine's
// (and its data's) at the job's peak (peak-live-MiB: the server's memory
// governor lets the resident size follow twice the live heap) and what
// the job's result keeps once done (kept-MiB). With ATIGIP_BENCH_DATA
// the engine is built over that store (BenchmarkBuildStore), else over the
// synthetic national instance.
//
//	ATIGIP_BENCH_DATA=/work/benchdata/smem/scale-10 go test ./matching -run '^$' -bench 'AssignJob$' -benchtime 1x
func BenchmarkAssignJob(b *testing.B) {
	var e *Engine
	if os.Getenv("ATIGIP_BENCH_DATA") != "" {
		src, today := benchSource(b)
		var err error
		if e, err = Build(context.Background(), src, Options{Today: today}, nil); err != nil {
			b.Fatal(err)
		}
	} else {
		e = nationalEngine(b)
	}
	base := liveHeap()
	var peak uint64
	var kept float64
	var res *Result
	for i := 0; i < b.N; i++ {
		res = nil
		peak = max(peak, peakLive(func() {
			var err error
			if res, _, err = e.AssignWithBaseline(context.Background(), AssignRequest{}, nil); err != nil {
				b.Fatal(err)
			}
		}))
		kept = float64(liveHeap()-base) / (1 << 20)
	}
	runtime.KeepAlive(res)
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/op")
	b.ReportMetric(float64(peak-base)/(1<<20), "peak-live-MiB")
	b.ReportMetric(kept, "kept-MiB")
	b.ReportMetric(float64(res.Placed()), "placed")
}

// BenchmarkNewEngine builds the national engine (done on each refresh).
func BenchmarkNewEngine(b *testing.B) {
	d := nationalData()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := New(d, Options{Today: synthToday}); err != nil {
			b.Fatal(err)
		}
	}
}

// liveHeap is the heap held by reachable objects, after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkEngineHeap measures the live heap an engine over the national
// instance keeps once the data it was built from is dropped: what a
// server holds between rebuilds.
func BenchmarkEngineHeap(b *testing.B) {
	// Load the shared referentials (ROME, analyser) outside the measure.
	if _, err := New(synth(1, 5, 5, 5), Options{Today: synthToday}); err != nil {
		b.Fatal(err)
	}
	var mb float64
	for i := 0; i < b.N; i++ {
		before := liveHeap()
		e, err := New(synth(2025, 15000, 31000, 20000), Options{Today: synthToday})
		if err != nil {
			b.Fatal(err)
		}
		mb = float64(liveHeap()-before) / (1 << 20)
		runtime.KeepAlive(e)
	}
	b.ReportMetric(mb, "engine-MB")
}

// BenchmarkPatchNational patches the national demo engine with one post
// closed (and reopened), as the server does on the request after a write:
// the time a change takes to reach the rules (patch-ms).
func BenchmarkPatchNational(b *testing.B) {
	d := demoData(b, 1)
	e, err := New(d, Options{Today: atigip.DateOf(demoNow)})
	if err != nil {
		b.Fatal(err)
	}
	post := *d.Posts[len(d.Posts)/2]
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		p := post
		if i%2 == 0 {
			p.Status = atigip.PostClosed
		}
		if _, err := e.Patch(Changes{Posts: []*atigip.Post{&p}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "patch-ms")
}

// BenchmarkPatchMeasureNational patches the national demo engine with one
// measure proposed to the judge on a post (and back to be placed), as the
// server does after a proposal: measures are what a patch rewrites most
// (patch-ms).
func BenchmarkPatchMeasureNational(b *testing.B) {
	d := demoData(b, 1)
	e, err := New(d, Options{Today: atigip.DateOf(demoNow)})
	if err != nil {
		b.Fatal(err)
	}
	var m atigip.Measure
	for _, x := range d.Measures {
		if x.State == atigip.MeasureToPlace {
			m = *x
			break
		}
	}
	post := d.Posts[len(d.Posts)/2].ID
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		x := m
		if i%2 == 0 {
			x.State, x.PostID = atigip.MeasureProposed, post
		}
		if _, err := e.Patch(Changes{Measures: []*atigip.Measure{&x}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "patch-ms")
}
