package httpapi

import (
	"slices"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
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
