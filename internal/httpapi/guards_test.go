package httpapi

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// TestWorkflowFieldsGuarded checks that the generic CRUD routes cannot
// move a measure, an application, a habilitation or a post registration
// past its procedure, while plain fields stay editable.
func TestWorkflowFieldsGuarded(t *testing.T) {
	store := newMemStore()
	env := newEnv(t, store)
	fx := newFixture(t, store)
	started := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
	running := fx.fresh(atigip.KindMeasure, 5).(*atigip.Measure)
	running.State, running.PostID, running.StartDate, running.HoursDone = atigip.MeasureInProgress, fx.post.ID, atigip.DateOf(started), 12
	running.Suspensions = []atigip.Suspension{{From: atigip.DateOf(started.AddDate(0, 1, 0)), To: atigip.DateOf(started.AddDate(0, 2, 0)), Reason: "Hospitalisation"}}
	running.History = []atigip.MeasureEvent{{At: started, By: "cpip", Role: atigip.RoleCPIP, From: atigip.MeasureAssigned, To: atigip.MeasureInProgress}}
	seed(t, store, running)
	draft := fx.fresh(atigip.KindPost, 7).(*atigip.Post)
	draft.Status = atigip.PostDraft
	seed(t, store, draft)
	awaiting := fx.fresh(atigip.KindOrganisation, 8).(*atigip.Organisation)
	awaiting.Habilitation = atigip.Habilitation{Status: atigip.HabAwaiting, RequestedAt: &started}
	seed(t, store, awaiting)
	uncleared := fx.fresh(atigip.KindPerson, 13).(*atigip.Person)
	uncleared.Detained, uncleared.PrisonID, uncleared.WorkCleared, uncleared.WorkClearedAt = true, fx.prison.ID, false, nil
	seed(t, store, uncleared)
	cleared := fx.fresh(atigip.KindPerson, 14).(*atigip.Person)
	cleared.Detained, cleared.PrisonID, cleared.WorkCleared, cleared.WorkClearedAt = true, fx.prison.ID, true, &started
	seed(t, store, cleared)
	released := fx.fresh(atigip.KindPerson, 15).(*atigip.Person)
	released.Detained, released.PrisonID, released.WorkCleared, released.WorkClearedAt = true, fx.prison.ID, true, &started
	seed(t, store, released)
	otherPrison := seed(t, store, sample[*atigip.Prison](atigip.KindPrison, 1))

	get := func(k atigip.Kind, id int64) atigip.Entity {
		e, err := store.Entities(k).Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	path := func(k atigip.Kind, id int64) string { return "/api/" + KindPath(k) + "/" + strconv.FormatInt(id, 10) }
	tok := func(r atigip.Role) string { return env.token(fx.principalFor(r)) }
	type edit struct {
		name  string
		role  atigip.Role
		kind  atigip.Kind
		id    int64
		apply func(atigip.Entity)
		field string // refused field; "" when the edit is allowed
		route string // route named in the refusal
	}
	measure := func(f func(*atigip.Measure)) func(atigip.Entity) {
		return func(e atigip.Entity) { f(e.(*atigip.Measure)) }
	}
	app := func(f func(*atigip.Application)) func(atigip.Entity) {
		return func(e atigip.Entity) { f(e.(*atigip.Application)) }
	}
	post := func(f func(*atigip.Post)) func(atigip.Entity) { return func(e atigip.Entity) { f(e.(*atigip.Post)) } }
	person := func(f func(*atigip.Person)) func(atigip.Entity) {
		return func(e atigip.Entity) { f(e.(*atigip.Person)) }
	}
	offer := func(f func(*atigip.Offer)) func(atigip.Entity) { return func(e atigip.Entity) { f(e.(*atigip.Offer)) } }
	edits := []edit{
		{"CPIP sets a measure in progress", cpip, atigip.KindMeasure, fx.measure.ID,
			measure(func(m *atigip.Measure) { m.State, m.PostID = atigip.MeasureInProgress, fx.post.ID }), "state", "/transitions"},
		{"DSPIP completes a measure", dsp, atigip.KindMeasure, running.ID,
			measure(func(m *atigip.Measure) { m.State = atigip.MeasureCompleted }), "state", "/transitions"},
		{"case system rewrites history", sys, atigip.KindMeasure, running.ID,
			measure(func(m *atigip.Measure) { m.History = nil }), "history", ""},
		{"CPIP changes the post", cpip, atigip.KindMeasure, running.ID,
			measure(func(m *atigip.Measure) { m.PostID = fx.post.ID + 1 }), "post_id", "/transitions"},
		{"CPIP adds hours", cpip, atigip.KindMeasure, running.ID,
			measure(func(m *atigip.Measure) { m.HoursDone = 20 }), "hours_done", "/hours"},
		{"DSPIP drops a suspension", dsp, atigip.KindMeasure, running.ID,
			measure(func(m *atigip.Measure) { m.Suspensions = nil }), "suspensions", "/transitions"},
		{"CPIP moves the start date", cpip, atigip.KindMeasure, running.ID,
			measure(func(m *atigip.Measure) { m.StartDate = m.StartDate.AddDays(-30) }), "start_date", "/transitions"},
		{"CPIP corrects the court of a running measure", cpip, atigip.KindMeasure, running.ID,
			measure(func(m *atigip.Measure) { m.Court = "Tribunal judiciaire de Villefranche-sur-Saône" }), "court", "APPI"},
		{"CPIP moves the sentence date, hence the deadline", cpip, atigip.KindMeasure, running.ID,
			measure(func(m *atigip.Measure) { m.SentenceDate = m.SentenceDate.AddDays(200) }), "sentence_date", "APPI"},
		{"CPIP re-points a measure to another person", cpip, atigip.KindMeasure, running.ID,
			measure(func(m *atigip.Measure) { m.PersonID = cleared.ID }), "person_id", "FFE11"},
		{"case system corrects the court (system of record)", sys, atigip.KindMeasure, running.ID,
			measure(func(m *atigip.Measure) { m.Court = "Tribunal judiciaire de Villefranche-sur-Saône" }), "", ""},
		{"CPIP moves the SPIP in charge", cpip, atigip.KindMeasure, running.ID,
			measure(func(m *atigip.Measure) { m.Departement = "69" }), "", ""},
		{"staff accepts an application", pris, atigip.KindApplication, fx.app.ID,
			app(func(a *atigip.Application) { a.State = atigip.AppAccepted }), "state", "/transitions"},
		{"CPIP jumps the queue", cpip, atigip.KindApplication, fx.app.ID,
			app(func(a *atigip.Application) { a.Rank = 1 + a.Rank }), "rank", "/rank"},
		{"DSPIP edits the history", dsp, atigip.KindApplication, fx.app.ID,
			app(func(a *atigip.Application) {
				a.History = []atigip.ApplicationEvent{{At: started, To: atigip.AppInterview}}
			}), "history", ""},
		{"staff moves it to another offer", pris, atigip.KindApplication, fx.app.ID,
			app(func(a *atigip.Application) { a.OfferID++ }), "offer_id", "/applications"},
		{"staff adds a note", pris, atigip.KindApplication, fx.app.ID,
			app(func(a *atigip.Application) { a.Note = "Entretien à prévoir après la CPU" }), "", ""},
		{"DSPIP habilitates directly", dsp, atigip.KindOrganisation, awaiting.ID,
			func(e atigip.Entity) { e.(*atigip.Organisation).Habilitation.Status = atigip.HabHabilitated }, "habilitation", "/api/procedures"},
		{"referent renames", ref, atigip.KindOrganisation, fx.org.ID,
			func(e atigip.Entity) { e.(*atigip.Organisation).Name = "Mairie de Villeurbanne" }, "", ""},
		{"host registers its draft", host, atigip.KindPost, draft.ID,
			post(func(p *atigip.Post) { p.Status = atigip.PostOpen }), "status", "/api/procedures"},
		{"referent marks a post full", ref, atigip.KindPost, fx.post.ID,
			post(func(p *atigip.Post) { p.Status = atigip.PostFull }), "status", ""},
		{"host counts places taken", host, atigip.KindPost, fx.post.ID,
			post(func(p *atigip.Post) { p.PlacesTaken = p.Places }), "places_taken", "/transitions"},
		{"host closes its registered post", host, atigip.KindPost, fx.post.ID,
			post(func(p *atigip.Post) { p.Status, p.Title = atigip.PostClosed, "Fermé pour l'été" }), "", ""},
		{"staff clears a detainee", pris, atigip.KindPerson, uncleared.ID,
			person(func(p *atigip.Person) { p.WorkCleared, p.WorkClearedAt = true, &started }), "work_cleared", "/clearance"},
		{"CPIP revokes a clearance", cpip, atigip.KindPerson, cleared.ID,
			person(func(p *atigip.Person) { p.WorkCleared, p.WorkClearedAt = false, nil }), "work_cleared", "/clearance"},
		{"case system backdates a clearance", sys, atigip.KindPerson, cleared.ID,
			person(func(p *atigip.Person) { at := started.AddDate(0, -6, 0); p.WorkClearedAt = &at }), "work_cleared_at", "/clearance"},
		{"staff moves a detainee to another prison", pris, atigip.KindPerson, cleared.ID,
			person(func(p *atigip.Person) { p.PrisonID = otherPrison.ID }), "prison_id", "/transfer"},
		{"staff records a detainee's wishes", pris, atigip.KindPerson, cleared.ID,
			person(func(p *atigip.Person) { p.Wishes = "Formation en cuisine" }), "", ""},
		{"staff counts places taken on an offer", pris, atigip.KindOffer, fx.offer.ID,
			offer(func(o *atigip.Offer) { o.PlacesTaken = o.Places }), "places_taken", "/transitions"},
		{"concessionnaire marks its offer filled", biz, atigip.KindOffer, fx.offer.ID,
			offer(func(o *atigip.Offer) { o.Status = atigip.OfferFilled }), "status", "/transitions"},
		{"staff changes the company of an offer", pris, atigip.KindOffer, fx.offer.ID,
			offer(func(o *atigip.Offer) { o.EmployerSIRET = "35600000000048" }), "employer_siret", ""},
		{"staff closes an offer and adds places", pris, atigip.KindOffer, fx.offer.ID,
			offer(func(o *atigip.Offer) { o.Status, o.Places = atigip.OfferClosed, o.Places+2 }), "", ""},
	}
	for _, tc := range edits {
		t.Run("PUT "+tc.name, func(t *testing.T) {
			before := get(tc.kind, tc.id)
			e := get(tc.kind, tc.id)
			tc.apply(e)
			res := env.do("PUT", path(tc.kind, tc.id), tok(tc.role), e)
			if tc.field == "" {
				if res.status != 200 {
					t.Fatalf("plain edit: %d %s", res.status, res.body)
				}
				return
			}
			if res.status != 409 {
				t.Fatalf("status %d, want 409: %s", res.status, res.body)
			}
			p := res.problem(t)
			if !hasField(p, tc.field) || !strings.Contains(fieldMessages(p), tc.route) || p.Code != atigip.ECONFLICT {
				t.Fatalf("problem %+v does not refuse %s pointing to %s", p, tc.field, tc.route)
			}
			if after := get(tc.kind, tc.id); after.GetMeta().Version != before.GetMeta().Version {
				t.Fatal("a refused update changed the store")
			}
		})
	}

	type create struct {
		name   string
		role   atigip.Role
		body   atigip.Entity
		status int
		field  string
	}
	mk := func(k atigip.Kind, f func(atigip.Entity)) atigip.Entity {
		e := fx.creatable(t, store, k, 9)
		f(e)
		return e
	}
	creates := []create{
		{"measure already assigned", cpip, mk(atigip.KindMeasure, func(e atigip.Entity) {
			m := e.(*atigip.Measure)
			m.State, m.PostID = atigip.MeasureAssigned, fx.post.ID
		}), 400, "state"},
		{"measure with a history", sys, mk(atigip.KindMeasure, func(e atigip.Entity) {
			e.(*atigip.Measure).History = []atigip.MeasureEvent{{At: started, To: atigip.MeasureToPlace}}
		}), 400, "history"},
		{"measure with hours done", dsp, mk(atigip.KindMeasure, func(e atigip.Entity) { e.(*atigip.Measure).HoursDone = 5 }), 400, "hours_done"},
		{"measure without state starts to place", cpip, mk(atigip.KindMeasure, func(e atigip.Entity) { e.(*atigip.Measure).State = "" }), 201, ""},
		{"application already accepted", pris, mk(atigip.KindApplication, func(e atigip.Entity) {
			e.(*atigip.Application).State = atigip.AppAccepted
		}), 400, "state"},
		{"application ranked first", cpip, mk(atigip.KindApplication, func(e atigip.Entity) { e.(*atigip.Application).Rank = 1 }), 400, "rank"},
		{"organisation habilitated", ref, mk(atigip.KindOrganisation, func(e atigip.Entity) {
			e.(*atigip.Organisation).Habilitation.Status = atigip.HabHabilitated
		}), 400, "habilitation"},
		{"organisation without habilitation", ref, mk(atigip.KindOrganisation, func(e atigip.Entity) {
			e.(*atigip.Organisation).Habilitation = atigip.Habilitation{}
		}), 201, ""},
		{"post open at once", host, mk(atigip.KindPost, func(e atigip.Entity) { e.(*atigip.Post).Status = atigip.PostOpen }), 400, "status"},
		{"post with places taken", dsp, mk(atigip.KindPost, func(e atigip.Entity) { e.(*atigip.Post).PlacesTaken = 1 }), 400, "places_taken"},
		{"person already cleared", sys, mk(atigip.KindPerson, func(e atigip.Entity) {
			p := e.(*atigip.Person)
			p.Detained, p.PrisonID, p.WorkCleared, p.WorkClearedAt = true, fx.prison.ID, true, &started
		}), 400, "work_cleared"},
		{"person with a clearance date", pris, mk(atigip.KindPerson, func(e atigip.Entity) {
			p := e.(*atigip.Person)
			p.Detained, p.PrisonID, p.WorkCleared, p.WorkClearedAt = true, fx.prison.ID, false, &started
		}), 400, "work_cleared_at"},
		{"detainee arriving in a prison, not cleared", pris, mk(atigip.KindPerson, func(e atigip.Entity) {
			p := e.(*atigip.Person)
			p.Detained, p.PrisonID, p.WorkCleared, p.WorkClearedAt = true, fx.prison.ID, false, nil
		}), 201, ""},
		{"offer with places taken", pris, mk(atigip.KindOffer, func(e atigip.Entity) {
			o := e.(*atigip.Offer)
			o.Status, o.PlacesTaken = atigip.OfferOpen, 1
		}), 400, "places_taken"},
		{"offer already filled", biz, mk(atigip.KindOffer, func(e atigip.Entity) {
			o := e.(*atigip.Offer)
			o.Status, o.PlacesTaken = atigip.OfferFilled, 0
		}), 400, "status"},
		{"job at release with places taken", pris, mk(atigip.KindOffer, func(e atigip.Entity) {
			o := e.(*atigip.Offer)
			o.OfferKind, o.EmployerKind, o.Status, o.PlacesTaken = atigip.OfferRelease, atigip.EmployerConcession, atigip.OfferFilled, o.Places
		}), 201, ""},
	}
	for _, tc := range creates {
		t.Run("POST "+tc.name, func(t *testing.T) {
			before := store.writes
			res := env.do("POST", "/api/"+KindPath(tc.body.Kind()), tok(tc.role), tc.body)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			if tc.field == "" {
				return
			}
			if p := res.problem(t); !hasField(p, tc.field) {
				t.Fatalf("problem %+v does not name %s", p, tc.field)
			}
			if store.writes != before {
				t.Fatal("a refused creation changed the store")
			}
		})
	}

	t.Run("PUT release drops the clearance", func(t *testing.T) {
		p := get(atigip.KindPerson, released.ID).(*atigip.Person)
		p.Detained = false // sent with the clearance as read
		res := env.do("PUT", path(atigip.KindPerson, released.ID), tok(sys), p)
		if res.status != 200 {
			t.Fatalf("release: %d %s", res.status, res.body)
		}
		if got := get(atigip.KindPerson, released.ID).(*atigip.Person); got.Detained || got.WorkCleared || got.WorkClearedAt != nil {
			t.Fatalf("released %+v keeps the clearance of its establishment's CPU", got)
		}
	})

	t.Run("POST application is filed on the waiting list", func(t *testing.T) {
		a := fx.creatable(t, store, atigip.KindApplication, 11).(*atigip.Application)
		res := env.do("POST", "/api/applications", tok(pris), a)
		if res.status != 201 {
			t.Fatalf("status %d: %s", res.status, res.body)
		}
		var got atigip.Application
		res.json(t, &got)
		if got.State != atigip.AppSubmitted || got.Rank != 1 || len(got.History) != 1 {
			t.Fatalf("filed %+v", got)
		}
		// The same rules as POST /api/offers/{id}/applications: no duplicate…
		if res := env.do("POST", "/api/applications", tok(cpip), a); res.status != 409 {
			t.Fatalf("duplicate: %d %s", res.status, res.body)
		}
		// …and no application before the CPU's clearance.
		p := fx.fresh(atigip.KindPerson, 12).(*atigip.Person)
		p.WorkCleared = false
		seed(t, store, p)
		b := fx.creatable(t, store, atigip.KindApplication, 12).(*atigip.Application)
		b.PersonID = p.ID
		if res := env.do("POST", "/api/applications", tok(pris), b); res.status != 409 || !strings.Contains(res.problem(t).Detail, "CPU") {
			t.Fatalf("not cleared: %d %s", res.status, res.body)
		}
	})
}
