package storetest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// place is a real commune with its département and approximate centre.
type place struct {
	dep, commune, city, postcode string
	lon, lat                     float64
}

// places spread the samples over départements, including Corsica and an
// overseas département whose codes are not plain two digits.
var places = []place{
	{"69", "69123", "Lyon", "69001", 4.8357, 45.7640},
	{"75", "75056", "Paris", "75001", 2.3522, 48.8566},
	{"13", "13055", "Marseille", "13001", 5.3698, 43.2965},
	{"2A", "2A004", "Ajaccio", "20000", 8.7369, 41.9192},
	{"971", "97105", "Basse-Terre", "97100", -61.7261, 15.9985},
	{"69", "69266", "Villeurbanne", "69100", 4.8798, 45.7719},
	{"13", "13001", "Aix-en-Provence", "13090", 5.4474, 43.5297},
}

// romeCodes mixes domains; A1203 and A1101 share domain A so that an entity
// holding both must still be listed once by a domain filter.
var romeCodes = []string{"A1203", "K2204", "N1103", "G1602", "A1101"}

var (
	postStatuses    = []atigip.PostStatus{atigip.PostOpen, atigip.PostRegistered, atigip.PostFull, atigip.PostDraft, atigip.PostClosed}
	habStatuses     = []atigip.HabilitationStatus{atigip.HabHabilitated, atigip.HabRequested, atigip.HabNone, atigip.HabAwaiting}
	prisonTypes     = []atigip.PrisonType{"MA", "CD", "CP", "EPM"}
	floorStatuses   = []atigip.FloorStatus{atigip.FloorAvailable, atigip.FloorReserved, atigip.FloorOccupied}
	offerStatuses   = []atigip.OfferStatus{atigip.OfferOpen, atigip.OfferFilled, atigip.OfferClosed}
	measureStates   = []atigip.MeasureState{atigip.MeasureToPlace, atigip.MeasureInProgress, atigip.MeasureCompleted, atigip.MeasureSuspended}
	appStates       = []atigip.ApplicationState{atigip.AppSubmitted, atigip.AppInterview, atigip.AppAccepted}
	floorUses       = []atigip.FloorUse{atigip.UseProduction, atigip.UseStorage, atigip.UseOffice}
	weekdaySchedule = atigip.Schedule{Slots: []atigip.Slot{{Day: 2, Start: "09:00", End: "12:00"}, {Day: 4, Start: "14:00", End: "17:30"}}}
)

func romeFor(i int) []string {
	codes := []string{romeCodes[i%len(romeCodes)]}
	if i%4 == 0 {
		// A second code, sometimes in the same domain (A1203 then A1101).
		codes = append(codes, romeCodes[(i+4)%len(romeCodes)])
	}
	return codes
}

func addressFor(p place, i int) atigip.Address {
	return atigip.Address{Street: fmt.Sprintf("%d rue de la République", 1+i%90), Postcode: p.postcode,
		City: p.city, Commune: p.commune, Departement: p.dep}
}

// Sample returns the i-th valid sample entity of kind k (i ≥ 0). Its keys
// (département, commune, status, parent, ROME codes, visibility, Ref) vary
// with i so that every filter selects a proper subset of a run of samples;
// Ref, when set, is unique per i. Timestamps in it are UTC and whole
// seconds so that they survive any store unchanged.
func Sample(k atigip.Kind, i int) atigip.Entity {
	p := places[i%len(places)]
	loc := atigip.Point{Lon: p.lon + float64(i%10)*0.001, Lat: p.lat + float64(i%7)*0.001}
	parent := int64(1 + i%3)
	day := time.Date(2024, 3, 1+i%28, 10, 30, 0, 0, time.UTC)
	switch k {
	case atigip.KindOrganisation:
		o := &atigip.Organisation{
			Name:     fmt.Sprintf("Association d'entraide n° %d", i),
			OrgKind:  []atigip.OrganisationKind{atigip.OrgAssociation, atigip.OrgCommune, atigip.OrgHospital}[i%3],
			Address:  addressFor(p, i),
			Location: loc,
			Habilitation: atigip.Habilitation{Status: habStatuses[i%len(habStatuses)],
				RequestedAt: &day, Authority: "DSPIP du Rhône"},
			Contacts: []atigip.Contact{{Name: "Camille Martin", Role: "tutrice", Email: "tutrice@example.org"}},
			Active:   i%5 != 4,
		}
		if i%2 == 0 {
			o.CRMID, o.CRMVersion = int64(100000+i), 3
		}
		return o
	case atigip.KindPost:
		vis := atigip.VisibilityPublic
		if i%3 == 2 {
			vis = atigip.VisibilityJustice
		}
		return &atigip.Post{
			OrganisationID: parent,
			Title:          fmt.Sprintf("Entretien des espaces verts n° %d", i),
			Description:    "Tonte, désherbage manuel, ramassage des feuilles.",
			ROMECodes:      romeFor(i),
			Places:         2 + i%3,
			PlacesTaken:    i % 2,
			Schedule:       weekdaySchedule,
			MinorsAccepted: i%2 == 0, PublicTransport: true,
			Address: addressFor(p, i), Location: loc,
			Status: postStatuses[i%len(postStatuses)], Visibility: vis,
		}
	case atigip.KindPrison:
		return &atigip.Prison{
			Name: fmt.Sprintf("Centre pénitentiaire n° %d", i), Type: prisonTypes[i%len(prisonTypes)],
			DISP: "DISP de Lyon", SPIP: "SPIP du Rhône", Address: addressFor(p, i), Location: loc,
			LocationPrecision: "commune_centroid", Capacity: 300 + i,
		}
	case atigip.KindFloorSpace:
		x, y := loc.Lon, loc.Lat
		ring := atigip.Ring{{Lon: x, Lat: y}, {Lon: x + 0.001, Lat: y}, {Lon: x + 0.001, Lat: y + 0.001}, {Lon: x, Lat: y}}
		return &atigip.FloorSpace{
			PrisonID: parent, Name: fmt.Sprintf("Atelier %d", i), Geometry: atigip.Polygon{ring},
			AreaM2: 250 + float64(i), Use: floorUses[i%len(floorUses)], CeilingHeightM: 4.5,
			LoadingDock: i%2 == 0, PowerKVA: 120, AvailableFrom: &day,
			Status: floorStatuses[i%len(floorStatuses)], Departement: p.dep, Commune: p.commune,
		}
	case atigip.KindOffer:
		return &atigip.Offer{
			OfferKind: atigip.OfferWork, Title: fmt.Sprintf("Opérateur de conditionnement n° %d", i),
			PrisonID: parent, Address: addressFor(p, i), Location: loc, ROMECodes: romeFor(i),
			Places: 5, PlacesTaken: i % 5, HoursPerWeek: 20, Schedule: weekdaySchedule,
			EmployerKind: atigip.EmployerConcession, EmployerName: "Conditionnement du Rhône",
			Status: offerStatuses[i%len(offerStatuses)],
		}
	case atigip.KindPerson:
		detained := i%3 == 0
		var prison int64
		if detained {
			prison = parent
		}
		return &atigip.Person{
			Pseudonym: fmt.Sprintf("PPSMJ-%06d", i), CaseSystem: []string{"APPI", "GENESIS"}[i%2],
			CaseRef: fmt.Sprintf("%010d", 5000000+i), BirthDate: atigip.NewDate(1990, time.Month(1+i%12), 1+i%28),
			Home: loc, HomeAddress: atigip.Address{Commune: p.commune, Departement: p.dep},
			Mobility:  atigip.Mobility{RadiusKm: 20, Transport: atigip.TransportPublic},
			ROMECodes: romeFor(i), Diplomas: []string{"CAP"}, Availability: weekdaySchedule,
			Detained: detained, PrisonID: prison,
		}
	case atigip.KindMeasure:
		state := measureStates[i%len(measureStates)]
		m := &atigip.Measure{
			PersonID: parent, HoursOrdered: 20 + 10*(i%30), SentenceDate: atigip.NewDate(2024, time.Month(1+i%12), 1+i%28),
			State: state, Court: "Tribunal judiciaire de Lyon", Departement: p.dep,
		}
		if state != atigip.MeasureToPlace {
			m.PostID = int64(10 + i)
		}
		if i%2 == 0 {
			m.CaseRef = fmt.Sprintf("M%09d", i)
		}
		return m
	case atigip.KindApplication:
		return &atigip.Application{PersonID: int64(100 + i), OfferID: parent,
			State: appStates[i%len(appStates)], Rank: 1 + i%4}
	}
	panic(fmt.Sprintf("storetest: no sample for kind %q", k))
}

// Invalid returns a sample of kind k broken on one field, and that field's
// name as reported in the EINVALID field errors.
func Invalid(k atigip.Kind) (atigip.Entity, string) {
	e := Sample(k, 0)
	switch v := e.(type) {
	case *atigip.Organisation:
		v.SIRET = "12345678901234"
		return v, "siret"
	case *atigip.Post:
		v.Title = " "
		return v, "title"
	case *atigip.Prison:
		v.Type = "XX"
		return v, "type"
	case *atigip.FloorSpace:
		v.AreaM2 = -1
		return v, "area_m2"
	case *atigip.Offer:
		v.HoursPerWeek = 70
		return v, "hours_per_week"
	case *atigip.Person:
		v.Pseudonym = "x"
		return v, "pseudonym"
	case *atigip.Measure:
		v.HoursOrdered = 500
		return v, "hours_ordered"
	case *atigip.Application:
		v.OfferID = 0
		return v, "offer_id"
	}
	panic(fmt.Sprintf("storetest: no invalid sample for kind %q", k))
}

// Matches is the reference semantics of ListFilter over Keys, against
// which the suite checks every adapter (pagination fields are ignored).
func Matches(id int64, k atigip.Keys, f atigip.ListFilter) bool {
	if f.Departement != "" && k.Departement != f.Departement {
		return false
	}
	if f.Commune != "" && k.Commune != f.Commune {
		return false
	}
	if len(f.Status) > 0 && !slices.Contains(f.Status, k.Status) {
		return false
	}
	if f.Parent != 0 && k.Parent != f.Parent {
		return false
	}
	if f.Owner != 0 && k.Owner != f.Owner {
		return false
	}
	if f.ROME != "" && !slices.ContainsFunc(k.ROME, func(c string) bool { return strings.HasPrefix(c, f.ROME) }) {
		return false
	}
	if f.PublicOnly && !k.Public {
		return false
	}
	if f.Ref != "" && k.Ref != f.Ref {
		return false
	}
	if len(f.IDs) > 0 && !slices.Contains(f.IDs, id) {
		return false
	}
	return true
}
