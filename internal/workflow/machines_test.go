package workflow_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/workflow"
)

// allRoles are the roles of atigip.Roles.
func allRoles() []atigip.Role {
	var out []atigip.Role
	for _, r := range atigip.Roles {
		out = append(out, r.Role)
	}
	return out
}

// The measure machine, written out here independently of the rules table:
// (from, to) → the roles that may make the step. Every other (from, to,
// role) must be refused.
var measureAllowed = map[[2]atigip.MeasureState][]atigip.Role{
	{atigip.MeasureToPlace, atigip.MeasureProposed}:        {atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP},
	{atigip.MeasureProposed, atigip.MeasureAssigned}:       {atigip.RoleMagistrate, atigip.RoleDSPIP, atigip.RoleCaseSystem},
	{atigip.MeasureProposed, atigip.MeasureToPlace}:        {atigip.RoleMagistrate, atigip.RoleDSPIP, atigip.RoleCaseSystem},
	{atigip.MeasureAssigned, atigip.MeasureInProgress}:     {atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP, atigip.RoleHost},
	{atigip.MeasureInProgress, atigip.MeasureSuspended}:    {atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP, atigip.RoleMagistrate},
	{atigip.MeasureSuspended, atigip.MeasureInProgress}:    {atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP, atigip.RoleMagistrate},
	{atigip.MeasureInProgress, atigip.MeasureCompleted}:    {atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP},
	{atigip.MeasureToPlace, atigip.MeasureClosedFailed}:    {atigip.RoleMagistrate, atigip.RoleDSPIP, atigip.RoleCaseSystem},
	{atigip.MeasureProposed, atigip.MeasureClosedFailed}:   {atigip.RoleMagistrate, atigip.RoleDSPIP, atigip.RoleCaseSystem},
	{atigip.MeasureAssigned, atigip.MeasureClosedFailed}:   {atigip.RoleMagistrate, atigip.RoleDSPIP, atigip.RoleCaseSystem},
	{atigip.MeasureInProgress, atigip.MeasureClosedFailed}: {atigip.RoleMagistrate, atigip.RoleDSPIP, atigip.RoleCaseSystem},
	{atigip.MeasureSuspended, atigip.MeasureClosedFailed}:  {atigip.RoleMagistrate, atigip.RoleDSPIP, atigip.RoleCaseSystem},
}

// measureIn is a measure in state s with the data that state carries; the
// PJJ follows minors, so minor is set for the PJJ.
func measureIn(s atigip.MeasureState, minor bool) *atigip.Measure {
	m := newMeasure()
	m.State, m.Minor = s, minor
	if s != atigip.MeasureToPlace {
		m.PostID, m.StartDate = 5, atigip.NewDate(2025, 3, 1)
	}
	if s == atigip.MeasureInProgress {
		m.HoursDone = float64(m.HoursOrdered) // may complete
	}
	if s == atigip.MeasureSuspended {
		m.Suspensions = []atigip.Suspension{{From: atigip.NewDate(2025, 3, 2), Reason: "Hospitalisation"}}
	}
	return m
}

// Every (from, to, role) of the measure machine: allowed steps succeed
// with complete data, every other one is refused and changes nothing
// (completed and closed measures are never reopened).
func TestMeasureMachineExhaustive(t *testing.T) {
	var states []atigip.MeasureState
	for s := range atigip.MeasureStates {
		states = append(states, s)
	}
	slices.Sort(states)
	for _, from := range states {
		for _, to := range states {
			for _, role := range allRoles() {
				name := fmt.Sprintf("%s→%s/%s", from, to, role)
				allowed := slices.Contains(measureAllowed[[2]atigip.MeasureState{from, to}], role)
				m := measureIn(from, role == atigip.RolePJJ)
				before := fmt.Sprintf("%+v", *m)
				tr := workflow.Transition{To: to, PostID: 5, StartDate: atigip.NewDate(2025, 3, 20), Reason: "Motif"}
				if to == atigip.MeasureInProgress && from == atigip.MeasureAssigned {
					tr.StartDate = atigip.Date{}
				}
				_, err := workflow.ApplyMeasure(m, actor(role, 0), tr)
				switch {
				case allowed && err != nil:
					t.Errorf("%s refused: %v", name, err)
				case !allowed && err == nil:
					t.Errorf("%s allowed", name)
				case !allowed && fmt.Sprintf("%+v", *m) != before:
					t.Errorf("%s refused but changed the measure", name)
				}
			}
		}
	}
}

// The application machine: (from, to) → roles; an application leaves the
// waiting list once and never comes back.
var appAllowed = map[[2]atigip.ApplicationState][]atigip.Role{
	{atigip.AppSubmitted, atigip.AppInterview}: {atigip.RolePrisonStaff},
	{atigip.AppSubmitted, atigip.AppAccepted}:  {atigip.RolePrisonStaff},
	{atigip.AppInterview, atigip.AppAccepted}:  {atigip.RolePrisonStaff},
	{atigip.AppSubmitted, atigip.AppRefused}:   {atigip.RolePrisonStaff},
	{atigip.AppInterview, atigip.AppRefused}:   {atigip.RolePrisonStaff},
	{atigip.AppSubmitted, atigip.AppWithdrawn}: {atigip.RolePrisonStaff, atigip.RoleCPIP, atigip.RolePerson},
	{atigip.AppInterview, atigip.AppWithdrawn}: {atigip.RolePrisonStaff, atigip.RoleCPIP, atigip.RolePerson},
	{atigip.AppSubmitted, atigip.AppClosed}:    {atigip.RolePrisonStaff},
	{atigip.AppInterview, atigip.AppClosed}:    {atigip.RolePrisonStaff},
}

func TestApplicationMachineExhaustive(t *testing.T) {
	var states []atigip.ApplicationState
	for s := range atigip.ApplicationStates {
		states = append(states, s)
	}
	slices.Sort(states)
	for _, from := range states {
		for _, to := range states {
			for _, role := range allRoles() {
				name := fmt.Sprintf("%s→%s/%s", from, to, role)
				allowed := slices.Contains(appAllowed[[2]atigip.ApplicationState{from, to}], role)
				app := &atigip.Application{Meta: atigip.Meta{ID: 1}, PersonID: 3, OfferID: 4, State: from, Rank: 1}
				o := &atigip.Offer{Meta: atigip.Meta{ID: 4}, PrisonID: 11, Places: 2, Status: atigip.OfferOpen}
				a := workflow.Actor{Principal: atigip.Principal{Subject: "x", Role: role, PrisonID: 11, PersonID: 3}, At: t0}
				err := workflow.ApplyApplication(app, o, a, workflow.AppTransition{To: to, Reason: "Motif"})
				switch {
				case allowed && err != nil:
					t.Errorf("%s refused: %v", name, err)
				case !allowed && err == nil:
					t.Errorf("%s allowed", name)
				case !allowed && (app.State != from || o.PlacesTaken != 0):
					t.Errorf("%s refused but changed the application or the offer", name)
				}
			}
		}
	}
}

// The procedure machine: opinions and the decision only while awaiting,
// each by its roles; granted, refused and expired procedures never change.
func TestProcedureMachineExhaustive(t *testing.T) {
	type step struct {
		name  string
		roles []atigip.Role // allowed from awaiting
		do    func(p *atigip.Procedure, a workflow.Actor) error
	}
	steps := []step{
		{"prosecutor's opinion", []atigip.Role{atigip.RoleMagistrate}, func(p *atigip.Procedure, a workflow.Actor) error {
			return workflow.GiveOpinion(p, a, workflow.OpinionRequest{Authority: atigip.OpinionProsecutor, Favourable: true})
		}},
		{"prefect's opinion", []atigip.Role{atigip.RoleDSPIP, atigip.RoleReferent}, func(p *atigip.Procedure, a workflow.Actor) error {
			return workflow.GiveOpinion(p, a, workflow.OpinionRequest{Authority: atigip.OpinionPrefect, Favourable: true})
		}},
		{"grant", []atigip.Role{atigip.RoleDSPIP}, func(p *atigip.Procedure, a workflow.Actor) error {
			return workflow.Decide(p, a, workflow.DecisionRequest{Grant: true})
		}},
		{"refuse", []atigip.Role{atigip.RoleDSPIP}, func(p *atigip.Procedure, a workflow.Actor) error {
			return workflow.Decide(p, a, workflow.DecisionRequest{Reason: "Encadrement insuffisant"})
		}},
	}
	for status := range atigip.ProcedureStatuses {
		for _, s := range steps {
			for _, role := range allRoles() {
				p := &atigip.Procedure{Meta: atigip.Meta{ID: 1}, ProcKind: atigip.ProcHabilitation, OrganisationID: 7, PrefectRequired: true,
					Status: status, OpinionDeadline: atigip.DateOf(t0.AddDate(0, 0, -1))}
				allowed := status == atigip.ProcAwaiting && slices.Contains(s.roles, role)
				err := s.do(p, workflow.Actor{Principal: atigip.Principal{Subject: "x", Role: role}, At: t0.Add(time.Hour)})
				if allowed != (err == nil) {
					t.Errorf("%s from %s by %s: err %v, allowed %v", s.name, status, role, err, allowed)
				}
				if !allowed && (p.Status != status || len(p.Opinions) != 0) {
					t.Errorf("%s from %s by %s: refused but changed the procedure", s.name, status, role)
				}
			}
		}
	}
}
