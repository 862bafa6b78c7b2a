package search

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2/geo"
	bsearch "github.com/blevesearch/bleve/v2/search"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// filterTable answers requests without text from memory: one row per
// document with its filter fields, kept in date order (newest first, then
// by id, the order bleve gives a request without text), with the facet
// values interned to small integers. Bleve visits the doc values of every
// match to count facets and order by date, tens of milliseconds for a
// broad filter nationwide after each write (see browseCache); a scan of
// ~50,000 rows in memory takes about a millisecond. The table follows the
// same writes as the index (Apply, Reindex), and is loaded from the store
// when an index on disk is reopened (CatchUp); until then bleve answers.
//
// Its answers are bleve's: same matches, facets, order and hits
// (TestFilterProperty compares both paths).
type filterTable struct {
	mu    sync.RWMutex
	ready bool
	rows  []*row // by (date desc, id asc)
	byID  map[string]*row
	terms map[string]int // facet term → index in names
	names []string
}

// row is a document's filter fields and its hit.
type row struct {
	id          string
	date        int64 // updated, to the second, as yyyymmddhhmmss (fUpdatedKey)
	typ         Type
	public      bool
	departement string
	region      string
	communes    []string
	rome        []string
	domains     []string
	status      string
	minors      bool
	weekends    bool
	wheelchair  bool
	available   bool
	located     bool
	lon, lat    float64 // as bleve decodes its geo point (morton code)
	facets      []int   // interned facet terms (see facetDefs)
	hit         Hit     // with places left; no distance
}

func newFilterTable() *filterTable {
	return &filterTable{byID: map[string]*row{}, terms: map[string]int{}}
}

// before is the table's order.
func (a *row) before(b *row) bool {
	if a.date != b.date {
		return a.date > b.date
	}
	return a.id < b.id
}

func (t *filterTable) pos(r *row) int {
	i, _ := slices.BinarySearchFunc(t.rows, r, func(x, y *row) int {
		switch {
		case x == y || (x.date == y.date && x.id == y.id):
			return 0
		case x.before(y):
			return -1
		}
		return 1
	})
	return i
}

// newRow builds the row of document d; the caller holds t.mu.
func (t *filterTable) newRow(id string, d document) *row {
	date, _ := strconv.ParseInt(d.UpdatedKey, 10, 64)
	r := &row{id: id, date: date, typ: Type(d.Type), public: d.Audience == audPublic,
		departement: d.Departement, region: d.Region, communes: d.Commune, rome: d.ROME,
		domains: d.ROMEDomain, status: d.Status, minors: d.Minors, weekends: d.Weekends,
		wheelchair: d.Wheelchair, available: d.Available}
	if len(d.Location) == 2 {
		// Bleve compares distances on its geo point code, a little coarser
		// than the coordinates: the same code gives the same order and the
		// same edge of the radius.
		h := geo.MortonHash(d.Location[0], d.Location[1])
		r.located, r.lon, r.lat = true, geo.MortonUnhashLon(h), geo.MortonUnhashLat(h)
	}
	for _, f := range d.Facet {
		n, ok := t.terms[f]
		if !ok {
			n = len(t.names)
			t.terms[f] = n
			t.names = append(t.names, f)
		}
		r.facets = append(r.facets, n)
	}
	// The hit is what toHit makes of the stored fields bleve returns.
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
	r.hit = toHit(&bsearch.DocumentMatch{ID: id, Fields: fields}, &Request{}, true)
	return r
}

// put adds or replaces the row of id; delete removes it.
func (t *filterTable) put(id string, d document) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remove(id)
	r := t.newRow(id, d)
	t.rows = slices.Insert(t.rows, t.pos(r), r)
	t.byID[id] = r
}

func (t *filterTable) delete(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remove(id)
}

func (t *filterTable) remove(id string) {
	old, ok := t.byID[id]
	if !ok {
		return
	}
	i := t.pos(old)
	if i < len(t.rows) && t.rows[i] == old {
		t.rows = slices.Delete(t.rows, i, i+1)
	}
	delete(t.byID, id)
}

// add appends the row of a document while the table is built from a scan
// of the store; finish orders the rows and makes the table ready.
func (t *filterTable) add(id string, d document) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.newRow(id, d)
	t.rows = append(t.rows, r)
	t.byID[id] = r
}

func (t *filterTable) finish() *filterTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	slices.SortFunc(t.rows, func(a, b *row) int {
		if a.before(b) {
			return -1
		}
		return 1
	})
	t.ready = true
	return t
}

func (t *filterTable) isReady() bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.ready
}

// tableFilter is a normalized request's filters, as the table checks them.
type tableFilter struct {
	types                                   []Type
	public                                  bool
	departement, region, commune            string
	codes, domains, status                  []string
	minors, weekends, wheelchair, available *bool
	near                                    bool
	lon, lat, maxKm                         float64
}

func newTableFilter(r *Request) tableFilter {
	f := tableFilter{types: r.Types, public: hiddenFrom(r.Role) != nil,
		region: r.Region, commune: r.Commune, status: r.Status,
		minors: r.Minors, weekends: r.Weekends, wheelchair: r.Wheelchair, available: r.Available}
	if r.Departement != "" {
		d, _ := refdata.DepartementByCode(r.Departement)
		f.departement = d.Code
	}
	for _, c := range r.ROME {
		if len(c) == 1 {
			f.domains = append(f.domains, c)
		} else {
			f.codes = append(f.codes, c)
		}
	}
	if r.Near != nil && r.RadiusKm > 0 {
		// As bleve's distance query: a radius in metres, compared in km.
		f.near, f.lon, f.lat, f.maxKm = true, r.Near.Lon, r.Near.Lat, r.RadiusKm*1000/1000
	}
	return f
}

func (f *tableFilter) keeps(r *row) bool {
	flag := func(want *bool, v bool) bool { return want == nil || *want == v }
	switch {
	case f.public && !r.public,
		len(f.types) > 0 && !slices.Contains(f.types, r.typ),
		f.departement != "" && r.departement != f.departement,
		f.region != "" && r.region != f.region,
		f.commune != "" && !slices.Contains(r.communes, f.commune),
		len(f.status) > 0 && !slices.Contains(f.status, r.status),
		!flag(f.minors, r.minors), !flag(f.weekends, r.weekends),
		!flag(f.wheelchair, r.wheelchair), !flag(f.available, r.available):
		return false
	}
	if len(f.codes)+len(f.domains) > 0 &&
		!slices.ContainsFunc(f.codes, func(c string) bool { return slices.Contains(r.rome, c) }) &&
		!slices.ContainsFunc(f.domains, func(c string) bool { return slices.Contains(r.domains, c) }) {
		return false
	}
	if f.near && (!r.located || geo.Haversin(r.lon, r.lat, f.lon, f.lat) > f.maxKm) {
		return false
	}
	return true
}

// search answers r (normalized, without text or explanation) like bleve;
// ok is false while the table is not loaded.
func (t *filterTable) search(r *Request, facets bool) (res *Result, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !t.ready {
		return nil, false
	}
	f := newTableFilter(r)
	var counts []int
	if facets {
		counts = make([]int, len(t.names))
	}
	from := (r.Page - 1) * r.PerPage
	var page []*row
	total := 0
	var byDistance []distRow
	for _, x := range t.rows {
		if !f.keeps(x) {
			continue
		}
		if facets {
			for _, n := range x.facets {
				counts[n]++
			}
		}
		switch {
		case r.Sort == SortDistance:
			d := maxDist
			if x.located {
				d = geo.Haversin(r.Near.Lon, r.Near.Lat, x.lon, x.lat)
			}
			byDistance = append(byDistance, distRow{d, total, x})
		case total >= from && total < from+r.PerPage:
			page = append(page, x)
		}
		total++
	}
	if r.Sort == SortDistance {
		// The scan is in date order: the position breaks distance ties
		// as bleve's second and third sort keys do.
		slices.SortFunc(byDistance, func(a, b distRow) int {
			return cmp.Or(cmp.Compare(a.km, b.km), cmp.Compare(a.at, b.at))
		})
		for _, d := range byDistance[min(from, len(byDistance)):min(from+r.PerPage, len(byDistance))] {
			page = append(page, d.row)
		}
	}
	res = &Result{Total: uint64(total), Page: r.Page, PerPage: r.PerPage, Hits: make([]Hit, 0, len(page))}
	justice := r.Role.Audience() == atigip.AudienceJustice
	for _, x := range page {
		h := x.hit
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
		terms := make(map[string]int, len(counts))
		for n, c := range counts {
			if c > 0 {
				terms[t.names[n]] = c
			}
		}
		res.Facets = namedFacets(terms, total, justice)
	}
	return res, true
}

// maxDist sorts the documents without a position last, as bleve does.
var maxDist = float64(1 << 62)

type distRow struct {
	km  float64
	at  int
	row *row
}
