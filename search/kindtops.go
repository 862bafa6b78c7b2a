package search

import (
	"container/heap"
	"fmt"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
)

// kindTops collects, in one pass over the matches of a query that spans
// several kinds, each kind's best window hits: the hits a search of that
// kind alone would return, in its order (score, then index order, as
// bleve's collector ranks them). It replaces bleve's collector through
// its document match handler (bsearch.MakeDocumentMatchHandlerKey).
//
// One search per kind scored far more than its own matches: its text
// searcher scores each match it stops on before the conjunction learns
// the document is of another kind, so three kinds scored most matches
// about three times. The kind of a match is read from the type values'
// posting bitmaps of its segment (see facetCache), not from the stored
// id.
type kindTops struct {
	kinds  []Type
	window int
	cache  *facetCache
	tops   []hitHeap // by kind, as kinds
}

func newKindTops(kinds []Type, window int, cache *facetCache) *kindTops {
	return &kindTops{kinds: kinds, window: window, cache: cache, tops: make([]hitHeap, len(kinds))}
}

// hits returns the collected hits of each kind, as kinds, best first;
// valid once the search is done.
func (t *kindTops) hits() []bsearch.DocumentMatchCollection {
	out := make([]bsearch.DocumentMatchCollection, len(t.tops))
	for i, h := range t.tops {
		out[i] = bsearch.DocumentMatchCollection(h)
	}
	return out
}

// handler implements bsearch.MakeDocumentMatchHandler for one search.
func (t *kindTops) handler(sctx *bsearch.SearchContext) (bsearch.DocumentMatchHandler, bool, error) {
	kindOf, err := t.kindReader(sctx)
	if err != nil {
		return nil, false, err
	}
	return func(d *bsearch.DocumentMatch) error {
		if d == nil { // the search is done
			return t.finish(sctx)
		}
		k, err := kindOf(d)
		if err != nil {
			return err
		}
		if k < 0 {
			sctx.DocumentMatchPool.Put(d)
			return nil
		}
		h := &t.tops[k]
		switch {
		case len(*h) < t.window:
			heap.Push(h, d)
		case worse((*h)[0], d):
			sctx.DocumentMatchPool.Put((*h)[0])
			(*h)[0] = d
			heap.Fix(h, 0)
		default:
			sctx.DocumentMatchPool.Put(d)
		}
		return nil
	}, false, nil
}

// kindReader returns the function that tells the index of the kind of a
// match in t.kinds, -1 for none.
func (t *kindTops) kindReader(sctx *bsearch.SearchContext) (func(*bsearch.DocumentMatch) (int, error), error) {
	snap, ok := sctx.IndexReader.(*scorch.IndexSnapshot)
	if !ok {
		// Bleve's in-memory index (tests): the kind is in the id.
		return func(d *bsearch.DocumentMatch) (int, error) {
			id, err := sctx.IndexReader.ExternalID(d.IndexInternalID)
			if err != nil {
				return 0, fmt.Errorf("search: read match id: %w", err)
			}
			k, _, _ := parseDocID(id)
			return slices.Index(t.kinds, k), nil
		}, nil
	}
	segs := snap.Segments()
	starts := segStarts(segs)
	bitmaps := make([][]*roaring.Bitmap, len(segs)) // by segment, by kind; read on first match
	cur := 0
	return func(d *bsearch.DocumentMatch) (int, error) {
		g := d.IndexInternalID.Value()
		cur = segOf(starts, g, cur)
		if bitmaps[cur] == nil {
			e, err := t.cache.get(segs[cur].Segment(), segs)
			if err != nil {
				return 0, err
			}
			bitmaps[cur] = make([]*roaring.Bitmap, len(t.kinds))
			for k, kind := range t.kinds {
				bitmaps[cur][k] = e.types[kind]
			}
		}
		local := uint32(g - starts[cur])
		for k, b := range bitmaps[cur] {
			if b != nil && b.Contains(local) {
				return k, nil
			}
		}
		return -1, nil
	}, nil
}

// finish orders each kind's hits best first and reads their ids, as
// bleve's collector does with its own.
func (t *kindTops) finish(sctx *bsearch.SearchContext) error {
	for i := range t.tops {
		h := t.tops[i]
		slices.SortFunc(h, func(a, b *bsearch.DocumentMatch) int {
			switch {
			case worse(b, a):
				return -1
			case worse(a, b):
				return 1
			}
			return 0
		})
		for _, d := range h {
			id, err := sctx.IndexReader.ExternalID(d.IndexInternalID)
			if err != nil {
				return fmt.Errorf("search: read match id: %w", err)
			}
			d.ID = id
			d.Complete(nil)
		}
	}
	return nil
}

// worse reports whether a ranks after b: a lower score, or the same
// score later in the index (bleve's order under the score sort).
func worse(a, b *bsearch.DocumentMatch) bool {
	if a.Score != b.Score {
		return a.Score < b.Score
	}
	return a.HitNumber > b.HitNumber
}

// hitHeap keeps a kind's best hits with the worst on top.
type hitHeap []*bsearch.DocumentMatch

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return worse(h[i], h[j]) }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(*bsearch.DocumentMatch)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
