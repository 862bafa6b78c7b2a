// Package wftest builds small, hand-made worlds for the tests of the
// workflows, the flows, the indicators and their HTTP routes: a store
// (SQLite in a temporary directory, or PostgreSQL on a throwaway schema)
// with a habilitated host organisation, an open post, a prison with a work
// offer and a cleared detainee.
package wftest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/store/postgres"
	"github.com/atigip/atigip360/internal/store/postgres/pgtest"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

// SQLite opens a fresh, migrated SQLite store in a temporary directory,
// closed when t ends.
func SQLite(t testing.TB) atigip.Store {
	t.Helper()
	return SQLiteAt(t, filepath.Join(t.TempDir(), "atigip.db"))
}

// SQLiteAt opens (or reopens) the SQLite store at path, closed when t ends.
func SQLiteAt(t testing.TB, path string) atigip.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("wftest: open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("wftest: migrate sqlite: %v", err)
	}
	return s
}

// Postgres opens a store on a throwaway schema (skipped when PostgreSQL is
// unreachable outside CI).
func Postgres(t testing.TB) atigip.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatalf("wftest: open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("wftest: migrate postgres: %v", err)
	}
	return s
}

// Stores are the adapters the flow tests run on.
var Stores = map[string]func(testing.TB) atigip.Store{"sqlite": SQLite, "postgres": Postgres}

// World is what Build creates.
type World struct {
	Org      *atigip.Organisation
	Post     *atigip.Post
	Prison   *atigip.Prison
	Prison2  *atigip.Prison
	Offer    *atigip.Offer
	Detainee *atigip.Person
	Person   *atigip.Person  // a tigiste
	Measure  *atigip.Measure // to place, with an APPI number
}

// Weekdays 9:00-12:00: 15 hours a week.
var Weekdays = atigip.Schedule{Slots: []atigip.Slot{
	{Day: 1, Start: "09:00", End: "12:00"}, {Day: 2, Start: "09:00", End: "12:00"}, {Day: 3, Start: "09:00", End: "12:00"},
	{Day: 4, Start: "09:00", End: "12:00"}, {Day: 5, Start: "09:00", End: "12:00"}}}

// Lyon is a place in the Rhône.
var Lyon = atigip.Address{Street: "1 place Bellecour", Postcode: "69002", City: "Lyon", Commune: "69382", Departement: "69"}

// Build creates the world in s.
func Build(t testing.TB, s atigip.Store) *World {
	t.Helper()
	ctx := context.Background()
	exp := time.Now().AddDate(3, 0, 0).UTC()
	w := &World{}
	w.Org = &atigip.Organisation{Name: "Mairie de Lyon", OrgKind: atigip.OrgCommune, Address: Lyon,
		Location: atigip.Point{Lon: 4.83, Lat: 45.76}, Active: true,
		Habilitation: atigip.Habilitation{Status: atigip.HabHabilitated, ExpiresAt: &exp}}
	must(t, s.Entities(atigip.KindOrganisation).Create(ctx, w.Org))
	w.Post = &atigip.Post{OrganisationID: w.Org.ID, Title: "Entretien des espaces verts", ROMECodes: []string{"A1203"},
		Places: 2, Schedule: Weekdays, Address: Lyon, Location: atigip.Point{Lon: 4.83, Lat: 45.76},
		Status: atigip.PostOpen, Visibility: atigip.VisibilityPublic, MinorsAccepted: true}
	must(t, s.Entities(atigip.KindPost).Create(ctx, w.Post))
	for _, p := range []**atigip.Prison{&w.Prison, &w.Prison2} {
		*p = &atigip.Prison{Name: "Centre pénitentiaire de Lyon-Corbas", Type: "CP", Address: Lyon,
			Location: atigip.Point{Lon: 4.9, Lat: 45.67}, Capacity: 700}
		must(t, s.Entities(atigip.KindPrison).Create(ctx, *p))
	}
	w.Offer = &atigip.Offer{OfferKind: atigip.OfferWork, Title: "Opérateur de conditionnement", PrisonID: w.Prison.ID,
		Address: Lyon, Location: atigip.Point{Lon: 4.9, Lat: 45.67}, ROMECodes: []string{"H3302"}, Places: 1,
		HoursPerWeek: 15, Schedule: Weekdays, EmployerKind: atigip.EmployerConcession, EmployerName: "Conditionnement du Rhône",
		Status: atigip.OfferOpen}
	must(t, s.Entities(atigip.KindOffer).Create(ctx, w.Offer))
	cleared := time.Now().UTC()
	w.Detainee = &atigip.Person{Pseudonym: "DET-0001", CaseSystem: "GENESIS", CaseRef: "G0001", Detained: true,
		PrisonID: w.Prison.ID, WorkCleared: true, WorkClearedAt: &cleared, HomeAddress: Lyon}
	must(t, s.Entities(atigip.KindPerson).Create(ctx, w.Detainee))
	w.Person = &atigip.Person{Pseudonym: "TIG-0001", CaseSystem: "APPI", CaseRef: "P0001", HomeAddress: Lyon,
		Home: atigip.Point{Lon: 4.84, Lat: 45.76}}
	must(t, s.Entities(atigip.KindPerson).Create(ctx, w.Person))
	w.Measure = &atigip.Measure{PersonID: w.Person.ID, CaseRef: "M0001", HoursOrdered: 20,
		SentenceDate: atigip.DateOf(time.Now().AddDate(0, -2, 0)), State: atigip.MeasureToPlace, Departement: "69"}
	must(t, s.Entities(atigip.KindMeasure).Create(ctx, w.Measure))
	return w
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("wftest: build: %v", err)
	}
}
