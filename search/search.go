package search

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// Result is one page of hits with the facet counts of all matches.
type Result struct {
	Total   uint64 `json:"total"`
	Page    int    `json:"page"`
	PerPage int    `json:"per_page"`
	Hits    []Hit  `json:"hits"`
	// Facets is nil when the request did not ask for them (see
	// Request.Facets).
	Facets map[string][]FacetCount `json:"facets,omitempty"`
	Took   time.Duration           `json:"-"`
}

// Hit is one matching document, with only what its audience may see.
type Hit struct {
	ID          int64         `json:"id"`
	Type        Type          `json:"type"`
	Subtype     string        `json:"subtype,omitempty"` // organisation kind, offer kind, floor use
	Title       string        `json:"title"`
	Parent      string        `json:"parent,omitempty"` // organisation or prison name
	City        string        `json:"city,omitempty"`
	Departement string        `json:"departement,omitempty"`
	ROME        []string      `json:"rome,omitempty"`
	Status      string        `json:"status"`
	Location    *atigip.Point `json:"location,omitempty"`
	DistanceKm  *float64      `json:"distance_km,omitempty"`
	// PlacesLeft is shown to justice professionals only.
	PlacesLeft *int      `json:"places_left,omitempty"`
	Updated    time.Time `json:"updated"`
	Score      float64   `json:"score"`
	// Highlights are fragments of title, body or parent where the query
	// matched, HTML-escaped, with <mark> around the matches.
	Highlights  map[string][]string `json:"highlights,omitempty"`
	Explanation *Explanation        `json:"explanation,omitempty"`
}

// Explanation is how a score was computed, as a tree.
type Explanation struct {
	Value    float64        `json:"value"`
	Message  string         `json:"message"`
	Children []*Explanation `json:"children,omitempty"`
}

// FacetCount is the number of matches with one value of a facet.
type FacetCount struct {
	Value string `json:"value"`
	Label string `json:"label"`
	Count int    `json:"count"`
}

// facetValues bounds the distinct values of the facet field: every
// département, région, domain, status, type and flag.
const facetValues = 400

var storedFields = []string{fType, fSubtype, fTitle, fParent, fCity, fDepartement, fROME,
	fStatus, fLat, fLon, fPlacesLeft, fUpdated}

// Search runs r. Invalid requests fail with EINVALID (French messages),
// an explanation asked by a non-professional with EFORBIDDEN.
func (ix *Index) Search(ctx context.Context, r Request) (*Result, error) {
	start := time.Now()
	pq, err := r.normalize()
	if err != nil {
		return nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.idx == nil {
		return nil, atigip.Errorf(atigip.EUNAVAILABLE, "L'index de recherche est fermé.")
	}
	gen := ix.written.Load()
	key, cacheable := browseKey(&r, pq)
	if cacheable {
		if res, ok := ix.browse.get(key, gen); ok {
			res.Took = time.Since(start)
			return res, nil
		}
	}
	justice := r.Role.Audience() == atigip.AudienceJustice
	facets := r.Page == 1
	if r.Facets != nil {
		facets = *r.Facets
	}
	if pq.empty() && !r.Explain {
		if res, ok := ix.table.search(&r, facets); ok {
			ix.browse.put(key, gen, res)
			res.Took = time.Since(start)
			return res, nil
		}
	}
	docs, err := ix.idx.DocCount()
	if err != nil {
		return nil, fmt.Errorf("search: count documents: %w", err)
	}
	tq, err := ix.textQuery(pq, docs)
	if err != nil {
		return nil, err
	}
	var sr *bleve.SearchResult
	if kinds := searchedKinds(&r); tq != nil && r.Sort == SortRelevance && len(kinds) > 1 {
		sr, err = ix.interleaved(ctx, r, pq, tq, kinds, facets)
	} else {
		sr, err = ix.query(ctx, &r, pq, tq, (r.Page-1)*r.PerPage, r.PerPage, facets, nil)
	}
	if err != nil {
		return nil, err
	}
	if tq != nil && len(sr.Hits) > 0 {
		if sr.Hits, err = ix.page(ctx, tq.mark, sr.Hits); err != nil {
			return nil, err
		}
	}
	res := &Result{Total: sr.Total, Page: r.Page, PerPage: r.PerPage, Hits: make([]Hit, 0, len(sr.Hits))}
	for _, h := range sr.Hits {
		res.Hits = append(res.Hits, toHit(h, &r, justice))
	}
	if facets {
		res.Facets = facetCounts(sr, justice)
	}
	if cacheable {
		ix.browse.put(key, gen, res)
	}
	res.Took = time.Since(start)
	return res, nil
}

// textQuery builds the text query of pq (nil without text) on the index
// holding docs documents; the caller holds ix.mu.
func (ix *Index) textQuery(pq parsedQuery, docs uint64) (*textQuery, error) {
	if pq.empty() {
		return nil, nil
	}
	adv, err := ix.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("search: open index: %w", err)
	}
	rd, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("search: open index reader: %w", err)
	}
	defer rd.Close()
	syn := romeSynonyms()
	return buildTextQuery(pq, func(t string) termInfo { return ix.termInfo(t, docs) },
		func(w string) []spelling { return spell(rd, syn, w) }), nil
}

// query runs r (with its text query tq, nil without text) for the hits
// from..from+size of its order, with the facet counts when facets.
//
// With tops, the hits go to tops by kind (see kindTops) rather than into
// the result: a national query then runs in parts side by side, its kinds
// told apart per match rather than by a filter (see partsQuery).
func (ix *Index) query(ctx context.Context, r *Request, pq parsedQuery, tq *textQuery, from, size int, facets bool, tops *kindTops) (*bleve.SearchResult, error) {
	narrow, onScorch := narrowFilter(r), ix.onScorch()
	parts := tops != nil && tq != nil && !narrow && !r.Explain && onScorch
	fr := r
	if parts {
		fr = &Request{}
		*fr = *r
		fr.Types = nil
	}
	fq := buildFilter(fr)
	var q query.Query
	switch {
	case tq != nil && fq != nil:
		text := tq.match
		if narrow && (r.Sort == SortRelevance || r.Explain) {
			// Scores off, bleve reads the text's postings as bitmaps
			// (its unadorned optimization, which the filtered reader
			// would turn off) and scores nothing.
			text = prefilterQuery{text: text, filter: fq}
		}
		q = query.NewConjunctionQuery([]query.Query{text, fq})
	case tq != nil:
		q = tq.match
	case fq != nil:
		q = fq
	default:
		q = query.NewMatchAllQuery()
	}
	if hidden := hiddenFrom(r.Role); hidden != nil {
		q = query.NewBooleanQuery([]query.Query{q}, nil, []query.Query{hidden})
	}

	if parts {
		// r.Types, not tops.kinds: without types every document is of
		// a searched kind, and no match needs checking.
		q = partsQuery{q: q, kinds: r.Types, cache: &ix.facets}
	}
	if tops != nil {
		ctx = context.WithValue(ctx, bsearch.MakeDocumentMatchHandlerKey, bsearch.MakeDocumentMatchHandler(tops.handler))
	}

	var matches *matchSet
	if facets && tq != nil && facetsFromPostings && onScorch {
		// A text query may match a quarter of the index: count from
		// posting lists rather than each match's doc values (see
		// matchSet). Without text the filter table answers.
		matches = &matchSet{}
		q = recordQuery{q: q, set: matches}
	}
	req := bleve.NewSearchRequestOptions(q, size, from, r.Explain)
	if tq == nil {
		req.Fields = storedFields // else read with the highlights (see page)
	}
	if facets && matches == nil {
		req.AddFacet(fFacet, bleve.NewFacetRequest(fFacet, facetValues))
	}
	// Scores order the hits only under the relevance sort of a text query;
	// elsewhere bleve may skip computing them (and, for filters alone,
	// intersect posting bitmaps directly). A filter weighs nothing, so
	// scoring one alone would divide by a zero norm anyway.
	if pq.empty() || (r.Sort != SortRelevance && !r.Explain) {
		req.Score = bleve.ScoreNone
	}
	switch r.Sort {
	case SortDistance:
		geo, err := bsearch.NewSortGeoDistance(fLocation, "km", r.Near.Lon, r.Near.Lat, false)
		if err != nil {
			return nil, fmt.Errorf("search: distance sort: %w", err)
		}
		req.SortByCustom(bsearch.SortOrder{geo, byDate(), &bsearch.SortDocID{}})
	case SortDate:
		req.SortByCustom(bsearch.SortOrder{byDate(), &bsearch.SortDocID{}})
	default:
		if pq.empty() {
			req.SortByCustom(bsearch.SortOrder{byDate(), &bsearch.SortDocID{}})
		} else {
			// Score alone: a second key makes bleve read doc values for
			// every match, which doubles the time of broad queries.
			req.SortBy([]string{"-_score"})
		}
	}

	sr, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, &atigip.Error{Code: atigip.EUNAVAILABLE, Message: "La recherche a été interrompue.", Err: err}
		}
		return nil, fmt.Errorf("search: query: %w", err)
	}
	if matches != nil {
		terms, err := matches.facetTerms(&ix.facets, r.departement())
		if err != nil {
			return nil, err
		}
		tf := &bsearch.TermFacets{}
		for t, n := range terms {
			tf.Add(&bsearch.TermFacet{Term: t, Count: n})
		}
		sr.Facets = bsearch.FacetResults{fFacet: &bsearch.FacetResult{Field: fFacet, Total: int(sr.Total), Terms: tf}}
	}
	return sr, nil
}

// facetsFromPostings is false only in benchmarks measuring bleve's facet
// builder against the posting lists.
var facetsFromPostings = true

// onScorch reports whether the index is scorch's, whose segments
// recordQuery reads (bleve's in-memory index is not); the caller holds
// ix.mu.
func (ix *Index) onScorch() bool {
	adv, err := ix.idx.Advanced()
	if err != nil {
		return false
	}
	_, ok := adv.(*scorch.Scorch)
	return ok
}

// searchedKinds are the kinds r searches (r normalized: no types is all).
func searchedKinds(r *Request) []Type {
	if len(r.Types) > 0 {
		return r.Types
	}
	return []Type{TypePost, TypeOffer, TypeOrganisation, TypeFloorSpace}
}

// interleaved answers a text query under the relevance sort that searches
// several kinds so that no kind fills a page by its volume alone (31,000
// posts against 3,800 offers and 600 floor spaces): hits fall into
// relevance tiers under the best score (see relevanceTier), and within a
// tier the kinds take turns,
// the better hit of each turn first. A weak hit of a small kind never
// passes a strong one of another; among equally good hits each kind shows
// its best. A kind that matches but has no hit on the first page by this
// order gets its best hit there all the same, at the end of the page
// (at most half the page so promoted), so that no kind fills the first
// page while another matches; the following pages keep the order without
// the promoted hits, so each hit shows once.
//
// A kind's hits keep their order within the merge, so its first
// page×per_page hits are all the page can draw on: one search collects
// each kind's best of that window (see kindTops), the same for every page
// (stable paging), with the totals and facet counts of all kinds.
func (ix *Index) interleaved(ctx context.Context, r Request, pq parsedQuery, tq *textQuery, kinds []Type, facets bool) (*bleve.SearchResult, error) {
	window := r.Page*r.PerPage + len(kinds) // the promoted hits shift the rest
	type ranked struct {
		hit        *bsearch.DocumentMatch
		tier, turn int
	}
	var all []ranked
	tops := newKindTops(kinds, window, &ix.facets)
	merged, err := ix.query(ctx, &r, pq, tq, 0, window*len(kinds), facets, tops)
	if err != nil {
		return nil, err
	}
	perKind := tops.hits()
	top := 0.0
	for _, hits := range perKind {
		if len(hits) > 0 {
			top = max(top, hits[0].Score)
		}
	}
	for _, hits := range perKind {
		turn, last := 0, -1
		for _, h := range hits {
			t := relevanceTier(h.Score, top)
			if t != last {
				turn, last = 0, t
			}
			all = append(all, ranked{h, t, turn})
			turn++
		}
	}
	slices.SortFunc(all, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(a.tier, b.tier), cmp.Compare(a.turn, b.turn),
			cmp.Compare(b.hit.Score, a.hit.Score), strings.Compare(a.hit.ID, b.hit.ID))
	})
	natural := make(bsearch.DocumentMatchCollection, len(all))
	for i, x := range all {
		natural[i] = x.hit
	}
	order := promoteKinds(natural, r.PerPage)
	from := min((r.Page-1)*r.PerPage, len(order))
	merged.Hits = order[from:min(from+r.PerPage, len(order))]
	return merged, nil
}

// promoteKinds returns the hits of order (each kind's in its own order)
// with, for each kind absent from the first page of size perPage, its
// first hit moved to the end of that page, at most perPage/2 of them.
func promoteKinds(order bsearch.DocumentMatchCollection, perPage int) bsearch.DocumentMatchCollection {
	kind := func(h *bsearch.DocumentMatch) string { k, _, _ := strings.Cut(h.ID, ":"); return k }
	first := min(perPage, len(order))
	shown := map[string]bool{}
	for _, x := range order[:first] {
		shown[kind(x)] = true
	}
	promoted := map[int]bool{}
	for i := first; i < len(order) && len(promoted) < perPage/2; i++ {
		if k := kind(order[i]); !shown[k] {
			shown[k], promoted[i] = true, true
		}
	}
	out := make(bsearch.DocumentMatchCollection, 0, len(order))
	for _, x := range order[:first-len(promoted)] {
		out = append(out, x)
	}
	for i := first; i < len(order); i++ {
		if promoted[i] {
			out = append(out, order[i])
		}
	}
	for i, x := range order[first-len(promoted):] {
		if !promoted[first-len(promoted)+i] {
			out = append(out, x)
		}
	}
	return out
}

// relevanceTier is the band of score under the best, top: 0 for at
// least 3/4 of it, 1 for at least (3/4)², and so on to 6, below about a
// sixth. Narrow bands keep a clearly better hit ahead (a job title before
// an organisation's name a letter away) while hits of about the same
// relevance take turns by kind.
func relevanceTier(score, top float64) int {
	t := 0
	for limit := top * 3 / 4; t < 6 && score < limit; limit = limit * 3 / 4 {
		t++
	}
	return t
}

// byDate orders the most recently updated first.
func byDate() *bsearch.SortField {
	return &bsearch.SortField{Field: fUpdatedKey, Desc: true, Type: bsearch.SortFieldAsString}
}

// page reads the stored fields and the highlights of the hits of a text
// query, running its mark query (see textQuery) on those documents only.
// Asking bleve for highlights in the main search would make every term
// searcher read the positions of every match, which cost about as much as
// the rest of a broad query; here only the page's documents are read,
// once. A hit deleted between the two passes is left out.
func (ix *Index) page(ctx context.Context, mark query.Query, hits bsearch.DocumentMatchCollection) (bsearch.DocumentMatchCollection, error) {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	var q query.Query = query.NewDocIDQuery(ids)
	if mark != nil {
		// The ids again in the disjunction keep the hits that have no
		// word to mark (found through a ROME code), for their fields.
		q = query.NewConjunctionQuery([]query.Query{q,
			query.NewDisjunctionQuery([]query.Query{mark, query.NewDocIDQuery(ids)})})
	}
	req := bleve.NewSearchRequestOptions(q, len(hits), 0, false)
	req.Score = bleve.ScoreNone
	req.SortBy([]string{"_id"}) // any order: the hits are matched by id
	req.Fields = storedFields
	req.Highlight = bleve.NewHighlightWithStyle(html.Name)
	req.Highlight.Fields = []string{fTitle, fBody, fParent}
	sr, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, &atigip.Error{Code: atigip.EUNAVAILABLE, Message: "La recherche a été interrompue.", Err: err}
		}
		return nil, fmt.Errorf("search: read hits: %w", err)
	}
	byID := make(map[string]*bsearch.DocumentMatch, len(sr.Hits))
	for _, h := range sr.Hits {
		byID[h.ID] = h
	}
	out := hits[:0]
	for _, h := range hits {
		if got := byID[h.ID]; got != nil {
			h.Fields, h.Fragments = got.Fields, got.Fragments
			out = append(out, h)
		}
	}
	return out, nil
}

// termInfo looks t up in the term dictionaries of the index holding docs
// documents; see termInfo. The caller holds ix.mu.
func (ix *Index) termInfo(t string, docs uint64) termInfo {
	df := func(field string) uint64 {
		d, err := ix.idx.FieldDictRange(field, []byte(t), []byte(t))
		if err != nil {
			return 0
		}
		defer d.Close()
		if e, err := d.Next(); err == nil && e != nil {
			return e.Count
		}
		return 0
	}
	limit := uint64(commonShare * float64(docs))
	return termInfo{commonBody: df(fBody) > limit, commonLabel: df(fROMELabel) > limit}
}

func toHit(h *bsearch.DocumentMatch, r *Request, justice bool) Hit {
	t, id, _ := parseDocID(h.ID)
	out := Hit{ID: id, Type: t, Score: h.Score}
	// Bleve gives a field's opening fragment even where nothing matched:
	// keep only fragments that show a match.
	for f, frags := range h.Fragments {
		for _, fr := range frags {
			if strings.Contains(fr, "<mark>") {
				if out.Highlights == nil {
					out.Highlights = map[string][]string{}
				}
				out.Highlights[f] = append(out.Highlights[f], fr)
			}
		}
	}
	str := func(f string) string { s, _ := h.Fields[f].(string); return s }
	num := func(f string) (float64, bool) { v, ok := h.Fields[f].(float64); return v, ok }
	out.Subtype, out.Title, out.Parent = str(fSubtype), str(fTitle), str(fParent)
	if t == TypeOrganisation { // its name is indexed as a parent's (see buildDocument)
		out.Title, out.Parent = out.Parent, ""
		if hl, ok := out.Highlights[fParent]; ok {
			out.Highlights[fTitle] = hl
			delete(out.Highlights, fParent)
		}
	}
	out.City, out.Departement, out.Status = str(fCity), str(fDepartement), str(fStatus)
	switch v := h.Fields[fROME].(type) {
	case string:
		out.ROME = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				out.ROME = append(out.ROME, s)
			}
		}
	}
	if lat, ok := num(fLat); ok {
		if lon, ok := num(fLon); ok {
			out.Location = &atigip.Point{Lon: lon, Lat: lat}
			if r.Near != nil {
				d := atigip.DistanceKm(*r.Near, *out.Location)
				out.DistanceKm = &d
			}
		}
	}
	if n, ok := num(fPlacesLeft); ok && justice {
		left := int(n)
		out.PlacesLeft = &left
	}
	if s := str(fUpdated); s != "" {
		out.Updated, _ = time.Parse(time.RFC3339, s)
	}
	if h.Expl != nil {
		out.Explanation = toExplanation(h.Expl, 0)
	}
	return out
}

// toExplanation copies bleve's tree, cut at a depth that still shows each
// query part's contribution without the per-term arithmetic of fuzzy
// expansions, which can run to thousands of nodes.
func toExplanation(e *bsearch.Explanation, depth int) *Explanation {
	out := &Explanation{Value: e.Value, Message: e.Message}
	if depth >= 6 {
		return out
	}
	for _, c := range e.Children {
		if c != nil {
			out.Children = append(out.Children, toExplanation(c, depth+1))
		}
	}
	return out
}

// facetCounts reads the counts of the facet field back into named facets.
func facetCounts(sr *bleve.SearchResult, justice bool) map[string][]FacetCount {
	terms := map[string]int{}
	if fr := sr.Facets[fFacet]; fr != nil && fr.Terms != nil {
		for _, t := range fr.Terms.Terms() {
			terms[t.Term] += t.Count
		}
	}
	return namedFacets(terms, int(sr.Total), justice)
}

// namedFacets names the counts of the facet field's terms among total
// matches.
func namedFacets(terms map[string]int, total int, justice bool) map[string][]FacetCount {
	counts := map[byte]map[string]int{}
	for term, n := range terms {
		if term == "" {
			continue
		}
		k := term[0]
		if counts[k] == nil {
			counts[k] = map[string]int{}
		}
		counts[k][term[1:]] += n
	}
	out := make(map[string][]FacetCount, len(facetDefs))
	for _, f := range facetDefs {
		if f.name == fAvailable && !justice {
			continue
		}
		fc := []FacetCount{}
		add := func(v string, n int) {
			if n > 0 {
				fc = append(fc, FacetCount{Value: v, Label: facetLabel(f.name, v), Count: n})
			}
		}
		if f.flag {
			yes := counts[f.key][""]
			add("true", yes)
			add("false", total-yes)
		} else {
			for v, n := range counts[f.key] {
				add(v, n)
			}
		}
		sortFacet(fc)
		out[f.name] = fc
	}
	return out
}

func sortFacet(fc []FacetCount) {
	sort.SliceStable(fc, func(a, b int) bool {
		if fc[a].Count != fc[b].Count {
			return fc[a].Count > fc[b].Count
		}
		return fc[a].Value < fc[b].Value
	})
}

var statusLabels = func() map[string]string {
	m := map[string]string{}
	for s, l := range atigip.FloorStatuses {
		m[string(s)] = l
	}
	for s, l := range atigip.HabilitationStatuses {
		m[string(s)] = l
	}
	for s, l := range atigip.OfferStatuses {
		m[string(s)] = l
	}
	for s, l := range atigip.PostStatuses { // posts win for shared values ("open")
		m[string(s)] = l
	}
	return m
}()

func facetLabel(name, v string) string {
	switch name {
	case fType:
		return Types[Type(v)]
	case fDepartement:
		if d, ok := refdata.DepartementByCode(v); ok {
			return d.NameWithArticle
		}
	case fRegion:
		if r, ok := refdata.RegionByCode(v); ok {
			return r.NameWithArticle
		}
	case fROMEDomain:
		for _, g := range refdata.GrandDomaines() {
			if g.Code == v {
				return g.Label
			}
		}
	case fStatus:
		return statusLabels[v]
	case fMinors, fWeekends, fWheelchair, fAvailable:
		if v == "true" {
			return "Oui"
		}
		return "Non"
	}
	return v
}
