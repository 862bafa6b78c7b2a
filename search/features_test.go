package search

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

// emptyStore is a migrated, empty SQLite store.
func emptyStore(tb testing.TB) *sqlite.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "atigip.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

var rennes = atigip.Address{City: "Rennes", Postcode: "35000", Commune: "35238", Departement: "35", Region: "53"}

func weekdays() atigip.Schedule {
	return atigip.Schedule{Slots: []atigip.Slot{{Day: 1, Start: "09:00", End: "12:00"}, {Day: 3, Start: "09:00", End: "12:00"}}}
}

// handStore holds a few posts written so that each feature of the
// analyzer or of the query is the only way some query can find them.
func handStore(tb testing.TB) (*sqlite.DB, map[string]int64) {
	tb.Helper()
	ctx := context.Background()
	db := emptyStore(tb)
	org := &atigip.Organisation{Name: "Mairie de Rennes", OrgKind: atigip.OrgCommune, Address: rennes,
		Location: atigip.Point{Lon: -1.68, Lat: 48.11}, Active: true,
		Habilitation: atigip.Habilitation{Status: atigip.HabHabilitated}}
	if err := db.Entities(atigip.KindOrganisation).Create(ctx, org); err != nil {
		tb.Fatal(err)
	}
	post := func(title, desc, rome string, vis atigip.Visibility, st atigip.PostStatus) *atigip.Post {
		return &atigip.Post{OrganisationID: org.ID, Title: title, Description: desc, ROMECodes: []string{rome},
			Places: 2, Schedule: weekdays(), Address: rennes, Location: atigip.Point{Lon: -1.67, Lat: 48.1},
			Status: st, Visibility: vis}
	}
	posts := map[string]*atigip.Post{
		"ecurie":    post("Soins aux chevaux de l'écurie municipale", "Nettoyage des box et pansage.", "A1501", atigip.VisibilityPublic, atigip.PostOpen),
		"fete":      post("Préparation de la fête du quartier", "Installation des stands et des tables.", "G1202", atigip.VisibilityPublic, atigip.PostOpen),
		"massifs":   post("Entretien des massifs", "Taille des haies et désherbage du cimetière.", "A1203", atigip.VisibilityPublic, atigip.PostOpen),
		"velo":      post("L'atelier vélo solidaire", "Remise en état de bicyclettes données.", "I1607", atigip.VisibilityPublic, atigip.PostOpen),
		"archives":  post("Classement des archives du tribunal", "Poste réservé aux professionnels.", "M1602", atigip.VisibilityJustice, atigip.PostOpen),
		"brouillon": post("Peinture de la salle polyvalente", "Brouillon non publié.", "F1606", atigip.VisibilityPublic, atigip.PostDraft),
	}
	ids := map[string]int64{}
	for k, p := range posts {
		if err := db.Entities(atigip.KindPost).Create(ctx, p); err != nil {
			tb.Fatalf("create %s: %v", k, err)
		}
		ids[k] = p.ID
	}
	person := &atigip.Person{Pseudonym: "ZORGLUB-1234", CaseSystem: "APPI", CaseRef: "APPI-77-0042",
		Wishes: "jardinier à l'écurie municipale", Experience: "chevaux, fête, atelier vélo"}
	if err := db.Entities(atigip.KindPerson).Create(ctx, person); err != nil {
		tb.Fatal(err)
	}
	return db, ids
}

func hitIDs(res *Result) []int64 {
	ids := make([]int64, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids
}

// TestLanguageFeatures checks each language feature with a query that only
// that feature can answer: a word too short for typo tolerance for
// accents, a distance beyond one typo for plurals and elision, a
// misspelling for typos, a job title absent from the text for synonyms.
func TestLanguageFeatures(t *testing.T) {
	db, ids := handStore(t)
	ix := builtIndex(t, db, "")
	tests := []struct {
		feature, q, want string
	}{
		{"accent folded in the query", "fete", "fete"},
		{"accent and case folded", "FÊTES", "fete"},
		{"accent folded in the text", "ecurie", "ecurie"},
		{"upper-case plural", "ÉCURIES", "ecurie"},
		{"elision in the text", "atelier", "velo"},
		{"elision in the query", "d'atelier", "velo"},
		{"plural -aux", "cheval", "ecurie"},
		{"plural -s", "haie", "massifs"},
		{"typo, 1 edit", "cimetire", "massifs"},
		{"typo, 2 edits in a long word", "desherbbaje", "massifs"},
		{"ROME synonym", "jardinier", "massifs"},
		{"ROME synonym, feminine", "jardinière", "massifs"},
		{"ROME synonym with a typo", "jardinnier", "massifs"},
		{"phrase", `"taille des haies"`, "massifs"},
	}
	for _, tt := range tests {
		t.Run(tt.feature, func(t *testing.T) {
			res, err := ix.Search(context.Background(), Request{Query: tt.q})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Hits) == 0 || res.Hits[0].ID != ids[tt.want] {
				t.Errorf("Search(%q) = %v, want post %q (%d) first", tt.q, hitIDs(res), tt.want, ids[tt.want])
			}
		})
	}
	t.Run("no false friend", func(t *testing.T) {
		for _, q := range []string{"jardinier", "cheval", "fete"} {
			res, err := ix.Search(context.Background(), Request{Query: q})
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(hitIDs(res), ids["velo"]) {
				t.Errorf("Search(%q) found the bicycle workshop", q)
			}
		}
	})
}

// TestPhrases checks quoted phrases: their words must follow each other
// in one field, stop words standing between them as in the text.
func TestPhrases(t *testing.T) {
	db, ids := handStore(t)
	ix := builtIndex(t, db, "")
	tests := []struct {
		q    string
		want bool // finds the hedge-trimming post
	}{
		{`"taille des haies"`, true},
		{`« Taille des haies et désherbage »`, true},
		{`"des haies"`, true},
		{`"désherbage du cimetière"`, true},
		{`"entretien des massifs"`, true}, // title
		{`"haies taille"`, false},
		{`"taille haies"`, false},
		{`"cimetière désherbage"`, false},
		{`"massifs cimetière"`, false}, // words of the title and the body
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			res, err := ix.Search(context.Background(), Request{Query: tt.q})
			if err != nil {
				t.Fatal(err)
			}
			got := slices.ContainsFunc(res.Hits, func(h Hit) bool { return h.Type == TypePost && h.ID == ids["massifs"] })
			if got != tt.want {
				t.Errorf("Search(%s) found the post: %v, want %v (hits %v)", tt.q, got, tt.want, hitIDs(res))
			}
		})
	}
}

// TestHighlights checks the fragments of the returned hits: the matched
// word of the original (accented) text is marked, whatever the language
// feature that matched it, and nothing is marked where only a ROME code
// matched.
func TestHighlights(t *testing.T) {
	db, ids := handStore(t)
	ix := builtIndex(t, db, "")
	tests := []struct {
		name, q, want, field, mark string // mark "" means no highlight at all
		sort                       string
	}{
		{"accent and plural", "FÊTES", "fete", fTitle, "<mark>fête</mark>", ""},
		{"typo", "cimetire", "massifs", fBody, "<mark>cimetière</mark>", ""},
		{"phrase", `"taille des haies"`, "massifs", fBody, "<mark>Taille</mark> des <mark>haies</mark>", ""},
		{"elision", "d'atelier", "velo", fTitle, "<mark>L&#39;atelier</mark>", ""},
		{"date sort", "écurie", "ecurie", fTitle, "<mark>l&#39;écurie</mark>", SortDate},
		{"organisation name", "mairie", "fete", fParent, "<mark>Mairie</mark>", ""},
		{"ROME code only", "jardinier", "massifs", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ix.Search(context.Background(), Request{Query: tt.q, Sort: tt.sort, PerPage: 10})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(res.Hits, func(h Hit) bool { return h.Type == TypePost && h.ID == ids[tt.want] })
			if i < 0 {
				t.Fatalf("Search(%q) = %v, want post %q among the hits", tt.q, hitIDs(res), tt.want)
			}
			h := res.Hits[i].Highlights
			if tt.mark == "" {
				if len(h) > 0 {
					t.Errorf("highlights %v, want none", h)
				}
				return
			}
			if !slices.ContainsFunc(h[tt.field], func(f string) bool { return strings.Contains(f, tt.mark) }) {
				t.Errorf("highlights %v, want %q in %s", h, tt.mark, tt.field)
			}
		})
	}
}

func TestAudience(t *testing.T) {
	db, ids := handStore(t)
	ix := builtIndex(t, db, "")
	ctx := context.Background()
	tests := []struct {
		role       atigip.Role
		q          string
		want, hide []string
	}{
		{atigip.RolePublic, "archives", nil, []string{"archives"}},
		{atigip.RoleBusiness, "archives tribunal", nil, []string{"archives"}},
		{atigip.RolePublic, "peinture", nil, []string{"brouillon"}},
		{atigip.RoleCPIP, "archives", []string{"archives"}, nil},
		{atigip.RoleMagistrate, "archives", []string{"archives"}, nil},
		{atigip.RoleReferent, "peinture", []string{"brouillon"}, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+" "+tt.q, func(t *testing.T) {
			res, err := ix.Search(ctx, Request{Query: tt.q, Role: tt.role})
			if err != nil {
				t.Fatal(err)
			}
			got := hitIDs(res)
			for _, w := range tt.want {
				if !slices.Contains(got, ids[w]) {
					t.Errorf("%s does not see %s: %v", tt.role, w, got)
				}
			}
			for _, h := range tt.hide {
				if slices.Contains(got, ids[h]) {
					t.Errorf("%s sees %s: %v", tt.role, h, got)
				}
			}
			for _, h := range res.Hits {
				if (h.PlacesLeft != nil) != (tt.role.Audience() == atigip.AudienceJustice) {
					t.Errorf("%s: places left shown = %v", tt.role, h.PlacesLeft != nil)
				}
			}
		})
	}
}

// TestPeopleNeverIndexed searches the person's pseudonym, case reference
// and profile words as the most privileged role: nothing of a person may
// come back, since the index must not hold personal data at all.
func TestPeopleNeverIndexed(t *testing.T) {
	db, _ := handStore(t)
	ix := builtIndex(t, db, "")
	for _, q := range []string{"ZORGLUB-1234", "ZORGLUB", "APPI-77-0042", "0042"} {
		res, err := ix.Search(context.Background(), Request{Query: q, Role: atigip.RoleDSPIP})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 0 {
			t.Errorf("Search(%q) = %d hits, want none", q, res.Total)
		}
	}
	n, err := ix.DocCount()
	if err != nil {
		t.Fatal(err)
	}
	if n != 7 { // 1 organisation + 6 posts
		t.Errorf("DocCount = %d, want 7 (people are not indexed)", n)
	}
}
