package basemap

import (
	"compress/bzip2"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"
	"github.com/paulmach/osm/osmxml"

	"github.com/atigip/atigip360/internal/atigip"
)

// Import builds a basemap archive at out from the OpenStreetMap extract
// at in (.osm.pbf; .osm, .osm.gz and .osm.bz2 XML are read too). The
// extract is read three times (relations, nodes, ways), each a stream;
// it must be sorted by type then id, as extracts are.
func Import(ctx context.Context, in, out string, o Options) (Stats, error) {
	o.defaults()
	var st Stats
	if o.TempDir == "" {
		o.TempDir = filepath.Dir(out)
	}
	fi, err := os.Stat(in)
	if err != nil {
		return st, atigip.Errorf(atigip.EINVALID, "Extrait OSM illisible : %v", err)
	}
	im := &importer{o: o, st: &st, size: fi.Size(), path: in,
		relWays: map[int64]geomRef{}, boundaryWays: map[int64]int{}}
	if im.nodes, err = newNodeStore(o.TempDir); err != nil {
		return st, err
	}
	defer im.nodes.close()
	if im.sp, err = newSpool(o.TempDir); err != nil {
		return st, err
	}
	defer im.sp.close()
	if im.members, err = newSpool(o.TempDir); err != nil {
		return st, err
	}
	defer im.members.close()

	start := time.Now()
	if err := im.pass(ctx, "relations", false, true, false, im.relation); err != nil {
		return st, err
	}
	if err := im.pass(ctx, "nœuds", true, false, false, im.node); err != nil {
		return st, err
	}
	if err := im.nodes.seal(); err != nil {
		return st, err
	}
	if err := im.pass(ctx, "chemins", false, false, true, im.way); err != nil {
		return st, err
	}
	if err := im.assemble(); err != nil {
		return st, err
	}
	st.Read = time.Since(start)
	if st.Nodes == 0 {
		return st, atigip.Errorf(atigip.EINVALID, "Extrait OSM vide : aucun nœud dans %s.", in)
	}
	if im.bound.IsZero() {
		im.bound = orb.Bound{Min: orb.Point{-180, -85}, Max: orb.Point{180, 85}}
	}
	return st, build(ctx, im.sp, out, im.bound, o, &st)
}

// geomRef locates a member way's record in the members spool (n: its
// payload's size; 0 until the way is read).
type geomRef struct {
	off int64
	n   int32
}

type relMP struct {
	ft     Feature
	outers []int64
	inners []int64
}

type importer struct {
	o     Options
	st    *Stats
	size  int64
	path  string
	nodes *nodeStore
	sp    *spool
	bound orb.Bound

	rels         []relMP
	relWays      map[int64]geomRef // ways multipolygons need → their geometry in members
	members      *spool            // that geometry, written in the ways pass
	boundaryWays map[int64]int     // way → lowest admin_level of its boundaries
}

// countingReader reports the bytes read, for the progress bar.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// pass streams the extract once, passing fn the elements asked for.
func (im *importer) pass(ctx context.Context, stage string, nodes, rels, ways bool, fn func(osm.Object) error) error {
	f, err := os.Open(im.path)
	if err != nil {
		return fmt.Errorf("basemap: %w", err)
	}
	defer f.Close()
	cr := &countingReader{r: f}
	var r io.Reader = cr
	name := strings.ToLower(im.path)
	switch {
	case strings.HasSuffix(name, ".gz"):
		zr, err := gzip.NewReader(cr)
		if err != nil {
			return atigip.Errorf(atigip.EINVALID, "Extrait OSM illisible (gzip) : %v", err)
		}
		r = zr
	case strings.HasSuffix(name, ".bz2"):
		r = bzip2.NewReader(cr)
	}
	type scanner interface {
		Scan() bool
		Object() osm.Object
		Err() error
		Close() error
	}
	var sc scanner
	if strings.HasSuffix(name, ".pbf") {
		s := osmpbf.New(ctx, r, min(im.o.Workers, runtime.GOMAXPROCS(0)))
		s.SkipNodes, s.SkipWays, s.SkipRelations = !nodes, !ways, !rels
		sc = s
	} else {
		sc = osmxml.New(ctx, r)
	}
	defer sc.Close()
	var i int
	for sc.Scan() {
		obj := sc.Object()
		switch obj.(type) {
		case *osm.Node:
			if !nodes {
				continue
			}
		case *osm.Way:
			if !ways {
				continue
			}
		case *osm.Relation:
			if !rels {
				continue
			}
		default:
			continue
		}
		if err := fn(obj); err != nil {
			return err
		}
		if i++; i%65536 == 0 && im.o.Progress != nil {
			im.o.Progress(stage, cr.n, im.size)
		}
	}
	if err := sc.Err(); err != nil {
		return atigip.Errorf(atigip.EINVALID, "Extrait OSM illisible : %v", err)
	}
	if im.o.Progress != nil {
		im.o.Progress(stage, im.size, im.size)
	}
	return nil
}

func name(t osm.Tags) string {
	if n := t.Find("name:fr"); n != "" {
		return n
	}
	return t.Find("name")
}

func (im *importer) relation(obj osm.Object) error {
	r := obj.(*osm.Relation)
	im.st.Relations++
	t := r.Tags
	switch t.Find("type") {
	case "multipolygon":
		ft, ok := classifyArea(t)
		if !ok {
			return nil
		}
		mp := relMP{ft: ft}
		for _, m := range r.Members {
			if m.Type != osm.TypeWay {
				continue
			}
			if m.Role == "inner" {
				mp.inners = append(mp.inners, m.Ref)
			} else {
				mp.outers = append(mp.outers, m.Ref)
			}
			im.relWays[m.Ref] = geomRef{}
		}
		im.rels = append(im.rels, mp)
	case "boundary":
		if t.Find("boundary") != "administrative" {
			return nil
		}
		lvl, err := strconv.Atoi(t.Find("admin_level"))
		if err != nil || (lvl != 2 && lvl != 4 && lvl != 6 && lvl != 8) {
			return nil
		}
		for _, m := range r.Members {
			if m.Type == osm.TypeWay {
				if old, ok := im.boundaryWays[m.Ref]; !ok || lvl < old {
					im.boundaryWays[m.Ref] = lvl
				}
			}
		}
	}
	return nil
}

func (im *importer) node(obj osm.Object) error {
	n := obj.(*osm.Node)
	im.st.Nodes++
	if err := im.nodes.add(int64(n.ID), n.Lon, n.Lat); err != nil {
		return err
	}
	p := orb.Point{n.Lon, n.Lat}
	if im.bound.IsZero() {
		im.bound = orb.Bound{Min: p, Max: p}
	} else {
		im.bound = im.bound.Extend(p)
	}
	if len(n.Tags) == 0 {
		return nil
	}
	if kind, mz, ok := poiKind(n.Tags); ok {
		return im.sp.add(Feature{Layer: LayerPOIs, MinZoom: mz, Kind: kind, Name: name(n.Tags), Geom: p})
	}
	kind := n.Tags.Find("place")
	nm := name(n.Tags)
	if nm == "" {
		return nil
	}
	pop, _ := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(n.Tags.Find("population")), " ", ""), 10, 64)
	mz, ok := placeMinZoom(kind, pop)
	if !ok {
		return nil
	}
	if pop == 0 {
		pop = defaultPop[kind]
	}
	return im.sp.add(Feature{Layer: LayerPlaces, MinZoom: mz, Kind: kind, Name: nm, Pop: pop, Geom: p})
}

// defaultPop orders places without a population tag by their kind.
var defaultPop = map[string]int64{"city": 100000, "town": 5000, "village": 500, "suburb": 300, "quarter": 200, "hamlet": 50, "neighbourhood": 40, "isolated_dwelling": 5, "locality": 1}

// placeMinZoom places names by importance: big cities from zoom 4,
// villages from 10, hamlets from 13.
func placeMinZoom(kind string, pop int64) (int, bool) {
	switch kind {
	case "city":
		switch {
		case pop >= 500000:
			return 4, true
		case pop >= 100000:
			return 5, true
		}
		return 6, true
	case "town":
		if pop >= 20000 {
			return 7, true
		}
		return 8, true
	case "village":
		return 10, true
	case "suburb":
		return 11, true
	case "quarter":
		return 12, true
	case "hamlet", "neighbourhood":
		return 13, true
	case "isolated_dwelling", "locality":
		return 14, true
	}
	return 0, false
}

func (im *importer) coords(w *osm.Way) []orb.Point {
	pts := make([]orb.Point, 0, len(w.Nodes))
	for _, wn := range w.Nodes {
		if lon, lat, ok := im.nodes.get(int64(wn.ID)); ok {
			pts = append(pts, orb.Point{lon, lat})
		}
	}
	return pts
}

func (im *importer) way(obj osm.Object) error {
	w := obj.(*osm.Way)
	im.st.Ways++
	_, inRel := im.relWays[int64(w.ID)]
	lvl, isBoundary := im.boundaryWays[int64(w.ID)]
	line, area := classifyLine(w.Tags), false
	var aft Feature
	if !line.ok {
		aft, area = classifyArea(w.Tags)
	}
	poi, poiZoom, isPOI := poiKind(w.Tags)
	if !inRel && !isBoundary && !line.ok && !area && !isPOI {
		return nil
	}
	pts := im.coords(w)
	if len(pts) < 2 {
		return nil
	}
	if isPOI && pts[0] == pts[len(pts)-1] {
		// A building or site mapped as an area: its icon at the centre.
		var c orb.Point
		for _, p := range pts[1:] {
			c[0], c[1] = c[0]+p[0]/float64(len(pts)-1), c[1]+p[1]/float64(len(pts)-1)
		}
		if err := im.sp.add(Feature{Layer: LayerPOIs, MinZoom: poiZoom, Kind: poi, Name: name(w.Tags), Geom: c}); err != nil {
			return err
		}
	}
	if inRel {
		// Kept on disk until the relations are assembled: a national
		// extract's multipolygons have millions of member ways.
		off := im.members.off
		if err := im.members.put(Feature{Layer: LayerEarth, Geom: orb.LineString(pts)}); err != nil {
			return err
		}
		im.relWays[int64(w.ID)] = geomRef{off, int32(len(im.members.buf))}
	}
	if isBoundary {
		if err := im.sp.add(Feature{Layer: LayerBoundaries, MinZoom: boundaryMinZoom[lvl], Level: lvl, Geom: orb.LineString(pts)}); err != nil {
			return err
		}
	}
	if line.ok {
		return im.sp.add(Feature{Layer: line.layer, MinZoom: line.minZoom, Kind: line.kind, Name: name(w.Tags), Ref: w.Tags.Find("ref"), Geom: orb.LineString(pts)})
	}
	if area && len(pts) >= 4 && pts[0] == pts[len(pts)-1] {
		return im.addArea(aft, orb.Polygon{orb.Ring(pts)})
	}
	return nil
}

var boundaryMinZoom = map[int]int{2: 0, 4: 4, 6: 7, 8: 11}

func (im *importer) addArea(ft Feature, p orb.Polygon) error {
	mz := areaMinZoom(worldArea(p), 64)
	if ft.Layer == LayerBuildings {
		mz = max(mz, im.o.MaxZoom)
	}
	// The deepest zoom is overzoomed by clients up to 4 levels more: an
	// area visible there (a house at z18) is kept in it.
	if mz > im.o.MaxZoom && mz <= im.o.MaxZoom+4 {
		mz = im.o.MaxZoom
	}
	ft.MinZoom = max(ft.MinZoom, mz)
	if ft.MinZoom > im.o.MaxZoom {
		return nil // too small to see even at the deepest zoom
	}
	ft.Geom = p
	return im.sp.add(ft)
}

// assemble builds the multipolygon relations from their member ways.
func (im *importer) assemble() error {
	if err := im.members.flush(); err != nil {
		return err
	}
	var buf []byte
	geom := func(ids []int64) (map[int64][]orb.Point, error) {
		out := map[int64][]orb.Point{}
		for _, id := range ids {
			ref := im.relWays[id]
			if ref.n == 0 {
				continue // not in the extract
			}
			rec, err := im.members.read(ref.off, int(ref.n), buf)
			if err != nil {
				return nil, err
			}
			buf = rec
			ft, err := decodeFeature(rec)
			if err != nil {
				return nil, err
			}
			out[id] = ft.Geom.(orb.LineString)
		}
		return out, nil
	}
	for _, r := range im.rels {
		g, err := geom(append(append([]int64(nil), r.outers...), r.inners...))
		if err != nil {
			return err
		}
		outers := joinRings(r.outers, g)
		inners := joinRings(r.inners, g)
		var mp orb.MultiPolygon
		for _, o := range outers {
			mp = append(mp, orb.Polygon{o})
		}
		for _, in := range inners {
			for i := range mp {
				if planar.RingContains(mp[i][0], in[0]) {
					mp[i] = append(mp[i], in)
					break
				}
			}
		}
		for _, p := range mp {
			if err := im.addArea(r.ft, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// joinRings joins ways end to end into closed rings; open leftovers are
// dropped (a clipped extract cuts relations at its edge).
func joinRings(ids []int64, geom map[int64][]orb.Point) []orb.Ring {
	var open [][]orb.Point
	var rings []orb.Ring
	for _, id := range ids {
		if g, ok := geom[id]; ok && len(g) >= 2 {
			open = append(open, append([]orb.Point(nil), g...))
		}
	}
	for len(open) > 0 {
		cur := open[0]
		open = open[1:]
		for cur[0] != cur[len(cur)-1] {
			joined := false
			for i, g := range open {
				switch {
				case g[0] == cur[len(cur)-1]:
					cur = append(cur, g[1:]...)
				case g[len(g)-1] == cur[len(cur)-1]:
					for j := len(g) - 2; j >= 0; j-- {
						cur = append(cur, g[j])
					}
				case g[len(g)-1] == cur[0]:
					cur = append(append([]orb.Point(nil), g...), cur[1:]...)
				case g[0] == cur[0]:
					rev := make([]orb.Point, 0, len(g)+len(cur))
					for j := len(g) - 1; j >= 0; j-- {
						rev = append(rev, g[j])
					}
					cur = append(rev, cur[1:]...)
				default:
					continue
				}
				open = append(open[:i], open[i+1:]...)
				joined = true
				break
			}
			if !joined {
				break
			}
		}
		if len(cur) >= 4 && cur[0] == cur[len(cur)-1] {
			rings = append(rings, orb.Ring(cur))
		}
	}
	return rings
}

// poiKind sorts the points of interest a judge or a probation officer
// looks for near a post: town halls, courts, police, prisons, stations.
func poiKind(t osm.Tags) (kind string, minZoom int, ok bool) {
	switch t.Find("amenity") {
	case "townhall":
		return "townhall", 14, true
	case "courthouse":
		return "courthouse", 13, true
	case "police":
		return "police", 14, true
	case "prison":
		return "prison", 13, true
	case "hospital":
		return "hospital", 13, true
	}
	switch {
	case t.Find("railway") == "station":
		return "station", 12, true
	case t.Find("railway") == "halt":
		return "station", 13, true
	case t.Find("aeroway") == "aerodrome":
		return "airport", 10, true
	}
	return "", 0, false
}

type lineClass struct {
	ok      bool
	layer   string
	kind    string
	minZoom int
}

var roadClasses = map[string]lineClass{
	"motorway": {true, LayerRoads, "motorway", 5}, "motorway_link": {true, LayerRoads, "motorway", 10},
	"trunk": {true, LayerRoads, "trunk", 6}, "trunk_link": {true, LayerRoads, "trunk", 11},
	"primary": {true, LayerRoads, "primary", 8}, "primary_link": {true, LayerRoads, "primary", 12},
	"secondary": {true, LayerRoads, "secondary", 9}, "secondary_link": {true, LayerRoads, "secondary", 12},
	"tertiary": {true, LayerRoads, "tertiary", 10}, "tertiary_link": {true, LayerRoads, "tertiary", 13},
	"residential": {true, LayerRoads, "minor", 12}, "unclassified": {true, LayerRoads, "minor", 12},
	"living_street": {true, LayerRoads, "minor", 12}, "road": {true, LayerRoads, "minor", 12},
	"service": {true, LayerRoads, "service", 13}, "pedestrian": {true, LayerRoads, "service", 13},
	"track": {true, LayerRoads, "path", 14}, "footway": {true, LayerRoads, "path", 14}, "path": {true, LayerRoads, "path", 14},
	"cycleway": {true, LayerRoads, "path", 14}, "steps": {true, LayerRoads, "path", 14}, "bridleway": {true, LayerRoads, "path", 14},
}

var railClasses = map[string]lineClass{
	"rail": {true, LayerRailways, "rail", 8}, "narrow_gauge": {true, LayerRailways, "rail", 10},
	"light_rail": {true, LayerRailways, "light_rail", 11}, "subway": {true, LayerRailways, "subway", 12},
	"tram": {true, LayerRailways, "tram", 12},
}

var waterwayClasses = map[string]lineClass{
	"river": {true, LayerWater, "river", 8}, "canal": {true, LayerWater, "canal", 10},
	"stream": {true, LayerWater, "stream", 13}, "drain": {true, LayerWater, "stream", 14}, "ditch": {true, LayerWater, "stream", 14},
}

// classifyLine sorts ways drawn as lines: roads, railways, waterways.
func classifyLine(t osm.Tags) lineClass {
	if h := t.Find("highway"); h != "" && t.Find("area") != "yes" {
		return roadClasses[h]
	}
	if r := t.Find("railway"); r != "" && t.Find("service") == "" {
		return railClasses[r]
	}
	if w := t.Find("waterway"); w != "" {
		return waterwayClasses[w]
	}
	return lineClass{}
}

var landuseKinds = map[string]string{
	"forest": "wood", "wood": "wood", "residential": "residential", "industrial": "industrial",
	"commercial": "commercial", "retail": "commercial", "farmland": "farmland", "farmyard": "farmland",
	"orchard": "farmland", "vineyard": "farmland", "meadow": "grass", "grass": "grass",
	"recreation_ground": "park", "village_green": "park", "cemetery": "cemetery", "park": "park",
	"garden": "park", "scrub": "scrub", "heath": "scrub", "grassland": "grass", "military": "industrial",
}

// classifyArea sorts closed ways and multipolygons: water, land use,
// buildings, islands.
func classifyArea(t osm.Tags) (Feature, bool) {
	switch {
	case t.Find("building") != "" && t.Find("building") != "no":
		return Feature{Layer: LayerBuildings, MinZoom: DefaultMaxZoom}, true
	case t.Find("natural") == "water" || t.Find("waterway") == "riverbank" || t.Find("landuse") == "reservoir" || t.Find("landuse") == "basin":
		return Feature{Layer: LayerWater, Kind: "water", Name: name(t)}, true
	case t.Find("natural") == "coastline":
		// A closed coastline is an island: land on its left.
		return Feature{Layer: LayerEarth, Kind: "island"}, true
	}
	for _, k := range []string{"landuse", "natural", "leisure"} {
		if kind, ok := landuseKinds[t.Find(k)]; ok {
			return Feature{Layer: LayerLanduse, Kind: kind, MinZoom: 6}, true
		}
	}
	return Feature{}, false
}
