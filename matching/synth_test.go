package matching

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// synthToday is the date synthetic data is built around.
var synthToday = atigip.NewDate(2025, time.March, 3)

// synth builds a deterministic national-like instance: posts clustered
// around city centres in metropolitan France, people living near them.
func synth(seed uint64, nOrgs, nPosts, nPeople int) Data {
	r := rand.New(rand.NewPCG(seed, 7))
	codes := refdata.ROMECodes()
	// Forty ROME codes: TIG posts use a small part of ROME.
	pool := make([]string, 0, 40)
	for i := 0; i < 40; i++ {
		pool = append(pool, codes[r.IntN(len(codes))].Code)
	}
	cities := make([]atigip.Point, 120)
	for i := range cities {
		cities[i] = atigip.Point{Lon: -1.5 + 9*r.Float64(), Lat: 43 + 7*r.Float64()}
	}
	near := func(km float64) atigip.Point {
		c := cities[r.IntN(len(cities))]
		return atigip.Point{Lon: c.Lon + (r.Float64()*2-1)*km/75, Lat: c.Lat + (r.Float64()*2-1)*km/111}
	}
	day := func(d int, a, b string) atigip.Slot { return atigip.Slot{Day: d, Start: a, End: b} }
	var d Data
	for i := 1; i <= nOrgs; i++ {
		d.Organisations = append(d.Organisations, &atigip.Organisation{Meta: atigip.Meta{ID: int64(i)},
			Name: fmt.Sprintf("Structure %d", i), OrgKind: atigip.OrgCommune, Active: r.Float64() > 0.02,
			Habilitation: atigip.Habilitation{Status: atigip.HabHabilitated}})
	}
	words := []string{"entretien", "espaces verts", "restauration", "accueil", "bibliothèque", "logistique",
		"peinture", "nettoyage", "animation", "tri des déchets", "cuisine", "jardinage", "manutention"}
	for i := 1; i <= nPosts; i++ {
		code := pool[r.IntN(len(pool))]
		var slots []atigip.Slot
		for dd := 1; dd <= 5; dd++ {
			if r.Float64() < 0.5 {
				slots = append(slots, day(dd, "09:00", []string{"12:00", "13:00", "17:00"}[r.IntN(3)]))
			}
		}
		if len(slots) == 0 {
			slots = append(slots, day(3, "14:00", "18:00"))
		}
		if r.Float64() < 0.05 {
			slots = append(slots, day(6, "20:00", "23:00"))
		}
		places := 1 + r.IntN(3)
		status := atigip.PostOpen
		if r.Float64() < 0.05 {
			status = atigip.PostClosed
		}
		w := words[r.IntN(len(words))]
		d.Posts = append(d.Posts, &atigip.Post{Meta: atigip.Meta{ID: int64(i)}, OrganisationID: int64(1 + r.IntN(nOrgs)),
			Title: "Agent " + w, Description: "Travaux de " + w + " au sein de la structure.", ROMECodes: []string{code},
			Places: places, PlacesTaken: r.IntN(places + 1), Schedule: atigip.Schedule{Slots: slots},
			MinorsAccepted: r.Float64() < 0.3, PublicTransport: r.Float64() < 0.7, Risky: r.Float64() < 0.05,
			CareSetting: r.Float64() < 0.05, Location: near(12), Status: status, Visibility: atigip.VisibilityPublic})
	}
	for i := 1; i <= nPeople; i++ {
		code := pool[r.IntN(len(pool))]
		birth := synthToday.AddDate(-(18 + r.IntN(40)), -r.IntN(12), 0)
		minor := r.Float64() < 0.05
		if minor {
			birth = synthToday.AddDate(-(16 + r.IntN(2)), -r.IntN(12), 0)
		}
		transport := atigip.TransportCar
		if r.Float64() < 0.4 {
			transport = atigip.TransportPublic
		}
		var avail []atigip.Slot
		if r.Float64() < 0.8 {
			for dd := 1; dd <= 6; dd++ {
				if r.Float64() < 0.6 {
					avail = append(avail, day(dd, "08:00", "18:00"))
				}
			}
		}
		p := &atigip.Person{Meta: atigip.Meta{ID: int64(i)}, Pseudonym: fmt.Sprintf("P-%06d", i), CaseSystem: "APPI",
			CaseRef: fmt.Sprintf("R%06d", i), Minor: minor, BirthDate: atigip.Date{Time: birth}, Home: near(15),
			Mobility: atigip.Mobility{RadiusKm: float64(5 + r.IntN(30)), Transport: transport}, ROMECodes: []string{code},
			Experience: "Expérience en " + words[r.IntN(len(words))], Wishes: "Souhaite travailler en " + words[r.IntN(len(words))],
			Availability: atigip.Schedule{Slots: avail}, Medical: atigip.Medical{CheckDone: r.Float64() < 0.5}}
		if r.Float64() < 0.2 {
			p.JobHoursPerWeek = float64(20 + r.IntN(20))
		}
		d.People = append(d.People, p)
		hours := 20 + 10*r.IntN(20)
		d.Measures = append(d.Measures, &atigip.Measure{Meta: atigip.Meta{ID: int64(i)}, PersonID: int64(i),
			HoursOrdered: hours, HoursDone: float64(r.IntN(hours / 2)), State: atigip.MeasureToPlace,
			SentenceDate: synthToday.AddDays(-r.IntN(400))})
	}
	return d
}
