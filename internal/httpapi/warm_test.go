package httpapi

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Date(2026, 12, 6, 11, 10, 0, 0, time.UTC)} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// warmRig is a warm value over a fake change feed: each computation
// returns its number, and waits for gate when one is set.
type warmRig struct {
	clock *testClock
	seq   atomic.Int64
	w     *warmer
	v     *warmValue[int64]
	n     atomic.Int64
	gate  chan struct{} // nil: computations do not wait
	began chan struct{} // receives once per computation that began, when gate is set
}

const rigMaxAge = time.Minute

func newWarmRig(t *testing.T) *warmRig {
	r := &warmRig{clock: newTestClock()}
	r.w = newWarmer(func(context.Context) (int64, error) { return r.seq.Load(), nil }, r.clock.now, rigMaxAge, nil)
	r.v = newWarmValue(r.w, "test", func(ctx context.Context, _ time.Time) (int64, error) {
		n := r.n.Add(1)
		if r.gate != nil {
			r.began <- struct{}{}
			select {
			case <-r.gate:
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		return n, nil
	})
	t.Cleanup(r.w.Close)
	return r
}

// hold makes the next computations wait until the returned function is
// called.
func (r *warmRig) hold() (release func()) {
	r.gate, r.began = make(chan struct{}), make(chan struct{}, 16)
	return func() { close(r.gate) }
}

func (r *warmRig) get(t *testing.T) int64 {
	t.Helper()
	v, err := r.v.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// settle waits for the computation in flight of v, if any.
func settle[T any](v *warmValue[T]) {
	v.mu.Lock()
	f := v.flight
	v.mu.Unlock()
	if f != nil {
		<-f.done
	}
}

func TestWarmValue(t *testing.T) {
	t.Run("the first request after the warm-up does not compute", func(t *testing.T) {
		r := newWarmRig(t)
		r.w.Start(context.Background())
		<-r.w.warmed
		if got := r.get(t); got != 1 || r.v.computed.Load() != 1 {
			t.Fatalf("got %d after %d computations, want the warm-up's 1", got, r.v.computed.Load())
		}
	})
	t.Run("requests before the first result join the one computation", func(t *testing.T) {
		r := newWarmRig(t)
		release := r.hold()
		var wg sync.WaitGroup
		got := make([]int64, 8)
		for i := range got {
			wg.Add(1)
			go func() { defer wg.Done(); got[i] = r.get(t) }()
		}
		<-r.began
		for r.v.waiting.Load() < int32(len(got)) {
			runtime.Gosched() // until every request waits for the result
		}
		release()
		wg.Wait()
		for i, v := range got {
			if v != 1 {
				t.Errorf("request %d got %d", i, v)
			}
		}
		if n := r.v.computed.Load(); n != 1 {
			t.Errorf("%d computations for concurrent first requests, want 1", n)
		}
	})
	t.Run("during a recomputation requests get the previous result, and start no other", func(t *testing.T) {
		r := newWarmRig(t)
		r.get(t)
		r.seq.Add(1)
		r.clock.add(rigMaxAge)
		release := r.hold()
		var wg sync.WaitGroup
		var stale atomic.Int64
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r.get(t) == 1 {
					stale.Add(1)
				}
			}()
		}
		wg.Wait() // none waits for the recomputation: it is held
		<-r.began
		if stale.Load() != 16 || r.v.computed.Load() != 2 {
			t.Fatalf("%d of 16 got the previous result; %d computations, want 2", stale.Load(), r.v.computed.Load())
		}
		release()
		settle(r.v)
		if got := r.get(t); got != 2 || r.v.computed.Load() != 2 {
			t.Fatalf("after the recomputation got %d (%d computations)", got, r.v.computed.Load())
		}
	})
	for _, tc := range []struct {
		name  string
		write bool
		age   time.Duration
		want  int64
	}{
		{"a write then the bound elapsing gives new figures", true, rigMaxAge, 2},
		{"a write within the bound keeps the figures", true, rigMaxAge - time.Second, 1},
		{"no write: no recomputation past the bound", false, 3 * rigMaxAge, 1},
		{"no write: a new day recomputes (the indicators are dated)", false, 24 * time.Hour, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newWarmRig(t)
			r.get(t)
			if tc.write {
				r.seq.Add(1)
			}
			r.clock.add(tc.age)
			if got := r.get(t); got != 1 {
				t.Fatalf("the request got %d, want the previous result", got)
			}
			settle(r.v)
			if got := r.get(t); got != tc.want || r.v.computed.Load() != tc.want {
				t.Fatalf("then got %d after %d computations, want %d", got, r.v.computed.Load(), tc.want)
			}
		})
	}
	t.Run("shutdown stops the warmer", func(t *testing.T) {
		r := newWarmRig(t)
		r.hold() // never released: only the shutdown ends the computation
		ctx, cancel := context.WithCancel(context.Background())
		r.w.Start(ctx)
		<-r.began
		cancel()
		r.w.Close() // returns once the computation has ended
		<-r.w.warmed
		if _, err := r.v.get(context.Background()); !errors.Is(err, errWarmerClosed) {
			t.Fatalf("after shutdown: %v, want errWarmerClosed", err)
		}
		if n := r.v.computed.Load(); n != 1 {
			t.Fatalf("%d computations, want the one cancelled", n)
		}
	})
}
