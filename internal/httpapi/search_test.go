package httpapi

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/store/sqlite"
	"github.com/atigip/atigip360/search"
)

// searchEnv serves a search index over a small store: a public post, a
// justice-only post and a person whose profile words match both.
func searchEnv(t *testing.T) (*testEnv, map[string]int64) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atigip.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	addr := atigip.Address{City: "Rennes", Postcode: "35000", Commune: "35238", Departement: "35", Region: "53"}
	org := searchSeed(t, db, &atigip.Organisation{Name: "Mairie de Rennes", OrgKind: atigip.OrgCommune, Address: addr,
		Location: atigip.Point{Lon: -1.68, Lat: 48.11}, Active: true,
		Habilitation: atigip.Habilitation{Status: atigip.HabHabilitated}})
	post := func(title string, vis atigip.Visibility) *atigip.Post {
		return searchSeed(t, db, &atigip.Post{OrganisationID: org.ID, Title: title, ROMECodes: []string{"A1203"},
			Places: 3, PlacesTaken: 1, Address: addr, Location: atigip.Point{Lon: -1.67, Lat: 48.1},
			Schedule: atigip.Schedule{Slots: []atigip.Slot{{Day: 2, Start: "09:00", End: "12:00"}}},
			Status:   atigip.PostOpen, Visibility: vis})
	}
	ids := map[string]int64{
		"public":  post("Entretien des massifs du parc", atigip.VisibilityPublic).ID,
		"justice": post("Taille des haies du palais de justice", atigip.VisibilityJustice).ID,
	}
	searchSeed(t, db, &atigip.Person{Pseudonym: "ZORGLUB-1234", CaseSystem: "APPI", CaseRef: "APPI-77-0042",
		Wishes: "entretien des massifs, taille des haies"})

	// On disk, as the server runs it: an index in memory keeps norms
	// differently and hid the NaN scores of filtered text queries.
	ix, err := search.Open(filepath.Join(t.TempDir(), "index"), search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if _, err := ix.CatchUp(ctx, db); err != nil {
		t.Fatal(err)
	}
	return newEnv(t, db, func(o *Options) { o.Modules = append(o.Modules, SearchModule{Index: ix}) }), ids
}

type searchBody struct {
	Total uint64 `json:"total"`
	Hits  []struct {
		ID          int64               `json:"id"`
		Type        string              `json:"type"`
		Title       string              `json:"title"`
		PlacesLeft  *int                `json:"places_left"`
		DistanceKm  *float64            `json:"distance_km"`
		Highlights  map[string][]string `json:"highlights"`
		Explanation *struct {
			Value float64 `json:"value"`
		} `json:"explanation"`
	} `json:"hits"`
	Facets map[string][]struct {
		Value string `json:"value"`
		Count int    `json:"count"`
	} `json:"facets"`
	TookMs *float64 `json:"took_ms"`
}

func TestSearchAPI(t *testing.T) {
	e, ids := searchEnv(t)
	cpip := e.token(atigip.Principal{Role: atigip.RoleCPIP})

	t.Run("public search with ROME synonym, highlight, facets", func(t *testing.T) {
		r := e.do("GET", "/api/search?q=jardinier&near=-1.68,48.11&radius_km=20&sort=distance", "", nil)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		var b searchBody
		r.json(t, &b)
		if b.Total != 1 || b.Hits[0].ID != ids["public"] || b.Hits[0].Type != "post" {
			t.Fatalf("hits %+v, want the public post only", b.Hits)
		}
		if b.Hits[0].PlacesLeft != nil {
			t.Error("places left shown to the public")
		}
		if b.Hits[0].DistanceKm == nil || *b.Hits[0].DistanceKm > 5 {
			t.Errorf("distance %v", b.Hits[0].DistanceKm)
		}
		if b.TookMs == nil || len(b.Facets["type"]) != 1 || b.Facets["type"][0].Count != 1 {
			t.Errorf("took_ms %v, facets %+v", b.TookMs, b.Facets)
		}
		if _, ok := b.Facets["available"]; ok {
			t.Error("availability facet shown to the public")
		}
	})

	t.Run("justice sees justice posts and places left", func(t *testing.T) {
		var b searchBody
		e.do("GET", "/api/search?q=haies", cpip, nil).json(t, &b)
		if b.Total != 1 || b.Hits[0].ID != ids["justice"] || b.Hits[0].PlacesLeft == nil || *b.Hits[0].PlacesLeft != 2 {
			t.Fatalf("CPIP: %+v", b)
		}
		if h := b.Hits[0].Highlights["title"]; len(h) == 0 || !strings.Contains(h[0], "<mark>haies</mark>") {
			t.Errorf("highlights %v", b.Hits[0].Highlights)
		}
		e.do("GET", "/api/search?q=haies", "", nil).json(t, &b)
		if b.Total != 0 {
			t.Errorf("public sees the justice post: %+v", b)
		}
	})

	t.Run("person profiles never searchable", func(t *testing.T) {
		for _, tok := range []string{"", cpip} {
			for _, q := range []string{"ZORGLUB-1234", "ZORGLUB", "APPI-77-0042"} {
				r := e.do("GET", "/api/search?q="+url.QueryEscape(q)+"&type=post,offer,organisation,floor_space", tok, nil)
				var b searchBody
				r.json(t, &b)
				if r.status != 200 || b.Total != 0 || strings.Contains(string(r.body), "ZORGLUB") || strings.Contains(string(r.body), "APPI-77") {
					t.Errorf("q=%s: status %d, body %s", q, r.status, r.body)
				}
			}
		}
		r := e.do("GET", "/api/search?type=people", cpip, nil)
		if r.status != 400 {
			t.Errorf("type=people: status %d", r.status)
		}
	})

	t.Run("explanation for professionals only", func(t *testing.T) {
		if r := e.do("GET", "/api/search?q=massifs&explain=true", "", nil); r.status != 403 {
			t.Errorf("public explain: status %d", r.status)
		}
		var b searchBody
		e.do("GET", "/api/search?q=massifs&explain=true", cpip, nil).json(t, &b)
		if len(b.Hits) == 0 || b.Hits[0].Explanation == nil || b.Hits[0].Explanation.Value <= 0 {
			t.Errorf("no explanation: %+v", b.Hits)
		}
	})

	t.Run("text with a filter answers 200 with its matches", func(t *testing.T) {
		for _, q := range []string{"q=jardinier&departement=35", "q=mairie&type=organisation",
			"q=massifs&type=post", "q=entretien&rome=A", "q=entretien&rome=A1203", "q=massifs&status=open",
			"q=massifs&region=53", "q=massifs&commune=35238", "q=massifs&minors=false&weekends=false&wheelchair=false",
			"q=massifs&near=-1.68,48.11&radius_km=10", "q=haies&available=true"} {
			r := e.do("GET", "/api/search?"+q, cpip, nil)
			if r.status != 200 {
				t.Errorf("%s: status %d: %s", q, r.status, r.body)
				continue
			}
			var b searchBody
			r.json(t, &b)
			if b.Total == 0 {
				t.Errorf("%s: no hit", q)
			}
		}
	})

	t.Run("facets on the first page unless asked", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			want  bool
		}{
			{"q=haies", true},
			{"q=haies&page=2", false},
			{"q=haies&page=2&facets=1", true},
			{"q=haies&facets=false", false},
		} {
			var b searchBody
			if r := e.do("GET", "/api/search?"+tc.query, cpip, nil); r.status != 200 {
				t.Fatalf("%s: status %d: %s", tc.query, r.status, r.body)
			} else {
				r.json(t, &b)
			}
			if got := b.Facets != nil; got != tc.want {
				t.Errorf("%s: facets %v, want %v", tc.query, got, tc.want)
			}
		}
	})

	t.Run("bad parameters are 400 problems", func(t *testing.T) {
		for _, tc := range []struct{ query, field string }{
			{`q=` + url.QueryEscape(`"taille des haies`), "q"},
			{"q=" + url.QueryEscape(strings.Repeat("haie ", 50)), "q"},
			{"near=-1.68,48.11&radius_km=99999", "radius_km"},
			{"radius_km=10", "radius_km"},
			{"near=abc", "near"},
			{"near=500,48", "near"},
			{"page=1000000000", "page"},
			{"page=-1", "page"},
			{"page=deux", "page"},
			{"per_page=1000", "per_page"},
			{"sort=popularity", "sort"},
			{"sort=distance", "sort"},
			{"type=person", "type"},
			{"minors=peut-etre", "minors"},
			{"facets=toutes", "facets"},
			{"available=true", "available"},
			{"departement=99", "departement"},
			{"commune=35999", "commune"},
			{"rome=Z9999", "rome"},
			{"status=lost", "status"},
		} {
			r := e.do("GET", "/api/search?"+tc.query, "", nil)
			if r.status != 400 {
				t.Errorf("%s: status %d, want 400", tc.query, r.status)
				continue
			}
			p := r.problem(t)
			found := false
			for _, f := range p.Errors {
				found = found || f.Field == tc.field
			}
			if p.Code != atigip.EINVALID || !found {
				t.Errorf("%s: problem %+v, want an error on %s", tc.query, p, tc.field)
			}
		}
	})

	t.Run("suggest", func(t *testing.T) {
		var b struct {
			Suggestions []search.Suggestion `json:"suggestions"`
		}
		e.do("GET", "/api/search/suggest?q=renn&kind=commune", "", nil).json(t, &b)
		if len(b.Suggestions) == 0 || b.Suggestions[0].Value != "35238" {
			t.Errorf("communes: %+v", b.Suggestions)
		}
		e.do("GET", "/api/search/suggest?q=jardini&kind=job&limit=5", "", nil).json(t, &b)
		if len(b.Suggestions) == 0 || len(b.Suggestions) > 5 || !strings.HasPrefix(b.Suggestions[0].Label, "Jardinier") {
			t.Errorf("jobs: %+v", b.Suggestions)
		}
		for _, q := range []string{"q=renn&kind=street", "q=", "q=renn&limit=500"} {
			if r := e.do("GET", "/api/search/suggest?"+q, "", nil); r.status != 400 {
				t.Errorf("%s: status %d", q, r.status)
			}
		}
	})
}

func searchSeed[T atigip.Entity](t testing.TB, s atigip.Store, e T) T {
	t.Helper()
	if err := s.Entities(e.Kind()).Create(context.Background(), e); err != nil {
		t.Fatalf("create %s: %v", e.Kind(), err)
	}
	return e
}
