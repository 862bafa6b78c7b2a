package httpapi

import (
	"context"
	"encoding/csv"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/embedlink"
	"github.com/atigip/atigip360/internal/workflow/wftest"
)

// embedSecret is the secret the tests share with their stand-in Axelor.
const embedSecret = "axelor-embed-secret-for-tests-0123456789"

var (
	frameOnce sync.Once
	frameLn   net.Listener
	frameErr  error
)

// referentFrameListener is the listener of the page standing for Axelor
// in the browser test: reserved before the shared site starts, so that
// the site can name its origin in frame-ancestors.
func referentFrameListener() (net.Listener, error) {
	frameOnce.Do(func() { frameLn, frameErr = net.Listen("tcp", "127.0.0.1:0") })
	return frameLn, frameErr
}

func referentFrameOrigin() string {
	ln, err := referentFrameListener()
	if err != nil {
		return ""
	}
	return "http://" + ln.Addr().String()
}

// referentWorld is wftest's world (a partner in Lyon with an open post,
// a measure to place in Lyon) plus a measure waiting in Gap, far from
// any open post.
func referentWorld(t *testing.T) (*testEnv, *wftest.World) {
	return referentWorldWith(t, &ReferentModule{EmbedSecret: []byte(embedSecret), EmbedOrigin: "https://crm.example.fr"})
}

// referentWorldWith is referentWorld served by m.
func referentWorldWith(t *testing.T, module *ReferentModule) (*testEnv, *wftest.World) {
	store := wftest.SQLite(t)
	w := wftest.Build(t, store)
	ctx := context.Background()
	gap := atigip.Address{Postcode: "05000", City: "Gap", Commune: "05061", Departement: "05"}
	far := &atigip.Person{Pseudonym: "TIG-0002", CaseSystem: "APPI", CaseRef: "P0002", HomeAddress: gap}
	if err := store.Entities(atigip.KindPerson).Create(ctx, far); err != nil {
		t.Fatal(err)
	}
	m := &atigip.Measure{PersonID: far.ID, CaseRef: "M0002", HoursOrdered: 20, SentenceDate: atigip.DateOf(time.Now().AddDate(0, -1, 0)),
		State: atigip.MeasureToPlace, Departement: "05"}
	if err := store.Entities(atigip.KindMeasure).Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, store, func(o *Options) { o.Modules = []Module{HomeModule{}, module} })
	return env, w
}

func signedLink(partner int64, sub string, expires time.Time) string {
	return signedAt("/referent/partenaires/", partner, sub, expires)
}

// signedAt is a signed link to prefix+partner, as Axelor builds it.
func signedAt(prefix string, partner int64, sub string, expires time.Time) string {
	return prefix + strconv.FormatInt(partner, 10) + "?" +
		embedlink.Query([]byte(embedSecret), embedlink.Link{Partner: partner, Expires: expires.Truncate(time.Second), Subject: sub})
}

// TestReferentPartnerDoors checks each way into the embeddable page: the
// session of the roles, Axelor's signed link, and the refusals.
func TestReferentPartnerDoors(t *testing.T) {
	env, w := referentWorld(t)
	id := w.Org.ID
	// The partner is synced from Axelor's partner 4242.
	w.Org.CRMID = 4242
	if err := atigip.Of[*atigip.Organisation](env.store).Update(context.Background(), w.Org); err != nil {
		t.Fatal(err)
	}
	path := "/referent/partenaires/" + strconv.FormatInt(id, 10)
	now := time.Now()
	cases := []struct {
		name    string
		target  string
		role    atigip.Role
		dep     string
		status  int
		want    []string
		absent  []string
		embedOK bool // framing by Axelor allowed
	}{
		{"referent session", path, atigip.RoleReferent, "", 200,
			[]string{"Mairie de Lyon", "Entretien des espaces verts", "Synchronisation non configurée", "fr-header"}, nil, true},
		{"dspip of the département", path, atigip.RoleDSPIP, "69", 200, []string{"Mairie de Lyon"}, nil, true},
		{"referent session, inside Axelor", path + "?integre=1", atigip.RoleReferent, "", 200, []string{"Mairie de Lyon"}, []string{"fr-header"}, true},
		{"dspip of another département", path, atigip.RoleDSPIP, "13", 404, nil, []string{"Mairie de Lyon"}, true},
		{"cpip without link", path, atigip.RoleCPIP, "69", 403, []string{"Accès refusé"}, []string{"Mairie de Lyon"}, true},
		{"anonymous without link", path, "", "", 403, []string{"Accès refusé", "Se connecter"}, []string{"Mairie de Lyon"}, true},
		{"valid signed link", signedLink(id, "referent.lyon", now.Add(5*time.Minute)), "", "", 200,
			[]string{"Mairie de Lyon", "Entretien des espaces verts", `class="integre"`}, []string{"fr-header", `href="/postes/`}, true},
		{"expired link", signedLink(id, "referent.lyon", now.Add(-time.Minute)), "", "", 403, []string{"Lien expiré"}, []string{"Mairie de Lyon"}, true},
		{"link of another partner", strings.Replace(signedLink(id+1, "referent.lyon", now.Add(5*time.Minute)),
			"/partenaires/"+strconv.FormatInt(id+1, 10), "/partenaires/"+strconv.FormatInt(id, 10), 1), "", "", 403,
			[]string{"Lien invalide"}, []string{"Mairie de Lyon"}, true},
		{"signed link by Axelor's id", signedAt("/referent/axelor/", 4242, "referent.lyon", now.Add(5*time.Minute)), "", "", 200,
			[]string{"Mairie de Lyon"}, []string{"fr-header"}, true},
		{"link over our id on Axelor's route", signedAt("/referent/axelor/", id, "referent.lyon", now.Add(5*time.Minute)), "", "", 404,
			nil, []string{"Mairie de Lyon"}, true},
		{"unknown Axelor partner, in session", "/referent/axelor/999", atigip.RoleReferent, "", 404, []string{"Axelor"}, nil, true},
		{"link too long-lived", signedLink(id, "referent.lyon", now.Add(2*time.Hour)), "", "", 403, []string{"Lien invalide"}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := ""
			if tc.role != "" {
				tok = env.token(atigip.Principal{Subject: "u", Role: tc.role, Departement: tc.dep})
			}
			res := env.page(tc.target, tok)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %.400s", res.status, tc.status, res.body)
			}
			pageHas(t, res.body, tc.want, tc.absent)
			if csp := res.header.Get("Content-Security-Policy"); csp != "frame-ancestors 'self' https://crm.example.fr" {
				t.Errorf("CSP %q", csp)
			}
		})
	}
	t.Run("audited under the Axelor user", func(t *testing.T) {
		// The measure of the world is to place, not hosted: no measure is
		// read, so nothing to audit; the page still names no person.
		res := env.page(signedLink(id, "referent.lyon", now.Add(5*time.Minute)), "")
		if strings.Contains(string(res.body), "TIG-0001") {
			t.Fatal("a person's pseudonym on the partner page")
		}
	})
}

func TestReferentProspection(t *testing.T) {
	env, _ := referentWorld(t)
	tok := env.token(atigip.Principal{Subject: "r", Role: atigip.RoleReferent})
	res := env.page("/referent/prospection?departement=05&loin=1", tok)
	if res.status != 200 {
		t.Fatalf("status %d: %.300s", res.status, res.body)
	}
	for _, s := range []string{"Gap", "Éloignée", "1\u00a0mesure en attente", "frame-ancestors"} {
		if s == "frame-ancestors" {
			if res.header.Get("Content-Security-Policy") != "frame-ancestors 'self'" || res.header.Get("X-Frame-Options") != "SAMEORIGIN" {
				t.Errorf("framing headers %v", res.header)
			}
			continue
		}
		if !strings.Contains(string(res.body), s) {
			t.Errorf("page lacks %q", s)
		}
	}
	res = env.page("/referent/prospection?departement=69&format=csv", tok)
	rows, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
	if err != nil || res.status != 200 {
		t.Fatalf("CSV %d %v", res.status, err)
	}
	var lyon []string
	for _, r := range rows[1:] {
		if r[0] == "69123" {
			lyon = r
		}
		if r[2] != "69" {
			t.Fatalf("a commune of %s in the 69's list", r[2])
		}
	}
	// Lyon (the post is in an arrondissement, counted in its commune):
	// one post, open, one measure waiting, not far.
	if lyon == nil || lyon[4] != "1" || lyon[5] != "1" || lyon[8] != "false" || lyon[9] != "1" {
		t.Fatalf("Lyon row %v", lyon)
	}
	res = env.page("/referent/prospection?vue=departements&format=csv", tok)
	if !strings.Contains(string(res.body), "\n05,") {
		t.Errorf("départements CSV lacks the 05:\n%.300s", res.body)
	}
	t.Run("a DSPIP counts the waiting measures of its département only", func(t *testing.T) {
		res := env.page("/referent/prospection?departement=05&loin=1", env.token(atigip.Principal{Subject: "d", Role: atigip.RoleDSPIP, Departement: "69"}))
		if !strings.Contains(string(res.body), "0\u00a0mesure en attente") {
			t.Errorf("waiting measures of another département counted: %.2000s", res.body)
		}
	})
	t.Run("bad format", func(t *testing.T) {
		if res := env.page("/referent/prospection?format=xls", tok); res.status != 400 {
			t.Errorf("status %d", res.status)
		}
	})
}

func TestIndicatorsPage(t *testing.T) {
	env, _ := referentWorld(t)
	tok := env.token(atigip.Principal{Subject: "d", Role: atigip.RoleDSPIP})
	res := env.page("/indicateurs", tok)
	if res.status != 200 {
		t.Fatalf("status %d: %.300s", res.status, res.body)
	}
	for _, s := range []string{"<svg", "<title id=\"postes-mois-titre\">", "Postes de TIG offerts", "19\u202f000", "31\u202f000",
		"15,8\u00a0%", "19,86\u00a0%", "Tableau des données", "/indicateurs/postes-territoire.csv", "Auvergne-Rhône-Alpes"} {
		if !strings.Contains(string(res.body), s) {
			t.Errorf("page lacks %q", s)
		}
	}
	res = env.page("/indicateurs?region=84", tok)
	if !strings.Contains(string(res.body), "69 — Rhône") || !strings.Contains(string(res.body), "/indicateurs/postes-territoire.csv?region=84") {
		t.Errorf("région page lacks its départements")
	}
	for _, tc := range []struct{ path, want string }{
		{"/indicateurs/cibles.csv", "postes_tig,Postes de TIG offerts,postes,19000,31000,1,0"},
		{"/indicateurs/postes-territoire.csv", "84,Auvergne-Rhône-Alpes,1,1"},
		{"/indicateurs/postes-territoire.csv?region=84", "69,69 — Rhône,1,1"},
		{"/indicateurs/delai-mois.csv", "mois,libelle,delai_median_mois,mesures_commencees"},
	} {
		res := env.page(tc.path, tok)
		if res.status != 200 || !strings.Contains(string(res.body), tc.want) {
			t.Errorf("%s: %d %s", tc.path, res.status, res.body)
		}
	}
	if res := env.page("/indicateurs/inconnu.csv", tok); res.status != 404 {
		t.Errorf("unknown chart: %d", res.status)
	}
}

func TestReferentHomeCards(t *testing.T) {
	env, _ := referentWorld(t)
	for _, tc := range []struct {
		role   atigip.Role
		want   []string
		absent []string
	}{
		{atigip.RoleReferent, []string{"Structures partenaires", "Prospection", "communes éloignées",
			"0\u00a0mesure en attente faute de poste proche", "Indicateurs du contrat", "1\u00a0poste de TIG offert"}, nil},
		{atigip.RoleCPIP, []string{"Indicateurs du contrat"}, []string{"Prospection"}},
		{atigip.RoleHost, nil, []string{"Prospection", "Indicateurs du contrat"}},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			res := env.page("/espace", env.token(atigip.Principal{Subject: "u", Role: tc.role, Departement: "69", OrganisationID: 1}))
			pageHas(t, res.body, tc.want, tc.absent)
		})
	}
}

// pageHas checks that body holds every string of want and none of absent.
func pageHas(t *testing.T, body []byte, want, absent []string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(string(body), s) {
			t.Errorf("page lacks %q", s)
		}
	}
	for _, s := range absent {
		if strings.Contains(string(body), s) {
			t.Errorf("page shows %q", s)
		}
	}
}
