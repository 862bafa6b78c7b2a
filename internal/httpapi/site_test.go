package httpapi

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed/seedtest"
	"github.com/atigip/atigip360/internal/store/sqlite"
	"github.com/atigip/atigip360/tiles"
)

// siteEnv is a server with the map and the site over a small seeded
// store and its tiles engine.
func siteEnv(t testing.TB, db *sqlite.DB) *testEnv {
	t.Helper()
	eng, err := tiles.New(t.Context(), db, tiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, db, func(o *Options) {
		o.Modules = append(o.Modules, TilesModule{Engine: eng}, MapModule{}, SiteModule{Engine: eng})
	})
}

// page sends a browser's GET (Accept: text/html) with an optional token.
func (e *testEnv) page(target, token string) response {
	e.t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

// form posts a form as a browser, with cookies.
func (e *testEnv) form(target, token string, v url.Values, cookies ...*http.Cookie) response {
	e.t.Helper()
	req := httptest.NewRequest("POST", target, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.send(req)
}

// siteWorld is what the site tests look at in the seeded data.
type siteWorld struct {
	public, justiceOnly, draft *atigip.Post
	prison                     *atigip.Prison
}

func findWorld(t testing.TB, db *sqlite.DB) siteWorld {
	t.Helper()
	ctx := t.Context()
	var w siteWorld
	posts, err := atigip.Of[*atigip.Post](db).All(ctx, atigip.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range posts {
		org, _ := atigip.Of[*atigip.Organisation](db).Get(ctx, p.OrganisationID)
		switch {
		case w.public == nil && p.Listed(org, atigip.AudiencePublic) && p.PlacesLeft() > 0 && len(org.Contacts) > 0:
			w.public = p
		case w.justiceOnly == nil && !p.Listed(org, atigip.AudiencePublic) && p.Listed(org, atigip.AudienceJustice):
			w.justiceOnly = p
		case w.draft == nil && p.Status == atigip.PostDraft:
			w.draft = p
		}
	}
	prisons, err := atigip.Of[*atigip.Prison](db).All(ctx, atigip.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range prisons {
		fl, _ := atigip.Of[*atigip.FloorSpace](db).All(ctx, atigip.ListFilter{Parent: p.ID})
		if len(fl) > 0 && p.Contact != nil && p.Contact.Name != "" {
			w.prison = p
			break
		}
	}
	if w.public == nil || w.justiceOnly == nil || w.draft == nil || w.prison == nil {
		t.Fatalf("seed lacks a case: %+v", w)
	}
	return w
}

func TestSitePages(t *testing.T) {
	db := seedtest.Store(t, 0.02, 7)
	env := siteEnv(t, db)
	w := findWorld(t, db)
	mag := env.token(atigip.Principal{Role: atigip.RoleMagistrate})
	biz := env.token(atigip.Principal{Role: atigip.RoleBusiness, SIRET: "12345678900011"})
	id := func(n int64) string { return strconv.FormatInt(n, 10) }

	t.Run("post sheet", func(t *testing.T) {
		pub := env.page("/postes/"+id(w.public.ID), "")
		body := string(pub.body)
		if pub.status != 200 || !strings.Contains(body, w.public.Title) || !strings.Contains(body, "L'essentiel") ||
			strings.Contains(body, "Places restantes") || strings.Contains(body, "Contact du service") {
			t.Fatalf("public sheet %d", pub.status)
		}
		// Practical facts come before the organisation.
		if strings.Index(body, "Jours et horaires") > strings.Index(body, "Structure d'accueil") {
			t.Error("practical facts are not first")
		}
		j := string(env.page("/postes/"+id(w.public.ID), mag).body)
		if !strings.Contains(j, "Places restantes") || !strings.Contains(j, "Contact du service") {
			t.Error("justice sheet lacks places or contact")
		}
		for _, tc := range []struct {
			name, path, token string
			status            int
		}{
			{"justice-only post for the public", "/postes/" + id(w.justiceOnly.ID), "", 404},
			{"justice-only post for a magistrate", "/postes/" + id(w.justiceOnly.ID), mag, 200},
			{"draft for a magistrate", "/postes/" + id(w.draft.ID), mag, 404},
			{"unknown post", "/postes/999999999", "", 404},
			{"malformed id", "/postes/abc", "", 404},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if r := env.page(tc.path, tc.token); r.status != tc.status {
					t.Fatalf("status %d, want %d", r.status, tc.status)
				}
			})
		}
	})

	t.Run("establishment sheet", func(t *testing.T) {
		path := "/etablissements/" + id(w.prison.ID)
		for _, tc := range []struct {
			name, token string
			named       bool
		}{{"public", "", false}, {"business", biz, false}, {"magistrate", mag, true}} {
			t.Run(tc.name, func(t *testing.T) {
				r := env.page(path, tc.token)
				body := string(r.body)
				if r.status != 200 || !strings.Contains(body, "Surfaces d'implantation") || !strings.Contains(body, "m²") {
					t.Fatalf("status %d", r.status)
				}
				if strings.Contains(body, html.EscapeString(w.prison.Contact.Name)) != tc.named ||
					(w.prison.Contact.Email != "" && strings.Contains(body, w.prison.Contact.Email) != tc.named) {
					t.Fatalf("agent's name or address shown: %v, want %v", !tc.named, tc.named)
				}
			})
		}
	})

	t.Run("contact request", func(t *testing.T) {
		path := "/etablissements/" + id(w.prison.ID)
		r := env.page(path, biz)
		var csrf *http.Cookie
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == csrfCookie {
				csrf = c
			}
		}
		if csrf == nil || !strings.Contains(string(r.body), `value="`+csrf.Value+`"`) {
			t.Fatal("no CSRF token on the form")
		}
		good := url.Values{"csrf": {csrf.Value}, "company": {"Ateliers Dupont"}, "email": {"contact@dupont.fr"},
			"phone": {"01 23 45 67 89"}, "message": {"Atelier de conditionnement, 12 postes."}}
		count := func() int {
			rs, err := atigip.Of[*atigip.ContactRequest](db).All(t.Context(), atigip.ListFilter{Parent: w.prison.ID})
			if err != nil {
				t.Fatal(err)
			}
			return len(rs)
		}
		with := func(k, v string) url.Values {
			c := url.Values{}
			for kk, vv := range good {
				c[kk] = vv
			}
			c.Set(k, v)
			return c
		}
		for _, tc := range []struct {
			name   string
			token  string
			form   url.Values
			cookie bool
			status int
		}{
			{"anonymous", "", good, true, 401},
			{"magistrate", mag, good, true, 403},
			{"no cookie", biz, good, false, 403},
			{"wrong token", biz, with("csrf", strings.Repeat("x", 43)), true, 403},
			{"bad email", biz, with("email", "pas-un-courriel"), true, 400},
			{"empty message", biz, with("message", " "), true, 400},
			{"floor space of another prison", biz, with("floor_space_id", "999999"), true, 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := count()
				var cs []*http.Cookie
				if tc.cookie {
					cs = append(cs, csrf)
				}
				if r := env.form(path+"/contact", tc.token, tc.form, cs...); r.status != tc.status {
					t.Fatalf("status %d, want %d", r.status, tc.status)
				}
				if count() != before {
					t.Fatal("a refused request was stored")
				}
			})
		}
		before := count()
		r = env.form(path+"/contact", biz, good, csrf)
		if r.status != 303 || !strings.Contains(r.header.Get("Location"), "?envoye=") {
			t.Fatalf("status %d %s", r.status, r.header.Get("Location"))
		}
		if count() != before+1 {
			t.Fatal("not stored")
		}
		staff := env.token(atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.prison.ID})
		other := env.token(atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.prison.ID + 1})
		if !strings.Contains(string(env.page(path, staff).body), "Ateliers Dupont") {
			t.Error("the establishment's staff do not see the request")
		}
		for _, tok := range []string{other, biz, mag, ""} {
			if strings.Contains(string(env.page(path, tok).body), "Ateliers Dupont") {
				t.Error("the request is shown outside the establishment")
			}
		}
	})

	t.Run("floor-space search", func(t *testing.T) {
		all := env.page("/surfaces", "")
		if all.status != 200 || !strings.Contains(string(all.body), "surfaces trouvées") {
			t.Fatalf("%d", all.status)
		}
		n := func(q string) int {
			return strings.Count(string(env.page("/surfaces?"+q, "").body), `class="fr-card fr-card--horizontal`)
		}
		total := n("")
		if total == 0 || n("surface_min=100000") != 0 || n("quai=1") > total || n("usage=storage")+n("usage=production")+n("usage=office") != total {
			t.Fatalf("filters do not partition: total %d", total)
		}
		avail, err := atigip.Of[*atigip.FloorSpace](db).All(t.Context(), atigip.ListFilter{Status: []string{string(atigip.FloorAvailable)}, Limit: 1})
		if err != nil || len(avail) == 0 {
			t.Fatal("no available floor space seeded")
		}
		if d := n("departement=" + avail[0].Departement); d == 0 || d == total {
			t.Errorf("département filter: %d of %d", d, total)
		}
		for _, q := range []string{"surface_min=abc", "surface_min=500&surface_max=100", "departement=00", "usage=nope", "disponible=31/12/2026"} {
			if r := env.page("/surfaces?"+q, ""); r.status != 400 || !strings.Contains(string(r.body), "Critères invalides") {
				t.Errorf("%s: %d", q, r.status)
			}
		}
	})

	t.Run("posts around", func(t *testing.T) {
		city := w.public.Address.Postcode + " " + w.public.Address.City
		r := env.page("/autour?rayon=20&lieu="+url.QueryEscape(city), mag)
		body := string(r.body)
		if r.status != 200 || !strings.Contains(body, "/postes/"+id(w.public.ID)) || !strings.Contains(body, "Places restantes") {
			t.Fatalf("%d: the post of %s is not listed", r.status, city)
		}
		if r := env.page("/autour?lieu=Zzzyxville", mag); r.status != 400 || !strings.Contains(string(r.body), "Commune introuvable") {
			t.Fatalf("unknown place: %d", r.status)
		}
		for _, tc := range []struct {
			token  string
			status int
		}{{"", 401}, {biz, 403}, {env.token(atigip.Principal{Role: atigip.RoleLawyer}), 200},
			{env.token(atigip.Principal{Role: atigip.RoleClerk}), 200}} {
			if r := env.page("/autour", tc.token); r.status != tc.status {
				t.Errorf("status %d, want %d", r.status, tc.status)
			}
		}
	})

	t.Run("errors negotiate", func(t *testing.T) {
		for _, tc := range []struct {
			path, token string
			status      int
			title       string
		}{{"/nulle-part", "", 404, "Page non trouvée"}, {"/autour", "", 401, "Connexion requise"},
			{"/autour", biz, 403, "Accès refusé"}} {
			r := env.page(tc.path, tc.token)
			if r.status != tc.status || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), tc.title) {
				t.Errorf("%s: %d %s", tc.path, r.status, r.header.Get("Content-Type"))
			}
			if p := env.do("GET", tc.path, tc.token, nil).problem(t); p.Status != tc.status {
				t.Errorf("%s: problem %d", tc.path, p.Status)
			}
		}
		if !strings.Contains(string(env.page("/autour", "").body), "/dev/signin?retour=%2fautour") {
			t.Error("401 page without a sign-in leading back")
		}
	})

	t.Run("legal pages", func(t *testing.T) {
		for p, want := range map[string]string{"/mentions-legales": "Éditeur", "/donnees-personnelles": "atigip_session",
			"/accessibilite": "partiellement conforme"} {
			if r := env.page(p, ""); r.status != 200 || !strings.Contains(string(r.body), want) {
				t.Errorf("%s: %d", p, r.status)
			}
		}
	})
}

// TestSiteRoles writes out the roles of the site's routes, as the matrix
// of the API does: a new page needs a deliberate entry.
func TestSiteRoles(t *testing.T) {
	env := siteEnv(t, seedtest.Empty(t))
	want := map[string][]atigip.Role{
		"GET /":                            everyone,
		"GET /postes/:id":                  everyone,
		"GET /etablissements/:id":          everyone,
		"POST /etablissements/:id/contact": {biz},
		"GET /surfaces":                    everyone,
		"GET /autour":                      {mag, clk, law, ref, cpip, pjj, dsp},
		"GET /mentions-legales":            everyone,
		"GET /donnees-personnelles":        everyone,
		"GET /accessibilite":               everyone,
		"GET /static/dsfr/*":               everyone,
	}
	seen := 0
	for _, rt := range env.srv.Routes() {
		w, ok := want[rt.Method+" "+rt.Path]
		if !ok {
			continue
		}
		seen++
		got := rt.Roles
		if len(got) == 0 {
			got = everyone
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s %s admits %v, want %v", rt.Method, rt.Path, got, w)
		}
	}
	if seen != len(want) {
		t.Fatalf("%d of %d site routes mounted", seen, len(want))
	}
	// The pages are documented in OpenAPI like every route.
	var doc openAPIDoc
	env.do("GET", "/openapi.json", "", nil).json(t, &doc)
	for key := range want {
		method, p, _ := strings.Cut(key, " ")
		if _, ok := doc.Paths[OpenAPIPath(p)][strings.ToLower(method)]; !ok {
			t.Errorf("%s is not in OpenAPI", key)
		}
	}
}

func TestDevSigninLeadsBack(t *testing.T) {
	env := newEnv(t, newMemStore())
	for _, tc := range []struct{ retour, location string }{
		{"/postes/12", "/postes/12"}, {"/surfaces?usage=storage", "/surfaces?usage=storage"},
		{"//evil.example/x", ""}, {"https://evil.example", ""}, {"/\\evil.example", ""}, {"", ""},
	} {
		t.Run(tc.retour, func(t *testing.T) {
			r := env.form("/dev/signin", "", url.Values{"role": {"magistrate"}, "retour": {tc.retour}})
			if tc.location == "" {
				if r.status != 200 {
					t.Fatalf("status %d", r.status)
				}
				return
			}
			if r.status != 303 || r.header.Get("Location") != tc.location {
				t.Fatalf("status %d location %q", r.status, r.header.Get("Location"))
			}
		})
	}
	if r := env.page("/dev/signin?retour=/postes/12", ""); !strings.Contains(string(r.body), `name="retour" value="/postes/12"`) {
		t.Fatal("the sign-in form forgets the way back")
	}
}

// TestLocate reads what a clerk types in « Postes autour de… ».
func TestLocate(t *testing.T) {
	for _, tc := range []struct {
		in, insee string
		ok        bool
	}{
		{"35000", "35238", true},
		{"12 rue de la Paix 35000 Rennes", "35238", true},
		{"Rennes (35)", "35238", true},
		{"rennes", "35238", true},
		{"Zzzyxville", "", false},
		{"", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c, ok := locate(tc.in)
			if ok != tc.ok || (ok && c.INSEE != tc.insee) {
				t.Fatalf("locate(%q) = %s %s, %v; want %s, %v", tc.in, c.INSEE, c.Name, ok, tc.insee, tc.ok)
			}
		})
	}
}

// TestWantsHTML: browsers navigating get pages, API clients and fetch()
// get problem+json.
func TestWantsHTML(t *testing.T) {
	env := newEnv(t, newMemStore())
	for accept, want := range map[string]bool{
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": true,
		"*/*":                               false,
		"":                                  false,
		"application/json":                  false,
		"application/problem+json":          false,
		"application/json, text/html;q=0.5": false,
	} {
		req := httptest.NewRequest("GET", "/nulle-part", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		r := env.send(req)
		if got := strings.HasPrefix(r.header.Get("Content-Type"), "text/html"); got != want || r.status != 404 {
			t.Errorf("Accept %q: html %v (status %d), want %v", accept, got, r.status, want)
		}
	}
}
