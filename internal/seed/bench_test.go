package seed_test

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/internal/seed/seedtest"
)

// cpuTime is the processor time this process used so far (user and
// system): on a shared machine the wall time follows the load, this much
// less.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSeed seeds a fresh SQLite store at scale per iteration and reports
// the seconds per full seed (wall and processor), the entities created
// and the insertion rate.
func benchSeed(b *testing.B, scale float64) {
	ctx := context.Background()
	var rep seed.Report
	var total, cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := seedtest.Empty(b)
		b.StartTimer()
		var err error
		c0 := cpuTime(b)
		rep, err = seed.Run(ctx, db, seed.Options{Scale: scale, Seed: 1, Now: today})
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime(b) - c0
		total += rep.Duration
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	secs := total.Seconds() / float64(b.N)
	b.ReportMetric(secs, "s/seed")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/seed")
	b.ReportMetric(float64(rep.Total()), "entities")
	b.ReportMetric(float64(rep.Total())/secs, "entities/s")
	b.ReportMetric(rep.Generate.Seconds(), "s/generate")
	for k, n := range rep.Counts {
		b.ReportMetric(float64(n), string(k))
	}
}

// BenchmarkSeedNational seeds the national set (scale 1) into SQLite:
// the target is under 60 s.
func BenchmarkSeedNational(b *testing.B) { benchSeed(b, 1) }

// BenchmarkSeedScale seeds the scale of ATIGIP_BENCH_SCALE (skipped when
// unset: scale 10 is 900,000 entities).
func BenchmarkSeedScale(b *testing.B) {
	scale, err := strconv.ParseFloat(os.Getenv("ATIGIP_BENCH_SCALE"), 64)
	if err != nil {
		b.Skip("set ATIGIP_BENCH_SCALE (e.g. 10)")
	}
	benchSeed(b, scale)
}

// BenchmarkSeedSmall seeds 5 % of the national set into SQLite.
func BenchmarkSeedSmall(b *testing.B) { benchSeed(b, 0.05) }

// BenchmarkGenerateNational builds the national set in memory only.
func BenchmarkGenerateNational(b *testing.B) {
	for i := 0; i < b.N; i++ {
		d, err := seed.Generate(seed.Options{Scale: 1, Seed: 1, Now: today})
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			n := 0
			for _, c := range d.Counts() {
				n += c
			}
			b.ReportMetric(float64(n), "entities")
		}
	}
}
