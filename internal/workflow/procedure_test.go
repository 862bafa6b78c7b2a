package workflow_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/workflow"
)

func org() *atigip.Organisation {
	return &atigip.Organisation{Meta: atigip.Meta{ID: 7}, Name: "Association", OrgKind: atigip.OrgAssociation,
		Habilitation: atigip.Habilitation{Status: atigip.HabNone}, Address: atigip.Address{Departement: "69"}}
}

func TestHabilitationLifeCycle(t *testing.T) {
	o := org()
	host := actor(atigip.RoleHost, 0)
	p, err := workflow.Request(o, nil, host, workflow.ProcedureRequest{Kind: atigip.ProcHabilitation, PrefectRequired: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	if o.Habilitation.Status != atigip.HabAwaiting || p.OpinionDeadline != atigip.DateOf(t0).AddDays(workflow.OpinionDays) {
		t.Fatalf("after request: %+v / %+v", o.Habilitation, p)
	}
	if _, err := workflow.Request(o, nil, host, workflow.ProcedureRequest{Kind: atigip.ProcHabilitation}, true); atigip.ErrorCode(err) != atigip.ECONFLICT {
		t.Fatalf("second open request: %v", err)
	}
	steps := []struct {
		name string
		role atigip.Role
		op   workflow.OpinionRequest
		code string
	}{
		{"prosecutor", atigip.RoleMagistrate, workflow.OpinionRequest{Authority: atigip.OpinionProsecutor, Favourable: true}, ""},
		{"prosecutor twice", atigip.RoleMagistrate, workflow.OpinionRequest{Authority: atigip.OpinionProsecutor, Favourable: true}, atigip.ECONFLICT},
		{"JAP by a CPIP", atigip.RoleCPIP, workflow.OpinionRequest{Authority: atigip.OpinionJAP, Favourable: true}, atigip.EFORBIDDEN},
		{"unfavourable without reason", atigip.RoleMagistrate, workflow.OpinionRequest{Authority: atigip.OpinionJAP}, atigip.EINVALID},
		{"JAP", atigip.RoleMagistrate, workflow.OpinionRequest{Authority: atigip.OpinionJAP, Favourable: false, Comment: "Encadrement insuffisant"}, ""},
	}
	for _, s := range steps {
		if err := workflow.GiveOpinion(p, actor(s.role, 1), s.op); atigip.ErrorCode(err) != s.code {
			t.Fatalf("%s: %v, want %q", s.name, err, s.code)
		}
	}
	// The prefect's opinion is missing: no decision before the deadline…
	if err := workflow.Decide(p, actor(atigip.RoleDSPIP, 5), workflow.DecisionRequest{Grant: true}); atigip.ErrorCode(err) != atigip.ECONFLICT {
		t.Fatalf("decision before the deadline: %v", err)
	}
	// …but after it the director decides without it.
	if err := workflow.Decide(p, actor(atigip.RoleDSPIP, workflow.OpinionDays+1), workflow.DecisionRequest{Grant: true}); err != nil {
		t.Fatal(err)
	}
	workflow.Enact(p, o, nil)
	if o.Habilitation.Status != atigip.HabHabilitated || o.Habilitation.ExpiresAt == nil || p.DecidedBy != "dspip-1" {
		t.Fatalf("after decision: %+v, %+v", o.Habilitation, p)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	// Renewal is refused too early, allowed within RenewalDays of expiry,
	// and the organisation stays habilitated meanwhile.
	if _, err := workflow.Request(o, nil, host, workflow.ProcedureRequest{Kind: atigip.ProcHabilitation}, false); atigip.ErrorCode(err) != atigip.ECONFLICT {
		t.Fatalf("early renewal: %v", err)
	}
	late := actor(atigip.RoleHost, 365*workflow.HabilitationYears-100)
	if _, err := workflow.Request(o, nil, late, workflow.ProcedureRequest{Kind: atigip.ProcHabilitation}, false); err != nil || o.Habilitation.Status != atigip.HabHabilitated {
		t.Fatalf("renewal: %v, status %s", err, o.Habilitation.Status)
	}
	if workflow.Expire(o, atigip.DateOf(t0)) {
		t.Fatal("expired too early")
	}
	if !workflow.Expire(o, atigip.DateOf(t0.AddDate(workflow.HabilitationYears, 2, 0))) || o.Habilitation.Status != atigip.HabExpired {
		t.Fatalf("not expired: %+v", o.Habilitation)
	}
}

func TestPostRegistrationNeedsHabilitation(t *testing.T) {
	o := org()
	post := &atigip.Post{Meta: atigip.Meta{ID: 9}, OrganisationID: 7, Status: atigip.PostDraft}
	req := workflow.ProcedureRequest{Kind: atigip.ProcPostRegistration, PostID: 9}
	if _, err := workflow.Request(o, post, actor(atigip.RoleReferent, 0), req, false); atigip.ErrorCode(err) != atigip.ECONFLICT {
		t.Fatalf("registration without habilitation: %v", err)
	}
	o.Habilitation.Status = atigip.HabHabilitated
	if _, err := workflow.Request(o, post, actor(atigip.RoleLawyer, 0), req, false); atigip.ErrorCode(err) != atigip.EFORBIDDEN {
		t.Fatalf("lawyer: %v", err)
	}
	p, err := workflow.Request(o, post, actor(atigip.RoleReferent, 0), req, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []atigip.OpinionAuthority{atigip.OpinionProsecutor, atigip.OpinionJAP} {
		if err := workflow.GiveOpinion(p, actor(atigip.RoleMagistrate, 1), workflow.OpinionRequest{Authority: a, Favourable: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := workflow.Decide(p, actor(atigip.RoleDSPIP, 2), workflow.DecisionRequest{Grant: false}); atigip.ErrorCode(err) != atigip.EINVALID {
		t.Fatalf("refusal without reason: %v", err)
	}
	if err := workflow.Decide(p, actor(atigip.RoleDSPIP, 2), workflow.DecisionRequest{Grant: false, Reason: "Tâches inadaptées"}); err != nil {
		t.Fatal(err)
	}
	workflow.Enact(p, o, post)
	if post.Status != atigip.PostDraft || p.Status != atigip.ProcRefused {
		t.Fatalf("refused registration changed the post: %s / %s", post.Status, p.Status)
	}
}

func TestApplicationsAndTransfer(t *testing.T) {
	offer := &atigip.Offer{Meta: atigip.Meta{ID: 4}, OfferKind: atigip.OfferWork, PrisonID: 1, Places: 1, Status: atigip.OfferOpen}
	staff := workflow.Actor{Principal: atigip.Principal{Subject: "greffe", Role: atigip.RolePrisonStaff, PrisonID: 1}, At: t0}
	elsewhere := workflow.Actor{Principal: atigip.Principal{Subject: "greffe-2", Role: atigip.RolePrisonStaff, PrisonID: 2}, At: t0}
	var apps []*atigip.Application
	for i := range 3 {
		p := &atigip.Person{Meta: atigip.Meta{ID: int64(10 + i)}, Detained: true, PrisonID: 1, WorkCleared: i != 2}
		a, err := workflow.Apply(p, offer, staff, "")
		if i == 2 {
			if atigip.ErrorCode(err) != atigip.ECONFLICT {
				t.Fatalf("uncleared person applied: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		a.ID, a.Rank = int64(100+i), i+1
		apps = append(apps, a)
	}
	if _, err := workflow.Move(apps, offer, elsewhere, 101, 1); atigip.ErrorCode(err) != atigip.EFORBIDDEN {
		t.Fatalf("staff of another prison reordered: %v", err)
	}
	if _, err := workflow.Move(apps, offer, staff, 101, 1); err != nil || apps[1].Rank != 1 || apps[0].Rank != 2 {
		t.Fatalf("move: %v, ranks %d %d", err, apps[0].Rank, apps[1].Rank)
	}
	if err := workflow.ApplyApplication(apps[1], offer, staff, workflow.AppTransition{To: atigip.AppRefused}); atigip.ErrorCode(err) != atigip.EINVALID {
		t.Fatalf("refusal without reason: %v", err)
	}
	if err := workflow.ApplyApplication(apps[1], offer, staff, workflow.AppTransition{To: atigip.AppAccepted}); err != nil {
		t.Fatal(err)
	}
	if offer.Status != atigip.OfferFilled || apps[1].Rank != 0 {
		t.Fatalf("offer %s, rank %d", offer.Status, apps[1].Rank)
	}
	if err := workflow.ApplyApplication(apps[0], offer, staff, workflow.AppTransition{To: atigip.AppAccepted}); atigip.ErrorCode(err) != atigip.ECONFLICT {
		t.Fatalf("accepted beyond the places: %v", err)
	}
	workflow.Renumber(apps)
	if apps[0].Rank != 1 {
		t.Fatalf("rank after renumbering %d", apps[0].Rank)
	}
	p := &atigip.Person{Meta: atigip.Meta{ID: 10}, Detained: true, PrisonID: 1, WorkCleared: true, Skills: []string{"12345"}}
	closed, err := workflow.Transfer(p, 2, staff, "Désencombrement", apps)
	if err != nil || len(closed) != 1 || closed[0].State != atigip.AppClosed || p.PrisonID != 2 || p.WorkCleared || len(p.Skills) != 1 {
		t.Fatalf("transfer: %v, %+v, %+v", err, closed, p)
	}
}

// A measure from sentence to the judge's assignment.
func ExampleApplyMeasure() {
	m := &atigip.Measure{Meta: atigip.Meta{ID: 1}, PersonID: 3, HoursOrdered: 70,
		SentenceDate: atigip.NewDate(2025, 1, 15), State: atigip.MeasureToPlace}
	cpip := workflow.Actor{Principal: atigip.Principal{Subject: "cpip", Role: atigip.RoleCPIP}, At: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	eff, _ := workflow.ApplyMeasure(m, cpip, workflow.Transition{To: atigip.MeasureProposed, PostID: 5, StartDate: atigip.NewDate(2025, 3, 10)})
	fmt.Println(m.State, eff.Propose)
	judge := workflow.Actor{Principal: atigip.Principal{Subject: "jap", Role: atigip.RoleMagistrate}, At: cpip.At.AddDate(0, 0, 2)}
	eff, _ = workflow.ApplyMeasure(m, judge, workflow.Transition{To: atigip.MeasureAssigned})
	fmt.Println(m.State, eff.TakePlace, len(m.History))
	_, err := workflow.ApplyMeasure(m, cpip, workflow.Transition{To: atigip.MeasureCompleted})
	fmt.Println(atigip.ErrorMessage(err))
	// Output:
	// proposed true
	// assigned 5 2
	// Transition interdite : une mesure à l'état « Affectée » ne peut pas passer à l'état « Exécutée ».
}
