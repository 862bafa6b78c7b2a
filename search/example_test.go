package search_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/store/sqlite"
	"github.com/atigip/atigip360/search"
)

// A post coded A1203 (espaces verts) is found by "jardinier", a word its
// text does not contain, through the job titles of the ROME.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "search-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "atigip.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	addr := atigip.Address{City: "Rennes", Commune: "35238", Departement: "35", Region: "53"}
	org := &atigip.Organisation{Name: "Mairie de Rennes", OrgKind: atigip.OrgCommune, Address: addr, Active: true,
		Habilitation: atigip.Habilitation{Status: atigip.HabHabilitated}}
	if err := store.Entities(atigip.KindOrganisation).Create(ctx, org); err != nil {
		log.Fatal(err)
	}
	post := &atigip.Post{OrganisationID: org.ID, Title: "Entretien des massifs du parc du Thabor",
		ROMECodes: []string{"A1203"}, Places: 2, Address: addr, Location: atigip.Point{Lon: -1.67, Lat: 48.11},
		Status: atigip.PostOpen, Visibility: atigip.VisibilityPublic}
	if err := store.Entities(atigip.KindPost).Create(ctx, post); err != nil {
		log.Fatal(err)
	}

	ix, err := search.Open(filepath.Join(dir, "search.bleve"), search.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.CatchUp(ctx, store); err != nil { // first run: a full build
		log.Fatal(err)
	}
	res, err := ix.Search(ctx, search.Request{Query: "jardinier", Role: atigip.RolePublic})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range res.Hits {
		fmt.Println(h.Type, h.Title, "—", h.City)
	}
	// Output: post Entretien des massifs du parc du Thabor — Rennes
}
