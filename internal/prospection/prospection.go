package prospection

import (
	"cmp"
	"math"
	"slices"
	"sync"
)

// DefaultRadiusKm is the distance beyond which a commune counts as far
// from any open post.
const DefaultRadiusKm = 15

// nearestCapKm bounds the nearest-post search: farther posts show as
// « plus de 60 km ».
const nearestCapKm = 60

// Commune is a commune with its population and centroid.
type Commune struct {
	INSEE, Name, Departement, Region string
	Population                       int
	Lon, Lat                         float64
}

// Post is a TIG post offered (registered, open or full) at a place; Open
// marks the ones taking people now.
type Post struct {
	Commune, Departement string
	Lon, Lat             float64
	Open                 bool
}

// Input is what Compute works on. Waiting holds the home commune (INSEE)
// of each measure waiting to be placed; RadiusKm 0 means DefaultRadiusKm.
// Compute keeps an index of the last Communes slice it saw: pass a new
// slice, not the same one changed in place, when the communes change.
type Input struct {
	Communes []Commune
	Posts    []Post
	Waiting  []string
	RadiusKm float64
}

// CommuneRow is one commune's coverage.
type CommuneRow struct {
	Commune
	Posts, Open int
	Per10k      float64 // posts offered per 10,000 inhabitants
	// NearestKm is the distance to the nearest open post, -1 beyond
	// nearestCapKm (or none at all).
	NearestKm float64
	Far       bool // no open post within the radius
	Waiting   int  // measures waiting whose person lives here
}

// DepRow is one département's coverage.
type DepRow struct {
	Code, Region  string
	Population    int
	Posts, Open   int
	Per10k        float64
	Communes      int
	FarCommunes   int
	FarPopulation int
	Waiting       int
	WaitingFar    int // waiting measures in far communes: for lack of a post nearby
}

// Result is the prospection: communes sorted with the far ones first,
// then by population (largest first); départements by code.
type Result struct {
	RadiusKm     float64
	Communes     []CommuneRow
	Departements []DepRow
	FarCommunes  int
	WaitingFar   int
}

// Compute computes the coverage of every commune and département.
func Compute(in Input) Result {
	radius := in.RadiusKm
	if radius <= 0 {
		radius = DefaultRadiusKm
	}
	ix := indexOf(in.Communes)
	byINSEE := ix.byINSEE
	rows := make([]CommuneRow, len(in.Communes))
	for i, c := range in.Communes {
		rows[i] = CommuneRow{Commune: c, NearestKm: -1}
	}
	var open [][2]float64
	for _, p := range in.Posts {
		if i, ok := byINSEE[p.Commune]; ok {
			rows[i].Posts++
			if p.Open {
				rows[i].Open++
			}
		}
		if p.Open && validPoint(p.Lon, p.Lat) {
			open = append(open, [2]float64{p.Lon, p.Lat})
		}
	}
	g := newGrid(open)
	for _, code := range in.Waiting {
		if i, ok := byINSEE[code]; ok {
			rows[i].Waiting++
		}
	}
	depRows := make([]DepRow, len(ix.depCodes))
	for i, code := range ix.depCodes {
		depRows[i] = DepRow{Code: code}
	}
	res := Result{RadiusKm: radius}
	for i := range rows {
		r := &rows[i]
		r.Per10k = per10k(r.Posts, r.Population)
		if d, ok := g.nearest(r.Lon, r.Lat, nearestCapKm); ok {
			r.NearestKm = math.Round(d*10) / 10
		}
		r.Far = r.NearestKm < 0 || r.NearestKm > radius
		d := &depRows[ix.dep[i]]
		d.Region = r.Region
		d.Population += r.Population
		d.Communes++
		d.Waiting += r.Waiting
		if r.Far {
			d.FarCommunes++
			d.FarPopulation += r.Population
			d.WaitingFar += r.Waiting
			res.FarCommunes++
			res.WaitingFar += r.Waiting
		}
	}
	// Posts count in their own département even where the commune code is
	// unknown to the reference (an arrondissement, a typo).
	for _, p := range in.Posts {
		if j, ok := ix.depIndex[p.Departement]; ok {
			depRows[j].Posts++
			if p.Open {
				depRows[j].Open++
			}
		}
	}
	for i := range depRows {
		depRows[i].Per10k = per10k(depRows[i].Posts, depRows[i].Population)
	}
	res.Departements = depRows
	slices.SortFunc(res.Departements, func(a, b DepRow) int { return cmp.Compare(a.Code, b.Code) })
	// Far first, then by population: communes given in population order
	// (as Communes gives them) only need a stable partition.
	if !slices.IsSortedFunc(rows, byPopulation) {
		slices.SortStableFunc(rows, byPopulation)
	}
	out := make([]CommuneRow, 0, len(rows))
	for _, far := range []bool{true, false} {
		for _, r := range rows {
			if r.Far == far {
				out = append(out, r)
			}
		}
	}
	rows = out
	res.Communes = rows
	return res
}

func per10k(n, pop int) float64 {
	if pop <= 0 {
		return 0
	}
	return math.Round(float64(n)/float64(pop)*10000*100) / 100
}

func validPoint(lon, lat float64) bool {
	return lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90 && (lon != 0 || lat != 0)
}

// cellDeg is the grid's cell side in degrees of latitude (about 11 km):
// small enough that a city's cell holds few posts, large enough that most
// communes find their nearest post within a ring or two; the ring search
// stops as soon as no farther ring can hold a nearer post.
const cellDeg = 0.1

// maxCells bounds the dense grid (France with its overseas départements
// takes about 850,000 cells); beyond it points are dropped from the grid
// rather than using unbounded memory.
const maxCells = 4 << 20

// grid is a dense array of cellDeg × cellDeg cells over the points'
// bounding box, each cell's points contiguous (start[i]..start[i+1]).
// Longitudes are not scaled, so a cell is narrower than tall away from
// the equator, which the search accounts for.
type grid struct {
	x0, y0, w, h int32
	start        []int32
	pts          [][2]float64
}

func cellX(lon float64) int32 { return int32(math.Floor(lon / cellDeg)) }
func cellY(lat float64) int32 { return int32(math.Floor(lat / cellDeg)) }

func newGrid(pts [][2]float64) grid {
	if len(pts) == 0 {
		return grid{}
	}
	g := grid{x0: math.MaxInt32, y0: math.MaxInt32}
	x1, y1 := int32(math.MinInt32), int32(math.MinInt32)
	for _, p := range pts {
		x, y := cellX(p[0]), cellY(p[1])
		g.x0, g.y0, x1, y1 = min(g.x0, x), min(g.y0, y), max(x1, x), max(y1, y)
	}
	g.w, g.h = x1-g.x0+1, y1-g.y0+1
	if int64(g.w)*int64(g.h) > maxCells {
		return grid{}
	}
	g.start = make([]int32, int(g.w)*int(g.h)+1)
	for _, p := range pts {
		g.start[g.index(cellX(p[0]), cellY(p[1]))+1]++
	}
	for i := 1; i < len(g.start); i++ {
		g.start[i] += g.start[i-1]
	}
	next := make([]int32, len(g.start))
	copy(next, g.start)
	g.pts = make([][2]float64, len(pts))
	for _, p := range pts {
		i := g.index(cellX(p[0]), cellY(p[1]))
		g.pts[next[i]] = p
		next[i]++
	}
	return g
}

func (g *grid) index(x, y int32) int { return int(y-g.y0)*int(g.w) + int(x-g.x0) }

// cell returns the points of cell (x, y), none outside the grid.
func (g *grid) cell(x, y int32) [][2]float64 {
	if x < g.x0 || y < g.y0 || x >= g.x0+g.w || y >= g.y0+g.h {
		return nil
	}
	i := g.index(x, y)
	return g.pts[g.start[i]:g.start[i+1]]
}

// kmPerDeg is the length of a degree of latitude.
const kmPerDeg = 111.2

// nearest returns the distance in km to the nearest point within capKm.
// Candidates are sifted on an equirectangular projection around the
// commune (cheap); those within 1 % of the best are measured on the
// sphere, which decides.
func (g *grid) nearest(lon, lat, capKm float64) (float64, bool) {
	if len(g.pts) == 0 {
		return 0, false
	}
	cx, cy := cellX(lon), cellY(lat)
	cosLat := math.Max(math.Cos(lat*math.Pi/180), 0.05)
	dy := int32(math.Ceil(capKm / kmPerDeg / cellDeg))
	dx := int32(math.Ceil(capKm / (kmPerDeg * cosLat) / cellDeg))
	// The narrowest side of a cell, in km, with a margin for the cosine
	// changing across the search.
	side := cellDeg * kmPerDeg * cosLat * 0.95
	best, bestKm := math.Inf(1), math.Inf(1)
	for ring := int32(0); ring <= max(dx, dy); ring++ {
		if ring > 0 && float64(ring-1)*side > math.Sqrt(best) {
			break
		}
		for y := cy - min(ring, dy); y <= cy+min(ring, dy); y++ {
			// On the ring's top and bottom rows every cell; between them,
			// the two side cells only.
			step := int32(1)
			if abs32(y-cy) != ring && ring > 0 {
				step = 2 * ring
			}
			for x := cx - min(ring, dx); x <= cx+min(ring, dx); x += step {
				if max(abs32(x-cx), abs32(y-cy)) != ring {
					continue
				}
				for _, p := range g.cell(x, y) {
					ex := (p[0] - lon) * cosLat * kmPerDeg
					ey := (p[1] - lat) * kmPerDeg
					// Near-ties on the projection are settled on the sphere.
					if d := ex*ex + ey*ey; d < best*1.02 {
						if h := Haversine(lon, lat, p[0], p[1]); h < bestKm {
							bestKm = h
						}
						best = min(best, d)
					}
				}
			}
		}
	}
	if math.IsInf(bestKm, 1) {
		return 0, false
	}
	return bestKm, bestKm <= capKm
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// Haversine is the great-circle distance in km.
func Haversine(lon1, lat1, lon2, lat2 float64) float64 {
	const r = 6371.0
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// byPopulation orders communes by population, largest first, then by code.
func byPopulation(a, b CommuneRow) int {
	if c := cmp.Compare(b.Population, a.Population); c != 0 {
		return c
	}
	return cmp.Compare(a.INSEE, b.INSEE)
}

// communeIndex is what Compute derives from the communes alone: codes to
// positions, and each commune's département.
type communeIndex struct {
	byINSEE  map[string]int
	dep      []int32 // département of each commune, into depCodes
	depCodes []string
	depIndex map[string]int
}

// lastIndex keeps the index of the last communes slice: the same slice
// (Communes) comes back at each run, and the index costs a quarter of
// a national run.
var lastIndex struct {
	sync.Mutex
	first *Commune
	n     int
	ix    *communeIndex
}

func indexOf(cs []Commune) *communeIndex {
	if len(cs) == 0 {
		return &communeIndex{byINSEE: map[string]int{}, depIndex: map[string]int{}}
	}
	lastIndex.Lock()
	defer lastIndex.Unlock()
	if lastIndex.first == &cs[0] && lastIndex.n == len(cs) {
		return lastIndex.ix
	}
	ix := &communeIndex{byINSEE: make(map[string]int, len(cs)), dep: make([]int32, len(cs)), depIndex: map[string]int{}}
	for i, c := range cs {
		ix.byINSEE[c.INSEE] = i
		if _, ok := ix.depIndex[c.Departement]; !ok {
			ix.depIndex[c.Departement] = -1
			ix.depCodes = append(ix.depCodes, c.Departement)
		}
	}
	slices.Sort(ix.depCodes)
	for j, code := range ix.depCodes {
		ix.depIndex[code] = j
	}
	for i, c := range cs {
		ix.dep[i] = int32(ix.depIndex[c.Departement])
	}
	lastIndex.first, lastIndex.n, lastIndex.ix = &cs[0], len(cs), ix
	return ix
}
