package search

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Facet counts of a text query from posting lists.
//
// Bleve's facet builder reads the facet field's doc values of every match:
// a chunk to decompress and a map update per value, about as much time as
// scoring the match, and most of a national search for a common word
// (« entretien » matches a quarter of the documents). Here the query
// records its matches' document numbers as the collector draws them
// (recordQuery); the counts are then, segment by segment, the size of the
// intersection of those numbers with each facet value's posting list, a
// bitmap AND and popcount per value. The counts are the same: the facet
// field's postings hold exactly the values of its doc values.

// matchSet is the documents a search matched, by segment of the index
// snapshot it ran on.
type matchSet struct {
	snap   *scorch.IndexSnapshot
	starts []uint64   // see segStarts
	nums   [][]uint32 // by segment: its matches' local numbers, ascending
	cur    int        // the segment of the last match
	n      int
}

// add records the match with the global document number g.
func (m *matchSet) add(g uint64) {
	m.cur = segOf(m.starts, g, m.cur)
	m.nums[m.cur] = append(m.nums[m.cur], uint32(g-m.starts[m.cur]))
	m.n++
}

// segStarts is the first global document number of each segment of segs
// and, last, the end of the numbers: as scorch numbers them, each
// segment's documents, deleted ones included, after the previous
// segments'.
func segStarts(segs []*scorch.SegmentSnapshot) []uint64 {
	starts := make([]uint64, len(segs)+1)
	for i, s := range segs {
		starts[i+1] = starts[i] + s.Segment().Count()
	}
	return starts
}

// segOf is the segment of the global document number g, by starts (see
// segStarts); cur, the segment of the previous number, is checked first,
// as matches come in order.
func segOf(starts []uint64, g uint64, cur int) int {
	if g >= starts[cur] && g < starts[cur+1] {
		return cur
	}
	return sort.Search(len(starts)-1, func(i int) bool { return starts[i+1] > g })
}

// recordQuery is q with its matches recorded in set: put at the root of a
// search, it sees every document the collector counts, in order.
type recordQuery struct {
	q   query.Query
	set *matchSet
}

// Searcher implements query.Query. It fails on an index that is not
// scorch's (bleve's in-memory index): the caller asks bleve for the
// facets there (see Index.postingFacets).
func (r recordQuery) Searcher(ctx context.Context, rd index.IndexReader, m mapping.IndexMapping, opts bsearch.SearcherOptions) (bsearch.Searcher, error) {
	snap, ok := rd.(*scorch.IndexSnapshot)
	if !ok {
		return nil, fmt.Errorf("search: facets from postings need a scorch index, not %T", rd)
	}
	segs := snap.Segments()
	r.set.snap, r.set.starts, r.set.nums = snap, segStarts(segs), make([][]uint32, len(segs))
	s, err := r.q.Searcher(ctx, rd, m, opts)
	if err != nil {
		return nil, err
	}
	return &recordSearcher{Searcher: s, set: r.set}, nil
}

type recordSearcher struct {
	bsearch.Searcher
	set *matchSet
}

func (s *recordSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	return s.record(s.Searcher.Next(ctx))
}

func (s *recordSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	return s.record(s.Searcher.Advance(ctx, id))
}

func (s *recordSearcher) record(d *bsearch.DocumentMatch, err error) (*bsearch.DocumentMatch, error) {
	if d != nil && len(s.set.nums) > 0 {
		s.set.add(d.IndexInternalID.Value())
	}
	return d, err
}

// facetTerms counts, for each value of the facet field, the documents of
// m that carry it, with the facet postings of each segment from cache.
// dep, when not empty, is the département every match is in (the
// request's filter): its count is every match's, and the other
// départements' none. A key a document has one value of at most (type,
// département, région, status) is left as soon as its counts add up to
// the segment's matches: a search in one département has no match in the
// others, and each intersection of two short lists walks both.
func (m *matchSet) facetTerms(cache *facetCache, dep string) (map[string]int, error) {
	terms := map[string]int{}
	if m.n == 0 {
		return terms, nil
	}
	depKey := facetKey(fDepartement)
	segs := m.snap.Segments()
	for i, s := range segs {
		n := len(m.nums[i])
		if n == 0 {
			continue
		}
		e, err := cache.get(s.Segment(), segs)
		if err != nil {
			return nil, err
		}
		if dep != "" {
			terms[string(depKey)+dep] += n
		}
		matches := roaring.New()
		matches.AddMany(m.nums[i])
		var key byte
		counted := 0 // by the values of key so far
		for _, v := range e.values {
			if v.term[0] != key {
				key, counted = v.term[0], 0
			}
			switch {
			case key == depKey && dep != "":
				continue
			case counted == n && singleValued[key]:
				continue
			}
			if c := int(matches.AndCardinality(v.docs)); c > 0 {
				terms[v.term] += c
				counted += c
			}
		}
	}
	return terms, nil
}

// singleValued tells the facet keys a document has one value of at most
// (see setFacets).
var singleValued = func() (keys [256]bool) {
	for _, f := range []string{fType, fDepartement, fRegion, fStatus} {
		keys[facetKey(f)] = true
	}
	return keys
}()

// facetCache keeps each segment's facet values and their posting lists
// as bitmaps. Segments never change, so an entry stays right for the
// segment's life; decoding ~400 posting lists per segment and search
// cost more than counting. At ten times the country it holds a few
// megabytes.
type facetCache struct {
	mu   sync.Mutex
	segs map[segment.Segment]*segFacets
}

// segFacets are a segment's facet values, and its documents by type (the
// type values' bitmaps), which tell the kind of a match (see kindTops).
type segFacets struct {
	values []facetValue
	types  map[Type]*roaring.Bitmap
}

type facetValue struct {
	term string
	docs *roaring.Bitmap
}

// get returns the facet values of seg, reading them on first use; live
// is the snapshot's segments: when the cache holds many more, the
// entries of segments merged away are dropped.
func (c *facetCache) get(seg segment.Segment, live []*scorch.SegmentSnapshot) (*segFacets, error) {
	c.mu.Lock()
	e, ok := c.segs[seg]
	c.mu.Unlock()
	if ok {
		return e, nil
	}
	values, err := readFacetValues(seg)
	if err != nil {
		return nil, err
	}
	e = &segFacets{values: values, types: map[Type]*roaring.Bitmap{}}
	for _, v := range values {
		if v.term[0] == facetKey(fType) {
			e.types[Type(v.term[1:])] = v.docs
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.segs == nil {
		c.segs = map[segment.Segment]*segFacets{}
	}
	c.segs[seg] = e
	if len(c.segs) > 2*len(live)+8 {
		keep := make(map[segment.Segment]bool, len(live))
		for _, s := range live {
			keep[s.Segment()] = true
		}
		for s := range c.segs {
			if !keep[s] {
				delete(c.segs, s)
			}
		}
	}
	return e, nil
}

// readFacetValues reads the facet field's terms of seg and their postings.
func readFacetValues(seg segment.Segment) ([]facetValue, error) {
	d, err := seg.Dictionary(fFacet)
	if err != nil {
		return nil, fmt.Errorf("search: facet values: %w", err)
	}
	var out []facetValue
	it := d.AutomatonIterator(nil, nil, nil)
	for {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("search: facet values: %w", err)
		}
		if e == nil {
			return out, nil
		}
		pl, err := d.PostingsList([]byte(e.Term), nil, nil)
		if err != nil {
			return nil, fmt.Errorf("search: facet value %s: %w", e.Term, err)
		}
		or, ok := pl.(interface{ OrInto(*roaring.Bitmap) })
		if !ok {
			return nil, fmt.Errorf("search: facet value %s: postings of type %T", e.Term, pl)
		}
		docs := roaring.New()
		or.OrInto(docs)
		docs.RunOptimize()
		out = append(out, facetValue{term: e.Term, docs: docs})
	}
}
