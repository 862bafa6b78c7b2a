package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed/seedtest"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

// iproWorld is a detainee without a contract in an establishment with
// staff, and another establishment to transfer to.
type iproWorld struct {
	prison, other *atigip.Prison
	person        *atigip.Person
	second        *atigip.Person
	// free are n adult detainees of prison without any application, and
	// pages their page in « Mon établissement »'s list.
	free  []*atigip.Person
	pages []int
}

func findIPROWorld(t testing.TB, db *sqlite.DB, n int) iproWorld {
	t.Helper()
	ctx := t.Context()
	prisons, err := atigip.Of[*atigip.Prison](db).All(ctx, atigip.ListFilter{})
	if err != nil || len(prisons) < 2 {
		t.Fatalf("prisons: %v %d", err, len(prisons))
	}
	for _, pr := range prisons {
		people, err := atigip.Of[*atigip.Person](db).All(ctx, atigip.ListFilter{Parent: pr.ID, Status: []string{"detained"}})
		if err != nil {
			t.Fatal(err)
		}
		var free []*atigip.Person
		var pages []int
		for i, pe := range people {
			apps, err := atigip.Of[*atigip.Application](db).All(ctx, atigip.ListFilter{Owner: pe.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(apps) == 0 && !pe.Minor && !pe.WorkCleared {
				free, pages = append(free, pe), append(pages, i/iproPerPage+1)
			}
		}
		if len(free) >= max(n, 2) {
			w := iproWorld{prison: pr, person: free[0], second: free[1], free: free, pages: pages}
			for _, o := range prisons {
				if o.ID != pr.ID {
					w.other = o
					break
				}
			}
			return w
		}
	}
	t.Fatalf("seed lacks a prison with %d detainees without applications", n)
	return iproWorld{}
}

// csrfOf reads the CSRF cookie a page set.
func csrfOf(t *testing.T, r response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == csrfCookie {
			return c
		}
	}
	t.Fatalf("no CSRF cookie (status %d)", r.status)
	return nil
}

var locID = regexp.MustCompile(`/(\d+)`)

func offerValues(csrf, title, start, end string) url.Values {
	return url.Values{"csrf": {csrf}, "titre": {title}, "type": {"work"}, "employeur": {"prison_employment_service"},
		"rome": {"H2909"}, "places": {"2"}, "debut": {start}, "fin": {end}, "jours": {"1", "2", "3", "4", "5"}}
}

// TestIPROPages walks the IPRO workspaces' doors over a seeded store:
// publishing (CSRF, French field errors), CPU clearance, the kiosk's two
// steps, interview and the governor's assignment within the working-time
// rules and refused beyond them with the rule's sentence, the profile's
// experience after assignment and after a transfer, the CV PDF, the
// « Modifié entre-temps » conflict, perimeters (another establishment's
// staff), the business's space and the kiosk's end of session.
func TestIPROPages(t *testing.T) {
	db := seedtest.Store(t, 0.02, 7)
	env := newEnv(t, db, func(o *Options) { o.Modules = append(o.Modules, HomeModule{}, IPROModule{}) })
	w := findIPROWorld(t, db, 2)
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	staff := env.token(atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.prison.ID})
	otherStaff := env.token(atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.other.ID})
	person := env.token(atigip.Principal{Role: atigip.RolePerson, PersonID: w.person.ID, PrisonID: w.prison.ID})
	cpip := env.token(atigip.Principal{Role: atigip.RoleCPIP})

	home := env.page("/ipro/etablissement", staff)
	if home.status != 200 || !strings.Contains(string(home.body), w.prison.Name) || !strings.Contains(string(home.body), w.person.Pseudonym) {
		t.Fatalf("establishment %d", home.status)
	}
	csrf := csrfOf(t, home)

	// Publishing: CSRF, a French message next to the field, then PRG.
	if r := env.form("/ipro/etablissement/offres", staff, offerValues("", "Atelier", "08:00", "14:00"), csrf); r.status != 403 {
		t.Fatalf("no CSRF: %d", r.status)
	}
	bad := offerValues(csrf.Value, "Atelier cuisine", "08:00", "14:00")
	bad.Set("places", "deux")
	if r := env.form("/ipro/etablissement/offres", staff, bad, csrf); r.status != 400 ||
		!strings.Contains(string(r.body), "nombre entier attendu") || !strings.Contains(string(r.body), `value="Atelier cuisine"`) {
		t.Fatalf("bad places: %d", r.status)
	}
	publish := func(title, start, end string) int64 {
		r := env.form("/ipro/etablissement/offres", staff, offerValues(csrf.Value, title, start, end), csrf)
		if r.status != 303 {
			t.Fatalf("publish %s: %d %s", title, r.status, r.body)
		}
		n, _ := strconv.ParseInt(locID.FindStringSubmatch(r.header.Get("Location"))[1], 10, 64)
		return n
	}
	morning := publish("Atelier de cuisine du matin", "08:00", "14:00") // 30 h
	evening := publish("Atelier de conditionnement", "14:00", "18:00")  // 20 h: 50 h with the first

	// CPU clearance, then the kiosk's two steps.
	if r := env.form("/ipro/personnes/"+id(w.person.ID)+"/classement", staff, url.Values{"csrf": {csrf.Value}, "classe": {"1"}}, csrf); r.status != 303 {
		t.Fatalf("clearance: %d %s", r.status, r.body)
	}
	k := env.page("/ipro/kiosque", person)
	if k.status != 200 || !strings.Contains(string(k.body), "Atelier de cuisine du matin") || k.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("kiosk %d %q", k.status, k.header.Get("Cache-Control"))
	}
	pcsrf := csrfOf(t, k)
	step := env.page("/ipro/kiosque/offres/"+id(morning), person)
	if !strings.Contains(string(step.body), "Je confirme ma demande") || !strings.Contains(string(step.body), "Vous pouvez demander") {
		t.Fatalf("step 2: %d", step.status)
	}
	for _, o := range []int64{morning, evening} {
		if r := env.form("/ipro/kiosque/offres/"+id(o), person, url.Values{"csrf": {pcsrf.Value}}, pcsrf); r.status != 303 {
			t.Fatalf("apply %d: %d %s", o, r.status, r.body)
		}
	}
	// An uncleared detainee is told why, with the rulebook's sentence.
	second := env.token(atigip.Principal{Role: atigip.RolePerson, PersonID: w.second.ID, PrisonID: w.prison.ID})
	if r := env.form("/ipro/kiosque/offres/"+id(morning), second, url.Values{"csrf": {pcsrf.Value}}, pcsrf); !w.second.WorkCleared && r.status != 409 {
		t.Fatalf("uncleared apply: %d", r.status)
	}

	appOf := func(offer int64) *atigip.Application {
		apps, err := atigip.Of[*atigip.Application](db).All(t.Context(), atigip.ListFilter{Parent: offer, Owner: w.person.ID})
		if err != nil || len(apps) != 1 {
			t.Fatalf("application on %d: %v %d", offer, err, len(apps))
		}
		return apps[0]
	}
	move := func(a *atigip.Application, to string, version int64) response {
		return env.form("/ipro/candidatures/"+id(a.ID)+"/etat", staff, url.Values{"csrf": {csrf.Value}, "etat": {to}, "version": {id(version)}}, csrf)
	}
	a := appOf(morning)
	if r := env.page("/ipro/offres/"+id(morning), staff); !strings.Contains(string(r.body), w.person.Pseudonym) {
		t.Fatalf("waiting list lacks the applicant: %d %s", r.status, env.logs.String())
	}
	if r := move(a, "interview", a.Version); r.status != 303 {
		t.Fatalf("interview: %d %s", r.status, r.body)
	}
	if r := move(a, "accepted", a.Version); r.status != 409 || !strings.Contains(string(r.body), "Modifié entre-temps") {
		t.Fatalf("stale version: %d", r.status)
	}
	a = appOf(morning)
	if r := move(a, "accepted", a.Version); r.status != 303 {
		t.Fatalf("assign: %d %s", r.status, r.body)
	}
	// Beyond 48 h a week: refused with the rule's sentence.
	b := appOf(evening)
	r := move(b, "accepted", b.Version)
	if r.status != 409 || !strings.Contains(string(r.body), "48") || !strings.Contains(string(r.body), "Affectation refusée") {
		t.Fatalf("beyond the limits: %d %s", r.status, r.body)
	}
	// Another establishment's staff: not found.
	if r := move(b, "accepted", b.Version); r.status == 303 {
		t.Fatal("second assignment passed")
	}
	if r := env.form("/ipro/candidatures/"+id(b.ID)+"/etat", otherStaff, url.Values{"csrf": {csrf.Value}, "etat": {"accepted"}, "version": {id(b.Version)}}, csrf); r.status != 404 {
		t.Fatalf("other establishment's staff: %d", r.status)
	}
	if r := env.page("/ipro/offres/"+id(morning), otherStaff); r.status != 404 {
		t.Fatalf("other staff reads the offer: %d", r.status)
	}

	// The waiting list's order: a second applicant moved first; a rank
	// out of the list is refused next to the application.
	if r := env.form("/ipro/personnes/"+id(w.second.ID)+"/classement", staff, url.Values{"csrf": {csrf.Value}, "classe": {"1"}}, csrf); r.status != 303 {
		t.Fatalf("second clearance: %d", r.status)
	}
	if r := env.form("/ipro/kiosque/offres/"+id(evening), second, url.Values{"csrf": {pcsrf.Value}}, pcsrf); r.status != 303 {
		t.Fatalf("second apply: %d %s", r.status, r.body)
	}
	apps2, _ := atigip.Of[*atigip.Application](db).All(t.Context(), atigip.ListFilter{Parent: evening, Owner: w.second.ID})
	if len(apps2) != 1 || apps2[0].Rank != 2 {
		t.Fatalf("second application: %+v", apps2)
	}
	rank := func(a *atigip.Application, v string) response {
		return env.form("/ipro/candidatures/"+id(a.ID)+"/rang", staff, url.Values{"csrf": {csrf.Value}, "rang": {v}}, csrf)
	}
	if r := rank(apps2[0], "1"); r.status != 303 {
		t.Fatalf("rank: %d %s", r.status, r.body)
	}
	if a, _ := atigip.Of[*atigip.Application](db).Get(t.Context(), apps2[0].ID); a.Rank != 1 {
		t.Fatalf("rank after the move: %d", a.Rank)
	}
	if r := rank(apps2[0], "9"); r.status != 400 || !strings.Contains(string(r.body), "Le rang doit être compris entre 1 et 2") {
		t.Fatalf("rank out of the list: %d", r.status)
	}
	if r := env.form("/ipro/candidatures/"+id(apps2[0].ID)+"/rang", otherStaff, url.Values{"csrf": {csrf.Value}, "rang": {"2"}}, csrf); r.status != 404 {
		t.Fatalf("rank by another establishment: %d", r.status)
	}

	// The profile shows the assignment, then follows the transfer.
	prof := env.page("/ipro/profil/"+id(w.person.ID), person)
	if prof.status != 200 || !strings.Contains(string(prof.body), "Atelier de cuisine du matin") || !strings.Contains(string(prof.body), "en cours") {
		t.Fatalf("profile after assignment: %d", prof.status)
	}
	if r := env.form("/ipro/etablissement/transferts", staff, url.Values{"csrf": {csrf.Value}, "personne": {id(w.person.ID)}, "vers": {id(w.other.ID)}}, csrf); r.status != 303 {
		t.Fatalf("transfer: %d %s", r.status, r.body)
	}
	if r := env.form("/ipro/personnes/"+id(w.person.ID)+"/classement", staff, url.Values{"csrf": {csrf.Value}, "classe": {"1"}}, csrf); r.status != 404 {
		t.Fatalf("clearance after the transfer, old establishment: %d", r.status)
	}
	prof = env.page("/ipro/profil/"+id(w.person.ID), cpip)
	body := string(prof.body)
	if prof.status != 200 || !strings.Contains(body, "Atelier de cuisine du matin") || !strings.Contains(body, w.other.Name) || strings.Contains(body, "en cours") {
		t.Fatalf("profile after transfer: %d", prof.status)
	}
	if r := env.page("/ipro/profil/"+id(w.person.ID), otherStaff); r.status != 200 {
		t.Fatalf("new establishment's staff reads the profile: %d", r.status)
	}
	if r := env.page("/ipro/profil/"+id(w.person.ID), staff); r.status != 404 {
		t.Fatalf("old establishment's staff reads the profile: %d", r.status)
	}
	cv := env.page("/ipro/profil/"+id(w.person.ID)+"/cv.pdf", cpip)
	if cv.status != 200 || cv.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(cv.body, []byte("%PDF")) {
		t.Fatalf("cv: %d %s", cv.status, cv.header.Get("Content-Type"))
	}

	// « Modifié entre-temps »: the user's typed values stay, the other
	// version's are shown.
	pg := env.page("/ipro/offres/"+id(morning), staff)
	o, _ := atigip.Of[*atigip.Offer](db).Get(t.Context(), morning)
	first := offerValues(csrf.Value, "Atelier de cuisine (version A)", "08:00", "14:00")
	first.Set("version", id(o.Version))
	if r := env.form("/ipro/offres/"+id(morning), staff, first, csrf); r.status != 303 {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	stale := offerValues(csrf.Value, "Atelier de cuisine (version B)", "08:00", "14:00")
	stale.Set("version", id(o.Version))
	r = env.form("/ipro/offres/"+id(morning), staff, stale, csrf)
	if body := string(r.body); r.status != 409 || !strings.Contains(body, "Modifié entre-temps") || !strings.Contains(body, "version B") || !strings.Contains(body, "version A") {
		t.Fatalf("conflict: %d (page was %d)", r.status, pg.status)
	}

	// The business reads its company's offers, never the applicants.
	biz := env.token(atigip.Principal{Role: atigip.RoleBusiness, SIRET: "12345678200010"})
	bpage := env.page("/ipro/entreprise", biz)
	if bpage.status != 200 {
		t.Fatalf("business: %d", bpage.status)
	}
	if r := env.page("/ipro/offres/"+id(morning), biz); r.status != 404 {
		t.Fatalf("business reads another's offer: %d", r.status)
	}
	bcsrf := csrfOf(t, bpage)
	bv := offerValues(bcsrf.Value, "Montage de luminaires", "08:00", "12:00")
	if r := env.form("/ipro/entreprise/offres", biz, bv, bcsrf); r.status != 400 || !strings.Contains(string(r.body), "Choisissez l&#39;établissement") {
		t.Fatalf("business offer without establishment: %d", r.status)
	}
	bv.Set("etablissement", id(w.prison.ID))
	r = env.form("/ipro/entreprise/offres", biz, bv, bcsrf)
	if r.status != 303 {
		t.Fatalf("business offer: %d %s", r.status, r.body)
	}
	bo, _ := strconv.ParseInt(locID.FindStringSubmatch(r.header.Get("Location"))[1], 10, 64)
	if o, err := atigip.Of[*atigip.Offer](db).Get(t.Context(), bo); err != nil || o.EmployerSIRET != "12345678200010" || o.EmployerKind != atigip.EmployerConcession {
		t.Fatalf("business offer stored: %+v %v", o, err)
	}
	if r := env.page("/ipro/entreprise", biz); !strings.Contains(string(r.body), "Montage de luminaires") {
		t.Fatal("business space lacks its offer")
	}
	if r := env.page("/ipro/offres/"+id(bo), biz); r.status != 200 || strings.Contains(string(r.body), w.person.Pseudonym) {
		t.Fatalf("business offer page: %d", r.status)
	}
	if r := env.page("/ipro/offres/"+id(bo), staff); r.status != 200 {
		t.Fatalf("staff reads the concessionnaire's offer: %d", r.status)
	}
	// « Mon espace » cards.
	if r := env.page("/espace", staff); !strings.Contains(string(r.body), "Mon établissement") {
		t.Fatal("staff card missing")
	}
	if r := env.page("/espace", person); !strings.Contains(string(r.body), "Mon profil professionnel") {
		t.Fatal("person card missing")
	}
	// The kiosk's end: the session cookie is dropped, nothing is stored.
	end := env.page("/ipro/kiosque/fin?inactif=1", person)
	if end.status != 200 || end.header.Get("Cache-Control") != "no-store" || !strings.Contains(strings.Join(end.header.Values("Set-Cookie"), ";"), SessionCookie+"=;") {
		t.Fatalf("end: %d %v", end.status, end.header)
	}
	// The ROME search as you type.
	var hits []romeSuggestion
	env.do("GET", "/ipro/rome?q=cuisinier", cpip, nil).json(t, &hits)
	if len(hits) == 0 {
		t.Fatal("no ROME hit for cuisinier")
	}
}

// TestIPROInChromium walks the IPRO journeys in headless Chromium, in
// parallel over the shared server, at desktop (kiosk at 1024×768),
// 375×667 and tablet sizes, each with its own detainee: staff publishes
// two offers (a wrong field first), the CPU clears the detainee, who
// applies in two steps on the kiosk; staff holds the interview and the
// governor assigns within the working-time limits, then is refused
// beyond 48 h with the rule's sentence; the profile shows the new
// experience, then after a transfer; the CPIP searches ROME as they type
// and meets « Modifié entre-temps »; the kiosk signs out on idling and
// leaves nothing; the business's space; a keyboard path. axe-core must
// report no violation on any page state. The CV PDF each journey saves
// is rendered to PNG with pdftoppm (required under CI=true).
func TestIPROInChromium(t *testing.T) {
	t.Parallel()
	node, chromium := browserEnv(t)
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftoppm not found: apt-get install -y poppler-utils (.ci/run installs it)")
		}
		t.Skip("pdftoppm not found: install poppler-utils to run the IPRO browser test")
	}
	site := sharedBrowserSite(t)
	journeys := []string{"desktop", "mobile", "tablet"}
	w := findIPROWorld(t, site.store, len(journeys)+1)
	staff := site.token(t, atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.prison.ID, Subject: "test:ipro-staff"})
	other := site.token(t, atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.other.ID, Subject: "test:ipro-other"})
	cpip := site.token(t, atigip.Principal{Role: atigip.RoleCPIP, Subject: "test:ipro-cpip"})
	biz := site.token(t, atigip.Principal{Role: atigip.RoleBusiness, SIRET: "12345678200010"})
	last := w.free[len(journeys)]
	second := site.token(t, atigip.Principal{Role: atigip.RolePerson, PersonID: last.ID, PrisonID: w.prison.ID, Subject: "test:ipro-second"})
	for i, journey := range journeys {
		pe := w.free[i]
		t.Run(journey, func(t *testing.T) {
			t.Parallel()
			out := artefacts(t)
			cfg := map[string]any{"base": site.url, "out": out,
				"tokens": map[string]string{"staff": staff, "otherStaff": other, "cpip": cpip, "business": biz, "second": second,
					"person": site.token(t, atigip.Principal{Role: atigip.RolePerson, PersonID: pe.ID, PrisonID: w.prison.ID, Subject: "test:ipro-" + journey})},
				"ids": map[string]any{"prison": w.prison.ID, "person": pe.ID, "pseudonym": pe.Pseudonym, "personPage": w.pages[i], "other": w.other.ID, "otherName": w.other.Name}}
			b, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rep := runJourney(t, node, chromium, "ipro.mjs", string(b), journey)
			// The CV renders: pdftoppm turns its first page into a PNG.
			pdf := filepath.Join(out, "ipro-"+journey+"-cv.pdf")
			png := filepath.Join(out, "ipro-"+journey+"-cv")
			if msg, err := exec.CommandContext(t.Context(), pdftoppm, "-png", "-r", "80", "-singlefile", pdf, png).CombinedOutput(); err != nil {
				t.Fatalf("pdftoppm: %v %s", err, msg)
			}
			st, err := os.Stat(png + ".png")
			if err != nil || st.Size() < 5000 {
				t.Fatalf("CV image: %v (%v)", err, st)
			}
			t.Logf("%d checks, axe on %d page states, screenshots: %v, CV: %s.png", len(rep.Checks), len(rep.Axe), rep.Shots, png)
		})
	}
}
