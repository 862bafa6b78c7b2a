package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/statefile"
)

// tableFormat versions the saved filter table with the mapping: bump it
// when the table's columns or setRow change.
const tableFormat = "2/" + MappingVersion

// savedTable is the filter table as SaveTable writes it beside the index:
// reopening an index otherwise rebuilds the table from a scan of the
// store, seconds for the national set. It is the table's columns, slot
// for slot, so that loading it is copying them back.
type savedTable struct {
	Format string
	Mark   atigip.FeedMark

	IDs           []string
	Dates         []int64
	Lon, Lat      []float64
	Terms         [][]int32
	Hits          []savedHit
	Live, Located []uint64
	Free, Order   []int32
	Names         []string
	Facets        []int32
	Dense         [][]uint64 // by term; empty for a sparse term
	Sparse        [][]int32  // by term; empty for a dense term
}

// savedHit is a Hit without its pointers, which gob flattens: a pointer
// to 0 would come back nil.
type savedHit struct {
	Hit                     Hit
	HitPlacesLeft           int
	HasPlacesLeft, HasPoint bool
	HitPoint                atigip.Point
}

func newSavedHit(h Hit) savedHit {
	s := savedHit{Hit: h}
	s.Hit.PlacesLeft, s.Hit.Location = nil, nil
	if p := h.PlacesLeft; p != nil {
		s.HasPlacesLeft, s.HitPlacesLeft = true, *p
	}
	if p := h.Location; p != nil {
		s.HasPoint, s.HitPoint = true, *p
	}
	return s
}

func (s *savedHit) hit() Hit {
	h := s.Hit
	if s.HasPlacesLeft {
		n := s.HitPlacesLeft
		h.PlacesLeft = &n
	}
	if s.HasPoint {
		p := s.HitPoint
		h.Location = &p
	}
	return h
}

// save copies the columns of t; the caller holds t.mu for reading.
func (t *filterTable) save() savedTable {
	s := savedTable{Format: tableFormat,
		IDs: slices.Clone(t.ids), Dates: slices.Clone(t.dates), Lon: slices.Clone(t.lon), Lat: slices.Clone(t.lat),
		Terms: make([][]int32, len(t.terms)), Hits: make([]savedHit, len(t.hits)),
		Live: slices.Clone(t.live), Located: slices.Clone(t.located), Free: slices.Clone(t.free), Order: slices.Clone(t.order),
		Names: slices.Clone(t.names), Facets: slices.Clone(t.facets),
		Dense: make([][]uint64, len(t.dense)), Sparse: make([][]int32, len(t.sparse))}
	for i, ts := range t.terms {
		s.Terms[i] = slices.Clone(ts)
	}
	for i, h := range t.hits {
		s.Hits[i] = newSavedHit(h)
	}
	for i, b := range t.dense {
		s.Dense[i] = slices.Clone(b)
	}
	for i, p := range t.sparse {
		s.Sparse[i] = slices.Clone(p)
	}
	return s
}

// load makes the table s saved, or reports that s does not hold together
// (a file of another build).
func (s *savedTable) load() (*filterTable, bool) {
	n, words, terms := len(s.IDs), len(s.Live), len(s.Names)
	if len(s.Dates) != n || len(s.Lon) != n || len(s.Lat) != n || len(s.Terms) != n || len(s.Hits) != n ||
		len(s.Located) != words || len(s.Dense) != terms || len(s.Sparse) != terms || words < (n+63)/64 {
		return nil, false
	}
	t := newFilterTable()
	t.ids, t.dates, t.lon, t.lat, t.terms = s.IDs, s.Dates, s.Lon, s.Lat, s.Terms
	t.live, t.located, t.free, t.order, t.names, t.facets = s.Live, s.Located, s.Free, s.Order, s.Names, s.Facets
	t.hits = make([]Hit, n)
	for i := range s.Hits {
		t.hits[i] = s.Hits[i].hit()
	}
	t.dense, t.sparse = make([]bitset, terms), make([][]int32, terms)
	for i, name := range s.Names {
		t.termOf[name] = int32(i)
		// gob gives an empty slice back as nil: which column a term
		// uses is its name's, as in term.
		if name[0] == termCommune[0] || name[0] == termROME[0] {
			t.sparse[i] = append([]int32{}, s.Sparse[i]...)
			continue
		}
		b := bitset(s.Dense[i])
		if len(b) != words {
			if len(b) != 0 {
				return nil, false
			}
			b = make(bitset, words)
		}
		t.dense[i] = b
	}
	for i, id := range t.ids {
		if t.live.has(int32(i)) {
			t.slotOf[id] = int32(i)
		}
	}
	t.ready = true
	return t, true
}

// tablePath is where the filter table is saved: beside the index folder,
// which a rebuild replaces whole.
func (ix *Index) tablePath() string {
	if ix.path == "" {
		return ""
	}
	return ix.path + ".table"
}

// SaveTable writes the filter table and the feed position it stands at
// beside the index (a no-op for an index in memory or a table not loaded
// yet), so that the next CatchUp after a restart reads it instead of
// scanning the store. Searches go on meanwhile; changes wait for the copy.
func (ix *Index) SaveTable(ctx context.Context, store atigip.Store) error {
	path := ix.tablePath()
	if path == "" {
		return nil
	}
	ix.mu.Lock() // Apply holds a read lock while it changes the table
	t, seq := ix.table, ix.seq.Load()
	t.mu.RLock()
	ready := t.ready
	var s savedTable
	if ready {
		s = t.save()
	}
	t.mu.RUnlock()
	ix.mu.Unlock()
	if !ready || seq < 0 {
		return nil
	}
	mark, err := atigip.MarkFeed(ctx, store, seq)
	if err != nil {
		return fmt.Errorf("search: save table: %w", err)
	}
	s.Mark = mark
	if err := statefile.Save(path, &s); err != nil {
		return fmt.Errorf("search: save table: %w", err)
	}
	return nil
}

// resumeTable installs the saved filter table when the store still holds
// the feed position it was saved at, and moves the index back to that
// position if it is behind it: the changes since are then applied again
// to both, which rewrites their documents to the same state (Apply reads
// the entities from the store). It reports whether it did.
func (ix *Index) resumeTable(ctx context.Context, store atigip.Store) bool {
	path := ix.tablePath()
	if path == "" {
		return false
	}
	var s savedTable
	if err := statefile.Load(path, &s); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			ix.logger.Warn("search: saved filter table unreadable, scanning the store", "err", err)
		}
		return false
	}
	if s.Format != tableFormat {
		return false
	}
	if ok, err := s.Mark.Holds(ctx, store); err != nil || !ok {
		ix.logger.Info("search: saved filter table behind the change feed or from another store, scanning the store",
			"seq", s.Mark.Seq, "err", err)
		return false
	}
	t, ok := s.load()
	if !ok {
		ix.logger.Warn("search: saved filter table inconsistent, scanning the store")
		return false
	}
	ix.mu.Lock()
	ix.table = t
	ix.mu.Unlock()
	if s.Mark.Seq < ix.seq.Load() {
		ix.seq.Store(s.Mark.Seq)
	}
	ix.tableResumed = true
	return true
}

// TableResumed reports whether the filter table was read from the file
// SaveTable wrote rather than built from the store.
func (ix *Index) TableResumed() bool { return ix.tableResumed }
