package httpapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/workflow/wftest"
	"github.com/gofiber/fiber/v2"
)

type openAPIDoc struct {
	OpenAPI    string                               `json:"openapi"`
	Paths      map[string]map[string]map[string]any `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

// TestOpenAPIMatchesRoutes checks the served document against Fiber's real
// route stack, both ways: every route is documented, every documented
// operation is routed. A route added with app.Get, bypassing Route
// declarations (and thus the role check), fails here.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	env := newEnv(t, newMemStore())
	res := env.do("GET", "/openapi.json", "", nil)
	if res.status != 200 {
		t.Fatalf("status %d", res.status)
	}
	var doc openAPIDoc
	res.json(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}

	routed := map[string]bool{}
	for _, r := range env.srv.App().GetRoutes(true) {
		if r.Method == "HEAD" {
			continue // Fiber adds HEAD for every GET
		}
		key := strings.ToLower(r.Method) + " " + OpenAPIPath(r.Path)
		routed[key] = true
		if _, ok := doc.Paths[OpenAPIPath(r.Path)][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not documented", r.Method, r.Path)
		}
	}
	documented := 0
	for p, ops := range doc.Paths {
		for m := range ops {
			documented++
			if !routed[m+" "+p] {
				t.Errorf("documented %s %s is not routed", m, p)
			}
		}
	}
	if documented != len(routed) || documented < 5*len(atigip.Kinds) {
		t.Fatalf("%d documented, %d routed", documented, len(routed))
	}

	// Roles are documented as declared.
	for _, rt := range env.srv.Routes() {
		op := doc.Paths[OpenAPIPath(rt.Path)][strings.ToLower(rt.Method)]
		var got []string
		for _, r := range op["x-roles"].([]any) {
			got = append(got, r.(string))
		}
		want := []string{"*"}
		if len(rt.Roles) > 0 {
			want = nil
			for _, r := range rt.Roles {
				want = append(want, string(r))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s %s x-roles %v, want %v", rt.Method, rt.Path, got, want)
		}
	}

	// Kinds' schemas are generated from the domain types.
	for name, field := range map[string]string{"Post": "rome_codes", "Organisation": "siret", "Measure": "hours_ordered",
		"Person": "pseudonym", "FloorSpace": "geometry", "ProblemDetails": "errors", "ListPagePost": "total"} {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s missing", name)
			continue
		}
		if _, ok := s.Properties[field]; !ok {
			t.Errorf("schema %s lacks %s", name, field)
		}
		if _, ok := s.Properties["id"]; !ok && name != "ProblemDetails" && name != "ListPagePost" {
			t.Errorf("schema %s lacks the embedded meta id", name)
		}
	}
	// Query parameters of lists are documented.
	params := doc.Paths["/api/posts"]["get"]["parameters"].([]any)
	var names []string
	for _, p := range params {
		names = append(names, p.(map[string]any)["name"].(string))
	}
	for _, want := range []string{"departement", "commune", "status", "rome", "organisation_id", "page", "per_page", "after"} {
		if !slices.Contains(names, want) {
			t.Errorf("GET /api/posts lacks parameter %s", want)
		}
	}
}

func TestOpenAPIPath(t *testing.T) {
	for in, want := range map[string]string{
		"/api/posts":          "/api/posts",
		"/api/posts/:id":      "/api/posts/{id}",
		"/tiles/:z/:x/:y.mvt": "/tiles/{z}/{x}/{y}.mvt",
		"/api/x/:opt?":        "/api/x/{opt}",
		"/static/*":           "/static/{path}",
	} {
		if got := OpenAPIPath(in); got != want {
			t.Errorf("OpenAPIPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// checkLoggedStatuses checks every success (2xx, 3xx) the server logged
// against the statuses the OpenAPI document gives for its route, and
// returns the routes ("METHOD /path") it saw succeed.
func checkLoggedStatuses(t testing.TB, env *testEnv) map[string]bool {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(env.srv.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(env.logs.String(), "\n") {
		var l struct {
			Method string `json:"method"`
			Route  string `json:"route"`
			Status int    `json:"status"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Route == "" || l.Status < 200 || l.Status >= 400 {
			continue
		}
		op, ok := doc.Paths[OpenAPIPath(l.Route)][strings.ToLower(l.Method)]
		if !ok {
			continue // unrouted (404 pages are not successes anyway)
		}
		key := l.Method + " " + l.Route
		if _, ok := op.Responses[strconv.Itoa(l.Status)]; !ok && !seen[key+" !"+strconv.Itoa(l.Status)] {
			seen[key+" !"+strconv.Itoa(l.Status)] = true
			t.Errorf("%s answered %d, documented %v", key, l.Status, slices.Sorted(maps.Keys(op.Responses)))
		}
		seen[key] = true
	}
	return seen
}

// TestOpenAPISuccessStatuses walks every workflow, habilitation, prison
// and flow route to a success and checks the status against the
// document; the CRUD routes are checked the same way at the end of
// TestRoleMatrix, and the other workflow tests on cleanup.
func TestOpenAPISuccessStatuses(t *testing.T) {
	e, w := workflowEnv(t)
	today := atigip.DateOf(time.Now())
	cpipTok := e.token(atigip.Principal{Subject: "cpip", Role: atigip.RoleCPIP})
	dspip := e.token(atigip.Principal{Subject: "dspip", Role: atigip.RoleDSPIP})
	judge := e.token(atigip.Principal{Subject: "jap", Role: atigip.RoleMagistrate})
	tutor := e.token(atigip.Principal{Subject: "tuteur", Role: atigip.RoleHost, OrganisationID: w.Org.ID})
	staff := e.token(atigip.Principal{Subject: "greffe", Role: atigip.RolePrisonStaff, PrisonID: w.Prison.ID})
	m := fmt.Sprintf("/api/measures/%d", w.Measure.ID)
	ok := func(r response) response {
		t.Helper()
		if r.status >= 300 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		return r
	}
	var ver struct {
		ID      int64 `json:"id"`
		Version int64 `json:"version"`
	}
	ok(e.do("POST", m+"/transitions", cpipTok, map[string]any{"to": "proposed", "post_id": w.Post.ID, "start_date": today.AddDays(3).String(), "version": 1}))
	ok(e.do("POST", m+"/transitions", judge, map[string]any{"to": "assigned", "version": 2}))
	ok(e.do("POST", m+"/transitions", tutor, map[string]any{"to": "in_progress", "version": 3}))
	ok(e.do("POST", m+"/hours", tutor, map[string]any{"date": today.String(), "hours": 4})).json(t, &ver)
	ok(e.do("POST", fmt.Sprintf("%s/hours/%d/check", m, ver.ID), cpipTok, map[string]any{"accept": true}))
	ok(e.do("POST", m+"/incidents", tutor, map[string]any{"incident": "absence", "note": "Retard"}))
	self := e.token(atigip.Principal{Subject: "fc:tigiste", Role: atigip.RolePerson, PersonID: w.Measure.PersonID})
	ok(e.do("POST", m+"/absences", self, map[string]any{"date": today.AddDays(1).String(), "reason": "Malade"}))
	ok(e.do("GET", m+"/history", cpipTok, nil))

	ok(e.do("POST", "/api/procedures", tutor, map[string]any{"kind": "post_registration", "organisation_id": w.Org.ID,
		"post_id": seed(t, e.store, &atigip.Post{OrganisationID: w.Org.ID, Title: "Accueil", Places: 1, Address: wftest.Lyon,
			Location: atigip.Point{Lon: 4.8, Lat: 45.7}, Status: atigip.PostDraft, Visibility: atigip.VisibilityPublic}).ID})).json(t, &ver)
	proc := fmt.Sprintf("/api/procedures/%d", ver.ID)
	ok(e.do("GET", "/api/procedures", dspip, nil))
	ok(e.do("GET", proc, dspip, nil))
	ok(e.do("POST", proc+"/opinions", judge, map[string]any{"authority": "prosecutor", "favourable": true}))
	ok(e.do("POST", proc+"/opinions", judge, map[string]any{"authority": "jap", "favourable": true}))
	ok(e.do("POST", proc+"/decision", dspip, map[string]any{"grant": true}))
	ok(e.do("POST", "/api/procedures/expire", dspip, nil))

	other := seed(t, e.store, &atigip.Person{Pseudonym: "DET-0009", CaseSystem: "GENESIS", CaseRef: "G0009", Detained: true, PrisonID: w.Prison.ID})
	ok(e.do("POST", fmt.Sprintf("/api/people/%d/clearance", other.ID), staff, map[string]any{"cleared": true}))
	offer := fmt.Sprintf("/api/offers/%d", w.Offer.ID)
	ok(e.do("POST", offer+"/applications", staff, map[string]any{"person_id": other.ID})).json(t, &ver)
	ok(e.do("POST", fmt.Sprintf("/api/applications/%d/rank", ver.ID), staff, map[string]any{"rank": 1}))
	ok(e.do("GET", offer+"/waiting-list", staff, nil))
	app, err := atigip.Of[*atigip.Application](e.store).Get(t.Context(), ver.ID)
	if err != nil {
		t.Fatal(err)
	}
	ok(e.do("POST", fmt.Sprintf("/api/applications/%d/transitions", ver.ID), staff, map[string]any{"to": "interview", "version": app.Version}))
	ok(e.do("POST", fmt.Sprintf("/api/people/%d/transfer", other.ID), staff, map[string]any{"prison_id": w.Prison2.ID}))

	ok(e.machine("POST", "/api/flows/inbound", appiKey, `{"message_id":"H-1","type":"FFE11","case_ref":"M0100","seq":2,"ffe11":{"person":{"case_ref":"P0100","pseudonym":"TIG-0100"},"measure":{"hours_ordered":20,"sentence_date":"2025-01-01","departement":"69"}}}`))
	ok(e.machine("POST", "/api/flows/inbound", appiKey, `{"message_id":"H-0","type":"FFE11","case_ref":"M0100","seq":1,"ffe11":{"person":{"case_ref":"P0100","pseudonym":"TIG-0100"},"measure":{"hours_ordered":20,"sentence_date":"2025-01-01","departement":"69"}}}`))
	ok(e.machine("GET", "/api/flows/outbox", appiKey, ""))
	ok(e.machine("POST", "/api/flows/outbox/ack", appiKey, `{"up_to":1}`))
	ok(e.do("GET", "/api/flows/messages", dspip, nil))
	ok(e.do("GET", "/api/indicators", dspip, nil))

	seen := checkLoggedStatuses(t, e)
	for _, rt := range e.srv.Routes() {
		if (rt.Tag == "workflow" || rt.Tag == "habilitation" || rt.Tag == "ipro" || rt.Tag == "flows") && !seen[rt.Method+" "+rt.Path] {
			t.Errorf("%s %s never answered a success here", rt.Method, rt.Path)
		}
	}
	if !seen["POST /api/flows/inbound"] {
		t.Fatal("inbound flow not exercised")
	}
}

// TestOpenAPIStatusCheckFails shows that checkLoggedStatuses catches a
// route whose handler answers another success than the one declared.
func TestOpenAPIStatusCheckFails(t *testing.T) {
	liar := ModuleFunc(func(s *Server) []Route {
		return []Route{{Method: "POST", Path: "/api/liar", Summary: "x",
			Handler: func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusOK) }}} // documented 201
	})
	e := newEnv(t, newMemStore(), func(o *Options) { o.Modules = []Module{liar} })
	e.do("POST", "/api/liar", "", nil)
	rec := &recorder{TB: t}
	checkLoggedStatuses(rec, e)
	if rec.errors != 1 {
		t.Fatalf("%d errors, want 1", rec.errors)
	}
	if got := (Route{Method: "POST", Status: 200}).SuccessStatus(); got != 200 {
		t.Fatalf("declared status ignored: %d", got)
	}
}

// recorder counts the errors reported through it.
type recorder struct {
	testing.TB
	errors int
}

func (r *recorder) Errorf(string, ...any) { r.errors++ }
