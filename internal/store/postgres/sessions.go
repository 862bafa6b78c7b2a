package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atigip/atigip360/internal/atigip"
)

var _ atigip.SessionStore = (*DB)(nil)

// Sessions write no entity: they go straight to the pool, without the
// change lock.

// CreateSession implements atigip.SessionStore.
func (db *DB) CreateSession(ctx context.Context, s atigip.BrowserSession) error {
	p, err := json.Marshal(s.Principal)
	if err != nil {
		return fmt.Errorf("postgres: create session: %w", err)
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO browser_sessions (digest, principal, provider, id_token, created_at, seen_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.Key, p, s.Provider, s.IDToken, s.Created.UTC(), s.Seen.UTC())
	if err != nil {
		return fmt.Errorf("postgres: create session: %w", mapError(err))
	}
	return nil
}

// Session implements atigip.SessionStore: one primary-key read.
func (db *DB) Session(ctx context.Context, key string, createdAfter, seenAfter time.Time) (atigip.BrowserSession, error) {
	s := atigip.BrowserSession{Key: key}
	var p []byte
	err := db.pool.QueryRow(ctx, `SELECT principal, provider, id_token, created_at, seen_at FROM browser_sessions
		WHERE digest = $1 AND created_at > $2 AND seen_at > $3`, key, createdAfter.UTC(), seenAfter.UTC()).
		Scan(&p, &s.Provider, &s.IDToken, &s.Created, &s.Seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return atigip.BrowserSession{}, atigip.SessionGone()
	}
	if err != nil {
		return atigip.BrowserSession{}, fmt.Errorf("postgres: read session: %w", mapError(err))
	}
	if err := json.Unmarshal(p, &s.Principal); err != nil {
		return atigip.BrowserSession{}, fmt.Errorf("postgres: read session: principal: %w", err)
	}
	s.Created, s.Seen = s.Created.UTC(), s.Seen.UTC()
	return s, nil
}

// TouchSession implements atigip.SessionStore.
func (db *DB) TouchSession(ctx context.Context, key string, seen time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE browser_sessions SET seen_at = $2 WHERE digest = $1 AND seen_at < $2`, key, seen.UTC())
	if err != nil {
		return fmt.Errorf("postgres: touch session: %w", mapError(err))
	}
	return nil
}

// DeleteSession implements atigip.SessionStore.
func (db *DB) DeleteSession(ctx context.Context, key string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM browser_sessions WHERE digest = $1`, key); err != nil {
		return fmt.Errorf("postgres: delete session: %w", mapError(err))
	}
	return nil
}

// CreatePending implements atigip.SessionStore.
func (db *DB) CreatePending(ctx context.Context, p atigip.PendingSignIn) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO pending_signins (digest, provider, nonce, verifier, return_to, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, p.Key, p.Provider, p.Nonce, p.Verifier, p.Return, p.Expires.UTC())
	if err != nil {
		return fmt.Errorf("postgres: create pending sign-in: %w", mapError(err))
	}
	return nil
}

// TakePending implements atigip.SessionStore: DELETE … RETURNING hands
// the row to one transaction only, whichever instance asks.
func (db *DB) TakePending(ctx context.Context, key string, now time.Time) (atigip.PendingSignIn, error) {
	p := atigip.PendingSignIn{Key: key}
	err := db.pool.QueryRow(ctx, `DELETE FROM pending_signins WHERE digest = $1
		RETURNING provider, nonce, verifier, return_to, expires_at`, key).
		Scan(&p.Provider, &p.Nonce, &p.Verifier, &p.Return, &p.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return atigip.PendingSignIn{}, atigip.SessionGone()
	}
	if err != nil {
		return atigip.PendingSignIn{}, fmt.Errorf("postgres: take pending sign-in: %w", mapError(err))
	}
	if !p.Expires.After(now) {
		return atigip.PendingSignIn{}, atigip.SessionGone()
	}
	p.Expires = p.Expires.UTC()
	return p, nil
}

// PruneSessions implements atigip.SessionStore.
func (db *DB) PruneSessions(ctx context.Context, createdBefore, seenBefore, now time.Time) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, `WITH s AS (DELETE FROM browser_sessions WHERE created_at < $1 OR seen_at < $2 RETURNING 1),
		p AS (DELETE FROM pending_signins WHERE expires_at <= $3 RETURNING 1)
		SELECT (SELECT count(*) FROM s) + (SELECT count(*) FROM p)`, createdBefore.UTC(), seenBefore.UTC(), now.UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune sessions: %w", mapError(err))
	}
	return n, nil
}
