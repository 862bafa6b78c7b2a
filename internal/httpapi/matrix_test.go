package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// Short names for the expected matrix.
const (
	pub  = atigip.RolePublic
	biz  = atigip.RoleBusiness
	mag  = atigip.RoleMagistrate
	clk  = atigip.RoleClerk
	law  = atigip.RoleLawyer
	ref  = atigip.RoleReferent
	cpip = atigip.RoleCPIP
	pjj  = atigip.RolePJJ
	dsp  = atigip.RoleDSPIP
	host = atigip.RoleHost
	pris = atigip.RolePrisonStaff
	pers = atigip.RolePerson
	sys  = atigip.RoleCaseSystem
)

// everyone marks routes open to all, anonymous included.
var everyone = []atigip.Role{"*"}

// wantMatrix is the role matrix written out by hand, independently of
// policy.go: which roles each route admits. The test fails if a declared
// route is missing here, so a new route needs a deliberate entry.
var wantMatrix = map[string][]atigip.Role{
	"GET /healthz":      everyone,
	"GET /readyz":       everyone,
	"GET /metrics":      everyone,
	"GET /openapi.json": everyone,
	"GET /dev/signin":   everyone,
	"POST /dev/signin":  everyone,
	"POST /dev/signout": everyone,

	"GET /api/organisations":        everyone,
	"GET /api/organisations/:id":    everyone,
	"POST /api/organisations":       {ref, dsp},
	"PUT /api/organisations/:id":    {ref, dsp},
	"DELETE /api/organisations/:id": {ref, dsp},

	"GET /api/posts":        everyone,
	"GET /api/posts/:id":    everyone,
	"POST /api/posts":       {host, ref, dsp},
	"PUT /api/posts/:id":    {host, ref, dsp},
	"DELETE /api/posts/:id": {host, ref, dsp},

	"GET /api/prisons":        everyone,
	"GET /api/prisons/:id":    everyone,
	"POST /api/prisons":       {pris},
	"PUT /api/prisons/:id":    {pris},
	"DELETE /api/prisons/:id": {pris},

	"GET /api/floor-spaces":        everyone,
	"GET /api/floor-spaces/:id":    everyone,
	"POST /api/floor-spaces":       {pris},
	"PUT /api/floor-spaces/:id":    {pris},
	"DELETE /api/floor-spaces/:id": {pris},

	"GET /api/offers":        everyone,
	"GET /api/offers/:id":    everyone,
	"POST /api/offers":       {pris, biz},
	"PUT /api/offers/:id":    {pris, biz},
	"DELETE /api/offers/:id": {pris, biz},

	"GET /api/people":        {cpip, pjj, dsp, mag, clk, pris, pers, sys},
	"GET /api/people/:id":    {cpip, pjj, dsp, mag, clk, pris, pers, sys},
	"POST /api/people":       {cpip, pjj, dsp, pris, sys},
	"PUT /api/people/:id":    {cpip, pjj, dsp, pris, sys},
	"DELETE /api/people/:id": {dsp},

	"GET /api/measures":        {cpip, pjj, dsp, mag, clk, pers, sys},
	"GET /api/measures/:id":    {cpip, pjj, dsp, mag, clk, pers, sys},
	"POST /api/measures":       {cpip, pjj, dsp, sys},
	"PUT /api/measures/:id":    {cpip, pjj, dsp, sys},
	"DELETE /api/measures/:id": {dsp},

	"GET /api/applications":        {cpip, dsp, pris, pers},
	"GET /api/applications/:id":    {cpip, dsp, pris, pers},
	"POST /api/applications":       {cpip, pris, pers},
	"PUT /api/applications/:id":    {cpip, dsp, pris},
	"DELETE /api/applications/:id": {pris},
}

// fixture is a small world every role can act on.
type fixture struct {
	org     *atigip.Organisation
	prison  *atigip.Prison
	post    *atigip.Post
	floor   *atigip.FloorSpace
	offer   *atigip.Offer
	person  *atigip.Person
	measure *atigip.Measure
	app     *atigip.Application
	ids     map[atigip.Kind]int64
	// minors are the person and measure a PJJ educator follows (the
	// others are adults', followed by CPIP).
	minors map[atigip.Kind]int64
}

func newFixture(t testing.TB, s atigip.Store) *fixture {
	f := &fixture{}
	f.org = seed(t, s, sample[*atigip.Organisation](atigip.KindOrganisation, 0))
	f.prison = seed(t, s, sample[*atigip.Prison](atigip.KindPrison, 0))
	f.post = seed(t, s, f.fresh(atigip.KindPost, 0).(*atigip.Post))
	f.floor = seed(t, s, f.fresh(atigip.KindFloorSpace, 0).(*atigip.FloorSpace))
	f.offer = seed(t, s, f.fresh(atigip.KindOffer, 0).(*atigip.Offer))
	f.person = seed(t, s, f.fresh(atigip.KindPerson, 0).(*atigip.Person))
	f.measure = seed(t, s, f.fresh(atigip.KindMeasure, 0).(*atigip.Measure))
	f.app = seed(t, s, f.fresh(atigip.KindApplication, 0).(*atigip.Application))
	f.ids = map[atigip.Kind]int64{
		atigip.KindOrganisation: f.org.ID, atigip.KindPrison: f.prison.ID, atigip.KindPost: f.post.ID,
		atigip.KindFloorSpace: f.floor.ID, atigip.KindOffer: f.offer.ID, atigip.KindPerson: f.person.ID,
		atigip.KindMeasure: f.measure.ID, atigip.KindApplication: f.app.ID,
	}
	minor := seed(t, s, f.minor(f.fresh(atigip.KindPerson, 20)))
	m := f.fresh(atigip.KindMeasure, 20).(*atigip.Measure)
	m.PersonID = minor.GetMeta().ID
	f.minors = map[atigip.Kind]int64{atigip.KindPerson: minor.GetMeta().ID,
		atigip.KindMeasure: seed(t, s, f.minor(m)).GetMeta().ID}
	return f
}

// minor makes a person or a measure a minor's.
func (f *fixture) minor(e atigip.Entity) atigip.Entity {
	switch v := e.(type) {
	case *atigip.Person:
		v.Minor, v.BirthDate = true, atigip.DateOf(time.Now().AddDate(-16, 0, 0))
	case *atigip.Measure:
		v.Minor = true
		if id := f.minors[atigip.KindPerson]; id != 0 {
			v.PersonID = id // derived: a minor's measure is on a minor
		}
	}
	return e
}

// idFor is the fixture's record of kind k that role r acts on.
func (f *fixture) idFor(r atigip.Role, k atigip.Kind) int64 {
	if id, ok := f.minors[k]; ok && r == atigip.RolePJJ {
		return id
	}
	return f.ids[k]
}

// fresh returns a new valid entity attached to the fixture's parents and
// acceptable to every role's row rules (a detained person of the prison, a
// submitted application of the fixture's person, a concessionnaire offer…).
func (f *fixture) fresh(k atigip.Kind, i int) atigip.Entity {
	e := sample[atigip.Entity](k, i*3) // i*3: detained people, submitted applications
	switch v := e.(type) {
	case *atigip.Organisation:
		v.CRMID = 0 // no unique ref collisions
	case *atigip.Post:
		v.OrganisationID, v.Status, v.Visibility = f.org.ID, atigip.PostOpen, atigip.VisibilityPublic
	case *atigip.FloorSpace:
		v.PrisonID = f.prison.ID
	case *atigip.Offer:
		v.PrisonID = f.prison.ID
		if v.EmployerKind == atigip.EmployerConcession {
			v.EmployerSIRET = fixtureSIRET // the matrix's business
		}
	case *atigip.Person:
		v.PrisonID = f.prison.ID
		v.CaseRef = fmt.Sprintf("REF-%d", 1000+i)
		if v.Detained {
			v.WorkCleared = true // by the CPU: may apply to work offers
		}
	case *atigip.Measure:
		v.PersonID, v.CaseRef = f.person.ID, ""
	case *atigip.Application:
		v.PersonID, v.OfferID, v.State = f.person.ID, f.offer.ID, atigip.AppSubmitted
	}
	return e
}

// creatable returns a fresh entity as a generic POST must send it: at the
// start of its procedure (organisation not habilitated, draft post,
// measure to place, application not ranked, on an offer of its own so
// that each role's filing is not a duplicate).
func (f *fixture) creatable(t testing.TB, s atigip.Store, k atigip.Kind, i int) atigip.Entity {
	e := f.fresh(k, i)
	switch v := e.(type) {
	case *atigip.Organisation:
		v.Habilitation = atigip.Habilitation{Status: atigip.HabNone}
	case *atigip.Post:
		v.Status, v.PlacesTaken = atigip.PostDraft, 0
	case *atigip.Offer:
		v.Status, v.PlacesTaken = atigip.OfferOpen, 0
	case *atigip.Person:
		v.WorkCleared, v.WorkClearedAt = false, nil
	case *atigip.Measure:
		v.State, v.PostID, v.StartDate, v.HoursDone, v.Suspensions, v.History = atigip.MeasureToPlace, 0, atigip.Date{}, 0, nil, nil
	case *atigip.Application:
		offer := seed(t, s, f.fresh(atigip.KindOffer, i).(*atigip.Offer))
		v.OfferID, v.State, v.Rank, v.History = offer.ID, "", 0, nil
	}
	return e
}

// fixtureSIRET is the company of the fixture's business and of its
// concessionnaire offers.
const fixtureSIRET = "73282932000074"

// principalFor gives every role the fixture's attachments; prison staff
// are national (no establishment) so that they may act on every prison.
func (f *fixture) principalFor(r atigip.Role) atigip.Principal {
	return atigip.Principal{Subject: "matrix:" + string(r), Role: r, OrganisationID: f.org.ID, PersonID: f.person.ID, SIRET: fixtureSIRET}
}

func TestRoleMatrix(t *testing.T) {
	store := newMemStore()
	env := newEnv(t, store)
	fx := newFixture(t, store)

	declared := map[string]bool{}
	for _, rt := range env.srv.Routes() {
		key := rt.Method + " " + rt.Path
		declared[key] = true
		want, ok := wantMatrix[key]
		if !ok {
			t.Errorf("route %s is not in the expected matrix", key)
			continue
		}
		if slices.Equal(want, everyone) {
			want = nil
		}
		if !slices.Equal(sortedRoles(want), sortedRoles(rt.Roles)) {
			t.Errorf("route %s declares roles %v, matrix expects %v", key, rt.Roles, want)
		}
	}
	for key := range wantMatrix {
		if !declared[key] {
			t.Errorf("matrix route %s is not declared", key)
		}
	}

	callers := append([]atigip.Role{""}, roleList()...) // "" is anonymous
	n := 0
	for _, rt := range env.srv.Routes() {
		want := wantMatrix[rt.Method+" "+rt.Path]
		for _, role := range callers {
			name := rt.Method + " " + rt.Path + " as " + string(role)
			if role == "" {
				name += "anonymous"
			}
			t.Run(name, func(t *testing.T) {
				req := matrixRequest(t, env, fx, rt, role)
				res := env.send(req)
				admitted := slices.Equal(want, everyone) || slices.Contains(want, role)
				switch {
				case admitted && (res.status < 200 || res.status >= 400):
					t.Fatalf("status %d, want success; body %s", res.status, res.body)
				case !admitted && role == "" && res.status != http.StatusUnauthorized:
					t.Fatalf("status %d, want 401", res.status)
				case !admitted && role != "" && res.status != http.StatusForbidden:
					t.Fatalf("status %d, want 403", res.status)
				}
				if (role == pub || role == biz || role == "") && atigip.Kind(strings.ReplaceAll(strings.Split(rt.Path+"/", "/")[2], "-", "_")).Sensitive() && res.status < 300 {
					t.Fatalf("public or business read personal data: %s", res.body)
				}
			})
			n++
		}
	}
	t.Logf("%d role × route cases", n)
	// Every success answered above is a status the document gives.
	seen := checkLoggedStatuses(t, env)
	for _, rt := range env.srv.Routes() {
		if !seen[rt.Method+" "+rt.Path] {
			t.Errorf("%s %s never answered a success in the matrix", rt.Method, rt.Path)
		}
	}
}

func matrixRequest(t *testing.T, env *testEnv, fx *fixture, rt Route, role atigip.Role) *http.Request {
	t.Helper()
	tok := ""
	if role != "" {
		tok = env.token(fx.principalFor(role))
	}
	path := rt.Path
	var body any
	var kind atigip.Kind
	if strings.HasPrefix(path, "/api/") {
		kind = atigip.Kind(strings.ReplaceAll(strings.Split(path, "/")[2], "-", "_"))
	}
	switch {
	case rt.Path == "/dev/signin" && rt.Method == http.MethodPost:
		req := httptest.NewRequest(rt.Method, path, strings.NewReader("role=cpip"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		setToken(req, tok)
		return req
	case kind == "":
	case rt.Method == http.MethodPost:
		body = fx.creatable(t, env.store, kind, 1)
		if role == pjj {
			body = fx.minor(body.(atigip.Entity))
		}
	case rt.Method == http.MethodPut:
		cur, err := env.store.Entities(kind).Get(t.Context(), fx.idFor(role, kind))
		if err != nil {
			t.Fatal(err)
		}
		body = cur
		path = strings.Replace(path, ":id", strconv.FormatInt(fx.idFor(role, kind), 10), 1)
	case rt.Method == http.MethodDelete:
		e := seed(t, env.store, fx.fresh(kind, 2+int(fx.ids[kind])+len(t.Name())))
		path = strings.Replace(path, ":id", strconv.FormatInt(e.GetMeta().ID, 10), 1) +
			"?version=" + strconv.FormatInt(e.GetMeta().Version, 10)
	default:
		path = strings.Replace(path, ":id", strconv.FormatInt(fx.idFor(role, kind), 10), 1)
	}
	var req *http.Request
	if body != nil {
		req = httptest.NewRequest(rt.Method, path, strings.NewReader(mustJSON(t, body)))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(rt.Method, path, nil)
	}
	setToken(req, tok)
	return req
}

func setToken(req *http.Request, tok string) {
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
}

func roleList() []atigip.Role {
	out := make([]atigip.Role, len(atigip.Roles))
	for i, r := range atigip.Roles {
		out[i] = r.Role
	}
	return out
}

func sortedRoles(rs []atigip.Role) []atigip.Role {
	out := slices.Clone(rs)
	slices.Sort(out)
	return out
}
