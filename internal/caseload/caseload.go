package caseload

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/workflow"
)

// Flag is a reason a measure needs its officer now.
type Flag string

// The flags.
const (
	// FlagDeadline: less than workflow.NearDeadlineDays before the legal
	// deadline with more hours left than the schedule allows, or past it.
	FlagDeadline Flag = "echeance"
	// FlagNoProposal: a measure to place with no post proposed.
	FlagNoProposal Flag = "sans-proposition"
	// FlagIncident: an incident was recorded on the measure.
	FlagIncident Flag = "incident"
)

// FlagLabels are the flags in French.
var FlagLabels = map[Flag]string{
	FlagDeadline:   "Échéance proche",
	FlagNoProposal: "Sans proposition",
	FlagIncident:   "Incident",
}

// Sort keys.
const (
	SortDeadline = "echeance"
	SortHours    = "heures"
	SortState    = "etat"
	SortPerson   = "personne"
)

// Sorts lists the sort keys with their French labels.
var Sorts = map[string]string{SortDeadline: "Échéance", SortHours: "Heures restantes", SortState: "État", SortPerson: "Personne"}

// PerPage is the page size.
const PerPage = 25

// Query selects a caseload. Departement "" is national; Minors selects
// the PJJ's minors (true), the CPIP's adults (false) or both (nil).
type Query struct {
	Departement string
	Minors      *bool
	States      []atigip.MeasureState
	Flag        Flag
	// Text matches the start of the person's pseudonym or of the APPI
	// case reference, case-insensitively.
	Text string
	Sort string
	Desc bool
	Page int // 1 first
	// Open leaves out the closed measures (completed, closed) unless
	// States names them.
	Open bool
}

// Row is one measure of the caseload.
type Row struct {
	Measure   *atigip.Measure
	Pseudonym string
	Deadline  workflow.DeadlineInfo
	Incidents int
	Flags     []Flag
}

// Page is one page of the caseload and the counts of the whole selection.
type Page struct {
	Rows  []Row
	Total int
	Page  int
	Pages int
	// ByState and ByFlag count the selection before the state and flag
	// filters (the text filter applied), for the filters' labels.
	ByState map[atigip.MeasureState]int
	ByFlag  map[Flag]int
}

// Closed reports whether a measure state is final.
func Closed(s atigip.MeasureState) bool {
	return s == atigip.MeasureCompleted || s == atigip.MeasureClosedFailed
}

// Load reads the caseload q at today from tx.
func Load(ctx context.Context, tx atigip.Tx, q Query, today atigip.Date) (Page, error) {
	f := atigip.ListFilter{Departement: q.Departement}
	var ms []*atigip.Measure
	err := atigip.Of[*atigip.Measure](tx).Scan(ctx, f, func(m *atigip.Measure) error {
		if q.keeps(m) {
			ms = append(ms, m)
		}
		return nil
	})
	if err != nil {
		return Page{}, fmt.Errorf("caseload: measures: %w", err)
	}
	incidents := map[int64]int{}
	err = atigip.Of[*atigip.MeasureLog](tx).Scan(ctx, atigip.ListFilter{Departement: q.Departement, Status: []string{string(atigip.LogRecorded)}},
		func(l *atigip.MeasureLog) error {
			if l.LogType == atigip.LogIncident {
				incidents[l.MeasureID]++
			}
			return nil
		})
	if err != nil {
		return Page{}, fmt.Errorf("caseload: incidents: %w", err)
	}
	postIDs := map[int64]bool{}
	for _, m := range ms {
		if m.PostID != 0 {
			postIDs[m.PostID] = true
		}
	}
	perWeek := map[int64]float64{}
	if len(postIDs) > 0 {
		posts, err := atigip.Of[*atigip.Post](tx).All(ctx, atigip.ListFilter{IDs: keys(postIDs)})
		if err != nil {
			return Page{}, fmt.Errorf("caseload: posts: %w", err)
		}
		for _, p := range posts {
			perWeek[p.ID] = p.Schedule.HoursPerWeek()
		}
	}
	rows := make([]Row, 0, len(ms))
	for _, m := range ms {
		rows = append(rows, Row{Measure: m, Incidents: incidents[m.ID], Deadline: workflow.Deadline(m, perWeek[m.PostID], today)})
	}
	return finish(ctx, tx, rows, q, name)
}

// keeps reports whether measure m is in q's perimeter and openness (the
// state, flag and text filters are Select's).
func (q Query) keeps(m *atigip.Measure) bool {
	if q.Departement != "" && m.Departement != q.Departement {
		return false
	}
	if q.Minors != nil && m.Minor != *q.Minors {
		return false
	}
	return !(q.Open && len(q.States) == 0 && Closed(m.State))
}

// finish flags rows, selects the page and reads the pseudonyms: for the
// whole selection only when it is sorted or searched by them, else for
// the page shown.
func finish(ctx context.Context, tx atigip.Tx, rows []Row, q Query,
	name func(context.Context, atigip.Tx, []Row, map[int64]bool) error) (Page, error) {
	for i := range rows {
		rows[i].Flags = flags(&rows[i])
	}
	if q.Sort == SortPerson || strings.TrimSpace(q.Text) != "" {
		personIDs := make(map[int64]bool, len(rows))
		for i := range rows {
			personIDs[rows[i].Measure.PersonID] = true
		}
		if err := name(ctx, tx, rows, personIDs); err != nil {
			return Page{}, err
		}
		return Select(rows, q), nil
	}
	pg := Select(rows, q)
	ids := map[int64]bool{}
	for _, r := range pg.Rows {
		ids[r.Measure.PersonID] = true
	}
	return pg, name(ctx, tx, pg.Rows, ids)
}

// name fills the pseudonyms of rows, reading people ids.
func name(ctx context.Context, tx atigip.Tx, rows []Row, ids map[int64]bool) error {
	if len(ids) == 0 {
		return nil
	}
	people, err := atigip.Of[*atigip.Person](tx).All(ctx, atigip.ListFilter{IDs: keys(ids)})
	if err != nil {
		return fmt.Errorf("caseload: people: %w", err)
	}
	names := make(map[int64]string, len(people))
	for _, p := range people {
		names[p.ID] = p.Pseudonym
	}
	for i := range rows {
		rows[i].Pseudonym = names[rows[i].Measure.PersonID]
	}
	return nil
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// flags are the reasons row r needs its officer.
func flags(r *Row) []Flag {
	var out []Flag
	m := r.Measure
	if Closed(m.State) {
		return nil
	}
	if r.Deadline.Near || (!r.Deadline.Deadline.IsZero() && r.Deadline.DaysLeft < 0) {
		out = append(out, FlagDeadline)
	}
	if m.State == atigip.MeasureToPlace {
		out = append(out, FlagNoProposal)
	}
	if r.Incidents > 0 {
		out = append(out, FlagIncident)
	}
	return out
}

// Select counts, filters, sorts and pages rows by q (the perimeter and
// Open already applied).
func Select(rows []Row, q Query) Page {
	pg := Page{ByState: map[atigip.MeasureState]int{}, ByFlag: map[Flag]int{}}
	text := strings.ToUpper(strings.TrimSpace(q.Text))
	// Rows are sorted by index: a national caseload is some 16,000 rows
	// of a hundred bytes each, which a sort of the rows themselves moves
	// about many times over.
	kept := make([]int, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		if text != "" && !strings.HasPrefix(strings.ToUpper(r.Pseudonym), text) && !strings.HasPrefix(strings.ToUpper(r.Measure.CaseRef), text) {
			continue
		}
		pg.ByState[r.Measure.State]++
		for _, f := range r.Flags {
			pg.ByFlag[f]++
		}
		if q.Flag != "" && !slices.Contains(r.Flags, q.Flag) {
			continue
		}
		if len(q.States) > 0 && !slices.Contains(q.States, r.Measure.State) {
			continue
		}
		kept = append(kept, i)
	}
	// The measure's id settles ties, so the order is total and needs no
	// stable sort.
	slices.SortFunc(kept, func(i, j int) int {
		a, b := &rows[i], &rows[j]
		c := compare(a, b, q.Sort)
		if q.Desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.Measure.ID, b.Measure.ID))
	})
	pg.Total = len(kept)
	pg.Pages = max(1, (pg.Total+PerPage-1)/PerPage)
	pg.Page = min(max(1, q.Page), pg.Pages)
	from := (pg.Page - 1) * PerPage
	for _, i := range kept[from:min(from+PerPage, len(kept))] {
		pg.Rows = append(pg.Rows, rows[i])
	}
	return pg
}

// stateOrder is the measures' states in the order of their life.
var stateOrder = map[atigip.MeasureState]int{atigip.MeasureToPlace: 0, atigip.MeasureProposed: 1, atigip.MeasureAssigned: 2,
	atigip.MeasureInProgress: 3, atigip.MeasureSuspended: 4, atigip.MeasureCompleted: 5, atigip.MeasureClosedFailed: 6}

func compare(a, b *Row, key string) int {
	switch key {
	case SortHours:
		return cmp.Compare(a.Deadline.HoursLeft, b.Deadline.HoursLeft)
	case SortState:
		return cmp.Compare(stateOrder[a.Measure.State], stateOrder[b.Measure.State])
	case SortPerson:
		return strings.Compare(a.Pseudonym, b.Pseudonym)
	}
	// By deadline, the undated last.
	ad, bd := a.Deadline.Deadline, b.Deadline.Deadline
	switch {
	case ad.IsZero() && bd.IsZero():
		return 0
	case ad.IsZero():
		return 1
	case bd.IsZero():
		return -1
	}
	return ad.Compare(bd.Time)
}
