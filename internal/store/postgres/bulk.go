package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atigip/atigip360/internal/atigip"
)

// analyzeAfter is the batch size from which CreateMany refreshes the
// planner statistics.
const analyzeAfter = 5000

// CreateMany implements atigip.Entities for seeding and imports: every
// entity is validated first, then ids and seqs are drawn in one query and
// rows, ROME codes and changes go in by COPY, in one transaction.
func (e *entities) CreateMany(ctx context.Context, es []atigip.Entity) error {
	t, err := e.table()
	if err != nil {
		return err
	}
	if len(es) == 0 {
		return nil
	}
	refs := make([]string, 0)
	seen := make(map[string]bool)
	for i, ent := range es {
		if err := e.check(ent); err != nil {
			return fmt.Errorf("postgres: create many %s: item %d: %w", e.kind, i, err)
		}
		if ref := ent.Keys().Ref; ref != "" {
			if seen[ref] {
				return fmt.Errorf("postgres: create many %s: item %d: %w", e.kind, i, errDuplicateRef(e.kind))
			}
			seen[ref] = true
			refs = append(refs, ref)
		}
	}
	return e.inTx(ctx, func(e *entities) error {
		if err := e.tx.lock(ctx, true); err != nil {
			return err
		}
		if len(refs) > 0 {
			// Checked here rather than left to the unique index so that the
			// caller's transaction is not aborted by the error.
			var taken bool
			if err := e.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+t+` WHERE ref = ANY($1))`, refs).Scan(&taken); err != nil {
				return fmt.Errorf("postgres: create many %s: %w", e.kind, mapError(err))
			}
			if taken {
				return fmt.Errorf("postgres: create many %s: %w", e.kind, errDuplicateRef(e.kind))
			}
		}
		// Ids from the table's own sequence keep later single inserts clear
		// of them; seqs are drawn under the change lock, so in order. Every
		// draw on both sequences happens under that lock (single writes
		// take it first too), so a block reserved by setval is ours alone.
		n := int64(len(es))
		var lastID, lastSeq int64
		err := e.q.QueryRow(ctx, `SELECT setval(s, nextval(s) + $2 - 1), setval('changes_seq', nextval('changes_seq') + $2 - 1)
			FROM (SELECT pg_get_serial_sequence($1, 'id')::regclass AS s) q`, t, n).Scan(&lastID, &lastSeq)
		if err != nil {
			return fmt.Errorf("postgres: create many %s: reserve ids: %w", e.kind, mapError(err))
		}
		ids := make([]int64, n)
		seqs := make([]int64, n)
		for i := range n {
			ids[i], seqs[i] = lastID-n+1+i, lastSeq-n+1+i
		}

		ts := now()
		olds := make([]atigip.Meta, len(es))
		for i, ent := range es {
			m := ent.GetMeta()
			olds[i] = *m
			*m = atigip.Meta{ID: ids[i], Version: 1, CreatedAt: ts, UpdatedAt: ts}
		}
		if err := e.copyAll(ctx, t, es, seqs, ts); err != nil {
			for i, ent := range es {
				*ent.GetMeta() = olds[i]
			}
			return fmt.Errorf("postgres: create many %s: %w", e.kind, err)
		}
		if len(es) >= analyzeAfter {
			// A seed would otherwise be queried with the statistics of an
			// empty table until autovacuum comes by, and get poor plans.
			// ANALYZE here samples this transaction's rows too.
			if _, err := e.q.Exec(ctx, `ANALYZE `+t+`, rome`); err != nil {
				return fmt.Errorf("postgres: create many %s: analyze: %w", e.kind, mapError(err))
			}
		}
		return nil
	})
}

// copyAll copies the rows, their ROME codes and their changes.
func (e *entities) copyAll(ctx context.Context, t string, es []atigip.Entity, seqs []int64, ts time.Time) error {
	src := &entitySource{es: es, ts: ts, i: -1}
	if _, err := e.q.CopyFrom(ctx, pgx.Identifier{string(e.kind)},
		[]string{"id", "version", "ref", "departement", "commune", "status", "parent", "public", "created_at", "updated_at", "data", "owner"},
		src); err != nil {
		return fmt.Errorf("copy rows: %w", mapError(err))
	}
	var rome [][]any
	for _, ent := range es {
		id := ent.GetMeta().ID
		for _, c := range romeCodes(ent.Keys()) {
			rome = append(rome, []any{string(e.kind), id, c})
		}
	}
	if len(rome) > 0 {
		if _, err := e.q.CopyFrom(ctx, pgx.Identifier{"rome"}, []string{"kind", "id", "code"},
			pgx.CopyFromRows(rome)); err != nil {
			return fmt.Errorf("copy rome codes: %w", mapError(err))
		}
	}
	kind := string(e.kind)
	if _, err := e.q.CopyFrom(ctx, pgx.Identifier{"changes"},
		[]string{"seq", "kind", "entity_id", "op", "version", "at"},
		pgx.CopyFromSlice(len(es), func(i int) ([]any, error) {
			return []any{seqs[i], kind, es[i].GetMeta().ID, string(atigip.OpCreate), int64(1), ts}, nil
		})); err != nil {
		return fmt.Errorf("copy changes: %w", mapError(err))
	}
	return nil
}

// entitySource encodes each row as COPY asks for it, so a large batch is
// never held twice in memory.
type entitySource struct {
	es  []atigip.Entity
	ts  time.Time
	i   int
	row []any
	err error
}

func (s *entitySource) Next() bool {
	s.i++
	if s.i >= len(s.es) || s.err != nil {
		return false
	}
	ent := s.es[s.i]
	data, err := json.Marshal(ent)
	if err != nil {
		s.err = fmt.Errorf("encode item %d: %w", s.i, err)
		return false
	}
	k := ent.Keys()
	m := ent.GetMeta()
	s.row = append(s.row[:0], m.ID, m.Version, nullable(k.Ref), k.Departement, k.Commune, k.Status,
		k.Parent, k.Public, s.ts, s.ts, data, k.Owner)
	return true
}

func (s *entitySource) Values() ([]any, error) { return s.row, nil }
func (s *entitySource) Err() error             { return s.err }
