package tiles

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"

	"github.com/atigip/atigip360/internal/atigip"
)

// Tile is one generated tile.
type Tile struct {
	// Data is the uncompressed MVT; nil when Empty.
	Data []byte
	// ETag is a strong entity tag, quoted, ready for an HTTP header.
	ETag string
	// Empty is true when the tile has no feature in any layer.
	Empty bool
	e     *entry
}

// Gzip returns Data gzip-compressed, computed once per cached tile.
func (t Tile) Gzip() []byte {
	if t.e == nil {
		return nil
	}
	return t.e.gzipped()
}

// Engine draws the map tiles from an in-memory copy of the store. It is
// safe for concurrent use.
type Engine struct {
	opts   Options
	log    *slog.Logger
	store  atigip.Store
	bounds *boundarySet
	// lowBounds is the boundaries layer of the tiles up to encodedZoom,
	// encoded once.
	lowBounds *encodedLayers

	gen   atomic.Uint64
	snap  atomic.Pointer[snapshot]
	cache *cache
	// filters numbers the filter combinations asked for (cache keys).
	filters filterIDs

	mu  sync.Mutex // serialises updates of the state below
	seq int64
	// follower keeps the engine live (engines with a store only).
	follower *atigip.Follower
	state    *state
	// resumed: New read the saved state rather than the store.
	resumed bool
}

// Resumed reports whether New resumed from a saved state (StatePath).
func (e *Engine) Resumed() bool { return e.resumed }

// state is what the snapshot was drawn from, kept for updates. Posts and
// organisations are kept as compact records, not as the domain values
// (which would hold every description and schedule in memory): a change
// reloads the changed entity from the store.
type state struct {
	orgs map[int64]*orgRec
	// posts holds the drawable posts only (status and location allow a
	// map): no organisation change can show the others.
	posts       map[int64]*postRec
	prisons     map[int64]*atigip.Prison
	floors      map[int64]*atigip.FloorSpace
	floorsOfPri map[int64]map[int64]bool
}

// snapshot is an immutable drawing of the data: requests read it without
// locks, updates replace it whole.
type snapshot struct {
	gen     uint64
	posts   [2]*pyramid
	prisons []*pointRec // sorted by qk
	prisRec map[int64]*pointRec
	// lowPrisons[aud] is the prisons layer of the tiles up to
	// encodedZoom, encoded in advance.
	lowPrisons [2]map[cacheKey][]byte
	floors     map[int64]*polyRec
	floorLs    []*polyRec
	// filt holds the posts pyramids of filter combinations, built on
	// demand from these posts.
	filt *filteredSet
}

// New loads the store and builds an engine; call Follow to keep it live.
// With Options.StatePath, it resumes from the state SaveState left there
// when the store still holds the feed position it was saved at, and
// Follow replays the changes since (Resumed then reports true).
// Posts and organisations are streamed into compact records, never all
// held as domain values: the engine's start costs little more memory than
// the engine itself. seq is read first so that a change committed during
// the scan is applied again, harmlessly, rather than missed.
func New(ctx context.Context, s atigip.Store, opts Options) (*Engine, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	// The boundary outlines take a second or two, the same at every
	// start: they are drawn while the state is read.
	var e *Engine
	built := make(chan error, 1)
	go func() {
		var err error
		e, err = newEngine(opts)
		built <- err
	}()
	st, seq, ok := resume(ctx, s, o)
	if !ok {
		st, seq, err = load(ctx, s)
	}
	if berr := <-built; berr != nil {
		return nil, berr
	}
	if err != nil {
		return nil, err
	}
	e.resumed = ok
	e.start(st)
	e.store, e.seq = s, seq
	e.follower = e.newFollower()
	return e, nil
}

// load reads the drawable state from the store and the feed position it
// stands at.
func load(ctx context.Context, s atigip.Store) (*state, int64, error) {
	seq, err := s.LastSeq(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("tiles: load: last seq: %w", err)
	}
	st, in := newState(0, 0), interner{}
	if err := atigip.Of[*atigip.Organisation](s).Scan(ctx, atigip.ListFilter{}, func(o *atigip.Organisation) error {
		st.orgs[o.ID] = newOrgRec(o, in)
		return nil
	}); err != nil {
		return nil, 0, fmt.Errorf("tiles: load organisations: %w", err)
	}
	// Organisations first: a post is bound to its organisation as it comes.
	if err := atigip.Of[*atigip.Post](s).Scan(ctx, atigip.ListFilter{}, func(p *atigip.Post) error {
		st.setPost(newPostRec(p, st.orgs[p.OrganisationID], in))
		return nil
	}); err != nil {
		return nil, 0, fmt.Errorf("tiles: load posts: %w", err)
	}
	prisons, err := atigip.Of[*atigip.Prison](s).All(ctx, atigip.ListFilter{})
	if err != nil {
		return nil, 0, fmt.Errorf("tiles: load prisons: %w", err)
	}
	floors, err := atigip.Of[*atigip.FloorSpace](s).All(ctx, atigip.ListFilter{})
	if err != nil {
		return nil, 0, fmt.Errorf("tiles: load floor spaces: %w", err)
	}
	st.setPlaces(prisons, floors)
	return st, seq, nil
}

// reload rebuilds the engine from the store, when the change feed it
// stands at was pruned: every cached tile is dropped.
func (e *Engine) reload(ctx context.Context) error {
	st, seq, err := load(ctx, e.store)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.start(st) // a new snapshot generation: tiles drawn from the old one are refused by the cache
	e.seq = seq
	e.cache.clear()
	e.log.Info("tiles: rebuilt from the store (change feed pruned past the engine)", "seq", seq)
	return nil
}

// Build makes an engine from plain data, without a store (exports, tests).
// The engine keeps no reference to d's posts and organisations.
func Build(d Data, opts Options) (*Engine, error) {
	e, err := newEngine(opts)
	if err != nil {
		return nil, err
	}
	st, in := newState(len(d.Organisations), len(d.Posts)), interner{}
	for _, o := range d.Organisations {
		st.orgs[o.ID] = newOrgRec(o, in)
	}
	for _, p := range d.Posts {
		st.setPost(newPostRec(p, st.orgs[p.OrganisationID], in))
	}
	st.setPlaces(d.Prisons, d.FloorSpaces)
	e.start(st)
	return e, nil
}

// newEngine is an engine without data yet.
func newEngine(opts Options) (*Engine, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cache := ""
	if o.StatePath != "" {
		cache = o.StatePath + ".outlines"
	}
	b, err := loadBoundaries(o.Extent, cache)
	if err != nil {
		return nil, err
	}
	e := &Engine{opts: o, log: o.Logger, bounds: b, lowBounds: b.encodedFor(o.Buffer, o.DepartementsFrom)}
	// The pyramids of filtered tiles take an eighth of the cache budget.
	e.cache = newCache(o.CacheBytes-o.CacheBytes/8, &e.gen)
	return e, nil
}

// start draws the first snapshot of st.
func (e *Engine) start(st *state) {
	e.state = st
	e.snap.Store(e.draw(st, nil, nil))
}

func newState(orgs, posts int) *state {
	return &state{orgs: make(map[int64]*orgRec, orgs), posts: make(map[int64]*postRec, posts),
		prisons: map[int64]*atigip.Prison{}, floors: map[int64]*atigip.FloorSpace{},
		floorsOfPri: map[int64]map[int64]bool{}}
}

// setPlaces adds prisons and their floor spaces: a few hundred values,
// kept whole.
func (st *state) setPlaces(prisons []*atigip.Prison, floors []*atigip.FloorSpace) {
	for _, p := range prisons {
		st.prisons[p.ID] = p
	}
	for _, f := range floors {
		st.setFloor(f)
	}
}

func (st *state) setPost(r *postRec) {
	if r.drawable {
		st.posts[r.id] = r
	} else {
		delete(st.posts, r.id)
	}
}

func (st *state) setFloor(f *atigip.FloorSpace) {
	if old := st.floors[f.ID]; old != nil && old.PrisonID != f.PrisonID {
		delete(st.floorsOfPri[old.PrisonID], f.ID)
	}
	st.floors[f.ID] = f
	if st.floorsOfPri[f.PrisonID] == nil {
		st.floorsOfPri[f.PrisonID] = map[int64]bool{}
	}
	st.floorsOfPri[f.PrisonID][f.ID] = true
}

func (st *state) deleteFloor(id int64) {
	if old := st.floors[id]; old != nil {
		delete(st.floorsOfPri[old.PrisonID], id)
		delete(st.floors, id)
	}
}

// draw builds a snapshot from st. With prev set, only what dirty names is
// redrawn (nil dirty sets mean "unchanged").
func (e *Engine) draw(st *state, prev *snapshot, dirty *dirtySet) *snapshot {
	s := &snapshot{gen: e.gen.Add(1)}
	// Posts.
	if prev == nil || dirty.posts != nil {
		recs := make([]*postRec, 0, len(st.posts))
		for _, r := range st.posts {
			recs = append(recs, r)
		}
		if prev != nil {
			// An audience is redrawn only if a changed post was or is in it.
			for id, old := range dirty.posts {
				nw := st.posts[id]
				for a := range audiences {
					if (old != nil && old.visible[a]) || (nw != nil && nw.visible[a]) {
						dirty.audience[a] = true
					}
				}
			}
		}
		for a := range audiences {
			if prev != nil && !dirty.audience[a] {
				s.posts[a] = prev.posts[a]
				continue
			}
			s.posts[a] = buildPyramid(recs, a, e.opts.ClusterBelow, e.opts.ClusterRadius)
		}
		s.filt = newFilteredSet(recs, max(0, e.opts.CacheBytes/8))
	} else {
		s.posts, s.filt = prev.posts, prev.filt
	}
	// Prisons and floor spaces.
	if prev == nil || dirty.prisons != nil || dirty.floors != nil {
		s.floors = make(map[int64]*polyRec, len(st.floors))
		for id, f := range st.floors {
			if prev != nil && !dirty.floors[id] {
				if r, ok := prev.floors[id]; ok {
					s.floors[id] = r
					continue
				}
			}
			if r := e.newFloorRec(f, st.prisons[f.PrisonID]); r != nil {
				s.floors[id] = r
			}
		}
		s.floorLs = make([]*polyRec, 0, len(s.floors))
		for _, r := range s.floors {
			s.floorLs = append(s.floorLs, r)
		}
		s.prisRec = make(map[int64]*pointRec, len(st.prisons))
		for id, p := range st.prisons {
			if prev != nil && !dirty.prisons[id] {
				if r, ok := prev.prisRec[id]; ok {
					s.prisRec[id] = r
					continue
				}
			}
			if p.Location.IsZero() || !p.Location.Valid() {
				continue
			}
			s.prisRec[id] = newPrisonRec(p, availableFloors(st, id))
		}
		s.prisons = make([]*pointRec, 0, len(s.prisRec))
		for _, r := range s.prisRec {
			s.prisons = append(s.prisons, r)
		}
		sortPoints(s.prisons)
		s.lowPrisons = e.encodePrisons(s.prisons)
	} else {
		s.floors, s.floorLs, s.prisRec, s.prisons = prev.floors, prev.floorLs, prev.prisRec, prev.prisons
		s.lowPrisons = prev.lowPrisons
	}
	return s
}

func availableFloors(st *state, prisonID int64) int {
	n := 0
	for id := range st.floorsOfPri[prisonID] {
		if f := st.floors[id]; f != nil && f.Status == atigip.FloorAvailable {
			n++
		}
	}
	return n
}

// floorDetailZoom is the last zoom with its own simplification of floor
// spaces: buildings are sub-metre detail beyond it.
const floorDetailZoom = 18

func (e *Engine) newFloorRec(f *atigip.FloorSpace, prison *atigip.Prison) *polyRec {
	if len(f.Geometry) == 0 {
		return nil
	}
	mp := orb.MultiPolygon{polygonMercator(f.Geometry)}
	name := ""
	if prison != nil {
		name = prison.Name
	}
	levels := simplifyLevels(mp, floorDetailZoom, e.opts.Extent, 1)
	return &polyRec{id: f.ID, bound: mp.Bound(), props: floorSpaceProps(f, name),
		geoms: levels, parts: partBounds(levels)}
}

func sortPoints(ps []*pointRec) {
	slices.SortFunc(ps, func(a, b *pointRec) int {
		switch {
		case a.qk < b.qk:
			return -1
		case a.qk > b.qk:
			return 1
		}
		return int(a.id - b.id)
	})
}

// CacheStats returns the tile cache's counters, for monitoring.
func (e *Engine) CacheStats() CacheStats { return e.cache.stats() }

// Options returns the engine's options with defaults applied.
func (e *Engine) Options() Options { return e.opts }

// CheckTile validates a tile address: tileset known and readable by
// audience, z in 0..MaxZoom, x and y in 0..2^z-1. Errors are coded
// (ENOTFOUND, EFORBIDDEN, EINVALID) with French messages.
func (e *Engine) CheckTile(a atigip.Audience, tileset string, z, x, y int) (atigip.Audience, error) {
	ta, err := e.tilesetAudience(a, tileset)
	if err != nil {
		return "", err
	}
	var pr atigip.Problems
	if z < 0 || z > e.opts.MaxZoom {
		pr.Add("z", "Le niveau de zoom doit être compris entre 0 et %d.", e.opts.MaxZoom)
	} else {
		n := 1 << z
		pr.Check(x < 0 || x >= n, "x", "La colonne x doit être comprise entre 0 et %d au zoom %d.", n-1, z)
		pr.Check(y < 0 || y >= n, "y", "La ligne y doit être comprise entre 0 et %d au zoom %d.", n-1, z)
	}
	if err := pr.Err("Adresse de tuile"); err != nil {
		return "", err
	}
	return ta, nil
}

func (e *Engine) tilesetAudience(a atigip.Audience, tileset string) (atigip.Audience, error) {
	ta, ok := Tilesets[tileset]
	if !ok {
		return "", atigip.Errorf(atigip.ENOTFOUND, "Jeu de tuiles inconnu : %q (public ou justice).", tileset)
	}
	if ta == atigip.AudienceJustice && a != atigip.AudienceJustice {
		return "", atigip.Errorf(atigip.EFORBIDDEN, "Ce jeu de tuiles est réservé aux professionnels de la justice.")
	}
	return ta, nil
}

// Tile returns tile (z, x, y) of tileset for a viewer of audience a, from
// the cache or freshly generated.
func (e *Engine) Tile(ctx context.Context, a atigip.Audience, tileset string, z, x, y int) (Tile, error) {
	return e.FilteredTile(ctx, a, tileset, Filter{}, z, x, y)
}

// FilteredTile is Tile with the posts layer narrowed to the posts meeting
// f: clusters are drawn from those posts alone, so their counts are exact
// for the combination. The other layers are those of Tile.
func (e *Engine) FilteredTile(ctx context.Context, a atigip.Audience, tileset string, f Filter, z, x, y int) (Tile, error) {
	ta, err := e.CheckTile(a, tileset, z, x, y)
	if err != nil {
		return Tile{}, err
	}
	if f.WithPlaces && ta != atigip.AudienceJustice {
		return Tile{}, atigip.Errorf(atigip.EINVALID, "Le filtre des places restantes est réservé au jeu de tuiles justice.")
	}
	if err := ctx.Err(); err != nil {
		return Tile{}, fmt.Errorf("tiles: tile: %w", err)
	}
	aud := audIndex(ta)
	fid := e.filters.id(f)
	k := cacheKey{aud: uint8(aud), z: uint8(z), x: uint32(x), y: uint32(y), filt: fid}
	if en := e.cache.get(k); en != nil {
		return en.tile(), nil
	}
	s := e.snap.Load()
	var data []byte
	if fid == 0 {
		data, err = e.render(s, aud, z, uint32(x), uint32(y))
	} else {
		p := s.filt.pyramid(fid, f, aud, e.opts.ClusterBelow, e.opts.ClusterRadius)
		data, err = e.renderTile(s, p, aud, z, uint32(x), uint32(y), true)
	}
	if err != nil {
		return Tile{}, err
	}
	en := newEntry(tileset, data)
	e.cache.put(k, en, s.gen)
	return en.tile(), nil
}

func newEntry(tileset string, data []byte) *entry {
	h := fnv.New64a()
	h.Write(data)
	en := &entry{data: data, empty: len(data) == 0}
	en.etag = `"` + tileset[:1] + strconv.FormatUint(h.Sum64(), 36) + `"`
	return en
}

func (en *entry) tile() Tile {
	return Tile{Data: en.data, ETag: en.etag, Empty: en.empty, e: en}
}

// render encodes tile (z, x, y) of audience aud from snapshot s; it returns
// nil for a tile without features.
func (e *Engine) render(s *snapshot, aud int, z int, x, y uint32) ([]byte, error) {
	return e.renderTile(s, s.posts[aud], aud, z, x, y, true)
}

// renderTile is render; without useEncoded it encodes every layer anew
// instead of reusing the layers encoded in advance for the low zooms
// (tests compare both).
//
// An MVT is a sequence of layer fields, so the tile is the concatenation
// of its layers encoded apart, bottom first: byte for byte the tile that
// encoding them together gives.
func (e *Engine) renderTile(s *snapshot, posts *pyramid, aud int, z int, x, y uint32, useEncoded bool) ([]byte, error) {
	ext, buf := e.opts.Extent, e.opts.Buffer
	tb := newTileBounds(z, x, y, ext)
	var out []byte
	var pending mvt.Layers
	addLayer := func(name string, fs []*geojson.Feature) {
		if len(fs) > 0 {
			pending = append(pending, &mvt.Layer{Name: name, Version: 2, Extent: uint32(ext), Features: fs})
		}
	}
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		data, err := mvt.Marshal(pending)
		if err != nil {
			return fmt.Errorf("tiles: encode %d/%d/%d: %w", z, x, y, err)
		}
		pending = pending[:0]
		if out == nil {
			out = data
		} else {
			out = append(out, data...)
		}
		return nil
	}
	encoded := useEncoded && z <= encodedZoom
	k := cacheKey{z: uint8(z), x: x, y: y}
	// Boundaries: régions at every zoom, départements from
	// DepartementsFrom.
	if encoded {
		out = append(out, e.lowBounds.tiles[k]...)
	} else {
		addLayer(LayerBoundaries, e.bounds.features(z, x, y, buf, e.opts.DepartementsFrom))
	}
	var fs []*geojson.Feature
	for _, r := range s.floorLs {
		if !intersectsTile(r.bound, tb, ext, buf) {
			continue
		}
		level := min(z, len(r.geoms)-1)
		if g := tilePolygons(r.geoms[level], r.parts[level], tb, ext, buf); len(g) > 0 {
			f := &geojson.Feature{ID: uint64(r.id), Properties: r.props}
			if len(g) == 1 {
				f.Geometry = g[0]
			} else {
				f.Geometry = g
			}
			fs = append(fs, f)
		}
	}
	addLayer(LayerFloorSpaces, fs)

	if encoded {
		if err := flush(); err != nil {
			return nil, err
		}
		out = append(out, s.lowPrisons[aud][k]...)
	} else {
		addLayer(LayerPrisons, e.prisonFeatures(s, aud, tb))
	}

	fs = nil
	items := posts.itemsAt(z, x, y)
	for i := range items {
		it := &items[i]
		fs = append(fs, &geojson.Feature{ID: it.featureID(z), Geometry: pointInTile(tb, it.x, it.y, ext), Properties: it.props(aud)})
	}
	addLayer(LayerPosts, fs)
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// prisonFeatures draws the prisons in tile tb.
func (e *Engine) prisonFeatures(s *snapshot, aud int, tb tileBounds) []*geojson.Feature {
	var fs []*geojson.Feature
	lo, hi := quadRange(tb.z, tb.x, tb.y)
	for i := searchPoints(s.prisons, lo); i < len(s.prisons) && s.prisons[i].qk < hi; i++ {
		p := s.prisons[i]
		fs = append(fs, &geojson.Feature{ID: uint64(p.id), Geometry: pointInTile(tb, p.x, p.y, e.opts.Extent), Properties: p.props[aud]})
	}
	return fs
}

// encodePrisons encodes the prisons layer of every tile up to encodedZoom
// holding a prison: at low zooms the layer holds all of them, the bulk of
// the tile's work, while it changes only with the prisons.
func (e *Engine) encodePrisons(prisons []*pointRec) [2]map[cacheKey][]byte {
	var out [2]map[cacheKey][]byte
	for aud := range audiences {
		out[aud] = map[cacheKey][]byte{}
		for z := 0; z <= min(encodedZoom, e.opts.MaxZoom); z++ {
			for i := 0; i < len(prisons); {
				x, y := tileOf(prisons[i].x, prisons[i].y, z)
				_, hi := quadRange(z, x, y)
				j := i
				for j < len(prisons) && prisons[j].qk < hi {
					j++
				}
				tb := newTileBounds(z, x, y, e.opts.Extent)
				data, err := mvt.Marshal(mvt.Layers{{Name: LayerPrisons, Version: 2, Extent: uint32(e.opts.Extent),
					Features: e.prisonFeatures(&snapshot{prisons: prisons[i:j]}, aud, tb)}})
				if err != nil { // orb only fails on unknown geometry types
					panic(fmt.Sprintf("tiles: encode prisons %d/%d/%d: %v", z, x, y, err))
				}
				out[aud][cacheKey{z: uint8(z), x: x, y: y}] = data
				i = j
			}
		}
	}
	return out
}

// pointInTile is the point's tile coordinate, floored so that a point
// belongs to the one tile its quadkey names (never the neighbour's edge).
func pointInTile(tb tileBounds, x, y float64, ext int) orb.Point {
	px, py := tb.toTile(x, y)
	fx := float64(min(ext-1, max(0, int(px))))
	fy := float64(min(ext-1, max(0, int(py))))
	return orb.Point{fx, fy}
}

func searchPoints(ps []*pointRec, qk uint64) int {
	lo, hi := 0, len(ps)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ps[m].qk < qk {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
