package basemap

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"

	"github.com/atigip/atigip360/tiles"
)

// Defaults of Options.
const (
	DefaultMaxZoom      = 14
	DefaultMaxTileBytes = 500 << 10
	DefaultIndexBudget  = 128 << 20
	extent              = 4096
	buffer              = 64 // tile units around a tile, so lines and labels meet across tiles
	maxPlacesPerTile    = 120
)

// Options tune a build.
type Options struct {
	MaxZoom      int   // deepest zoom written (default 14; clients overzoom beyond)
	MaxTileBytes int   // a tile above this is simplified harder (default 500 KB)
	IndexBudget  int64 // bytes for one zoom band's tile index (default 128 MB)
	Workers      int   // tile encoders in parallel (default GOMAXPROCS)
	// Progress, when set, is called as the build advances: stage
	// ("relations", "nodes", "ways", "tiles z14"…), done and total in that
	// stage's unit (bytes read, features placed).
	Progress func(stage string, done, total int64)
	// Name and Attribution go to the archive's metadata.
	Name, Attribution string
	TempDir           string // default: the output's directory
}

func (o *Options) defaults() {
	if o.MaxZoom <= 0 {
		o.MaxZoom = DefaultMaxZoom
	}
	if o.MaxTileBytes <= 0 {
		o.MaxTileBytes = DefaultMaxTileBytes
	}
	if o.IndexBudget <= 0 {
		o.IndexBudget = DefaultIndexBudget
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Attribution == "" {
		o.Attribution = "© les contributeurs d'OpenStreetMap"
	}
	if o.Name == "" {
		o.Name = "ATIGIP 360 — fond de carte"
	}
}

// Stats sums up a build.
type Stats struct {
	Nodes, Ways, Relations int64 // OSM elements read
	Features               int   // map features spooled
	Tiles                  int   // tiles written
	Bytes                  int64 // archive size
	// MaxTile is the largest tile (uncompressed MVT bytes) at each zoom;
	// Over100K counts tiles above 100 KB.
	MaxTile  []int
	Over100K int
	Bounds   orb.Bound
	// Read is the time spent reading the extract (three passes, relations
	// assembled); Tiling the time cutting and writing tiles.
	Read, Tiling time.Duration
}

type pair struct {
	key uint64 // tile x<<32 | y
	off int64
	n   int32
}

// build cuts the spooled features into tiles and writes the archive.
func build(ctx context.Context, sp *spool, path string, bound orb.Bound, o Options, st *Stats) error {
	start := time.Now()
	defer func() { st.Tiling = time.Since(start) }()
	if err := sp.flush(); err != nil {
		return err
	}
	w, err := tiles.NewArchiveWriter(path)
	if err != nil {
		return err
	}
	defer w.Abort()
	st.MaxTile = make([]int, o.MaxZoom+1)
	st.Features = sp.n
	var mu sync.Mutex
	for z := 0; z <= o.MaxZoom; z++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("basemap: %w", err)
		}
		grid, err := labelGrid(sp, z)
		if err != nil {
			return err
		}
		shown := func(off int64, layer uint8, mz int) bool {
			if mz <= z {
				return true
			}
			_, best := grid[off]
			return best && layer == layerIndex(LayerPlaces)
		}
		// Count the index first: the zoom is cut in column bands whose
		// index fits the budget, each band re-reading the spool.
		var count int64
		err = sp.scan(func(off int64, rec []byte) error {
			if layer, mz, b := recordHeader(rec); shown(off, layer, mz) {
				x0, y0, x1, y1 := tileRange(b, z)
				count += int64(x1-x0+1) * int64(y1-y0+1)
			}
			return nil
		})
		if err != nil {
			return err
		}
		bands := max(1, int((count*24+o.IndexBudget-1)/o.IndexBudget))
		n := uint32(1) << z
		bandW := (n + uint32(bands) - 1) / uint32(bands)
		stage := fmt.Sprintf("tuiles z%d", z)
		var done int64
		for bx := uint32(0); bx < n; bx += bandW {
			var idx []pair
			err := sp.scan(func(off int64, rec []byte) error {
				layer, mz, b := recordHeader(rec)
				if !shown(off, layer, mz) {
					return nil
				}
				x0, y0, x1, y1 := tileRange(b, z)
				for x := max(x0, bx); x <= min(x1, bx+bandW-1); x++ {
					for y := y0; y <= y1; y++ {
						idx = append(idx, pair{uint64(x)<<32 | uint64(y), off, int32(len(rec))})
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			slices.SortFunc(idx, func(a, b pair) int { return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.off, b.off)) })
			// Tiles of the band, encoded in parallel.
			groups := make(chan []pair)
			errs := make(chan error, o.Workers)
			var wg sync.WaitGroup
			for range o.Workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var buf []byte
					for g := range groups {
						data, err := renderTile(sp, g, z, o, &buf)
						if err != nil {
							errs <- err
							return
						}
						if len(data) == 0 {
							continue
						}
						x, y := uint32(g[0].key>>32), uint32(g[0].key)
						mu.Lock()
						err = w.Add(z, x, y, data)
						st.MaxTile[z] = max(st.MaxTile[z], len(data))
						if len(data) > 100<<10 {
							st.Over100K++
						}
						done += int64(len(g))
						if o.Progress != nil {
							o.Progress(stage, done, count)
						}
						mu.Unlock()
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			var sendErr error
		send:
			for i := 0; i < len(idx); {
				j := i + 1
				for j < len(idx) && idx[j].key == idx[i].key {
					j++
				}
				select {
				case groups <- idx[i:j]:
				case sendErr = <-errs:
					break send
				}
				i = j
			}
			close(groups)
			wg.Wait()
			if sendErr == nil {
				select {
				case sendErr = <-errs:
				default:
				}
			}
			if sendErr != nil {
				return sendErr
			}
		}
	}
	vl := make([]map[string]any, len(Layers))
	for i, l := range Layers {
		vl[i] = map[string]any{"id": l.ID, "description": l.Description, "fields": layerFields[l.ID]}
	}
	minLon, minLat, maxLon, maxLat := bound.Min[0], bound.Min[1], bound.Max[0], bound.Max[1]
	c := bound.Center()
	as, err := w.Finish(tiles.ArchiveInfo{
		Bounds: [4]float64{minLon, minLat, maxLon, maxLat}, Center: [3]float64{c[0], c[1], float64(min(o.MaxZoom, 10))},
		Metadata: func(minZ, maxZ int) map[string]any {
			for _, l := range vl {
				l["minzoom"], l["maxzoom"] = minZ, maxZ
			}
			return map[string]any{"name": o.Name, "description": "Fond de carte vectoriel (OpenStreetMap), libellés en français",
				"attribution": o.Attribution, "version": "1.0.0", "type": "baselayer", "vector_layers": vl}
		}})
	if err != nil {
		return err
	}
	st.Tiles, st.Bytes, st.Bounds = as.Tiles, as.Bytes, bound
	return nil
}

// labelGrid returns the places shown at z ahead of their own zoom: the
// most populous of each quarter-tile cell, so that a sparse region (an
// island, a mountain valley) keeps a name at every zoom while a dense one
// shows only its biggest places.
func labelGrid(sp *spool, z int) (map[int64]struct{}, error) {
	type best struct {
		off int64
		pop int64
	}
	cells := map[uint64]best{}
	places := layerIndex(LayerPlaces)
	err := sp.scan(func(off int64, rec []byte) error {
		layer, mz, b := recordHeader(rec)
		if layer != places || mz <= z {
			return nil
		}
		ft, err := decodeFeature(rec)
		if err != nil {
			return err
		}
		x, y := mercator(b.Min)
		n := float64(uint64(1) << (z + 2))
		key := uint64(x*n)<<32 | uint64(y*n)
		if c, ok := cells[key]; !ok || ft.Pop > c.pop {
			cells[key] = best{off, ft.Pop}
		}
		return nil
	})
	out := make(map[int64]struct{}, len(cells))
	for _, c := range cells {
		out[c.off] = struct{}{}
	}
	return out, err
}

var layerFields = map[string]map[string]string{
	LayerEarth:      {"kind": "String"},
	LayerWater:      {"kind": "String", "name": "String"},
	LayerLanduse:    {"kind": "String"},
	LayerRoads:      {"kind": "String", "name": "String", "ref": "String"},
	LayerRailways:   {"kind": "String"},
	LayerBuildings:  {},
	LayerBoundaries: {"admin_level": "Number"},
	LayerPlaces:     {"kind": "String", "name": "String", "population": "Number", "rank": "Number"},
	LayerPOIs:       {"kind": "String (townhall, courthouse, police, prison, station, airport, hospital: the sprite's icon)", "name": "String"},
}

// tileRange is the tiles at z that b touches, buffer included.
func tileRange(b orb.Bound, z int) (x0, y0, x1, y1 uint32) {
	n := float64(uint32(1) << z)
	pad := float64(buffer) / extent
	wx0, wy1 := mercator(b.Min)
	wx1, wy0 := mercator(b.Max)
	clamp := func(v float64) uint32 { return uint32(min(max(math.Floor(v), 0), n-1)) }
	return clamp(wx0*n - pad), clamp(wy0*n - pad), clamp(wx1*n + pad), clamp(wy1*n + pad)
}

// mercator is p in world units: x, y in [0, 1], y down.
func mercator(p orb.Point) (float64, float64) {
	lat := min(max(p[1], -85.0511), 85.0511) * math.Pi / 180
	return (p[0] + 180) / 360, (1 - math.Log(math.Tan(lat)+1/math.Cos(lat))/math.Pi) / 2
}

// renderTile encodes the features of one tile (its index pairs).
func renderTile(sp *spool, g []pair, z int, o Options, buf *[]byte) ([]byte, error) {
	feats := make([]Feature, 0, len(g))
	for _, p := range g {
		rec, err := sp.read(p.off, int(p.n), *buf)
		if err != nil {
			return nil, err
		}
		*buf = rec
		ft, err := decodeFeature(rec)
		if err != nil {
			return nil, err
		}
		feats = append(feats, ft)
	}
	// Places are thinned by population: a tile keeps the most populous.
	sort.SliceStable(feats, func(i, j int) bool { return feats[i].Pop > feats[j].Pop })
	x, y := uint32(g[0].key>>32), uint32(g[0].key)
	tile := maptile.New(x, y, maptile.Zoom(z))
	tol := 4.0 // tile units: 1/16 of a pixel at 512 px
	if z < o.MaxZoom {
		tol = 8
	}
	for try := 0; ; try++ {
		data, err := encodeTile(feats, tile, tol, try)
		if err != nil {
			return nil, err
		}
		if len(data) <= o.MaxTileBytes || try >= 4 {
			return data, nil
		}
		tol *= 4 // too heavy: simplify harder and drop the smallest
	}
}

func encodeTile(feats []Feature, tile maptile.Tile, tol float64, try int) ([]byte, error) {
	byLayer := map[string]*geojson.FeatureCollection{}
	places := 0
	for _, ft := range feats {
		if ft.Layer == LayerPlaces {
			if places >= maxPlacesPerTile>>try {
				continue
			}
			places++
		}
		if try >= 2 && ft.Layer == LayerBuildings {
			continue
		}
		f := geojson.NewFeature(orb.Clone(ft.Geom))
		if ft.Kind != "" {
			f.Properties["kind"] = ft.Kind
		}
		if ft.Name != "" {
			f.Properties["name"] = ft.Name
		}
		if ft.Ref != "" {
			f.Properties["ref"] = ft.Ref
		}
		switch ft.Layer {
		case LayerPlaces:
			f.Properties["population"] = ft.Pop
			f.Properties["rank"] = places
		case LayerBoundaries:
			f.Properties["admin_level"] = ft.Level
		}
		fc := byLayer[ft.Layer]
		if fc == nil {
			fc = geojson.NewFeatureCollection()
			byLayer[ft.Layer] = fc
		}
		fc.Append(f)
	}
	var ls mvt.Layers
	for _, l := range Layers {
		if fc := byLayer[l.ID]; fc != nil {
			ls = append(ls, mvt.NewLayer(l.ID, fc))
		}
	}
	if len(ls) == 0 {
		return nil, nil
	}
	ls.ProjectToTile(tile)
	ls.Clip(orb.Bound{Min: orb.Point{-buffer, -buffer}, Max: orb.Point{extent + buffer, extent + buffer}})
	ls.Simplify(simplify.DouglasPeucker(tol))
	ls.RemoveEmpty(tol, tol*tol)
	n := 0
	for _, l := range ls {
		n += len(l.Features)
	}
	if n == 0 {
		return nil, nil
	}
	data, err := mvt.Marshal(ls)
	if err != nil {
		return nil, fmt.Errorf("basemap: encode tile %v: %w", tile, err)
	}
	return data, nil
}

// areaMinZoom is the first zoom at which an area of a (world units², the
// world being 1×1) covers minPx square pixels of a 256-px tile.
func areaMinZoom(a float64, minPx float64) int {
	if a <= 0 {
		return 99
	}
	z := 0.5 * math.Log2(minPx/(a*256*256))
	return max(0, int(math.Ceil(z)))
}

// worldArea is the area of polygon p in world units².
func worldArea(p orb.Polygon) float64 {
	if len(p) == 0 {
		return 0
	}
	a := ringArea(p[0])
	for _, h := range p[1:] {
		a -= ringArea(h)
	}
	return max(a, 0)
}

func ringArea(r orb.Ring) float64 {
	var s float64
	for i := range r {
		x0, y0 := mercator(r[i])
		x1, y1 := mercator(r[(i+1)%len(r)])
		s += x0*y1 - x1*y0
	}
	return math.Abs(s) / 2
}
