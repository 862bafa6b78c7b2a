package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/atigip/atigip360/crmsync"
	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
	"github.com/atigip/atigip360/internal/auth/oidctest"
	"github.com/atigip/atigip360/internal/flows"
	"github.com/atigip/atigip360/search"
	"github.com/atigip/atigip360/tiles"
)

// allModules is every route group `atigip serve` mounts, the CRM sync
// included (its client is built but never contacts Axelor here).
func allModules(t testing.TB, store atigip.Store) []Module {
	t.Helper()
	eng, err := tiles.New(t.Context(), store, tiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := search.Open("", search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if _, err := ix.CatchUp(t.Context(), store); err != nil {
		t.Fatal(err)
	}
	clients, err := flows.ParseClients("appi=" + flows.HashKey(appiKey))
	if err != nil {
		t.Fatal(err)
	}
	cfg := crmsync.DefaultConfig()
	cfg.AxelorURL, cfg.User, cfg.Password = "http://127.0.0.1:9/axelor", "matrix", "matrix"
	client, err := cfg.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	syncer, err := crmsync.New(cfg, store, client)
	if err != nil {
		t.Fatal(err)
	}
	mm := &MatchingModule{MaxAge: -1}
	return []Module{
		TilesModule{Engine: eng}, MapModule{}, SiteModule{Engine: eng}, HomeModule{}, HostModule{}, IPROModule{},
		SearchModule{Index: ix}, mm,
		WorkflowModule(nil), FlowsModule(clients, nil), IndicatorsModule(nil, nil), &CaseworkModule{Matching: mm},
		SyncModule{Syncer: syncer, Trigger: make(chan struct{}, 1)},
		&ReferentModule{Syncer: syncer, EmbedSecret: []byte(embedSecret), EmbedOrigin: "http://axelor.test"},
	}
}

// apiKey marks the machine routes of the flows: open at the role gate,
// they take an API key, never a person's token.
var apiKey = []atigip.Role{"apikey"}

// moduleMatrix is the role matrix of the capability routes, by hand as
// wantMatrix is for the built-in and CRUD routes.
var moduleMatrix = map[string][]atigip.Role{
	// The browser sign-in (Options.SignIn): open, as signing in is.
	"GET /connexion":                     everyone,
	"GET /connexion/:fournisseur":        everyone,
	"GET /connexion/:fournisseur/retour": everyone,
	"POST /deconnexion":                  everyone,
	"GET /tiles/:tileset/:z/:x/:y.mvt":   everyone,
	"GET /tiles/:tileset.json":           everyone,
	"GET /tiles/:tileset/near":           everyone,
	"GET /":                              everyone,
	"GET /static/:file":                  everyone,
	"GET /static/vendor/:file":           everyone,
	"GET /styles/:name.json":             everyone,
	"GET /fonts/:fontstack/:range.pbf":   everyone,
	"GET /sprites/:file":                 everyone,
	"GET /carte/communes":                everyone,
	"GET /api/search":                    everyone,
	// The site's pages (SiteModule) and the workspaces' home.
	"GET /postes/:id":                  everyone,
	"GET /etablissements/:id":          everyone,
	"POST /etablissements/:id/contact": {biz},
	"GET /surfaces":                    everyone,
	"GET /mentions-legales":            everyone,
	"GET /donnees-personnelles":        everyone,
	"GET /accessibilite":               everyone,
	"GET /static/dsfr/*":               everyone,
	"GET /autour":                      {mag, clk, law, ref, cpip, pjj, dsp},
	"GET /espace":                      {biz, mag, clk, law, ref, cpip, pjj, dsp, host, pris, pers},
	"GET /api/search/suggest":          everyone,
	// The host's workspace, « Ma mesure » and the CPIP's confirmation
	// of hours (HostModule).
	"GET /structure":                         {host},
	"GET /structure/postes/nouveau":          {host},
	"POST /structure/postes":                 {host},
	"GET /structure/postes/:id":              {host},
	"POST /structure/postes/:id":             {host},
	"POST /structure/postes/:id/inscription": {host},
	"POST /structure/habilitation":           {host},
	"GET /structure/heures":                  {host},
	"POST /structure/heures":                 {host},
	"POST /structure/incidents":              {host},
	"GET /ma-mesure":                         {pers},
	"POST /ma-mesure/absence":                {pers},
	"GET /mesures/:id/heures":                {cpip, pjj, dsp},
	"POST /mesures/:id/heures/:log":          {cpip, pjj, dsp},
	"GET /heures-a-confirmer":                {cpip, pjj, dsp},
	// The TIG professionals' workspaces (CaseworkModule).
	"GET /mesures":                            {cpip, pjj, dsp},
	"GET /mesures/:id":                        {cpip, pjj, dsp},
	"POST /mesures/:id/proposer":              {cpip, pjj, dsp},
	"POST /mesures/:id/etat":                  {cpip, pjj, dsp},
	"POST /mesures/:id/incidents":             {cpip, pjj, dsp},
	"GET /juge":                               {mag, clk},
	"POST /juge/mesures/:id":                  {mag},
	"POST /juge/procedures/:id/avis":          {mag},
	"GET /direction":                          {dsp},
	"GET /direction/procedures/:id":           {dsp},
	"POST /direction/procedures/:id/decision": {dsp},
	"POST /direction/procedures/:id/avis":     {dsp},
	"GET /direction/affectation":              {dsp},
	"POST /direction/affectation":             {dsp},
	"GET /direction/affectation/:job":         {dsp},
	"POST /direction/affectation/:job":        {dsp},
	// IPRO 360 on the site (IPROModule).
	"GET /ipro/etablissement":             {pris},
	"POST /ipro/etablissement/offres":     {pris},
	"GET /ipro/offres/:id":                {pris, biz},
	"POST /ipro/offres/:id":               {pris, biz},
	"POST /ipro/candidatures/:id/etat":    {pris},
	"POST /ipro/candidatures/:id/rang":    {pris},
	"POST /ipro/personnes/:id/classement": {pris},
	"POST /ipro/etablissement/transferts": {pris},
	"GET /ipro/kiosque":                   {pers},
	"GET /ipro/kiosque/offres/:id":        {pers},
	"POST /ipro/kiosque/offres/:id":       {pers},
	"GET /ipro/kiosque/fin":               everyone,
	"GET /ipro/profil/:id":                {pers, cpip, pris},
	"POST /ipro/profil/:id":               {cpip, pris},
	"GET /ipro/profil/:id/cv.pdf":         {pers, cpip, pris},
	"GET /ipro/rome":                      {pers, cpip, pris},
	"POST /ipro/entreprise/offres":        {biz},
	"GET /ipro/entreprise":                {biz},

	"GET /api/matching/people/:id/offers":     {cpip, pjj, dsp, pris},
	"GET /api/matching/posts/:id/candidates":  {cpip, pjj, dsp},
	"GET /api/matching/offers/:id/candidates": {cpip, dsp, pris},
	"POST /api/matching/assignments":          {cpip, pjj, dsp},
	"GET /api/matching/assignments/:job":      {cpip, pjj, dsp},

	"POST /api/measures/:id/transitions":      {cpip, pjj, dsp, mag, host},
	"POST /api/measures/:id/hours":            {host, cpip, pjj, dsp},
	"POST /api/measures/:id/hours/:log/check": {cpip, pjj, dsp},
	"POST /api/measures/:id/incidents":        {host, cpip, pjj, dsp},
	"POST /api/measures/:id/absences":         {pers},
	"GET /api/measures/:id/history":           {cpip, pjj, dsp, mag, clk, host, pers},
	"POST /api/procedures":                    {host, ref, dsp},
	"GET /api/procedures":                     {host, ref, dsp, mag},
	"GET /api/procedures/:id":                 {host, ref, dsp, mag},
	"POST /api/procedures/:id/opinions":       {mag, dsp, ref},
	"POST /api/procedures/:id/decision":       {dsp},
	"POST /api/procedures/expire":             {dsp},
	"POST /api/people/:id/clearance":          {pris},
	"POST /api/people/:id/transfer":           {pris},
	"POST /api/offers/:id/applications":       {pers, pris, cpip},
	"GET /api/offers/:id/waiting-list":        {pris, cpip, dsp},
	"POST /api/applications/:id/transitions":  {pers, pris, cpip},
	"POST /api/applications/:id/rank":         {pris},

	"POST /api/flows/inbound":    apiKey,
	"GET /api/flows/outbox":      apiKey,
	"POST /api/flows/outbox/ack": apiKey,
	"GET /api/flows/messages":    {dsp},
	"GET /api/indicators":        {ref, dsp, cpip, pjj, mag, clk, pris},
	"GET /api/sync/status":       {ref, dsp},
	// The TIG referent's workspace (ReferentModule); the partner page is
	// open at the gate and checks the session or Axelor's signed link.
	"GET /referent/partenaires":       {ref, dsp},
	"GET /referent/partenaires/:id":   everyone,
	"GET /referent/axelor/:id":        everyone,
	"GET /referent/prospection":       {ref, dsp},
	"GET /indicateurs":                {ref, dsp, cpip, pjj, mag, clk, pris},
	"GET /indicateurs/:graphique.csv": {ref, dsp, cpip, pjj, mag, clk, pris},
	"POST /api/sync/run":              {ref, dsp},
}

// gateRefusal reports whether res is the role gate's refusal (401, or the
// 403 of Server.admit), not a row rule's.
func gateRefusal(res response) bool {
	return res.status == http.StatusUnauthorized ||
		(res.status == http.StatusForbidden && strings.Contains(string(res.body), "ne permet pas d'accéder à cette ressource"))
}

// gatePath fills the parameters of a route with records of the fixture
// that role r acts on.
func gatePath(fx *fixture, r atigip.Role, path string) string {
	kind := atigip.KindPost
	switch {
	case strings.HasPrefix(path, "/api/"):
		seg := strings.Split(path, "/")
		kind = atigip.Kind(strings.ReplaceAll(seg[2], "-", "_"))
		if seg[2] == "matching" && len(seg) > 3 {
			kind = atigip.Kind(seg[3])
		}
	}
	rep := strings.NewReplacer(
		":id", fmt.Sprint(fx.idFor(r, kind)), ":log", "1", ":job", "0123456789abcdef",
		":tileset", "public", ":z/:x/:y", "0/0/0", ":file", "carte.js", ":name", "public", ":fournisseur", "oidctest",
		":fontstack/:range", "Noto%20Sans%20Regular/0-255", ":graphique", "cibles")
	out := rep.Replace(path)
	if strings.HasSuffix(path, "/near") {
		out += "?lon=4.85&lat=45.75"
	}
	if strings.HasPrefix(path, "/api/") && strings.Contains(path, ":id") && !strings.Contains(path, "/:id/") {
		out += "?version=999" // a stale delete: no record goes
	}
	return out
}

// fullEnv is a server with every route group over a fixture, whose
// tokens mint makes and auth reads (nil, nil: development tokens).
func fullEnv(t testing.TB, auth atigip.Authenticator, mint func(atigip.Principal) string) (*testEnv, *memStore, *fixture, func(atigip.Principal) string) {
	store := newMemStore()
	env := newEnv(t, store, func(o *Options) {
		o.Modules = allModules(t, store)
		o.SignIn = testCodeFlows(t, oidctest.Start(t), "http://127.0.0.1:9")
		if auth != nil {
			o.Auth = auth
		}
	})
	if mint == nil {
		mint = env.token
	}
	return env, store, newFixture(t, store), mint
}

// TestRouteMatrix is the role × route matrix over every route the server
// mounts (built with every route group), with development tokens.
func TestRouteMatrix(t *testing.T) {
	runRouteMatrix(t, nil, nil)
}

// runRouteMatrix checks every mounted route for every role: its declared
// roles are the matrix's, a role outside them is refused at the gate (401
// anonymous, 403 signed in), a role inside is not, and no answer is a 5xx.
// auth and mint are the server's authenticator and a token minter (nil:
// the development tokens), so that the same matrix runs over OIDC.
func runRouteMatrix(t *testing.T, auth atigip.Authenticator, mint func(atigip.Principal) string) {
	env, _, fx, mint := fullEnv(t, auth, mint)
	want := map[string][]atigip.Role{}
	for k, v := range wantMatrix {
		want[k] = v
	}
	for k, v := range moduleMatrix {
		want[k] = v
	}
	routes := env.srv.Routes()
	seen := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		seen[key] = true
		w, ok := want[key]
		switch {
		case !ok:
			t.Errorf("route %s is mounted but has no row in the matrix", key)
		case slices.Equal(w, everyone) || slices.Equal(w, apiKey):
			if len(rt.Roles) != 0 {
				t.Errorf("route %s declares roles %v, the matrix says open", key, rt.Roles)
			}
		case !slices.Equal(sortedRoles(w), sortedRoles(rt.Roles)):
			t.Errorf("route %s declares roles %v, the matrix expects %v", key, rt.Roles, w)
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("matrix row %s is not mounted", key)
		}
	}
	if t.Failed() {
		return
	}
	n := 0
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		w := want[key]
		for _, role := range append([]atigip.Role{""}, roleList()...) {
			name := key + " as " + string(role)
			if role == "" {
				name += "anonymous"
			}
			t.Run(name, func(t *testing.T) {
				tok := ""
				if role != "" {
					tok = mint(fx.principalFor(role))
				}
				res := env.send(gateRequest(fx, rt, role, tok, ""))
				if auth != nil && role == atigip.RoleCaseSystem {
					// No identity provider may grant the machine role (API key only).
					if res.status != http.StatusUnauthorized && res.status != http.StatusForbidden {
						t.Fatalf("an IdP token with the machine role: %d, want 401 or 403: %s", res.status, res.body)
					}
					return
				}
				admitted := slices.Equal(w, everyone) || slices.Contains(w, role)
				switch {
				case res.status >= 500:
					t.Fatalf("status %d: %s", res.status, res.body)
				case admitted && gateRefusal(res):
					t.Fatalf("admitted role refused: %d %s", res.status, res.body)
				case !admitted && role == "" && res.status != http.StatusUnauthorized:
					t.Fatalf("status %d, want 401: %s", res.status, res.body)
				case !admitted && role != "" && slices.Equal(w, apiKey) && res.status != http.StatusUnauthorized:
					t.Fatalf("a person's token on a machine route: %d, want 401", res.status)
				case !admitted && role != "" && !slices.Equal(w, apiKey) && !gateRefusal(res):
					t.Fatalf("status %d, want the gate's 403: %s", res.status, res.body)
				}
			})
			n++
		}
		if slices.Equal(w, apiKey) {
			t.Run(key+" with the API key", func(t *testing.T) {
				res := env.send(gateRequest(fx, rt, "", "", appiKey))
				if gateRefusal(res) || res.status >= 500 {
					t.Fatalf("machine client refused: %d %s", res.status, res.body)
				}
			})
		}
	}
	t.Logf("%d routes, %d role × route cases", len(routes), n)
}

// gateRequest is a request to rt as role: ids of the fixture, and for
// writes a body that no route accepts as is ({}), so that the matrix
// changes nothing.
func gateRequest(fx *fixture, rt Route, role atigip.Role, tok, key string) *http.Request {
	var req *http.Request
	path := gatePath(fx, role, rt.Path)
	switch {
	case rt.Path == "/dev/signin" && rt.Method == http.MethodPost:
		req = httptest.NewRequest(rt.Method, path, strings.NewReader("role=cpip"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case rt.Method == http.MethodPost || rt.Method == http.MethodPut:
		req = httptest.NewRequest(rt.Method, path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
	default:
		req = httptest.NewRequest(rt.Method, path, nil)
	}
	setToken(req, tok)
	if key != "" {
		req.Header.Set(HeaderAPIKey, key)
	}
	return req
}

// TestPerimeterMatrix runs the perimeter rows with development tokens.
func TestPerimeterMatrix(t *testing.T) {
	runPerimeterMatrix(t, nil, nil)
}

// runPerimeterMatrix is the perimeter part of the matrix, over the server
// with every route group: for each role bound to a perimeter (département,
// establishment, organisation, company, own person), reads and writes
// across it, writes naming a foreign record included, answer 404 (a record
// outside reads as absent) or 403 (a write there is refused), and change
// nothing.
func runPerimeterMatrix(t *testing.T, auth atigip.Authenticator, mint func(atigip.Principal) string) {
	env, store, fx, mint := fullEnv(t, auth, mint)
	person := func(i int, dep string, minor bool) *atigip.Person { return fx.personIn(t, store, i, dep, minor) }
	adult13, adult69, kid69 := person(61, "13", false), person(62, "69", false), person(63, "69", true)
	measure := func(i int, pe *atigip.Person, dep string) *atigip.Measure {
		m := fx.fresh(atigip.KindMeasure, i).(*atigip.Measure)
		m.PersonID, m.Departement, m.Minor, m.State, m.PostID, m.CaseRef = pe.ID, dep, pe.Minor, atigip.MeasureToPlace, 0, ""
		return seed(t, store, m)
	}
	m13 := measure(64, adult13, "13")
	otherPrison := seed(t, store, sample[*atigip.Prison](atigip.KindPrison, 1))
	detainee := fx.fresh(atigip.KindPerson, 66).(*atigip.Person) // detained in fx.prison
	detainee.Detained, detainee.PrisonID = true, fx.prison.ID
	seed(t, store, detainee)
	otherOrg := seed(t, store, fx.fresh(atigip.KindOrganisation, 67).(*atigip.Organisation))
	foreign := fx.fresh(atigip.KindOffer, 68).(*atigip.Offer)
	foreign.EmployerKind, foreign.EmployerSIRET = atigip.EmployerConcession, "44306184100013"
	seed(t, store, foreign)

	cpip69 := atigip.Principal{Role: cpip, Departement: "69"}
	pjj69 := atigip.Principal{Role: pjj, Departement: "69"}
	staffB := atigip.Principal{Role: pris, PrisonID: otherPrison.ID}
	hostB := atigip.Principal{Role: host, OrganisationID: otherOrg.ID}
	business := atigip.Principal{Role: biz, SIRET: fixtureSIRET}
	self := atigip.Principal{Role: pers, PersonID: adult69.ID}
	id := func(k atigip.Kind, n int64) string { return at(k, n) }
	newMeasure := fx.creatable(t, store, atigip.KindMeasure, 69).(*atigip.Measure)
	newMeasure.PersonID, newMeasure.Departement = adult13.ID, "69"
	floor := fx.creatable(t, store, atigip.KindFloorSpace, 70)
	post := fx.creatable(t, store, atigip.KindPost, 71)
	offer := fx.get(t, store, atigip.KindOffer, foreign.ID)
	offer.(*atigip.Offer).Title = "Reprise"
	fxPost := fx.get(t, store, atigip.KindPost, fx.post.ID)
	detPut := fx.get(t, store, atigip.KindPerson, detainee.ID)

	rows := []struct {
		name   string
		who    atigip.Principal
		method string
		path   string
		body   any
		status int
	}{
		{"CPIP 69 reads a person of the 13", cpip69, "GET", id(atigip.KindPerson, adult13.ID), nil, 404},
		{"CPIP 69 reads a minor of the 69", cpip69, "GET", id(atigip.KindPerson, kid69.ID), nil, 404},
		{"PJJ 69 reads an adult of the 69", pjj69, "GET", id(atigip.KindPerson, adult69.ID), nil, 404},
		{"CPIP 69 matches a person of the 13", cpip69, "GET", fmt.Sprintf("/api/matching/people/%d/offers", adult13.ID), nil, 404},
		{"CPIP 69 reads a measure of the 13", cpip69, "GET", id(atigip.KindMeasure, m13.ID), nil, 404},
		{"CPIP 69 reads the history of a measure of the 13", cpip69, "GET", id(atigip.KindMeasure, m13.ID) + "/history", nil, 404},
		{"CPIP 69 moves a measure of the 13", cpip69, "POST", id(atigip.KindMeasure, m13.ID) + "/transitions", map[string]any{"to": "proposed", "version": 1, "post_id": fx.post.ID}, 404},
		{"CPIP 69 creates a measure on a person of the 13", cpip69, "POST", "/api/measures", newMeasure, 403},
		{"staff of B clears a detainee of A", staffB, "POST", id(atigip.KindPerson, detainee.ID) + "/clearance", map[string]any{"version": 1, "cleared": true}, 404},
		{"staff of B edits a detainee of A", staffB, "PUT", id(atigip.KindPerson, detainee.ID), detPut, 404},
		{"staff of B adds a floor space to A", staffB, "POST", "/api/floor-spaces", floor, 403},
		{"staff of B reads A's waiting list", staffB, "GET", id(atigip.KindOffer, fx.offer.ID) + "/waiting-list", nil, 200}, // empty: none of its applicants
		{"host B edits a post of A", hostB, "PUT", id(atigip.KindPost, fx.post.ID), fxPost, 403},
		{"host B creates a post for A", hostB, "POST", "/api/posts", post, 403},
		{"host B reports hours on a measure not on its posts", hostB, "POST", id(atigip.KindMeasure, m13.ID) + "/hours", map[string]any{"date": "2026-01-05", "hours": 3}, 403},
		{"business edits another company's offer", business, "PUT", id(atigip.KindOffer, foreign.ID), offer, 403},
		{"business reads the APPI message log", business, "GET", "/api/flows/messages", nil, 403},
		{"person reads another person", self, "GET", id(atigip.KindPerson, adult13.ID), nil, 404},
		{"person reads another's measure", self, "GET", id(atigip.KindMeasure, m13.ID), nil, 404},
		{"person applies for another person", self, "POST", id(atigip.KindOffer, fx.offer.ID) + "/applications", map[string]any{"person_id": adult13.ID}, 403},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			before := store.writes
			res := env.do(r.method, r.path, mint(r.who), r.body)
			if res.status != r.status {
				t.Fatalf("%s %s: %d, want %d: %s", r.method, r.path, res.status, r.status, res.body)
			}
			if res.status >= 400 {
				res.problem(t)
			} else if string(res.body) != "[]" {
				t.Fatalf("outside the perimeter, a list shows %s", res.body)
			}
			if store.writes != before {
				t.Fatal("a refused request changed the store")
			}
		})
	}
}

func (f *fixture) get(t testing.TB, s atigip.Store, k atigip.Kind, id int64) atigip.Entity {
	t.Helper()
	e, err := s.Entities(k).Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// personIn seeds a person at liberty living in département dep.
func (f *fixture) personIn(t *testing.T, s atigip.Store, i int, dep string, minor bool) *atigip.Person {
	p := f.fresh(atigip.KindPerson, i).(*atigip.Person)
	p.Detained, p.PrisonID, p.WorkCleared = false, 0, false
	p.HomeAddress.Departement, p.HomeAddress.Commune = dep, dep+"123"
	if minor {
		f.minor(p)
	}
	return seed(t, s, p)
}

// TestPrisonStaffRuleOnce checks that the list, the read and the write of
// people by prison staff all follow staffOf, the one rule, for every
// combination of establishment and detention.
func TestPrisonStaffRuleOnce(t *testing.T) {
	env, store, fx, _ := fullEnv(t, nil, nil)
	other := seed(t, store, sample[*atigip.Prison](atigip.KindPrison, 1))
	var people []*atigip.Person
	for i, c := range []struct {
		detained bool
		prison   int64
	}{{true, fx.prison.ID}, {true, other.ID}, {false, 0}, {false, fx.prison.ID}} {
		p := fx.fresh(atigip.KindPerson, 80+i).(*atigip.Person)
		p.Detained, p.PrisonID, p.WorkCleared = c.detained, c.prison, false
		people = append(people, seed(t, store, p))
	}
	for _, staff := range []atigip.Principal{{Role: pris}, {Role: pris, PrisonID: fx.prison.ID}, {Role: pris, PrisonID: other.ID}} {
		tok := env.token(staff)
		var lp ListPage[*atigip.Person]
		res := env.do("GET", "/api/people?per_page=200", tok, nil)
		wantStatus(t, res, 200)
		res.json(t, &lp)
		listed := map[int64]bool{}
		for _, p := range lp.Items {
			listed[p.ID] = true
		}
		for _, pe := range people {
			want := staffOf(staff, pe)
			if listed[pe.ID] != want {
				t.Errorf("staff of %d: person %d (detained %v in %d) listed %v, rule says %v", staff.PrisonID, pe.ID, pe.Detained, pe.PrisonID, listed[pe.ID], want)
			}
			if got := env.do("GET", at(atigip.KindPerson, pe.ID), tok, nil).status == 200; got != want {
				t.Errorf("staff of %d: person %d read %v, rule says %v", staff.PrisonID, pe.ID, got, want)
			}
			put := fx.get(t, store, atigip.KindPerson, pe.ID).(*atigip.Person)
			put.Wishes = "Atelier bois"
			if got := env.do("PUT", at(atigip.KindPerson, pe.ID), tok, put).status == 200; got != want {
				t.Errorf("staff of %d: person %d written %v, rule says %v", staff.PrisonID, pe.ID, got, want)
			}
		}
	}
}

// TestMatricesOIDC runs the role × route and perimeter matrices with ID
// tokens of an OpenID Connect provider running in process, so that a door
// the development tokens keep cannot open for OIDC users. The route matrix
// signs in national roles as development tokens do; the perimeter matrix
// runs as production requires (every perimeter claim, no national role).
func TestMatricesOIDC(t *testing.T) {
	idp := oidctest.Start(t)
	mint := func(p atigip.Principal) string { return idp.Token(t, p) }
	t.Run("routes", func(t *testing.T) { runRouteMatrix(t, idp.Authenticator(t), mint) })
	strict := idp.Config()
	strict.NationalRoles = nil
	o, err := auth.NewOIDC(t.Context(), strict)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("perimeters", func(t *testing.T) { runPerimeterMatrix(t, o, mint) })
}
