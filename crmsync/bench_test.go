package crmsync_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/atigip/atigip360/crmsync"
	"github.com/atigip/atigip360/crmsync/axelorfake"
)

// benchEnv uses timings closer to production than the tests: 1 s per
// attempt (a slow answer takes 1.5 s, so it times out), backoff 10 ms to
// 200 ms, Retry-After honoured up to 200 ms, 8 concurrent write-backs.
func benchEnv(b *testing.B, n int) *env {
	e := newEnv(b, n, 11)
	e.cfg.RequestTimeout = time.Second
	e.cfg.RetryWaitMin, e.cfg.RetryWaitMax, e.cfg.RetryAfterMax = 10*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond
	e.cfg.PushWorkers = 8
	return e
}

// BenchmarkFullSync20k: first sync of 20,000 partners through 10 % faults
// of every kind (pull, geocoding and write-back of ~2,800 coordinates).
func BenchmarkFullSync20k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := benchEnv(b, 20000)
		e.fake.SetFaults(axelorfake.FaultPlan{Rate: 0.10, SlowDelay: 1500 * time.Millisecond, Seed: uint64(i + 1)})
		s := e.syncer()
		b.StartTimer()
		start := time.Now()
		rep, err := s.Run(context.Background(), crmsync.RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		b.ReportMetric(el.Seconds(), "s/sync")
		b.ReportMetric(float64(rep.Seen)/el.Seconds(), "partners/s")
		b.ReportMetric(float64(rep.Pushed), "pushes")
		b.ReportMetric(float64(e.client.Stats().Retries), "retries")
	}
}

// BenchmarkIncremental100: incremental sync of 100 partner changes in a
// CRM of 20,000, after a full sync.
func BenchmarkIncremental100(b *testing.B) {
	e := benchEnv(b, 20000)
	s := e.syncer()
	ctx := context.Background()
	if _, err := s.Run(ctx, crmsync.RunOptions{}); err != nil {
		b.Fatal(err)
	}
	// the first incremental run re-reads our own coordinate write-backs
	if _, err := s.Run(ctx, crmsync.RunOptions{}); err != nil {
		b.Fatal(err)
	}
	ps := e.fake.Partners()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		changed := 0
		for j := (i * 131) % len(ps); changed < 100; j = (j + 197) % len(ps) {
			if ps[j].IsContact {
				continue
			}
			if err := e.fake.Modify(ps[j].ID, map[string]any{"fixedPhone": "03 80 " + strconv.Itoa(i) + " " + strconv.Itoa(changed)}); err != nil {
				b.Fatal(err)
			}
			changed++
		}
		b.StartTimer()
		start := time.Now()
		rep, err := s.Run(ctx, crmsync.RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/sync")
		if rep.Seen < 100 {
			b.Fatalf("saw %d changes", rep.Seen)
		}
	}
}
