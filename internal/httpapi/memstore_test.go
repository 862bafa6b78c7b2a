package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/store/storetest"
)

// memStore is a minimal in-memory atigip.Store for the unit tests of this
// package (the end-to-end tests use the SQLite store). Entities are kept as
// JSON so that callers never alias stored values.
type memStore struct {
	mu      sync.Mutex
	next    int64
	rows    map[atigip.Kind]map[int64][]byte
	changes []atigip.Change
	audits  []atigip.AuditEntry
	cursors map[string]string
	pingErr error
	writes  int
}

func newMemStore() *memStore {
	return &memStore{rows: map[atigip.Kind]map[int64][]byte{}, cursors: map[string]string{}}
}

type memEntities struct {
	s *memStore
	k atigip.Kind
}

func (s *memStore) Entities(k atigip.Kind) atigip.Entities { return memEntities{s, k} }

func (m memEntities) decode(id int64, b []byte) atigip.Entity {
	e := atigip.New(m.k)
	if err := json.Unmarshal(b, e); err != nil {
		panic(err)
	}
	return e
}

func (m memEntities) Get(_ context.Context, id int64) (atigip.Entity, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	b, ok := m.s.rows[m.k][id]
	if !ok {
		return nil, atigip.Errorf(atigip.ENOTFOUND, "introuvable")
	}
	return m.decode(id, b), nil
}

func (m memEntities) Create(_ context.Context, e atigip.Entity) error {
	if err := e.Validate(); err != nil {
		return err
	}
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	m.s.next++
	now := time.Now().UTC().Truncate(time.Second)
	*e.GetMeta() = atigip.Meta{ID: m.s.next, Version: 1, CreatedAt: now, UpdatedAt: now}
	m.put(e, atigip.OpCreate)
	return nil
}

func (m memEntities) put(e atigip.Entity, op atigip.Op) {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	if m.s.rows[m.k] == nil {
		m.s.rows[m.k] = map[int64][]byte{}
	}
	meta := e.GetMeta()
	m.s.rows[m.k][meta.ID] = b
	m.s.writes++
	m.s.changes = append(m.s.changes, atigip.Change{Seq: int64(len(m.s.changes) + 1), Kind: m.k, ID: meta.ID, Op: op, Version: meta.Version, At: meta.UpdatedAt})
}

func (m memEntities) CreateMany(ctx context.Context, es []atigip.Entity) error {
	for _, e := range es {
		if err := m.Create(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func (m memEntities) Update(_ context.Context, e atigip.Entity) error {
	if err := e.Validate(); err != nil {
		return err
	}
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	meta := e.GetMeta()
	b, ok := m.s.rows[m.k][meta.ID]
	if !ok {
		return atigip.Errorf(atigip.ENOTFOUND, "introuvable")
	}
	old := m.decode(meta.ID, b).GetMeta()
	if old.Version != meta.Version {
		return atigip.Errorf(atigip.ECONFLICT, "version périmée")
	}
	meta.Version++
	meta.CreatedAt = old.CreatedAt
	meta.UpdatedAt = time.Now().UTC()
	m.put(e, atigip.OpUpdate)
	return nil
}

func (m memEntities) Delete(_ context.Context, id, version int64) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	b, ok := m.s.rows[m.k][id]
	if !ok {
		return atigip.Errorf(atigip.ENOTFOUND, "introuvable")
	}
	if m.decode(id, b).GetMeta().Version != version {
		return atigip.Errorf(atigip.ECONFLICT, "version périmée")
	}
	delete(m.s.rows[m.k], id)
	m.s.writes++
	return nil
}

func (m memEntities) matches(f atigip.ListFilter) []atigip.Entity {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	var ids []int64
	for id := range m.s.rows[m.k] {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var out []atigip.Entity
	for _, id := range ids {
		e := m.decode(id, m.s.rows[m.k][id])
		if id > f.AfterID && storetest.Matches(id, e.Keys(), f) {
			out = append(out, e)
		}
	}
	return out
}

func (m memEntities) List(_ context.Context, f atigip.ListFilter) ([]atigip.Entity, int, error) {
	all := m.matches(f)
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	lo := min(f.Offset, len(all))
	hi := min(lo+limit, len(all))
	return all[lo:hi], len(all), nil
}

func (m memEntities) Scan(_ context.Context, f atigip.ListFilter, fn func(atigip.Entity) error) error {
	for _, e := range m.matches(f) {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) Cursor(_ context.Context, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[name], nil
}

func (s *memStore) SetCursor(_ context.Context, name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursors[name] = value
	return nil
}

func (s *memStore) Audit(_ context.Context, a atigip.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.ID = int64(len(s.audits) + 1)
	s.audits = append(s.audits, a)
	return nil
}

// InTx is not transactional: the tests that need atomicity use SQLite.
func (s *memStore) InTx(_ context.Context, fn func(atigip.Tx) error) error { return fn(s) }

func (s *memStore) Changes(_ context.Context, after int64, limit int) ([]atigip.Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []atigip.Change
	for _, c := range s.changes {
		if c.Seq > after && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *memStore) LastSeq(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.changes)), nil
}

func (s *memStore) Subscribe() (<-chan struct{}, func()) { return make(chan struct{}), func() {} }

func (s *memStore) Audits(_ context.Context, f atigip.AuditFilter) ([]atigip.AuditEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []atigip.AuditEntry
	for i := len(s.audits) - 1; i >= 0; i-- {
		a := s.audits[i]
		if (f.Kind == "" || a.Kind == f.Kind) && (f.EntityID == 0 || a.EntityID == f.EntityID) && (f.Subject == "" || a.Subject == f.Subject) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *memStore) Migrate(context.Context) error { return nil }
func (s *memStore) Ping(context.Context) error    { return s.pingErr }
func (s *memStore) Close() error                  { return nil }

func (s *memStore) String() string { return fmt.Sprintf("memStore(%d writes)", s.writes) }
