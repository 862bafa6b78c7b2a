package search

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

func ptr[T any](v T) *T { return &v }

func TestRequestValidation(t *testing.T) {
	db, _ := handStore(t)
	ix := builtIndex(t, db, "")
	rennes := &atigip.Point{Lon: -1.68, Lat: 48.11}
	tests := []struct {
		name  string
		req   Request
		code  string
		field string
	}{
		{"unbalanced quote", Request{Query: `"taille des haies`}, atigip.EINVALID, "q"},
		{"unbalanced French quote", Request{Query: "« taille des haies"}, atigip.EINVALID, "q"},
		{"closing quote alone", Request{Query: "taille » haies"}, atigip.EINVALID, "q"},
		{"too long", Request{Query: strings.Repeat("a", MaxQueryLen+1)}, atigip.EINVALID, "q"},
		{"too many words", Request{Query: strings.Repeat("haie ", MaxWords+1)}, atigip.EINVALID, "q"},
		{"invalid UTF-8", Request{Query: "caf\xe9"}, atigip.EINVALID, "q"},
		{"absurd radius", Request{Near: rennes, RadiusKm: 40000}, atigip.EINVALID, "radius_km"},
		{"negative radius", Request{Near: rennes, RadiusKm: -1}, atigip.EINVALID, "radius_km"},
		{"radius without a point", Request{RadiusKm: 10}, atigip.EINVALID, "radius_km"},
		{"point off the globe", Request{Near: &atigip.Point{Lon: 200, Lat: 48}}, atigip.EINVALID, "near"},
		{"page 10^9", Request{Page: 1_000_000_000}, atigip.EINVALID, "page"},
		{"page past the window", Request{Page: MaxWindow/DefaultPerPage + 1}, atigip.EINVALID, "page"},
		{"negative page", Request{Page: -2}, atigip.EINVALID, "page"},
		{"per page too big", Request{PerPage: MaxPerPage + 1}, atigip.EINVALID, "per_page"},
		{"unknown sort", Request{Sort: "popularity"}, atigip.EINVALID, "sort"},
		{"distance sort without a point", Request{Sort: SortDistance}, atigip.EINVALID, "sort"},
		{"unknown type", Request{Types: []Type{"people"}}, atigip.EINVALID, "type"},
		{"unknown département", Request{Departement: "99"}, atigip.EINVALID, "departement"},
		{"unknown région", Request{Region: "99"}, atigip.EINVALID, "region"},
		{"unknown commune", Request{Commune: "35999"}, atigip.EINVALID, "commune"},
		{"bad ROME", Request{ROME: []string{"Z12"}}, atigip.EINVALID, "rome"},
		{"unknown status", Request{Status: []string{"lost"}}, atigip.EINVALID, "status"},
		{"availability for the public", Request{Available: ptr(true)}, atigip.EINVALID, "available"},
		{"emoji alone", Request{Query: "🔧🌳"}, atigip.EINVALID, "q"},
		{"punctuation alone", Request{Query: "?! -- ..."}, atigip.EINVALID, "q"},
		{"stop words alone", Request{Query: "de la"}, atigip.EINVALID, "q"},
		{"stop words alone, quoted", Request{Query: `"à la" les`}, atigip.EINVALID, "q"},
		{"explain for the public", Request{Query: "haie", Explain: true}, atigip.EFORBIDDEN, ""},
		{"explain for a lawyer", Request{Query: "haie", Explain: true, Role: atigip.RoleLawyer}, atigip.EFORBIDDEN, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ix.Search(context.Background(), tt.req)
			if got := atigip.ErrorCode(err); got != tt.code {
				t.Fatalf("code %q (%v), want %q", got, err, tt.code)
			}
			if tt.field != "" && !slices.ContainsFunc(atigip.ErrorFields(err), func(f atigip.FieldError) bool { return f.Field == tt.field }) {
				t.Errorf("fields %v, want one on %s", atigip.ErrorFields(err), tt.field)
			}
			if msg := atigip.ErrorMessage(err); msg == "" || msg == "Erreur interne du serveur." {
				t.Errorf("message %q", msg)
			}
		})
	}
	t.Run("q=* is no text: every document the filters keep", func(t *testing.T) {
		for _, q := range []string{"*", " * ", "**"} {
			star, err := ix.Search(context.Background(), Request{Query: q, Role: atigip.RoleCPIP})
			if err != nil {
				t.Fatal(err)
			}
			all, err := ix.Search(context.Background(), Request{Role: atigip.RoleCPIP})
			if err != nil {
				t.Fatal(err)
			}
			if star.Total == 0 || star.Total != all.Total {
				t.Errorf("q=%q: %d hits, want all %d", q, star.Total, all.Total)
			}
		}
	})
	t.Run("emoji and stop words beside a word are ignored", func(t *testing.T) {
		a, err := ix.Search(context.Background(), Request{Query: "🌳 les haies !", Role: atigip.RoleCPIP})
		if err != nil {
			t.Fatal(err)
		}
		b, err := ix.Search(context.Background(), Request{Query: "haies", Role: atigip.RoleCPIP})
		if err != nil {
			t.Fatal(err)
		}
		if a.Total == 0 || a.Total != b.Total {
			t.Errorf("%d hits, want %d as for haies alone", a.Total, b.Total)
		}
	})
	t.Run("valid edge cases", func(t *testing.T) {
		for _, r := range []Request{
			{Query: `« taille des haies »`},
			{Query: `"haies" cimetière`, Page: MaxWindow / MaxPerPage, PerPage: MaxPerPage},
			{Query: "*:* OR title:x^5 AND -(", Role: atigip.RoleCPIP, Available: ptr(true)},
			{Near: rennes, RadiusKm: MaxRadiusKm, Sort: SortDistance},
			{ROME: []string{"a", "a1203"}, Departement: "35", Commune: "35238", Region: "53"},
		} {
			if _, err := ix.Search(context.Background(), r); err != nil {
				t.Errorf("%+v: %v", r, err)
			}
		}
	})
}

// TestFilters checks on the demo set that every filter keeps exactly the
// documents that have the property, by counting them in the store.
func TestFilters(t *testing.T) {
	db := openStore(t, testScale)
	ix := builtIndex(t, db, "")
	ctx := context.Background()
	posts, err := atigip.Of[*atigip.Post](db).All(ctx, atigip.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	orgs := map[int64]*atigip.Organisation{}
	if err := atigip.Of[*atigip.Organisation](db).Scan(ctx, atigip.ListFilter{}, func(o *atigip.Organisation) error {
		orgs[o.ID] = o
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rennes := atigip.Point{Lon: -1.6778, Lat: 48.1173}
	// The public finds the posts of the public map; professionals all.
	count := func(r Request, keep func(p *atigip.Post) bool) uint64 {
		n := uint64(0)
		for _, p := range posts {
			if (r.Role.Audience() == atigip.AudienceJustice || p.Listed(orgs[p.OrganisationID], atigip.AudiencePublic)) && keep(p) {
				n++
			}
		}
		return n
	}
	post := []Type{TypePost}
	tests := []struct {
		name string
		req  Request
		keep func(p *atigip.Post) bool
	}{
		{"département", Request{Types: post, Departement: "59"}, func(p *atigip.Post) bool { return p.Address.Departement == "59" }},
		{"région", Request{Types: post, Region: "53"}, func(p *atigip.Post) bool { return p.Address.Region == "53" }},
		{"ROME domain", Request{Types: post, ROME: []string{"A"}}, func(p *atigip.Post) bool { return p.ROMECodes[0][0] == 'A' }},
		{"ROME code", Request{Types: post, ROME: []string{"K2304", "G1605"}}, func(p *atigip.Post) bool {
			return slices.Contains(p.ROMECodes, "K2304") || slices.Contains(p.ROMECodes, "G1605")
		}},
		{"minors", Request{Types: post, Minors: ptr(true)}, func(p *atigip.Post) bool { return p.MinorsAccepted }},
		{"weekends", Request{Types: post, Weekends: ptr(true)}, func(p *atigip.Post) bool { return p.Schedule.Weekends() }},
		{"no wheelchair", Request{Types: post, Wheelchair: ptr(false)}, func(p *atigip.Post) bool { return !p.WheelchairAccess }},
		{"status", Request{Types: post, Status: []string{"closed"}, Role: atigip.RoleCPIP}, func(p *atigip.Post) bool { return p.Status == atigip.PostClosed }},
		{"radius 50 km", Request{Types: post, Near: &rennes, RadiusKm: 50}, func(p *atigip.Post) bool { return atigip.DistanceKm(rennes, p.Location) <= 50 }},
		{"all together", Request{Types: post, ROME: []string{"A"}, Weekends: ptr(false), Near: &rennes, RadiusKm: 300},
			func(p *atigip.Post) bool {
				return p.ROMECodes[0][0] == 'A' && !p.Schedule.Weekends() && atigip.DistanceKm(rennes, p.Location) <= 300
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := count(tt.req, tt.keep)
			if want == 0 {
				t.Fatal("no post has the property: the test proves nothing")
			}
			res, err := ix.Search(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			// The radius is computed by bleve on geohash cells: allow a
			// post or two right on the circle.
			if diff := int(res.Total) - int(want); diff != 0 && !(tt.req.RadiusKm > 0 && max(diff, -diff) <= 2) {
				t.Errorf("total %d, want %d", res.Total, want)
			}
		})
	}

	t.Run("the public finds no closed post nor any post of an archived organisation", func(t *testing.T) {
		res, err := ix.Search(ctx, Request{Types: post, Status: []string{"closed", "draft"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 0 {
			t.Errorf("public search found %d closed or draft posts", res.Total)
		}
		res, err = ix.Search(ctx, Request{Types: post, PerPage: MaxPerPage})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			for _, p := range posts {
				if p.ID == h.ID && !orgs[p.OrganisationID].Active {
					t.Errorf("public search found post %d of an archived organisation", p.ID)
				}
			}
		}
	})

	t.Run("the commune filter of Paris, Lyon and Marseille finds their arrondissements", func(t *testing.T) {
		for _, city := range []string{"75056", "69123", "13055"} {
			want := count(Request{}, func(p *atigip.Post) bool {
				c, _ := refdata.CommuneByINSEE(p.Address.Commune)
				return p.Address.Commune == city || c.Parent == city
			})
			if want == 0 {
				t.Fatalf("%s: no post there: the test proves nothing", city)
			}
			res, err := ix.Search(ctx, Request{Types: post, Commune: city})
			if err != nil {
				t.Fatal(err)
			}
			if res.Total != want {
				t.Errorf("commune %s: %d posts, want %d", city, res.Total, want)
			}
		}
	})

	t.Run("the public finds only offers one can apply to", func(t *testing.T) {
		offers, err := atigip.Of[*atigip.Offer](db).All(ctx, atigip.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		open, other := 0, 0
		for _, o := range offers {
			if o.Status == atigip.OfferOpen && o.PlacesLeft() > 0 {
				open++
			} else {
				other++
			}
		}
		if open == 0 || other == 0 {
			t.Fatalf("%d open and %d other offers: the test proves nothing", open, other)
		}
		for _, role := range []atigip.Role{atigip.RolePublic, atigip.RoleBusiness} {
			res, err := ix.Search(ctx, Request{Types: []Type{TypeOffer}, Role: role, PerPage: MaxPerPage})
			if err != nil {
				t.Fatal(err)
			}
			if int(res.Total) != open {
				t.Errorf("%s: %d offers, want the %d open ones with a place left", role, res.Total, open)
			}
			for _, h := range res.Hits {
				if h.Status != string(atigip.OfferOpen) {
					t.Errorf("%s: offer %d is %s", role, h.ID, h.Status)
				}
			}
			res, err = ix.Search(ctx, Request{Types: []Type{TypeOffer}, Role: role, Status: []string{"filled", "closed"}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Total != 0 {
				t.Errorf("%s: %d filled or closed offers", role, res.Total)
			}
		}
	})

	t.Run("available is for justice and means places left", func(t *testing.T) {
		res, err := ix.Search(ctx, Request{Types: post, Available: ptr(true), Role: atigip.RoleCPIP, PerPage: 100})
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, p := range posts {
			if p.Status == atigip.PostOpen && p.PlacesLeft() > 0 {
				want++
			}
		}
		if int(res.Total) != want {
			t.Errorf("total %d, want %d", res.Total, want)
		}
		for _, h := range res.Hits {
			if h.PlacesLeft == nil || *h.PlacesLeft == 0 || h.Status != "open" {
				t.Errorf("hit %d: places %v status %s", h.ID, h.PlacesLeft, h.Status)
			}
		}
	})

	t.Run("facets count what the filters keep", func(t *testing.T) {
		base := Request{Query: "entretien", Types: post, Role: atigip.RoleCPIP, PerPage: 1}
		res, err := ix.Search(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		find := func(name, v string) int {
			for _, f := range res.Facets[name] {
				if f.Value == v {
					return f.Count
				}
			}
			return 0
		}
		checks := []struct {
			facet, value string
			filter       func(r *Request)
		}{
			{"departement", "59", func(r *Request) { r.Departement = "59" }},
			{"region", "53", func(r *Request) { r.Region = "53" }},
			{"rome_domain", "A", func(r *Request) { r.ROME = []string{"A"} }},
			{"status", "closed", func(r *Request) { r.Status = []string{"closed"} }},
			{"minors", "true", func(r *Request) { r.Minors = ptr(true) }},
			{"minors", "false", func(r *Request) { r.Minors = ptr(false) }},
			{"weekends", "false", func(r *Request) { r.Weekends = ptr(false) }},
			{"wheelchair", "true", func(r *Request) { r.Wheelchair = ptr(true) }},
			{"available", "true", func(r *Request) { r.Available = ptr(true) }},
			{"available", "false", func(r *Request) { r.Available = ptr(false) }},
		}
		for _, c := range checks {
			r := base
			c.filter(&r)
			want, err := ix.Search(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if got := find(c.facet, c.value); want.Total == 0 || uint64(got) != want.Total {
				t.Errorf("facet %s=%s counts %d, the filter keeps %d", c.facet, c.value, got, want.Total)
			}
			if lbl := res.Facets[c.facet][0].Label; lbl == "" {
				t.Errorf("facet %s without label", c.facet)
			}
		}
		pub, err := ix.Search(ctx, Request{Query: "entretien", PerPage: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := pub.Facets["available"]; ok {
			t.Error("the public sees the available facet")
		}
	})

	t.Run("distance sort", func(t *testing.T) {
		res, err := ix.Search(ctx, Request{Query: "entretien", Near: &rennes, Sort: SortDistance, PerPage: 50})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(res.Hits); i++ {
			if *res.Hits[i].DistanceKm < *res.Hits[i-1].DistanceKm-0.01 {
				t.Fatalf("hit %d at %.2f km after %.2f km", i, *res.Hits[i].DistanceKm, *res.Hits[i-1].DistanceKm)
			}
		}
	})

	t.Run("date sort", func(t *testing.T) {
		res, err := ix.Search(ctx, Request{Query: "entretien", Sort: SortDate, PerPage: 50})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(res.Hits); i++ {
			if res.Hits[i].Updated.After(res.Hits[i-1].Updated) {
				t.Fatalf("hit %d updated %v after %v", i, res.Hits[i].Updated, res.Hits[i-1].Updated)
			}
		}
	})

	t.Run("pagination and facets", func(t *testing.T) {
		req := Request{Query: "entretien", PerPage: 7}
		seen := map[int64]bool{}
		var total uint64
		for page := 1; page <= 3; page++ {
			req.Page = page
			res, err := ix.Search(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			total = res.Total
			for _, h := range res.Hits {
				if seen[h.ID] {
					t.Errorf("hit %d on two pages", h.ID)
				}
				seen[h.ID] = true
			}
			if page > 1 {
				if res.Facets != nil {
					t.Errorf("page %d counted facets nobody asked for", page)
				}
				continue
			}
			sum := 0
			for _, f := range res.Facets["type"] {
				sum += f.Count
			}
			if uint64(sum) != res.Total {
				t.Errorf("type facet counts sum to %d, total %d", sum, res.Total)
			}
			if res.Facets["departement"][0].Label == "" {
				t.Error("département facet without label")
			}
		}
		if total < 21 || len(seen) != 21 {
			t.Errorf("%d distinct hits over 3 pages of 7 (total %d)", len(seen), total)
		}
	})

	t.Run("facets on request", func(t *testing.T) {
		for _, tt := range []struct {
			page   int
			facets *bool
			want   bool
		}{
			{1, nil, true}, {2, nil, false}, {1, ptr(false), false}, {3, ptr(true), true},
		} {
			res, err := ix.Search(ctx, Request{Query: "entretien", Page: tt.page, PerPage: 5, Facets: tt.facets})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Facets != nil; got != tt.want {
				t.Errorf("page %d facets %v: counted %v, want %v", tt.page, tt.facets, got, tt.want)
			}
			if tt.want && len(res.Facets["type"]) == 0 {
				t.Errorf("page %d: empty type facet", tt.page)
			}
		}
	})
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		prefix, kind string
		want         string // label of the first suggestion
	}{
		{"renn", SuggestCommune, "Rennes"},
		{"st etienne", SuggestCommune, "Saint-Étienne"},
		{"ÉVRY", SuggestCommune, "Évry-Courcouronnes"},
		{"jardinier pay", SuggestJob, "Jardinier / Jardinière paysagiste"},
		{"agent entretien espaces v", SuggestJob, "Agent / Agente d'entretien des espaces verts"},
		{"plong", SuggestJob, "Plongeur officier / Plongeuse officière de cuisine"}, // principal title of G1605 first
		{"plongeuse en rest", SuggestJob, "Plongeur / Plongeuse en restauration"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.prefix, func(t *testing.T) {
			got, err := Suggest(tt.prefix, tt.kind, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || got[0].Label != tt.want {
				t.Errorf("Suggest(%q) = %+v, want %q first", tt.prefix, got, tt.want)
			}
			for _, s := range got {
				if s.Kind != tt.kind || s.Value == "" {
					t.Errorf("suggestion %+v", s)
				}
			}
		})
	}
	for _, bad := range []struct{ prefix, kind string }{{"", ""}, {"--", ""}, {"renn", "street"}} {
		if _, err := Suggest(bad.prefix, bad.kind, 5); atigip.ErrorCode(err) != atigip.EINVALID {
			t.Errorf("Suggest(%q, %q) = %v, want EINVALID", bad.prefix, bad.kind, err)
		}
	}
}

// TestDefaultTypes checks the type each audience searches by default, and
// that type=all still reaches every kind (issue 12: prison offers filled
// a judge's first page).
func TestDefaultTypes(t *testing.T) {
	db := openStore(t, testScale)
	ix := builtIndex(t, db, "")
	ctx := context.Background()
	kinds := func(r Request) map[Type]int {
		res, err := ix.Search(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		out := map[Type]int{}
		for _, f := range res.Facets["type"] {
			out[Type(f.Value)] = f.Count
		}
		return out
	}
	for _, tt := range []struct {
		role atigip.Role
		want []Type
	}{
		{atigip.RoleMagistrate, []Type{TypePost, TypeOrganisation}},
		{atigip.RoleLawyer, []Type{TypePost, TypeOrganisation}},
		{atigip.RoleCPIP, []Type{TypePost, TypeOrganisation, TypeOffer}},
		{atigip.RoleBusiness, []Type{TypeOffer, TypeFloorSpace}},
		{atigip.RolePublic, []Type{TypePost, TypeOrganisation, TypeOffer, TypeFloorSpace}},
	} {
		t.Run(string(tt.role), func(t *testing.T) {
			for _, q := range []string{"", "nettoyage", "atelier"} {
				got := kinds(Request{Query: q, Role: tt.role})
				for k := range got {
					if !slices.Contains(tt.want, k) {
						t.Errorf("q=%q: %s finds %d %s by default", q, tt.role, got[k], k)
					}
				}
			}
			all := kinds(Request{Role: tt.role, Types: []Type{TypeAll}})
			if len(all) != 4 {
				t.Errorf("type=all: %v, want the four kinds", all)
			}
		})
	}
}
