package workflow_test

import (
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/workflow"
)

var t0 = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

func who(r atigip.Role) atigip.Principal {
	return atigip.Principal{Subject: string(r) + "-1", Role: r, OrganisationID: 7}
}

func actor(r atigip.Role, day int) workflow.Actor {
	return workflow.Actor{Principal: who(r), At: t0.AddDate(0, 0, day), PostOrganisationID: 7}
}

func newMeasure() *atigip.Measure {
	return &atigip.Measure{Meta: atigip.Meta{ID: 1, Version: 1}, PersonID: 3, HoursOrdered: 40,
		SentenceDate: atigip.NewDate(2025, 1, 15), State: atigip.MeasureToPlace, Departement: "69"}
}

type step struct {
	role atigip.Role
	day  int
	t    workflow.Transition
	eff  workflow.Effect
}

func TestMeasurePaths(t *testing.T) {
	propose := step{atigip.RoleCPIP, 0, workflow.Transition{To: atigip.MeasureProposed, PostID: 5, StartDate: atigip.NewDate(2025, 3, 20)}, workflow.Effect{Propose: true}}
	assign := step{atigip.RoleCaseSystem, 2, workflow.Transition{To: atigip.MeasureAssigned}, workflow.Effect{TakePlace: 5}}
	start := step{atigip.RoleHost, 10, workflow.Transition{To: atigip.MeasureInProgress}, workflow.Effect{}}
	paths := []struct {
		name    string
		steps   []step
		final   atigip.MeasureState
		hours   float64 // hours confirmed before the last step
		history int
	}{
		{"completed", []step{propose, assign, start,
			{atigip.RoleCPIP, 40, workflow.Transition{To: atigip.MeasureCompleted}, workflow.Effect{ReleasePlace: 5}}},
			atigip.MeasureCompleted, 40, 4},
		{"refused then proposed again", []step{propose,
			{atigip.RoleMagistrate, 3, workflow.Transition{To: atigip.MeasureToPlace, Reason: "Poste trop éloigné du domicile"}, workflow.Effect{}},
			{atigip.RoleCPIP, 4, workflow.Transition{To: atigip.MeasureProposed, PostID: 6, StartDate: atigip.NewDate(2025, 4, 1)}, workflow.Effect{Propose: true}}},
			atigip.MeasureProposed, 0, 3},
		{"suspended and resumed", []step{propose, assign, start,
			{atigip.RoleCPIP, 20, workflow.Transition{To: atigip.MeasureSuspended, Reason: "Incarcération"}, workflow.Effect{}},
			{atigip.RoleCPIP, 50, workflow.Transition{To: atigip.MeasureInProgress}, workflow.Effect{}}},
			atigip.MeasureInProgress, 0, 5},
		{"failed while suspended", []step{propose, assign, start,
			{atigip.RoleCPIP, 20, workflow.Transition{To: atigip.MeasureSuspended, Reason: "Hospitalisation"}, workflow.Effect{}},
			{atigip.RoleMagistrate, 30, workflow.Transition{To: atigip.MeasureClosedFailed, Reason: "Révocation par le JAP"}, workflow.Effect{ReleasePlace: 5}}},
			atigip.MeasureClosedFailed, 0, 5},
		{"failed before placement", []step{
			{atigip.RoleDSPIP, 1, workflow.Transition{To: atigip.MeasureClosedFailed, Reason: "Décès"}, workflow.Effect{}}},
			atigip.MeasureClosedFailed, 0, 1},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			m := newMeasure()
			for i, s := range p.steps {
				if i == len(p.steps)-1 {
					m.HoursDone = p.hours
				}
				eff, err := workflow.ApplyMeasure(m, actor(s.role, s.day), s.t)
				if err != nil {
					t.Fatalf("step %d (%s → %s by %s): %v", i, m.State, s.t.To, s.role, err)
				}
				if eff != s.eff {
					t.Fatalf("step %d effect = %+v, want %+v", i, eff, s.eff)
				}
				if m.State != s.t.To {
					t.Fatalf("step %d state = %s", i, m.State)
				}
			}
			if m.State != p.final || len(m.History) != p.history {
				t.Fatalf("final %s with %d events, want %s with %d", m.State, len(m.History), p.final, p.history)
			}
			for _, ev := range m.History {
				if ev.At.IsZero() || ev.By == "" || ev.Role == "" || ev.To == "" {
					t.Fatalf("incomplete event %+v", ev)
				}
			}
			if err := m.Validate(); err != nil {
				t.Fatalf("measure invalid after the path: %v", err)
			}
		})
	}
}

func TestSuspensionMovesDeadline(t *testing.T) {
	m := newMeasure()
	steps := []step{
		{atigip.RoleCPIP, 0, workflow.Transition{To: atigip.MeasureProposed, PostID: 5, StartDate: atigip.NewDate(2025, 3, 20)}, workflow.Effect{}},
		{atigip.RoleMagistrate, 1, workflow.Transition{To: atigip.MeasureAssigned}, workflow.Effect{}},
		{atigip.RoleCPIP, 10, workflow.Transition{To: atigip.MeasureInProgress}, workflow.Effect{}},
		{atigip.RoleCPIP, 20, workflow.Transition{To: atigip.MeasureSuspended, Reason: "Incarcération"}, workflow.Effect{}},
		{atigip.RoleCPIP, 50, workflow.Transition{To: atigip.MeasureInProgress}, workflow.Effect{}},
	}
	for _, s := range steps {
		if _, err := workflow.ApplyMeasure(m, actor(s.role, s.day), s.t); err != nil {
			t.Fatal(err)
		}
	}
	base := atigip.NewDate(2026, 7, 15) // sentence + 18 months
	if got := m.Deadline(atigip.DateOf(t0.AddDate(0, 0, 60))); got != base.AddDays(30) {
		t.Fatalf("deadline %s, want %s (30 days of suspension)", got, base.AddDays(30))
	}
	if len(m.Suspensions) != 1 || m.Suspensions[0].Reason != "Incarcération" || m.Suspensions[0].To.IsZero() {
		t.Fatalf("suspensions %+v", m.Suspensions)
	}
}

func TestMeasureRefusals(t *testing.T) {
	cases := []struct {
		name  string
		state atigip.MeasureState
		minor bool
		role  atigip.Role
		org   int64
		t     workflow.Transition
		code  string
		text  string
	}{
		{"skip the judge", atigip.MeasureToPlace, false, atigip.RoleCPIP, 0, workflow.Transition{To: atigip.MeasureAssigned}, atigip.ECONFLICT, "Transition interdite"},
		{"cpip assigns", atigip.MeasureProposed, false, atigip.RoleCPIP, 0, workflow.Transition{To: atigip.MeasureAssigned}, atigip.EFORBIDDEN, "Rôles admis"},
		{"lawyer proposes", atigip.MeasureToPlace, false, atigip.RoleLawyer, 0, workflow.Transition{To: atigip.MeasureProposed, PostID: 5, StartDate: atigip.NewDate(2025, 4, 1)}, atigip.EFORBIDDEN, "Avocat"},
		{"person completes", atigip.MeasureInProgress, false, atigip.RolePerson, 0, workflow.Transition{To: atigip.MeasureCompleted}, atigip.EFORBIDDEN, "ne permet pas"},
		{"cpip for a minor", atigip.MeasureToPlace, true, atigip.RoleCPIP, 0, workflow.Transition{To: atigip.MeasureProposed, PostID: 5, StartDate: atigip.NewDate(2025, 4, 1)}, atigip.EFORBIDDEN, "mineur"},
		{"pjj for an adult", atigip.MeasureToPlace, false, atigip.RolePJJ, 0, workflow.Transition{To: atigip.MeasureProposed, PostID: 5, StartDate: atigip.NewDate(2025, 4, 1)}, atigip.EFORBIDDEN, "majeur"},
		{"another tutor starts", atigip.MeasureAssigned, false, atigip.RoleHost, 8, workflow.Transition{To: atigip.MeasureInProgress}, atigip.EFORBIDDEN, "tuteur"},
		{"proposal without post", atigip.MeasureToPlace, false, atigip.RoleCPIP, 0, workflow.Transition{To: atigip.MeasureProposed, StartDate: atigip.NewDate(2025, 4, 1)}, atigip.EINVALID, ""},
		{"proposal in the past", atigip.MeasureToPlace, false, atigip.RoleCPIP, 0, workflow.Transition{To: atigip.MeasureProposed, PostID: 5, StartDate: atigip.NewDate(2025, 1, 1)}, atigip.EINVALID, ""},
		{"refusal without reason", atigip.MeasureProposed, false, atigip.RoleMagistrate, 0, workflow.Transition{To: atigip.MeasureToPlace}, atigip.EINVALID, ""},
		{"suspension without reason", atigip.MeasureInProgress, false, atigip.RoleCPIP, 0, workflow.Transition{To: atigip.MeasureSuspended}, atigip.EINVALID, ""},
		{"complete with hours left", atigip.MeasureInProgress, false, atigip.RoleCPIP, 0, workflow.Transition{To: atigip.MeasureCompleted}, atigip.ECONFLICT, "Il reste 40 h"},
		{"reopen a completed measure", atigip.MeasureCompleted, false, atigip.RoleDSPIP, 0, workflow.Transition{To: atigip.MeasureInProgress}, atigip.ECONFLICT, "Transition interdite"},
		{"unknown state", atigip.MeasureToPlace, false, atigip.RoleCPIP, 0, workflow.Transition{To: "lost"}, atigip.EINVALID, ""},
		{"same state", atigip.MeasureProposed, false, atigip.RoleMagistrate, 0, workflow.Transition{To: atigip.MeasureProposed}, atigip.ECONFLICT, "déjà"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newMeasure()
			m.State, m.Minor = c.state, c.minor
			if c.state != atigip.MeasureToPlace {
				m.PostID, m.StartDate = 5, atigip.NewDate(2025, 3, 1)
			}
			before := *m
			a := actor(c.role, 0)
			if c.org != 0 {
				a.OrganisationID = c.org
			}
			_, err := workflow.ApplyMeasure(m, a, c.t)
			if got := atigip.ErrorCode(err); got != c.code {
				t.Fatalf("code %q (%v), want %q", got, err, c.code)
			}
			if !strings.Contains(atigip.ErrorMessage(err)+fieldsText(err), c.text) {
				t.Fatalf("message %q does not say %q", atigip.ErrorMessage(err), c.text)
			}
			if m.State != before.State || len(m.History) != len(before.History) || m.PostID != before.PostID {
				t.Fatalf("refused transition changed the measure: %+v", m)
			}
		})
	}
}

func fieldsText(err error) string {
	var b strings.Builder
	for _, f := range atigip.ErrorFields(err) {
		b.WriteString(f.Field + ": " + f.Message)
	}
	return b.String()
}

// The legal daily maximum, on both sides, for adults and minors, counting
// the hours already reported that day.
func TestHoursDailyCap(t *testing.T) {
	m := newMeasure()
	m.State, m.PostID, m.StartDate = atigip.MeasureInProgress, 5, atigip.NewDate(2025, 3, 1)
	day := atigip.NewDate(2025, 3, 5)
	tests := []struct {
		name string
		h    float64
		d    workflow.Day
		ok   bool
	}{
		{"adult 10 h", 10, workflow.Day{}, true},
		{"adult 10 h 15", 10.25, workflow.Day{}, false},
		{"adult 6 + 4 h", 4, workflow.Day{Reported: 6}, true},
		{"adult 6 + 4 h 30", 4.5, workflow.Day{Reported: 6}, false},
		{"adult 48 h", 48, workflow.Day{}, false},
		{"minor 8 h", 8, workflow.Day{Minor: true}, true},
		{"minor 8 h 15", 8.25, workflow.Day{Minor: true}, false},
		{"minor 5 + 3 h 30", 3.5, workflow.Day{Minor: true, Reported: 5}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := workflow.ReportHours(m, actor(atigip.RoleHost, 0), day, tt.h, "", tt.d)
			if tt.ok != (err == nil) {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok && (atigip.ErrorCode(err) != atigip.EINVALID || len(atigip.ErrorFields(err)) != 1 || atigip.ErrorFields(err)[0].Field != "hours") {
				t.Fatalf("want 400 naming hours, got %v", err)
			}
		})
	}
}

func TestHoursAndIncidents(t *testing.T) {
	m := newMeasure()
	m.State, m.PostID, m.StartDate = atigip.MeasureInProgress, 5, atigip.NewDate(2025, 3, 1)
	day := atigip.NewDate(2025, 3, 5)
	if _, err := workflow.ReportHours(m, actor(atigip.RoleHost, 0), day, 7, "", workflow.Day{}); err != nil {
		t.Fatalf("tutor report: %v", err)
	}
	other := actor(atigip.RoleHost, 0)
	other.OrganisationID = 99
	if _, err := workflow.ReportHours(m, other, day, 7, "", workflow.Day{}); atigip.ErrorCode(err) != atigip.EFORBIDDEN {
		t.Fatalf("another organisation's tutor: %v", err)
	}
	if _, err := workflow.ReportHours(m, actor(atigip.RoleHost, 0), day, 13, "", workflow.Day{}); atigip.ErrorCode(err) != atigip.EINVALID {
		t.Fatalf("13 h a day: %v", err)
	}
	if _, err := workflow.ReportHours(m, actor(atigip.RoleHost, 0), atigip.NewDate(2025, 4, 5), 3, "", workflow.Day{}); atigip.ErrorCode(err) != atigip.EINVALID {
		t.Fatalf("future day: %v", err)
	}
	l, _ := workflow.ReportHours(m, actor(atigip.RoleHost, 0), day, 7.5, "", workflow.Day{})
	l.ID, l.MeasureID = 11, m.ID
	if err := workflow.CheckHours(m, l, actor(atigip.RoleHost, 0), true, ""); atigip.ErrorCode(err) != atigip.EFORBIDDEN {
		t.Fatalf("tutor confirms own hours: %v", err)
	}
	if m.HoursDone != 0 {
		t.Fatal("reported hours counted before confirmation")
	}
	if err := workflow.CheckHours(m, l, actor(atigip.RoleCPIP, 0), true, ""); err != nil {
		t.Fatal(err)
	}
	if m.HoursDone != 7.5 || l.Status != atigip.LogConfirmed || l.CheckedBy != "cpip-1" || l.CheckedAt == nil {
		t.Fatalf("after confirmation: done %v, log %+v", m.HoursDone, l)
	}
	if err := workflow.CheckHours(m, l, actor(atigip.RoleCPIP, 0), true, ""); atigip.ErrorCode(err) != atigip.ECONFLICT {
		t.Fatalf("confirmed twice: %v", err)
	}
	for _, k := range []atigip.IncidentKind{atigip.IncidentAbsence, atigip.IncidentBehaviour, atigip.IncidentAccident} {
		inc, err := workflow.RecordIncident(m, actor(atigip.RoleHost, 0), day, k, "Constaté par le tuteur")
		if err != nil || inc.Incident != k || inc.Status != atigip.LogRecorded {
			t.Fatalf("incident %s: %v %+v", k, err, inc)
		}
	}
	if _, err := workflow.RecordIncident(m, actor(atigip.RoleHost, 0), day, "fire", "x"); atigip.ErrorCode(err) != atigip.EINVALID {
		t.Fatalf("unknown incident: %v", err)
	}
}

func TestDeadlineFlag(t *testing.T) {
	sentence := atigip.NewDate(2024, 1, 10) // deadline 2025-07-10
	cases := []struct {
		name    string
		state   atigip.MeasureState
		today   atigip.Date
		done    float64
		perWeek float64
		near    bool
		days    int
	}{
		{"far from deadline", atigip.MeasureInProgress, atigip.NewDate(2025, 1, 10), 0, 3, false, 181},
		{"close, schedule allows", atigip.MeasureInProgress, atigip.NewDate(2025, 6, 1), 20, 6, false, 39},
		{"close, schedule too thin", atigip.MeasureInProgress, atigip.NewDate(2025, 6, 1), 0, 6, true, 39},
		{"close, no post", atigip.MeasureToPlace, atigip.NewDate(2025, 6, 1), 0, 0, true, 39},
		{"overdue", atigip.MeasureInProgress, atigip.NewDate(2025, 8, 1), 30, 6, true, -22},
		{"completed is never flagged", atigip.MeasureCompleted, atigip.NewDate(2025, 8, 1), 40, 6, false, -22},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &atigip.Measure{HoursOrdered: 40, HoursDone: c.done, SentenceDate: sentence, State: c.state}
			d := workflow.Deadline(m, c.perWeek, c.today)
			if d.Near != c.near || d.DaysLeft != c.days || d.Deadline != atigip.NewDate(2025, 7, 10) {
				t.Fatalf("got %+v, want near %v and %d days", d, c.near, c.days)
			}
		})
	}
}
