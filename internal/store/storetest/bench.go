package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// NationalPosts is the target size of the national map of TIG posts.
const NationalPosts = 31000

// nationalMix is the national demo set of issue 2, about 100,000 entities.
var nationalMix = []struct {
	kind atigip.Kind
	n    int
}{
	{atigip.KindOrganisation, 15000},
	{atigip.KindPost, NationalPosts},
	{atigip.KindPrison, 176},
	{atigip.KindFloorSpace, 600},
	{atigip.KindOffer, 3000},
	{atigip.KindPerson, 20000},
	{atigip.KindMeasure, 25000},
	{atigip.KindApplication, 5000},
}

// departements is every département code.
var departements = func() []string {
	var ds []string
	for i := 1; i <= 95; i++ {
		if i != 20 {
			ds = append(ds, fmt.Sprintf("%02d", i))
		}
	}
	ds = append(ds, "2A", "2B")
	for i := 971; i <= 976; i++ {
		if i != 975 {
			ds = append(ds, fmt.Sprint(i))
		}
	}
	return ds
}()

// depPicker draws départements with uneven weights, as population is: a
// few départements hold far more posts than the median one.
type depPicker struct {
	cum []float64
	rng *rand.Rand
}

func newDepPicker(seed uint64) *depPicker {
	p := &depPicker{rng: rand.New(rand.NewPCG(seed, 2))}
	total := 0.0
	for i := range departements {
		// Weights 1 to 12 in a fixed scattered order.
		total += float64(1 + (i*7)%12)
		p.cum = append(p.cum, total)
	}
	for i := range p.cum {
		p.cum[i] /= total
	}
	return p
}

func (p *depPicker) pick() string {
	i, _ := slices.BinarySearch(p.cum, p.rng.Float64())
	return departements[min(i, len(departements)-1)]
}

// communeIn returns a valid INSEE commune code of département d.
func communeIn(d string, n int) string {
	if len(d) == 3 {
		return fmt.Sprintf("%s%02d", d, 1+n%50)
	}
	return fmt.Sprintf("%s%03d", d, 1+n%300)
}

// nationalPost is sample post i moved to a département drawn by p.
func nationalPost(p *depPicker, i int) *atigip.Post {
	post := Sample(atigip.KindPost, i).(*atigip.Post)
	d := p.pick()
	post.Address.Departement, post.Address.Commune = d, communeIn(d, i)
	post.Address.Postcode = ""
	return post
}

func nationalPosts(from, n int, seed uint64) []atigip.Entity {
	p := newDepPicker(seed)
	es := make([]atigip.Entity, n)
	for i := range es {
		es[i] = nationalPost(p, from+i)
	}
	return es
}

// Bench measures an adapter at the national scale. open must return a
// fresh migrated store (and close it with b.Cleanup). Sub-benchmarks:
//
//   - SeedNational: CreateMany of the national set, about 100,000
//     entities of every kind (target: well under 60 s embedded);
//   - CreateMany10k: CreateMany of 10,000 posts;
//   - Get: one post by id, among 31,000;
//   - ListDepartement and ListFiltered: one page of 50 posts of a
//     département (and with status, visibility and ROME domain) among
//     31,000, with the total; they report p50-ms, p95-ms and p99-ms
//     (target p95 < 5 ms embedded).
func Bench(b *testing.B, open func(b *testing.B) atigip.Store) {
	b.Run("SeedNational", func(b *testing.B) {
		total := 0
		for _, m := range nationalMix {
			total += m.n
		}
		for range b.N {
			b.StopTimer()
			s := open(b)
			batches := make([][]atigip.Entity, len(nationalMix))
			for i, m := range nationalMix {
				if m.kind == atigip.KindPost {
					batches[i] = nationalPosts(0, m.n, 1)
				} else {
					batches[i] = samples(m.kind, 0, m.n)
				}
			}
			b.StartTimer()
			for i, m := range nationalMix {
				if err := s.Entities(m.kind).CreateMany(b.Context(), batches[i]); err != nil {
					b.Fatalf("seed %s: %v", m.kind, err)
				}
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/seed")
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "entities/s")
	})

	b.Run("CreateMany10k", func(b *testing.B) {
		s := open(b)
		const n = 10000
		for i := range b.N {
			b.StopTimer()
			batch := nationalPosts(i*n, n, uint64(i))
			b.StartTimer()
			if err := s.Entities(atigip.KindPost).CreateMany(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "posts/s")
	})

	// The national map, loaded once for the read benchmarks.
	s := open(b)
	posts := nationalPosts(0, NationalPosts, 1)
	if err := s.Entities(atigip.KindPost).CreateMany(b.Context(), posts); err != nil {
		b.Fatalf("load national posts: %v", err)
	}
	postIDs := ids(posts)

	b.Run("Get", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(3, 4))
		es := s.Entities(atigip.KindPost)
		b.ResetTimer()
		for range b.N {
			if _, err := es.Get(b.Context(), postIDs[rng.IntN(len(postIDs))]); err != nil {
				b.Fatal(err)
			}
		}
	})

	list := func(b *testing.B, filter func(dep string) atigip.ListFilter) {
		picker := newDepPicker(5)
		es := s.Entities(atigip.KindPost)
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			f := filter(picker.pick())
			start := time.Now()
			page, total, err := es.List(b.Context(), f)
			lat = append(lat, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
			if len(page) > 50 || len(page) > total {
				b.Fatalf("page of %d for total %d", len(page), total)
			}
		}
		b.StopTimer()
		slices.Sort(lat)
		pct := func(p float64) float64 {
			return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
		}
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.95), "p95-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
	}
	b.Run("ListDepartement", func(b *testing.B) {
		list(b, func(dep string) atigip.ListFilter { return atigip.ListFilter{Departement: dep, Limit: 50} })
	})
	b.Run("ListFiltered", func(b *testing.B) {
		list(b, func(dep string) atigip.ListFilter {
			return atigip.ListFilter{Departement: dep, Status: []string{string(atigip.PostOpen), string(atigip.PostRegistered)},
				PublicOnly: true, ROME: "A", Limit: 50}
		})
	})
	// What a request with a session cookie costs: one primary-key read
	// among 10,000 open sessions.
	b.Run("SessionRead", func(b *testing.B) {
		ss, ok := open(b).(atigip.SessionStore)
		if !ok {
			b.Skip("store without sessions")
		}
		now := time.Now()
		const n = 10000
		for i := range n {
			s := atigip.BrowserSession{Key: fmt.Sprintf("%064d", i), Principal: atigip.Principal{Subject: "u", Role: atigip.RoleCPIP},
				Created: now, Seen: now}
			if err := ss.CreateSession(b.Context(), s); err != nil {
				b.Fatal(err)
			}
		}
		r := rand.New(rand.NewPCG(1, 2))
		b.ResetTimer()
		for range b.N {
			if _, err := ss.Session(b.Context(), fmt.Sprintf("%064d", r.IntN(n)), now.Add(-time.Hour), now.Add(-time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/read")
	})
}
