package matching

import (
	"math"
	"slices"

	"github.com/atigip/atigip360/internal/atigip"
)

// grid is a uniform latitude/longitude bucket index of item positions.
// Cells of 0.1° (about 11 km north–south) keep a 15 km radius query to a
// handful of cells, so ranking national posts for one person reads only
// the posts near them.
type grid struct {
	cells map[int64][]gridEntry
}

// gridEntry is one indexed position with its index: a ranking computes
// distances from it and skips what is out of reach without reading the
// item or the person itself.
type gridEntry struct {
	loc atigip.Point
	idx int32
	tig bool // items: a TIG post (else a job at release)
}

const cellDeg = 0.1

func cellOf(p atigip.Point) (int32, int32) {
	return int32(math.Floor(p.Lat / cellDeg)), int32(math.Floor(p.Lon / cellDeg))
}

func cellKey(row, col int32) int64 { return int64(row)<<32 | int64(uint32(col)) }

func (g *grid) add(p atigip.Point, idx int32, tig bool) {
	if g.cells == nil {
		g.cells = map[int64][]gridEntry{}
	}
	r, c := cellOf(p)
	k := cellKey(r, c)
	g.cells[k] = append(g.cells[k], gridEntry{loc: p, idx: idx, tig: tig})
}

// compact gives each cell an array of its length: appends left up to
// twice the entries' room, which at ten times the country is megabytes.
func (g *grid) compact() {
	for k, es := range g.cells {
		if cap(es) > len(es) {
			g.cells[k] = slices.Clone(es)
		}
	}
}

// near calls fn with every index in the cells that intersect the
// bounding box of the circle (centre, km); fn filters by exact distance.
func (g *grid) near(centre atigip.Point, km float64, fn func(*gridEntry)) {
	dLat := km / 111.0
	cosLat := math.Cos((math.Abs(centre.Lat) + dLat) * math.Pi / 180)
	dLon := 180.0
	if cosLat > 0.01 {
		dLon = min(180, km/(111.32*cosLat))
	}
	r0, c0 := cellOf(atigip.Point{Lat: centre.Lat - dLat, Lon: centre.Lon - dLon})
	r1, c1 := cellOf(atigip.Point{Lat: centre.Lat + dLat, Lon: centre.Lon + dLon})
	if int64(r1-r0+1)*int64(c1-c0+1) > int64(len(g.cells)) {
		// A huge radius: scanning the occupied cells is cheaper.
		for k, es := range g.cells {
			row, col := int32(k>>32), int32(uint32(k))
			if row >= r0 && row <= r1 && col >= c0 && col <= c1 {
				for i := range es {
					fn(&es[i])
				}
			}
		}
		return
	}
	for r := r0; r <= r1; r++ {
		for c := c0; c <= c1; c++ {
			es := g.cells[cellKey(r, c)]
			for i := range es {
				fn(&es[i])
			}
		}
	}
}
