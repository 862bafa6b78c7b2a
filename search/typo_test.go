package search

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// mechanicCodes are the ROME codes most of whose job titles are
// mechanics' ("mécanicien"): fourteen, more than the old cap of ten.
var mechanicCodes = []string{"I1602", "I1605", "I1310", "I1604", "I1613", "I1607", "I1603",
	"I1616", "I1618", "H2423", "K1718", "K1724", "I1620", "I1624"}

// typoStore holds the documents of each typo failure of issue 12: a
// word one typo from a query word that must not be found, next to the
// posts the query means.
func typoStore(tb testing.TB) (atigip.Store, map[string][]int64) {
	tb.Helper()
	ctx := context.Background()
	db := emptyStore(tb)
	at := func(insee string) (atigip.Address, atigip.Point) {
		c, ok := refdata.CommuneByINSEE(insee)
		if !ok {
			tb.Fatalf("commune %s", insee)
		}
		return atigip.Address{City: c.NameWithArticle, Postcode: c.Postcode, Commune: c.INSEE, Departement: c.Departement,
			Region: c.Region}, atigip.Point{Lon: c.Lon, Lat: c.Lat}
	}
	ids := map[string][]int64{}
	org := func(key, name, insee string) *atigip.Organisation {
		a, pt := at(insee)
		o := &atigip.Organisation{Name: name, OrgKind: atigip.OrgCommune, Address: a, Location: pt, Active: true,
			Habilitation: atigip.Habilitation{Status: atigip.HabHabilitated}}
		if err := db.Entities(atigip.KindOrganisation).Create(ctx, o); err != nil {
			tb.Fatal(err)
		}
		ids[key] = append(ids[key], o.ID)
		return o
	}
	post := func(key string, o *atigip.Organisation, title, desc string, rome ...string) {
		p := &atigip.Post{OrganisationID: o.ID, Title: title, Description: desc, ROMECodes: rome, Places: 2,
			Schedule: weekdays(), Address: o.Address, Location: o.Location, Status: atigip.PostOpen,
			Visibility: atigip.VisibilityPublic}
		if err := db.Entities(atigip.KindPost).Create(ctx, p); err != nil {
			tb.Fatal(err)
		}
		ids[key] = append(ids[key], p.ID)
	}
	rennes := org("rennes", "Association d'entraide de Rennes", "35238")
	ploneis := org("ploneis", "Mairie de Plonéis", "29173")
	org("trieux", "Mairie de Trieux", "54533")
	post("information", rennes, "Agent d'information et d'orientation", "Informer les usagers de la médiathèque.", "M1601")
	post("information", rennes, "Point information jeunesse", "Information des jeunes.", "M1601")
	post("ploneis", ploneis, "Entretien du cimetière", "Désherbage des allées.", "A1203")
	for i := range 3 {
		post("plombier", rennes, fmt.Sprintf("Réparation des sanitaires %d", i), "Robinets et chasses d'eau des écoles.", "F1603")
		post("trieur", rennes, fmt.Sprintf("Tri à la ressourcerie %d", i), "Séparer les objets par matière.", "K2304")
		post("animateur", rennes, fmt.Sprintf("Animateur / Animatrice d'ateliers %d", i), "Jeux de société avec les aînés.", "G1202")
		post("bibliotheque", rennes, fmt.Sprintf("Rangement des livres %d", i), "Ranger les rayons, couvrir les livres.", "K1601")
	}
	post("bibliotheque", rennes, "Agent de bibliothèque", "Prêt et retour des ouvrages.", "K1601")
	for _, c := range mechanicCodes {
		post("mecanicien", rennes, "Poste en atelier "+c, "Travail sur machines et véhicules.", c)
	}
	return db, ids
}

// TestTypos holds a test for each typo failure of issue 12, each on
// documents made so that the failure would show.
func TestTypos(t *testing.T) {
	db, ids := typoStore(t)
	ix := builtIndex(t, db, "")
	search := func(t *testing.T, q string) []int64 {
		res, err := ix.Search(context.Background(), Request{Query: q, Types: []Type{TypePost, TypeOrganisation}, PerPage: MaxPerPage})
		if err != nil {
			t.Fatal(err)
		}
		return hitIDs(res)
	}
	// first checks that the hits start with every document of want (in any
	// order) and that none of avoid is found.
	first := func(t *testing.T, q, want string, avoid ...string) {
		t.Helper()
		got := search(t, q)
		if n := len(ids[want]); len(got) < n || !slices.ContainsFunc(got[:n], func(id int64) bool { return slices.Contains(ids[want], id) }) {
			t.Errorf("%q = %v, want the %s documents %v first", q, got, want, ids[want])
		} else {
			for _, id := range got[:n] {
				if !slices.Contains(ids[want], id) {
					t.Errorf("%q = %v, want the %s documents %v first", q, got, want, ids[want])
					break
				}
			}
		}
		for _, a := range avoid {
			for _, id := range ids[a] {
				if slices.Contains(got, id) {
					t.Errorf("%q found %s document %d: %v", q, a, id, got)
				}
			}
		}
	}
	t.Run("infirmier does not find information", func(t *testing.T) {
		if got := search(t, "infirmier"); len(got) != 0 {
			t.Errorf("infirmier = %v, want nothing (no nurse's post here)", got)
		}
	})
	t.Run("plombier finds plumbers, not the Mairie de Plonéis", func(t *testing.T) {
		first(t, "plombier", "plombier", "ploneis")
	})
	t.Run("trieur finds sorters before the commune of Trieux", func(t *testing.T) {
		first(t, "trieur", "trieur")
	})
	t.Run("a transposition is one typo", func(t *testing.T) {
		first(t, "animatuer", "animateur")
		first(t, "aniamteur", "animateur")
	})
	t.Run("a typo in a multi-word title keeps its ROME expansion", func(t *testing.T) {
		first(t, "agent de bibliotèque", "bibliotheque")
	})
	t.Run("no typo tolerated in a short word", func(t *testing.T) {
		if got := search(t, "trei"); len(got) != 0 { // not "tri"
			t.Errorf("trei = %v, want nothing", got)
		}
	})
	t.Run("mécanicien expands to every mechanics code", func(t *testing.T) {
		first(t, "mécanicien", "mecanicien")
	})
}

// TestRealWordTypo checks on the demo set that a typo making another word
// that the index holds is corrected when the intended word is far more
// frequent: "aide jardiner" means « aide jardinier ».
func TestRealWordTypo(t *testing.T) {
	db := openStore(t, testScale)
	ix := builtIndex(t, db, "")
	ctx := context.Background()
	for _, q := range []string{"aide jardiner", "jardiner"} {
		res, err := ix.Search(ctx, Request{Query: q, PerPage: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) < 5 {
			t.Fatalf("%q: %d hits", q, len(res.Hits))
		}
		for _, h := range res.Hits[:5] {
			if !slices.ContainsFunc(h.ROME, func(c string) bool { return strings.HasPrefix(c, "A12") }) {
				t.Errorf("%q: hit %q %v is no gardener's post", q, h.Title, h.ROME)
			}
		}
	}
	adv, err := ix.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	syn := romeSynonyms()
	for _, tt := range []struct {
		word string
		want []string // the readings after the one as typed
	}{
		{"jardinnier", []string{"jardinier"}},
		{"animatuer", []string{"animateur"}},
		{"trieur", nil},   // a job, not a typo of Trieux
		{"plombier", nil}, // a job, not a typo of Plonéis
		{"peintre", nil},
		{"tri", nil},
	} {
		var got []string
		for _, sp := range spell(r, syn, tt.word)[1:] {
			got = append(got, sp.text)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("spell(%q) = %v, want %v", tt.word, got, tt.want)
		}
	}
}
