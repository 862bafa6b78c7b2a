package search

import (
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// row is a filter table row's answer, the Hit rowHit makes of the
// document, kept compact: its strings are numbers in the table's pool
// (a city, a département, an organisation's name are kept once for all
// the rows that show them), its pointers values. A Hit is 216 bytes
// plus its own strings, location and places; a row is 72 bytes. At ten
// times the country the table holds about 500,000 rows: the Hits and
// their strings were about 200 MB of the server's live heap.
type row struct {
	id                int64
	updated           int64   // Unix seconds: the stored field keeps seconds (RFC 3339)
	lon, lat          float64 // the stored location (Hit.Location), if located
	typ, subtype      strRef
	title, parent     strRef
	city, departement strRef
	status, rome      strRef // rome: romeSep before each code, so that nil and [""] differ
	placesLeft        int32
	located, places   bool // Location and PlacesLeft are set
}

// strRef numbers a string of a strPool; 0 is "".
type strRef int32

// romeSep precedes each of a row's ROME codes, which never contain it.
const romeSep = "\x1f"

// strPool numbers the strings of the table's rows, counting the rows that
// use each: a string no row uses any more is forgotten and its number
// reused, so that edits do not grow the pool. The caller holds the
// table's lock.
type strPool struct {
	strs []string // by number; strs[0] is ""
	refs []int32  // by number: the uses of each
	of   map[string]strRef
	free []strRef
}

func newStrPool() *strPool {
	return &strPool{strs: []string{""}, refs: []int32{0}, of: map[string]strRef{}}
}

// ref numbers s and counts one more use of it.
func (p *strPool) ref(s string) strRef {
	if s == "" {
		return 0
	}
	n, ok := p.of[s]
	if !ok {
		if k := len(p.free); k > 0 {
			n = p.free[k-1]
			p.free = p.free[:k-1]
			p.strs[n] = s
		} else {
			n = strRef(len(p.strs))
			p.strs, p.refs = append(p.strs, s), append(p.refs, 0)
		}
		p.of[s] = n
	}
	p.refs[n]++
	return n
}

// unref counts one use of n less.
func (p *strPool) unref(n strRef) {
	if n == 0 {
		return
	}
	if p.refs[n]--; p.refs[n] == 0 {
		delete(p.of, p.strs[n])
		p.strs[n] = ""
		p.free = append(p.free, n)
	}
}

func (p *strPool) str(n strRef) string { return p.strs[n] }

// refs of a row, to count and uncount them together.
func (r *row) refs() [8]*strRef {
	return [8]*strRef{&r.typ, &r.subtype, &r.title, &r.parent, &r.city, &r.departement, &r.status, &r.rome}
}

// newRow numbers h's strings in p.
func newRow(p *strPool, h Hit) row {
	r := row{id: h.ID, updated: h.Updated.Unix(),
		typ: p.ref(string(h.Type)), subtype: p.ref(h.Subtype), title: p.ref(h.Title), parent: p.ref(h.Parent),
		city: p.ref(h.City), departement: p.ref(h.Departement), status: p.ref(h.Status),
		rome: p.ref(joinROME(h.ROME))}
	if h.Location != nil {
		r.located, r.lon, r.lat = true, h.Location.Lon, h.Location.Lat
	}
	if h.PlacesLeft != nil {
		r.places, r.placesLeft = true, int32(*h.PlacesLeft)
	}
	return r
}

// drop uncounts the strings of r.
func (r *row) drop(p *strPool) {
	for _, f := range r.refs() {
		p.unref(*f)
	}
}

// hit is the Hit r was made of (with places left; no distance).
func (r *row) hit(p *strPool) Hit {
	h := Hit{ID: r.id, Type: Type(p.str(r.typ)), Subtype: p.str(r.subtype), Title: p.str(r.title),
		Parent: p.str(r.parent), City: p.str(r.city), Departement: p.str(r.departement), Status: p.str(r.status),
		Updated: time.Unix(r.updated, 0).UTC()}
	if codes := p.str(r.rome); codes != "" {
		h.ROME = strings.Split(codes[len(romeSep):], romeSep)
	}
	if r.located {
		h.Location = &atigip.Point{Lon: r.lon, Lat: r.lat}
	}
	if r.places {
		n := int(r.placesLeft)
		h.PlacesLeft = &n
	}
	return h
}

// joinROME is "" for no codes (toHit never makes an empty slice).
func joinROME(codes []string) string {
	if len(codes) == 0 {
		return ""
	}
	return romeSep + strings.Join(codes, romeSep)
}
