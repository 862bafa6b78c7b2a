package tiles

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/statefile"
)

// stateFormat versions the saved state: bump it whenever the records
// (orgRec, postRec) or what newPostRec derives from a post change, so
// that a state saved by an older build is rebuilt rather than trusted.
const stateFormat = 1

// savedState is the engine's state as written to Options.StatePath: the
// compact records, not the drawing (drawing the national set takes half
// a second; reading it from the store, several).
type savedState struct {
	Format  int
	Mark    atigip.FeedMark
	Orgs    []savedOrg
	Posts   []savedPost
	Prisons []*atigip.Prison
	Floors  []*atigip.FloorSpace
}

type savedOrg struct {
	ID                                                   int64
	Active                                               bool
	Name, Kind                                           string
	ContactName, ContactRole, ContactEmail, ContactPhone string
}

type savedPost struct {
	ID, OrgID                                                      int64
	X, Y                                                           float64
	QK                                                             uint64
	Loc                                                            atigip.Point
	Title, Tasks, ROME, City, Commune, Departement, Schedule, Addr string
	Status                                                         atigip.PostStatus
	Visibility                                                     atigip.Visibility
	HoursPerWeek                                                   float64
	Places, PlacesLeft                                             int32
	Domains                                                        uint16
	Minors, Weekends, Wheelchair, Transport, Medical               bool
}

// SaveState writes the engine's state and the feed position it stands at
// to Options.StatePath (a no-op without one), atomically: a restart then
// reads it instead of the whole store and replays the feed from there.
// Requests and Apply run meanwhile; the state is copied under the lock
// (records are immutable) and encoded outside it.
func (e *Engine) SaveState(ctx context.Context) error {
	path := e.opts.StatePath
	if path == "" || e.store == nil {
		return nil
	}
	e.mu.Lock()
	seq, st := e.seq, e.state
	s := savedState{Format: stateFormat,
		Orgs:    make([]savedOrg, 0, len(st.orgs)),
		Posts:   make([]savedPost, 0, len(st.posts)),
		Prisons: make([]*atigip.Prison, 0, len(st.prisons)),
		Floors:  make([]*atigip.FloorSpace, 0, len(st.floors))}
	for id, o := range st.orgs {
		s.Orgs = append(s.Orgs, savedOrg{ID: id, Active: o.active, Name: o.name, Kind: o.kind,
			ContactName: o.contactName, ContactRole: o.contactRole, ContactEmail: o.contactEmail, ContactPhone: o.contactPhone})
	}
	for _, r := range st.posts {
		s.Posts = append(s.Posts, savedPost{ID: r.id, OrgID: r.orgID, X: r.x, Y: r.y, QK: r.qk, Loc: r.loc,
			Title: r.title, Tasks: r.tasks, ROME: r.rome, City: r.city, Commune: r.commune, Departement: r.departement,
			Schedule: r.schedule, Addr: r.address, Status: r.status, Visibility: r.visibility,
			HoursPerWeek: r.hoursPerWeek, Places: r.places, PlacesLeft: r.placesLeft, Domains: r.domains,
			Minors: r.minors, Weekends: r.weekends, Wheelchair: r.wheelchair, Transport: r.transport, Medical: r.medical})
	}
	for _, p := range st.prisons {
		s.Prisons = append(s.Prisons, p)
	}
	for _, f := range st.floors {
		s.Floors = append(s.Floors, f)
	}
	e.mu.Unlock()

	mark, err := atigip.MarkFeed(ctx, e.store, seq)
	if err != nil {
		return fmt.Errorf("tiles: save state: %w", err)
	}
	s.Mark = mark
	if err := statefile.Save(path, &s); err != nil {
		return fmt.Errorf("tiles: save state: %w", err)
	}
	return nil
}

// resume reads the state saved at Options.StatePath, if the store still
// holds the feed position it was saved at; ok is false otherwise (no
// file, another format, another store, feed pruned past it), and the
// caller loads the store.
func resume(ctx context.Context, store atigip.Store, o Options) (st *state, seq int64, ok bool) {
	path, log := o.StatePath, o.Logger
	if path == "" {
		return nil, 0, false
	}
	var s savedState
	if err := statefile.Load(path, &s); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			log.Warn("tiles: saved state unreadable, loading the store", "path", path, "err", err)
		}
		return nil, 0, false
	}
	if s.Format != stateFormat {
		log.Info("tiles: saved state of another format, loading the store", "path", path, "format", s.Format)
		return nil, 0, false
	}
	holds, err := s.Mark.Holds(ctx, store)
	if err != nil || !holds {
		log.Info("tiles: saved state behind the change feed or from another store, loading the store",
			"path", path, "seq", s.Mark.Seq, "err", err)
		return nil, 0, false
	}
	return s.state(), s.Mark.Seq, true
}

// state rebuilds the records, sharing equal strings again.
func (s *savedState) state() *state {
	st, in := newState(len(s.Orgs), len(s.Posts)), interner{}
	for _, o := range s.Orgs {
		st.orgs[o.ID] = &orgRec{active: o.Active, name: in.get(o.Name), kind: in.get(o.Kind),
			contactName: in.get(o.ContactName), contactRole: in.get(o.ContactRole),
			contactEmail: in.get(o.ContactEmail), contactPhone: in.get(o.ContactPhone)}
	}
	for _, p := range s.Posts {
		r := &postRec{id: p.ID, orgID: p.OrgID, x: p.X, y: p.Y, qk: p.QK, loc: p.Loc,
			title: in.get(p.Title), tasks: in.get(p.Tasks), rome: in.get(p.ROME), city: in.get(p.City),
			commune: in.get(p.Commune), departement: in.get(p.Departement), schedule: in.get(p.Schedule),
			address: in.get(p.Addr), status: atigip.PostStatus(in.get(string(p.Status))),
			visibility: atigip.Visibility(in.get(string(p.Visibility))), hoursPerWeek: p.HoursPerWeek,
			places: p.Places, placesLeft: p.PlacesLeft, domains: p.Domains, drawable: true,
			minors: p.Minors, weekends: p.Weekends, wheelchair: p.Wheelchair, transport: p.Transport, medical: p.Medical}
		r.bind(st.orgs[r.orgID])
		st.posts[r.id] = r
	}
	st.setPlaces(s.Prisons, s.Floors)
	return st
}
