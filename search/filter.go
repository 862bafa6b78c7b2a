package search

import (
	"context"

	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// filterQuery selects the documents of q without scoring them: its
// searcher runs q with scores off and every match weighs 0 in the
// enclosing conjunction.
//
// A filter cannot simply be a term query with boost 0: the filter fields
// keep no norms (SkipFreqNorm), which a persisted segment reads back as an
// infinite field norm, and 0 × ∞ made every filtered text query score NaN
// (an HTTP 500 when encoding the JSON). Scoring off, bleve never reads the
// norm; it also lets a conjunction of term filters intersect the posting
// bitmaps directly.
type filterQuery struct{ q query.Query }

// Searcher implements query.Query.
func (f filterQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, opts bsearch.SearcherOptions) (bsearch.Searcher, error) {
	explain := opts.Explain
	opts.Score, opts.Explain, opts.IncludeTermVectors = "none", false, false
	s, err := f.q.Searcher(ctx, r, m, opts)
	if err != nil {
		return nil, err
	}
	return &filterSearcher{Searcher: s, explain: explain}, nil
}

// filterSearcher is the searcher of a filterQuery: it weighs nothing in
// the query norm and gives each match a score of 0.
type filterSearcher struct {
	bsearch.Searcher
	explain bool
}

func (s *filterSearcher) Weight() float64      { return 0 }
func (s *filterSearcher) SetQueryNorm(float64) {}

func (s *filterSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	return s.unscored(s.Searcher.Next(ctx))
}

func (s *filterSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	return s.unscored(s.Searcher.Advance(ctx, id))
}

func (s *filterSearcher) unscored(d *bsearch.DocumentMatch, err error) (*bsearch.DocumentMatch, error) {
	if d != nil {
		d.Score, d.Expl = 0, nil
		if s.explain {
			d.Expl = &bsearch.Explanation{Value: 0, Message: "filtres (sans effet sur le score)"}
		}
	}
	return d, err
}
