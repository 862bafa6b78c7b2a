package seed_test

import (
	"context"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/internal/seed/seedtest"
)

// benchSeed seeds a fresh SQLite store at scale per iteration and reports
// the seconds per full seed, the entities created and the insertion rate.
func benchSeed(b *testing.B, scale float64) {
	ctx := context.Background()
	var rep seed.Report
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := seedtest.Empty(b)
		b.StartTimer()
		var err error
		rep, err = seed.Run(ctx, db, seed.Options{Scale: scale, Seed: 1, Now: today})
		if err != nil {
			b.Fatal(err)
		}
		total += rep.Duration
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	secs := total.Seconds() / float64(b.N)
	b.ReportMetric(secs, "s/seed")
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
