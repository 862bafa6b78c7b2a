package prospection_test

import (
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/prospection"
)

func TestCompute(t *testing.T) {
	// Lyon, Villeurbanne (about 5 km apart), and a village about 40 km away.
	communes := []prospection.Commune{
		{INSEE: "69123", Name: "Lyon", Departement: "69", Population: 500000, Lon: 4.835, Lat: 45.758},
		{INSEE: "69266", Name: "Villeurbanne", Departement: "69", Population: 150000, Lon: 4.880, Lat: 45.771},
		{INSEE: "69001", Name: "Village", Departement: "69", Population: 1000, Lon: 4.40, Lat: 46.05},
		{INSEE: "13055", Name: "Marseille", Departement: "13", Population: 870000, Lon: 5.37, Lat: 43.30},
	}
	posts := []prospection.Post{
		{Commune: "69123", Departement: "69", Lon: 4.835, Lat: 45.758, Open: true},
		{Commune: "69123", Departement: "69", Lon: 4.84, Lat: 45.76, Open: false},
		{Commune: "13055", Departement: "13", Lon: 5.37, Lat: 43.30, Open: false}, // full: not open
		{Commune: "75101", Departement: "75", Lon: 2.34, Lat: 48.86, Open: true},  // unknown commune
	}
	waiting := []string{"69001", "69001", "69123", "13055", "99999"}
	r := prospection.Compute(prospection.Input{Communes: communes, Posts: posts, Waiting: waiting})
	if r.RadiusKm != 15 {
		t.Errorf("radius %v, want the default 15", r.RadiusKm)
	}
	byCode := map[string]prospection.CommuneRow{}
	for _, c := range r.Communes {
		byCode[c.INSEE] = c
	}
	tests := []struct {
		code          string
		posts, open   int
		per10k        float64
		far           bool
		waiting       int
		nearMin, near float64
	}{
		{"69123", 2, 1, 0.04, false, 1, 0, 0.1},
		{"69266", 0, 0, 0, false, 0, 3, 5},
		{"69001", 0, 0, 0, true, 2, 40, 50},
		{"13055", 1, 0, 0.01, true, 1, -1, -1}, // the nearest open post is beyond 60 km
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			c := byCode[tc.code]
			if c.Posts != tc.posts || c.Open != tc.open || c.Per10k != tc.per10k || c.Far != tc.far || c.Waiting != tc.waiting {
				t.Errorf("got %+v", c)
			}
			if c.NearestKm < tc.nearMin || c.NearestKm > tc.near {
				t.Errorf("nearest %v km, want in [%v, %v]", c.NearestKm, tc.nearMin, tc.near)
			}
		})
	}
	// Far communes first, then by population.
	if r.Communes[0].INSEE != "13055" || r.Communes[1].INSEE != "69001" || r.Communes[2].INSEE != "69123" {
		t.Errorf("order %v %v %v", r.Communes[0].INSEE, r.Communes[1].INSEE, r.Communes[2].INSEE)
	}
	if r.FarCommunes != 2 || r.WaitingFar != 3 {
		t.Errorf("far %d, waiting far %d; want 2, 3", r.FarCommunes, r.WaitingFar)
	}
	if len(r.Departements) != 2 || r.Departements[0].Code != "13" {
		t.Fatalf("départements %+v", r.Departements)
	}
	d69 := r.Departements[1]
	if d69.Population != 651000 || d69.Posts != 2 || d69.Open != 1 || d69.FarCommunes != 1 || d69.FarPopulation != 1000 ||
		d69.Waiting != 3 || d69.WaitingFar != 2 || d69.Per10k != 0.03 {
		t.Errorf("69: %+v", d69)
	}
}

func TestComputeRadius(t *testing.T) {
	communes := []prospection.Commune{{INSEE: "69001", Departement: "69", Population: 10, Lon: 4.40, Lat: 46.05}}
	posts := []prospection.Post{{Commune: "69123", Departement: "69", Lon: 4.835, Lat: 45.758, Open: true}}
	for _, tc := range []struct {
		radius float64
		far    bool
	}{{15, true}, {50, false}} {
		r := prospection.Compute(prospection.Input{Communes: communes, Posts: posts, RadiusKm: tc.radius})
		if r.Communes[0].Far != tc.far {
			t.Errorf("radius %v: far %v", tc.radius, r.Communes[0].Far)
		}
	}
}

// TestNearestMatchesBruteForce checks the grid search against every pair.
func TestNearestMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var posts []prospection.Post
	for range 300 {
		posts = append(posts, prospection.Post{Lon: -1 + rng.Float64()*8, Lat: 42 + rng.Float64()*8, Open: rng.IntN(4) > 0})
	}
	var communes []prospection.Commune
	for i := range 2000 {
		communes = append(communes, prospection.Commune{INSEE: string(rune('A'+i%26)) + string(rune(i)), Departement: "01",
			Population: 1, Lon: -1.5 + rng.Float64()*9, Lat: 41.5 + rng.Float64()*9})
	}
	r := prospection.Compute(prospection.Input{Communes: communes, Posts: posts})
	for _, c := range r.Communes {
		best := math.Inf(1)
		for _, p := range posts {
			if p.Open {
				best = min(best, prospection.Haversine(c.Lon, c.Lat, p.Lon, p.Lat))
			}
		}
		want := math.Round(best*10) / 10
		if best > 60 {
			want = -1
		}
		if c.NearestKm != want {
			t.Fatalf("commune at %v,%v: nearest %v, brute force %v", c.Lon, c.Lat, c.NearestKm, want)
		}
		if c.Far != (best > 15) {
			t.Fatalf("commune at %v,%v: far %v at %v km", c.Lon, c.Lat, c.Far, best)
		}
	}
}

func TestCommunes(t *testing.T) {
	cs := prospection.Communes()
	if len(cs) < 34000 {
		t.Fatalf("%d communes", len(cs))
	}
	pop := 0
	for _, c := range cs {
		pop += c.Population
		if c.INSEE == "75101" {
			t.Fatal("an arrondissement is listed as a commune")
		}
	}
	if pop < 60_000_000 || pop > 70_000_000 {
		t.Errorf("population %d", pop)
	}
	if got := prospection.CommuneOf("75101"); got != "75056" {
		t.Errorf("CommuneOf(75101) = %s", got)
	}
	if got := prospection.CommuneOf("69266"); got != "69266" {
		t.Errorf("CommuneOf(69266) = %s", got)
	}
}

// BenchmarkComputeNational runs the prospection over every commune of
// France with 31,000 posts (the contract's target) spread over communes
// weighted by population, and 5,000 waiting measures.
func BenchmarkComputeNational(b *testing.B) {
	cs := prospection.Communes()
	rng := rand.New(rand.NewPCG(3, 4))
	// Weighted draw: posts follow the population.
	cum := make([]int, len(cs))
	total := 0
	for i, c := range cs {
		total += c.Population
		cum[i] = total
	}
	draw := func() prospection.Commune {
		n := rng.IntN(total)
		lo, hi := 0, len(cum)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cum[mid] > n {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return cs[lo]
	}
	in := prospection.Input{Communes: cs}
	for range 31000 {
		c := draw()
		in.Posts = append(in.Posts, prospection.Post{Commune: c.INSEE, Departement: c.Departement,
			Lon: c.Lon + (rng.Float64()-0.5)*0.02, Lat: c.Lat + (rng.Float64()-0.5)*0.02, Open: rng.IntN(3) > 0})
	}
	for range 5000 {
		in.Waiting = append(in.Waiting, draw().INSEE)
	}
	var r prospection.Result
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		r = prospection.Compute(in)
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	// CPU time (user + system, all threads) per run: on a shared machine
	// the wall time mostly measures the wait for a core.
	cpu := time.Duration(after.Utime.Nano()-before.Utime.Nano()) + time.Duration(after.Stime.Nano()-before.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(r.FarCommunes), "far-communes")
	b.ReportMetric(float64(len(r.Communes)), "communes")
}
