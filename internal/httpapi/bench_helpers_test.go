package httpapi

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed/seedtest"
)

// benchScale reads ATIGIP_BENCH_SCALE (the demo set's size), def when it
// is unset or not a number.
func benchScale(def float64) float64 {
	if s := getenv("ATIGIP_BENCH_SCALE"); s != "" {
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			return v
		}
	}
	return def
}

// benchStore seeds the demo set the workspace benchmarks run over: the
// national set unless ATIGIP_BENCH_SCALE says otherwise. It returns the
// scale used, for the benchmarks' logs.
func benchStore(b *testing.B) (atigip.Store, float64) {
	scale := benchScale(1)
	return seedtest.Store(b, scale, 7), scale
}

// timeRequests calls serve n times (i counts the calls; n is b.N, or a
// multiple of it when one iteration serves several pages), with the timer
// reset before and stopped after, fails the benchmark on any status but
// 200 and returns each call's duration.
func timeRequests(b *testing.B, n int, serve func(i int) response) []time.Duration {
	b.Helper()
	durs := make([]time.Duration, 0, n)
	b.ResetTimer()
	for i := range n {
		t0 := time.Now()
		res := serve(i)
		durs = append(durs, time.Since(t0))
		if res.status != 200 {
			b.Fatalf("status %d: %.300s", res.status, res.body)
		}
	}
	b.StopTimer()
	return durs
}

// reportQuantiles sorts durs and reports each quantile q (in percent) in
// milliseconds as the metric "<prefix>p<q>-ms".
func reportQuantiles(b *testing.B, prefix string, durs []time.Duration, qs ...int) {
	slices.Sort(durs)
	for _, q := range qs {
		d := durs[min(len(durs)-1, len(durs)*q/100)]
		b.ReportMetric(float64(d.Microseconds())/1000, prefix+"p"+strconv.Itoa(q)+"-ms")
	}
}

// reportPercentiles reports p50, p95 and p99 of durations in milliseconds.
func reportPercentiles(b *testing.B, durations []time.Duration) {
	reportQuantiles(b, "", durations, 50, 95, 99)
}
