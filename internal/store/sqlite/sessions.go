package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

var _ atigip.SessionStore = (*DB)(nil)

// CreateSession implements atigip.SessionStore.
func (db *DB) CreateSession(ctx context.Context, s atigip.BrowserSession) error {
	p, err := json.Marshal(s.Principal)
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	return db.inTx(ctx, func(t *txn) error {
		_, err := t.q.ExecContext(ctx, `INSERT INTO browser_sessions (digest, principal, provider, id_token, created_at, seen_at)
			VALUES (?, ?, ?, ?, ?, ?)`, s.Key, string(p), s.Provider, s.IDToken, s.Created.UnixMicro(), s.Seen.UnixMicro())
		return dbErr("create session", err)
	})
}

// Session implements atigip.SessionStore: one primary-key read.
func (db *DB) Session(ctx context.Context, key string, createdAfter, seenAfter time.Time) (atigip.BrowserSession, error) {
	s := atigip.BrowserSession{Key: key}
	var p string
	var created, seen int64
	err := db.r.QueryRowContext(ctx, `SELECT principal, provider, id_token, created_at, seen_at FROM browser_sessions
		WHERE digest = ? AND created_at > ? AND seen_at > ?`, key, createdAfter.UnixMicro(), seenAfter.UnixMicro()).
		Scan(&p, &s.Provider, &s.IDToken, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return atigip.BrowserSession{}, atigip.SessionGone()
	}
	if err != nil {
		return atigip.BrowserSession{}, dbErr("read session", err)
	}
	if err := json.Unmarshal([]byte(p), &s.Principal); err != nil {
		return atigip.BrowserSession{}, fmt.Errorf("sqlite: read session: principal: %w", err)
	}
	s.Created, s.Seen = fromMicros(created), fromMicros(seen)
	return s, nil
}

// TouchSession implements atigip.SessionStore.
func (db *DB) TouchSession(ctx context.Context, key string, seen time.Time) error {
	return db.inTx(ctx, func(t *txn) error {
		_, err := t.q.ExecContext(ctx, `UPDATE browser_sessions SET seen_at = ? WHERE digest = ? AND seen_at < ?`,
			seen.UnixMicro(), key, seen.UnixMicro())
		return dbErr("touch session", err)
	})
}

// DeleteSession implements atigip.SessionStore.
func (db *DB) DeleteSession(ctx context.Context, key string) error {
	return db.inTx(ctx, func(t *txn) error {
		_, err := t.q.ExecContext(ctx, `DELETE FROM browser_sessions WHERE digest = ?`, key)
		return dbErr("delete session", err)
	})
}

// CreatePending implements atigip.SessionStore.
func (db *DB) CreatePending(ctx context.Context, p atigip.PendingSignIn) error {
	return db.inTx(ctx, func(t *txn) error {
		_, err := t.q.ExecContext(ctx, `INSERT INTO pending_signins (digest, provider, nonce, verifier, return_to, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, p.Key, p.Provider, p.Nonce, p.Verifier, p.Return, p.Expires.UnixMicro())
		return dbErr("create pending sign-in", err)
	})
}

// TakePending implements atigip.SessionStore: the delete runs on the one
// writer connection, so a second taker finds nothing.
func (db *DB) TakePending(ctx context.Context, key string, now time.Time) (atigip.PendingSignIn, error) {
	p := atigip.PendingSignIn{Key: key}
	var expires int64
	err := db.inTx(ctx, func(t *txn) error {
		err := t.q.QueryRowContext(ctx, `DELETE FROM pending_signins WHERE digest = ?
			RETURNING provider, nonce, verifier, return_to, expires_at`, key).
			Scan(&p.Provider, &p.Nonce, &p.Verifier, &p.Return, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return atigip.SessionGone()
		}
		return dbErr("take pending sign-in", err)
	})
	if err != nil {
		return atigip.PendingSignIn{}, err
	}
	if p.Expires = fromMicros(expires); !p.Expires.After(now) {
		return atigip.PendingSignIn{}, atigip.SessionGone()
	}
	return p, nil
}

// PruneSessions implements atigip.SessionStore.
func (db *DB) PruneSessions(ctx context.Context, createdBefore, seenBefore, now time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(t *txn) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM browser_sessions WHERE created_at < ? OR seen_at < ?`, []any{createdBefore.UnixMicro(), seenBefore.UnixMicro()}},
			{`DELETE FROM pending_signins WHERE expires_at <= ?`, []any{now.UnixMicro()}},
		} {
			res, err := t.q.ExecContext(ctx, q.sql, q.args...)
			if err != nil {
				return dbErr("prune sessions", err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return dbErr("prune sessions", err)
			}
			n += k
		}
		return nil
	})
	return n, err
}
