package matching_test

import (
	"fmt"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
)

func Example() {
	lyon := atigip.Point{Lon: 4.8357, Lat: 45.7640}
	week := atigip.Schedule{Slots: []atigip.Slot{{Day: 2, Start: "09:00", End: "12:00"}, {Day: 4, Start: "09:00", End: "12:00"}}}
	data := matching.Data{
		Posts: []*atigip.Post{
			{Meta: atigip.Meta{ID: 1}, OrganisationID: 1, Title: "Entretien des espaces verts", ROMECodes: []string{"A1203"},
				Places: 2, Schedule: week, Location: atigip.Point{Lon: 4.87, Lat: 45.76}, Status: atigip.PostOpen},
			{Meta: atigip.Meta{ID: 2}, OrganisationID: 2, Title: "Aide en bibliothèque", ROMECodes: []string{"K1601"},
				Places: 1, Schedule: week, Location: atigip.Point{Lon: 4.84, Lat: 45.75}, Status: atigip.PostOpen},
			{Meta: atigip.Meta{ID: 3}, OrganisationID: 2, Title: "Peinture de locaux", ROMECodes: []string{"F1606"},
				Places: 1, Schedule: week, Location: atigip.Point{Lon: 5.03, Lat: 45.72}, Status: atigip.PostOpen},
		},
		People: []*atigip.Person{{Meta: atigip.Meta{ID: 10}, Home: lyon, ROMECodes: []string{"A1203"},
			Mobility:   atigip.Mobility{RadiusKm: 10, Transport: atigip.TransportCar},
			Experience: "Tonte et taille de haies dans un parc"}},
		Measures: []*atigip.Measure{{Meta: atigip.Meta{ID: 5}, PersonID: 10, HoursOrdered: 70,
			SentenceDate: atigip.NewDate(2025, time.January, 6), State: atigip.MeasureToPlace}},
	}
	e, err := matching.New(data, matching.Options{Today: atigip.NewDate(2025, time.March, 3)})
	if err != nil {
		panic(err)
	}
	rk, err := e.OffersForPerson(10, matching.Query{Limit: 5, Excluded: true})
	if err != nil {
		panic(err)
	}
	for _, p := range rk.Proposals {
		fmt.Printf("%d. %s (%.1f km)\n   %s\n", p.Rank, p.Title, p.DistanceKm, p.Summary)
	}
	for _, p := range rk.Excluded {
		fmt.Printf("exclu : %s — %s\n", p.Title, p.Exclusions[0].Message)
	}
	// Output:
	// 1. Entretien des espaces verts (2.7 km)
	//    Score 0,70 : Même métier : Agent / Agente d'entretien des espaces verts (A1203) ; À 2,7 km du domicile (rayon de mobilité 10 km).
	// 2. Aide en bibliothèque (1.6 km)
	//    Score 0,32 : À 1,6 km du domicile (rayon de mobilité 10 km) ; Structure occupée à 0 % (0 place(s) prise(s) sur 2).
	// exclu : Peinture de locaux — Le poste est à 15,9 km du domicile, au-delà du rayon de mobilité de 10 km.
}
