package caseload_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/caseload"
	"github.com/atigip/atigip360/internal/seed/seedtest"
	"github.com/atigip/atigip360/internal/workflow"
)

func row(id int64, name string, st atigip.MeasureState, deadline string, left float64, flags ...caseload.Flag) caseload.Row {
	var d atigip.Date
	if deadline != "" {
		t, _ := time.Parse(time.DateOnly, deadline)
		d = atigip.DateOf(t)
	}
	return caseload.Row{Measure: &atigip.Measure{Meta: atigip.Meta{ID: id}, State: st, CaseRef: fmt.Sprintf("TIG-%d", id)},
		Pseudonym: name, Deadline: workflow.DeadlineInfo{Deadline: d, HoursLeft: left}, Flags: flags}
}

func ids(p caseload.Page) []int64 {
	out := []int64{}
	for _, r := range p.Rows {
		out = append(out, r.Measure.ID)
	}
	return out
}

func TestSelect(t *testing.T) {
	rows := []caseload.Row{
		row(1, "P-B", atigip.MeasureInProgress, "2027-03-01", 40),
		row(2, "P-A", atigip.MeasureToPlace, "2027-01-01", 100, caseload.FlagNoProposal),
		row(3, "P-C", atigip.MeasureSuspended, "", 10, caseload.FlagIncident),
		row(4, "Q-D", atigip.MeasureToPlace, "2026-12-20", 60, caseload.FlagNoProposal, caseload.FlagDeadline),
	}
	for _, c := range []struct {
		name string
		q    caseload.Query
		want []int64
	}{
		{"by deadline, undated last", caseload.Query{}, []int64{4, 2, 1, 3}},
		{"by deadline, descending", caseload.Query{Desc: true}, []int64{3, 1, 2, 4}},
		{"by hours left", caseload.Query{Sort: caseload.SortHours}, []int64{3, 1, 4, 2}},
		{"by state", caseload.Query{Sort: caseload.SortState}, []int64{2, 4, 1, 3}},
		{"by person", caseload.Query{Sort: caseload.SortPerson}, []int64{2, 1, 3, 4}},
		{"a state", caseload.Query{States: []atigip.MeasureState{atigip.MeasureToPlace}}, []int64{4, 2}},
		{"a flag", caseload.Query{Flag: caseload.FlagIncident}, []int64{3}},
		{"pseudonym prefix, any case", caseload.Query{Text: "p-"}, []int64{2, 1, 3}},
		{"case reference prefix", caseload.Query{Text: "tig-4"}, []int64{4}},
		{"page past the end is the last", caseload.Query{Page: 9}, []int64{4, 2, 1, 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pg := caseload.Select(rows, c.q)
			if got := ids(pg); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			if pg.Total != len(c.want) || pg.Page != 1 || pg.Pages != 1 {
				t.Fatalf("total %d page %d of %d", pg.Total, pg.Page, pg.Pages)
			}
		})
	}
	t.Run("counts before the state and flag filters", func(t *testing.T) {
		pg := caseload.Select(rows, caseload.Query{Flag: caseload.FlagIncident})
		if pg.ByState[atigip.MeasureToPlace] != 2 || pg.ByFlag[caseload.FlagNoProposal] != 2 || pg.ByFlag[caseload.FlagDeadline] != 1 {
			t.Fatalf("counts %v %v", pg.ByState, pg.ByFlag)
		}
	})
	t.Run("pages", func(t *testing.T) {
		var many []caseload.Row
		for i := range 60 {
			many = append(many, row(int64(i+1), "P", atigip.MeasureInProgress, "2027-01-01", 1))
		}
		pg := caseload.Select(many, caseload.Query{Page: 3})
		if pg.Pages != 3 || pg.Page != 3 || len(pg.Rows) != 10 || pg.Rows[0].Measure.ID != 51 {
			t.Fatalf("page %d of %d, %d rows from %d", pg.Page, pg.Pages, len(pg.Rows), pg.Rows[0].Measure.ID)
		}
	})
}

// TestLoad reads a seeded store: the perimeter (département, adults or
// minors), closed measures left out, flags as the workflow computes them.
func TestLoad(t *testing.T) {
	db := seedtest.Store(t, 0.02, 3)
	ctx := t.Context()
	all, err := atigip.Of[*atigip.Measure](db).All(ctx, atigip.ListFilter{})
	if err != nil || len(all) == 0 {
		t.Fatalf("%d measures, %v", len(all), err)
	}
	dep := all[0].Departement
	adults := false
	today := atigip.DateOf(time.Now())
	pg, err := caseload.Load(ctx, db, caseload.Query{Departement: dep, Minors: &adults, Open: true}, today)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, m := range all {
		if m.Departement == dep && !m.Minor && !caseload.Closed(m.State) {
			want++
		}
	}
	if pg.Total != want || want == 0 {
		t.Fatalf("total %d, want %d", pg.Total, want)
	}
	for _, r := range pg.Rows {
		m := r.Measure
		if m.Departement != dep || m.Minor || caseload.Closed(m.State) || r.Pseudonym == "" {
			t.Fatalf("row out of the query: %+v %q", m, r.Pseudonym)
		}
		if (m.State == atigip.MeasureToPlace) != slices.Contains(r.Flags, caseload.FlagNoProposal) {
			t.Fatalf("measure %d (%s): flags %v", m.ID, m.State, r.Flags)
		}
	}
}

// Example shows a caseload sorted by hours left, most first.
func Example() {
	rows := []caseload.Row{
		row(1, "P-0001", atigip.MeasureInProgress, "2027-03-01", 40),
		row(2, "P-0002", atigip.MeasureToPlace, "2027-01-01", 100, caseload.FlagNoProposal),
	}
	pg := caseload.Select(rows, caseload.Query{Sort: caseload.SortHours, Desc: true})
	for _, r := range pg.Rows {
		fmt.Println(r.Pseudonym, r.Deadline.HoursLeft, r.Flags)
	}
	// Output:
	// P-0002 100 [sans-proposition]
	// P-0001 40 []
}

// TestIndexFollowsTheStore checks that the index answers as Load does,
// before and after changes committed behind its back (a measure moved, an
// incident recorded, a measure created).
func TestIndexFollowsTheStore(t *testing.T) {
	db := seedtest.Store(t, 0.02, 5)
	ctx := t.Context()
	today := atigip.DateOf(time.Now())
	all, err := atigip.Of[*atigip.Measure](db).All(ctx, atigip.ListFilter{Status: []string{string(atigip.MeasureInProgress)}})
	if err != nil || len(all) == 0 {
		t.Fatalf("%d measures in progress, %v", len(all), err)
	}
	m := all[0]
	adults := m.Minor
	q := caseload.Query{Departement: m.Departement, Minors: &adults, Open: true, Sort: caseload.SortHours}
	x := caseload.NewIndex(db)
	same := func(step string) caseload.Page {
		t.Helper()
		want, err := caseload.Load(ctx, db, q, today)
		if err != nil {
			t.Fatal(err)
		}
		got, err := x.Load(ctx, q, today)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), ids(want)) || got.Total != want.Total || fmt.Sprint(got.ByFlag) != fmt.Sprint(want.ByFlag) {
			t.Fatalf("%s: index %v %v, store %v %v", step, ids(got), got.ByFlag, ids(want), want.ByFlag)
		}
		return got
	}
	same("built")
	svc := &workflow.Service{Store: db}
	p := atigip.Principal{Subject: "test", Role: atigip.RoleDSPIP}
	if _, err := svc.RecordIncident(ctx, p, m.ID, workflow.IncidentReport{Incident: atigip.IncidentAbsence, Note: "Absent"}); err != nil {
		t.Fatal(err)
	}
	pg := same("incident")
	if pg.ByFlag[caseload.FlagIncident] == 0 {
		t.Fatal("the incident is not flagged")
	}
	if _, err := svc.Transition(ctx, p, m.ID, 0, workflow.Transition{To: atigip.MeasureClosedFailed, Reason: "Révocation"}); err != nil {
		t.Fatal(err)
	}
	same("closed")
	n := *m
	n.ID, n.Version, n.CaseRef, n.History, n.State, n.PostID = 0, 0, "", nil, atigip.MeasureToPlace, 0
	if err := db.Entities(atigip.KindMeasure).Create(ctx, &n); err != nil {
		t.Fatal(err)
	}
	same("created")
}
