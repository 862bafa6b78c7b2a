package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestSoftLimit(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		name              string
		floor, live, want int64
	}{
		{"national set: the floor holds", 280 * mb, 110 * mb, 280 * mb},
		{"live heap near the floor: headroom above it", 280 * mb, 250 * mb, 500 * mb},
		{"ten times the country: above the live heap", 280 * mb, 1000 * mb, 2000 * mb},
		{"nothing measured yet", 560 * mb, 0, 560 * mb},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := softLimit(tc.floor, tc.live); got != tc.want {
				t.Errorf("softLimit(%d MB, %d MB) = %d MB, want %d MB", tc.floor/mb, tc.live/mb, got/mb, tc.want/mb)
			}
		})
	}
}

// The governor follows the live heap: holding more live than the floor
// raises the limit above it (so the collector is not run without pause),
// and the limit comes back to the floor when the heap shrinks. The live
// heap and the limit are simulated: the test process's own are shared
// with other tests (serve sets the runtime's limit).
func TestMemoryGovernorFollowsLiveHeap(t *testing.T) {
	const mb = 1 << 20
	var live, limit atomic.Int64
	live.Store(10 * mb)
	g := &memoryGovernor{floor: 64 * mb, live: live.Load, set: limit.Store}
	if got := g.apply(); got != 64*mb {
		t.Fatalf("limit %d MB with 10 MB live, want the floor (64 MB)", got/mb)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.run(ctx, time.Millisecond); close(done) }()
	live.Store(500 * mb)
	waitLimit := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for limit.Load() != want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := limit.Load(); got != want {
			t.Errorf("limit %d MB, want %d MB", got/mb, want/mb)
		}
	}
	waitLimit(1000 * mb) // twice the live heap
	live.Store(20 * mb)
	waitLimit(64 * mb) // back to the floor
	cancel()
	<-done
	g.setFloor(32 * mb)
	if got := limit.Load(); got != 40*mb {
		t.Errorf("limit %d MB after setFloor(32 MB) with 20 MB live, want 40 MB", got/mb)
	}
}
