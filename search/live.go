package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"

	"github.com/atigip/atigip360/internal/atigip"
)

// Live indexing tunables.
const (
	changeBatch  = 1000                   // changes read from the feed at once
	pollInterval = 500 * time.Millisecond // fallback when a store signal is lost
	buildBatch   = 2000                   // documents per segment in a rebuild
	retryDelay   = time.Second            // after a failed batch in Follow
)

// kindsInBuildOrder lists what a rebuild scans: organisations and prisons
// first, since posts, offers and floor spaces show their parent's name.
var kindsInBuildOrder = []atigip.Kind{
	atigip.KindOrganisation, atigip.KindPrison, atigip.KindPost,
	atigip.KindFloorSpace, atigip.KindOffer,
}

// ReindexStats describes a rebuild.
type ReindexStats struct {
	Docs     int           // documents indexed
	Seq      int64         // change feed position the index starts from
	Duration time.Duration // wall time
}

// Reindex rebuilds the whole index from the store and swaps it in; searches
// keep answering from the old index meanwhile. progress, when not nil, is
// told the documents indexed out of the total after each one (the caller
// draws it: a progress bar for the command line). Changes committed
// during the rebuild are applied by the next CatchUp or Follow, since the
// index records the feed position read before the scan.
func (ix *Index) Reindex(ctx context.Context, store atigip.Store, progress func(done, total int)) (ReindexStats, error) {
	start := time.Now()
	seq, err := store.LastSeq(ctx)
	if err != nil {
		return ReindexStats{}, fmt.Errorf("search: reindex: last seq: %w", err)
	}
	var tick func()
	if progress != nil {
		total := 0
		for _, k := range kindsInBuildOrder {
			if !indexed(k) {
				continue
			}
			_, n, err := store.Entities(k).List(ctx, atigip.ListFilter{Limit: 1})
			if err != nil {
				return ReindexStats{}, fmt.Errorf("search: reindex: count %s: %w", k, err)
			}
			total += n
		}
		done := 0
		tick = func() {
			done++
			progress(done, total)
		}
	}

	var tmp string
	if ix.path != "" {
		tmp = ix.path + ".building"
		if err := os.RemoveAll(tmp); err != nil {
			return ReindexStats{}, fmt.Errorf("search: reindex: %w", err)
		}
	}
	sink, err := newBatchSink(tmp)
	if err != nil {
		return ReindexStats{}, err
	}
	table := newFilterTable()
	n, err := fill(ctx, store, sink, table, tick)
	if err != nil {
		sink.abort()
		if tmp != "" {
			_ = os.RemoveAll(tmp)
		}
		return ReindexStats{}, err
	}
	fresh, err := sink.finish(seq)
	if err != nil {
		if tmp != "" {
			_ = os.RemoveAll(tmp)
		}
		return ReindexStats{}, err
	}
	if err := ix.swap(fresh, tmp, table.finish()); err != nil {
		return ReindexStats{}, err
	}
	ix.seq.Store(seq)
	ix.written.Add(int64(n))
	return ReindexStats{Docs: n, Seq: seq, Duration: time.Since(start)}, nil
}

// fill streams every indexed entity of the store into sink. Reading the
// store and building documents run in their own goroutine, overlapping
// bleve's analysis of the previous documents.
func fill(ctx context.Context, store atigip.Store, sink docSink, table *filterTable, tick func()) (int, error) {
	type item struct {
		id string
		d  document
	}
	ch := make(chan item, buildBatch)
	indexed := make(chan error, 1)
	go func() {
		var err error
		for it := range ch {
			if err == nil { // after an error, drain so that the reader ends
				err = sink.index(it.id, it.d)
			}
		}
		indexed <- err
	}()
	n, err := scanDocuments(ctx, store, func(id string, d document) {
		table.add(id, d)
		ch <- item{id, d}
		if tick != nil {
			tick()
		}
	})
	close(ch)
	if ierr := <-indexed; err == nil {
		err = ierr
	}
	return n, err
}

// scanDocuments builds the document of every indexed entity of the store.
func scanDocuments(ctx context.Context, store atigip.Store, emit func(id string, d document)) (int, error) {
	ps := newParents(store)
	n := 0
	for _, k := range kindsInBuildOrder {
		err := store.Entities(k).Scan(ctx, atigip.ListFilter{}, func(e atigip.Entity) error {
			// Remember parents as they stream by: the children that follow
			// then never hit the store for them.
			switch v := e.(type) {
			case *atigip.Organisation:
				ps.orgs[v.ID] = v
			case *atigip.Prison:
				ps.prisons[v.ID] = v
			}
			d, ok, err := buildDocument(ctx, e, ps)
			if err != nil || !ok {
				return err
			}
			emit(docID(k, e.GetMeta().ID), d)
			n++
			return ctx.Err()
		})
		if err != nil {
			return n, fmt.Errorf("search: reindex %s: %w", k, err)
		}
	}
	return n, nil
}

// docSink receives the documents of a rebuild.
type docSink interface {
	index(id string, d document) error
	// finish records the feed position and returns the opened index.
	finish(seq int64) (bleve.Index, error)
	abort()
}

// batchSink loads a new index by batches. Measured on the national set, it
// is about twice as fast as bleve's offline Builder, which analyzes and
// writes its segments on one goroutine, where scorch's batches analyze on
// every core.
type batchSink struct {
	idx   bleve.Index
	batch *bleve.Batch
}

func newBatchSink(path string) (*batchSink, error) {
	idx, err := newBleve(path)
	if err != nil {
		return nil, err
	}
	return &batchSink{idx: idx, batch: idx.NewBatch()}, nil
}

func (s *batchSink) index(id string, d document) error {
	if err := indexDoc(s.batch, s.idx.Mapping(), id, d); err != nil {
		return fmt.Errorf("search: reindex: index %s: %w", id, err)
	}
	if s.batch.Size() >= buildBatch {
		if err := s.idx.Batch(s.batch); err != nil {
			return fmt.Errorf("search: reindex: batch: %w", err)
		}
		s.batch.Reset()
	}
	return nil
}

// finish writes the last batch with the mapping version and the feed
// position: an index without them is an unfinished build, which Open
// does not trust.
func (s *batchSink) finish(seq int64) (bleve.Index, error) {
	s.batch.SetInternal(keyVersion, []byte(MappingVersion))
	s.batch.SetInternal(keySeq, []byte(strconv.FormatInt(seq, 10)))
	if err := s.idx.Batch(s.batch); err != nil {
		_ = s.idx.Close()
		return nil, fmt.Errorf("search: reindex: batch: %w", err)
	}
	// Batches leave dozens of segments that every query visits; merge
	// them into one now rather than in the background of the first searches.
	if adv, err := s.idx.Advanced(); err == nil {
		if sc, ok := adv.(*scorch.Scorch); ok {
			opts := mergeplan.SingleSegmentMergePlanOptions
			if err := sc.ForceMerge(context.Background(), &opts); err != nil {
				_ = s.idx.Close()
				return nil, fmt.Errorf("search: reindex: merge: %w", err)
			}
		}
	}
	return s.idx, nil
}

func (s *batchSink) abort() { _ = s.idx.Close() }

// swap replaces the live index by fresh, built at tmp (empty in memory).
func (ix *Index) swap(fresh bleve.Index, tmp string, table *filterTable) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.table = table
	if ix.idx != nil {
		if err := ix.idx.Close(); err != nil {
			ix.logger.Warn("search: close replaced index", "err", err)
		}
		ix.idx = nil
	}
	if tmp == "" {
		ix.idx = fresh
		return nil
	}
	// Files can only be moved closed; reopen after the rename.
	if err := fresh.Close(); err != nil {
		return fmt.Errorf("search: reindex: close built index: %w", err)
	}
	old := ix.path + ".old"
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("search: reindex: %w", err)
	}
	if err := os.Rename(ix.path, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("search: reindex: move old index: %w", err)
	}
	if err := os.Rename(tmp, ix.path); err != nil {
		return fmt.Errorf("search: reindex: move new index: %w", err)
	}
	_ = os.RemoveAll(old)
	idx, err := bleve.Open(ix.path)
	if err != nil {
		return fmt.Errorf("search: reindex: reopen: %w", err)
	}
	ix.idx = idx
	ix.reason = ""
	return nil
}

// CatchUp brings the index up to the store: a full rebuild when the index
// NeedsRebuild, else the changes after its last applied Seq. It returns the
// number of documents written.
func (ix *Index) CatchUp(ctx context.Context, store atigip.Store) (int, error) {
	before := ix.written.Load()
	pruned, err := prunedPast(ctx, store, ix.seq.Load())
	if err != nil {
		return 0, fmt.Errorf("search: catch up: %w", err)
	}
	if ix.NeedsRebuild() || pruned {
		if _, err := ix.Reindex(ctx, store, nil); err != nil {
			return 0, err
		}
	}
	if err := ix.loadTable(ctx, store); err != nil {
		return 0, err
	}
	for {
		cs, err := store.Changes(ctx, ix.seq.Load(), changeBatch)
		if err != nil {
			return int(ix.written.Load() - before), fmt.Errorf("search: catch up: %w", err)
		}
		if len(cs) == 0 {
			return int(ix.written.Load() - before), nil
		}
		if err := ix.Apply(ctx, store, cs); err != nil {
			return int(ix.written.Load() - before), err
		}
	}
}

// loadTable fills the filter table of a reopened index, once: from the
// file SaveTable left when it can be caught up (resumeTable), else from
// a scan of the store. The store may be ahead of the index: the changes CatchUp applies
// next read their entities again, so both end at the same state. CatchUp
// runs before Follow applies anything, never beside it.
func (ix *Index) loadTable(ctx context.Context, store atigip.Store) error {
	ix.mu.RLock()
	ready := ix.table.isReady()
	ix.mu.RUnlock()
	if ready || ix.resumeTable(ctx, store) {
		return nil
	}
	table := newFilterTable()
	if _, err := scanDocuments(ctx, store, table.add); err != nil {
		return fmt.Errorf("search: load filter table: %w", err)
	}
	ix.mu.Lock()
	ix.table = table.finish()
	ix.mu.Unlock()
	return nil
}

// prunedPast reports whether the store's change feed was pruned past seq:
// the changes the index missed can then only be had by a rebuild.
func prunedPast(ctx context.Context, store atigip.Store, seq int64) (bool, error) {
	p, ok := store.(atigip.FeedPruner)
	if !ok || seq < 0 {
		return false, nil
	}
	h, err := p.PrunedSeq(ctx)
	return seq < h, err
}

// follower keeps the index in step with the store (see Follow).
type follower = atigip.Follower

// Follow catches up, then applies every store change as it is committed
// (woken by the store's signal, polling as a fallback) until ctx ends,
// when it returns nil. A failure (the database restarting) is logged and
// retried from the last batch applied rather than stopping the index;
// Ready reports it meanwhile.
func (ix *Index) Follow(ctx context.Context, store atigip.Store) error {
	f := &atigip.Follower{Name: "search", Store: store, Batch: changeBatch, Poll: pollInterval, Seq: ix.seq.Load,
		Apply: func(ctx context.Context, cs []atigip.Change) error { return ix.Apply(ctx, store, cs) },
		OnError: func(err error, retry time.Duration) {
			ix.logger.Warn("search: follow changes, retrying", "err", err, "retry_in", retry.String(), "seq", ix.seq.Load())
		},
		Rebuild: func(ctx context.Context) error {
			_, err := ix.Reindex(ctx, store, nil)
			return err
		}}
	ix.follower.Store(f)
	for {
		// A rebuild, when the index needs one, comes first.
		_, err := ix.CatchUp(ctx, store)
		if err == nil {
			_ = f.Run(ctx) // returns only when ctx ends
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		ix.logger.Error("search: catch up", "err", err, "seq", ix.seq.Load())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retryDelay):
		}
	}
}

// Ready returns nil when Follow has applied the whole feed and has not
// failed since, else an EUNAVAILABLE error (for /readyz).
func (ix *Index) Ready() error {
	f := ix.follower.Load()
	if f == nil {
		return &atigip.Error{Code: atigip.EUNAVAILABLE, Message: "Index de recherche en cours de préparation.",
			Err: errors.New("search: not following the change feed yet")}
	}
	return f.Ready()
}

type entityRef struct {
	kind atigip.Kind
	id   int64
}

// Apply writes the documents touched by changes, and the Seq of the last
// one, in one bleve batch: after a crash the index holds either the whole
// batch and its position or neither. A renamed organisation or prison
// re-indexes its posts, offers and floor spaces, which show its name.
func (ix *Index) Apply(ctx context.Context, store atigip.Store, cs []atigip.Change) error {
	if len(cs) == 0 {
		return nil
	}
	var order []entityRef
	seen := map[entityRef]bool{}
	touch := func(r entityRef) {
		if !seen[r] {
			seen[r] = true
			order = append(order, r)
		}
	}
	for _, c := range cs {
		switch {
		case indexed(c.Kind):
			touch(entityRef{c.Kind, c.ID})
		case c.Kind == atigip.KindPrison:
		default:
			continue // people, measures, applications: never indexed
		}
		if c.Op == atigip.OpCreate {
			continue // a new parent has no children yet
		}
		var children []atigip.Kind
		switch c.Kind {
		case atigip.KindOrganisation:
			children = []atigip.Kind{atigip.KindPost}
		case atigip.KindPrison:
			children = []atigip.Kind{atigip.KindOffer, atigip.KindFloorSpace}
		}
		for _, k := range children {
			err := store.Entities(k).Scan(ctx, atigip.ListFilter{Parent: c.ID}, func(e atigip.Entity) error {
				touch(entityRef{k, e.GetMeta().ID})
				return nil
			})
			if err != nil {
				return fmt.Errorf("search: apply: children of %s %d: %w", c.Kind, c.ID, err)
			}
		}
	}

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.idx == nil {
		return errors.New("search: apply: index closed")
	}
	b := ix.idx.NewBatch()
	ps := newParents(store)
	n := 0
	var deleted, ids []string
	var docs []document
	for _, r := range order {
		if !indexed(r.kind) {
			continue
		}
		n++
		id := docID(r.kind, r.id)
		e, err := store.Entities(r.kind).Get(ctx, r.id)
		if atigip.ErrorCode(err) == atigip.ENOTFOUND {
			b.Delete(id)
			deleted = append(deleted, id)
			continue
		}
		if err != nil {
			return fmt.Errorf("search: apply: get %s: %w", id, err)
		}
		d, ok, err := buildDocument(ctx, e, ps)
		if err != nil {
			return err
		}
		if ok {
			if err := indexDoc(b, ix.idx.Mapping(), id, d); err != nil {
				return fmt.Errorf("search: apply: index %s: %w", id, err)
			}
			ids, docs = append(ids, id), append(docs, d)
		}
	}
	last := cs[len(cs)-1].Seq
	b.SetInternal(keySeq, []byte(strconv.FormatInt(last, 10)))
	if err := ix.idx.Batch(b); err != nil {
		return fmt.Errorf("search: apply batch: %w", err)
	}
	for _, id := range deleted {
		ix.table.delete(id)
	}
	for i, id := range ids {
		ix.table.put(id, docs[i])
	}
	ix.seq.Store(last)
	ix.written.Add(int64(n))
	return nil
}
