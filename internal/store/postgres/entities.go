package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atigip/atigip360/internal/atigip"
)

// entities is atigip.Entities for one kind, inside a transaction (tx set)
// or on the pool, where reads run alone and writes open their own
// transaction.
type entities struct {
	db   *DB
	kind atigip.Kind
	q    querier
	tx   *tx
}

// Page sizes.
const (
	defaultListLimit = 50   // List with Limit 0
	scanPage         = 1000 // rows per round trip in Scan
)

// table returns the quoted table of the kind, or EINVALID for a kind the
// schema does not know (table names never come from user input unchecked).
func (e *entities) table() (string, error) {
	if _, ok := kindLabels[e.kind]; !ok {
		return "", atigip.Errorf(atigip.EINVALID, "Type d'élément inconnu : %q.", e.kind)
	}
	return pgx.Identifier{string(e.kind)}.Sanitize(), nil
}

// inTx reruns op inside a transaction of its own when e is not in one.
func (e *entities) inTx(ctx context.Context, op func(e *entities) error) error {
	if e.tx != nil {
		return op(e)
	}
	return e.db.InTx(ctx, func(t atigip.Tx) error { return op(t.Entities(e.kind).(*entities)) })
}

// check refuses an entity of another kind or an invalid one, before any
// write.
func (e *entities) check(ent atigip.Entity) error {
	if ent == nil {
		return atigip.Errorf(atigip.EINVALID, "%s absent.", label(e.kind))
	}
	if ent.Kind() != e.kind {
		return atigip.Errorf(atigip.EINVALID, "%s attendu, %s reçu.", label(e.kind), label(ent.Kind()))
	}
	// text and jsonb refuse NUL: a 400 naming the field, not a 500, and
	// the same field as SQLite names.
	if err := atigip.CheckText(ent); err != nil {
		return err
	}
	return ent.Validate()
}

const selectColumns = `id, version, created_at, updated_at, data`

// decode builds an entity from a row of selectColumns; the Meta columns
// win over the copy inside data.
func (e *entities) decode(row pgx.Row) (atigip.Entity, error) {
	var m atigip.Meta
	var data []byte
	if err := row.Scan(&m.ID, &m.Version, &m.CreatedAt, &m.UpdatedAt, &data); err != nil {
		return nil, err
	}
	ent := atigip.New(e.kind)
	if err := json.Unmarshal(data, ent); err != nil {
		return nil, fmt.Errorf("decode %s %d: %w", e.kind, m.ID, err)
	}
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	*ent.GetMeta() = m
	return ent, nil
}

// Get implements atigip.Entities.
func (e *entities) Get(ctx context.Context, id int64) (atigip.Entity, error) {
	t, err := e.table()
	if err != nil {
		return nil, err
	}
	ent, err := e.decode(e.q.QueryRow(ctx, `SELECT `+selectColumns+` FROM `+t+` WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNotFound(e.kind)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get %s: %w", e.kind, mapError(err))
	}
	return ent, nil
}

// romeCodes returns the distinct codes of k, in order.
func romeCodes(k atigip.Keys) []string {
	codes := make([]string, 0, len(k.ROME))
	for _, c := range k.ROME {
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	return codes
}

// nullable maps the empty reference to NULL, which UNIQUE lets repeat.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Create implements atigip.Entities: one statement inserts the row, its
// ROME codes and its change.
func (e *entities) Create(ctx context.Context, ent atigip.Entity) error {
	t, err := e.table()
	if err != nil {
		return err
	}
	if err := e.check(ent); err != nil {
		return err
	}
	return e.inTx(ctx, func(e *entities) error {
		if err := e.tx.lock(ctx, true); err != nil {
			return err
		}
		k := ent.Keys()
		m := ent.GetMeta()
		old := *m
		ts := now()
		*m = atigip.Meta{Version: 1, CreatedAt: ts, UpdatedAt: ts}
		data, err := json.Marshal(ent)
		if err != nil {
			*m = old
			return fmt.Errorf("postgres: create %s: encode: %w", e.kind, err)
		}
		var id int64
		err = e.q.QueryRow(ctx, `WITH ins AS (
			INSERT INTO `+t+` (version, ref, departement, commune, status, parent, public, created_at, updated_at, data, owner)
			VALUES (1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $11)
			ON CONFLICT (ref) DO NOTHING
			RETURNING id
		), r AS (
			INSERT INTO rome (kind, id, code) SELECT $1, ins.id, c FROM ins, unnest($10::text[]) AS c
		), ch AS (
			INSERT INTO changes (seq, kind, entity_id, op, version, at)
			SELECT nextval('changes_seq'), $1, ins.id, 'create', 1, $8 FROM ins
		)
		SELECT id FROM ins`,
			string(e.kind), nullable(k.Ref), k.Departement, k.Commune, k.Status, k.Parent, k.Public,
			ts, data, romeCodes(k), k.Owner).Scan(&id)
		if err != nil {
			*m = old
			if errors.Is(err, pgx.ErrNoRows) {
				return errDuplicateRef(e.kind)
			}
			return fmt.Errorf("postgres: create %s: %w", e.kind, mapError(err))
		}
		m.ID = id
		return nil
	})
}

// Update implements atigip.Entities: the row changes only at the version
// the caller read; a reference taken by another row is a conflict too.
func (e *entities) Update(ctx context.Context, ent atigip.Entity) error {
	t, err := e.table()
	if err != nil {
		return err
	}
	if err := e.check(ent); err != nil {
		return err
	}
	m := ent.GetMeta()
	if m.ID <= 0 {
		return errNotFound(e.kind)
	}
	return e.inTx(ctx, func(e *entities) error {
		if err := e.tx.lock(ctx, true); err != nil {
			return err
		}
		k := ent.Keys()
		old := *m
		ts := now()
		m.Version, m.UpdatedAt = old.Version+1, ts
		data, err := json.Marshal(ent)
		if err != nil {
			*m = old
			return fmt.Errorf("postgres: update %s: encode: %w", e.kind, err)
		}
		var created time.Time
		var version int64
		err = e.q.QueryRow(ctx, `WITH up AS (
			UPDATE `+t+` SET version = version + 1, ref = $4, departement = $5, commune = $6,
				status = $7, parent = $8, public = $9, updated_at = $10, data = $11, owner = $13
			WHERE id = $2 AND version = $3
				AND ($4::text IS NULL OR NOT EXISTS (SELECT 1 FROM `+t+` o WHERE o.ref = $4 AND o.id <> $2))
			RETURNING id, version, created_at
		), rd AS (
			DELETE FROM rome WHERE kind = $1 AND id IN (SELECT id FROM up)
		), ri AS (
			INSERT INTO rome (kind, id, code) SELECT $1, up.id, c FROM up, unnest($12::text[]) AS c
		), ch AS (
			INSERT INTO changes (seq, kind, entity_id, op, version, at)
			SELECT nextval('changes_seq'), $1, up.id, 'update', up.version, $10 FROM up
		)
		SELECT version, created_at FROM up`,
			string(e.kind), old.ID, old.Version, nullable(k.Ref), k.Departement, k.Commune, k.Status,
			k.Parent, k.Public, ts, data, romeCodes(k), k.Owner).Scan(&version, &created)
		if err != nil {
			*m = old
			if errors.Is(err, pgx.ErrNoRows) {
				return e.whyNot(ctx, t, old.ID, old.Version, k.Ref != "")
			}
			return fmt.Errorf("postgres: update %s: %w", e.kind, mapError(err))
		}
		m.Version, m.CreatedAt = version, created.UTC()
		return nil
	})
}

// whyNot explains a write that matched no row: the row is gone, its
// version moved on, or (refChanged) its new reference is taken.
func (e *entities) whyNot(ctx context.Context, t string, id, version int64, refChanged bool) error {
	var current int64
	err := e.q.QueryRow(ctx, `SELECT version FROM `+t+` WHERE id = $1`, id).Scan(&current)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return errNotFound(e.kind)
	case err != nil:
		return fmt.Errorf("postgres: %s %d: %w", e.kind, id, mapError(err))
	case current != version || !refChanged:
		return errStale(e.kind)
	}
	return errDuplicateRef(e.kind)
}

// Delete implements atigip.Entities. The change carries the version the
// row had when deleted.
func (e *entities) Delete(ctx context.Context, id, version int64) error {
	t, err := e.table()
	if err != nil {
		return err
	}
	return e.inTx(ctx, func(e *entities) error {
		if err := e.tx.lock(ctx, true); err != nil {
			return err
		}
		var n int
		err := e.q.QueryRow(ctx, `WITH d AS (
			DELETE FROM `+t+` WHERE id = $2 AND version = $3 RETURNING id, version
		), rd AS (
			DELETE FROM rome WHERE kind = $1 AND id IN (SELECT id FROM d)
		), ch AS (
			INSERT INTO changes (seq, kind, entity_id, op, version, at)
			SELECT nextval('changes_seq'), $1, d.id, 'delete', d.version, $4 FROM d
		)
		SELECT count(*) FROM d`, string(e.kind), id, version, now()).Scan(&n)
		if err != nil {
			return fmt.Errorf("postgres: delete %s: %w", e.kind, mapError(err))
		}
		if n == 0 {
			return e.whyNot(ctx, t, id, version, false)
		}
		return nil
	})
}

// where builds the filter of f. withAfter adds the keyset bound, which the
// total of List ignores: the total counts every page.
func (e *entities) where(f atigip.ListFilter, withAfter bool) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Departement != "" {
		add("departement = ?", f.Departement)
	}
	if f.Commune != "" {
		add("commune = ?", f.Commune)
	}
	switch len(f.Status) {
	case 0:
	case 1:
		add("status = ?", f.Status[0])
	default:
		add("status = ANY(?)", f.Status)
	}
	if f.Parent != 0 {
		add("parent = ?", f.Parent)
	}
	if f.Owner != 0 {
		add("owner = ?", f.Owner)
	}
	if code := f.ROME; code != "" {
		args = append(args, string(e.kind))
		kindArg := "$" + strconv.Itoa(len(args))
		if atigip.ValidROME(code) {
			add("id IN (SELECT id FROM rome WHERE kind = "+kindArg+" AND code = ?)", code)
		} else {
			// A domain letter or any prefix; LIKE wildcards are escaped.
			esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(code)
			add("id IN (SELECT id FROM rome WHERE kind = "+kindArg+" AND code LIKE ?)", esc+"%")
		}
	}
	if f.PublicOnly {
		conds = append(conds, "public")
	}
	if f.Ref != "" {
		add("ref = ?", f.Ref)
	}
	if len(f.IDs) > 0 {
		add("id = ANY(?)", f.IDs)
	}
	if withAfter && f.AfterID > 0 {
		add("id > ?", f.AfterID)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// List implements atigip.Entities: the page and the total go in one round
// trip.
func (e *entities) List(ctx context.Context, f atigip.ListFilter) ([]atigip.Entity, int, error) {
	t, err := e.table()
	if err != nil {
		return nil, 0, err
	}
	if err := atigip.CheckText(f); err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	countWhere, countArgs := e.where(f, false)
	pageWhere, pageArgs := e.where(f, true)
	pageArgs = append(pageArgs, limit, max(f.Offset, 0))
	n := len(pageArgs)
	var b pgx.Batch
	b.Queue(`SELECT count(*) FROM `+t+countWhere, countArgs...)
	b.Queue(`SELECT `+selectColumns+` FROM `+t+pageWhere+
		` ORDER BY id LIMIT $`+strconv.Itoa(n-1)+` OFFSET $`+strconv.Itoa(n), pageArgs...)
	br := e.q.SendBatch(ctx, &b)
	defer br.Close()
	var total int
	if err := br.QueryRow().Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("postgres: list %s: count: %w", e.kind, mapError(err))
	}
	rows, err := br.Query()
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: list %s: %w", e.kind, mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (atigip.Entity, error) { return e.decode(r) })
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: list %s: %w", e.kind, mapError(err))
	}
	if err := br.Close(); err != nil {
		return nil, 0, fmt.Errorf("postgres: list %s: %w", e.kind, mapError(err))
	}
	return out, total, nil
}

// Scan implements atigip.Entities. It reads pages of scanPage rows by id
// and calls fn between round trips, so fn may use the same transaction
// (a pgx connection cannot run a query while rows are open).
func (e *entities) Scan(ctx context.Context, f atigip.ListFilter, fn func(atigip.Entity) error) error {
	t, err := e.table()
	if err != nil {
		return err
	}
	if err := atigip.CheckText(f); err != nil {
		return err
	}
	left := f.Limit // 0: no limit
	offset := max(f.Offset, 0)
	for {
		size := scanPage
		if f.Limit > 0 {
			size = min(size, left)
		}
		where, args := e.where(f, true)
		args = append(args, size, offset)
		n := len(args)
		rows, err := e.q.Query(ctx, `SELECT `+selectColumns+` FROM `+t+where+
			` ORDER BY id LIMIT $`+strconv.Itoa(n-1)+` OFFSET $`+strconv.Itoa(n), args...)
		if err != nil {
			return fmt.Errorf("postgres: scan %s: %w", e.kind, mapError(err))
		}
		page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (atigip.Entity, error) { return e.decode(r) })
		if err != nil {
			return fmt.Errorf("postgres: scan %s: %w", e.kind, mapError(err))
		}
		for _, ent := range page {
			if err := fn(ent); err != nil {
				return err
			}
		}
		if len(page) < size {
			return nil
		}
		if f.Limit > 0 {
			if left -= len(page); left <= 0 {
				return nil
			}
		}
		f.AfterID, offset = page[len(page)-1].GetMeta().ID, 0
	}
}
