package search

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// TestKindsInterleaved checks that a text query asking for several kinds
// (type=all, or the public's default of every kind) shows each kind that
// matches on the first page, however many more documents another kind has
// (issue 12: prison offers filled 10 of 10 for « nettoyeur »), and that
// paging through the interleaved order is stable: pages of 10 make the
// first 30 hits, each once.
func TestKindsInterleaved(t *testing.T) {
	_, ix := diskIndex(t)
	ctx := context.Background()
	checked := 0
	for _, q := range []string{"nettoyeur", "peintres", "jardinier", "cuisine", "entretien", "agent",
		"mairie", "atelier", "formation", "espaces verts", "magasinier", "association"} {
		for _, r := range []Request{{Query: q}, {Query: q, Types: []Type{TypeAll}, Role: atigip.RoleMagistrate},
			{Query: q, Types: []Type{TypePost, TypeOffer}, Role: atigip.RoleCPIP}} {
			name := fmt.Sprintf("%s/%s/%v", q, r.Role, r.Types)
			r.PerPage = 10
			matching := 0 // kinds with a match
			for _, k := range []Type{TypePost, TypeOffer, TypeOrganisation, TypeFloorSpace} {
				one := r
				one.Types = []Type{k}
				if len(r.Types) == 1 || (len(r.Types) > 1 && !containsType(r.Types, k)) {
					continue
				}
				res, err := ix.Search(ctx, one)
				if err != nil {
					t.Fatal(err)
				}
				if res.Total > 0 {
					matching++
				}
			}
			res, err := ix.Search(ctx, r)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			kinds := map[Type]int{}
			for _, h := range res.Hits {
				kinds[h.Type]++
			}
			if matching > 1 && res.Total > uint64(len(res.Hits)) {
				checked++
				if len(kinds) < min(matching, 2) {
					t.Errorf("%s: %d kinds match but the first page holds only %v", name, matching, kinds)
				}
			}
			// Stable paging: pages of 10 show each hit once, as many as a
			// page of 50 holds, the same on a second request.
			r.PerPage = 50
			want, err := ix.Search(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for p := 1; p <= 5; p++ {
				r.Page, r.PerPage = p, 10
				page, err := ix.Search(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				again, err := ix.Search(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				for i, h := range page.Hits {
					id := fmt.Sprint(h.Type, h.ID)
					if seen[id] {
						t.Errorf("%s: %s on two pages", name, id)
					}
					seen[id] = true
					if g := again.Hits[i]; g.Type != h.Type || g.ID != h.ID {
						t.Errorf("%s: page %d differs when asked again", name, p)
					}
				}
			}
			if len(seen) != len(want.Hits) {
				t.Errorf("%s: pages of 10 give %d hits, a page of 50 %d", name, len(seen), len(want.Hits))
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d requests had several kinds matching beyond a page: the test proves little", checked)
	}
}

func containsType(ts []Type, k Type) bool {
	for _, t := range ts {
		if t == k || t == TypeAll {
			return true
		}
	}
	return false
}

// TestRelevanceTier pins the tiers of the interleaving.
func TestRelevanceTier(t *testing.T) {
	for _, c := range []struct {
		score float64
		want  int
	}{{10, 0}, {7.5, 0}, {7.4, 1}, {5.7, 1}, {5.6, 2}, {1.8, 5}, {1.7, 6}, {0.01, 6}} {
		if got := relevanceTier(c.score, 10); got != c.want {
			t.Errorf("relevanceTier(%g, 10) = %d, want %d", c.score, got, c.want)
		}
	}
}

// TestKindTopsPerKind checks that the one search of an interleaved query
// collects, for each kind, exactly the hits of a search of that kind
// alone: the same documents, scores and order, and the same totals and
// facet counts added up; national queries, which run in parts (several
// here) with their kinds told apart per match (see partsQuery), and
// filtered ones, for every kind or some, with the public's audience cut.
func TestKindTopsPerKind(t *testing.T) {
	_, ix := diskIndex(t)
	defer func(n uint64) { partDocs = n }(partDocs)
	partDocs = 100 // several parts on the test set
	ctx := context.Background()
	ties := 0
	for _, q := range []string{"entretien", "agent", "jardinier", "espaces verts", "mairie", "cuisine", "atelier", "nettoyage de locaux"} {
		for _, dep := range []string{"", "35", "13"} {
			for _, r := range []Request{{Types: []Type{TypePost, TypeOffer, TypeOrganisation, TypeFloorSpace}, Role: atigip.RoleMagistrate},
				{Types: DefaultTypes(atigip.RoleCPIP), Role: atigip.RoleCPIP}, {Types: []Type{TypeOffer, TypeOrganisation}, Role: atigip.RolePublic}} {
				r.Query, r.Departement = q, dep
				name := fmt.Sprint(q, "/", dep, "/", r.Types)
				kinds := slices.Clone(r.Types)
				pq, tq := textOf(t, ix, &r)
				const window = 23
				tops := newKindTops(kinds, window, &ix.facets)
				one, err := ix.query(ctx, &r, pq, tq, 0, window*len(kinds), true, tops)
				if err != nil {
					t.Fatal(err)
				}
				var total uint64
				facets := map[string]int{}
				for i, k := range kinds {
					rk := r
					rk.Types = []Type{k}
					alone, err := ix.query(ctx, &rk, pq, tq, 0, window, true, nil)
					if err != nil {
						t.Fatal(err)
					}
					total += alone.Total
					for _, f := range alone.Facets[fFacet].Terms.Terms() {
						facets[f.Term] += f.Count
					}
					got := tops.hits()[i]
					if len(got) != len(alone.Hits) {
						t.Errorf("%s: %s: %d hits in one pass, %d alone", name, k, len(got), len(alone.Hits))
						continue
					}
					for j, h := range alone.Hits {
						if got[j].ID != h.ID || got[j].Score != h.Score {
							t.Errorf("%s: %s hit %d: %s %g in one pass, %s %g alone", name, k, j, got[j].ID, got[j].Score, h.ID, h.Score)
						}
						if j > 0 && h.Score == alone.Hits[j-1].Score {
							ties++
						}
					}
				}
				if one.Total != total {
					t.Errorf("%s: total %d in one pass, %d by kind", name, one.Total, total)
				}
				for _, f := range one.Facets[fFacet].Terms.Terms() {
					if facets[f.Term] != f.Count {
						t.Errorf("%s: facet %s: %d in one pass, %d by kind", name, f.Term, f.Count, facets[f.Term])
					}
					delete(facets, f.Term)
				}
				if len(facets) > 0 {
					t.Errorf("%s: facets counted by kind only: %v", name, facets)
				}
			}
		}
	}
	if ties == 0 {
		t.Error("no hits of equal score: the order of ties went untested")
	}
}
