package seed

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// places samples real communes weighted by population. Paris, Lyon and
// Marseille are sampled through their arrondissements (more precise, and
// counting the whole city too would double its weight).
type places struct {
	list []refdata.Commune
	cum  []float64 // cumulative population
	// byDep lists, per département, indices into list with their own
	// cumulative weights, to place people near a given prison.
	byDep map[string]*depPlaces
}

type depPlaces struct {
	idx []int
	cum []float64
}

func newPlaces() *places {
	all := refdata.Communes()
	split := map[string]bool{}
	for _, c := range all {
		if c.Kind == refdata.KindArrondissement {
			split[c.Parent] = true
		}
	}
	p := &places{byDep: map[string]*depPlaces{}}
	total := 0.0
	for _, c := range all {
		if split[c.INSEE] {
			continue
		}
		// A few communes (Mayotte) have no population upstream: a tiny
		// weight keeps them drawable within their département.
		w := float64(max(1, c.Population))
		total += w
		p.list = append(p.list, c)
		p.cum = append(p.cum, total)
		d := p.byDep[c.Departement]
		if d == nil {
			d = &depPlaces{}
			p.byDep[c.Departement] = d
		}
		prev := 0.0
		if n := len(d.cum); n > 0 {
			prev = d.cum[n-1]
		}
		d.idx = append(d.idx, len(p.list)-1)
		d.cum = append(d.cum, prev+w)
	}
	return p
}

// pick draws a commune weighted by population.
func (p *places) pick(r *rand.Rand) refdata.Commune {
	return p.list[pickCum(r, p.cum)]
}

// pickInDep draws a commune of département dep weighted by population, or
// any commune when dep is unknown.
func (p *places) pickInDep(r *rand.Rand, dep string) refdata.Commune {
	d := p.byDep[dep]
	if d == nil {
		return p.pick(r)
	}
	return p.list[d.idx[pickCum(r, d.cum)]]
}

// pickCum draws an index from cumulative weights.
func pickCum(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	i := sort.SearchFloat64s(cum, x)
	if i >= len(cum) {
		i = len(cum) - 1
	}
	// SearchFloat64s finds the first cum >= x; skip zero-weight entries.
	for i+1 < len(cum) && cum[i] == x {
		i++
	}
	return i
}

// weighted draws an index from plain weights (small tables).
func weighted(r *rand.Rand, w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	x := r.Float64() * total
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

// centre is the commune centroid as a domain point.
func centre(c refdata.Commune) atigip.Point { return atigip.Point{Lon: c.Lon, Lat: c.Lat} }

// jitterRadiusKm is how far from the centroid a place in c may be: wider in
// big communes, capped so that points stay inside small ones.
func jitterRadiusKm(c refdata.Commune) float64 {
	r := 0.4 + 0.006*math.Sqrt(float64(c.Population))
	limit := 3.0
	if c.Kind == refdata.KindArrondissement {
		limit = 1.2
	}
	return math.Min(r, limit)
}

// jitter moves p uniformly within a disc of radius km.
func jitter(r *rand.Rand, p atigip.Point, km float64) atigip.Point {
	d := km * math.Sqrt(r.Float64())
	return offset(p, d*1000, r.Float64()*2*math.Pi)
}

// offset moves p by m metres towards bearing (radians from north), with an
// equirectangular approximation good at the scale of a commune.
func offset(p atigip.Point, m, bearing float64) atigip.Point {
	const mPerDegLat = 111320.0
	dLat := m * math.Cos(bearing) / mPerDegLat
	dLon := m * math.Sin(bearing) / (mPerDegLat * math.Cos(p.Lat*math.Pi/180))
	return atigip.Point{Lon: round6(p.Lon + dLon), Lat: round6(p.Lat + dLat)}
}

// round6 keeps 6 decimals (about 10 cm): stable output, compact JSON.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// cityName is the name to print in an address: the whole city for an
// arrondissement ("Lyon" for "Lyon 3e Arrondissement").
func cityName(c refdata.Commune) string {
	if c.Kind == refdata.KindArrondissement && c.Parent != "" {
		if pc, ok := refdata.CommuneByINSEE(c.Parent); ok {
			return pc.NameWithArticle
		}
	}
	return c.NameWithArticle
}

// addressIn builds an address in commune c.
func addressIn(c refdata.Commune, street string) atigip.Address {
	return atigip.Address{
		Street: street, Postcode: c.Postcode, City: cityName(c),
		Commune: c.INSEE, Departement: c.Departement, Region: c.Region,
	}
}

// deName gives "de X" with French elision and contraction: "de Lyon",
// "du Mans", "des Mureaux", "d'Angers", "de La Rochelle".
func deName(name string) string {
	switch {
	case strings.HasPrefix(name, "Le "):
		return "du " + name[3:]
	case strings.HasPrefix(name, "Les "):
		return "des " + name[4:]
	case strings.HasPrefix(name, "La ") || strings.HasPrefix(name, "L'"):
		return "de " + name
	}
	if startsWithVowel(name) {
		return "d'" + name
	}
	return "de " + name
}

func startsWithVowel(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	base := refdata.Normalize(string(r))
	if base == "" {
		return false
	}
	switch base[0] {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	// Names in H- are split between elision (Hyères) and none (Hazebrouck):
	// no elision is the safer default.
	return false
}

// townHall names the mairie of c, or of an arrondissement ("Mairie du 3e
// arrondissement de Lyon").
func townHall(c refdata.Commune) string {
	if c.Kind == refdata.KindArrondissement {
		f := strings.Fields(c.NameWithArticle)
		if len(f) >= 3 && strings.EqualFold(f[len(f)-1], "Arrondissement") {
			return "Mairie du " + f[len(f)-2] + " arrondissement " + deName(cityName(c))
		}
	}
	return "Mairie " + deName(c.NameWithArticle)
}

// slugify makes an ASCII label for e-mail domains.
func slugify(s string) string { return strings.ReplaceAll(refdata.Normalize(s), " ", "-") }
