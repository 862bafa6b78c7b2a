package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
)

// kindSQL holds the statements of one kind's table, built once.
type kindSQL struct {
	table, get, insert, update, delete, exists, selectCols string
}

var kindSQLs = func() map[atigip.Kind]*kindSQL {
	m := map[atigip.Kind]*kindSQL{}
	for _, k := range atigip.AllKinds() {
		t := string(k) // kinds are fixed identifiers, safe in SQL text
		m[k] = &kindSQL{
			table:      t,
			selectCols: "id, version, created_at, updated_at, data",
			get:        "SELECT id, version, created_at, updated_at, data FROM " + t + " WHERE id = ?",
			insert: "INSERT INTO " + t + " (version, ref, departement, commune, status, parent, owner, public, created_at, updated_at, data)" +
				" VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			update: "UPDATE " + t + " SET version = version + 1, ref = ?, departement = ?, commune = ?, status = ?, parent = ?," +
				" owner = ?, public = ?, updated_at = ?, data = ? WHERE id = ? AND version = ? RETURNING created_at",
			delete: "DELETE FROM " + t + " WHERE id = ? AND version = ?",
			exists: "SELECT version FROM " + t + " WHERE id = ?",
		}
	}
	return m
}()

func sqlFor(k atigip.Kind) *kindSQL { return kindSQLs[k] }

const (
	insertROME   = "INSERT OR IGNORE INTO rome (kind, id, code) VALUES (?, ?, ?)"
	deleteROME   = "DELETE FROM rome WHERE kind = ? AND id = ?"
	insertChange = "INSERT INTO changes (kind, entity_id, op, version, at) VALUES (?, ?, ?, ?, ?)"
)

// defaultLimit is List's page size when the filter gives none.
const defaultLimit = 50

// entities implements atigip.Entities for one kind, either inside a
// transaction (tx set) or each call in its own.
type entities struct {
	db  *DB
	k   atigip.Kind
	sql *kindSQL
	tx  *txn
}

// reader is where reads go: the transaction, or the read pool.
func (e *entities) reader() querier {
	if e.tx != nil {
		return e.tx.q
	}
	return e.db.r
}

// write runs fn in the enclosing transaction, or in a new one.
func (e *entities) write(ctx context.Context, fn func(*txn) error) error {
	if e.sql == nil {
		return unknownKind(e.k)
	}
	if e.tx != nil {
		return fn(e.tx)
	}
	return e.db.inTx(ctx, fn)
}

// row holds the columns derived from an entity.
type row struct {
	ref             any // nil when empty: NULLs do not collide in UNIQUE
	departement     string
	commune, status string
	parent, owner   int64
	public          bool
	rome            []string
	data            []byte
}

func (e *entities) rowOf(ent atigip.Entity) (row, error) {
	if ent == nil || ent.Kind() != e.k {
		return row{}, atigip.Errorf(atigip.EINVALID, "La fiche n'est pas du type attendu (%s).", kindLabels[e.k])
	}
	// PostgreSQL refuses NUL and non-UTF-8 text: both stores refuse it,
	// first, so that the field named is the same.
	if err := atigip.CheckText(ent); err != nil {
		return row{}, err
	}
	if err := ent.Validate(); err != nil {
		return row{}, err
	}
	data, err := json.Marshal(ent)
	if err != nil {
		return row{}, fmt.Errorf("sqlite: encode %s: %w", e.k, err)
	}
	k := ent.Keys()
	r := row{departement: k.Departement, commune: k.Commune, status: k.Status, parent: k.Parent,
		owner: k.Owner, public: k.Public, rome: k.ROME, data: data}
	if k.Ref != "" {
		r.ref = k.Ref
	}
	return r, nil
}

func (e *entities) decode(id, version, created, updated int64, data []byte) (atigip.Entity, error) {
	ent := atigip.New(e.k)
	if err := json.Unmarshal(data, ent); err != nil {
		return nil, fmt.Errorf("sqlite: decode %s %d: %w", e.k, id, err)
	}
	// The columns are authoritative over the copy inside the JSON.
	*ent.GetMeta() = atigip.Meta{ID: id, Version: version, CreatedAt: fromMicros(created), UpdatedAt: fromMicros(updated)}
	return ent, nil
}

// Get implements atigip.Entities.
func (e *entities) Get(ctx context.Context, id int64) (atigip.Entity, error) {
	if e.sql == nil {
		return nil, unknownKind(e.k)
	}
	var version, created, updated int64
	var data []byte
	err := e.reader().QueryRowContext(ctx, e.sql.get, id).Scan(&id, &version, &created, &updated, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(e.k, id)
	}
	if err != nil {
		return nil, dbErr("get "+e.sql.table, err)
	}
	return e.decode(id, version, created, updated, data)
}

// Create implements atigip.Entities.
func (e *entities) Create(ctx context.Context, ent atigip.Entity) error {
	return e.CreateMany(ctx, []atigip.Entity{ent})
}

// CreateMany implements atigip.Entities: everything is validated and
// encoded first, then inserted through prepared statements in one
// transaction.
func (e *entities) CreateMany(ctx context.Context, es []atigip.Entity) error {
	if e.sql == nil {
		return unknownKind(e.k)
	}
	if len(es) == 0 {
		return nil
	}
	rows := make([]row, len(es))
	for i, ent := range es {
		r, err := e.rowOf(ent)
		if err != nil {
			if len(es) > 1 {
				return batchErr(i, err)
			}
			return err
		}
		rows[i] = r
	}
	at := now()
	us := at.UnixMicro()
	newIDs := make([]int64, len(es))
	err := e.write(ctx, func(t *txn) error {
		ins, err := t.q.PrepareContext(ctx, e.sql.insert)
		if err != nil {
			return dbErr("prepare insert "+e.sql.table, err)
		}
		defer ins.Close()
		chg, err := t.q.PrepareContext(ctx, insertChange)
		if err != nil {
			return dbErr("prepare insert change", err)
		}
		defer chg.Close()
		var rome *sql.Stmt
		for i, r := range rows {
			res, err := ins.ExecContext(ctx, r.ref, r.departement, r.commune, r.status, r.parent, r.owner, r.public, us, us, r.data)
			if err != nil {
				err = dbErr("insert "+e.sql.table, err)
				if len(es) > 1 && atigip.ErrorCode(err) != atigip.EINTERNAL {
					err = batchErr(i, err)
				}
				return err
			}
			id, err := res.LastInsertId()
			if err != nil {
				return dbErr("insert "+e.sql.table, err)
			}
			newIDs[i] = id
			if len(r.rome) > 0 {
				if rome == nil {
					if rome, err = t.q.PrepareContext(ctx, insertROME); err != nil {
						return dbErr("prepare insert rome", err)
					}
					defer rome.Close()
				}
				for _, c := range r.rome {
					if _, err := rome.ExecContext(ctx, string(e.k), id, c); err != nil {
						return dbErr("insert rome", err)
					}
				}
			}
			if _, err := chg.ExecContext(ctx, string(e.k), id, string(atigip.OpCreate), 1, us); err != nil {
				return dbErr("insert change", err)
			}
		}
		t.changed = true
		return nil
	})
	if err != nil {
		return err
	}
	for i, ent := range es {
		*ent.GetMeta() = atigip.Meta{ID: newIDs[i], Version: 1, CreatedAt: at, UpdatedAt: at}
	}
	return nil
}

// batchErr says which item of a batch failed, keeping the code and fields.
func batchErr(i int, err error) error {
	var ae *atigip.Error
	if !errors.As(err, &ae) {
		return err
	}
	return &atigip.Error{Code: ae.Code, Message: fmt.Sprintf("Élément n° %d du lot : %s", i+1, ae.Message),
		Fields: ae.Fields, Err: ae.Err}
}

// Update implements atigip.Entities.
func (e *entities) Update(ctx context.Context, ent atigip.Entity) error {
	if e.sql == nil {
		return unknownKind(e.k)
	}
	r, err := e.rowOf(ent)
	if err != nil {
		return err
	}
	m := ent.GetMeta()
	id, version := m.ID, m.Version
	at := now()
	var created int64
	err = e.write(ctx, func(t *txn) error {
		err := t.q.QueryRowContext(ctx, e.sql.update, r.ref, r.departement, r.commune, r.status, r.parent, r.owner, r.public,
			at.UnixMicro(), r.data, id, version).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return e.missing(ctx, t, id)
		}
		if err != nil {
			return dbErr("update "+e.sql.table, err)
		}
		if _, err := t.q.ExecContext(ctx, deleteROME, string(e.k), id); err != nil {
			return dbErr("update rome", err)
		}
		for _, c := range r.rome {
			if _, err := t.q.ExecContext(ctx, insertROME, string(e.k), id, c); err != nil {
				return dbErr("update rome", err)
			}
		}
		if _, err := t.q.ExecContext(ctx, insertChange, string(e.k), id, string(atigip.OpUpdate), version+1, at.UnixMicro()); err != nil {
			return dbErr("insert change", err)
		}
		t.changed = true
		return nil
	})
	if err != nil {
		return err
	}
	m.Version, m.CreatedAt, m.UpdatedAt = version+1, fromMicros(created), at
	return nil
}

// missing tells why no row matched id at a version: gone, or stale.
func (e *entities) missing(ctx context.Context, t *txn, id int64) error {
	var v int64
	err := t.q.QueryRowContext(ctx, e.sql.exists, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(e.k, id)
	}
	if err != nil {
		return dbErr("read "+e.sql.table, err)
	}
	return stale(e.k, id)
}

// Delete implements atigip.Entities.
func (e *entities) Delete(ctx context.Context, id, version int64) error {
	return e.write(ctx, func(t *txn) error {
		res, err := t.q.ExecContext(ctx, e.sql.delete, id, version)
		if err != nil {
			return dbErr("delete "+e.sql.table, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return dbErr("delete "+e.sql.table, err)
		} else if n == 0 {
			return e.missing(ctx, t, id)
		}
		if _, err := t.q.ExecContext(ctx, deleteROME, string(e.k), id); err != nil {
			return dbErr("delete rome", err)
		}
		if _, err := t.q.ExecContext(ctx, insertChange, string(e.k), id, string(atigip.OpDelete), version, now().UnixMicro()); err != nil {
			return dbErr("insert change", err)
		}
		t.changed = true
		return nil
	})
}

// where builds the WHERE clause of f, without pagination.
func (e *entities) where(f atigip.ListFilter) (string, []any, error) {
	if err := atigip.CheckText(f); err != nil {
		return "", nil, err // as PostgreSQL: no NUL in a filter
	}
	var conds []string
	var args []any
	add := func(c string, a ...any) { conds, args = append(conds, c), append(args, a...) }
	if f.Departement != "" {
		add("departement = ?", f.Departement)
	}
	if f.Commune != "" {
		add("commune = ?", f.Commune)
	}
	if len(f.Status) == 1 {
		add("status = ?", f.Status[0])
	} else if len(f.Status) > 1 {
		add("status IN (SELECT value FROM json_each(?))", jsonArray(f.Status))
	}
	if f.Parent != 0 {
		add("parent = ?", f.Parent)
	}
	if f.Owner != 0 {
		add("owner = ?", f.Owner)
	}
	if f.ROME != "" {
		lo := strings.ToUpper(strings.TrimSpace(f.ROME))
		if lo == "" || !validROMEPrefix(lo) {
			return "", nil, atigip.Errorf(atigip.EINVALID, "Filtre ROME invalide : %q (une lettre A à N, suivie éventuellement de chiffres).", f.ROME)
		}
		// Every code starting with lo sorts in [lo, hi): an index range.
		hi := lo[:len(lo)-1] + string(lo[len(lo)-1]+1)
		if f.Departement != "" || f.Commune != "" || f.Parent != 0 || f.Owner != 0 || f.Ref != "" || len(f.IDs) > 0 {
			// Another index narrows the rows first: check each one's codes
			// by primary key, rather than gather every id of a domain
			// that may hold a third of the table.
			add("EXISTS (SELECT 1 FROM rome WHERE rome.kind = ? AND rome.id = "+e.sql.table+".id AND rome.code >= ? AND rome.code < ?)",
				string(e.k), lo, hi)
		} else {
			add("id IN (SELECT id FROM rome WHERE kind = ? AND code >= ? AND code < ?)", string(e.k), lo, hi)
		}
	}
	if f.PublicOnly {
		add("public = 1")
	}
	if f.Ref != "" {
		add("ref = ?", f.Ref)
	}
	if len(f.IDs) > 0 {
		add("id IN (SELECT value FROM json_each(?))", jsonArray(f.IDs))
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

func validROMEPrefix(s string) bool {
	if len(s) > 5 || s[0] < 'A' || s[0] > 'N' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func jsonArray[T any](v []T) string {
	b, _ := json.Marshal(v) // strings and int64s always encode
	return string(b)
}

// pageSQL adds keyset and page clauses to a WHERE clause.
func (e *entities) pageSQL(where string, args []any, f atigip.ListFilter, limit int) (string, []any) {
	q := "SELECT " + e.sql.selectCols + " FROM " + e.sql.table + where
	if f.AfterID > 0 {
		if where == "" {
			q += " WHERE id > ?"
		} else {
			q += " AND id > ?"
		}
		args = append(slices.Clip(args), f.AfterID)
	}
	q += " ORDER BY id LIMIT ? OFFSET ?"
	return q, append(args, limit, max(0, f.Offset))
}

// List implements atigip.Entities. The count and the page are read in one
// transaction so that they agree.
func (e *entities) List(ctx context.Context, f atigip.ListFilter) ([]atigip.Entity, int, error) {
	if e.sql == nil {
		return nil, 0, unknownKind(e.k)
	}
	where, args, err := e.where(f)
	if err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	var out []atigip.Entity
	var total int
	read := func(q querier) error {
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+e.sql.table+where, args...).Scan(&total); err != nil {
			return dbErr("count "+e.sql.table, err)
		}
		if total == 0 {
			return nil
		}
		pq, pargs := e.pageSQL(where, args, f, limit)
		out = make([]atigip.Entity, 0, min(limit, total))
		return e.scanRows(ctx, q, pq, pargs, func(ent atigip.Entity) error {
			out = append(out, ent)
			return nil
		})
	}
	if e.tx != nil {
		err = read(e.tx.q)
	} else {
		err = e.readTx(ctx, read)
	}
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// readTx runs fn in a read transaction of the read pool: one snapshot.
func (e *entities) readTx(ctx context.Context, fn func(querier) error) error {
	tx, err := e.db.r.BeginTx(ctx, nil)
	if err != nil {
		return dbErr("begin read", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	return fn(tx)
}

// Scan implements atigip.Entities, streaming rows as they are read.
func (e *entities) Scan(ctx context.Context, f atigip.ListFilter, fn func(atigip.Entity) error) error {
	if e.sql == nil {
		return unknownKind(e.k)
	}
	where, args, err := e.where(f)
	if err != nil {
		return err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	q, args := e.pageSQL(where, args, f, limit)
	return e.scanRows(ctx, e.reader(), q, args, fn)
}

func (e *entities) scanRows(ctx context.Context, q querier, query string, args []any, fn func(atigip.Entity) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return dbErr("list "+e.sql.table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, version, created, updated int64
		var data []byte
		if err := rows.Scan(&id, &version, &created, &updated, &data); err != nil {
			return dbErr("list "+e.sql.table, err)
		}
		ent, err := e.decode(id, version, created, updated, data)
		if err != nil {
			return err
		}
		if err := fn(ent); err != nil {
			return err
		}
	}
	return dbErr("list "+e.sql.table, rows.Err())
}
