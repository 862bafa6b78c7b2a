package sqlite

import (
	"context"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

var _ atigip.FeedPruner = (*DB)(nil)

// ReportPosition implements atigip.FeedPruner.
func (db *DB) ReportPosition(ctx context.Context, follower string, seq int64) error {
	return db.SetCursor(ctx, atigip.FeedPositionPrefix+follower, atigip.FormatFeedPosition(seq, time.Now()))
}

// PruneChanges implements atigip.FeedPruner, in one transaction.
func (db *DB) PruneChanges(ctx context.Context, before, aliveSince time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(t *txn) error {
		rows, err := t.q.QueryContext(ctx, `SELECT name, value FROM cursors WHERE name LIKE ?`, atigip.FeedPositionPrefix+"%")
		if err != nil {
			return dbErr("prune changes: positions", err)
		}
		var values, gone []string
		for rows.Next() {
			var name, value string
			if err := rows.Scan(&name, &value); err != nil {
				rows.Close()
				return dbErr("prune changes: positions", err)
			}
			values = append(values, value)
			if _, at, err := atigip.ParseFeedPosition(value); err != nil || at.Before(aliveSince) {
				gone = append(gone, name)
			}
		}
		if err := rows.Close(); err != nil {
			return dbErr("prune changes: positions", err)
		}
		for _, name := range gone {
			if _, err := t.q.ExecContext(ctx, `DELETE FROM cursors WHERE name = ?`, name); err != nil {
				return dbErr("prune changes: forget follower", err)
			}
		}
		var last int64
		if err := t.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes`).Scan(&last); err != nil {
			return dbErr("prune changes: last seq", err)
		}
		bound := atigip.PruneBound(values, aliveSince, last)
		var top int64
		if err := t.q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM changes WHERE seq <= ? AND at < ?`,
			bound, before.UnixMicro()).Scan(&n, &top); err != nil {
			return dbErr("prune changes", err)
		}
		if _, err := t.q.ExecContext(ctx, `DELETE FROM changes WHERE seq <= ? AND at < ?`, top, before.UnixMicro()); err != nil {
			return dbErr("prune changes", err)
		}
		return atigip.RecordPrunedSeq(ctx, t, top)
	})
	return n, err
}

// PrunedSeq implements atigip.FeedPruner.
func (db *DB) PrunedSeq(ctx context.Context) (int64, error) { return atigip.ReadPrunedSeq(ctx, db) }
