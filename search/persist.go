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
// when row or newRow change.
const tableFormat = "1/" + MappingVersion

// savedTable is the filter table as SaveTable writes it beside the index:
// reopening an index otherwise rebuilds the table from a scan of the
// store, seconds for the national set.
type savedTable struct {
	Format string
	Mark   atigip.FeedMark
	Names  []string
	Rows   []savedRow // in the table's order
}

type savedRow struct {
	ID, Departement, Region, Status              string
	Date                                         int64
	Type                                         Type
	Public                                       bool
	Communes, ROME, Domains                      []string
	Minors, Weekends, Wheelchair, Available, Loc bool
	Lon, Lat                                     float64
	Facets                                       []int
	// Hit without its pointers, which gob flattens: a pointer to 0 would
	// come back nil.
	Hit                     Hit
	HitPlacesLeft           int
	HasPlacesLeft, HasPoint bool
	HitPoint                atigip.Point
}

func newSavedRow(r *row) savedRow {
	s := savedRow{ID: r.id, Departement: r.departement, Region: r.region, Status: r.status,
		Date: r.date, Type: r.typ, Public: r.public, Communes: r.communes, ROME: r.rome, Domains: r.domains,
		Minors: r.minors, Weekends: r.weekends, Wheelchair: r.wheelchair, Available: r.available,
		Loc: r.located, Lon: r.lon, Lat: r.lat, Facets: r.facets, Hit: r.hit}
	s.Hit.PlacesLeft, s.Hit.Location = nil, nil
	if p := r.hit.PlacesLeft; p != nil {
		s.HasPlacesLeft, s.HitPlacesLeft = true, *p
	}
	if p := r.hit.Location; p != nil {
		s.HasPoint, s.HitPoint = true, *p
	}
	return s
}

func (s *savedRow) row() *row {
	r := &row{id: s.ID, departement: s.Departement, region: s.Region, status: s.Status, date: s.Date,
		typ: s.Type, public: s.Public, communes: s.Communes, rome: s.ROME, domains: s.Domains,
		minors: s.Minors, weekends: s.Weekends, wheelchair: s.Wheelchair, available: s.Available,
		located: s.Loc, lon: s.Lon, lat: s.Lat, facets: s.Facets, hit: s.Hit}
	if s.HasPlacesLeft {
		n := s.HitPlacesLeft
		r.hit.PlacesLeft = &n
	}
	if s.HasPoint {
		p := s.HitPoint
		r.hit.Location = &p
	}
	return r
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
	rows, names := slices.Clone(t.rows), slices.Clone(t.names)
	t.mu.RUnlock()
	ix.mu.Unlock()
	if !ready || seq < 0 {
		return nil
	}
	s := savedTable{Format: tableFormat, Names: names, Rows: make([]savedRow, len(rows))}
	for i, r := range rows {
		s.Rows[i] = newSavedRow(r)
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
	t := newFilterTable()
	t.names = s.Names
	for i, n := range s.Names {
		t.terms[n] = i
	}
	t.rows = make([]*row, len(s.Rows))
	for i := range s.Rows {
		r := s.Rows[i].row()
		t.rows[i] = r
		t.byID[r.id] = r
	}
	t.ready = true
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
