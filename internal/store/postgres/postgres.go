package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/atigip/atigip360/internal/atigip"
)

// DB is atigip.Store on PostgreSQL. It is safe for concurrent use.
type DB struct {
	pool   *pgxpool.Pool
	schema string
	// channel is the LISTEN/NOTIFY channel, per schema so that databases
	// shared by several schemas (tests) do not wake each other.
	channel string
	// changeLock is the advisory lock key that orders seq allocation;
	// migrateLock serialises migrations. Both are per schema.
	changeLock  int64
	migrateLock int64

	hub      *hub
	listener *listener
}

var _ atigip.Store = (*DB)(nil)

// Open connects to the database at url (a postgres:// URL or a key=value
// DSN; pgxpool options such as pool_max_conns are accepted), checks it
// answers and applies the pending migrations.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The URL may hold a password: give the cause, not the URL.
		if cause := errors.Unwrap(err); cause != nil {
			err = cause
		}
		return nil, fmt.Errorf("postgres: parse database URL: %v", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", mapError(err))
	}
	var schema *string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", mapError(err))
	}
	if schema == nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: no schema of search_path exists")
	}
	db := &DB{
		pool:        pool,
		schema:      *schema,
		channel:     channelName(*schema),
		changeLock:  lockKey("atigip.changes", *schema),
		migrateLock: lockKey("atigip.migrate", *schema),
		hub:         newHub(),
	}
	db.listener = newListener(cfg.ConnConfig, db.channel, db.hub)
	if err := db.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// channelName is the NOTIFY channel of a schema. Channel names are
// identifiers, at most 63 bytes: a long schema name is replaced by its hash.
func channelName(schema string) string {
	c := "atigip_changes." + schema
	if len(c) > 63 {
		c = fmt.Sprintf("atigip_changes.%016x", uint64(lockKey("atigip.channel", schema)))
	}
	return c
}

// lockKey derives an advisory lock key from a purpose and a schema.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(schema))
	return int64(h.Sum64())
}

// Schema is the schema the store lives in.
func (db *DB) Schema() string { return db.schema }

// Ping implements atigip.Store.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", mapError(err))
	}
	return nil
}

// Close stops the listener and closes the pool.
func (db *DB) Close() error {
	db.listener.stop()
	db.pool.Close()
	return nil
}

// InTx implements atigip.Store.
func (db *DB) InTx(ctx context.Context, fn func(tx atigip.Tx) error) (err error) {
	ptx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	t := &tx{db: db, tx: ptx}
	defer func() {
		if err != nil {
			// The rollback error is secondary to err; the connection is
			// discarded by pgx if it cannot roll back.
			_ = ptx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			_ = ptx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
	}()
	if err = fn(t); err != nil {
		return err
	}
	if err = ptx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", mapError(err))
	}
	if t.changed {
		// Other instances hear the NOTIFY; this one is told at once, even
		// if its listener is reconnecting.
		db.hub.broadcast()
	}
	return nil
}

// beginAttempts bounds the retries of BEGIN on a lost connection.
const beginAttempts = 3

// begin starts a transaction. After a database restart the pool still
// holds connections to dead backends, and BEGIN on one fails: nothing was
// done yet, so it is retried on another connection (pgx drops the dead
// one) instead of failing the request.
func (db *DB) begin(ctx context.Context) (pgx.Tx, error) {
	delay := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		ptx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
		if err == nil {
			return ptx, nil
		}
		err = mapError(err)
		if attempt == beginAttempts || atigip.ErrorCode(err) != atigip.EUNAVAILABLE {
			return nil, fmt.Errorf("postgres: begin: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("postgres: begin: %w", ctx.Err())
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// Entities implements atigip.Tx: each call runs in its own transaction.
func (db *DB) Entities(k atigip.Kind) atigip.Entities {
	return &entities{db: db, kind: k, q: db.pool}
}

// Cursor implements atigip.Tx.
func (db *DB) Cursor(ctx context.Context, name string) (string, error) {
	return cursor(ctx, db.pool, name)
}

// SetCursor implements atigip.Tx.
func (db *DB) SetCursor(ctx context.Context, name, value string) error {
	return db.InTx(ctx, func(t atigip.Tx) error { return t.SetCursor(ctx, name, value) })
}

// Audit implements atigip.Tx.
func (db *DB) Audit(ctx context.Context, a atigip.AuditEntry) error {
	return audit(ctx, db.pool, a)
}

// defaultChangesLimit bounds a Changes call made with limit <= 0.
const defaultChangesLimit = 1000

// Changes implements atigip.Store.
func (db *DB) Changes(ctx context.Context, after int64, limit int) ([]atigip.Change, error) {
	if limit <= 0 {
		limit = defaultChangesLimit
	}
	rows, err := db.pool.Query(ctx,
		`SELECT seq, kind, entity_id, op, version, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2`,
		after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: changes: %w", mapError(err))
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (atigip.Change, error) {
		var c atigip.Change
		var kind, op string
		err := r.Scan(&c.Seq, &kind, &c.ID, &op, &c.Version, &c.At)
		c.Kind, c.Op, c.At = atigip.Kind(kind), atigip.Op(op), c.At.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: changes: %w", mapError(err))
	}
	return cs, nil
}

// LastSeq implements atigip.Store.
func (db *DB) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("postgres: last seq: %w", mapError(err))
	}
	return seq, nil
}

// Subscribe implements atigip.Store. The first call starts the listener
// and waits (a few seconds at most) until it listens, so that every commit
// after Subscribe returns, from any instance, is signalled. A
// reconnection of the listener also signals, since notifications may have
// been missed while it was away.
func (db *DB) Subscribe() (<-chan struct{}, func()) {
	ch, cancel := db.hub.subscribe()
	db.listener.start()
	db.listener.await()
	return ch, cancel
}

// defaultAuditLimit bounds an Audits call made without a limit.
const defaultAuditLimit = 100

// Audits implements atigip.Store.
func (db *DB) Audits(ctx context.Context, f atigip.AuditFilter) ([]atigip.AuditEntry, error) {
	q := `SELECT id, at, subject, role, action, kind, entity_id, count, detail FROM audits WHERE true`
	var args []any
	if f.Kind != "" {
		args = append(args, string(f.Kind))
		q += fmt.Sprintf(" AND kind = $%d", len(args))
	}
	if f.EntityID != 0 {
		args = append(args, f.EntityID)
		q += fmt.Sprintf(" AND entity_id = $%d", len(args))
	}
	if f.Subject != "" {
		args = append(args, f.Subject)
		q += fmt.Sprintf(" AND subject = $%d", len(args))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY at DESC, id DESC LIMIT $%d", len(args))
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: audits: %w", mapError(err))
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (atigip.AuditEntry, error) {
		var a atigip.AuditEntry
		var role, kind string
		err := r.Scan(&a.ID, &a.At, &a.Subject, &role, &a.Action, &kind, &a.EntityID, &a.Count, &a.Detail)
		a.Role, a.Kind, a.At = atigip.Role(role), atigip.Kind(kind), a.At.UTC()
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: audits: %w", mapError(err))
	}
	return as, nil
}

// now is the store's clock, at PostgreSQL's microsecond precision so that
// an entity reads back equal to what was written.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
