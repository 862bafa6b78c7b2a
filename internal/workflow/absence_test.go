package workflow_test

import (
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/workflow"
)

func TestReportAbsence(t *testing.T) {
	self := workflow.Actor{Principal: atigip.Principal{Subject: "fc:3", Role: atigip.RolePerson, PersonID: 3}, At: t0}
	other := self
	other.PersonID = 4
	tutor := actor(atigip.RoleHost, 0)
	today := atigip.DateOf(t0)
	tests := []struct {
		name   string
		a      workflow.Actor
		state  atigip.MeasureState
		day    atigip.Date
		reason string
		code   string
	}{
		{"own, ill tomorrow", self, atigip.MeasureInProgress, today.AddDays(1), "Malade", ""},
		{"own, today by default", self, atigip.MeasureAssigned, atigip.Date{}, "Convocation", ""},
		{"own, suspended", self, atigip.MeasureSuspended, today, "Hospitalisé", ""},
		{"another person's", other, atigip.MeasureInProgress, today, "Malade", atigip.EFORBIDDEN},
		{"the tutor", tutor, atigip.MeasureInProgress, today, "Malade", atigip.EFORBIDDEN},
		{"not yet assigned", self, atigip.MeasureProposed, today, "Malade", atigip.ECONFLICT},
		{"closed", self, atigip.MeasureCompleted, today, "Malade", atigip.ECONFLICT},
		{"no reason", self, atigip.MeasureInProgress, today, "  ", atigip.EINVALID},
		{"too far ahead", self, atigip.MeasureInProgress, today.AddDays(31), "Malade", atigip.EINVALID},
		{"too long ago", self, atigip.MeasureInProgress, today.AddDays(-8), "Malade", atigip.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMeasure()
			m.State, m.PostID, m.StartDate = tt.state, 5, atigip.NewDate(2025, 3, 1)
			l, err := workflow.ReportAbsence(m, tt.a, tt.day, tt.reason)
			if tt.code != "" {
				if atigip.ErrorCode(err) != tt.code {
					t.Fatalf("got %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.LogType != atigip.LogIncident || l.Incident != atigip.IncidentAbsence || l.ReportedRole != atigip.RolePerson ||
				!strings.Contains(l.Note, tt.reason) || l.Date.IsZero() {
				t.Fatalf("log %+v", l)
			}
		})
	}
}

func TestHoursWeeklyCap(t *testing.T) {
	m := newMeasure()
	m.HoursOrdered = 400
	m.State, m.PostID, m.StartDate = atigip.MeasureInProgress, 5, atigip.NewDate(2025, 3, 1)
	day := atigip.NewDate(2025, 3, 7) // a Friday
	tests := []struct {
		name string
		h    float64
		d    workflow.Day
		ok   bool
	}{
		{"adult 40 + 8 h", 8, workflow.Day{WeekReported: 40}, true},
		{"adult 40 + 8 h 15", 8.25, workflow.Day{WeekReported: 40}, false},
		{"minor 30 + 5 h", 5, workflow.Day{Minor: true, WeekReported: 30}, true},
		{"minor 30 + 5 h 30", 5.5, workflow.Day{Minor: true, WeekReported: 30}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := workflow.ReportHours(m, actor(atigip.RoleHost, 0), day, tt.h, "", tt.d)
			if tt.ok != (err == nil) {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok && (atigip.ErrorCode(err) != atigip.EINVALID || atigip.ErrorFields(err)[0].Field != "hours" ||
				!strings.Contains(atigip.ErrorFields(err)[0].Message, "semaine du 03/03/2025")) {
				t.Fatalf("want 400 naming hours and the week, got %v", err)
			}
		})
	}
	if got := workflow.WeekOf(atigip.NewDate(2025, 3, 9)); !got.Equal(atigip.NewDate(2025, 3, 3).Time) {
		t.Fatalf("week of Sunday 9 March: %s", got)
	}
}
