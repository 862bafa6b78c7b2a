package search

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// TestRowKeepsHit: a row gives back the Hit it was made of, pointers,
// ROME lists (none, one empty code, several) and time included.
func TestRowKeepsHit(t *testing.T) {
	left := 3
	updated, _ := time.Parse(time.RFC3339, "2026-11-30T08:15:42Z")
	for _, h := range []Hit{
		{ID: 7, Type: TypePost, Subtype: "", Title: "Agent d'entretien", Parent: "Mairie de Lyon", City: "Lyon",
			Departement: "69", ROME: []string{"K2204", "A1203"}, Status: "open", Location: &atigip.Point{Lon: 4.835, Lat: 45.764},
			PlacesLeft: &left, Updated: updated},
		{ID: 8, Type: TypeOrganisation, Title: "Mairie de Lyon", ROME: []string{""}, Updated: updated},
		{ID: 9, Type: TypeFloorSpace, Title: "Atelier", PlacesLeft: new(int)},
	} {
		p := newStrPool()
		r := newRow(p, h)
		if got := r.hit(p); !reflect.DeepEqual(got, h) {
			t.Errorf("row of %+v gives %+v", h, got)
		}
	}
}

// TestTablePoolForgetsStrings: rows rewritten again and again keep the
// string pool at the strings the live rows use, and a deleted row's
// strings go, shared ones staying while a row uses them.
func TestTablePoolForgetsStrings(t *testing.T) {
	tb := newFilterTable()
	doc := func(title string) document {
		return document{Type: string(TypePost), Title: title, Parent: "Mairie de Lyon", City: "Lyon",
			Departement: "69", Status: "open", Updated: time.Unix(1e9, 0), UpdatedKey: "20010909014640"}
	}
	tb.put("post:1", doc("Jardinier"))
	for i := range 100 {
		tb.put("post:2", doc("Peintre "+strconv.Itoa(i)))
	}
	// post, Jardinier, Peintre 99, Mairie de Lyon, Lyon, 69, open.
	if live := len(tb.pool.of); live != 7 {
		t.Fatalf("%d strings numbered after 100 rewrites, want 7", live)
	}
	if len(tb.pool.strs) > 9 {
		t.Fatalf("pool grew to %d numbers for 7 strings", len(tb.pool.strs))
	}
	tb.delete("post:2")
	if _, ok := tb.pool.of["Peintre 99"]; ok {
		t.Fatal("a deleted row's title stays numbered")
	}
	s, ok := tb.slot("post:1")
	if h := tb.rows[s].hit(tb.pool); !ok || h.Title != "Jardinier" || h.Parent != "Mairie de Lyon" || h.City != "Lyon" {
		t.Fatalf("the remaining row reads %+v", h)
	}
}
