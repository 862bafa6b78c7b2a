package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// loadLimitFactor multiplies the soft memory limit while serve loads its
// engines. Building the search index of the national set keeps 250 to
// 330 MB of heap live (gctrace), tiles included: under the steady 280 MB
// limit the collector ran without pause and the first start cost 60 s of
// processor time instead of 28.6 s. Twice the limit cost what three
// times did (28.6 s) and about what none did (27 s), and keeps the first
// start's resident peak at 750 MB (870 MB at three times; 530 MB before).
const loadLimitFactor = 2

// liveHeapHeadroom is how far above the live heap the soft memory limit
// stays, whatever the configured floor. A limit under the live heap makes
// the collector run without pause (at ten times the country the engines
// keep more than the national 280 MB default live); twice the live heap
// is where GOGC=100 collects anyway, so the limit then never makes the
// collector run more often than the default would. Measured at scale 10
// (BenchmarkScale): with 1.5 times, search took 81 ms of processor time
// per query; with 2 times, 16 ms.
const liveHeapHeadroom = 2

// softLimit is the soft memory limit for a floor and a live heap, in bytes.
func softLimit(floor, live int64) int64 {
	return max(floor, int64(float64(live)*liveHeapHeadroom))
}

// memoryGovernor keeps the runtime's soft memory limit at softLimit of
// its floor (the configured limit, or a looser one while serve loads its
// engines) and of the live heap the last collection measured, so the
// limit holds memory down at the national size without strangling the
// collector at larger ones.
type memoryGovernor struct {
	mu    sync.Mutex // one floor and limit at a time
	floor int64
	live  func() int64 // the live heap in bytes
	set   func(int64)  // applies a limit (the runtime's, but in tests)
}

func newMemoryGovernor(floor int64) *memoryGovernor {
	g := &memoryGovernor{floor: floor, live: liveHeap, set: func(l int64) { debug.SetMemoryLimit(l) }}
	g.apply()
	return g
}

// liveHeap is the heap the last collection marked live, in bytes.
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// setFloor changes the floor and applies the limit at once.
func (g *memoryGovernor) setFloor(floor int64) {
	g.mu.Lock()
	g.floor = floor
	g.mu.Unlock()
	g.apply()
}

// apply sets the limit from the floor and the live heap, and returns it.
func (g *memoryGovernor) apply() int64 {
	live := g.live()
	g.mu.Lock()
	defer g.mu.Unlock()
	limit := softLimit(g.floor, live)
	g.set(limit)
	return limit
}

// run re-applies the limit every period until ctx ends.
func (g *memoryGovernor) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.apply()
		}
	}
}
