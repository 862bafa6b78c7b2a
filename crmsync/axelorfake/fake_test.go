package axelorfake

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

func TestSeed(t *testing.T) {
	s := New(Options{})
	s.Seed(2000, 9)
	var contacts, archived, noCoords, neverUpdated, minuteOnly int
	for _, p := range s.Partners() {
		if p.RegistrationCode != "" && !atigip.ValidSIRET(p.RegistrationCode) {
			t.Fatalf("partner %d: invalid SIRET %s", p.ID, p.RegistrationCode)
		}
		if p.IsContact {
			contacts++
		}
		if p.Archived {
			archived++
		}
		if p.Lat == nil {
			noCoords++
		}
		if p.UpdatedOn == nil {
			neverUpdated++
		} else if p.UpdatedOn.Second() == 0 && p.UpdatedOn.Nanosecond() == 0 {
			minuteOnly++
		}
		if len(p.Zip) != 5 || p.City == "" || p.Street == "" {
			t.Fatalf("partner %d address %q %q %q", p.ID, p.Street, p.Zip, p.City)
		}
	}
	for name, n := range map[string]int{"contacts": contacts, "archived": archived, "without coordinates": noCoords,
		"never updated": neverUpdated, "minute-only": minuteOnly} {
		if n == 0 {
			t.Errorf("no %s in the seed", name)
		}
	}
}

func TestFormatDateTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 3, 4, 10, 15, 0, 0, time.UTC), "2026-03-04T10:15Z"},
		{time.Date(2026, 3, 4, 10, 15, 30, 0, time.UTC), "2026-03-04T10:15:30Z"},
		{time.Date(2026, 3, 4, 10, 15, 30, 120_000_000, time.UTC), "2026-03-04T10:15:30.120Z"},
		{time.Date(2026, 3, 4, 10, 15, 30, 123_456_000, time.UTC), "2026-03-04T10:15:30.123456Z"},
		{time.Date(2026, 3, 4, 10, 15, 0, 1, time.UTC), "2026-03-04T10:15:00.000000001Z"},
	}
	for _, tt := range tests {
		if got := formatDateTime(tt.in); got != tt.want {
			t.Errorf("%v: got %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestCommunes checks the cities taken from refdata: distinct, most
// populous first, Paris by arrondissement under its city's name.
func TestCommunes(t *testing.T) {
	cs := Communes()
	if len(cs) != numCities {
		t.Fatalf("%d cities, want %d", len(cs), numCities)
	}
	seen := map[string]bool{}
	prev := math.MaxInt
	for _, c := range cs {
		rc, ok := refdata.CommuneByINSEE(c.Insee)
		if !ok || seen[c.Insee] || c.Postcode != rc.Postcode || c.Dep != rc.Departement || c.Lat != rc.Lat || c.Lng != rc.Lon {
			t.Fatalf("city %+v: not the refdata commune %+v (or twice)", c, rc)
		}
		if rc.Population > prev {
			t.Fatalf("%s (%d inhabitants) after a smaller commune (%d)", c.Name, rc.Population, prev)
		}
		seen[c.Insee], prev = true, rc.Population
	}
	for _, tt := range []struct{ insee, name, zip string }{
		{"75115", "Paris", "75015"}, {"31555", "Toulouse", "31000"}, {"69383", "Lyon", "69003"},
	} {
		t.Run(tt.insee, func(t *testing.T) {
			i := slices.IndexFunc(cs, func(c Commune) bool { return c.Insee == tt.insee })
			if i < 0 || cs[i].Name != tt.name || cs[i].Postcode != tt.zip {
				t.Fatalf("city %s: %+v", tt.insee, cs)
			}
		})
	}
	if seen["75056"] || seen["69123"] || seen["13055"] {
		t.Error("whole Paris, Lyon or Marseille listed beside their arrondissements")
	}
	cs[0].Name = "changed"
	if Communes()[0].Name == "changed" {
		t.Error("Communes shares its slice with the caller")
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Saint-Étienne": "saint-etienne", "Marcq-en-Barœul": "marcq-en-baroeul",
		"L'Haÿ-les-Roses": "l-hay-les-roses", "Aix-en-Provence": "aix-en-provence",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScaleDecimal(t *testing.T) {
	for in, want := range map[string]string{"45.7597": "45.759700000000000000", "-1.5": "-1.500000000000000000", "4": "4.000000000000000000"} {
		if got, ok := scaleDecimal(in); !ok || got != want {
			t.Errorf("%s: %s %v", in, got, ok)
		}
	}
	if _, ok := scaleDecimal("abc"); ok {
		t.Error("abc accepted")
	}
}

// call logs in and posts body to path, returning the decoded answer.
func call(t *testing.T, srv *httptest.Server, method, path, body string) map[string]any {
	t.Helper()
	login, _ := http.NewRequest(http.MethodPost, srv.URL+"/callback", strings.NewReader(`{"username":"admin","password":"admin"}`))
	login.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(login)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(method, srv.URL+path, bytes.NewBufferString(body))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return m
}

func TestQuirks(t *testing.T) {
	s := New(Options{})
	s.Seed(120, 3)
	srv := httptest.NewServer(s)
	defer srv.Close()
	archived := 0
	for _, p := range s.Partners() {
		if p.Archived {
			archived++
		}
	}
	search := "/ws/rest/" + mPartner + "/search"
	t.Run("missing limit returns every row", func(t *testing.T) {
		m := call(t, srv, http.MethodPost, search, `{"data":{"_archived":true},"fields":["id"]}`)
		if m["total"].(float64) != 120 || len(m["data"].([]any)) != 120 {
			t.Fatalf("total %v", m["total"])
		}
	})
	t.Run("no data includes archived", func(t *testing.T) {
		all := call(t, srv, http.MethodPost, search, `{"limit":1}`)
		some := call(t, srv, http.MethodPost, search, `{"limit":1,"data":{}}`)
		if all["total"].(float64) != 120 || some["total"].(float64) != float64(120-archived) {
			t.Fatalf("%v %v (archived %d)", all["total"], some["total"], archived)
		}
	})
	t.Run("empty result omits data", func(t *testing.T) {
		m := call(t, srv, http.MethodPost, search, `{"limit":5,"data":{"operator":"and","criteria":[{"fieldName":"id","operator":"<","value":0}]}}`)
		if _, ok := m["data"]; ok || m["total"].(float64) != 0 {
			t.Fatalf("%v", m)
		}
	})
	t.Run("missing operator", func(t *testing.T) {
		m := call(t, srv, http.MethodPost, search, `{"limit":5,"data":{"operator":"and","criteria":[{"fieldName":"id","value":1}]}}`)
		if m["status"].(float64) != -1 || !strings.Contains(m["data"].(map[string]any)["message"].(string), "No such operator: null") {
			t.Fatalf("%v", m)
		}
	})
	t.Run("update without version does nothing", func(t *testing.T) {
		p := s.Partners()[0]
		m := call(t, srv, http.MethodPost, "/ws/rest/"+mPartner+"/1", `{"data":{"fixedPhone":"09 99 99 99 99"}}`)
		after, _ := s.Partner(1)
		if m["status"].(float64) != 0 || after.FixedPhone != p.FixedPhone || after.Version != p.Version {
			t.Fatalf("%v %+v", m["status"], after)
		}
	})
	t.Run("version as a string", func(t *testing.T) {
		m := call(t, srv, http.MethodPost, "/ws/rest/"+mPartner+"/1", `{"data":{"version":"0","fixedPhone":"x"}}`)
		if m["status"].(float64) != -1 {
			t.Fatalf("%v", m)
		}
	})
	t.Run("create with version fails, without has updatedOn null", func(t *testing.T) {
		m := call(t, srv, http.MethodPut, "/ws/rest/"+mPartner, `{"data":{"name":"X","version":0}}`)
		if m["status"].(float64) != -1 {
			t.Fatalf("%v", m)
		}
		m = call(t, srv, http.MethodPut, "/ws/rest/"+mPartner, `{"data":{"name":"Association Y"}}`)
		rec := m["data"].([]any)[0].(map[string]any)
		if rec["updatedOn"] != nil || rec["version"].(float64) != 0 || rec["createdOn"] == nil {
			t.Fatalf("%v", rec)
		}
	})
	t.Run("delete ignores version", func(t *testing.T) {
		m := call(t, srv, http.MethodDelete, "/ws/rest/"+mPartner+"/2?version=999", ``)
		if _, ok := s.Partner(2); ok || m["status"].(float64) != 0 {
			t.Fatalf("%v", m)
		}
	})
	t.Run("fetch missing is a concurrent update error", func(t *testing.T) {
		m := call(t, srv, http.MethodPost, "/ws/rest/"+mPartner+"/999999/fetch", `{"fields":["name"]}`)
		if m["data"].(map[string]any)["title"] != "Concurrent updates error" {
			t.Fatalf("%v", m)
		}
	})
}

func BenchmarkSearchPage(b *testing.B) {
	s := New(Options{})
	s.Seed(20000, 1)
	srv := httptest.NewServer(s)
	defer srv.Close()
	body := `{"limit":500,"sortBy":["id"],"fields":["name","mainAddress.zip","updatedOn"],"data":{"_archived":true,"operator":"and","criteria":[{"fieldName":"id","operator":">","value":10000}]}}`
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/ws/rest/"+mPartner+"/search", strings.NewReader(body))
		req.Header.Set("API-KEY", "k")
		s.opts.APIKeys = []string{"k"}
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
