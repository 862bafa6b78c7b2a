package search

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// TestFacetsFromPostings checks that the facet counts of text queries on
// an index on disk (counted from posting lists, see matchSet) are those
// bleve's facet builder gives on an index in memory built from the same
// store (doc values of every match), after updates that leave deleted
// documents in the first segment and put their new versions in others.
func TestFacetsFromPostings(t *testing.T) {
	db := openStore(t, testScale)
	disk := builtIndex(t, db, filepath.Join(t.TempDir(), "index"))
	mem := builtIndex(t, db, "")
	if disk.onScorch() == false || mem.onScorch() {
		t.Fatal("want the disk index on scorch, the one in memory not")
	}
	ctx := context.Background()
	ps, _, err := atigip.Of[*atigip.Post](db).List(ctx, atigip.ListFilter{Limit: 40})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		cs := []atigip.Change{{Kind: atigip.KindPost, ID: p.ID, Op: atigip.OpUpdate, Seq: disk.Seq() + 1}}
		for _, ix := range []*Index{disk, mem} {
			if err := ix.Apply(ctx, db, cs); err != nil {
				t.Fatalf("update %d: %v", i, err)
			}
		}
	}
	for _, r := range []Request{
		{Query: "entretien"},
		{Query: "entretien", Role: atigip.RoleCPIP},
		{Query: "espaces verts", Departement: "35", Role: atigip.RoleMagistrate},
		{Query: "cuisine", Types: []Type{TypeAll}},
		{Query: "nettoyage de locaux", Region: "11", Role: atigip.RoleCPIP, Available: ptr(true)},
		{Query: "jardinnier", Minors: ptr(true)},
		{Query: `"espaces verts"`, Sort: SortDate},
		{Query: "mairie", Types: []Type{TypeOrganisation}},
		{Query: "zzzzqx"},
	} {
		t.Run(r.Query, func(t *testing.T) {
			got, err := disk.Search(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			want, err := mem.Search(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != want.Total {
				t.Fatalf("total %d, bleve %d", got.Total, want.Total)
			}
			if !reflect.DeepEqual(got.Facets, want.Facets) {
				t.Errorf("facets\n%v\nbleve\n%v", got.Facets, want.Facets)
			}
		})
	}
}
