package matching

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unique"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// ItemKind is what a person can be matched to.
type ItemKind string

// Item kinds: TIG posts and the three kinds of IPRO offers.
const (
	KindTIG      ItemKind = "tig_post"
	KindWork     ItemKind = ItemKind(atigip.OfferWork)
	KindTraining ItemKind = ItemKind(atigip.OfferTraining)
	KindRelease  ItemKind = ItemKind(atigip.OfferRelease)
)

// ItemKinds lists the kinds with their French labels.
var ItemKinds = map[ItemKind]string{
	KindTIG:      "Poste de TIG",
	KindWork:     atigip.OfferKinds[atigip.OfferWork],
	KindTraining: atigip.OfferKinds[atigip.OfferTraining],
	KindRelease:  atigip.OfferKinds[atigip.OfferRelease],
}

// Ref names a post or an offer: ids of posts and offers are separate
// sequences, so the kind is part of the name.
type Ref struct {
	Kind ItemKind `json:"kind"`
	ID   int64    `json:"id"`
}

func (r Ref) String() string { return fmt.Sprintf("%s/%d", r.Kind, r.ID) }

// Data is everything an Engine is built from. Organisations are optional:
// when given, posts of organisations that are deleted, not habilitated or
// archived are excluded (rule habilitation). Measures proposed to the
// judge hold a place on their post (rule places); accepted applications
// are the detainees' current contracts (rules contracts, prison_hours).
type Data struct {
	Posts         []*atigip.Post
	Offers        []*atigip.Offer
	Organisations []*atigip.Organisation
	People        []*atigip.Person
	Measures      []*atigip.Measure
	Applications  []*atigip.Application
	// AllOrganisations says that Organisations holds every organisation
	// (loaded from the store): a post whose organisation is missing then
	// belongs to a deleted one. Without it, a missing one is deleted only
	// when some organisations are given.
	AllOrganisations bool
}

// slot is a schedule slot in minutes, parsed once.
type slot struct{ day, a, b int16 }

func parseSlots(s atigip.Schedule) []slot {
	out := make([]slot, 0, len(s.Slots))
	for _, sl := range s.Slots {
		a, b, ok := sl.Minutes()
		if ok && b > a && sl.Day >= 1 && sl.Day <= 7 {
			out = append(out, slot{int16(sl.Day), int16(a), int16(b)})
		}
	}
	return out
}

// overlapHours is the weekly time common to two parsed schedules.
func overlapHours(x, y []slot) float64 {
	total := 0
	for _, s := range x {
		for _, t := range y {
			if s.day != t.day {
				continue
			}
			if lo, hi := max(s.a, t.a), min(s.b, t.b); hi > lo {
				total += int(hi - lo)
			}
		}
	}
	return float64(total) / 60
}

// romeRef is a ROME code with its domains, looked up once.
type romeRef struct{ code, domain, grand string }

func romeRefs(codes []string) []romeRef {
	out := make([]romeRef, 0, len(codes))
	for _, c := range codes {
		c = strings.ToUpper(strings.TrimSpace(c))
		r := romeRef{code: c}
		if rc, ok := refdata.ROMEByCode(c); ok {
			r.domain, r.grand = rc.DomainePro, rc.GrandDomaine
		} else if atigip.ValidROME(c) {
			// An unknown but well-formed code keeps its letter: the grand domaine.
			r.grand = c[:1]
		}
		out = append(out, r)
	}
	return out
}

// item is a post or an offer, flattened for fast evaluation. At ten
// times the country there are 350,000: what equal posts share (their
// schedule, their ROME codes and skills) is held once, behind a pointer,
// and counts are int32.
type item struct {
	ref      Ref
	title    string
	orgID    int64
	prisonID int64
	loc      atigip.Point
	*sched   // the schedule, shared between equal ones
	*fit     // ROME codes and skills, shared between equal ones
	text     vec
	hours    float64 // per week: declared (offers) or from the schedule (posts)
	declared float64 // an offer's declared weekly hours (0: none)
	status   label   // French label of the status
	orgState label   // French label of the habilitation when not OK
	group    int32   // load group: host organisation, prison, or the offer itself
	left     int32   // places left, pending proposals deducted (pending: the difference)
	baseLeft int32   // places left before pending proposals
	places   int32   // capacity, and places taken (capped), for the load groups
	taken    int32
	orgOK    int8 // 1 habilitated and active, -1 not, 0 unknown
	located  bool
	minors   bool
	medical  bool // the post asks for a medical check
	risky    bool
	care     bool
	transit  bool // served by public transport (unknown = true for offers)
	open     bool
}

// sched is what the rules and scores read of a schedule, parsed once.
type sched struct {
	slots      []slot
	schedHours float64    // weekly hours of the schedule
	perDay     float64    // the longest day, in hours
	days       [8]float64 // scheduled hours per weekday (1..7)
	stretch    int        // longest run of work without a 30-minute break, minutes
	night      bool
}

// schedTable shares one sched between equal schedules while an engine is
// built (posts copied from templates, the usual availabilities); a nil
// table parses each schedule anew.
type schedTable map[string]*sched

// of is the sched of s.
func (t schedTable) of(s atigip.Schedule) *sched {
	if t == nil {
		return newSched(s)
	}
	key := make([]byte, 0, 16*len(s.Slots))
	for _, sl := range s.Slots {
		key = strconv.AppendInt(key, int64(sl.Day), 10)
		key = append(append(append(append(key, 0), sl.Start...), 0), sl.End...)
		key = append(key, 1)
	}
	if sc, ok := t[string(key)]; ok {
		return sc
	}
	sc := newSched(s)
	t[string(key)] = sc
	return sc
}

// newSched parses s.
func newSched(s atigip.Schedule) *sched {
	sc := &sched{slots: parseSlots(s), schedHours: s.HoursPerWeek(), perDay: s.MaxHoursPerDay(), night: s.NightWork()}
	sc.slots = slices.Clip(sc.slots)
	sc.days, sc.stretch = dayHours(sc.slots), longestStretch(sc.slots)
	return sc
}

// fit is what the scores read of a post's or a person's trade: ROME codes
// with their domains and skills.
type fit struct {
	rome   []romeRef
	skills []int32 // sorted: declared skills ∪ core skills of its ROME codes
}

// noFit is the fit of records flattened outside a build (the doors'
// Check, which reads no score).
var noFit = &fit{}

// group is a set of items whose load is spread: a host organisation's
// posts, a prison's offers, or one job at release.
type group struct {
	places, taken int
}

// profile is what matching reads of a person's record. The engine keeps
// it rather than the record: pseudonym, case reference, address, diplomas
// and texts are not needed once indexed, and at national size the records
// would double the engine's memory.
type profile struct {
	ID              int64
	Home            atigip.Point
	PrisonID        int64
	JobHoursPerWeek float64
	Medical         medical
	Detained        bool
	Minor           bool
	WorkCleared     bool
	PublicTransport bool // moves by public transport only
}

// medical is what the rules read of atigip.Medical (not the date of the
// check).
type medical struct {
	Disability, Pregnancy, NoNightWork, NoRiskyWork, CheckDone bool
}

func profileOf(p *atigip.Person) profile {
	m := p.Medical
	med := medical{Disability: m.Disability, Pregnancy: m.Pregnancy, NoNightWork: m.NoNightWork, NoRiskyWork: m.NoRiskyWork,
		CheckDone: m.CheckDone}
	return profile{ID: p.ID, Home: p.Home, PrisonID: p.PrisonID, JobHoursPerWeek: p.JobHoursPerWeek, Medical: med,
		Detained: p.Detained, Minor: p.Minor, WorkCleared: p.WorkCleared,
		PublicTransport: p.Mobility.Transport == atigip.TransportPublic}
}

// person is a profile with its measure to place, flattened.
type person struct {
	p        profile
	toPlace  bool    // has a TIG measure to place
	left     float64 // hours left on it
	deadline atigip.Date
	// daysAvail is the days from the first possible day (today + the start
	// delay) to the deadline, computed once per person.
	daysAvail int32
	age       int32 // -1 unknown
	// state and stateLeft describe the person's open measure when none is
	// to place, for the sentence of rule measure.
	state     atigip.MeasureState
	stateLeft float64
	minor     bool // from the birth date at the engine's date (MinorAt)
	flagMinor bool // the profile's flag, read only without a birth date
	// unindexed: the person is not in the people grid (no home when the
	// engine was built, or a home patched since) but in Engine.unhomed.
	unindexed bool
	birth     atigip.Date
	*held            // current contracts: noContracts for most
	*fit             // ROME codes and skills, shared between equal ones
	avail     *sched // declared availability, shared between equal ones
	radius    float64
	urgency   float64
	text      vec
}

// held is what the rules read of a detainee's current work and training
// contracts: their slots, and the hours of the work ones.
type held struct {
	contracts    []slot
	contractDays [8]float64
	contractWeek float64
}

// noContracts is the held of everyone without a contract.
var noContracts = &held{}

// measureFacts is what the rules read of a measure, at the engine's date:
// the engine keeps them rather than the records (260 bytes each without
// their history, 160,000 at ten times the country).
type measureFacts struct {
	id, person, post int64
	hoursLeft        float64
	deadline         atigip.Date // Measure.Deadline at the engine's date
	state            atigip.MeasureState
	minor            bool
}

func measureFactsOf(m *atigip.Measure, today atigip.Date) measureFacts {
	return measureFacts{id: m.ID, person: m.PersonID, post: m.PostID, hoursLeft: m.HoursLeft(), deadline: m.Deadline(today),
		state: unique.Make(m.State).Value(), minor: m.Minor}
}

// cmpMeasure orders measures by person, then id.
func cmpMeasure(a, b measureFacts) int {
	if c := cmp.Compare(a.person, b.person); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// placeable reports whether m is a TIG measure that still needs a post.
func placeable(m *measureFacts) bool {
	return m.state == atigip.MeasureToPlace && m.hoursLeft > 0
}

// noMeasure is the sentence of rule measure for p: it says why, and never
// says "no hours left" of a person placed with hours left.
func (p *person) noMeasure() string {
	switch {
	case p.state == "":
		return "Aucune mesure de TIG à placer pour cette personne."
	case p.state == atigip.MeasureCompleted || p.state == atigip.MeasureClosedFailed:
		return fmt.Sprintf("Aucune mesure de TIG à placer : la mesure est « %s ».", strings.ToLower(atigip.MeasureStates[p.state]))
	case p.stateLeft <= 0:
		return "Aucune mesure de TIG à placer : toutes les heures prononcées sont faites."
	}
	return fmt.Sprintf("La mesure de TIG est déjà « %s » (%s heures restantes sur ce placement) : elle n'est plus à placer.",
		strings.ToLower(atigip.MeasureStates[p.state]), num(p.stateLeft))
}

// verdict is what rule habilitation reads of an organisation.
type verdict struct {
	ok    int8 // 1 habilitated and active, -1 not
	state label
}

// label is one of the few French labels the rules quote of a post, an
// offer or an organisation (statuses, habilitation states): a byte in each
// of 350,000 items rather than a string header.
type label uint8

// labels are the labels, "" first; labelIDs their index.
var labels, labelIDs = func() ([]string, map[string]label) {
	all := []string{"", "supprimé", "structure d'accueil supprimée", "partenaire archivé", "habilitation expirée"}
	for _, m := range []map[string]string{stringMap(atigip.PostStatuses), stringMap(atigip.OfferStatuses)} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			all = append(all, m[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(atigip.HabilitationStatuses)) {
		all = append(all, strings.ToLower(atigip.HabilitationStatuses[k]))
	}
	ids := map[string]label{}
	var out []string
	for _, l := range all {
		if _, ok := ids[l]; !ok {
			ids[l] = label(len(out))
			out = append(out, l)
		}
	}
	if len(out) > 256 {
		panic("matching: more than 256 labels")
	}
	return out, ids
}()

// stringMap is m with string keys and values.
func stringMap[K, V ~string](m map[K]V) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}

// labelOf is the label of s, one of labels.
func labelOf(s string) label {
	l, ok := labelIDs[s]
	if !ok {
		panic("matching: unknown label " + strconv.Quote(s))
	}
	return l
}

func (l label) String() string { return labels[l] }

// verdictOf judges org at today; nil is a deleted organisation.
func verdictOf(org *atigip.Organisation, today atigip.Date) verdict {
	switch {
	case org == nil:
		return verdict{-1, labelOf("structure d'accueil supprimée")}
	case !org.Active:
		return verdict{-1, labelOf("partenaire archivé")}
	case org.Habilitation.Status != atigip.HabHabilitated:
		return verdict{-1, labelOf(strings.ToLower(atigip.HabilitationStatuses[org.Habilitation.Status]))}
	case org.Habilitation.ExpiresAt != nil && org.Habilitation.ExpiresAt.Before(today.Time):
		return verdict{-1, labelOf("habilitation expirée")}
	}
	return verdict{ok: 1}
}

// postItem flattens what the rules read of a post, but its organisation's
// verdict (see Engine.setVerdict).
func postItem(p *atigip.Post, pending int, scheds schedTable) item {
	it := item{ref: Ref{KindTIG, p.ID}, title: unique.Make(p.Title).Value(), orgID: p.OrganisationID, loc: p.Location,
		located: !p.Location.IsZero(), minors: p.MinorsAccepted, medical: p.MedicalCheck, risky: p.Risky,
		care: p.CareSetting, transit: p.PublicTransport, open: p.Status == atigip.PostOpen,
		status: labelOf(atigip.PostStatuses[p.Status]), baseLeft: int32(p.PlacesLeft()), places: int32(p.Places),
		taken: int32(min(p.PlacesTaken, p.Places)), sched: scheds.of(p.Schedule), fit: noFit}
	it.setPending(pending)
	it.hours = it.schedHours
	return it
}

// setVerdict gives it the habilitation verdict of its organisation when
// known: when every organisation was given, a missing one is a deleted
// one.
func (e *Engine) setVerdict(it *item) {
	v, ok := e.verdicts[it.orgID]
	if !ok && !e.allOrgs {
		return
	}
	if !ok {
		v = verdictOf(nil, e.today)
	}
	it.orgOK, it.orgState = v.ok, v.state
}

// setPending deducts the places held by proposals awaiting the judge.
func (it *item) setPending(n int) {
	it.left = it.baseLeft - int32(min(n, int(it.baseLeft)))
}

// load is what the item adds to its group's places taken.
func (it *item) load() int { return int(min(it.taken+it.pending(), it.places)) }

// pending is the places held by proposals awaiting the judge.
func (it *item) pending() int32 { return it.baseLeft - it.left }

// offerItem flattens what the rules read of an offer.
func offerItem(o *atigip.Offer, scheds schedTable) item {
	it := item{ref: Ref{ItemKind(unique.Make(o.OfferKind).Value()), o.ID}, title: unique.Make(o.Title).Value(), prisonID: o.PrisonID, loc: o.Location,
		located: !o.Location.IsZero(), transit: true, open: o.Status == atigip.OfferOpen,
		status: labelOf(atigip.OfferStatuses[o.Status]), baseLeft: int32(o.PlacesLeft()), left: int32(o.PlacesLeft()),
		places: int32(o.Places), taken: int32(min(o.PlacesTaken, o.Places)), sched: scheds.of(o.Schedule), fit: noFit}
	// The larger of the declared and scheduled hours counts against the
	// limits: a schedule longer than its declaration is not hidden by it.
	it.declared = o.HoursPerWeek
	it.hours = max(o.HoursPerWeek, it.schedHours)
	return it
}

// newPerson flattens what the rules read of a person at today: m is the
// measure to place (nil: none), open the person's open measure otherwise
// (for the sentence), contracts the items of their current contracts.
func newPerson(pp *atigip.Person, m, open *measureFacts, contracts []*item, today atigip.Date, cfg *Config, scheds schedTable) person {
	p := person{p: profileOf(pp), radius: pp.Mobility.RadiusKm, birth: pp.BirthDate, flagMinor: pp.Minor,
		avail: scheds.of(pp.Availability), fit: noFit}
	if p.radius <= 0 {
		p.radius = cfg.DefaultRadiusKm
	}
	p.place(m, open, today, cfg)
	p.contract(contracts)
	return p
}

// place sets the measure facts of p (and its minority, which a measure
// followed by the PJJ tells when the birth date is unknown).
func (p *person) place(m, open *measureFacts, today atigip.Date, cfg *Config) {
	p.toPlace, p.left, p.deadline, p.urgency, p.state, p.stateLeft, p.daysAvail = false, 0, atigip.Date{}, 0, "", 0, 0
	measureMinor := (m != nil && m.minor) || (open != nil && open.minor)
	var age int
	p.minor, age = MinorAt(&atigip.Person{BirthDate: p.birth, Minor: p.flagMinor}, measureMinor, today)
	p.age = int32(age)
	if m != nil {
		p.toPlace, p.left, p.deadline = true, m.hoursLeft, m.deadline
		if !p.deadline.IsZero() {
			p.daysAvail = int32(daysBetween(today.AddDays(cfg.StartDelayDays).Time, p.deadline.Time))
			days := float64(daysBetween(today.Time, p.deadline.Time))
			p.urgency = min(1, max(0, 1-days/float64(cfg.UrgencyHorizonDays)))
		}
	} else if open != nil {
		p.state, p.stateLeft = open.state, open.hoursLeft
	}
}

// contract sets the current contracts of p from their items.
func (p *person) contract(items []*item) {
	if len(items) == 0 {
		p.held = noContracts
		return
	}
	h := &held{}
	for _, it := range items {
		h.contracts = append(h.contracts, it.slots...)
		if it.ref.Kind == KindWork {
			for i := range it.days {
				h.contractDays[i] += it.days[i]
			}
			h.contractWeek += it.hours
		}
	}
	p.held = h
}

// skillTable interns ROME skill codes as small integers, and the ROME
// references and skill sets of posts and people: most share a few ROME
// codes, so the engine keeps one copy of each distinct set (read-only).
type skillTable struct {
	ids  map[string]int32
	rome map[string][]romeRef
	sets map[string][]int32
	fits map[string]*fit
}

func newSkillTable() *skillTable {
	return &skillTable{ids: map[string]int32{}, rome: map[string][]romeRef{}, sets: map[string][]int32{}, fits: map[string]*fit{}}
}

// fitOf is the shared fit of ROME codes and declared skills.
func (t *skillTable) fitOf(codes, declared []string) *fit {
	key := strings.Join(codes, "\x00") + "\x01" + strings.Join(declared, "\x00")
	if f, ok := t.fits[key]; ok {
		return f
	}
	f := &fit{rome: t.romeRefs(codes)}
	f.skills = t.skillSet(declared, f.rome)
	t.fits[key] = f
	return f
}

func (t *skillTable) id(ogr string) int32 {
	if id, ok := t.ids[ogr]; ok {
		return id
	}
	id := int32(len(t.ids))
	t.ids[ogr] = id
	return id
}

// romeRefs is the shared copy of romeRefs(codes).
func (t *skillTable) romeRefs(codes []string) []romeRef {
	key := strings.Join(codes, "\x00")
	if r, ok := t.rome[key]; ok {
		return r
	}
	r := slices.Clip(romeRefs(codes))
	t.rome[key] = r
	return r
}

// skillSet is the declared skills plus the core skills of the ROME codes,
// shared between equal sets.
func (t *skillTable) skillSet(declared []string, rome []romeRef) []int32 {
	var out []int32
	for _, s := range declared {
		out = append(out, t.id(s))
	}
	for _, r := range rome {
		for _, l := range refdata.SkillsOf(r.code) {
			if l.IsCore() {
				out = append(out, t.id(l.Skill.OGR))
			}
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	key := make([]byte, 0, 4*len(out))
	for _, id := range out {
		key = append(key, byte(id), byte(id>>8), byte(id>>16), byte(id>>24))
	}
	if s, ok := t.sets[string(key)]; ok {
		return s
	}
	out = slices.Clip(out)
	t.sets[string(key)] = out
	return out
}

// sharedCount counts common elements of two sorted sets.
func sharedCount(a, b []int32) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return n
}

// daysBetween counts whole days from a to b.
func daysBetween(a, b time.Time) int { return int(math.Floor(b.Sub(a).Hours() / 24)) }
