package atigip

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FeedPruner is a store whose change feed can be pruned. Followers report
// their positions; PruneChanges deletes only what every follower heard of
// lately has consumed and what is older than the retention age. A
// follower that finds its position below PrunedSeq cannot replay the
// feed: it rebuilds from the store.
type FeedPruner interface {
	// ReportPosition records that follower (unique per instance and
	// engine) has applied the feed up to seq.
	ReportPosition(ctx context.Context, follower string, seq int64) error
	// PruneChanges deletes the changes committed before `before` that
	// every follower reported since aliveSince has consumed, keeping the
	// newest change; it forgets followers not heard of since aliveSince.
	// It returns how many changes it deleted.
	PruneChanges(ctx context.Context, before, aliveSince time.Time) (int64, error)
	// PrunedSeq is the highest Seq ever pruned (0 if none).
	PrunedSeq(ctx context.Context) (int64, error)
}

// Cursor names of the change-feed retention.
const (
	// FeedPositionPrefix starts the cursor of each follower's position.
	FeedPositionPrefix = "feed:position:"
	// FeedPrunedCursor holds PrunedSeq.
	FeedPrunedCursor = "feed:pruned"
)

// FormatFeedPosition is the cursor value of a follower's position.
func FormatFeedPosition(seq int64, at time.Time) string {
	return strconv.FormatInt(seq, 10) + " " + strconv.FormatInt(at.Unix(), 10)
}

// ParseFeedPosition reads a FormatFeedPosition value.
func ParseFeedPosition(v string) (seq int64, at time.Time, err error) {
	s, u, ok := strings.Cut(v, " ")
	if !ok {
		return 0, time.Time{}, fmt.Errorf("atigip: feed position %q", v)
	}
	if seq, err = strconv.ParseInt(s, 10, 64); err != nil {
		return 0, time.Time{}, fmt.Errorf("atigip: feed position %q: %w", v, err)
	}
	unix, err := strconv.ParseInt(u, 10, 64)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("atigip: feed position %q: %w", v, err)
	}
	return seq, time.Unix(unix, 0).UTC(), nil
}

// PruneBound is the highest Seq a store may prune: the lowest position of
// the followers heard of since aliveSince (values of their position
// cursors), never the newest change (last), whose Seq the next one
// follows. Without any live follower it is last-1.
func PruneBound(positions []string, aliveSince time.Time, last int64) int64 {
	bound := last - 1
	for _, v := range positions {
		seq, at, err := ParseFeedPosition(v)
		if err != nil || at.Before(aliveSince) {
			continue // unreadable or gone: does not hold the feed back
		}
		bound = min(bound, seq)
	}
	return bound
}

// ReadPrunedSeq reads the pruned horizon kept by stores in tx.
func ReadPrunedSeq(ctx context.Context, tx Tx) (int64, error) {
	v, err := tx.Cursor(ctx, FeedPrunedCursor)
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("atigip: pruned seq %q: %w", v, err)
	}
	return n, nil
}

// RecordPrunedSeq raises the pruned horizon to top in tx.
func RecordPrunedSeq(ctx context.Context, tx Tx, top int64) error {
	cur, err := ReadPrunedSeq(ctx, tx)
	if err != nil || top <= cur {
		return err
	}
	return tx.SetCursor(ctx, FeedPrunedCursor, strconv.FormatInt(top, 10))
}
