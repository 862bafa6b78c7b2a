package atigip

import (
	"context"
	"fmt"
	"time"
)

// FeedMark names one position of a store's change feed by the change
// found there. An engine that saved its state at a mark may resume from
// it only if the store still holds that very change: a position alone
// cannot tell another database, a restored backup or a re-created store
// (whose feed restarts) from the one the state was read from.
type FeedMark struct {
	Seq  int64
	Kind Kind
	ID   int64
	Op   Op
	At   time.Time
}

// MarkFeed returns the mark of the change at seq in s's feed. A store
// whose feed no longer holds it (pruned, or seq 0) gives a mark that
// Holds never accepts.
func MarkFeed(ctx context.Context, s Store, seq int64) (FeedMark, error) {
	m := FeedMark{Seq: seq}
	if seq <= 0 {
		return m, nil
	}
	cs, err := s.Changes(ctx, seq-1, 1)
	if err != nil {
		return m, fmt.Errorf("atigip: feed mark %d: %w", seq, err)
	}
	if len(cs) == 1 && cs[0].Seq == seq {
		c := cs[0]
		m.Kind, m.ID, m.Op, m.At = c.Kind, c.ID, c.Op, c.At
	}
	return m, nil
}

// Holds reports whether s's feed still holds the change m names and every
// change after it, so that a state saved at m catches up by replaying
// the feed from m.Seq. A false answer means: rebuild from the store.
func (m FeedMark) Holds(ctx context.Context, s Store) (bool, error) {
	if m.Seq <= 0 || m.Kind == "" {
		return false, nil
	}
	if p, ok := s.(FeedPruner); ok {
		h, err := p.PrunedSeq(ctx)
		if err != nil {
			return false, fmt.Errorf("atigip: feed mark: pruned seq: %w", err)
		}
		if m.Seq < h {
			return false, nil
		}
	}
	now, err := MarkFeed(ctx, s, m.Seq)
	if err != nil {
		return false, err
	}
	return now.Kind == m.Kind && now.ID == m.ID && now.Op == m.Op && now.At.Equal(m.At), nil
}
