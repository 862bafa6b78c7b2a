package search

import (
	"context"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/atigip/atigip360/internal/atigip"
)

// TestPrefilterSameAsConjunction checks that a text query searched within
// its filter's documents (prefilterQuery) finds the documents, scores and
// order of the text and filter in a conjunction, for places, ROME codes and
// a radius, one word or several, common or rare.
func TestPrefilterSameAsConjunction(t *testing.T) {
	_, ix := diskIndex(t)
	ctx := context.Background()
	compared := 0
	for _, q := range []string{"entretien", "agent", "jardinier", "espaces verts", "mairie", "cuisine", "nettoyage de locaux", `"espaces verts"`, "tri des déchets occitanie"} {
		for _, r := range []Request{{Departement: "35"}, {Departement: "13", Types: []Type{TypePost}}, {Region: "11"},
			{Commune: "75056"}, {ROME: []string{"A", "K2204"}}, {Near: &atigip.Point{Lon: 4.835, Lat: 45.764}, RadiusKm: 30}} {
			r.Query, r.Role = q, atigip.RoleCPIP
			if !narrowFilter(&r) {
				t.Fatalf("%+v: not a narrow filter", r)
			}
			_, tq := textOf(t, ix, &r)
			fq := buildFilter(&r)
			run := func(text query.Query) *bleve.SearchResult {
				req := bleve.NewSearchRequestOptions(query.NewConjunctionQuery([]query.Query{text, fq}), 10000, 0, false)
				req.SortBy([]string{"-_score"})
				sr, err := ix.idx.SearchInContext(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				return sr
			}
			want, got := run(tq.match), run(prefilterQuery{text: tq.match, filter: fq})
			if got.Total != want.Total || len(got.Hits) != len(want.Hits) {
				t.Errorf("%q %+v: %d matches prefiltered, %d in a conjunction", q, r, got.Total, want.Total)
				continue
			}
			for i, h := range want.Hits {
				if g := got.Hits[i]; g.ID != h.ID || g.Score != h.Score {
					t.Errorf("%q %+v: hit %d is %s %g prefiltered, %s %g in a conjunction", q, r, i, g.ID, g.Score, h.ID, h.Score)
					break
				}
			}
			if want.Total > 0 {
				compared++
			}
		}
	}
	if compared < 30 {
		t.Errorf("only %d requests matched: the comparison proves little", compared)
	}
}

// TestFilteredTermReader checks that a term read through a filteredReader
// gives exactly its postings at the filter's documents, by Next and by
// Advance, with its whole document frequency.
func TestFilteredTermReader(t *testing.T) {
	_, ix := diskIndex(t)
	ctx := context.Background()
	adv, err := ix.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	rd, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	read := func(r index.IndexReader, term, field string, advanceTo uint64) []uint64 {
		tr, err := r.TermFieldReader(ctx, []byte(term), field, true, true, false)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		var out []uint64
		d, err := tr.Advance(index.NewIndexInternalID(nil, advanceTo), nil)
		for ; d != nil && err == nil; d, err = tr.Next(nil) {
			out = append(out, d.ID.Value())
		}
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, c := range []struct{ term, field string }{{"entretien", fBody}, {"A1203", fROME}, {"jardin", fTitle}} {
		all := read(rd, c.term, c.field, 0)
		if len(all) < 20 {
			t.Fatalf("%s: only %d postings", c.term, len(all))
		}
		docs := roaring.New()
		for n := uint64(0); n <= all[len(all)-1]+5; n += 3 {
			docs.Add(uint32(n))
		}
		fr := &filteredReader{IndexReader: rd, docs: docs}
		for _, from := range []uint64{0, all[len(all)/2], all[len(all)/2] + 1} {
			var want []uint64
			for _, n := range all {
				if n >= from && n%3 == 0 {
					want = append(want, n)
				}
			}
			if got := read(fr, c.term, c.field, from); !slices.Equal(got, want) {
				t.Errorf("%s from %d: read %v, want %v", c.term, from, got, want)
			}
		}
		tr, err := fr.TermFieldReader(ctx, []byte(c.term), c.field, true, true, false)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Count() != uint64(len(all)) {
			t.Errorf("%s: count %d, want the whole index's %d", c.term, tr.Count(), len(all))
		}
		tr.Close()
	}
}
