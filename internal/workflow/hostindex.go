package workflow

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/atigip/atigip360/internal/atigip"
)

// HostedIndex finds the measures on a host organisation's posts without
// scanning the country's measures on every page: it keeps post → measures
// for the hosted states, built by one scan and kept in step with the
// store's change feed, which it reads (from where it stopped) before each
// answer. Answers are re-read from the store by id and checked, so a stale
// entry can never show a measure that left the post. Safe for concurrent
// use.
type HostedIndex struct {
	Store atigip.Store

	mu     sync.Mutex
	built  bool
	seq    int64
	postOf map[int64]int64          // measure → post
	byPost map[int64]map[int64]bool // post → measures
}

const hostedFeedBatch = 1000

// HostedOn is HostedOn (the scan) answered from the index.
func (x *HostedIndex) HostedOn(ctx context.Context, posts map[int64]*atigip.Post) ([]Hosted, error) {
	var out []Hosted
	if len(posts) == 0 {
		return out, nil
	}
	if err := x.sync(ctx); err != nil {
		return nil, err
	}
	x.mu.Lock()
	var ids []int64
	for p := range posts {
		for m := range x.byPost[p] {
			ids = append(ids, m)
		}
	}
	x.mu.Unlock()
	if len(ids) == 0 {
		return out, nil
	}
	slices.Sort(ids)
	return scanHosted(ctx, x.Store, atigip.ListFilter{IDs: ids, Status: hostedStates}, posts)
}

// sync builds the index once, then applies the feed's measure changes.
func (x *HostedIndex) sync(ctx context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	pruned := false
	if p, ok := x.Store.(atigip.FeedPruner); ok && x.built {
		h, err := p.PrunedSeq(ctx)
		if err != nil {
			return fmt.Errorf("workflow: hosted index: %w", err)
		}
		pruned = x.seq < h
	}
	if !x.built || pruned {
		if err := x.rebuild(ctx); err != nil {
			return err
		}
	}
	for {
		cs, err := x.Store.Changes(ctx, x.seq, hostedFeedBatch)
		if err != nil {
			return fmt.Errorf("workflow: hosted index: %w", err)
		}
		for _, c := range cs {
			if c.Kind == atigip.KindMeasure {
				if err := x.refresh(ctx, c.ID); err != nil {
					return err
				}
			}
			x.seq = c.Seq
		}
		if len(cs) < hostedFeedBatch {
			return nil
		}
	}
}

// rebuild scans the hosted measures; the feed from the sequence read
// before the scan is applied again after it (idempotent).
func (x *HostedIndex) rebuild(ctx context.Context) error {
	seq, err := x.Store.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("workflow: hosted index: %w", err)
	}
	x.postOf, x.byPost = map[int64]int64{}, map[int64]map[int64]bool{}
	err = atigip.Of[*atigip.Measure](x.Store).Scan(ctx, atigip.ListFilter{Status: hostedStates}, func(m *atigip.Measure) error {
		x.set(m.ID, m.PostID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("workflow: hosted index: %w", err)
	}
	x.seq, x.built = seq, true
	return nil
}

// refresh reads measure id again and files it under its post, if hosted.
func (x *HostedIndex) refresh(ctx context.Context, id int64) error {
	m, err := atigip.Of[*atigip.Measure](x.Store).Get(ctx, id)
	switch {
	case atigip.ErrorCode(err) == atigip.ENOTFOUND:
		x.set(id, 0)
	case err != nil:
		return fmt.Errorf("workflow: hosted index: %w", err)
	case slices.Contains(hostedStates, string(m.State)):
		x.set(id, m.PostID)
	default:
		x.set(id, 0)
	}
	return nil
}

func (x *HostedIndex) set(measure, post int64) {
	if old, ok := x.postOf[measure]; ok {
		delete(x.byPost[old], measure)
		delete(x.postOf, measure)
	}
	if post == 0 {
		return
	}
	x.postOf[measure] = post
	if x.byPost[post] == nil {
		x.byPost[post] = map[int64]bool{}
	}
	x.byPost[post][measure] = true
}
