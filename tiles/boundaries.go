package tiles

import (
	"fmt"
	"math"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/geojson"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// boundaryDetailZoom is the last zoom with its own simplification: the IGN
// outlines are already simplified at source, deeper zooms reuse it.
const boundaryDetailZoom = 12

// boundaryTolerance is the simplification tolerance in tile units: a
// quarter of a screen pixel on a 512 px tile of extent 4096.
const boundaryTolerance = 2.0

type boundarySet struct {
	regions, departements []*polyRec
	bound                 orb.Bound
}

var boundaryOnce sync.Map // extent → *boundaryLoad

type boundaryLoad struct {
	once sync.Once
	set  *boundarySet
	err  error
}

// loadBoundaries parses and simplifies the IGN outlines once per process
// and extent: they are static and shared by every engine.
func loadBoundaries(extent int) (*boundarySet, error) {
	v, _ := boundaryOnce.LoadOrStore(extent, &boundaryLoad{})
	l := v.(*boundaryLoad)
	l.once.Do(func() {
		s := &boundarySet{}
		var err error
		if s.regions, err = parseBoundaries(refdata.RegionsGeoJSON(), "region", extent, 0); err != nil {
			l.err = err
			return
		}
		if s.departements, err = parseBoundaries(refdata.DepartementsGeoJSON(), "departement", extent, 1000); err != nil {
			l.err = err
			return
		}
		first := true
		for _, r := range append(append([]*polyRec{}, s.regions...), s.departements...) {
			if first {
				s.bound, first = r.bound, false
			} else {
				s.bound = s.bound.Union(r.bound)
			}
		}
		l.set = s
	})
	return l.set, l.err
}

func parseBoundaries(data []byte, kind string, extent int, idBase int64) ([]*polyRec, error) {
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		return nil, fmt.Errorf("tiles: boundaries %s: %w", kind, err)
	}
	var out []*polyRec
	for i, f := range fc.Features {
		var mp orb.MultiPolygon
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			mp = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			mp = g
		default:
			return nil, fmt.Errorf("tiles: boundaries %s: feature %d: unexpected %T", kind, i, f.Geometry)
		}
		merc := make(orb.MultiPolygon, len(mp))
		for j, p := range mp {
			merc[j] = make(orb.Polygon, len(p))
			for k, r := range p {
				mr := make(orb.Ring, len(r))
				for n, pt := range r {
					x, y := mercator(pt[0], pt[1])
					mr[n] = orb.Point{x, y}
				}
				merc[j][k] = mr
			}
		}
		props := geojson.Properties{"kind": kind, "code": f.Properties.MustString("code", ""),
			"name": f.Properties.MustString("nom", "")}
		levels := simplifyLevels(merc, boundaryDetailZoom, extent, boundaryTolerance)
		r := &polyRec{
			id:    idBase + int64(i+1),
			bound: merc.Bound(),
			geoms: levels,
			parts: partBounds(levels),
			props: whitelist(LayerBoundaries, atigip.AudiencePublic, props),
		}
		r.slice(extent)
		out = append(out, r)
	}
	return out, nil
}

// Big outlines are pre-sliced: from sliceFrom on, each zoom level's
// geometry is cut once into the tiles of zoom min(level, sliceZoom), so
// that a tile clips only the piece of its ancestor instead of a whole
// région of thousands of points (cold tiles stay within a few ms).
const (
	sliceFrom = 2
	sliceZoom = 9
)

func sliceIndexZoom(level int) int { return min(level, sliceZoom) }

// slice fills r.sliced for the levels from sliceFrom and drops their
// whole geometry, which is no longer read.
func (r *polyRec) slice(extent int) {
	r.sliced = make([]map[uint64]orb.MultiPolygon, len(r.geoms))
	for level := sliceFrom; level < len(r.geoms); level++ {
		iz := sliceIndexZoom(level)
		pad := float64(64) / (float64(extent) * math.Exp2(float64(iz)))
		out := map[uint64]orb.MultiPolygon{}
		var rec func(mp orb.MultiPolygon, z int, x, y uint32)
		rec = func(mp orb.MultiPolygon, z int, x, y uint32) {
			if z == iz {
				out[interleave(x, y)] = mp
				return
			}
			for _, c := range [4][2]uint32{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				cx, cy := 2*x+c[0], 2*y+c[1]
				n := math.Exp2(float64(z + 1))
				b := orb.Bound{Min: orb.Point{float64(cx)/n - pad, float64(cy)/n - pad},
					Max: orb.Point{float64(cx+1)/n + pad, float64(cy+1)/n + pad}}
				if !b.Intersects(mp.Bound()) {
					continue
				}
				// clip uses its input as scratch space: give it a copy.
				if part := clip.MultiPolygon(b, orb.Clone(mp).(orb.MultiPolygon)); len(part) > 0 {
					rec(part, z+1, cx, cy)
				}
			}
		}
		rec(r.geoms[level], 0, 0, 0)
		r.sliced[level] = out
		r.geoms[level], r.parts[level] = nil, nil
	}
}
