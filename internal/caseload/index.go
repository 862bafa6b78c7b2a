package caseload

import (
	"context"
	"fmt"
	"sync"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/workflow"
)

// Index keeps, in memory, what a caseload reads of every measure (its
// history left out), the incidents per measure and the weekly hours of
// the posts: decoding every measure of a département from the store at
// each page costs tens of milliseconds on the national set, reading the
// index microseconds. It follows the store's change feed: each Load first
// applies the changes committed since the last one, so a page never shows
// a state older than the request. Safe for concurrent use.
type Index struct {
	store atigip.Store

	mu        sync.Mutex
	built     bool
	seq       int64
	measures  map[int64]*atigip.Measure
	byDep     map[string]map[int64]*atigip.Measure // the same, by the département of their SPIP
	incidents map[int64]int64                      // incident log → its measure
	perMeas   map[int64]int                        // incidents per measure
	perWeek   map[int64]float64
	names     map[int64]string // pseudonyms read so far
}

// put indexes m (nil: removes measure id).
func (x *Index) put(id int64, m *atigip.Measure) {
	if old := x.measures[id]; old != nil {
		delete(x.byDep[old.Departement], id)
	}
	if m == nil {
		delete(x.measures, id)
		return
	}
	x.measures[id] = m
	if x.byDep[m.Departement] == nil {
		x.byDep[m.Departement] = map[int64]*atigip.Measure{}
	}
	x.byDep[m.Departement][id] = m
}

// incident records (measure > 0) or forgets (0) incident log id.
func (x *Index) incident(id, measure int64) {
	if old, ok := x.incidents[id]; ok {
		x.perMeas[old]--
		delete(x.incidents, id)
	}
	if measure > 0 {
		x.incidents[id] = measure
		x.perMeas[measure]++
	}
}

// NewIndex returns an index over store, built at its first Load.
func NewIndex(store atigip.Store) *Index { return &Index{store: store} }

// maxChanges is the most changes a refresh applies; beyond, it rebuilds.
const maxChanges = 5000

// light is m without what the caseload never reads.
func light(m *atigip.Measure) *atigip.Measure {
	c := *m
	c.History = nil
	return &c
}

func (x *Index) build(ctx context.Context) error {
	seq, err := x.store.LastSeq(ctx)
	if err != nil {
		return err
	}
	x.measures, x.byDep = map[int64]*atigip.Measure{}, map[string]map[int64]*atigip.Measure{}
	x.incidents, x.perMeas, x.names = map[int64]int64{}, map[int64]int{}, map[int64]string{}
	err = atigip.Of[*atigip.Measure](x.store).Scan(ctx, atigip.ListFilter{}, func(m *atigip.Measure) error {
		x.put(m.ID, light(m))
		return nil
	})
	if err != nil {
		return fmt.Errorf("caseload: index measures: %w", err)
	}
	err = atigip.Of[*atigip.MeasureLog](x.store).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.LogRecorded)}}, func(l *atigip.MeasureLog) error {
		if l.LogType == atigip.LogIncident {
			x.incident(l.ID, l.MeasureID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("caseload: index incidents: %w", err)
	}
	// The pseudonyms of the people with a measure, read now rather than
	// at the first page sorted or searched by them: for a national
	// caseload that page would read 16,000 people.
	followed := map[int64]bool{}
	for _, m := range x.measures {
		followed[m.PersonID] = true
	}
	if len(followed) > 0 {
		people, err := atigip.Of[*atigip.Person](x.store).All(ctx, atigip.ListFilter{IDs: keys(followed)})
		if err != nil {
			return fmt.Errorf("caseload: index pseudonyms: %w", err)
		}
		for _, p := range people {
			x.names[p.ID] = p.Pseudonym
		}
	}
	pw := map[int64]float64{}
	err = atigip.Of[*atigip.Post](x.store).Scan(ctx, atigip.ListFilter{}, func(p *atigip.Post) error {
		pw[p.ID] = p.Schedule.HoursPerWeek()
		return nil
	})
	if err != nil {
		return fmt.Errorf("caseload: index posts: %w", err)
	}
	x.seq, x.perWeek, x.built = seq, pw, true
	return nil
}

// refresh applies the changes after the index's sequence (x.mu held).
func (x *Index) refresh(ctx context.Context) error {
	if !x.built {
		return x.build(ctx)
	}
	last, err := x.store.LastSeq(ctx)
	if err != nil || last <= x.seq {
		return err
	}
	cs, err := x.store.Changes(ctx, x.seq, maxChanges+1)
	if err != nil {
		return err
	}
	if len(cs) > maxChanges {
		return x.build(ctx)
	}
	for _, c := range cs {
		var e atigip.Entity
		switch c.Kind {
		case atigip.KindPerson:
			delete(x.names, c.ID) // read again when shown
			continue
		case atigip.KindMeasure, atigip.KindMeasureLog, atigip.KindPost:
			e, err = x.store.Entities(c.Kind).Get(ctx, c.ID)
			if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
				return fmt.Errorf("caseload: index refresh: %w", err)
			}
		default:
			continue
		}
		gone := err != nil
		switch c.Kind {
		case atigip.KindMeasure:
			if gone {
				x.put(c.ID, nil)
			} else {
				x.put(c.ID, light(e.(*atigip.Measure)))
			}
		case atigip.KindMeasureLog:
			if l, ok := e.(*atigip.MeasureLog); !gone && ok && l.LogType == atigip.LogIncident && l.Status == atigip.LogRecorded {
				x.incident(c.ID, l.MeasureID)
			} else {
				x.incident(c.ID, 0)
			}
		case atigip.KindPost:
			if gone {
				delete(x.perWeek, c.ID)
			} else {
				x.perWeek[c.ID] = e.(*atigip.Post).Schedule.HoursPerWeek()
			}
		}
		x.seq = c.Seq
	}
	x.seq = max(x.seq, cs[len(cs)-1].Seq)
	return nil
}

// Load is the package's Load answered from the index, up to date with
// the store: the pseudonyms are read from the store, for the page shown
// (or the whole selection when sorted or searched by them).
func (x *Index) Load(ctx context.Context, q Query, today atigip.Date) (Page, error) {
	x.mu.Lock()
	if err := x.refresh(ctx); err != nil {
		x.mu.Unlock()
		return Page{}, err
	}
	src := x.measures
	if q.Departement != "" {
		src = x.byDep[q.Departement]
	}
	var rows []Row
	for _, m := range src {
		if !q.keeps(m) {
			continue
		}
		rows = append(rows, Row{Measure: m, Incidents: x.perMeas[m.ID], Deadline: workflow.Deadline(m, x.perWeek[m.PostID], today)})
	}
	x.mu.Unlock()
	return finish(ctx, x.store, rows, q, x.pseudonyms)
}

// pseudonyms fills rows' pseudonyms from the index, reading the missing
// ones from the store.
func (x *Index) pseudonyms(ctx context.Context, tx atigip.Tx, rows []Row, ids map[int64]bool) error {
	x.mu.Lock()
	missing := map[int64]bool{}
	for id := range ids {
		if _, ok := x.names[id]; !ok {
			missing[id] = true
		}
	}
	x.mu.Unlock()
	fetched := map[int64]string{}
	if len(missing) > 0 {
		people, err := atigip.Of[*atigip.Person](tx).All(ctx, atigip.ListFilter{IDs: keys(missing)})
		if err != nil {
			return fmt.Errorf("caseload: people: %w", err)
		}
		for _, p := range people {
			fetched[p.ID] = p.Pseudonym
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for id, n := range fetched {
		x.names[id] = n
	}
	for i := range rows {
		rows[i].Pseudonym = x.names[rows[i].Measure.PersonID]
	}
	return nil
}
