package tiles

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"golang.org/x/sync/errgroup"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// boundaryDetailZoom is the last zoom with its own simplification: the IGN
// outlines are already simplified at source, deeper zooms reuse it.
const boundaryDetailZoom = 12

// boundaryTolerance is the simplification tolerance in tile units: a
// quarter of a screen pixel on a 512 px tile of extent 4096.
const boundaryTolerance = 2.0

// The outlines are stored three ways, to keep both memory and the cost of
// a cold tile low:
//
//   - up to encodedZoom, the boundaries layer of every tile is encoded once
//     per process (a few hundred tiles over France and overseas): those
//     tiles clip whole régions, the costliest work of the map;
//   - from slicedFrom on, each level is cut once into the tiles of
//     sliceZoom, so a deeper tile clips only its ancestor's piece;
//   - levels up to encodedZoom are kept whole, to encode the tiles of
//     engines with other options.
//
// Levels above sharedFrom draw the last level's geometry: the IGN source
// is nearly as light, and one sliced copy is kept instead of three.
const (
	encodedZoom = 8
	slicedFrom  = encodedZoom + 1
	sliceZoom   = 9
	sharedFrom  = 10
)

// slicePad is the margin of a piece around its tile, in tile units of the
// slicing zoom: at least the default clipping buffer.
const slicePad = 64

type boundarySet struct {
	extent                int
	regions, departements []*outline
	bound                 orb.Bound

	encoded sync.Map // encodedKey → *encodedLayers
}

// outline is a région or a département at every level of simplification.
type outline struct {
	id    int64
	bound orb.Bound // normalised Web Mercator
	props geojson.Properties
	// levels[z] is the geometry simplified for zoom z, cut into the tiles
	// of levels[z].zoom (0: whole); deeper zooms use the last one.
	levels []*outlineLevel
}

type outlineLevel struct {
	zoom   int
	pieces map[uint64]packedMP // by interleave(x, y) of the tile of zoom
}

// piece is what tile (z, x, y) has to clip.
func (o *outline) piece(z int, x, y uint32) *packedMP {
	lv := o.levels[min(z, len(o.levels)-1)]
	shift := z - lv.zoom
	p, ok := lv.pieces[interleave(x>>shift, y>>shift)]
	if !ok {
		return nil
	}
	return &p
}

var boundaryOnce sync.Map // extent → *boundaryLoad

type boundaryLoad struct {
	once sync.Once
	set  *boundarySet
	err  error
}

// loadBoundaries parses, simplifies and slices the IGN outlines once per
// process and extent: they are static and shared by every engine. With
// a cache path, a start reads them from the previous one's work.
func loadBoundaries(extent int, cache ...string) (*boundarySet, error) {
	v, _ := boundaryOnce.LoadOrStore(extent, &boundaryLoad{})
	l := v.(*boundaryLoad)
	l.once.Do(func() {
		path := ""
		if len(cache) > 0 {
			path = cache[0]
		}
		l.set, l.err = cachedBoundarySet(extent, path)
	})
	return l.set, l.err
}

func newBoundarySet(extent int) (*boundarySet, error) {
	s := &boundarySet{extent: extent}
	var err error
	if s.regions, err = parseBoundaries(refdata.RegionsGeoJSON(), "region", extent, 0); err != nil {
		return nil, err
	}
	if s.departements, err = parseBoundaries(refdata.DepartementsGeoJSON(), "departement", extent, 1000); err != nil {
		return nil, err
	}
	for i, r := range append(append([]*outline{}, s.regions...), s.departements...) {
		if i == 0 {
			s.bound = r.bound
		} else {
			s.bound = s.bound.Union(r.bound)
		}
	}
	return s, nil
}

func parseBoundaries(data []byte, kind string, extent int, idBase int64) ([]*outline, error) {
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		return nil, fmt.Errorf("tiles: boundaries %s: %w", kind, err)
	}
	// Each outline is simplified and sliced on its own: spread over the
	// cores, since every start pays for it.
	out := make([]*outline, len(fc.Features))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, f := range fc.Features {
		g.Go(func() error {
			o, err := newOutline(f, i, kind, extent, idBase)
			out[i] = o
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// newOutline projects, simplifies and slices feature i of a boundary set.
func newOutline(f *geojson.Feature, i int, kind string, extent int, idBase int64) (*outline, error) {
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
	simplified := simplifyLevels(merc, boundaryDetailZoom, extent, boundaryTolerance)
	o := &outline{
		id:     idBase + int64(i+1),
		bound:  merc.Bound(),
		props:  whitelist(LayerBoundaries, atigip.AudiencePublic, props),
		levels: make([]*outlineLevel, len(simplified)),
	}
	for z := len(simplified) - 1; z >= 0; z-- {
		switch {
		case z < slicedFrom:
			o.levels[z] = &outlineLevel{pieces: map[uint64]packedMP{0: packMP(simplified[z])}}
		case z >= sharedFrom && z < len(simplified)-1:
			o.levels[z] = o.levels[len(simplified)-1]
		default:
			o.levels[z] = sliceLevel(simplified[z], min(z, sliceZoom), extent)
		}
	}
	return o, nil
}

// sliceLevel cuts mp into the tiles of zoom iz, each piece with a margin
// of slicePad tile units.
func sliceLevel(mp orb.MultiPolygon, iz, extent int) *outlineLevel {
	lv := &outlineLevel{zoom: iz, pieces: map[uint64]packedMP{}}
	pad := float64(slicePad) / (float64(extent) * math.Exp2(float64(iz)))
	var rec func(mp orb.MultiPolygon, z int, x, y uint32)
	rec = func(mp orb.MultiPolygon, z int, x, y uint32) {
		if z == iz {
			lv.pieces[interleave(x, y)] = packMP(mp)
			return
		}
		for _, c := range [4][2]uint32{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
			cx, cy := 2*x+c[0], 2*y+c[1]
			n := math.Exp2(float64(z + 1))
			b := orb.Bound{Min: orb.Point{float64(cx)/n - pad, float64(cy)/n - pad},
				Max: orb.Point{float64(cx+1)/n + pad, float64(cy+1)/n + pad}}
			if part := clipPieces(b, mp); len(part) > 0 {
				rec(part, z+1, cx, cy)
			}
		}
	}
	rec(mp, 0, 0, 0)
	return lv
}

// clipPieces clips mp to b without modifying it: polygons inside b are
// shared, only those crossing its edge are copied (clip uses its input as
// scratch space) and clipped; slicing thus copies little beyond the
// outlines' edges.
func clipPieces(b orb.Bound, mp orb.MultiPolygon) orb.MultiPolygon {
	var out orb.MultiPolygon
	for _, p := range mp {
		if len(p) == 0 {
			continue
		}
		pb := p[0].Bound()
		switch {
		case !pb.Intersects(b):
		case b.Contains(pb.Min) && b.Contains(pb.Max):
			out = append(out, p)
		default:
			if c := clip.Polygon(b, orb.Clone(p).(orb.Polygon)); len(c) > 0 {
				out = append(out, c)
			}
		}
	}
	return out
}

// packedMP is a multipolygon in normalised Web Mercator, packed as 32-bit
// fixed-point coordinates (2^-32 of the world: about a centimetre) in two
// exact-size slices: a third of orb's float64 rings with their spare
// capacity.
type packedMP struct {
	xy []uint32 // x, y, x, y…: normalised coordinate × 2^32
	// rings[i] is the end of ring i in points; ringExterior is set on the
	// exterior ring that starts each polygon.
	rings []uint32
}

const ringExterior = 1 << 31

const fixedScale = 1 << 32

func toFixed(v float64) uint32 {
	return uint32(math.Min(math.Round(v*fixedScale), math.MaxUint32))
}

func packMP(mp orb.MultiPolygon) packedMP {
	nPts, nRings := 0, 0
	for _, p := range mp {
		for _, r := range p {
			nPts += len(r)
			nRings++
		}
	}
	out := packedMP{xy: make([]uint32, 0, 2*nPts), rings: make([]uint32, 0, nRings)}
	for _, p := range mp {
		for i, r := range p {
			for _, pt := range r {
				out.xy = append(out.xy, toFixed(pt[0]), toFixed(pt[1]))
			}
			end := uint32(len(out.xy) / 2)
			if i == 0 {
				end |= ringExterior
			}
			out.rings = append(out.rings, end)
		}
	}
	return out
}

// tilePolygons is tilePolygons for a packed multipolygon: it projects the
// rings straight from the packed points.
func (pm *packedMP) tilePolygons(tb tileBounds, extent, buffer int) orb.MultiPolygon {
	lo, hi := -float64(buffer), float64(extent+buffer)
	box := orb.Bound{Min: orb.Point{lo, lo}, Max: orb.Point{hi, hi}}
	project := func(start, end uint32) (orb.Ring, orb.Bound) {
		out := make(orb.Ring, end-start)
		b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
		for i := start; i < end; i++ {
			x, y := tb.toTile(float64(pm.xy[2*i])/fixedScale, float64(pm.xy[2*i+1])/fixedScale)
			out[i-start] = orb.Point{x, y}
			b.Min[0], b.Min[1] = math.Min(b.Min[0], x), math.Min(b.Min[1], y)
			b.Max[0], b.Max[1] = math.Max(b.Max[0], x), math.Max(b.Max[1], y)
		}
		return out, b
	}
	var out orb.MultiPolygon
	var p orb.Polygon
	flush := func() {
		if len(p) > 0 {
			if c := cleanPolygon(p, box); c != nil {
				out = append(out, c)
			}
		}
		p = nil
	}
	skip := false // the current polygon's exterior misses the tile
	start := uint32(0)
	for _, re := range pm.rings {
		end := re &^ ringExterior
		if re&ringExterior != 0 {
			flush()
			r, b := project(start, end)
			if skip = !b.Intersects(box); !skip {
				p = orb.Polygon{r}
			}
		} else if !skip {
			if r, b := project(start, end); b.Intersects(box) {
				p = append(p, r)
			}
		}
		start = end
	}
	flush()
	return out
}

// encodedKey names the options a boundaries layer is encoded for.
type encodedKey struct{ buffer, departementsFrom int }

// encodedLayers holds the boundaries layer of every tile up to
// encodedZoom, encoded alone as an MVT (a tile is a sequence of layers, so
// it prefixes the tile's other layers as is).
type encodedLayers struct {
	once  sync.Once
	tiles map[cacheKey][]byte // aud is 0: the layer is the same for all
}

// encodedFor returns the encoded low-zoom layers for these options,
// computing them once per process.
func (s *boundarySet) encodedFor(buffer, departementsFrom int) *encodedLayers {
	v, _ := s.encoded.LoadOrStore(encodedKey{buffer, departementsFrom}, &encodedLayers{})
	el := v.(*encodedLayers)
	el.once.Do(func() {
		el.tiles = map[cacheKey][]byte{}
		var walk func(z int, x, y uint32)
		walk = func(z int, x, y uint32) {
			tb := newTileBounds(z, x, y, s.extent)
			if !intersectsTile(s.bound, tb, s.extent, buffer) {
				return
			}
			if fs := s.features(z, x, y, buffer, departementsFrom); len(fs) > 0 {
				data, err := mvt.Marshal(mvt.Layers{boundaryLayer(fs, s.extent)})
				if err != nil { // orb only fails on unknown geometry types
					panic(fmt.Sprintf("tiles: encode boundaries %d/%d/%d: %v", z, x, y, err))
				}
				el.tiles[cacheKey{z: uint8(z), x: x, y: y}] = data
			}
			if z < encodedZoom {
				for _, c := range [4][2]uint32{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
					walk(z+1, 2*x+c[0], 2*y+c[1])
				}
			}
		}
		walk(0, 0, 0)
	})
	return el
}

func boundaryLayer(fs []*geojson.Feature, extent int) *mvt.Layer {
	return &mvt.Layer{Name: LayerBoundaries, Version: 2, Extent: uint32(extent), Features: fs}
}

// features draws the boundaries layer of tile (z, x, y): régions at every
// zoom, départements from departementsFrom.
func (s *boundarySet) features(z int, x, y uint32, buffer, departementsFrom int) []*geojson.Feature {
	tb := newTileBounds(z, x, y, s.extent)
	var fs []*geojson.Feature
	draw := func(os []*outline) {
		for _, o := range os {
			if !intersectsTile(o.bound, tb, s.extent, buffer) {
				continue
			}
			pm := o.piece(z, x, y)
			if pm == nil {
				continue
			}
			if g := pm.tilePolygons(tb, s.extent, buffer); len(g) > 0 {
				f := &geojson.Feature{ID: uint64(o.id), Properties: o.props}
				if len(g) == 1 {
					f.Geometry = g[0]
				} else {
					f.Geometry = g
				}
				fs = append(fs, f)
			}
		}
	}
	draw(s.regions)
	if z >= departementsFrom {
		draw(s.departements)
	}
	return fs
}
