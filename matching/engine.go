package matching

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// Options configure an Engine.
type Options struct {
	// Config holds weights and thresholds; nil means DefaultConfig().
	Config *Config
	// Today is the date deadlines and ages are computed at; zero means
	// today (UTC).
	Today atigip.Date
	// Text scores the text fit; nil means the built-in TF-IDF over the
	// items' titles, descriptions and ROME labels.
	Text TextScorer
}

// Engine answers matching queries over one snapshot of the data. It is
// immutable once built and safe for concurrent use.
type Engine struct {
	rulebook
	w      raw
	text   TextScorer
	tfidf  *TFIDF      // built-in text fit (nil when Text is external), without its documents
	words  cow[string] // people's experience and wishes, by index, for an external Text only
	items  cow[item]
	byRef  index // by refKey
	groups []group
	people cow[person]
	byID   index             // people by id
	grid   grid              // located TIG posts and jobs at release
	inside map[int64][]int32 // work and training offers by prison
	lost   []int32           // TIG posts and jobs at release without a location
	// homes indexes people by home, so that ranking the people for a post
	// reads those near it, not every profile; unhomed are the others
	// (person.unindexed), always examined.
	homes   grid
	unhomed []int32
	maxRad  float64
	builtAt time.Time
	// What Patch needs to flatten changes again without the records.
	verdicts map[int64]verdict  // organisations' habilitation
	allOrgs  bool               // Data.AllOrganisations
	measures []measureFacts     // by person, then id (cmpMeasure)
	apps     map[int64]appFacts // applications
	pending  map[int64]int      // proposals awaiting the judge, per post
	// incomplete: a patch left new records out (Incomplete).
	incomplete bool
}

// appFacts is what the rules read of an application.
type appFacts struct {
	person, offer int64
	accepted      bool
}

// New builds an Engine from d. The slices of d are read, never kept
// beyond the people's profiles (read-only).
func New(d Data, o Options) (*Engine, error) {
	b, err := NewBuilder(o, d.AllOrganisations)
	if err != nil {
		return nil, err
	}
	for _, org := range d.Organisations {
		b.organisation(org)
	}
	for _, m := range d.Measures {
		b.measure(m)
	}
	// The builder takes each kind in ascending id, as a store's Scan gives
	// it: engine indices, and so ties, do not depend on the slices' order.
	for _, p := range byID(d.Posts) {
		b.post(p)
	}
	for _, of := range byID(d.Offers) {
		b.offer(of)
	}
	for _, a := range d.Applications {
		b.application(a)
	}
	for _, pp := range byID(d.People) {
		b.person(pp)
	}
	return b.Engine(), nil
}

// byID is a copy of xs in ascending id.
func byID[T atigip.Entity](xs []T) []T {
	out := slices.Clone(xs)
	slices.SortFunc(out, func(x, y T) int { return cmp.Compare(x.GetMeta().ID, y.GetMeta().ID) })
	return out
}

// Builder builds an Engine from records given one at a time, so that a
// snapshot is built while the store is scanned: at ten times the country
// the records themselves weigh twice the engine, and holding them all
// (as Data does) doubled the build's memory. Records must come kind after
// kind, in the order of its methods (organisations, measures, posts,
// offers, applications, people), posts, offers and people in ascending
// id; a record out of that order fails the build (Add).
type Builder struct {
	e         *Engine
	skills    *skillTable
	scheds    schedTable
	groupOf   map[[2]int64]int // (kind tag, id) → group index
	text      *textIndex       // the items' texts, for the built-in text fit (nil: external)
	contracts map[int64][]*item
	vecs      map[string]vec // people's texts repeat: one vector each
	stage     int
	lastID    int64
	err       error
}

// Stages of a build, in the order records must come.
const (
	stageOrganisations = iota
	stageMeasures
	stagePosts
	stageOffers
	stageApplications
	stagePeople
)

// NewBuilder starts a build. allOrganisations says that every
// organisation will be given (Data.AllOrganisations).
func NewBuilder(o Options, allOrganisations bool) (*Builder, error) {
	cfg := DefaultConfig()
	if o.Config != nil {
		cfg = *o.Config
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	today := o.Today
	if today.IsZero() {
		today = atigip.DateOf(time.Now())
	}
	e := &Engine{rulebook: rulebook{cfg: cfg, today: today}, text: o.Text,
		inside: map[int64][]int32{}, builtAt: time.Now(), allOrgs: allOrganisations,
		verdicts: map[int64]verdict{},
		pending:  map[int64]int{}, apps: map[int64]appFacts{}}
	e.w = e.weights()
	b := &Builder{e: e, skills: newSkillTable(), scheds: schedTable{}, groupOf: map[[2]int64]int{},
		vecs: map[string]vec{}}
	if o.Text == nil {
		b.text = newTextIndex()
	}
	return b, nil
}

// Add gives the builder one record: an organisation, a measure, a post,
// an offer, an application (only accepted ones are contracts) or a
// person. Other kinds are ignored.
func (b *Builder) Add(x atigip.Entity) error {
	if b.err != nil {
		return b.err
	}
	switch r := x.(type) {
	case *atigip.Organisation:
		if b.enter(stageOrganisations, 0) {
			b.organisation(r)
		}
	case *atigip.Measure:
		if b.enter(stageMeasures, 0) {
			b.measure(r)
		}
	case *atigip.Post:
		if b.enter(stagePosts, r.ID) {
			b.post(r)
		}
	case *atigip.Offer:
		if b.enter(stageOffers, r.ID) {
			b.offer(r)
		}
	case *atigip.Application:
		if b.enter(stageApplications, 0) {
			b.application(r)
		}
	case *atigip.Person:
		if b.enter(stagePeople, r.ID) {
			b.person(r)
		}
	}
	return b.err
}

// enter tells whether a record of stage st (with its id, for the kinds
// that must come in ascending id; 0 for the others) may come now, and
// fails the build when not.
func (b *Builder) enter(st int, id int64) bool {
	switch {
	case st < b.stage:
		b.err = fmt.Errorf("matching: build: records out of order (stage %d after %d)", st, b.stage)
		return false
	case st > b.stage:
		b.stage, b.lastID = st, 0
	}
	if id != 0 && id <= b.lastID {
		b.err = fmt.Errorf("matching: build: ids not ascending (%d after %d)", id, b.lastID)
		return false
	}
	b.lastID = max(b.lastID, id)
	return true
}

func (b *Builder) groupIdx(tag, id int64) int {
	k := [2]int64{tag, id}
	g, ok := b.groupOf[k]
	if !ok {
		g = len(b.e.groups)
		b.groupOf[k] = g
		b.e.groups = append(b.e.groups, group{})
	}
	return g
}

func (b *Builder) organisation(org *atigip.Organisation) {
	b.e.verdicts[org.ID] = verdictOf(org, b.e.today)
	b.e.allOrgs = true
}

func (b *Builder) measure(m *atigip.Measure) {
	e := b.e
	// Proposals awaiting the judge hold their place: the engine never
	// offers it to someone else (no overbooking).
	if m.State == atigip.MeasureProposed && m.PostID > 0 {
		e.pending[m.PostID]++
	}
	e.measures = append(e.measures, measureFactsOf(m, b.e.today))
}

func (b *Builder) post(p *atigip.Post) {
	e := b.e
	it := postItem(p, e.pending[p.ID], b.scheds)
	e.setVerdict(&it)
	b.file(it, b.groupIdx(1, p.OrganisationID), p.ROMECodes, p.Skills, p.Places, p.Title, p.Description)
}

func (b *Builder) offer(o *atigip.Offer) {
	var group int
	if o.OfferKind == atigip.OfferRelease {
		group = b.groupIdx(3, o.ID)
	} else {
		group = b.groupIdx(2, o.PrisonID)
	}
	b.file(offerItem(o, b.scheds), group, o.ROMECodes, o.Skills, o.Places, o.Title, o.Description)
}

// file adds a post's or an offer's item to the engine, in its group (an
// organisation, a prison, a job at release) with its places, and keeps
// its text for the text index.
func (b *Builder) file(it item, group int, rome, skills []string, places int, title, description string) {
	it.fit = b.skills.fitOf(rome, skills)
	it.group = int32(group)
	g := &b.e.groups[group]
	g.places += places
	g.taken += it.load()
	if b.text != nil {
		b.text.add(it.ref, itemText(title, description, it.rome))
	}
	b.e.addItem(it)
}

func (b *Builder) application(a *atigip.Application) {
	b.e.apps[a.ID] = appFacts{person: a.PersonID, offer: a.OfferID, accepted: a.State == atigip.AppAccepted}
}

// items ends the items: the text index is built over their texts, and
// the people's contracts are read, once, before the first person.
func (b *Builder) items() {
	e := b.e
	e.byRef.seal()
	slices.SortFunc(e.measures, cmpMeasure)
	b.contracts = e.contractItems()
	if b.text != nil {
		// The items hold their vectors; the engine keeps of the index only
		// what people's texts are vectorised with.
		t, refs, vecs := b.text.index()
		e.tfidf = t
		for k, r := range refs {
			ii, _ := e.byRef.get(refKey(r))
			e.items.at(ii).text = vecs[k]
		}
	}
	b.text = nil
}

func (b *Builder) person(pp *atigip.Person) {
	e := b.e
	if b.contracts == nil {
		b.items()
	}
	m, open := e.measureOf(pp.ID)
	p := newPerson(pp, m, open, b.contracts[pp.ID], b.e.today, &b.e.cfg, b.scheds)
	e.maxRad = max(e.maxRad, p.radius)
	p.fit = b.skills.fitOf(pp.ROMECodes, pp.Skills)
	if e.tfidf != nil {
		text := personText(pp)
		v, ok := b.vecs[text]
		if !ok {
			v = e.tfidf.vector(text)
			b.vecs[text] = v
		}
		p.text = v
	} else {
		e.words.add(personText(pp))
	}
	pi := int32(e.people.len())
	e.byID.add(pp.ID, pi)
	if p.p.Home.IsZero() {
		p.unindexed = true
		e.unhomed = append(e.unhomed, pi)
	} else {
		e.homes.add(p.p.Home, pi, false)
	}
	e.people.add(p)
}

// Engine ends the build and returns the engine; the builder must not be
// used after.
func (b *Builder) Engine() *Engine {
	if b.contracts == nil {
		b.items()
	}
	e := b.e
	b.e = nil
	e.byID.seal()
	e.grid.compact()
	e.homes.compact()
	return e
}

// measureOf returns the person's measure to place (the oldest placeable
// one) or, when none is, the measure that says why (laterOpen).
func (e *Engine) measureOf(personID int64) (toPlace, open *measureFacts) {
	i, _ := slices.BinarySearchFunc(e.measures, personID, func(m measureFacts, id int64) int { return cmp.Compare(m.person, id) })
	for ; i < len(e.measures) && e.measures[i].person == personID; i++ {
		m := &e.measures[i]
		if placeable(m) {
			if toPlace == nil || m.id < toPlace.id {
				toPlace = m
			}
		} else if open == nil || laterOpen(m, open) {
			open = m
		}
	}
	if toPlace != nil {
		open = nil
	}
	return toPlace, open
}

// contractItems returns the items of every person's current contracts.
func (e *Engine) contractItems() map[int64][]*item {
	out := map[int64][]*item{}
	for _, a := range e.apps {
		if ii, ok := e.byRef.get(refKey(Ref{KindWork, a.offer})); ok && a.accepted {
			out[a.person] = append(out[a.person], (e.items.at(ii)))
		} else if ii, ok := e.byRef.get(refKey(Ref{KindTraining, a.offer})); ok && a.accepted {
			out[a.person] = append(out[a.person], (e.items.at(ii)))
		}
	}
	return out
}

// laterOpen tells whether m describes the person better than cur: an
// ongoing measure before a finished one, then the latest.
func laterOpen(m, cur *measureFacts) bool {
	ongoing := func(x *measureFacts) bool {
		return x.state != atigip.MeasureCompleted && x.state != atigip.MeasureClosedFailed
	}
	if ongoing(m) != ongoing(cur) {
		return ongoing(m)
	}
	return m.id > cur.id
}

func (e *Engine) addItem(it item) {
	idx := int32(e.items.len())
	e.byRef.add(refKey(it.ref), idx)
	switch {
	case it.ref.Kind == KindWork || it.ref.Kind == KindTraining:
		e.inside[it.prisonID] = append(e.inside[it.prisonID], idx)
	case it.located:
		e.grid.add(it.loc, idx, it.ref.Kind == KindTIG)
	default:
		e.lost = append(e.lost, idx)
	}
	e.items.add(it)
}

func itemText(title, desc string, rome []romeRef) string {
	parts := []string{title, desc}
	for _, r := range rome {
		parts = append(parts, romeLabel(r.code))
	}
	return strings.Join(parts, " ")
}

func personText(p *atigip.Person) string { return p.Experience + " " + p.Wishes }

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// Today returns the date the engine computes deadlines at.
func (e *Engine) Today() atigip.Date { return e.today }

// Counts returns the number of items and people the engine holds.
func (e *Engine) Counts() (items, people int) { return e.items.len(), e.people.len() }

// Has reports whether the engine holds the post or offer.
func (e *Engine) Has(ref Ref) bool { _, ok := e.byRef.get(refKey(ref)); return ok }

// refKey packs a Ref into one integer map key (half the memory of a Ref
// key): the kind in the top byte, the id (a store sequence, far below
// 2^56) below it.
func refKey(r Ref) int64 {
	var k int64
	switch r.Kind {
	case KindTIG:
		k = 1
	case KindWork:
		k = 2
	case KindTraining:
		k = 3
	case KindRelease:
		k = 4
	}
	return k<<56 | r.ID&(1<<56-1)
}

// HasPerson reports whether the engine knows the person.
func (e *Engine) HasPerson(id int64) bool { _, ok := e.byID.get(id); return ok }

// Query shapes a ranking.
type Query struct {
	// Kinds restricts the items ranked for a person; empty means TIG
	// posts for a person outside, and every IPRO offer for a detainee.
	Kinds []ItemKind
	// Limit is the number of proposals returned (default 20).
	Limit int
	// Excluded asks also for excluded items near the person (within the
	// radius × Config.ExcludedRadiusFactor), each with every constraint it
	// breaks, nearest first, up to ExcludedLimit (default Limit).
	Excluded      bool
	ExcludedLimit int
	// Only restricts the people CandidatesFor considers to those it
	// accepts (nil: everyone): the caller's perimeter. Examined, Feasible
	// and the lists then tell nothing of the others.
	Only func(personID int64) bool
}

func (q Query) limits() (int, int) {
	l := q.Limit
	if l <= 0 {
		l = 20
	}
	xl := q.ExcludedLimit
	if xl <= 0 {
		xl = l
	}
	return l, xl
}

// Proposal is one ranked (or excluded) pair, with its explanation.
type Proposal struct {
	Rank           int         `json:"rank,omitempty"` // 1 first; 0 for an excluded pair
	PersonID       int64       `json:"person_id"`
	Item           Ref         `json:"item"`
	Title          string      `json:"title"`
	OrganisationID int64       `json:"organisation_id,omitempty"`
	PrisonID       int64       `json:"prison_id,omitempty"`
	DistanceKm     float64     `json:"distance_km"`
	Score          float64     `json:"score"`
	Terms          []Term      `json:"terms,omitempty"`
	Summary        string      `json:"summary"`
	Exclusions     []Exclusion `json:"exclusions,omitempty"`
}

// Ranking is the answer to a query in either direction.
type Ranking struct {
	Proposals []Proposal `json:"proposals"`
	Excluded  []Proposal `json:"excluded,omitempty"`
	// Feasible is the number of pairs that pass every hard constraint
	// (Proposals holds the best Limit of them); Examined the number of
	// pairs checked.
	Feasible int `json:"feasible"`
	Examined int `json:"examined"`
}

// scored is a feasible pair during ranking.
type scored struct {
	item, person int32
	d            float64
	r            raw
	score        float64
}

func (e *Engine) distance(p *person, it *item) float64 {
	if it.ref.Kind == KindWork || it.ref.Kind == KindTraining || !it.located || p.p.Home.IsZero() {
		return 0
	}
	return atigip.DistanceKm(p.p.Home, it.loc)
}

func defaultKinds(p *person) []ItemKind {
	if p.p.Detained {
		return []ItemKind{KindWork, KindTraining, KindRelease}
	}
	return []ItemKind{KindTIG}
}

// notFound is the coded error of an unknown person or item.
func notFound(format string, args ...any) error {
	return atigip.Errorf(atigip.ENOTFOUND, format, args...)
}

// candidatesOf calls fn with every item of the given kinds that could be
// within reach of p (radius × factor), each once.
func (e *Engine) candidatesOf(p *person, kinds []ItemKind, factor float64, fn func(int32)) {
	var tig, work, training, release bool
	for _, k := range kinds {
		switch k {
		case KindTIG:
			tig = true
		case KindWork:
			work = true
		case KindTraining:
			training = true
		case KindRelease:
			release = true
		}
	}
	want := func(k ItemKind) bool {
		return (k == KindTIG && tig) || (k == KindWork && work) || (k == KindTraining && training) || (k == KindRelease && release)
	}
	if work || training {
		for _, i := range e.inside[p.p.PrisonID] {
			if want((*e.items.at(i)).ref.Kind) {
				fn(i)
			}
		}
	}
	if tig || release {
		if !p.p.Home.IsZero() {
			e.grid.near(p.p.Home, p.radius*factor, func(g *gridEntry) {
				if want((*e.items.at(g.idx)).ref.Kind) {
					fn(g.idx)
				}
			})
		}
		for _, i := range e.lost {
			if want((*e.items.at(i)).ref.Kind) {
				fn(i)
			}
		}
	}
}

// OffersForPerson ranks the posts or offers that fit the person best.
func (e *Engine) OffersForPerson(personID int64, q Query) (*Ranking, error) {
	pi, ok := e.byID.get(personID)
	if !ok {
		return nil, notFound("Personne %d introuvable.", personID)
	}
	return e.rankItems(pi, q, false), nil
}

// fillText computes the text term of feasible pairs of one person, in one
// batch, then their scores.
func (e *Engine) fillText(p *person, fs []scored) {
	if len(fs) == 0 {
		return
	}
	if e.tfidf != nil {
		for k := range fs {
			fs[k].r[2] = cosine(p.text, (*e.items.at(fs[k].item)).text)
		}
	} else {
		refs := make([]Ref, len(fs))
		for k := range fs {
			refs[k] = (*e.items.at(fs[k].item)).ref
		}
		out := make([]float64, len(fs))
		e.text.TextFit(*e.words.at(fs[0].person), refs, out)
		for k := range fs {
			fs[k].r[2] = min(1, max(0, out[k]))
		}
	}
	for k := range fs {
		fs[k].score = fs[k].r.total(&e.w)
	}
}

// less orders proposals: score descending, then distance, then item and
// person ids, so that rankings are deterministic.
func (e *Engine) less(a, b *scored) int {
	if a.score != b.score {
		return cmp.Compare(b.score, a.score)
	}
	if a.d != b.d {
		return cmp.Compare(a.d, b.d)
	}
	if c := cmpRef((*e.items.at(a.item)).ref, (*e.items.at(b.item)).ref); c != 0 {
		return c
	}
	return cmp.Compare((*e.people.at(a.person)).p.ID, (*e.people.at(b.person)).p.ID)
}

func (e *Engine) top(fs []scored, limit int) []Proposal {
	slices.SortFunc(fs, func(a, b scored) int { return e.less(&a, &b) })
	fs = fs[:min(limit, len(fs))]
	out := make([]Proposal, len(fs))
	for k := range fs {
		out[k] = e.proposal(&fs[k], 0)
		out[k].Rank = k + 1
	}
	return out
}

// proposal explains a scored pair; sent is the number of people an
// assignment already sends to the item's group before this one, which the
// load term counts.
func (e *Engine) proposal(s *scored, sent int) Proposal {
	f := e.factsOf(e.people.at(s.person), e.items.at(s.item), s.d, s.r, s.score, sent)
	return f.proposal(&e.w)
}

// nearer orders excluded pairs: nearest first, then item and person ids.
func (e *Engine) nearer(a, b *scored) int {
	if a.d != b.d {
		return cmp.Compare(a.d, b.d)
	}
	if c := cmpRef((*e.items.at(a.item)).ref, (*e.items.at(b.item)).ref); c != 0 {
		return c
	}
	return cmp.Compare((*e.people.at(a.person)).p.ID, (*e.people.at(b.person)).p.ID)
}

func (e *Engine) excludedList(xs []scored, limit int) []Proposal {
	slices.SortFunc(xs, func(a, b scored) int { return e.nearer(&a, &b) })
	xs = xs[:min(limit, len(xs))]
	out := make([]Proposal, len(xs))
	for k, s := range xs {
		p, it := (e.people.at(s.person)), (e.items.at(s.item))
		ex := e.violations(p, it, s.d, true)
		out[k] = Proposal{PersonID: p.p.ID, Item: it.ref, Title: it.title, OrganisationID: it.orgID, PrisonID: it.prisonID,
			DistanceKm: round1(s.d), Exclusions: ex, Summary: "Exclu : " + ex[0].Message}
	}
	return out
}

// CandidatesFor ranks the people who fit a post or an offer best.
func (e *Engine) CandidatesFor(ref Ref, q Query) (*Ranking, error) {
	ii, ok := e.byRef.get(refKey(ref))
	if !ok {
		return nil, notFound("%s %d introuvable.", ItemKinds[ref.Kind], ref.ID)
	}
	return e.rankPeople(ii, q, false), nil
}

// rankPeople is CandidatesFor on item ii; scanAll examines every profile
// instead of those the homes grid gives (the exhaustive reference).
func (e *Engine) rankPeople(ii int32, q Query, scanAll bool) *Ranking {
	it := (e.items.at(ii))
	ref := it.ref
	limit, xlimit := q.limits()
	rk := &Ranking{}
	var feas, excluded []scored
	prisonOffer := ref.Kind == KindWork || ref.Kind == KindTraining
	examine := func(pi int32) {
		p := (e.people.at(pi))
		// Cheap pre-filters before the exact checks: the audience and a
		// latitude band, so that most profiles cost a few comparisons.
		if (ref.Kind == KindTIG) == p.p.Detained {
			return
		}
		if prisonOffer && p.p.PrisonID != it.prisonID {
			return
		}
		reach := p.radius
		if q.Excluded {
			reach *= e.cfg.ExcludedRadiusFactor
		}
		if !prisonOffer && it.located && !p.p.Home.IsZero() {
			dLat := p.p.Home.Lat - it.loc.Lat
			if dLat*111 > reach || -dLat*111 > reach {
				return
			}
		}
		d := e.distance(p, it)
		if d > reach || (q.Only != nil && !q.Only(p.p.ID)) {
			return
		}
		rk.Examined++
		if len(e.violations(p, it, d, false)) > 0 {
			// Near misses of a TIG post are people who have a measure to
			// place: the others are no candidates at all.
			if q.Excluded && (ref.Kind != KindTIG || p.toPlace) {
				excluded = append(excluded, scored{item: ii, person: pi, d: d})
			}
			return
		}
		feas = append(feas, scored{item: ii, person: pi, d: d, r: e.terms(p, it, d)})
	}
	if !scanAll && !prisonOffer && it.located {
		// Only people whose home is within the largest reach can be
		// within their own: the grid gives them, the unhomed are
		// examined as before. The order of examination does not matter:
		// the lists are sorted on a total order.
		reach := e.maxRad
		if q.Excluded {
			reach *= e.cfg.ExcludedRadiusFactor
		}
		e.homes.near(it.loc, reach, func(g *gridEntry) {
			if !e.people.at(g.idx).unindexed {
				examine(g.idx)
			}
		})
		for _, pi := range e.unhomed {
			examine(pi)
		}
	} else {
		for pi := int32(0); pi < int32(e.people.len()); pi++ {
			examine(pi)
		}
	}
	for k := range feas {
		e.fillText((e.people.at(feas[k].person)), feas[k:k+1])
	}
	rk.Feasible = len(feas)
	rk.Proposals = e.top(feas, limit)
	if q.Excluded {
		rk.Excluded = e.excludedList(excluded, xlimit)
	}
	return rk
}

// Explain evaluates one pair: its score terms when it is feasible, every
// broken constraint otherwise.
func (e *Engine) Explain(personID int64, ref Ref) (Proposal, error) {
	pi, ok := e.byID.get(personID)
	if !ok {
		return Proposal{}, notFound("Personne %d introuvable.", personID)
	}
	ii, ok := e.byRef.get(refKey(ref))
	if !ok {
		return Proposal{}, notFound("%s %d introuvable.", ItemKinds[ref.Kind], ref.ID)
	}
	p, it := (e.people.at(pi)), (e.items.at(ii))
	d := e.distance(p, it)
	if ex := e.violations(p, it, d, true); len(ex) > 0 {
		return e.excludedList([]scored{{item: ii, person: pi, d: d}}, 1)[0], nil
	}
	s := []scored{{item: ii, person: pi, d: d, r: e.terms(p, it, d)}}
	e.fillText(p, s)
	return e.proposal(&s[0], 0), nil
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }
