package matching

import (
	"errors"
	"maps"
	"slices"

	"github.com/atigip/atigip360/internal/atigip"
)

// ErrRebuild says that changes cannot be patched into an engine: a post
// or offer that moved (the spatial index, distances), or a person deleted.
// The caller builds a new engine instead.
var ErrRebuild = errors.New("matching: these changes need a full rebuild")

// Changes are the records changed since an engine was built, as the change
// feed tells them: the records as they are now, and the ids of deleted
// ones.
type Changes struct {
	Posts         []*atigip.Post
	Offers        []*atigip.Offer
	Organisations []*atigip.Organisation
	People        []*atigip.Person
	Measures      []*atigip.Measure
	Applications  []*atigip.Application

	DeletedPosts, DeletedOffers, DeletedOrganisations, DeletedPeople, DeletedMeasures, DeletedApplications []int64
}

// Patch returns a new engine with the changes applied to what the rules
// read (new records are left to the next build: Incomplete says so), in milliseconds at national size where a build takes seconds, so
// that a change that makes a pair unlawful (a post closed, a partner
// archived, a person placed, a proposal pending) is reflected at once. e
// is left as it was (readers may hold it). What scores read but rules do
// not (ROME codes, skills, texts of existing records) stays as built until
// the next full build; the caller rebuilds on a schedule for that.
func (e *Engine) Patch(c Changes) (*Engine, error) {
	ne := *e
	ne.items, ne.people, ne.words, ne.groups = e.items.share(), e.people.share(), e.words.share(), slices.Clone(e.groups)
	// The maps are copied only when the changes write in them.
	if len(c.Organisations)+len(c.DeletedOrganisations) > 0 {
		ne.verdicts = maps.Clone(e.verdicts)
	}
	if len(c.Measures)+len(c.DeletedMeasures) > 0 {
		ne.pending = maps.Clone(e.pending) // measures: a new list (patcher.measures)
	}
	if len(c.Applications)+len(c.DeletedApplications) > 0 {
		ne.apps = maps.Clone(e.apps)
	}
	p := patcher{e: &ne, posts: map[int32]bool{}, people: map[int64]bool{}}
	if err := p.apply(c); err != nil {
		return nil, err
	}
	return &ne, nil
}

type patcher struct {
	e      *Engine
	posts  map[int32]bool // items whose pending count or verdict to refresh
	people map[int64]bool // people whose measures or contracts to refresh
}

func (p *patcher) apply(c Changes) error {
	e := p.e
	if len(c.DeletedPeople) > 0 {
		return ErrRebuild
	}
	orgs := map[int64]bool{}
	for _, o := range c.Organisations {
		e.verdicts[o.ID], orgs[o.ID] = verdictOf(o, e.today), true
	}
	for _, id := range c.DeletedOrganisations {
		delete(e.verdicts, id)
		orgs[id] = true
	}
	if len(orgs) > 0 {
		for i := int32(0); i < int32(e.items.len()); i++ {
			if it := e.items.at(i); it.ref.Kind == KindTIG && orgs[it.orgID] {
				p.posts[int32(i)] = true
			}
		}
	}
	for _, post := range c.Posts {
		ii, ok := e.byRef.get(refKey(Ref{KindTIG, post.ID}))
		if !ok {
			e.incomplete = true // a new post: proposed from the next build on
			continue
		}
		if e.items.at(ii).loc != post.Location || e.items.at(ii).orgID != post.OrganisationID {
			return ErrRebuild
		}
		p.replace(ii, postItem(post, 0, nil))
		p.posts[ii] = true
	}
	for _, id := range c.DeletedPosts {
		if ii, ok := e.byRef.get(refKey(Ref{KindTIG, id})); ok {
			p.remove(ii)
		}
	}
	for _, o := range c.Offers {
		ii, ok := e.byRef.get(refKey(Ref{ItemKind(o.OfferKind), o.ID}))
		if !ok {
			e.incomplete = true
			continue
		}
		if e.items.at(ii).loc != o.Location || e.items.at(ii).prisonID != o.PrisonID {
			return ErrRebuild
		}
		p.replace(ii, offerItem(o, nil))
	}
	for _, id := range c.DeletedOffers {
		for _, k := range []ItemKind{KindWork, KindTraining, KindRelease} {
			if ii, ok := e.byRef.get(refKey(Ref{k, id})); ok {
				p.remove(ii)
			}
		}
	}
	if len(c.Measures)+len(c.DeletedMeasures) > 0 {
		p.measures(c.Measures, c.DeletedMeasures)
	}
	for _, a := range c.Applications {
		if old, ok := e.apps[a.ID]; ok {
			p.people[old.person] = true
		}
		e.apps[a.ID] = appFacts{person: a.PersonID, offer: a.OfferID, accepted: a.State == atigip.AppAccepted}
		p.people[a.PersonID] = true
	}
	for _, id := range c.DeletedApplications {
		if old, ok := e.apps[id]; ok {
			p.people[old.person] = true
			delete(e.apps, id)
		}
	}
	for ii := range p.posts {
		it := e.items.mut(ii)
		before := it.load()
		e.setVerdict(it)
		it.setPending(e.pending[it.ref.ID])
		e.groups[it.group].taken += it.load() - before
	}
	for _, pp := range c.People {
		pi, ok := e.byID.get(pp.ID)
		if !ok {
			e.incomplete = true // a new person: matched from the next build on
			continue
		}
		old := e.people.mut(pi)
		np := newPerson(pp, nil, nil, nil, e.today, &e.cfg, nil)
		np.fit, np.text = old.fit, old.text
		if e.tfidf != nil {
			np.text = e.tfidf.vector(personText(pp))
		} else {
			*e.words.mut(pi) = personText(pp)
		}
		// A person who moved stays in the grid at the old home: they are
		// examined from the unhomed list instead (the grid cell entry
		// is skipped), until the next build.
		np.unindexed = old.unindexed
		if np.p.Home != old.p.Home && !old.unindexed {
			np.unindexed = true
			e.unhomed = append(slices.Clone(e.unhomed), pi)
		}
		*old = np
		e.maxRad = max(e.maxRad, np.radius)
		p.people[pp.ID] = true
	}
	var contracts map[int64][]*item
	if len(p.people) > 0 {
		contracts = e.contractItems()
	}
	for id := range p.people {
		pi, ok := e.byID.get(id)
		if !ok {
			e.incomplete = true // a measure or an application of someone not known yet
			continue
		}
		m, open := e.measureOf(id)
		np := e.people.mut(pi)
		np.place(m, open, e.today, &e.cfg)
		np.contract(contracts[id])
	}
	return nil
}

// replace puts a re-flattened item at ii, keeping what only scores read
// (ROME, skills, text) and its load group, whose places and taken follow.
func (p *patcher) replace(ii int32, it item) {
	old := p.e.items.mut(ii)
	it.fit, it.text, it.group = old.fit, old.text, old.group
	it.orgOK, it.orgState = old.orgOK, old.orgState
	it.setPending(p.e.pending[it.ref.ID])
	g := &p.e.groups[old.group]
	g.places += int(it.places - old.places)
	g.taken += it.load() - old.load()
	*old = it
}

// remove closes a deleted item: it stays in the indexes, never proposed.
func (p *patcher) remove(ii int32) {
	it := *p.e.items.at(ii)
	it.open, it.status, it.baseLeft, it.places, it.taken = false, labelOf("supprimé"), 0, 0, 0
	p.replace(ii, it)
}

// measures replaces the facts of the changed measures and forgets the
// deleted ones (a measure both changed and deleted is deleted), with their
// pending places, in a new list: one pass over the engine's, which readers
// of the engine patched may still hold.
func (p *patcher) measures(changed []*atigip.Measure, deleted []int64) {
	e := p.e
	gone := make(map[int64]bool, len(changed)+len(deleted))
	for _, id := range deleted {
		gone[id] = true
	}
	added := make([]measureFacts, 0, len(changed))
	for _, m := range changed {
		if !gone[m.ID] {
			f := measureFactsOf(m, e.today)
			added = append(added, f)
			p.countPending(&f, 1)
			p.people[m.PersonID] = true
		}
		gone[m.ID] = true
	}
	slices.SortFunc(added, cmpMeasure)
	out := make([]measureFacts, 0, len(e.measures)+len(added))
	j := 0
	for k := range e.measures {
		m := &e.measures[k]
		if gone[m.id] {
			p.countPending(m, -1)
			p.people[m.person] = true
			continue
		}
		for j < len(added) && cmpMeasure(added[j], *m) < 0 {
			out = append(out, added[j])
			j++
		}
		out = append(out, *m)
	}
	e.measures = append(out, added[j:]...)
}

// countPending adds delta to the pending proposals of m's post when m
// awaits the judge.
func (p *patcher) countPending(m *measureFacts, delta int) {
	if m.state != atigip.MeasureProposed || m.post <= 0 {
		return
	}
	p.e.pending[m.post] += delta
	if ii, ok := p.e.byRef.get(refKey(Ref{KindTIG, m.post})); ok {
		p.posts[ii] = true
	}
}

// Incomplete reports that a patch left new records out: a build is due.
func (e *Engine) Incomplete() bool { return e.incomplete }
