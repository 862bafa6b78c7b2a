package search

import (
	"bytes"
	"cmp"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2/geo"
	bsearch "github.com/blevesearch/bleve/v2/search"

	"github.com/atigip/atigip360/internal/atigip"
)

// filterTable answers requests without text from memory. Bleve visits the
// doc values of every match to count facets and order by date, tens of
// milliseconds for a broad filter nationwide after each write (see
// browseCache); the table answers the same in well under a millisecond.
// It follows the same writes as the index (Apply, Reindex), row by row,
// and is loaded from the store when an index on disk is reopened
// (CatchUp); until then bleve answers.
//
// The layout is columnar: each document has a slot, stable while it lives
// (a deleted document's slot is reused), and each filter value (a type, a
// département, a commune, a ROME code, a flag…) the set of slots that
// carry it, as a bitset for the ~150 values that facets count or that
// many documents share, as a sorted list of slots for communes and ROME
// codes (tens of thousands of values, a few documents each). A request is
// a few ANDs and ORs of bitsets of ~800 words; its total a popcount; its
// facet counts a popcount per facet value; its page the first matches of
// the date order, or a top-k by distance that skips, without
// trigonometry, the rows whose latitude alone puts them beyond the k-th. The pointer-per-row table it
// replaced spent ~4 ms a request comparing strings across 50,000
// scattered rows.
//
// Its answers are bleve's: same matches, facets, order and hits
// (TestFilterProperty compares both paths).
type filterTable struct {
	mu    sync.RWMutex
	ready bool

	// By slot. A row's document id (docID) is its type and number
	// (rowID); keeping the strings cost about 20 MB at ten times the
	// country.
	dates    []int64 // updated, to the second, as yyyymmddhhmmss (fUpdatedKey)
	lon, lat []float64
	// terms are the row's sparse filter values (communes, ROME codes),
	// to take it out of their slot lists; its dense values are its bits
	// in their bitsets (a few hundred words to clear, while a list of
	// every value was about 18 MB at ten times the country).
	terms   [][]int32
	rows    []row // what a hit shows, its strings in pool
	pool    *strPool
	live    bitset
	located bitset
	free    []int32
	slotOf  map[strRef]map[int64]int32 // by type, by number: 16-byte entries

	// order is the live slots by (date desc, id asc), the order bleve gives
	// a request without text.
	order []int32

	termOf map[string]int32 // filter value → term
	names  []string         // by term
	facets []int32          // the terms that are values of the facet field (fFacet)
	dense  []bitset         // by term: its slots; nil for a sparse term
	sparse [][]int32        // by sparse term: its slots, ascending
}

// bitset is a set of slots, one bit each.
type bitset []uint64

func (b bitset) has(i int32) bool { return int(i>>6) < len(b) && b[i>>6]&(1<<(uint(i)&63)) != 0 }
func (b bitset) set(i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) clear(i int32)    { b[i>>6] &^= 1 << (uint(i) & 63) }

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// each calls f with every slot of b, ascending.
func (b bitset) each(f func(int32)) {
	for i, w := range b {
		for w != 0 {
			f(int32(i<<6 + bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
}

// Prefixes of the terms that are not facet values (facet values start
// with a lower-case key, see facetDefs).
const (
	termPublic  = "P"
	termCommune = "C" // sparse
	termROME    = "X" // sparse
)

func newFilterTable() *filterTable {
	return &filterTable{slotOf: map[strRef]map[int64]int32{}, termOf: map[string]int32{}, pool: newStrPool()}
}

// term returns the term of name, creating it; the caller holds t.mu.
func (t *filterTable) term(name string, facet bool) int32 {
	if n, ok := t.termOf[name]; ok {
		return n
	}
	n := int32(len(t.names))
	t.termOf[name] = n
	t.names = append(t.names, name)
	if facet {
		t.facets = append(t.facets, n)
	}
	if name[0] == termCommune[0] || name[0] == termROME[0] {
		t.dense = append(t.dense, nil)
		t.sparse = append(t.sparse, []int32{})
	} else {
		t.dense = append(t.dense, make(bitset, len(t.live)))
		t.sparse = append(t.sparse, nil)
	}
	return n
}

// setRow fills the slot s with document d; the caller holds t.mu and s
// is free.
func (t *filterTable) setRow(s int32, id string, d document) {
	if words := int(s>>6) + 1; words > len(t.live) {
		grow := func(b bitset) bitset { return append(b, make(bitset, words-len(b))...) }
		t.live, t.located = grow(t.live), grow(t.located)
		for i, b := range t.dense {
			if b != nil {
				t.dense[i] = grow(b)
			}
		}
	}
	for int(s) >= len(t.rows) {
		t.dates, t.terms, t.rows = append(t.dates, 0), append(t.terms, nil), append(t.rows, row{})
		t.lon, t.lat = append(t.lon, 0), append(t.lat, 0)
	}
	date, _ := strconv.ParseInt(d.UpdatedKey, 10, 64)
	t.dates[s], t.rows[s] = date, newRow(t.pool, rowHit(id, d))
	t.live.set(s)
	t.setSlot(&t.rows[s], s, 0)
	t.lon[s], t.lat[s] = 0, 0
	if len(d.Location) == 2 {
		// Bleve compares distances on its geo point code, a little coarser
		// than the coordinates: the same code gives the same order and the
		// same edge of the radius.
		h := geo.MortonHash(d.Location[0], d.Location[1])
		t.lon[s], t.lat[s] = geo.MortonUnhashLon(h), geo.MortonUnhashLat(h)
		t.located.set(s)
	}
	var terms []int32
	add := func(name string, facet bool) {
		n := t.term(name, facet)
		if !slices.Contains(terms, n) {
			terms = append(terms, n)
		}
	}
	for _, f := range d.Facet {
		add(f, true)
	}
	if d.Audience == audPublic {
		add(termPublic, false)
	}
	for _, c := range d.Commune {
		add(termCommune+c, false)
	}
	for _, c := range d.ROME {
		add(termROME+c, false)
	}
	var sparse []int32
	for _, n := range terms {
		if b := t.dense[n]; b != nil {
			b.set(s)
		} else {
			p := t.sparse[n]
			i, _ := slices.BinarySearch(p, s)
			t.sparse[n] = slices.Insert(p, i, s)
			sparse = append(sparse, n)
		}
	}
	t.terms[s] = slices.Clip(sparse)
}

// rowHit is what toHit makes of the stored fields bleve returns for d.
func rowHit(id string, d document) Hit {
	fields := map[string]any{fType: d.Type, fStatus: d.Status,
		fUpdated: d.Updated.UTC().Format(time.RFC3339)}
	for f, v := range map[string]string{fSubtype: d.Subtype, fTitle: d.Title, fParent: d.Parent,
		fCity: d.City, fDepartement: d.Departement} {
		if v != "" {
			fields[f] = v
		}
	}
	switch len(d.ROME) {
	case 0:
	case 1:
		fields[fROME] = d.ROME[0]
	default:
		codes := make([]any, len(d.ROME))
		for i, c := range d.ROME {
			codes[i] = c
		}
		fields[fROME] = codes
	}
	if d.Lat != nil && d.Lon != nil {
		fields[fLat], fields[fLon] = *d.Lat, *d.Lon
	}
	if d.PlacesLeft != nil {
		fields[fPlacesLeft] = *d.PlacesLeft
	}
	return toHit(&bsearch.DocumentMatch{ID: id, Fields: fields}, &Request{}, true)
}

// clearRow empties the slot of id, if any, and returns it to the free
// list; the caller holds t.mu and removes the slot from t.order.
func (t *filterTable) clearRow(s int32) {
	for _, b := range t.dense {
		if b != nil {
			b.clear(s)
		}
	}
	for _, n := range t.terms[s] {
		if i, ok := slices.BinarySearch(t.sparse[n], s); ok {
			t.sparse[n] = slices.Delete(t.sparse[n], i, i+1)
		}
	}
	t.live.clear(s)
	t.located.clear(s)
	if r := &t.rows[s]; len(t.slotOf[r.typ]) == 1 {
		delete(t.slotOf, r.typ) // its type's number may go to another string
	} else {
		delete(t.slotOf[r.typ], r.id)
	}
	t.rows[s].drop(t.pool)
	t.terms[s], t.rows[s] = nil, row{}
	t.free = append(t.free, s)
}

// before is the table's order: the most recent first, then by id.
func (t *filterTable) before(a, b int32) int {
	if c := cmp.Compare(t.dates[b], t.dates[a]); c != 0 {
		return c
	}
	// The ids' strings, written on the stack: sorting the national
	// table compares hundreds of thousands of pairs.
	var ia, ib [48]byte
	return bytes.Compare(t.rowID(ia[:0], a), t.rowID(ib[:0], b))
}

// rowID appends the document id of slot s (docID) to buf.
func (t *filterTable) rowID(buf []byte, s int32) []byte {
	r := &t.rows[s]
	buf = append(buf, t.pool.str(r.typ)...)
	buf = append(buf, ':')
	return strconv.AppendInt(buf, r.id, 10)
}

// setSlot files slot s under its row's type and number; size is the
// room to make for the type's first row.
func (t *filterTable) setSlot(r *row, s int32, size int) {
	m := t.slotOf[r.typ]
	if m == nil {
		m = make(map[int64]int32, size)
		t.slotOf[r.typ] = m
	}
	m[r.id] = s
}

// slot is the slot of document id, if the table holds it; the caller
// holds t.mu.
func (t *filterTable) slot(id string) (int32, bool) {
	typ, n, ok := parseDocID(id)
	if !ok {
		return 0, false
	}
	ref, ok := t.pool.of[string(typ)]
	if !ok {
		return 0, false
	}
	s, ok := t.slotOf[ref][n]
	return s, ok
}

// at is the place of slot s in t.order (where it goes, if absent).
func (t *filterTable) at(s int32) int {
	i, _ := slices.BinarySearchFunc(t.order, s, t.before)
	return i
}

// put adds or replaces the row of id; delete removes it. Each changes the
// columns of one slot and moves one entry of the order, never rebuilds.
func (t *filterTable) put(id string, d document) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remove(id)
	s := t.newSlot()
	t.setRow(s, id, d)
	t.order = slices.Insert(t.order, t.at(s), s)
}

func (t *filterTable) delete(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remove(id)
}

func (t *filterTable) remove(id string) {
	s, ok := t.slot(id)
	if !ok {
		return
	}
	if i := t.at(s); i < len(t.order) && t.order[i] == s {
		t.order = slices.Delete(t.order, i, i+1)
	}
	t.clearRow(s)
}

func (t *filterTable) newSlot() int32 {
	if n := len(t.free); n > 0 {
		s := t.free[n-1]
		t.free = t.free[:n-1]
		return s
	}
	return int32(len(t.rows))
}

// add appends the row of a document while the table is built from a scan
// of the store; finish orders the rows and makes the table ready.
func (t *filterTable) add(id string, d document) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.slot(id); ok {
		t.clearRow(s)
		t.order = slices.DeleteFunc(t.order, func(x int32) bool { return x == s })
	}
	s := t.newSlot()
	t.setRow(s, id, d)
	t.order = append(t.order, s)
}

func (t *filterTable) finish() *filterTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	slices.SortFunc(t.order, t.before)
	t.ready = true
	return t
}

func (t *filterTable) isReady() bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.ready
}

// match returns the slots that pass the filters of r (normalized); the
// caller holds t.mu.
func (t *filterTable) match(r *Request) bitset {
	m := slices.Clone(t.live)
	and := func(b bitset) {
		for i := range m {
			m[i] &= b[i]
		}
	}
	// group ANDs the union of the terms named; a name absent from the
	// table matches nothing.
	var union bitset
	group := func(names ...string) {
		if union == nil {
			union = make(bitset, len(m))
		} else {
			clear(union)
		}
		for _, name := range names {
			n, ok := t.termOf[name]
			if !ok {
				continue
			}
			if b := t.dense[n]; b != nil {
				for i := range union {
					union[i] |= b[i]
				}
			} else {
				for _, s := range t.sparse[n] {
					union.set(s)
				}
			}
		}
		and(union)
	}
	prefixed := func(p string, vs []string) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = p + v
		}
		return out
	}
	if hiddenFrom(r.Role) != nil {
		group(termPublic)
	}
	if len(r.Types) > 0 {
		types := make([]string, len(r.Types))
		for i, x := range r.Types {
			types[i] = string(x)
		}
		group(prefixed(string(facetKey(fType)), types)...)
	}
	if dep := r.departement(); dep != "" {
		group(string(facetKey(fDepartement)) + dep)
	}
	if r.Region != "" {
		group(string(facetKey(fRegion)) + r.Region)
	}
	if r.Commune != "" {
		group(termCommune + r.Commune)
	}
	if len(r.ROME) > 0 {
		var names []string
		for _, c := range r.ROME {
			if len(c) == 1 {
				names = append(names, string(facetKey(fROMEDomain))+c)
			} else {
				names = append(names, termROME+c)
			}
		}
		group(names...)
	}
	if len(r.Status) > 0 {
		group(prefixed(string(facetKey(fStatus)), r.Status)...)
	}
	for _, f := range []struct {
		name string
		want *bool
	}{{fMinors, r.Minors}, {fWeekends, r.Weekends}, {fWheelchair, r.Wheelchair}, {fAvailable, r.Available}} {
		switch n, ok := t.termOf[string(facetKey(f.name))]; {
		case f.want == nil:
		case *f.want && ok:
			and(t.dense[n])
		case *f.want:
			clear(m)
		case ok:
			for i := range m {
				m[i] &^= t.dense[n][i]
			}
		}
	}
	if r.Near != nil && r.RadiusKm > 0 {
		// As bleve's distance query: a radius in metres, compared in km.
		lon, lat, maxKm := r.Near.Lon, r.Near.Lat, r.RadiusKm*1000/1000
		and(t.located)
		m.each(func(s int32) {
			if latBoundKm(t.lat[s], lat) > maxKm || geo.Haversin(t.lon[s], t.lat[s], lon, lat) > maxKm {
				m.clear(s)
			}
		})
	}
	return m
}

// latBoundKm is a lower bound of geo.Haversin between two points at
// latitudes a and b: the arc along a meridian on the smallest of bleve's
// earth diameters (12,713.5 km, at the poles), less 0.1 % for rounding.
func latBoundKm(a, b float64) float64 {
	return math.Abs(a-b) * (6350.0 * math.Pi / 180)
}

// search answers r (normalized, without text or explanation) like bleve;
// ok is false while the table is not loaded.
func (t *filterTable) search(r *Request, facets bool) (res *Result, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !t.ready {
		return nil, false
	}
	m := t.match(r)
	total := m.count()
	from, to := (r.Page-1)*r.PerPage, r.Page*r.PerPage
	var page []int32
	switch {
	case r.Sort == SortDistance:
		page = t.nearest(m, r.Near, to)
	case total*64 < len(t.order):
		// Few matches: sorting them costs less than walking the order
		// to its end.
		m.each(func(s int32) { page = append(page, s) })
		slices.SortFunc(page, t.before)
	default:
		for _, s := range t.order {
			if m.has(s) {
				if page = append(page, s); len(page) == to {
					break
				}
			}
		}
	}
	page = page[min(from, len(page)):min(to, len(page))]

	res = &Result{Total: uint64(total), Page: r.Page, PerPage: r.PerPage, Hits: make([]Hit, 0, len(page))}
	justice := r.Role.Audience() == atigip.AudienceJustice
	for _, s := range page {
		h := t.rows[s].hit(t.pool)
		if !justice {
			h.PlacesLeft = nil
		}
		if r.Near != nil && h.Location != nil {
			d := atigip.DistanceKm(*r.Near, *h.Location)
			h.DistanceKm = &d
		}
		res.Hits = append(res.Hits, h)
	}
	if facets {
		res.Facets = namedFacets(t.facetCounts(m), total, justice)
	}
	return res, true
}

// facetCounts counts the facet values of the slots of m: a popcount of m
// and each facet value's bitset, over the words of m that hold a match
// (walking the rows of the matches instead costs a cache miss each); the
// caller holds t.mu.
func (t *filterTable) facetCounts(m bitset) map[string]int {
	var nz []int32
	for i, w := range m {
		if w != 0 {
			nz = append(nz, int32(i))
		}
	}
	terms := make(map[string]int, len(t.facets))
	for _, n := range t.facets {
		b, c := t.dense[n], 0
		for _, i := range nz {
			c += bits.OnesCount64(m[i] & b[i])
		}
		if c > 0 {
			terms[t.names[n]] = c
		}
	}
	return terms
}

// nearest returns the first k slots of m by distance from p, then by the
// table's order (as bleve's second and third sort keys do), the slots
// without a position last; the caller holds t.mu. A bounded heap keeps
// the k best; a row whose latitude alone puts it farther than the k-th
// is skipped before any trigonometry.
func (t *filterTable) nearest(m bitset, p *atigip.Point, k int) []int32 {
	type entry struct {
		km float64
		s  int32
	}
	worse := func(a, b entry) bool { // a after b
		if a.km != b.km {
			return a.km > b.km
		}
		return t.before(a.s, b.s) > 0
	}
	h := make([]entry, 0, k)
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= len(h) {
				return
			}
			if c+1 < len(h) && worse(h[c+1], h[c]) {
				c++
			}
			if !worse(h[c], h[i]) {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	push := func(e entry) {
		if len(h) < k {
			h = append(h, e)
			for i := len(h) - 1; i > 0; {
				parent := (i - 1) / 2
				if !worse(h[i], h[parent]) {
					break
				}
				h[i], h[parent] = h[parent], h[i]
				i = parent
			}
			return
		}
		if worse(h[0], e) {
			h[0] = e
			down(0)
		}
	}
	m.each(func(s int32) {
		if !t.located.has(s) {
			push(entry{maxDist, s})
			return
		}
		if len(h) == k && latBoundKm(p.Lat, t.lat[s]) > h[0].km {
			return
		}
		push(entry{geo.Haversin(p.Lon, p.Lat, t.lon[s], t.lat[s]), s})
	})
	slices.SortFunc(h, func(a, b entry) int {
		if worse(b, a) {
			return -1
		}
		return 1
	})
	out := make([]int32, len(h))
	for i, e := range h {
		out[i] = e.s
	}
	return out
}

// maxDist sorts the documents without a position last, as bleve does.
var maxDist = float64(1 << 62)
