package search

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// TestFacetsFromPostings checks that the facet counts of text queries
// counted from posting lists (see matchSet) are those of bleve's facet
// builder (doc values of every match) on the same index on disk, after
// updates that leave deleted documents in the first segment and put their
// new versions in others. Each query is built once and run both ways:
// Search would build it anew, and a background merge between the two runs
// can change the document frequencies that shape it (see termInfo).
func TestFacetsFromPostings(t *testing.T) {
	db := openStore(t, testScale)
	ix := builtIndex(t, db, filepath.Join(t.TempDir(), "index"))
	if !ix.onScorch() {
		t.Fatal("the index on disk is not scorch's")
	}
	ctx := context.Background()
	ps, _, err := atigip.Of[*atigip.Post](db).List(ctx, atigip.ListFilter{Limit: 40})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		cs := []atigip.Change{{Kind: atigip.KindPost, ID: p.ID, Op: atigip.OpUpdate, Seq: ix.Seq() + 1}}
		if err := ix.Apply(ctx, db, cs); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	asTyped := func(w string) []spelling { return []spelling{{text: w, weight: 1}} }
	for _, r := range []Request{
		{Query: "entretien"},
		{Query: "entretien", Role: atigip.RoleCPIP},
		{Query: "espaces verts", Departement: "35", Role: atigip.RoleMagistrate},
		{Query: "cuisine", Types: []Type{TypeAll}},
		{Query: "nettoyage de locaux", Region: "11", Role: atigip.RoleCPIP, Available: ptr(true)},
		{Query: "jardinier", Minors: ptr(true)},
		{Query: `"espaces verts"`, Sort: SortDate},
		{Query: "mairie", Types: []Type{TypeOrganisation}},
		{Query: "zzzzqx"},
	} {
		t.Run(r.Query, func(t *testing.T) {
			pq, err := r.normalize()
			if err != nil {
				t.Fatal(err)
			}
			tq := buildTextQuery(pq, func(string) termInfo { return termInfo{} }, asTyped)
			run := func(postings bool) (*Result, error) {
				facetsFromPostings = postings
				defer func() { facetsFromPostings = true }()
				ix.mu.RLock()
				defer ix.mu.RUnlock()
				sr, err := ix.query(ctx, &r, pq, tq, 0, 10, true, nil)
				if err != nil {
					return nil, err
				}
				return &Result{Total: sr.Total, Facets: facetCounts(sr, true)}, nil
			}
			got, err := run(true)
			if err != nil {
				t.Fatal(err)
			}
			want, err := run(false)
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != want.Total {
				t.Fatalf("total %d, bleve %d", got.Total, want.Total)
			}
			if want.Total > 0 && len(want.Facets[fType]) == 0 {
				t.Fatal("bleve counted no facet")
			}
			if !reflect.DeepEqual(got.Facets, want.Facets) {
				t.Errorf("facets\n%v\nbleve\n%v", got.Facets, want.Facets)
			}
		})
	}
}
