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
const tableFormat = "5/" + MappingVersion

// savedTable is the filter table as SaveTable writes it beside the index:
// reopening an index otherwise rebuilds the table from a scan of the
// store, seconds for the national set. It is the table's columns, slot
// for slot, so that loading it is copying them back.
type savedTable struct {
	Format string
	Mark   atigip.FeedMark

	Dates         []int64
	Lon, Lat      []float64
	Terms         [][]int32 // sparse only
	Rows          []savedRow
	Strs          []string // the rows' strings by number ("" where free)
	Live, Located []uint64
	Free, Order   []int32
	Names         []string
	Facets        []int32
	Dense         [][]uint64 // by term; empty for a sparse term
	Sparse        [][]int32  // by term; empty for a dense term
}

// savedRow is a row with exported fields, for gob.
type savedRow struct {
	ID, Updated                                                   int64
	Lon, Lat                                                      float64
	Type, Subtype, Title, Parent, City, Departement, Status, ROME strRef
	PlacesLeft                                                    int32
	Located, Places                                               bool
}

func (r *row) saved() savedRow {
	return savedRow{ID: r.id, Updated: r.updated, Lon: r.lon, Lat: r.lat, Type: r.typ, Subtype: r.subtype,
		Title: r.title, Parent: r.parent, City: r.city, Departement: r.departement, Status: r.status, ROME: r.rome,
		PlacesLeft: r.placesLeft, Located: r.located, Places: r.places}
}

func (s *savedRow) row() row {
	return row{id: s.ID, updated: s.Updated, lon: s.Lon, lat: s.Lat, typ: s.Type, subtype: s.Subtype,
		title: s.Title, parent: s.Parent, city: s.City, departement: s.Departement, status: s.Status, rome: s.ROME,
		placesLeft: s.PlacesLeft, located: s.Located, places: s.Places}
}

// save copies the columns of t; the caller holds t.mu for reading.
func (t *filterTable) save() savedTable {
	s := savedTable{Format: tableFormat,
		Dates: slices.Clone(t.dates), Lon: slices.Clone(t.lon), Lat: slices.Clone(t.lat),
		Terms: make([][]int32, len(t.terms)), Rows: make([]savedRow, len(t.rows)), Strs: slices.Clone(t.pool.strs),
		Live: slices.Clone(t.live), Located: slices.Clone(t.located), Free: slices.Clone(t.free), Order: slices.Clone(t.order),
		Names: slices.Clone(t.names), Facets: slices.Clone(t.facets),
		Dense: make([][]uint64, len(t.dense)), Sparse: make([][]int32, len(t.sparse))}
	for i, ts := range t.terms {
		s.Terms[i] = slices.Clone(ts)
	}
	for i := range t.rows {
		s.Rows[i] = t.rows[i].saved()
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
	n, words, terms := len(s.Rows), len(s.Live), len(s.Names)
	if len(s.Dates) != n || len(s.Lon) != n || len(s.Lat) != n || len(s.Terms) != n ||
		len(s.Located) != words || len(s.Dense) != terms || len(s.Sparse) != terms || words < (n+63)/64 ||
		len(s.Strs) == 0 || s.Strs[0] != "" {
		return nil, false
	}
	t := newFilterTable()
	t.dates, t.lon, t.lat, t.terms = s.Dates, s.Lon, s.Lat, s.Terms
	t.live, t.located, t.free, t.order, t.names, t.facets = s.Live, s.Located, s.Free, s.Order, s.Names, s.Facets
	if !t.loadRows(s.Rows, s.Strs) {
		return nil, false
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
	perType := map[strRef]int{} // to size each type's map once
	for i := range t.rows {
		if t.live.has(int32(i)) {
			perType[t.rows[i].typ]++
		}
	}
	for i := range t.rows {
		if t.live.has(int32(i)) {
			t.setSlot(&t.rows[i], int32(i), perType[t.rows[i].typ])
		}
	}
	t.ready = true
	return t, true
}

// loadRows installs the saved rows and their strings, counting each
// string's uses again (the live rows'), or reports a row that names no
// string.
func (t *filterTable) loadRows(saved []savedRow, strs []string) bool {
	p := &strPool{strs: strs, refs: make([]int32, len(strs)), of: make(map[string]strRef, len(strs))}
	t.rows, t.pool = make([]row, len(saved)), p
	for i := range saved {
		t.rows[i] = saved[i].row()
		if !t.live.has(int32(i)) {
			t.rows[i] = row{}
			continue
		}
		for _, f := range t.rows[i].refs() {
			if *f < 0 || int(*f) >= len(strs) || (*f != 0 && strs[*f] == "") {
				return false
			}
			p.refs[*f]++
		}
	}
	for n, s := range strs {
		switch {
		case n == 0:
		case p.refs[n] == 0:
			p.strs[n] = ""
			p.free = append(p.free, strRef(n))
		default:
			p.of[s] = strRef(n)
		}
	}
	return true
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
