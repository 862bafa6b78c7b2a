package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atigip/atigip360/internal/atigip"
)

var _ atigip.FeedPruner = (*DB)(nil)

// ReportPosition implements atigip.FeedPruner. It writes no entity, so it
// needs no change lock.
func (db *DB) ReportPosition(ctx context.Context, follower string, seq int64) error {
	at := now()
	_, err := db.pool.Exec(ctx, `INSERT INTO cursors (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`,
		atigip.FeedPositionPrefix+follower, atigip.FormatFeedPosition(seq, at), at)
	if err != nil {
		return fmt.Errorf("postgres: report feed position: %w", mapError(err))
	}
	return nil
}

// PruneChanges implements atigip.FeedPruner, in one transaction.
func (db *DB) PruneChanges(ctx context.Context, before, aliveSince time.Time) (int64, error) {
	var n int64
	err := db.InTx(ctx, func(at atigip.Tx) error {
		t := at.(*tx)
		rows, err := t.tx.Query(ctx, `SELECT name, value FROM cursors WHERE name LIKE $1`, atigip.FeedPositionPrefix+"%")
		if err != nil {
			return fmt.Errorf("postgres: prune changes: positions: %w", mapError(err))
		}
		var values, gone []string
		var name, value string
		_, err = pgx.ForEachRow(rows, []any{&name, &value}, func() error {
			values = append(values, value)
			if _, at, err := atigip.ParseFeedPosition(value); err != nil || at.Before(aliveSince) {
				gone = append(gone, name)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("postgres: prune changes: positions: %w", mapError(err))
		}
		if len(gone) > 0 {
			if _, err := t.tx.Exec(ctx, `DELETE FROM cursors WHERE name = ANY($1)`, gone); err != nil {
				return fmt.Errorf("postgres: prune changes: forget followers: %w", mapError(err))
			}
		}
		var last int64
		if err := t.tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&last); err != nil {
			return fmt.Errorf("postgres: prune changes: last seq: %w", mapError(err))
		}
		bound := atigip.PruneBound(values, aliveSince, last)
		var top int64
		if err := t.tx.QueryRow(ctx, `WITH d AS (DELETE FROM changes WHERE seq <= $1 AND at < $2 RETURNING seq)
			SELECT count(*), coalesce(max(seq), 0) FROM d`, bound, before).Scan(&n, &top); err != nil {
			return fmt.Errorf("postgres: prune changes: %w", mapError(err))
		}
		return atigip.RecordPrunedSeq(ctx, t, top)
	})
	return n, err
}

// PrunedSeq implements atigip.FeedPruner.
func (db *DB) PrunedSeq(ctx context.Context) (int64, error) { return atigip.ReadPrunedSeq(ctx, db) }
