package search

import (
	"context"
	"math"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
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

// prefilterQuery is text searched within the documents of filter only:
// each term of text reads its postings at the filter's documents, so that
// text scores nothing outside them. Put in a conjunction with the filter,
// text would score each document it stops on before the filter is
// checked; a text query of a common word within one département scored
// about as many documents as the département holds, through every
// clause of the query (five fields and up to 37 ROME codes), where the
// postings of each term cost a bitmap lookup per document.
//
// Matches and scores are those of the conjunction: a term's document
// frequency, which its weight depends on, is the whole index's, and the
// text query has no negation, so a document of the filter matches and
// scores as it does unfiltered. The caller keeps the filter in the
// conjunction, which costs a step per match.
type prefilterQuery struct {
	text, filter query.Query
}

// Searcher implements query.Query. On an index that numbers documents
// otherwise than scorch (bleve's in-memory one) or beyond 32 bits, text
// is searched unfiltered.
func (p prefilterQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, opts bsearch.SearcherOptions) (bsearch.Searcher, error) {
	if _, ok := r.(*scorch.IndexSnapshot); !ok {
		return p.text.Searcher(ctx, r, m, opts)
	}
	fs, err := p.filter.Searcher(ctx, r, m, bsearch.SearcherOptions{Score: "none"})
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	sctx := &bsearch.SearchContext{DocumentMatchPool: bsearch.NewDocumentMatchPool(fs.DocumentMatchPoolSize(), 0), IndexReader: r}
	docs := roaring.New()
	for {
		d, err := fs.Next(sctx)
		if err != nil {
			return nil, err
		}
		if d == nil {
			break
		}
		n := d.IndexInternalID.Value()
		if n > math.MaxUint32 {
			return p.text.Searcher(ctx, r, m, opts)
		}
		docs.Add(uint32(n))
		sctx.DocumentMatchPool.Put(d)
	}
	return p.text.Searcher(ctx, &filteredReader{IndexReader: r, docs: docs}, m, opts)
}

// filteredReader is an index reader whose term readers read the
// documents of docs only (global numbers, as scorch's).
type filteredReader struct {
	index.IndexReader
	docs *roaring.Bitmap
}

func (r *filteredReader) TermFieldReader(ctx context.Context, term []byte, field string, freq, norm, vectors bool) (index.TermFieldReader, error) {
	tr, err := r.IndexReader.TermFieldReader(ctx, term, field, freq, norm, vectors)
	if err != nil {
		return nil, err
	}
	return &filteredTermReader{TermFieldReader: tr, docs: r.docs, it: r.docs.Iterator()}, nil
}

// filteredTermReader reads a term's postings at the documents of docs:
// it leaps from the next document of docs to the next posting and back.
// Its Count is the term's in the whole index.
type filteredTermReader struct {
	index.TermFieldReader
	docs *roaring.Bitmap
	it   roaring.IntPeekable // at the next document of docs to try
	pos  uint64              // the documents before are read
	id   [8]byte
}

func (r *filteredTermReader) Next(pre *index.TermFieldDoc) (*index.TermFieldDoc, error) {
	return r.seek(pre)
}

func (r *filteredTermReader) Advance(id index.IndexInternalID, pre *index.TermFieldDoc) (*index.TermFieldDoc, error) {
	n := id.Value()
	if n > math.MaxUint32 {
		return nil, nil // docs holds none
	}
	if n < r.pos { // backwards, as the reader under it allows
		r.it = r.docs.Iterator()
	}
	r.it.AdvanceIfNeeded(uint32(n))
	return r.seek(pre)
}

// seek returns the first posting at a document of docs from the
// iterator's position on.
func (r *filteredTermReader) seek(pre *index.TermFieldDoc) (*index.TermFieldDoc, error) {
	for r.it.HasNext() {
		target := r.it.PeekNext()
		d, err := r.TermFieldReader.Advance(index.NewIndexInternalID(r.id[:], uint64(target)), pre)
		if err != nil || d == nil {
			r.pos = math.MaxUint64
			return nil, err
		}
		n := d.ID.Value()
		if n > math.MaxUint32 {
			break
		}
		// The posting is at or past target: the next document of docs
		// from there is either it, or where to leap to (never back to
		// the posting's own document, which would restart the reader).
		r.it.AdvanceIfNeeded(uint32(n))
		if r.it.HasNext() && r.it.PeekNext() == uint32(n) {
			r.it.Next()
			r.pos = n + 1
			return d, nil
		}
	}
	r.pos = math.MaxUint64
	return nil, nil
}

// narrowFilter reports whether the filters of r keep few enough documents
// for a text query to be searched within them (see prefilterQuery): a
// place or job codes. Kinds, statuses and flags keep most of the index,
// whose postings the text reads more cheaply unfiltered.
func narrowFilter(r *Request) bool {
	return r.Departement != "" || r.Region != "" || r.Commune != "" || r.RadiusKm > 0 || len(r.ROME) > 0
}
