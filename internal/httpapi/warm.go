package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// Warm values: figures computed from the whole store (the prospection,
// the indicators), seconds of work at national size, that pages read.
// A request never waits for their computation once a first result
// exists: it is answered from that result while the next one is computed
// behind it, once for all requests (single flight). Only a request that
// comes before the first result waits, joining the computation in
// flight. A result is recomputed once it is older than maxAge and the
// change feed has moved since (or the day has changed: the indicators
// are dated), never while nothing changes.

// errWarmerClosed answers a request that needs a first computation after
// the warmer stopped (the process is shutting down).
var errWarmerClosed = &atigip.Error{Code: atigip.EUNAVAILABLE, Message: "Le service s'arrête : réessayez dans un instant."}

// warmComputeTimeout bounds one computation (seconds at national size).
const warmComputeTimeout = 5 * time.Minute

// warmer owns the goroutines of its warm values: Start warms them in the
// background and keeps them fresh; Close (or the end of the context given
// to Start) cancels what runs and waits for it.
type warmer struct {
	// feed reads the change feed's position (atigip.Store.LastSeq).
	feed func(ctx context.Context) (int64, error)
	now  func() time.Time
	// maxAge is the age past which a result is recomputed if the feed has
	// moved; recheck how often such a result reads the feed again when it
	// has not.
	maxAge, recheck time.Duration
	log             *slog.Logger

	ctx       context.Context // cancelled at Close: every computation derives from it
	cancel    context.CancelFunc
	lifeMu    sync.Mutex // guards closed and the wg.Add that follow it
	closed    bool
	wg        sync.WaitGroup
	startOnce sync.Once

	mu     sync.Mutex
	values []warmable
	// warmed is closed once Start's first pass is over (every value
	// computed, or failed).
	warmed chan struct{}
}

// warmable is a warm value as its warmer drives it.
type warmable interface {
	// refresh starts a computation when none has run yet, or when the
	// result is due for a check, and returns a channel closed when the
	// computation started (or already in flight) is over; nil when
	// nothing runs.
	refresh(first bool) <-chan struct{}
}

func newWarmer(feed func(context.Context) (int64, error), now func() time.Time, maxAge time.Duration, log *slog.Logger) *warmer {
	w := &warmer{feed: feed, now: now, maxAge: maxAge, recheck: min(max(maxAge/10, time.Second), 30*time.Second), log: log,
		warmed: make(chan struct{})}
	if w.log == nil {
		w.log = slog.Default()
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w
}

// Start ties the warmer to ctx (the server's lifetime) and computes its
// values in the background, one after the other (one core, not all of
// them: the server is serving), then checks them every recheck. It
// returns at once.
func (w *warmer) Start(ctx context.Context) {
	context.AfterFunc(ctx, w.shutdown)
	w.startOnce.Do(func() { w.spawn(w.loop) })
}

// loop computes every value, then checks them every recheck until the
// warmer is closed.
func (w *warmer) loop() {
	start := time.Now()
	w.pass(true)
	if w.ctx.Err() == nil {
		w.log.Info("figures warmed", "duration", time.Since(start).Round(time.Millisecond).String())
	}
	close(w.warmed)
	t := time.NewTicker(w.recheck)
	defer t.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
			w.pass(false)
		}
	}
}

// pass refreshes each value in turn, waiting for each computation.
func (w *warmer) pass(first bool) {
	w.mu.Lock()
	vs := append([]warmable(nil), w.values...)
	w.mu.Unlock()
	for _, v := range vs {
		if done := v.refresh(first); done != nil {
			select {
			case <-done:
			case <-w.ctx.Done():
				return
			}
		}
	}
}

// Close cancels the computations running and returns once their
// goroutines have ended.
func (w *warmer) Close() {
	w.shutdown()
	w.wg.Wait()
}

func (w *warmer) shutdown() {
	w.lifeMu.Lock()
	w.closed = true
	w.lifeMu.Unlock()
	w.cancel()
}

// spawn runs fn in a goroutine that Close waits for, unless the warmer is
// closed.
func (w *warmer) spawn(fn func()) bool {
	w.lifeMu.Lock()
	defer w.lifeMu.Unlock()
	if w.closed {
		return false
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		fn()
	}()
	return true
}

// warmValue is one value its warmer keeps fresh.
type warmValue[T any] struct {
	w       *warmer
	name    string // for the logs
	compute func(ctx context.Context, now time.Time) (T, error)
	// computed counts the computations started, waiting the requests
	// waiting for a first result: what the tests and the benchmark check.
	computed atomic.Int64
	waiting  atomic.Int32

	mu      sync.Mutex
	cur     *warmResult[T]
	flight  *warmFlight[T]
	checked time.Time // when the feed was last found where cur was computed
}

type warmResult[T any] struct {
	v   T
	seq int64     // the feed's position read before computing
	at  time.Time // when the computation started
}

// warmFlight is one computation; res and err are set before done is
// closed.
type warmFlight[T any] struct {
	done chan struct{}
	res  *warmResult[T]
	err  error
}

// newWarmValue registers a value computed by compute (given the clock's
// time at its start) with w.
func newWarmValue[T any](w *warmer, name string, compute func(ctx context.Context, now time.Time) (T, error)) *warmValue[T] {
	v := &warmValue[T]{w: w, name: name, compute: compute}
	w.mu.Lock()
	w.values = append(w.values, v)
	w.mu.Unlock()
	return v
}

// get returns the last result, starting a recomputation behind it when
// it is due; before the first result it waits for the computation in
// flight (starting it if none).
func (v *warmValue[T]) get(ctx context.Context) (T, error) {
	v.mu.Lock()
	if cur := v.cur; cur != nil {
		if v.due(v.w.now()) {
			v.start()
		}
		v.mu.Unlock()
		return cur.v, nil
	}
	f := v.start()
	v.mu.Unlock()
	v.waiting.Add(1)
	defer v.waiting.Add(-1)
	var zero T
	select {
	case <-f.done:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	if f.err != nil {
		return zero, f.err
	}
	return f.res.v, nil
}

func (v *warmValue[T]) refresh(first bool) <-chan struct{} {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.flight == nil && !(first && v.cur == nil) && !v.due(v.w.now()) {
		return nil
	}
	return v.start().done
}

// due tells whether cur should be checked against the feed (or the
// day, the indicators' date, has changed); v.mu held.
func (v *warmValue[T]) due(now time.Time) bool {
	return v.flight == nil && now.Sub(v.checked) >= v.w.recheck &&
		(now.Sub(v.cur.at) >= v.w.maxAge || !sameDay(now, v.cur.at))
}

func sameDay(a, b time.Time) bool { return atigip.DateOf(a).Equal(atigip.DateOf(b).Time) }

// start returns the computation in flight, starting one when none is;
// v.mu must be held. The computation is bound by the warmer's lifetime,
// not by any one request: it is shared by all.
func (v *warmValue[T]) start() *warmFlight[T] {
	if v.flight != nil {
		return v.flight
	}
	f := &warmFlight[T]{done: make(chan struct{})}
	if !v.w.spawn(func() { v.run(f) }) {
		f.err = errWarmerClosed
		close(f.done)
		return f
	}
	v.flight = f
	return f
}

// run checks the feed and computes when the result is missing, of
// another day, or behind the feed.
func (v *warmValue[T]) run(f *warmFlight[T]) {
	ctx, cancel := context.WithTimeout(v.w.ctx, warmComputeTimeout)
	defer cancel()
	now := v.w.now()
	v.mu.Lock()
	cur := v.cur
	v.mu.Unlock()
	// The position is read first: a change committed during the
	// computation then shows as newer and triggers the next one.
	seq, err := v.w.feed(ctx)
	if err == nil && cur != nil && seq == cur.seq && sameDay(now, cur.at) {
		v.finish(f, cur, nil, now)
		return
	}
	var res *warmResult[T]
	if err == nil {
		v.computed.Add(1)
		var x T
		if x, err = v.compute(ctx, now); err == nil {
			res = &warmResult[T]{v: x, seq: seq, at: now}
		}
	}
	if err != nil && v.w.ctx.Err() == nil {
		v.w.log.Error("warm "+v.name, "err", err.Error())
	}
	v.finish(f, res, err, now)
}

// finish ends f with res (nil: keep the current result).
func (v *warmValue[T]) finish(f *warmFlight[T], res *warmResult[T], err error, now time.Time) {
	v.mu.Lock()
	v.flight = nil
	// A failure waits for the next check too: the database may be away.
	v.checked = now
	if res != nil {
		v.cur = res
	}
	f.res, f.err = res, err
	if res == nil && err == nil {
		f.res = v.cur
	}
	v.mu.Unlock()
	if errors.Is(err, context.Canceled) && v.w.ctx.Err() != nil {
		f.err = errWarmerClosed
	}
	close(f.done)
}
