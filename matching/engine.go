package matching

import (
	"cmp"
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
	tfidf  *TFIDF // built-in text fit (nil when Text is external), without its documents
	items  cow[item]
	byRef  map[int64]int32 // by refKey
	groups []group
	people cow[person]
	byID   map[int64]int32
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
	verdicts map[int64]verdict         // organisations' habilitation
	allOrgs  bool                      // Data.AllOrganisations
	measures map[int64]*atigip.Measure // without their history
	byPerson map[int64][]int64         // measure ids per person
	apps     map[int64]appFacts        // applications
	pending  map[int64]int             // proposals awaiting the judge, per post
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
	n := len(d.Posts) + len(d.Offers)
	e := &Engine{rulebook: rulebook{cfg: cfg, today: today}, text: o.Text, byRef: make(map[int64]int32, n), byID: make(map[int64]int32, len(d.People)),
		inside: map[int64][]int32{}, builtAt: time.Now()}
	e.w = e.weights()
	skills := newSkillTable()

	orgs := map[int64]*atigip.Organisation{}
	e.verdicts = make(map[int64]verdict, len(d.Organisations))
	for _, org := range d.Organisations {
		orgs[org.ID] = org
		e.verdicts[org.ID] = verdictOf(org, today)
	}
	e.allOrgs = d.AllOrganisations || len(d.Organisations) > 0
	groupOf := map[[2]int64]int{} // (kind tag, id) → group index
	groupIdx := func(tag, id int64) int {
		k := [2]int64{tag, id}
		g, ok := groupOf[k]
		if !ok {
			g = len(e.groups)
			groupOf[k] = g
			e.groups = append(e.groups, group{})
		}
		return g
	}
	texts := map[Ref]string{}

	// Proposals awaiting the judge hold their place: the engine never
	// offers it to someone else (no overbooking).
	pending := map[int64]int{}
	e.measures, e.byPerson = make(map[int64]*atigip.Measure, len(d.Measures)), map[int64][]int64{}
	for _, m := range d.Measures {
		if m.State == atigip.MeasureProposed && m.PostID > 0 {
			pending[m.PostID]++
		}
		e.measures[m.ID] = withoutHistory(m)
		e.byPerson[m.PersonID] = append(e.byPerson[m.PersonID], m.ID)
	}
	e.pending = pending
	posts := slices.Clone(d.Posts)
	slices.SortFunc(posts, func(a, b *atigip.Post) int { return cmp.Compare(a.ID, b.ID) })
	for _, p := range posts {
		org := orgs[p.OrganisationID]
		it := postItem(p, org, e.allOrgs, pending[p.ID], today)
		it.rome = skills.romeRefs(p.ROMECodes)
		it.skills = skills.skillSet(p.Skills, it.rome)
		it.group = groupIdx(1, p.OrganisationID)
		g := &e.groups[it.group]
		g.places += p.Places
		g.taken += it.load()
		texts[it.ref] = itemText(p.Title, p.Description, it.rome)
		e.addItem(it)
	}
	offers := slices.Clone(d.Offers)
	slices.SortFunc(offers, func(a, b *atigip.Offer) int { return cmp.Compare(a.ID, b.ID) })
	for _, o := range offers {
		it := offerItem(o)
		it.rome = skills.romeRefs(o.ROMECodes)
		it.skills = skills.skillSet(o.Skills, it.rome)
		if o.OfferKind == atigip.OfferRelease {
			it.group = groupIdx(3, o.ID)
		} else {
			it.group = groupIdx(2, o.PrisonID)
		}
		g := &e.groups[it.group]
		g.places += o.Places
		g.taken += it.load()
		texts[it.ref] = itemText(o.Title, o.Description, it.rome)
		e.addItem(it)
	}

	e.apps = make(map[int64]appFacts, len(d.Applications))
	for _, a := range d.Applications {
		e.apps[a.ID] = appFacts{person: a.PersonID, offer: a.OfferID, accepted: a.State == atigip.AppAccepted}
	}
	contracts := e.contractItems()
	if o.Text == nil {
		e.tfidf = NewTFIDF(texts)
		for i := int32(0); i < int32(e.items.len()); i++ {
			(*e.items.at(i)).text = e.tfidf.docs[(*e.items.at(i)).ref]
		}
		// The items hold their vectors; the engine keeps of the index only
		// what people's texts are vectorised with.
		e.tfidf.docs = nil
	}
	people := slices.Clone(d.People)
	slices.SortFunc(people, func(a, b *atigip.Person) int { return cmp.Compare(a.ID, b.ID) })
	vecs := map[string]vec{} // people's texts repeat: one vector each
	for _, pp := range people {
		m, open := e.measureOf(pp.ID)
		p := newPerson(pp, m, open, contracts[pp.ID], today, &cfg)
		e.maxRad = max(e.maxRad, p.radius)
		p.rome = skills.romeRefs(pp.ROMECodes)
		p.skills = skills.skillSet(pp.Skills, p.rome)
		if e.tfidf != nil {
			text := personText(pp)
			v, ok := vecs[text]
			if !ok {
				v = e.tfidf.vector(text)
				vecs[text] = v
			}
			p.text = v
		} else {
			p.words = personText(pp)
		}
		pi := int32(e.people.len())
		e.byID[pp.ID] = pi
		if p.p.Home.IsZero() {
			p.unindexed = true
			e.unhomed = append(e.unhomed, pi)
		} else {
			e.homes.add(p.p.Home, pi, false)
		}
		e.people.add(p)
	}
	return e, nil
}

// withoutHistory is a copy of m without its history, which the rules do
// not read (and which is most of a measure's memory).
func withoutHistory(m *atigip.Measure) *atigip.Measure {
	c := *m
	c.History = nil
	return &c
}

// measureOf returns the person's measure to place (the oldest placeable
// one) or, when none is, the measure that says why (laterOpen).
func (e *Engine) measureOf(personID int64) (toPlace, open *atigip.Measure) {
	for _, id := range e.byPerson[personID] {
		m := e.measures[id]
		if placeable(m) {
			if toPlace == nil || m.ID < toPlace.ID {
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
		if ii, ok := e.byRef[refKey(Ref{KindWork, a.offer})]; ok && a.accepted {
			out[a.person] = append(out[a.person], (e.items.at(ii)))
		} else if ii, ok := e.byRef[refKey(Ref{KindTraining, a.offer})]; ok && a.accepted {
			out[a.person] = append(out[a.person], (e.items.at(ii)))
		}
	}
	return out
}

// laterOpen tells whether m describes the person better than cur: an
// ongoing measure before a finished one, then the latest.
func laterOpen(m, cur *atigip.Measure) bool {
	ongoing := func(x *atigip.Measure) bool {
		return x.State != atigip.MeasureCompleted && x.State != atigip.MeasureClosedFailed
	}
	if ongoing(m) != ongoing(cur) {
		return ongoing(m)
	}
	return m.ID > cur.ID
}

func (e *Engine) addItem(it item) {
	idx := int32(e.items.len())
	e.byRef[refKey(it.ref)] = idx
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
func (e *Engine) Has(ref Ref) bool { _, ok := e.byRef[refKey(ref)]; return ok }

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
func (e *Engine) HasPerson(id int64) bool { _, ok := e.byID[id]; return ok }

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
	pi, ok := e.byID[personID]
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
		e.text.TextFit(p.words, refs, out)
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
	w := e.weights()
	return f.proposal(&w)
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
	ii, ok := e.byRef[refKey(ref)]
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
	pi, ok := e.byID[personID]
	if !ok {
		return Proposal{}, notFound("Personne %d introuvable.", personID)
	}
	ii, ok := e.byRef[refKey(ref)]
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
