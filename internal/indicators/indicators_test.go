package indicators_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/indicators"
	"github.com/atigip/atigip360/internal/workflow/wftest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func at(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, time.UTC) }

// handBuilt is a small data set whose indicators were computed by hand
// (see the expected values in TestComputeHandBuilt).
func handBuilt(t *testing.T) atigip.Store {
	t.Helper()
	s := wftest.SQLite(t)
	ctx := context.Background()
	create := func(e atigip.Entity) int64 {
		t.Helper()
		if err := s.Entities(e.Kind()).Create(ctx, e); err != nil {
			t.Fatalf("create %s: %v", e.Kind(), err)
		}
		return e.GetMeta().ID
	}
	marseille := atigip.Address{Commune: "13055", Departement: "13"}
	org := create(&atigip.Organisation{Name: "Mairie", OrgKind: atigip.OrgCommune, Address: wftest.Lyon,
		Habilitation: atigip.Habilitation{Status: atigip.HabHabilitated}, Active: true})
	for _, p := range []struct {
		addr   atigip.Address
		status atigip.PostStatus
	}{
		{wftest.Lyon, atigip.PostOpen}, {wftest.Lyon, atigip.PostFull}, {wftest.Lyon, atigip.PostDraft},
		{wftest.Lyon, atigip.PostRegistered}, {marseille, atigip.PostOpen}, {marseille, atigip.PostClosed},
	} {
		taken := 0
		if p.status == atigip.PostFull {
			taken = 2
		}
		create(&atigip.Post{OrganisationID: org, Title: "Poste", Places: 2, PlacesTaken: taken, Address: p.addr,
			Location: atigip.Point{Lon: 4.8, Lat: 45.7}, Status: p.status, Visibility: atigip.VisibilityPublic})
	}
	person := create(&atigip.Person{Pseudonym: "TIG-0001", CaseSystem: "APPI", CaseRef: "P1"})
	started := func(from atigip.MeasureState, to atigip.MeasureState, day time.Time) []atigip.MeasureEvent {
		return []atigip.MeasureEvent{{At: day, By: "tuteur", Role: atigip.RoleHost, From: atigip.MeasureAssigned, To: atigip.MeasureInProgress},
			{At: day.AddDate(0, 1, 0), By: "cpip", Role: atigip.RoleCPIP, From: from, To: to}}
	}
	ms := []*atigip.Measure{
		// A: 60 days (2024 is a leap year), completed.
		{Departement: "69", SentenceDate: atigip.NewDate(2024, 1, 1), StartDate: atigip.NewDate(2024, 3, 1), State: atigip.MeasureCompleted,
			HoursDone: 20, History: started(atigip.MeasureInProgress, atigip.MeasureCompleted, at(2024, 3, 1))},
		// B: 70 days, in progress.
		{Departement: "69", SentenceDate: atigip.NewDate(2024, 1, 10), StartDate: atigip.NewDate(2024, 3, 20), State: atigip.MeasureInProgress},
		// C: 90 days, suspended.
		{Departement: "69", SentenceDate: atigip.NewDate(2024, 2, 1), StartDate: atigip.NewDate(2024, 5, 1), State: atigip.MeasureSuspended,
			Suspensions: []atigip.Suspension{{From: atigip.NewDate(2024, 6, 1), Reason: "Incarcération"}}},
		// D: 182 days, closed without completion after it started.
		{Departement: "13", SentenceDate: atigip.NewDate(2024, 1, 1), StartDate: atigip.NewDate(2024, 7, 1), State: atigip.MeasureClosedFailed,
			History: started(atigip.MeasureInProgress, atigip.MeasureClosedFailed, at(2024, 7, 1))},
		// E: assigned with a planned start: not started.
		{Departement: "13", SentenceDate: atigip.NewDate(2024, 1, 1), StartDate: atigip.NewDate(2024, 9, 1), State: atigip.MeasureAssigned},
		// F: closed before any start.
		{Departement: "13", SentenceDate: atigip.NewDate(2024, 1, 1), State: atigip.MeasureClosedFailed},
		// G: 288 days, completed.
		{Departement: "69", SentenceDate: atigip.NewDate(2023, 6, 1), StartDate: atigip.NewDate(2024, 3, 15), State: atigip.MeasureCompleted, HoursDone: 20},
		// H: to place.
		{Departement: "69", SentenceDate: atigip.NewDate(2024, 6, 1), State: atigip.MeasureToPlace},
	}
	for _, m := range ms {
		m.PersonID, m.HoursOrdered = person, 20
		if m.State != atigip.MeasureToPlace && m.State != atigip.MeasureClosedFailed {
			m.PostID = 1
		}
		create(m)
	}
	prison := create(&atigip.Prison{Name: "CP", Type: "CP", Address: wftest.Lyon, Location: atigip.Point{Lon: 4.9, Lat: 45.6}})
	offer := func(kind atigip.OfferKind, emp atigip.EmployerKind, name string, st atigip.OfferStatus) int64 {
		hours := 20.0
		return create(&atigip.Offer{OfferKind: kind, Title: "Offre", PrisonID: prison, Location: atigip.Point{Lon: 4.9, Lat: 45.6},
			Places: 3, HoursPerWeek: hours, EmployerKind: emp, EmployerName: name, Status: st})
	}
	work := offer(atigip.OfferWork, atigip.EmployerConcession, "Alpha", atigip.OfferOpen)
	offer(atigip.OfferWork, atigip.EmployerConcession, "Alpha", atigip.OfferFilled)
	offer(atigip.OfferWork, atigip.EmployerConcession, "Beta", atigip.OfferClosed)
	offer(atigip.OfferWork, atigip.EmployerConcession, "Gamma", atigip.OfferFilled)
	offer(atigip.OfferWork, atigip.EmployerSEP, "RIEP", atigip.OfferOpen)
	training := offer(atigip.OfferTraining, atigip.EmployerPublic, "", atigip.OfferOpen)
	detainee := func(ref string, detained bool) int64 {
		p := &atigip.Person{Pseudonym: "DET-" + ref, CaseSystem: "GENESIS", CaseRef: ref, Detained: detained}
		if detained {
			p.PrisonID = prison
		}
		return create(p)
	}
	d1, d2, d3 := detainee("D1", true), detainee("D2", true), detainee("D3", true)
	d4, d5 := detainee("D4", false), detainee("D5", false) // released
	app := func(person, offer int64, state atigip.ApplicationState, events ...atigip.ApplicationEvent) {
		create(&atigip.Application{PersonID: person, OfferID: offer, State: state, History: events})
	}
	ev := func(to atigip.ApplicationState, day time.Time) atigip.ApplicationEvent {
		return atigip.ApplicationEvent{At: day, By: "greffe", Role: atigip.RolePrisonStaff, To: to}
	}
	app(d1, work, atigip.AppAccepted, ev(atigip.AppSubmitted, at(2024, 2, 1)), ev(atigip.AppAccepted, at(2024, 3, 1)))
	app(d1, training, atigip.AppAccepted, ev(atigip.AppSubmitted, at(2023, 2, 1)), ev(atigip.AppAccepted, at(2023, 3, 1)))
	app(d2, training, atigip.AppAccepted, ev(atigip.AppSubmitted, at(2024, 4, 1)), ev(atigip.AppAccepted, at(2024, 5, 1)))
	app(d3, work, atigip.AppSubmitted, ev(atigip.AppSubmitted, at(2024, 6, 1)))
	app(d4, work, atigip.AppAccepted, ev(atigip.AppSubmitted, at(2024, 1, 5)), ev(atigip.AppAccepted, at(2024, 1, 20)))
	app(d5, work, atigip.AppAccepted, ev(atigip.AppSubmitted, at(2023, 1, 5)), ev(atigip.AppAccepted, at(2023, 1, 20)))
	return s
}

func TestComputeHandBuilt(t *testing.T) {
	s := handBuilt(t)
	r, err := indicators.Compute(context.Background(), s, atigip.NewDate(2024, 12, 31), 2024)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("posts", func(t *testing.T) {
		want := indicators.Posts{Offered: 4, Open: 2, ByDepartement: map[string]indicators.PostsDep{
			"69": {Offered: 3, Open: 1}, "13": {Offered: 1, Open: 1}}}
		if !reflect.DeepEqual(r.Posts, want) {
			t.Fatalf("posts %+v, want %+v", r.Posts, want)
		}
	})
	t.Run("delay", func(t *testing.T) {
		// Delays 60, 70, 90, 182, 288: median 90, p90 = 5th of 5.
		if want := (indicators.Stats{Count: 5, Median: 90, P90: 288}); r.Delay.Stats != want {
			t.Fatalf("all %+v, want %+v", r.Delay.Stats, want)
		}
		wantDep := map[string]indicators.Stats{"69": {Count: 4, Median: 80, P90: 288}, "13": {Count: 1, Median: 182, P90: 182}}
		if !reflect.DeepEqual(r.Delay.ByDepartement, wantDep) {
			t.Fatalf("by département %+v", r.Delay.ByDepartement)
		}
		wantMonth := map[string]indicators.Stats{"2024-03": {Count: 3, Median: 70, P90: 288},
			"2024-05": {Count: 1, Median: 90, P90: 90}, "2024-07": {Count: 1, Median: 182, P90: 182}}
		if !reflect.DeepEqual(r.Delay.ByMonth, wantMonth) {
			t.Fatalf("by month %+v", r.Delay.ByMonth)
		}
		if got := r.Delay.ByDepartementMonth["69/2024-03"]; got != (indicators.Stats{Count: 3, Median: 70, P90: 288}) {
			t.Fatalf("69/2024-03 %+v", got)
		}
	})
	t.Run("completion", func(t *testing.T) {
		if want := (indicators.Completion{Ended: 4, Completed: 2, Share: 0.5}); r.Completion != want {
			t.Fatalf("%+v, want %+v", r.Completion, want)
		}
	})
	t.Run("detainees", func(t *testing.T) {
		want := indicators.Detainees{Detainees: 4, Worked: 2, Trained: 1, WorkedOrTrained: 3, ShareWorked: 0.5, ShareTrained: 0.25, Share: 0.75}
		if r.Detainees != want {
			t.Fatalf("%+v, want %+v", r.Detainees, want)
		}
	})
	t.Run("businesses", func(t *testing.T) {
		if r.Businesses != 2 {
			t.Fatalf("%d businesses, want 2 (Alpha, Gamma)", r.Businesses)
		}
	})
	t.Run("csv", func(t *testing.T) {
		var b bytes.Buffer
		if err := indicators.WriteCSV(&b, r); err != nil {
			t.Fatal(err)
		}
		if _, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll(); err != nil {
			t.Fatalf("CSV does not parse: %v", err)
		}
		golden := filepath.Join("testdata", "handbuilt.csv")
		if *update {
			if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Fatalf("CSV differs from %s:\n%s", golden, b.String())
		}
	})
}

func TestSummarise(t *testing.T) {
	cases := []struct {
		in   []float64
		want indicators.Stats
	}{
		{nil, indicators.Stats{}},
		{[]float64{7}, indicators.Stats{Count: 1, Median: 7, P90: 7}},
		{[]float64{4, 1}, indicators.Stats{Count: 2, Median: 2.5, P90: 4}},
		{[]float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, indicators.Stats{Count: 10, Median: 5.5, P90: 9}},
	}
	for _, c := range cases {
		if got := indicators.Summarise(c.in); got != c.want {
			t.Errorf("Summarise(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func ExampleSummarise() {
	s := indicators.Summarise([]float64{60, 70, 90, 182, 288})
	fmt.Println(s.Count, s.Median, s.P90)
	// Output: 5 90 288
}
