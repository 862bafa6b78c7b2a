package matching

import (
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

var lyon = atigip.Point{Lon: 4.8357, Lat: 45.7640}

// offset moves p by about km east.
func east(p atigip.Point, km float64) atigip.Point {
	return atigip.Point{Lon: p.Lon + km/77.8, Lat: p.Lat}
}

// tigCase is a feasible tigiste–post pair that each test breaks once.
type tigCase struct {
	person  *atigip.Person
	measure *atigip.Measure
	post    *atigip.Post
	org     *atigip.Organisation
}

func newTIGCase() *tigCase {
	mon := atigip.Slot{Day: 1, Start: "09:00", End: "12:00"}
	tue := atigip.Slot{Day: 2, Start: "09:00", End: "12:00"}
	return &tigCase{
		person: &atigip.Person{Meta: atigip.Meta{ID: 1}, Pseudonym: "TIG-0001", CaseSystem: "APPI", CaseRef: "A1",
			BirthDate: atigip.NewDate(1990, time.May, 4), Home: lyon,
			Mobility:  atigip.Mobility{RadiusKm: 10, Transport: atigip.TransportCar},
			ROMECodes: []string{"A1203"}, Experience: "entretien des espaces verts, tonte",
			Availability: atigip.Schedule{Slots: []atigip.Slot{{Day: 1, Start: "08:00", End: "18:00"}, {Day: 2, Start: "08:00", End: "18:00"}}}},
		measure: &atigip.Measure{Meta: atigip.Meta{ID: 1}, PersonID: 1, HoursOrdered: 120, HoursDone: 60,
			SentenceDate: atigip.NewDate(2025, time.January, 10), State: atigip.MeasureToPlace},
		post: &atigip.Post{Meta: atigip.Meta{ID: 7}, OrganisationID: 3, Title: "Agent d'entretien des espaces verts",
			Description: "Tonte, taille des haies", ROMECodes: []string{"A1203"}, Places: 2, PlacesTaken: 1,
			Schedule: atigip.Schedule{Slots: []atigip.Slot{mon, tue}}, PublicTransport: true,
			Location: east(lyon, 3), Status: atigip.PostOpen, Visibility: atigip.VisibilityPublic},
		org: &atigip.Organisation{Meta: atigip.Meta{ID: 3}, Name: "Commune", OrgKind: atigip.OrgCommune, Active: true,
			Habilitation: atigip.Habilitation{Status: atigip.HabHabilitated}},
	}
}

func (c *tigCase) engine(t testing.TB) *Engine {
	t.Helper()
	e, err := New(Data{Posts: []*atigip.Post{c.post}, Organisations: []*atigip.Organisation{c.org},
		People: []*atigip.Person{c.person}, Measures: []*atigip.Measure{c.measure}}, Options{Today: synthToday})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// prisonCase is a feasible detainee–work offer pair.
type prisonCase struct {
	person *atigip.Person
	offer  *atigip.Offer
}

func newPrisonCase() *prisonCase {
	return &prisonCase{
		person: &atigip.Person{Meta: atigip.Meta{ID: 2}, Pseudonym: "DET-0002", CaseSystem: "GENESIS", CaseRef: "G2",
			BirthDate: atigip.NewDate(1985, time.June, 1), Home: lyon, Detained: true, PrisonID: 11, WorkCleared: true,
			ROMECodes: []string{"H3302"}},
		offer: &atigip.Offer{Meta: atigip.Meta{ID: 5}, OfferKind: atigip.OfferWork, Title: "Opérateur de conditionnement",
			PrisonID: 11, Location: lyon, ROMECodes: []string{"H3302"}, Places: 3, HoursPerWeek: 30,
			Schedule: atigip.Schedule{Slots: []atigip.Slot{{Day: 1, Start: "08:00", End: "14:00"}, {Day: 2, Start: "08:00", End: "14:00"},
				{Day: 3, Start: "08:00", End: "14:00"}, {Day: 4, Start: "08:00", End: "14:00"}, {Day: 5, Start: "08:00", End: "14:00"}}},
			EmployerKind: atigip.EmployerConcession, Status: atigip.OfferOpen},
	}
}

func (c *prisonCase) engine(t testing.TB) *Engine {
	t.Helper()
	e, err := New(Data{Offers: []*atigip.Offer{c.offer}, People: []*atigip.Person{c.person}}, Options{Today: synthToday})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestBaselinesAreFeasible(t *testing.T) {
	tc := newTIGCase()
	rk, err := tc.engine(t).OffersForPerson(1, Query{})
	if err != nil || len(rk.Proposals) != 1 {
		t.Fatalf("TIG baseline: %v, %+v", err, rk)
	}
	pc := newPrisonCase()
	rk, err = pc.engine(t).OffersForPerson(2, Query{})
	if err != nil || len(rk.Proposals) != 1 {
		t.Fatalf("prison baseline: %v, %+v", err, rk)
	}
}

// Each hard constraint: one change to a feasible pair breaks exactly that
// rule; without the rule the pair would be proposed and the test fails.
func TestHardConstraints(t *testing.T) {
	tig := []struct {
		name   string
		rule   Rule
		mutate func(c *tigCase)
	}{
		{"post closed", RuleOpen, func(c *tigCase) { c.post.Status = atigip.PostFull }},
		{"no place left", RulePlaces, func(c *tigCase) { c.post.PlacesTaken = 2 }},
		{"detained person", RuleAudience, func(c *tigCase) { c.person.Detained, c.person.PrisonID = true, 11 }},
		{"measure already assigned", RuleMeasure, func(c *tigCase) { c.measure.State, c.measure.PostID = atigip.MeasureAssigned, 7 }},
		{"all hours done", RuleMeasure, func(c *tigCase) { c.measure.HoursDone = 120 }},
		{"organisation not habilitated", RuleHabilitation, func(c *tigCase) { c.org.Habilitation.Status = atigip.HabAwaiting }},
		{"organisation archived", RuleHabilitation, func(c *tigCase) { c.org.Active = false }},
		{"habilitation expired", RuleHabilitation, func(c *tigCase) {
			exp := synthToday.AddDate(0, 0, -1)
			c.org.Habilitation.ExpiresAt = &exp
		}},
		{"beyond radius", RuleMobility, func(c *tigCase) { c.post.Location = east(lyon, 25) }},
		{"public transport needed", RuleTransport, func(c *tigCase) {
			c.person.Mobility.Transport = atigip.TransportPublic
			c.post.PublicTransport = false
		}},
		{"minor under 16", RuleMinorAge, func(c *tigCase) {
			c.person.Minor, c.person.BirthDate = true, synthToday.AddDays(-15*366)
			c.post.MinorsAccepted = true
			c.person.Medical.CheckDone = true
		}},
		{"minor on an adults' post", RuleMinors, func(c *tigCase) {
			c.person.Minor, c.person.BirthDate = true, synthToday.AddDays(-17*366)
			c.person.Medical.CheckDone = true
		}},
		{"minor without medical check", RuleMedicalCheck, func(c *tigCase) {
			c.person.Minor, c.person.BirthDate = true, synthToday.AddDays(-17*366)
			c.post.MinorsAccepted = true
		}},
		{"disability without medical check", RuleMedicalCheck, func(c *tigCase) { c.person.Medical.Disability = true }},
		{"pregnancy without medical check", RuleMedicalCheck, func(c *tigCase) { c.person.Medical.Pregnancy = true }},
		{"night work without medical check", RuleMedicalCheck, func(c *tigCase) {
			c.post.Schedule.Slots = append(c.post.Schedule.Slots, atigip.Slot{Day: 1, Start: "21:00", End: "23:00"})
			c.person.Availability = atigip.Schedule{}
		}},
		{"risky post without medical check", RuleMedicalCheck, func(c *tigCase) { c.post.Risky = true }},
		{"care setting without medical check", RuleMedicalCheck, func(c *tigCase) { c.post.CareSetting = true }},
		{"medical check asked by the host", RuleMedicalCheck, func(c *tigCase) { c.post.MedicalCheck = true }},
		{"no night work", RuleMedicalRestriction, func(c *tigCase) {
			c.post.Schedule.Slots = append(c.post.Schedule.Slots, atigip.Slot{Day: 1, Start: "21:00", End: "23:00"})
			c.person.Availability = atigip.Schedule{}
			c.person.Medical = atigip.Medical{NoNightWork: true, CheckDone: true}
		}},
		{"no risky work", RuleMedicalRestriction, func(c *tigCase) {
			c.post.Risky = true
			c.person.Medical = atigip.Medical{NoRiskyWork: true, CheckDone: true}
		}},
		{"hours do not fit before the deadline", RuleDeadline, func(c *tigCase) {
			// 18 months from 2023-10-01 is 2025-04-01: four weeks from
			// today, plus a 30-day start delay, cannot hold 60 hours at 6 h.
			c.measure.SentenceDate = atigip.NewDate(2023, time.October, 1)
		}},
		{"TIG plus job above 47 h", RuleWorkingWeek, func(c *tigCase) { c.person.JobHoursPerWeek = 42 }},
		{"schedule outside availability", RuleAvailability, func(c *tigCase) {
			c.person.Availability = atigip.Schedule{Slots: []atigip.Slot{{Day: 5, Start: "08:00", End: "18:00"}}}
		}},
	}
	for _, tt := range tig {
		t.Run(tt.name, func(t *testing.T) {
			c := newTIGCase()
			tt.mutate(c)
			checkExcluded(t, c.engine(t), c.person.ID, Ref{KindTIG, c.post.ID}, tt.rule)
		})
	}
	prison := []struct {
		name   string
		rule   Rule
		mutate func(c *prisonCase)
	}{
		{"offer filled", RuleOpen, func(c *prisonCase) { c.offer.Status = atigip.OfferFilled }},
		{"offer without places", RulePlaces, func(c *prisonCase) { c.offer.PlacesTaken = 3 }},
		{"person not detained", RuleAudience, func(c *prisonCase) { c.person.Detained, c.person.PrisonID = false, 0 }},
		{"another prison", RulePrison, func(c *prisonCase) { c.person.PrisonID = 12 }},
		{"not cleared by the CPU", RuleWorkClearance, func(c *prisonCase) { c.person.WorkCleared = false }},
		{"more than 10 h a day", RulePrisonHours, func(c *prisonCase) {
			c.offer.Schedule.Slots[0] = atigip.Slot{Day: 1, Start: "06:00", End: "17:00"}
		}},
		{"more than 48 h a week", RulePrisonHours, func(c *prisonCase) { c.offer.HoursPerWeek = 50 }},
		{"release job beyond radius", RuleMobility, func(c *prisonCase) {
			c.offer.OfferKind, c.offer.PrisonID, c.offer.Location = atigip.OfferRelease, 0, east(lyon, 60)
		}},
	}
	for _, tt := range prison {
		t.Run(tt.name, func(t *testing.T) {
			c := newPrisonCase()
			tt.mutate(c)
			checkExcluded(t, c.engine(t), c.person.ID, Ref{ItemKind(c.offer.OfferKind), c.offer.ID}, tt.rule)
		})
	}
}

func checkExcluded(t *testing.T, e *Engine, personID int64, ref Ref, rule Rule) {
	t.Helper()
	rk, err := e.OffersForPerson(personID, Query{Kinds: []ItemKind{ref.Kind}, Excluded: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rk.Proposals) != 0 {
		t.Fatalf("proposed despite rule %s: %+v", rule, rk.Proposals[0])
	}
	p, err := e.Explain(personID, ref)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range p.Exclusions {
		if x.Rule == rule {
			found = true
			if x.Message == "" || x.Label != rule.Label() || !strings.HasSuffix(x.Message, ".") {
				t.Errorf("exclusion %s lacks a French sentence: %+v", rule, x)
			}
		}
	}
	if !found {
		t.Fatalf("want exclusion %s, got %+v", rule, p.Exclusions)
	}
	if p.Score != 0 || len(p.Terms) != 0 || !strings.HasPrefix(p.Summary, "Exclu : ") {
		t.Errorf("excluded pair carries a score: %+v", p)
	}
}
