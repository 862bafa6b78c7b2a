package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/atigip/atigip360/internal/atigip"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// DB is the embedded atigip.Store. It holds two pools on the same file: a
// single writer connection, so that write transactions serialize and the
// change feed commits in Seq order, and a pool of read-only connections
// which, in WAL mode, read the last committed state without waiting for
// the writer.
//
// Inside a function given to InTx, use only the atigip.Tx it receives:
// a write through the DB itself would wait for the writer connection that
// the transaction holds, and fails with EUNAVAILABLE after 30 s.
type DB struct {
	path string
	w    *sql.DB
	r    *sql.DB

	// writer admits one write transaction at a time. Waiting on it, rather
	// than on the pool, bounds the wait: a write through the DB from
	// inside InTx, which would wait for itself forever, fails after
	// writeWait instead.
	writer    chan struct{}
	writeWait time.Duration

	mu   sync.Mutex
	subs map[int]chan struct{}
	next int
}

// defaultWriteWait is how long a write waits for the writer connection.
const defaultWriteWait = 30 * time.Second

var _ atigip.Store = (*DB)(nil)

// Open opens (creating it if needed) the database file at path. It does
// not migrate: call Migrate before use.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		// Two pools must share one database, which an in-memory or URI name
		// would not guarantee.
		return nil, fmt.Errorf("sqlite: open %q: a plain file path is required", path)
	}
	common := url.Values{}
	common.Add("_pragma", "busy_timeout(10000)")
	common.Add("_pragma", "foreign_keys(1)")
	common.Add("_pragma", "cache_size(-16000)") // 16 MB per connection

	wq := url.Values{}
	for k, v := range common {
		wq[k] = append([]string(nil), v...)
	}
	wq.Add("_pragma", "journal_mode(WAL)")
	// In WAL mode NORMAL stays consistent after a crash; only the last
	// transactions may be lost on a power cut, which a demo and a cache
	// of the CRM can afford, for much faster commits.
	wq.Add("_pragma", "synchronous(NORMAL)")
	wq.Add("_pragma", "journal_size_limit(67108864)")
	// Take the write lock at BEGIN: another process writing the same file
	// then makes us wait (busy_timeout) instead of failing mid-transaction.
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Connect the writer first: it creates the file and turns WAL on
	// before any reader opens it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	rq := common
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s readers: %w", path, err)
	}
	n := max(4, 2*runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	return &DB{path: path, w: w, r: r, writer: make(chan struct{}, 1), writeWait: defaultWriteWait,
		subs: map[int]chan struct{}{}}, nil
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}

// Ping checks that the file can be read.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return dbErr("ping", err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// txn is one write transaction on the writer connection.
type txn struct {
	db      *DB
	q       querier
	changed bool // some change was appended: signal subscribers on commit
}

// inTx runs fn in a write transaction and signals subscribers after a
// commit that appended changes.
func (db *DB) inTx(ctx context.Context, fn func(*txn) error) (err error) {
	timer := time.NewTimer(db.writeWait)
	select {
	case db.writer <- struct{}{}:
		timer.Stop()
	case <-ctx.Done():
		timer.Stop()
		return fmt.Errorf("sqlite: wait for writer: %w", ctx.Err())
	case <-timer.C:
		return &atigip.Error{Code: atigip.EUNAVAILABLE,
			Message: "La base de données est momentanément occupée : réessayez dans un instant.",
			Err:     fmt.Errorf("sqlite: no writer after %v (a write through the DB inside InTx?)", db.writeWait)}
	}
	defer func() { <-db.writer }()
	stx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return dbErr("begin", err)
	}
	t := &txn{db: db, q: stx}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
	}()
	if err := fn(t); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return dbErr("commit", err)
	}
	if t.changed {
		db.broadcast()
	}
	return nil
}

// InTx implements atigip.Store.
func (db *DB) InTx(ctx context.Context, fn func(tx atigip.Tx) error) error {
	return db.inTx(ctx, func(t *txn) error { return fn(t) })
}

// Entities implements atigip.Tx: each call runs in its own transaction.
func (db *DB) Entities(k atigip.Kind) atigip.Entities {
	return &entities{db: db, k: k, sql: sqlFor(k)}
}

// Entities implements atigip.Tx.
func (t *txn) Entities(k atigip.Kind) atigip.Entities {
	return &entities{db: t.db, k: k, sql: sqlFor(k), tx: t}
}

// Cursor implements atigip.Tx.
func (db *DB) Cursor(ctx context.Context, name string) (string, error) {
	return cursor(ctx, db.r, name)
}

// SetCursor implements atigip.Tx.
func (db *DB) SetCursor(ctx context.Context, name, value string) error {
	return db.inTx(ctx, func(t *txn) error { return t.SetCursor(ctx, name, value) })
}

// Cursor implements atigip.Tx.
func (t *txn) Cursor(ctx context.Context, name string) (string, error) {
	return cursor(ctx, t.q, name)
}

// SetCursor implements atigip.Tx.
func (t *txn) SetCursor(ctx context.Context, name, value string) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO cursors (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return dbErr("set cursor", err)
}

func cursor(ctx context.Context, q querier, name string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, "SELECT value FROM cursors WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, dbErr("read cursor", err)
}

// Audit implements atigip.Tx.
func (db *DB) Audit(ctx context.Context, a atigip.AuditEntry) error {
	return db.inTx(ctx, func(t *txn) error { return t.Audit(ctx, a) })
}

// Audit implements atigip.Tx.
func (t *txn) Audit(ctx context.Context, a atigip.AuditEntry) error {
	at := a.At
	if at.IsZero() {
		at = time.Now()
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO audits (at, subject, role, action, kind, entity_id, count, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		at.UnixMicro(), a.Subject, string(a.Role), a.Action, string(a.Kind), a.EntityID, a.Count, a.Detail)
	return dbErr("insert audit", err)
}

// defaultAuditLimit bounds Audits when the filter sets no limit.
const defaultAuditLimit = 100

// Audits implements atigip.Store: newest first.
func (db *DB) Audits(ctx context.Context, f atigip.AuditFilter) ([]atigip.AuditEntry, error) {
	var conds []string
	var args []any
	if f.Kind != "" {
		conds, args = append(conds, "kind = ?"), append(args, string(f.Kind))
	}
	if f.EntityID != 0 {
		conds, args = append(conds, "entity_id = ?"), append(args, f.EntityID)
	}
	if f.Subject != "" {
		conds, args = append(conds, "subject = ?"), append(args, f.Subject)
	}
	q := "SELECT id, at, subject, role, action, kind, entity_id, count, detail FROM audits"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, dbErr("read audits", err)
	}
	defer rows.Close()
	var out []atigip.AuditEntry
	for rows.Next() {
		var a atigip.AuditEntry
		var at int64
		var role, kind string
		if err := rows.Scan(&a.ID, &at, &a.Subject, &role, &a.Action, &kind, &a.EntityID, &a.Count, &a.Detail); err != nil {
			return nil, dbErr("read audits", err)
		}
		a.At, a.Role, a.Kind = fromMicros(at), atigip.Role(role), atigip.Kind(kind)
		out = append(out, a)
	}
	return out, dbErr("read audits", rows.Err())
}

// defaultChangesLimit bounds Changes when the caller gives no limit.
const defaultChangesLimit = 1000

// Changes implements atigip.Store.
func (db *DB) Changes(ctx context.Context, after int64, limit int) ([]atigip.Change, error) {
	if limit <= 0 {
		limit = defaultChangesLimit
	}
	rows, err := db.r.QueryContext(ctx, `SELECT seq, kind, entity_id, op, version, at FROM changes
		WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, dbErr("read changes", err)
	}
	defer rows.Close()
	out := make([]atigip.Change, 0, min(limit, 256))
	for rows.Next() {
		var c atigip.Change
		var kind, op string
		var at int64
		if err := rows.Scan(&c.Seq, &kind, &c.ID, &op, &c.Version, &at); err != nil {
			return nil, dbErr("read changes", err)
		}
		c.Kind, c.Op, c.At = atigip.Kind(kind), atigip.Op(op), fromMicros(at)
		out = append(out, c)
	}
	return out, dbErr("read changes", rows.Err())
}

// LastSeq implements atigip.Store.
func (db *DB) LastSeq(ctx context.Context) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM changes").Scan(&n)
	return n, dbErr("read last seq", err)
}

// Subscribe implements atigip.Store: an in-process broadcast after each
// commit that appended changes. Other processes writing the same file are
// seen by atigip.Follow's polling.
func (db *DB) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	db.mu.Lock()
	id := db.next
	db.next++
	db.subs[id] = ch
	db.mu.Unlock()
	return ch, sync.OnceFunc(func() {
		db.mu.Lock()
		delete(db.subs, id)
		db.mu.Unlock()
	})
}

func (db *DB) broadcast() {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, ch := range db.subs {
		select {
		case ch <- struct{}{}:
		default: // a signal is already pending: signals coalesce
		}
	}
}

// now is the store's clock: UTC, to the microsecond as stored.
func now() time.Time { return fromMicros(time.Now().UnixMicro()) }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
