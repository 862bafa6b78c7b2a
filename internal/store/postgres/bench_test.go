package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/store/postgres/pgtest"
	"github.com/atigip/atigip360/internal/store/storetest"
)

// nationalPosts returns n valid posts spread over the 95 metropolitan
// départements, as the national demo set is, so that a département filter
// selects about 1 % of them. Status, visibility and ROME codes are drawn
// independently (the samples cycle them together, which would make some
// filter combinations empty and mislead the planner).
func nationalPosts(n int) []atigip.Entity {
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := []atigip.PostStatus{atigip.PostOpen, atigip.PostOpen, atigip.PostOpen, atigip.PostRegistered, atigip.PostFull, atigip.PostClosed}
	codes := []string{"A1203", "A1101", "K2204", "N1103", "G1602", "K1302", "H2102", "F1703", "D1106", "J1301"}
	es := make([]atigip.Entity, n)
	for i := range es {
		p := storetest.Sample(atigip.KindPost, i).(*atigip.Post)
		p.Status = statuses[rng.IntN(len(statuses))]
		p.Visibility = []atigip.Visibility{atigip.VisibilityPublic, atigip.VisibilityJustice}[rng.IntN(2)]
		p.ROMECodes = []string{codes[rng.IntN(len(codes))]}
		if rng.IntN(4) == 0 {
			p.ROMECodes = append(p.ROMECodes, codes[rng.IntN(len(codes))])
		}
		d := 1 + i%95
		if d == 20 {
			d = 69 // no "20" since 1976: Corsica is 2A/2B
		}
		dep := fmt.Sprintf("%02d", d)
		p.Address.Departement, p.Address.Commune = dep, dep+fmt.Sprintf("%03d", 1+i%300)
		es[i] = p
	}
	return es
}

// BenchmarkStore is the shared benchmark of the stores: seeding the
// national set (about 100,000 entities), bulk create, get and filtered
// pages with their p50/p95/p99.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) atigip.Store { return openURL(b, pgtest.URL(b)) })
}

// BenchmarkListMixed times filtered pages (50 rows and the total) over
// 31,000 posts with filters BenchmarkStore leaves out: an exact ROME code,
// a commune; it reports p50 and p95 overall and logs them per filter.
func BenchmarkListMixed(b *testing.B) {
	db := openURL(b, pgtest.URL(b))
	ctx := context.Background()
	posts := db.Entities(atigip.KindPost)
	if err := posts.CreateMany(ctx, nationalPosts(31_000)); err != nil {
		b.Fatal(err)
	}
	filters := []atigip.ListFilter{
		{Departement: "69"},
		{Departement: "13", Status: []string{"open", "registered"}},
		{Departement: "75", ROME: "A", PublicOnly: true},
		{ROME: "K2204", Status: []string{"open"}},
		{Commune: "69123"},
	}
	var lat []time.Duration
	per := make([][]time.Duration, len(filters))
	i := 0
	for b.Loop() {
		start := time.Now()
		if _, _, err := posts.List(ctx, filters[i%len(filters)]); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		lat = append(lat, d)
		per[i%len(filters)] = append(per[i%len(filters)], d)
		i++
	}
	for j, p := range per {
		if len(p) > 0 {
			slices.Sort(p)
			b.Logf("%+v: p50 %v, p95 %v", filters[j], p[len(p)/2], p[len(p)*95/100])
		}
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
}
