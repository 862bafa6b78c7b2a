// Package rulecases is the table of the matching rulebook's boundary
// cases: for every rule, a pair just on the lawful side and one just on
// the unlawful side, as plain domain values. The engine's tests and the
// tests of every door (workflow, flows, HTTP) drive the same table, and
// check that it covers every rule of matching.Rules.
package rulecases

import (
	"math"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
)

// Lyon is the home of the people of the world.
var Lyon = atigip.Point{Lon: 4.8357, Lat: 45.7640}

// LyonAddress is the address of every record of the world.
var LyonAddress = atigip.Address{Street: "1 place Bellecour", Postcode: "69002", City: "Lyon", Commune: "69382", Departement: "69"}

// East moves p by km east (great-circle distance, as atigip.DistanceKm).
func East(p atigip.Point, km float64) atigip.Point {
	return atigip.Point{Lon: p.Lon + km/(6371.0088*math.Pi/180*math.Cos(p.Lat*math.Pi/180)), Lat: p.Lat}
}

// World is one lawful tigiste–post pair and one lawful detainee–work
// offer pair, with what the rules read around them. IDs and foreign keys
// are set by Link (tests without a store) or by the store (door tests,
// which create the records in the order of the fields).
type World struct {
	Today  atigip.Date
	Org    *atigip.Organisation
	Post   *atigip.Post
	Person *atigip.Person // the tigiste
	// Measure is to place.
	Measure *atigip.Measure
	// Rival is another tigiste whose measure is proposed on Post when
	// RivalPending is set.
	Rival        *atigip.Person
	RivalMeasure *atigip.Measure
	RivalPending bool
	// OrgDeleted deletes Org once its post exists.
	OrgDeleted bool
	// DetaineeElsewhere puts the detainee in Prison2; DetaineeReleased
	// releases them.
	DetaineeElsewhere, DetaineeReleased bool

	Prison, Prison2 *atigip.Prison
	Offer           *atigip.Offer
	Detainee        *atigip.Person
	// Contracts are offers of Prison on which the detainee holds an
	// accepted application.
	Contracts []*atigip.Offer
}

func slots(day int, ranges ...string) []atigip.Slot {
	var out []atigip.Slot
	for i := 0; i+1 < len(ranges); i += 2 {
		out = append(out, atigip.Slot{Day: day, Start: ranges[i], End: ranges[i+1]})
	}
	return out
}

func sched(ss ...[]atigip.Slot) atigip.Schedule {
	var out atigip.Schedule
	for _, s := range ss {
		out.Slots = append(out.Slots, s...)
	}
	return out
}

// New builds the lawful world at today.
func New(today atigip.Date) *World {
	exp := today.AddDate(3, 0, 0)
	w := &World{Today: today}
	w.Org = &atigip.Organisation{Name: "Commune de Villeurbanne", OrgKind: atigip.OrgCommune, Active: true,
		Address: LyonAddress, Location: East(Lyon, 3),
		Habilitation: atigip.Habilitation{Status: atigip.HabHabilitated, ExpiresAt: &exp}}
	w.Post = &atigip.Post{Title: "Agent d'entretien des espaces verts", Description: "Tonte, taille des haies",
		ROMECodes: []string{"A1203"}, Places: 2, Schedule: sched(slots(1, "09:00", "12:00"), slots(2, "09:00", "12:00")),
		PublicTransport: true, Address: LyonAddress, Location: East(Lyon, 3), Status: atigip.PostOpen,
		Visibility: atigip.VisibilityPublic}
	w.Person = &atigip.Person{Pseudonym: "TIG-0001", CaseSystem: "APPI", CaseRef: "A1",
		BirthDate: atigip.NewDate(1990, time.May, 4), Home: Lyon, HomeAddress: LyonAddress,
		Mobility:  atigip.Mobility{RadiusKm: 10, Transport: atigip.TransportCar},
		ROMECodes: []string{"A1203"}, Experience: "entretien des espaces verts, tonte",
		Availability: sched(slots(1, "08:00", "18:00"), slots(2, "08:00", "18:00"))}
	w.Measure = &atigip.Measure{CaseRef: "M1", HoursOrdered: 120, HoursDone: 60,
		SentenceDate: today.AddDays(-60), State: atigip.MeasureToPlace, Departement: "69"}
	w.Rival = &atigip.Person{Pseudonym: "TIG-0002", CaseSystem: "APPI", CaseRef: "A2",
		BirthDate: atigip.NewDate(1991, time.June, 5), Home: Lyon, HomeAddress: LyonAddress}
	w.RivalMeasure = &atigip.Measure{CaseRef: "M2", HoursOrdered: 40, SentenceDate: today.AddDays(-30),
		State: atigip.MeasureToPlace, Departement: "69"}
	for _, p := range []**atigip.Prison{&w.Prison, &w.Prison2} {
		*p = &atigip.Prison{Name: "Centre pénitentiaire de Lyon-Corbas", Type: "CP", Address: LyonAddress,
			Location: atigip.Point{Lon: 4.9, Lat: 45.67}, Capacity: 700}
	}
	week := func(from, to string) atigip.Schedule {
		var s atigip.Schedule
		for d := 1; d <= 5; d++ {
			s.Slots = append(s.Slots, slots(d, from, to)...)
		}
		return s
	}
	w.Offer = &atigip.Offer{OfferKind: atigip.OfferWork, Title: "Opérateur de conditionnement", Address: LyonAddress,
		Location: atigip.Point{Lon: 4.9, Lat: 45.67}, ROMECodes: []string{"H3302"}, Places: 3, HoursPerWeek: 30,
		Schedule: week("08:00", "14:00"), EmployerKind: atigip.EmployerConcession, EmployerName: "Conditionnement du Rhône",
		Status: atigip.OfferOpen}
	cleared := today.Time
	w.Detainee = &atigip.Person{Pseudonym: "DET-0001", CaseSystem: "GENESIS", CaseRef: "G1",
		BirthDate: atigip.NewDate(1985, time.June, 1), Home: Lyon, HomeAddress: LyonAddress, Detained: true,
		WorkCleared: true, WorkClearedAt: &cleared, ROMECodes: []string{"H3302"}}
	return w
}

// Contract is a work offer of the world's prison for Contracts.
func Contract(hoursPerWeek float64, s atigip.Schedule) *atigip.Offer {
	return &atigip.Offer{OfferKind: atigip.OfferWork, Title: "Auxiliaire du service général", Address: LyonAddress,
		Location: atigip.Point{Lon: 4.9, Lat: 45.67}, ROMECodes: []string{"K2204"}, Places: 5, PlacesTaken: 1,
		HoursPerWeek: hoursPerWeek, Schedule: s, EmployerKind: atigip.EmployerPublic, Status: atigip.OfferOpen}
}

// Link gives the records IDs and sets their foreign keys, for tests
// without a store.
func (w *World) Link() {
	w.Org.ID, w.Post.ID, w.Person.ID, w.Measure.ID = 3, 7, 1, 1
	w.Rival.ID, w.RivalMeasure.ID = 4, 2
	w.Prison.ID, w.Prison2.ID, w.Offer.ID, w.Detainee.ID = 11, 12, 5, 2
	for i, c := range w.Contracts {
		c.ID = int64(100 + i)
	}
	w.Relink()
}

// Relink sets the foreign keys from the IDs.
func (w *World) Relink() {
	w.Post.OrganisationID = w.Org.ID
	w.Measure.PersonID, w.RivalMeasure.PersonID = w.Person.ID, w.Rival.ID
	if w.RivalPending {
		w.RivalMeasure.State, w.RivalMeasure.PostID, w.RivalMeasure.StartDate = atigip.MeasureProposed, w.Post.ID, w.Today.AddDays(10)
	}
	w.Offer.PrisonID = w.Prison.ID
	switch {
	case w.DetaineeReleased:
		w.Detainee.Detained, w.Detainee.PrisonID, w.Detainee.WorkCleared, w.Detainee.WorkClearedAt = false, 0, false, nil
	case w.DetaineeElsewhere:
		w.Detainee.PrisonID = w.Prison2.ID
	default:
		w.Detainee.PrisonID = w.Prison.ID
	}
	if w.Person.Detained {
		w.Person.PrisonID = w.Prison.ID
	}
	for _, c := range w.Contracts {
		c.PrisonID = w.Prison.ID
	}
}

// Data is the world as matching input (after Link).
func (w *World) Data() matching.Data {
	d := matching.Data{Posts: []*atigip.Post{w.Post}, People: []*atigip.Person{w.Person, w.Rival, w.Detainee},
		Measures: []*atigip.Measure{w.Measure, w.RivalMeasure}, Offers: append([]*atigip.Offer{w.Offer}, w.Contracts...)}
	d.AllOrganisations = true
	if !w.OrgDeleted {
		d.Organisations = []*atigip.Organisation{w.Org}
	}
	for i, c := range w.Contracts {
		d.Applications = append(d.Applications, &atigip.Application{Meta: atigip.Meta{ID: int64(500 + i)},
			PersonID: w.Detainee.ID, OfferID: c.ID, State: atigip.AppAccepted})
	}
	return d
}

// Side tells which pair of the world a case is about.
type Side int

// Sides.
const (
	SideTIG    Side = iota // Person–Post
	SidePrison             // Detainee–Offer
)

// Case is one boundary of one rule.
type Case struct {
	Name string
	Rule matching.Rule
	Side Side
	// Lawful puts the world just on the lawful side of the rule (nil: the
	// base world is); Unlawful just on the other side.
	Lawful, Unlawful func(w *World)
}

// minorOf makes the tigiste a minor of years at the world's date, born
// that many years ago (plus extra days), on a post for minors, with a
// medical check.
func minorOf(w *World, years, extraDays int) {
	w.Person.BirthDate = atigip.Date{Time: w.Today.AddDate(-years, 0, -extraDays)}
	w.Person.Minor = true
	w.Person.Medical.CheckDone = true
	w.Post.MinorsAccepted = true
	w.Measure.Minor = true
	w.Person.Availability = atigip.Schedule{}
}

// minorOn makes the tigiste 17 (minorOf) on a post with schedule s.
func minorOn(s atigip.Schedule) func(*World) {
	return func(w *World) { minorOf(w, 17, 0); w.Post.Schedule = s }
}

// adultOn puts the adult tigiste, without declared availability, on a post
// with schedule s.
func adultOn(s atigip.Schedule) func(*World) {
	return func(w *World) { w.Person.Availability, w.Post.Schedule = atigip.Schedule{}, s }
}

// days repeats the ranges on each day from first to last.
func days(first, last int, ranges ...string) []atigip.Slot {
	var out []atigip.Slot
	for d := first; d <= last; d++ {
		out = append(out, slots(d, ranges...)...)
	}
	return out
}

// deadlineIn sets the sentence date so that the deadline (18 months
// later) falls days after today.
func deadlineIn(w *World, days int) {
	target := w.Today.AddDays(days)
	s := atigip.Date{Time: target.AddDate(0, -atigip.TIGDelayMonths, 0)}
	for !s.AddDate(0, atigip.TIGDelayMonths, 0).Equal(target.Time) {
		if s.AddDate(0, atigip.TIGDelayMonths, 0).After(target.Time) {
			s = s.AddDays(-1)
		} else {
			s = s.AddDays(1)
		}
	}
	w.Measure.SentenceDate = s
}

// contractLoad gives the detainee one work contract.
func contractLoad(w *World, hours float64, s atigip.Schedule) {
	w.Contracts = []*atigip.Offer{Contract(hours, s)}
}

// Cases returns the table. The start delay of the deadline rule is
// matching.DefaultConfig().StartDelayDays.
func Cases() []Case {
	delay := matching.DefaultConfig().StartDelayDays
	return []Case{
		{Name: "post open / closed", Rule: matching.RuleOpen,
			Unlawful: func(w *World) { w.Post.Status = atigip.PostClosed }},
		{Name: "offer open / closed", Rule: matching.RuleOpen, Side: SidePrison,
			Unlawful: func(w *World) { w.Offer.Status = atigip.OfferClosed }},
		{Name: "one place left / none", Rule: matching.RulePlaces,
			Lawful:   func(w *World) { w.Post.PlacesTaken = 1 },
			Unlawful: func(w *World) { w.Post.PlacesTaken = 2 }},
		{Name: "one place left / held by a proposal awaiting the judge", Rule: matching.RulePlaces,
			Lawful:   func(w *World) { w.RivalPending = true },
			Unlawful: func(w *World) { w.Post.PlacesTaken, w.RivalPending = 1, true }},
		{Name: "offer place left / none", Rule: matching.RulePlaces, Side: SidePrison,
			Lawful:   func(w *World) { w.Offer.PlacesTaken = 2 },
			Unlawful: func(w *World) { w.Offer.PlacesTaken = 3 }},
		{Name: "tigiste free / detained", Rule: matching.RuleAudience,
			Unlawful: func(w *World) { w.Person.Detained = true }},
		{Name: "detainee / released", Rule: matching.RuleAudience, Side: SidePrison,
			Unlawful: func(w *World) { w.DetaineeReleased = true }},
		{Name: "one hour left / none", Rule: matching.RuleMeasure,
			Lawful:   func(w *World) { w.Measure.HoursDone = 119 },
			Unlawful: func(w *World) { w.Measure.HoursDone = 120 }},
		{Name: "same prison / another", Rule: matching.RulePrison, Side: SidePrison,
			Unlawful: func(w *World) { w.DetaineeElsewhere = true }},
		{Name: "cleared / not cleared for work", Rule: matching.RuleWorkClearance, Side: SidePrison,
			Unlawful: func(w *World) { w.Detainee.WorkCleared, w.Detainee.WorkClearedAt = false, nil }},
		{Name: "cleared / not cleared for training", Rule: matching.RuleWorkClearance, Side: SidePrison,
			Lawful: func(w *World) { w.Offer.OfferKind = atigip.OfferTraining },
			Unlawful: func(w *World) {
				w.Offer.OfferKind, w.Detainee.WorkCleared, w.Detainee.WorkClearedAt = atigip.OfferTraining, false, nil
			}},
		{Name: "habilitation expires today / expired yesterday", Rule: matching.RuleHabilitation,
			Lawful:   func(w *World) { e := w.Today.Time; w.Org.Habilitation.ExpiresAt = &e },
			Unlawful: func(w *World) { e := w.Today.AddDays(-1).Time; w.Org.Habilitation.ExpiresAt = &e }},
		{Name: "partner active / archived", Rule: matching.RuleHabilitation,
			Unlawful: func(w *World) { w.Org.Active = false }},
		{Name: "habilitated / awaiting", Rule: matching.RuleHabilitation,
			Unlawful: func(w *World) { w.Org.Habilitation = atigip.Habilitation{Status: atigip.HabAwaiting} }},
		{Name: "organisation exists / deleted", Rule: matching.RuleHabilitation,
			Unlawful: func(w *World) { w.OrgDeleted = true }},
		{Name: "9.9 km / 10.1 km for a 10 km radius", Rule: matching.RuleMobility,
			Lawful:   func(w *World) { w.Post.Location = East(Lyon, 9.9) },
			Unlawful: func(w *World) { w.Post.Location = East(Lyon, 10.1) }},
		{Name: "served / not served by public transport", Rule: matching.RuleTransport,
			Lawful:   func(w *World) { w.Person.Mobility.Transport = atigip.TransportPublic },
			Unlawful: func(w *World) { w.Person.Mobility.Transport, w.Post.PublicTransport = atigip.TransportPublic, false }},
		{Name: "16 today / 16 tomorrow", Rule: matching.RuleMinorAge,
			Lawful:   func(w *World) { minorOf(w, 16, 0) },
			Unlawful: func(w *World) { minorOf(w, 16, -1) }},
		{Name: "minor on a post for minors / for adults", Rule: matching.RuleMinors,
			Lawful:   func(w *World) { minorOf(w, 17, 0) },
			Unlawful: func(w *World) { minorOf(w, 17, 0); w.Post.MinorsAccepted = false }},
		{Name: "adult turned 18 today / minor until tomorrow on an adults' post", Rule: matching.RuleMinors,
			Lawful: func(w *World) {
				minorOf(w, 18, 0)
				w.Person.Minor, w.Measure.Minor, w.Post.MinorsAccepted = false, false, false
			},
			Unlawful: func(w *World) { minorOf(w, 18, -1); w.Post.MinorsAccepted = false }},
		{Name: "minor until 22:00 / until 22:30", Rule: matching.RuleYoungNight,
			Lawful:   minorOn(sched(slots(1, "18:00", "22:00"))),
			Unlawful: minorOn(sched(slots(1, "18:30", "22:30")))},
		{Name: "minor from 06:00 / from 05:30", Rule: matching.RuleYoungNight,
			Lawful:   minorOn(sched(slots(1, "06:00", "10:00"))),
			Unlawful: minorOn(sched(slots(1, "05:30", "09:30")))},
		{Name: "minor 8 h / 8 h 15 a day", Rule: matching.RuleYoungHours,
			Lawful:   minorOn(sched(slots(1, "08:00", "12:00", "12:30", "16:30"))),
			Unlawful: minorOn(sched(slots(1, "08:00", "12:00", "12:30", "16:45")))},
		{Name: "minor 35 h / 35 h 30 a week", Rule: matching.RuleYoungHours,
			Lawful:   minorOn(sched(days(1, 5, "08:00", "12:00", "12:30", "15:30"))),
			Unlawful: minorOn(sched(days(1, 5, "08:00", "12:00", "12:30", "15:30"), slots(6, "08:00", "08:30")))},
		{Name: "minor 4 h 30 / 4 h 45 without a break", Rule: matching.RuleYoungBreak,
			Lawful:   minorOn(sched(slots(1, "08:00", "12:30"))),
			Unlawful: minorOn(sched(slots(1, "08:00", "12:45")))},
		{Name: "minor with a 30-minute / 20-minute break", Rule: matching.RuleYoungBreak,
			Lawful:   minorOn(sched(slots(1, "08:00", "11:00", "11:30", "14:30"))),
			Unlawful: minorOn(sched(slots(1, "08:00", "11:00", "11:20", "14:20")))},
		{Name: "minor with / without a medical check", Rule: matching.RuleMedicalCheck,
			Lawful:   func(w *World) { minorOf(w, 17, 0) },
			Unlawful: func(w *World) { minorOf(w, 17, 0); w.Person.Medical.CheckDone = false }},
		{Name: "risky post with / without a medical check", Rule: matching.RuleMedicalCheck,
			Lawful:   func(w *World) { w.Post.Risky, w.Person.Medical.CheckDone = true, true },
			Unlawful: func(w *World) { w.Post.Risky = true }},
		{Name: "no night work: until 22:00 / until 22:30", Rule: matching.RuleMedicalRestriction,
			Lawful: func(w *World) {
				w.Person.Medical = atigip.Medical{NoNightWork: true, CheckDone: true}
				w.Person.Availability, w.Post.Schedule = atigip.Schedule{}, sched(slots(1, "18:00", "22:00"))
			},
			Unlawful: func(w *World) {
				w.Person.Medical = atigip.Medical{NoNightWork: true, CheckDone: true}
				w.Person.Availability, w.Post.Schedule = atigip.Schedule{}, sched(slots(1, "18:30", "22:30"))
			}},
		{Name: "60 h at 6 h a week need 70 days: 70 / 69 left after the start delay", Rule: matching.RuleDeadline,
			Lawful:   func(w *World) { deadlineIn(w, delay+70) },
			Unlawful: func(w *World) { deadlineIn(w, delay+69) }},
		{Name: "only the hours within the availability count: 3 h a week need 140 days", Rule: matching.RuleDeadline,
			Lawful: func(w *World) {
				w.Person.Availability = sched(slots(1, "08:00", "10:30"), slots(2, "10:30", "18:00"))
				deadlineIn(w, delay+140)
			},
			Unlawful: func(w *World) {
				w.Person.Availability = sched(slots(1, "08:00", "10:30"), slots(2, "10:30", "18:00"))
				deadlineIn(w, delay+139)
			}},
		{Name: "adult 10 h / 10 h 30 a day", Rule: matching.RuleDailyHours,
			Lawful:   adultOn(sched(slots(1, "08:00", "12:00", "13:00", "19:00"))),
			Unlawful: adultOn(sched(slots(1, "08:00", "12:00", "13:00", "19:30")))},
		{Name: "post and job 47 h / 47 h 30 a week", Rule: matching.RuleWorkingWeek,
			Lawful:   func(w *World) { w.Person.JobHoursPerWeek = 41 },
			Unlawful: func(w *World) { w.Person.JobHoursPerWeek = 41.5 }},
		{Name: "adult without a job 48 h / 48 h 30 a week", Rule: matching.RuleWorkingWeek,
			Lawful:   adultOn(sched(days(1, 6, "08:00", "12:00", "13:00", "17:00"))),
			Unlawful: adultOn(sched(days(1, 6, "08:00", "12:00", "13:00", "17:00"), slots(7, "08:00", "08:30")))},
		{Name: "schedule 30 h 30 / 30 h 45 behind a declared 30 h", Rule: matching.RuleOfferSchedule, Side: SidePrison,
			Lawful:   func(w *World) { w.Offer.Schedule.Slots = append(w.Offer.Schedule.Slots, slots(6, "08:00", "08:30")...) },
			Unlawful: func(w *World) { w.Offer.Schedule.Slots = append(w.Offer.Schedule.Slots, slots(6, "08:00", "08:45")...) }},
		{Name: "contract right after / overlapping by 30 minutes", Rule: matching.RuleContracts, Side: SidePrison,
			Lawful:   func(w *World) { contractLoad(w, 10, sched(slots(5, "14:00", "18:00"), slots(6, "08:00", "14:00"))) },
			Unlawful: func(w *World) { contractLoad(w, 10, sched(slots(5, "13:30", "17:30"), slots(6, "08:00", "14:00"))) }},
		{Name: "with a contract 48 h / 48 h 30 a week", Rule: matching.RulePrisonHours, Side: SidePrison,
			Lawful: func(w *World) {
				s := sched(slots(6, "08:00", "08:30"))
				for d := 1; d <= 5; d++ {
					s.Slots = append(s.Slots, slots(d, "14:30", "18:00")...)
				}
				contractLoad(w, 18, s)
			},
			Unlawful: func(w *World) {
				s := sched(slots(6, "08:00", "09:00"))
				for d := 1; d <= 5; d++ {
					s.Slots = append(s.Slots, slots(d, "14:30", "18:00")...)
				}
				contractLoad(w, 18.5, s)
			}},
		{Name: "with a contract 10 h / 10 h 15 on Monday", Rule: matching.RulePrisonHours, Side: SidePrison,
			Lawful:   func(w *World) { contractLoad(w, 10, sched(slots(1, "14:30", "18:30"), slots(6, "08:00", "14:00"))) },
			Unlawful: func(w *World) { contractLoad(w, 10, sched(slots(1, "14:30", "18:45"), slots(6, "08:00", "13:45"))) }},
		{Name: "2 h / 1 h 30 within the availability", Rule: matching.RuleAvailability,
			Lawful:   func(w *World) { w.Person.Availability = sched(slots(1, "10:00", "12:00")) },
			Unlawful: func(w *World) { w.Person.Availability = sched(slots(1, "10:30", "12:00")) }},
	}
}

// Apply builds the world of one side of c at today.
func (c Case) Apply(today atigip.Date, lawful bool) *World {
	w := New(today)
	f := c.Unlawful
	if lawful {
		f = c.Lawful
	}
	if f != nil {
		f(w)
	}
	return w
}

// Pair is the pair of the case's side as matching.Pair (after Link).
func (w *World) Pair(side Side) matching.Pair {
	if side == SidePrison {
		return matching.Pair{Person: w.Detainee, Offer: w.Offer, Contracts: w.Contracts}
	}
	p := matching.Pair{Person: w.Person, Measure: w.Measure, Post: w.Post}
	if !w.OrgDeleted {
		p.Organisation = w.Org
	}
	if w.RivalPending {
		p.Pending = 1
	}
	return p
}

// Ref is the item of the case's side.
func (w *World) Ref(side Side) matching.Ref {
	if side == SidePrison {
		return matching.Ref{Kind: matching.ItemKind(w.Offer.OfferKind), ID: w.Offer.ID}
	}
	return matching.Ref{Kind: matching.KindTIG, ID: w.Post.ID}
}

// Subject is the person of the case's side.
func (w *World) Subject(side Side) *atigip.Person {
	if side == SidePrison {
		return w.Detainee
	}
	return w.Person
}
