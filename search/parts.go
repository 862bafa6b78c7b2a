package search

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// partsQuery is q searched in parts side by side, each over its own range
// of the index snapshot's document numbers, its matches handed on in
// order: the matches and scores of q (a term's document frequency is the
// whole index's in every part), in about half the time on two free cores.
// A national search of a common word scores a hundred thousand documents
// or more, on one core otherwise. Matches are unevenly spread over the
// numbers (by kind, by segment), so there are up to four ranges per
// worker, taken in order by whichever worker is free.
//
// With kinds, only documents of those kinds are handed on, read from the
// type values' posting bitmaps of their segment (see facetCache): a
// check per match in each part, where a type filter in q made the text
// searcher stop, and score, on each document the filter did not skip.
//
// Each part searches only the documents of its range through a reader
// whose term readers stop at the range's ends (rangeReader): q must
// reach documents through terms only, as text queries do. Without scorch
// (bleve's in-memory index), q is searched as it is.
type partsQuery struct {
	q     query.Query
	kinds []Type
	cache *facetCache
}

// searchWorkers is how many parts of a partsQuery run at once: one per
// core, at most four.
func searchWorkers() int { return min(runtime.GOMAXPROCS(0), 4) }

// Searcher implements query.Query.
func (p partsQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, opts bsearch.SearcherOptions) (bsearch.Searcher, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok || opts.Explain {
		return p.q.Searcher(ctx, r, m, opts)
	}
	segs := snap.Segments()
	starts := segStarts(segs)
	var keep []*roaring.Bitmap
	if len(p.kinds) > 0 {
		keep = make([]*roaring.Bitmap, len(segs))
	}
	for i := range keep {
		e, err := p.cache.get(segs[i].Segment(), segs)
		if err != nil {
			return nil, err
		}
		keep[i] = roaring.New()
		for _, k := range p.kinds {
			if b := e.types[k]; b != nil {
				keep[i].Or(b)
			}
		}
	}
	end := starts[len(segs)]
	if end > math.MaxUint32 {
		return nil, fmt.Errorf("search: %d documents in the snapshot", end)
	}
	// The parts' term readers report their reading costs to bleve's
	// accounting, which is not made for several goroutines: none.
	s := &partsSearcher{ctx: ctx, workers: searchWorkers(), keep: keep, starts: starts, q: p.q,
		pctx: context.WithValue(ctx, bsearch.SearchIOStatsCallbackKey, nil), ir: r, m: m, opts: opts}
	// Each part builds the query's searchers again, a few term lookups
	// per segment: on a small index that costs more than it spares.
	n := max(int(min(end/partDocs, uint64(4*s.workers))), 1)
	for i := range n {
		lo, hi := end*uint64(i)/uint64(n), end*uint64(i+1)/uint64(n)
		s.parts = append(s.parts, &part{lo: lo, hi: hi, out: make(chan []scored, 256)})
	}
	return s, nil
}

// scored is a match of a part: its document number and score.
type scored struct {
	doc   uint64
	score float64
}

type part struct {
	lo, hi uint64
	out    chan []scored // batches of matches in order, closed at the end
	err    error         // set before out is closed
}

// partsSearcher hands on the matches of its parts, part by part, while
// its workers search them.
type partsSearcher struct {
	ctx     context.Context // the search's, which may be cancelled
	workers int
	parts   []*part
	next    atomic.Int32      // the next part for a worker to take
	keep    []*roaring.Bitmap // by segment: the documents of the kinds; nil for all
	starts  []uint64          // first document number of each segment, and the end
	started bool
	cur     int      // the part being handed on
	batch   []scored // its current batch, read up to pos
	pos     int
	done    chan struct{}
	stopped sync.WaitGroup
	// What the parts' searchers are built from.
	q    query.Query
	pctx context.Context
	ir   index.IndexReader
	m    mapping.IndexMapping
	opts bsearch.SearcherOptions
}

const partBatch = 512

// partDocs is the fewest documents a part should span (a variable for
// tests on a small index).
var partDocs uint64 = 25000

// batches keeps the batches read for the next searches: a national
// search hands on megabytes of them, which a server with a large heap
// would otherwise collect each time.
var batches = sync.Pool{New: func() any { return make([]scored, 0, partBatch) }}

func newBatch() []scored { return batches.Get().([]scored) }

func (s *partsSearcher) start() {
	s.started = true
	s.done = make(chan struct{})
	for range s.workers {
		s.stopped.Add(1)
		go func() {
			defer s.stopped.Done()
			for {
				i := int(s.next.Add(1)) - 1
				if i >= len(s.parts) {
					return
				}
				select {
				case <-s.done: // closed: the parts left are not read
					return
				default:
				}
				p := s.parts[i]
				p.err = s.run(p)
				close(p.out)
			}
		}()
	}
}

// run searches p to its end, sending its matches in batches.
func (s *partsSearcher) run(p *part) error {
	ps, err := s.q.Searcher(s.pctx, &rangeReader{IndexReader: s.ir, lo: p.lo, hi: p.hi}, s.m, s.opts)
	if err != nil {
		return err
	}
	defer ps.Close()
	sctx := &bsearch.SearchContext{DocumentMatchPool: bsearch.NewDocumentMatchPool(ps.DocumentMatchPoolSize()+1, 0), IndexReader: s.ir}
	batch := newBatch()
	seg := 0
	for n := 0; ; n++ {
		if n%1024 == 0 {
			select {
			case <-s.ctx.Done():
				return s.ctx.Err()
			case <-s.done:
				return nil
			default:
			}
		}
		d, err := ps.Next(sctx)
		if err != nil {
			return err
		}
		if d == nil {
			break
		}
		g, score := d.IndexInternalID.Value(), d.Score
		sctx.DocumentMatchPool.Put(d)
		if g < p.lo || g >= p.hi {
			continue // reached by a searcher other than a term's
		}
		if len(s.keep) > 0 {
			seg = segOf(s.starts, g, seg)
			if !s.keep[seg].Contains(uint32(g - s.starts[seg])) {
				continue
			}
		}
		batch = append(batch, scored{g, score})
		if len(batch) == partBatch {
			select {
			case p.out <- batch:
			case <-s.done:
				return nil
			}
			batch = newBatch()
		}
	}
	if len(batch) > 0 {
		select {
		case p.out <- batch:
		case <-s.done:
		}
	}
	return nil
}

func (s *partsSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	if !s.started {
		s.start()
	}
	for s.pos == len(s.batch) {
		if s.batch != nil {
			batches.Put(s.batch[:0])
			s.batch, s.pos = nil, 0
		}
		if s.cur == len(s.parts) {
			return nil, nil
		}
		p := s.parts[s.cur]
		b, ok := <-p.out
		if !ok {
			if p.err != nil {
				return nil, p.err
			}
			s.cur++
			continue
		}
		s.batch = b
	}
	m := ctx.DocumentMatchPool.Get()
	m.IndexInternalID = index.NewIndexInternalID(m.IndexInternalID, s.batch[s.pos].doc)
	m.Score = s.batch[s.pos].score
	s.pos++
	return m, nil
}

// Advance implements bsearch.Searcher; a partsSearcher is meant for the
// root of a search, which only asks for the next match.
func (s *partsSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	for {
		m, err := s.Next(ctx)
		if err != nil || m == nil || m.IndexInternalID.Compare(id) >= 0 {
			return m, err
		}
		ctx.DocumentMatchPool.Put(m)
	}
}

func (s *partsSearcher) Close() error {
	if s.started {
		close(s.done)
		s.stopped.Wait()
	}
	return nil
}

// Weight and Count implement bsearch.Searcher; at the root of a search,
// nothing asks for them.
func (s *partsSearcher) Weight() float64            { return 0 }
func (s *partsSearcher) SetQueryNorm(n float64)     {} // each part's is its own root's
func (s *partsSearcher) Count() uint64              { return 0 }
func (s *partsSearcher) Min() int                   { return 0 }
func (s *partsSearcher) Size() int                  { return 0 }
func (s *partsSearcher) DocumentMatchPoolSize() int { return 1 }

// rangeReader is an index reader whose term readers read the documents
// numbered lo to hi (excluded) only.
type rangeReader struct {
	index.IndexReader
	lo, hi uint64
}

func (r *rangeReader) TermFieldReader(ctx context.Context, term []byte, field string, freq, norm, vectors bool) (index.TermFieldReader, error) {
	tr, err := r.IndexReader.TermFieldReader(ctx, term, field, freq, norm, vectors)
	if err != nil {
		return nil, err
	}
	return &rangeTermReader{TermFieldReader: tr, lo: r.lo, hi: r.hi}, nil
}

// rangeTermReader reads a term's postings from lo to hi; its Count is the
// term's in the whole index.
type rangeTermReader struct {
	index.TermFieldReader
	lo, hi  uint64
	started bool
	id      [8]byte
}

func (r *rangeTermReader) Next(pre *index.TermFieldDoc) (*index.TermFieldDoc, error) {
	if !r.started {
		return r.Advance(index.NewIndexInternalID(r.id[:], r.lo), pre)
	}
	return r.within(r.TermFieldReader.Next(pre))
}

func (r *rangeTermReader) Advance(id index.IndexInternalID, pre *index.TermFieldDoc) (*index.TermFieldDoc, error) {
	r.started = true
	if id.Value() < r.lo {
		id = index.NewIndexInternalID(r.id[:], r.lo)
	}
	return r.within(r.TermFieldReader.Advance(id, pre))
}

func (r *rangeTermReader) within(d *index.TermFieldDoc, err error) (*index.TermFieldDoc, error) {
	if err != nil || d == nil || d.ID.Value() >= r.hi {
		return nil, err
	}
	return d, nil
}
