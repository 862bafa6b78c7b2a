package basemap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/paulmach/orb"
)

// Layer names, in drawing order.
const (
	LayerEarth      = "earth"
	LayerWater      = "water"
	LayerLanduse    = "landuse"
	LayerRoads      = "roads"
	LayerRailways   = "railways"
	LayerBuildings  = "buildings"
	LayerBoundaries = "boundaries"
	LayerPlaces     = "places"
	LayerPOIs       = "pois"
)

// Layers are the basemap's layers with their description (French, for
// the TileJSON).
var Layers = []struct{ ID, Description string }{
	{LayerEarth, "Terres émergées (îles fermées par leur trait de côte)"},
	{LayerWater, "Eau : mers intérieures, lacs, rivières (surfaces et cours d'eau)"},
	{LayerLanduse, "Occupation du sol : bois, parcs, zones habitées, industrielles, agricoles"},
	{LayerRoads, "Routes par classe (motorway, trunk, primary, secondary, tertiary, minor, service, path), avec nom et numéro"},
	{LayerRailways, "Voies ferrées, tramways et métros"},
	{LayerBuildings, "Bâtiments (zooms élevés)"},
	{LayerBoundaries, "Limites administratives (admin_level 2 pays, 4 région, 6 département, 8 commune)"},
	{LayerPlaces, "Lieux habités (city, town, village, suburb, hamlet) avec nom et population"},
	// Last: records store a layer's position.
	{LayerPOIs, "Lieux utiles : mairies, tribunaux, police et gendarmerie, établissements pénitentiaires, gares, aéroports, hôpitaux"},
}

func layerIndex(name string) uint8 {
	for i, l := range Layers {
		if l.ID == name {
			return uint8(i)
		}
	}
	panic("basemap: unknown layer " + name)
}

// Feature is one map feature before tiling: geometry in WGS84.
type Feature struct {
	Layer   string
	MinZoom int
	Kind    string // class within the layer: "motorway", "wood", "city"…
	Name    string // name:fr, else name
	Ref     string // road number
	Pop     int64  // population (places), for thinning
	Level   int    // admin_level (boundaries)
	Geom    orb.Geometry
}

// spool stores features in a temporary file: uvarint length, then the
// encoded feature. Tiling reads it back by offset.
type spool struct {
	f   *os.File
	w   *bufio.Writer
	off int64
	n   int
	buf []byte
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, ".basemap-features-*")
	if err != nil {
		return nil, fmt.Errorf("basemap: spool: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (s *spool) close() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// maxLinePoints splits long lines (a région's outline has thousands of
// points): a tile then decodes only the pieces near it.
const maxLinePoints = 256

func (s *spool) add(ft Feature) error {
	var lines orb.MultiLineString
	switch g := ft.Geom.(type) {
	case nil:
		return nil
	case orb.LineString:
		if len(g) <= maxLinePoints {
			return s.put(ft)
		}
		lines = orb.MultiLineString{g}
	case orb.MultiLineString:
		lines = g
	default:
		return s.put(ft)
	}
	for _, l := range lines {
		for len(l) > 1 {
			n := min(len(l), maxLinePoints)
			ft.Geom = l[:n]
			if err := s.put(ft); err != nil {
				return err
			}
			l = l[n-1:]
			if n < maxLinePoints {
				break
			}
		}
	}
	return nil
}

func (s *spool) put(ft Feature) error {
	b := s.buf[:0]
	b = append(b, layerIndex(ft.Layer), uint8(ft.MinZoom), uint8(ft.Level))
	// The bounding box, fixed size, lets tiling place a record unread.
	bb := ft.Geom.Bound()
	for _, v := range []float64{bb.Min[0], bb.Min[1], bb.Max[0], bb.Max[1]} {
		b = binary.LittleEndian.AppendUint32(b, uint32(int32(math.Round(v*1e7))))
	}
	b = appendString(b, ft.Kind)
	b = appendString(b, ft.Name)
	b = appendString(b, ft.Ref)
	b = binary.AppendVarint(b, ft.Pop)
	b = appendGeom(b, ft.Geom)
	s.buf = b
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(b)))
	if _, err := s.w.Write(hdr[:n]); err != nil {
		return fmt.Errorf("basemap: spool: %w", err)
	}
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("basemap: spool: %w", err)
	}
	s.off += int64(n + len(b))
	s.n++
	return nil
}

func (s *spool) flush() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("basemap: spool: %w", err)
	}
	return nil
}

// scan calls fn for each record with its offset and payload (valid
// during the call only).
func (s *spool) scan(fn func(off int64, rec []byte) error) error {
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, 0, s.off), 1<<20)
	var off int64
	var buf []byte
	for off < s.off {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("basemap: spool read: %w", err)
		}
		start := off
		off += int64(uvarintLen(n)) + int64(n)
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("basemap: spool read: %w", err)
		}
		if err := fn(start, buf); err != nil {
			return err
		}
	}
	return nil
}

// read returns the payload of the record at off, whose payload is n bytes.
func (s *spool) read(off int64, n int, buf []byte) ([]byte, error) {
	hl := uvarintLen(uint64(n))
	buf = append(buf[:0], make([]byte, n)...)
	if _, err := s.f.ReadAt(buf, off+int64(hl)); err != nil {
		return nil, fmt.Errorf("basemap: spool read: %w", err)
	}
	return buf, nil
}

func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], v)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Coordinates are stored as 1e-7 degree integers (OSM's own precision),
// delta-encoded.
const (
	gPoint = iota + 1
	gLine
	gMultiLine
	gPolygon
	gMultiPolygon
)

func appendRing(b []byte, ls []orb.Point) []byte {
	b = binary.AppendUvarint(b, uint64(len(ls)))
	var px, py int64
	for _, p := range ls {
		x, y := int64(math.Round(p[0]*1e7)), int64(math.Round(p[1]*1e7))
		b = binary.AppendVarint(b, x-px)
		b = binary.AppendVarint(b, y-py)
		px, py = x, y
	}
	return b
}

func appendPoly(b []byte, p orb.Polygon) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	for _, r := range p {
		b = appendRing(b, r)
	}
	return b
}

func appendGeom(b []byte, g orb.Geometry) []byte {
	switch g := g.(type) {
	case orb.Point:
		return appendRing(append(b, gPoint), []orb.Point{g})
	case orb.LineString:
		return appendRing(append(b, gLine), g)
	case orb.MultiLineString:
		b = binary.AppendUvarint(append(b, gMultiLine), uint64(len(g)))
		for _, l := range g {
			b = appendRing(b, l)
		}
		return b
	case orb.Polygon:
		return appendPoly(append(b, gPolygon), g)
	case orb.MultiPolygon:
		b = binary.AppendUvarint(append(b, gMultiPolygon), uint64(len(g)))
		for _, p := range g {
			b = appendPoly(b, p)
		}
		return b
	}
	panic(fmt.Sprintf("basemap: geometry %T", g))
}

var errCorrupt = errors.New("basemap: corrupt feature record")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 { return decodeVarint(d, binary.Uvarint) }

func (d *decoder) varint() int64 { return decodeVarint(d, binary.Varint) }

// decodeVarint reads one varint with read (binary.Uvarint or Varint); a
// bad one marks the record corrupt.
func decodeVarint[T uint64 | int64](d *decoder, read func([]byte) (T, int)) T {
	v, n := read(d.b)
	if n <= 0 {
		d.err = errCorrupt
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length: at most the bytes left, as each element (byte,
// point, ring) takes one at least. ok is false on a corrupt record.
func (d *decoder) count() (n int, ok bool) {
	u := d.uvarint()
	if u > uint64(len(d.b)) {
		d.err = errCorrupt
		return 0, false
	}
	return int(u), true
}

func (d *decoder) string() string {
	n, ok := d.count()
	if !ok {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) ring() []orb.Point {
	n, ok := d.count()
	if !ok {
		return nil
	}
	r := make([]orb.Point, n)
	var x, y int64
	for i := range r {
		x += d.varint()
		y += d.varint()
		r[i] = orb.Point{float64(x) / 1e7, float64(y) / 1e7}
	}
	return r
}

func (d *decoder) poly() orb.Polygon {
	n, ok := d.count()
	if !ok {
		return nil
	}
	p := make(orb.Polygon, n)
	for i := range p {
		p[i] = d.ring()
	}
	return p
}

const recHeader = 3 + 16

// recordHeader decodes what tiling needs to place a record: layer, min
// zoom, bounding box.
func recordHeader(rec []byte) (layer uint8, minZoom int, b orb.Bound) {
	v := func(i int) float64 { return float64(int32(binary.LittleEndian.Uint32(rec[3+4*i:]))) / 1e7 }
	return rec[0], int(rec[1]), orb.Bound{Min: orb.Point{v(0), v(1)}, Max: orb.Point{v(2), v(3)}}
}

func decodeFeature(rec []byte) (Feature, error) {
	if len(rec) < recHeader+1 || int(rec[0]) >= len(Layers) {
		return Feature{}, errCorrupt
	}
	ft := Feature{Layer: Layers[rec[0]].ID, MinZoom: int(rec[1]), Level: int(rec[2])}
	d := &decoder{b: rec[recHeader:]}
	ft.Kind, ft.Name, ft.Ref = d.string(), d.string(), d.string()
	ft.Pop = d.varint()
	if len(d.b) == 0 {
		return ft, errCorrupt
	}
	t := d.b[0]
	d.b = d.b[1:]
	switch t {
	case gPoint:
		r := d.ring()
		if len(r) == 1 {
			ft.Geom = r[0]
		}
	case gLine:
		ft.Geom = orb.LineString(d.ring())
	case gMultiLine:
		n := d.uvarint()
		ml := make(orb.MultiLineString, 0, min(n, 1<<16))
		for i := uint64(0); i < n && d.err == nil; i++ {
			ml = append(ml, d.ring())
		}
		ft.Geom = ml
	case gPolygon:
		ft.Geom = d.poly()
	case gMultiPolygon:
		n := d.uvarint()
		mp := make(orb.MultiPolygon, 0, min(n, 1<<16))
		for i := uint64(0); i < n && d.err == nil; i++ {
			mp = append(mp, d.poly())
		}
		ft.Geom = mp
	default:
		return ft, errCorrupt
	}
	if d.err != nil || ft.Geom == nil {
		return ft, errCorrupt
	}
	return ft, nil
}
