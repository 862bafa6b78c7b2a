package tiles

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/simplify"
)

// simplifyLevels returns mp simplified for zooms 0..maxZ with a
// Douglas-Peucker tolerance of tolUnits tile units at each zoom. A polygon
// whose exterior collapses at a zoom is left out of that zoom.
func simplifyLevels(mp orb.MultiPolygon, maxZ, extent int, tolUnits float64) []orb.MultiPolygon {
	out := make([]orb.MultiPolygon, maxZ+1)
	for z := 0; z <= maxZ; z++ {
		tol := tolUnits / (float64(extent) * float64(uint64(1)<<z))
		s := simplify.DouglasPeucker(tol).MultiPolygon(orb.Clone(mp).(orb.MultiPolygon))
		var kept orb.MultiPolygon
		for _, p := range s {
			if len(p) > 0 && len(p[0]) >= 4 {
				kept = append(kept, p)
			}
		}
		out[z] = kept
	}
	return out
}

// tilePolygons projects mp (normalised Web Mercator) into tile units,
// clips it to the tile plus buffer, snaps it to the integer grid and
// cleans it so that it is valid MVT: closed rings without repeated points,
// exterior rings of positive area and holes of negative area (the MVT 2.1
// surveyor's-formula rule, y down), degenerate rings dropped, and a hole
// dropped with its exterior. It returns nil when nothing is left.
func tilePolygons(mp orb.MultiPolygon, parts []orb.Bound, tb tileBounds, extent, buffer int) orb.MultiPolygon {
	lo, hi := -float64(buffer), float64(extent+buffer)
	box := orb.Bound{Min: orb.Point{lo, lo}, Max: orb.Point{hi, hi}}
	var out orb.MultiPolygon
	for i, poly := range mp {
		if len(poly) == 0 || (parts != nil && !intersectsTile(parts[i], tb, extent, buffer)) {
			continue
		}
		ext, b := projectRing(poly[0], tb)
		if !b.Intersects(box) {
			continue
		}
		p := orb.Polygon{ext}
		for _, hole := range poly[1:] {
			h, hb := projectRing(hole, tb)
			if hb.Intersects(box) {
				p = append(p, h)
			}
		}
		if c := cleanPolygon(p, box); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// cleanPolygon clips p (tile units, our own copy: clip.Polygon uses its
// input as scratch space) to box, snaps it to the grid and fixes its
// winding; nil when nothing valid is left. Ours, not go-spatial/geom
// v0.1.0 makevalid: 60× slower on bench tiles, and it links cgo go-sqlite3.
func cleanPolygon(p orb.Polygon, box orb.Bound) orb.Polygon {
	p = clip.Polygon(box, p)
	if p == nil {
		return nil
	}
	var clean orb.Polygon
	for i, r := range p {
		r = snapRing(r)
		if r == nil {
			if i == 0 {
				return nil // no exterior: its holes go too
			}
			continue
		}
		a := ringArea(r)
		if (i == 0 && a < 0) || (i > 0 && a > 0) {
			reverseRing(r)
		}
		clean = append(clean, r)
	}
	return clean
}

func projectRing(r orb.Ring, tb tileBounds) (orb.Ring, orb.Bound) {
	out := make(orb.Ring, len(r))
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for i, p := range r {
		x, y := tb.toTile(p[0], p[1])
		out[i] = orb.Point{x, y}
		b.Min[0], b.Min[1] = math.Min(b.Min[0], x), math.Min(b.Min[1], y)
		b.Max[0], b.Max[1] = math.Max(b.Max[0], x), math.Max(b.Max[1], y)
	}
	return out, b
}

// snapRing rounds r to integers, removes repeated points and spikes
// (a point whose neighbours are equal) and closes it; it returns nil for a
// ring with fewer than three distinct corners or no area.
func snapRing(r orb.Ring) orb.Ring {
	out := r[:0]
	for _, p := range r {
		q := orb.Point{math.Round(p[0]), math.Round(p[1])}
		if n := len(out); n > 0 && out[n-1] == q {
			continue
		}
		out = append(out, q)
		// A spike a→b→a collapses to a.
		if n := len(out); n >= 3 && out[n-1] == out[n-3] {
			out = out[:n-2]
		}
	}
	// Open the ring to clean the seam, then close it again.
	for len(out) > 1 && out[0] == out[len(out)-1] {
		out = out[:len(out)-1]
	}
	for len(out) >= 3 && out[len(out)-1] == out[1] { // spike at the seam
		out = out[1 : len(out)-1]
	}
	if len(out) < 3 {
		return nil
	}
	out = append(out, out[0])
	if ringArea(out) == 0 {
		return nil
	}
	return out
}

// ringArea is the surveyor's formula in tile coordinates (y down): positive
// for an MVT exterior ring.
func ringArea(r orb.Ring) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return s / 2
}

func reverseRing(r orb.Ring) {
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
}

// intersectsTile reports whether b (normalised Web Mercator) meets the
// tile enlarged by buffer tile units.
func intersectsTile(b orb.Bound, tb tileBounds, extent, buffer int) bool {
	pad := float64(buffer) / tb.scale
	span := float64(extent) / tb.scale
	return b.Max[0] >= tb.originX-pad && b.Min[0] <= tb.originX+span+pad &&
		b.Max[1] >= tb.originY-pad && b.Min[1] <= tb.originY+span+pad
}
