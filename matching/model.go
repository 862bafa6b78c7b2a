package matching

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

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

// item is a post or an offer, flattened for fast evaluation.
type item struct {
	ref        Ref
	title      string
	group      int // load group: host organisation, prison, or the offer itself
	orgID      int64
	prisonID   int64
	loc        atigip.Point
	located    bool
	rome       []romeRef
	skills     []int32 // sorted: declared skills ∪ core skills of its ROME codes
	slots      []slot
	hours      float64 // per week: declared (offers) or from the schedule (posts)
	perDay     float64
	days       [8]float64 // scheduled hours per weekday (1..7)
	stretch    int        // longest run of work without a 30-minute break, minutes
	declared   float64    // an offer's declared weekly hours (0: none)
	schedHours float64    // weekly hours of the schedule
	night      bool
	minors     bool
	medical    bool // the post asks for a medical check
	risky      bool
	care       bool
	transit    bool // served by public transport (unknown = true for offers)
	open       bool
	status     string // French label of the status
	left       int    // places left, pending proposals deducted
	pending    int    // places held by proposals awaiting the judge
	baseLeft   int    // places left before pending proposals
	places     int    // capacity, and places taken (capped), for the load groups
	taken      int
	orgOK      int8   // 1 habilitated and active, -1 not, 0 unknown
	orgState   string // French label of the habilitation when not OK
	text       vec
}

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
	Medical         atigip.Medical // without CheckDoneAt
	Detained        bool
	Minor           bool
	WorkCleared     bool
	PublicTransport bool // moves by public transport only
}

func profileOf(p *atigip.Person) profile {
	med := p.Medical
	med.CheckDoneAt = atigip.Date{}
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
	daysAvail int
	// state and stateLeft describe the person's open measure when none is
	// to place, for the sentence of rule measure.
	state     atigip.MeasureState
	stateLeft float64
	minor     bool // from the birth date at the engine's date (MinorAt)
	birth     atigip.Date
	flagMinor bool // the profile's flag, read only without a birth date
	// contracts are the slots of the detainee's current work and training
	// contracts; contractDays and contractWeek the hours of the work ones.
	contracts    []slot
	contractDays [8]float64
	contractWeek float64
	rome         []romeRef
	skills       []int32
	slots        []slot
	avail        float64 // declared weekly availability (0: none declared)
	age          int     // -1 unknown
	radius       float64
	urgency      float64
	text         vec
	words        string // experience and wishes, kept only for an external TextScorer
	// unindexed: the person is not in the people grid (no home when the
	// engine was built, or a home patched since) but in Engine.unhomed.
	unindexed bool
}

// placeable reports whether m is a TIG measure that still needs a post.
func placeable(m *atigip.Measure) bool {
	return m.State == atigip.MeasureToPlace && m.HoursLeft() > 0
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
	state string
}

// verdictOf judges org at today; nil is a deleted organisation.
func verdictOf(org *atigip.Organisation, today atigip.Date) verdict {
	switch {
	case org == nil:
		return verdict{-1, "structure d'accueil supprimée"}
	case !org.Active:
		return verdict{-1, "partenaire archivé"}
	case org.Habilitation.Status != atigip.HabHabilitated:
		return verdict{-1, strings.ToLower(atigip.HabilitationStatuses[org.Habilitation.Status])}
	case org.Habilitation.ExpiresAt != nil && org.Habilitation.ExpiresAt.Before(today.Time):
		return verdict{-1, "habilitation expirée"}
	}
	return verdict{ok: 1}
}

// postItem flattens what the rules read of a post. orgKnown tells whether
// organisations were given: then a missing one is a deleted one.
func postItem(p *atigip.Post, org *atigip.Organisation, orgKnown bool, pending int, today atigip.Date) item {
	it := item{ref: Ref{KindTIG, p.ID}, title: p.Title, orgID: p.OrganisationID, loc: p.Location,
		located: !p.Location.IsZero(), minors: p.MinorsAccepted, medical: p.MedicalCheck, risky: p.Risky,
		care: p.CareSetting, transit: p.PublicTransport, open: p.Status == atigip.PostOpen,
		status: atigip.PostStatuses[p.Status], baseLeft: p.PlacesLeft(), places: p.Places, taken: min(p.PlacesTaken, p.Places)}
	it.setPending(pending)
	it.slots = parseSlots(p.Schedule)
	it.hours, it.perDay, it.night = p.Schedule.HoursPerWeek(), p.Schedule.MaxHoursPerDay(), p.Schedule.NightWork()
	it.schedHours, it.days, it.stretch = it.hours, dayHours(it.slots), longestStretch(it.slots)
	if org != nil || orgKnown {
		v := verdictOf(org, today)
		it.orgOK, it.orgState = v.ok, v.state
	}
	return it
}

// setPending deducts the places held by proposals awaiting the judge.
func (it *item) setPending(n int) {
	it.pending = min(n, it.baseLeft)
	it.left = it.baseLeft - it.pending
}

// load is what the item adds to its group's places taken.
func (it *item) load() int { return min(it.taken+it.pending, it.places) }

// offerItem flattens what the rules read of an offer.
func offerItem(o *atigip.Offer) item {
	it := item{ref: Ref{ItemKind(o.OfferKind), o.ID}, title: o.Title, prisonID: o.PrisonID, loc: o.Location,
		located: !o.Location.IsZero(), transit: true, open: o.Status == atigip.OfferOpen,
		status: atigip.OfferStatuses[o.Status], baseLeft: o.PlacesLeft(), left: o.PlacesLeft(),
		places: o.Places, taken: min(o.PlacesTaken, o.Places)}
	it.slots = parseSlots(o.Schedule)
	it.schedHours, it.perDay, it.night = o.Schedule.HoursPerWeek(), o.Schedule.MaxHoursPerDay(), o.Schedule.NightWork()
	it.days, it.stretch = dayHours(it.slots), longestStretch(it.slots)
	// The larger of the declared and scheduled hours counts against the
	// limits: a schedule longer than its declaration is not hidden by it.
	it.declared = o.HoursPerWeek
	it.hours = max(o.HoursPerWeek, it.schedHours)
	return it
}

// newPerson flattens what the rules read of a person at today: m is the
// measure to place (nil: none), open the person's open measure otherwise
// (for the sentence), contracts the items of their current contracts.
func newPerson(pp *atigip.Person, m, open *atigip.Measure, contracts []*item, today atigip.Date, cfg *Config) person {
	p := person{p: profileOf(pp), radius: pp.Mobility.RadiusKm, birth: pp.BirthDate, flagMinor: pp.Minor}
	if p.radius <= 0 {
		p.radius = cfg.DefaultRadiusKm
	}
	p.slots = parseSlots(pp.Availability)
	p.avail = pp.Availability.HoursPerWeek()
	p.place(m, open, today, cfg)
	p.contract(contracts)
	return p
}

// place sets the measure facts of p (and its minority, which a measure
// followed by the PJJ tells when the birth date is unknown).
func (p *person) place(m, open *atigip.Measure, today atigip.Date, cfg *Config) {
	p.toPlace, p.left, p.deadline, p.urgency, p.state, p.stateLeft, p.daysAvail = false, 0, atigip.Date{}, 0, "", 0, 0
	measureMinor := (m != nil && m.Minor) || (open != nil && open.Minor)
	p.minor, p.age = MinorAt(&atigip.Person{BirthDate: p.birth, Minor: p.flagMinor}, measureMinor, today)
	if m != nil {
		p.toPlace, p.left, p.deadline = true, m.HoursLeft(), m.Deadline(today)
		if !p.deadline.IsZero() {
			p.daysAvail = daysBetween(today.AddDays(cfg.StartDelayDays).Time, p.deadline.Time)
			days := float64(daysBetween(today.Time, p.deadline.Time))
			p.urgency = min(1, max(0, 1-days/float64(cfg.UrgencyHorizonDays)))
		}
	} else if open != nil {
		p.state, p.stateLeft = open.State, open.HoursLeft()
	}
}

// contract sets the current contracts of p from their items.
func (p *person) contract(items []*item) {
	p.contracts, p.contractDays, p.contractWeek = nil, [8]float64{}, 0
	for _, it := range items {
		p.contracts = append(p.contracts, it.slots...)
		if it.ref.Kind == KindWork {
			for i := range it.days {
				p.contractDays[i] += it.days[i]
			}
			p.contractWeek += it.hours
		}
	}
}

// skillTable interns ROME skill codes as small integers, and the ROME
// references and skill sets of posts and people: most share a few ROME
// codes, so the engine keeps one copy of each distinct set (read-only).
type skillTable struct {
	ids  map[string]int32
	rome map[string][]romeRef
	sets map[string][]int32
}

func newSkillTable() *skillTable {
	return &skillTable{ids: map[string]int32{}, rome: map[string][]romeRef{}, sets: map[string][]int32{}}
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
