package httpapi

import (
	"context"
	"fmt"
	"html"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth/oidctest"
	"github.com/atigip/atigip360/internal/workflow"
	"github.com/atigip/atigip360/internal/workflow/wftest"
)

// hostEnv is the workflow world with the host module, its measure in
// progress on the world's post since 30 days, 200 hours ordered.
func hostEnv(t *testing.T) (*testEnv, *wftest.World, *http.Cookie) {
	t.Helper()
	e, w := workflowEnv(t)
	e2 := newEnv(t, e.store, func(o *Options) {
		o.Modules = append(o.Modules, WorkflowModule(nil), HomeModule{}, HostModule{})
	})
	m := w.Measure
	m.State, m.PostID, m.HoursOrdered = atigip.MeasureInProgress, w.Post.ID, 200
	m.StartDate = atigip.DateOf(time.Now().AddDate(0, 0, -30))
	if err := e.store.Entities(atigip.KindMeasure).Update(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	return e2, w, &http.Cookie{Name: csrfCookie, Value: strings.Repeat("c", 43)}
}

// text is a page's body as read: entities decoded, no-break spaces as
// spaces.
func text(r response) string {
	return strings.ReplaceAll(html.UnescapeString(string(r.body)), "\u00a0", " ")
}

// otherOrg is a second host organisation, for the perimeter rows.
func otherOrg(t *testing.T, e *testEnv) *atigip.Organisation {
	o := &atigip.Organisation{Name: "Association voisine", OrgKind: atigip.OrgAssociation, Address: wftest.Lyon,
		Location: atigip.Point{Lon: 4.8, Lat: 45.7}, Active: true, Habilitation: atigip.Habilitation{Status: atigip.HabNone}}
	if err := e.store.Entities(atigip.KindOrganisation).Create(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	return o
}

func lastMonday() atigip.Date { return workflow.WeekOf(atigip.DateOf(time.Now())).AddDays(-7) }

func TestHostPostForms(t *testing.T) {
	e, w, ck := hostEnv(t)
	tutor := e.token(atigip.Principal{Role: atigip.RoleHost, OrganisationID: w.Org.ID})
	stranger := e.token(atigip.Principal{Role: atigip.RoleHost, OrganisationID: otherOrg(t, e).ID})
	good := url.Values{"csrf": {ck.Value}, "title": {"Accueil de la médiathèque"}, "rome": {"K1601"}, "places": {"2"},
		"jour1": {"09:00-12:00, 14:00-16:00"}, "visibility": {"public"}}
	with := func(k, v string) url.Values {
		out := maps.Clone(good)
		out.Set(k, v)
		return out
	}
	tests := []struct {
		name   string
		tok    string
		form   url.Values
		status int
		want   string
	}{
		{"no CSRF token", tutor, with("csrf", ""), 403, ""},
		{"places not a number", tutor, with("places", "deux"), 400, "nombre entier de places"},
		{"bad schedule", tutor, with("jour1", "9-25"), 400, "Horaire du lundi invalide"},
		{"no title", tutor, with("title", ""), 400, "intitulé du poste est obligatoire"},
		{"bad ROME", tutor, with("rome", "ZZZ"), 400, "ROME"},
		{"created", tutor, good, 303, ""},
	}
	for _, tt := range tests {
		t.Run("create/"+tt.name, func(t *testing.T) {
			r := e.form("/structure/postes", tt.tok, tt.form, ck)
			wantStatus(t, r, tt.status)
			if tt.want != "" && (!strings.Contains(text(r), tt.want) || !strings.Contains(text(r), "fr-error-text")) {
				t.Fatalf("no %q next to the field:\n%s", tt.want, r.body)
			}
			if tt.status == 400 && !strings.Contains(text(r), `value="`+tt.form.Get("title")+`"`) {
				t.Fatal("the typed title is lost")
			}
		})
	}
	posts, err := atigip.Of[*atigip.Post](e.store).All(t.Context(), atigip.ListFilter{Parent: w.Org.ID})
	if err != nil {
		t.Fatal(err)
	}
	var created *atigip.Post
	for _, p := range posts {
		if p.Title == "Accueil de la médiathèque" {
			created = p
		}
	}
	if created == nil || created.Status != atigip.PostDraft || created.Schedule.HoursPerWeek() != 5 || created.Address.City != "Lyon" {
		t.Fatalf("created post %+v", created)
	}
	path := fmt.Sprintf("/structure/postes/%d", created.ID)
	edit := func(k, v string, version int64) url.Values {
		f := with(k, v)
		f.Set("version", fmt.Sprint(version))
		return f
	}
	t.Run("edit/another organisation's post reads as absent", func(t *testing.T) {
		wantStatus(t, e.form(path, stranger, edit("title", "Pris", created.Version), ck), 404)
		wantStatus(t, e.page(path, stranger), 404)
	})
	t.Run("edit/a draft cannot open itself", func(t *testing.T) {
		r := e.form(path, tutor, edit("status", "open", created.Version), ck)
		wantStatus(t, r, 400)
		if !strings.Contains(text(r), "inscription") {
			t.Fatalf("no rule sentence: %s", r.body)
		}
	})
	t.Run("edit/saved", func(t *testing.T) {
		wantStatus(t, e.form(path, tutor, edit("title", "Accueil et prêt", created.Version), ck), 303)
	})
	t.Run("edit/stale version shows the other one", func(t *testing.T) {
		r := e.form(path, tutor, edit("title", "Mon titre à moi", created.Version), ck)
		wantStatus(t, r, 409)
		b := text(r)
		if !strings.Contains(b, "Modifié entre-temps") || !strings.Contains(b, "Accueil et prêt") || !strings.Contains(b, `value="Mon titre à moi"`) {
			t.Fatalf("conflict page: %s", b)
		}
	})
	t.Run("registration requested once", func(t *testing.T) {
		wantStatus(t, e.form(path+"/inscription", tutor, url.Values{"csrf": {ck.Value}}, ck), 303)
		r := e.form(path+"/inscription", tutor, url.Values{"csrf": {ck.Value}}, ck)
		wantStatus(t, r, 409)
		if !strings.Contains(text(r), "déjà en cours") {
			t.Fatalf("second request: %s", r.body)
		}
		wantStatus(t, e.form(path+"/inscription", stranger, url.Values{"csrf": {ck.Value}}, ck), 404)
	})
	t.Run("habilitation still valid for years", func(t *testing.T) {
		r := e.form("/structure/habilitation", tutor, url.Values{"csrf": {ck.Value}}, ck)
		wantStatus(t, r, 409)
		if !strings.Contains(text(r), "renouvellement") {
			t.Fatalf("refusal: %s", r.body)
		}
	})
	t.Run("workspace lists the post and the procedure", func(t *testing.T) {
		r := e.page("/structure", tutor)
		wantStatus(t, r, 200)
		for _, s := range []string{"Accueil et prêt", "Inscription d'un poste", "1 tigiste accueilli"} {
			if !strings.Contains(text(r), s) {
				t.Fatalf("no %q on /structure", s)
			}
		}
	})
}

func TestHostHoursGrid(t *testing.T) {
	e, w, ck := hostEnv(t)
	tutor := e.token(atigip.Principal{Role: atigip.RoleHost, OrganisationID: w.Org.ID})
	stranger := e.token(atigip.Principal{Role: atigip.RoleHost, OrganisationID: otherOrg(t, e).ID})
	mon := lastMonday()
	cell := func(i int) string { return cellName(w.Measure.ID, mon.AddDays(i)) }
	r := e.page("/structure/heures?semaine="+mon.String(), tutor)
	wantStatus(t, r, 200)
	if !strings.Contains(text(r), `name="`+cell(0)+`"`) || !strings.Contains(text(r), "TIG-0001") {
		t.Fatalf("grid without the tigiste's cells: %s", r.body)
	}
	if strings.Contains(text(r), "M0001") {
		t.Fatal("the tutor sees the case number")
	}
	post := func(tok string, vals map[int]string) response {
		f := url.Values{"csrf": {ck.Value}, "semaine": {mon.String()}}
		for i, v := range vals {
			f.Set(cell(i), v)
		}
		return e.form("/structure/heures", tok, f, ck)
	}
	t.Run("over the daily cap, refused next to the cell, the rest stored", func(t *testing.T) {
		r := post(tutor, map[int]string{0: "7,5", 1: "11"})
		wantStatus(t, r, 400)
		b := text(r)
		if !strings.Contains(b, "L3121-18") || !strings.Contains(b, `id="`+cell(1)+`-err"`) || !strings.Contains(b, `value="11"`) {
			t.Fatalf("no rule next to the cell: %s", b)
		}
	})
	t.Run("another host's tutor cannot report", func(t *testing.T) {
		r := post(stranger, map[int]string{2: "3"})
		wantStatus(t, r, 400)
		if !strings.Contains(text(r), "Seul le tuteur") {
			t.Fatalf("refusal: %s", r.body)
		}
	})
	t.Run("a week over 48 h, the last day refused", func(t *testing.T) {
		wantStatus(t, post(tutor, map[int]string{1: "10", 2: "10", 3: "10"}), 303) // 37,5 h
		r := post(tutor, map[int]string{4: "10", 5: "1"})                          // 47,5 then 57,5
		wantStatus(t, r, 400)
		if !strings.Contains(text(r), "L3121-20") {
			t.Fatalf("no weekly rule: %s", r.body)
		}
	})
	logs, err := atigip.Of[*atigip.MeasureLog](e.store).All(t.Context(), atigip.ListFilter{Parent: w.Measure.ID})
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, l := range logs {
		sum += l.Hours
	}
	if sum != 48.5-1 && sum != 47.5+1 && sum != 48.5 { // 7,5 + 3 × 10 + 10 (Friday refused) + 1 (Saturday)
		t.Logf("logs: %d, hours %v", len(logs), sum)
	}
	if sum > 48 {
		t.Fatalf("the week holds %v h", sum)
	}
	t.Run("incident", func(t *testing.T) {
		f := url.Values{"csrf": {ck.Value}, "semaine": {mon.String()}, "measure_id": {fmt.Sprint(w.Measure.ID)},
			"date": {mon.String()}, "incident": {"behaviour"}, "note": {""}}
		r := e.form("/structure/incidents", tutor, f, ck)
		wantStatus(t, r, 400)
		if !strings.Contains(text(r), "Décrivez l'incident") {
			t.Fatalf("refusal: %s", r.body)
		}
		f.Set("note", "Parti sans prévenir")
		wantStatus(t, e.form("/structure/incidents", tutor, f, ck), 303)
	})
}

func TestHoursConfirmAndMyMeasure(t *testing.T) {
	e, w, ck := hostEnv(t)
	tutor := e.token(atigip.Principal{Role: atigip.RoleHost, OrganisationID: w.Org.ID})
	cpip := e.token(atigip.Principal{Role: atigip.RoleCPIP, Departement: "69"})
	cpip13 := e.token(atigip.Principal{Role: atigip.RoleCPIP, Departement: "13"})
	pjj := e.token(atigip.Principal{Role: atigip.RolePJJ, Departement: "69"})
	self := e.token(atigip.Principal{Role: atigip.RolePerson, PersonID: w.Person.ID})
	other := e.token(atigip.Principal{Role: atigip.RolePerson, PersonID: w.Detainee.ID})
	mon := lastMonday()
	f := url.Values{"csrf": {ck.Value}, "semaine": {mon.String()}}
	f.Set(cellName(w.Measure.ID, mon), "4")
	f.Set(cellName(w.Measure.ID, mon.AddDays(1)), "3")
	wantStatus(t, e.form("/structure/heures", tutor, f, ck), 303)
	_, pending, err := func() ([]*atigip.MeasureLog, []*atigip.MeasureLog, error) {
		p, d, err := workflow.PendingHours(t.Context(), e.store, w.Measure.ID)
		return d, p, err
	}()
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending %d %v", len(pending), err)
	}
	page := fmt.Sprintf("/mesures/%d/heures", w.Measure.ID)
	act := func(tok string, l *atigip.MeasureLog, decision, note string) response {
		return e.form(fmt.Sprintf("%s/%d", page, l.ID), tok, url.Values{"csrf": {ck.Value}, "decision": {decision}, "note": {note}}, ck)
	}
	t.Run("perimeter", func(t *testing.T) {
		wantStatus(t, e.page(page, cpip13), 404)
		wantStatus(t, e.page(page, pjj), 404)
		wantStatus(t, act(cpip13, pending[0], "confirmer", ""), 404)
		wantStatus(t, act(tutor, pending[0], "confirmer", ""), 403)
	})
	t.Run("list in the perimeter", func(t *testing.T) {
		r := e.page("/heures-a-confirmer", cpip)
		wantStatus(t, r, 200)
		if !strings.Contains(text(r), "2 déclarations") {
			t.Fatalf("list: %s", r.body)
		}
		r = e.page("/heures-a-confirmer", cpip13)
		if !strings.Contains(text(r), "0 déclaration") {
			t.Fatalf("list of the 13: %s", r.body)
		}
	})
	t.Run("contest without a reason", func(t *testing.T) {
		r := act(cpip, pending[1], "contester", "")
		wantStatus(t, r, 400)
		if !strings.Contains(text(r), "motif du refus") {
			t.Fatalf("refusal: %s", r.body)
		}
	})
	t.Run("confirm, contest", func(t *testing.T) {
		wantStatus(t, e.page(page, cpip), 200)
		wantStatus(t, act(cpip, pending[0], "confirmer", ""), 303)
		wantStatus(t, act(cpip, pending[1], "contester", "Absent ce jour-là"), 303)
		wantStatus(t, act(cpip, pending[0], "confirmer", ""), 400) // already done
		m, _ := atigip.Of[*atigip.Measure](e.store).Get(t.Context(), w.Measure.ID)
		if m.HoursDone != 4 {
			t.Fatalf("hours done %v", m.HoursDone)
		}
	})
	t.Run("ma mesure", func(t *testing.T) {
		r := e.page("/ma-mesure", self)
		wantStatus(t, r, 200)
		b := text(r)
		for _, s := range []string{"4 h", "Entretien des espaces verts", "Lundi : de 9 h à 12 h", "Date limite"} {
			if !strings.Contains(b, s) {
				t.Fatalf("no %q on « Ma mesure »:\n%s", s, b)
			}
		}
		if strings.Contains(b, "M0001") {
			t.Fatal("case number shown")
		}
		r = e.page("/ma-mesure", other)
		wantStatus(t, r, 200)
		if strings.Contains(text(r), "Entretien des espaces verts") {
			t.Fatal("another person sees the measure")
		}
	})
	t.Run("absence", func(t *testing.T) {
		tomorrow := atigip.DateOf(time.Now()).AddDays(1).String()
		r := e.form("/ma-mesure/absence", self, url.Values{"csrf": {ck.Value}, "date": {tomorrow}, "reason": {" "}}, ck)
		wantStatus(t, r, 400)
		if !strings.Contains(text(r), "Indiquez la raison") {
			t.Fatalf("refusal: %s", r.body)
		}
		wantStatus(t, e.form("/ma-mesure/absence", self, url.Values{"date": {tomorrow}, "reason": {"Malade"}}), 403)
		wantStatus(t, e.form("/ma-mesure/absence", self, url.Values{"csrf": {ck.Value}, "date": {tomorrow}, "reason": {"Malade"}}, ck), 303)
		r = e.page(fmt.Sprintf("/api/measures/%d/history", w.Measure.ID), cpip)
		if !strings.Contains(text(r), "Absence signalée par la personne : Malade") {
			t.Fatalf("the CPIP does not see it: %s", r.body)
		}
	})
}

func TestAbsenceRoute(t *testing.T) {
	e, w, _ := hostEnv(t)
	path := fmt.Sprintf("/api/measures/%d/absences", w.Measure.ID)
	self := e.token(atigip.Principal{Role: atigip.RolePerson, PersonID: w.Person.ID})
	other := e.token(atigip.Principal{Role: atigip.RolePerson, PersonID: w.Detainee.ID})
	tutor := e.token(atigip.Principal{Role: atigip.RoleHost, OrganisationID: w.Org.ID})
	today := atigip.DateOf(time.Now())
	tests := []struct {
		name   string
		tok    string
		body   map[string]any
		status int
	}{
		{"own measure", self, map[string]any{"date": today.String(), "reason": "Malade"}, 201},
		{"another person's measure", other, map[string]any{"date": today.String(), "reason": "Malade"}, 404},
		{"the tutor (role)", tutor, map[string]any{"date": today.String(), "reason": "Malade"}, 403},
		{"no reason", self, map[string]any{"date": today.String(), "reason": ""}, 400},
		{"too far ahead", self, map[string]any{"date": today.AddDays(60).String(), "reason": "Voyage"}, 400},
		{"unknown field", self, map[string]any{"date": today.String(), "reason": "x", "hours": 3}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, e.do("POST", path, tt.tok, tt.body), tt.status)
		})
	}
	wantStatus(t, e.do("POST", "/api/measures/999999/absences", self, map[string]any{"reason": "x"}), 404)
}

func TestHostHomeCards(t *testing.T) {
	e, w, _ := hostEnv(t)
	for _, tc := range []struct {
		p    atigip.Principal
		want string
	}{
		{atigip.Principal{Role: atigip.RoleHost, OrganisationID: w.Org.ID}, "1 tigiste sans heures déclarées cette semaine"},
		{atigip.Principal{Role: atigip.RolePerson, PersonID: w.Person.ID}, "200 h à effectuer avant le"},
		{atigip.Principal{Role: atigip.RoleCPIP, Departement: "69"}, "Heures à confirmer"},
	} {
		r := e.page("/espace", e.token(tc.p))
		wantStatus(t, r, 200)
		if !strings.Contains(text(r), tc.want) {
			t.Fatalf("%s: no %q on « Mon espace »: %s", tc.p.Role, tc.want, r.body)
		}
	}
}

// TestSignInPersonReachesMyMeasure signs a person in by the code flow (as
// FranceConnect does: role person, their record in the person claim)
// without a way back: they land on « Ma mesure », by session.
func TestSignInPersonReachesMyMeasure(t *testing.T) {
	s := wftest.SQLite(t)
	w := wftest.Build(t, s)
	m := w.Measure
	m.State, m.PostID, m.StartDate = atigip.MeasureInProgress, w.Post.ID, atigip.DateOf(time.Now().AddDate(0, 0, -3))
	if err := s.Entities(atigip.KindMeasure).Update(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	idp := oidctest.Start(t)
	env := newEnv(t, s, func(o *Options) {
		o.Auth = idp.Authenticator(t)
		o.SignIn = testCodeFlows(t, idp, base)
		o.Modules = []Module{SiteModule{}, HostModule{}}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	idp.SignInAs(&atigip.Principal{Subject: "fc-1", Role: atigip.RolePerson, PersonID: w.Person.ID})
	st, u, body := newBrowser(t).get(base + "/connexion/oidctest")
	if st != 200 || u.Path != "/ma-mesure" || !strings.Contains(body, "Entretien des espaces verts") || !strings.Contains(body, "Signaler mon absence") {
		t.Fatalf("after sign-in: %d at %s\n%s", st, u, body)
	}
}

// TestDemoExamples: the development sign-in suggests an organisation, a
// person and a département with data, and signing in with them opens
// the workspaces on that data.
func TestDemoExamples(t *testing.T) {
	e, w, _ := hostEnv(t)
	r := e.page("/dev/signin", "")
	wantStatus(t, r, 200)
	for _, want := range []string{fmt.Sprintf("structure n° %d (1 tigiste en cours)", w.Org.ID), fmt.Sprintf("personne n° %d", w.Person.ID), "département 69"} {
		if !strings.Contains(text(r), want) {
			t.Fatalf("no %q on the sign-in page:\n%s", want, r.body)
		}
	}
}
