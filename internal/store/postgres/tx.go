package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atigip/atigip360/internal/atigip"
)

// querier is what pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// tx is atigip.Tx inside one PostgreSQL transaction.
type tx struct {
	db *DB
	tx pgx.Tx
	// locked is set once the change lock is held (until commit).
	locked bool
	// changed is set once a change was recorded: the commit notifies.
	changed bool
}

// Entities implements atigip.Tx.
func (t *tx) Entities(k atigip.Kind) atigip.Entities {
	return &entities{db: t.db, kind: k, q: t.tx, tx: t}
}

// Cursor implements atigip.Tx.
func (t *tx) Cursor(ctx context.Context, name string) (string, error) {
	return cursor(ctx, t.tx, name)
}

// SetCursor implements atigip.Tx. It takes the change lock first: cursors
// are written by the same transactions that write entities, and taking
// locks always in the same order (change lock, then rows) rules out
// deadlocks between them.
func (t *tx) SetCursor(ctx context.Context, name, value string) error {
	if name == "" {
		return atigip.Errorf(atigip.EINVALID, "Le nom du curseur est obligatoire.")
	}
	if err := t.lock(ctx, false); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO cursors (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`,
		name, value, now())
	if err != nil {
		return fmt.Errorf("postgres: set cursor: %w", mapError(err))
	}
	return nil
}

// Audit implements atigip.Tx.
func (t *tx) Audit(ctx context.Context, a atigip.AuditEntry) error {
	return audit(ctx, t.tx, a)
}

// lock takes the change lock once per transaction; with change set, it
// also queues the NOTIFY, which PostgreSQL delivers only if the
// transaction commits. One round trip either way.
func (t *tx) lock(ctx context.Context, change bool) error {
	if change && !t.changed {
		if _, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1), pg_notify($2, '')`,
			t.db.changeLock, t.db.channel); err != nil {
			return fmt.Errorf("postgres: lock change feed: %w", mapError(err))
		}
		t.locked, t.changed = true, true
		return nil
	}
	if t.locked {
		return nil
	}
	if _, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, t.db.changeLock); err != nil {
		return fmt.Errorf("postgres: lock change feed: %w", mapError(err))
	}
	t.locked = true
	return nil
}

func cursor(ctx context.Context, q querier, name string) (string, error) {
	var v string
	err := q.QueryRow(ctx, `SELECT value FROM cursors WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("postgres: cursor: %w", mapError(err))
	}
	return v, nil
}

func audit(ctx context.Context, q querier, a atigip.AuditEntry) error {
	if a.At.IsZero() {
		a.At = now()
	}
	_, err := q.Exec(ctx, `INSERT INTO audits (at, subject, role, action, kind, entity_id, count, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.At, a.Subject, string(a.Role), a.Action, string(a.Kind), a.EntityID, a.Count, a.Detail)
	if err != nil {
		return fmt.Errorf("postgres: audit: %w", mapError(err))
	}
	return nil
}

// auditColumns are the columns AuditMany copies.
var auditColumns = []string{"at", "subject", "role", "action", "kind", "entity_id", "count", "detail"}

// AuditMany implements atigip.AuditBatcher: one COPY, atomic, for the
// audit log's group commit.
func (db *DB) AuditMany(ctx context.Context, as []atigip.AuditEntry) error {
	at := now()
	_, err := db.pool.CopyFrom(ctx, pgx.Identifier{"audits"}, auditColumns,
		pgx.CopyFromSlice(len(as), func(i int) ([]any, error) {
			a := as[i]
			if a.At.IsZero() {
				a.At = at
			}
			return []any{a.At, a.Subject, string(a.Role), a.Action, string(a.Kind), a.EntityID, a.Count, a.Detail}, nil
		}))
	if err != nil {
		return fmt.Errorf("postgres: audit many: %w", mapError(err))
	}
	return nil
}
