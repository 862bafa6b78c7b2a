package main

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
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
// raises the limit above it, so the collector is not run without pause.
func TestMemoryGovernorFollowsLiveHeap(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	const floor = 8 << 20
	g := newMemoryGovernor(floor)
	ballast := make([][]byte, 64)
	for i := range ballast {
		ballast[i] = make([]byte, 1<<20) // 64 MB live, 8 times the floor
	}
	runtime.GC()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.run(ctx, time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) < 128<<20 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if got := debug.SetMemoryLimit(-1); got < 128<<20 {
		t.Errorf("limit %d MB with 64 MB live, want at least twice the live heap", got>>20)
	}
	runtime.KeepAlive(ballast)
	ballast = nil
	runtime.GC()
	g.setFloor(floor * 2)
	if got := debug.SetMemoryLimit(-1); got >= 64<<20 {
		t.Errorf("limit %d MB once the ballast is gone, want back near the floor (%d MB)", got>>20, floor*2>>20)
	}
}
