package refdata

import (
	"math"
	"sort"
	"sync"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestCommunesCounts(t *testing.T) {
	var com, arm, approx int
	for _, c := range Communes() {
		switch c.Kind {
		case KindCommune:
			com++
		case KindArrondissement:
			arm++
			if _, ok := CommuneByINSEE(c.Parent); !ok {
				t.Errorf("%s: unknown parent %q", c.INSEE, c.Parent)
			}
		default:
			t.Errorf("%s: kind %q", c.INSEE, c.Kind)
		}
		if c.ApproxCoord {
			approx++
		}
		if c.Lat == 0 || c.Lon == 0 || len(c.Postcodes) == 0 || c.Postcode != c.Postcodes[0] {
			t.Errorf("%s: incomplete %+v", c.INSEE, c)
		}
		if !sort.StringsAreSorted(c.Postcodes) {
			t.Errorf("%s: postcodes not sorted %v", c.INSEE, c.Postcodes)
		}
		if _, ok := DepartementByCode(c.Departement); !ok {
			t.Errorf("%s: unknown département %q", c.INSEE, c.Departement)
		}
	}
	// 34,931 communes upstream + Paris, Lyon, Marseille rebuilt; 20+16+9
	// arrondissements; 3 communes without centroid + the 3 rebuilt cities.
	if com != 34934 || arm != 45 || approx != 3 {
		t.Errorf("got %d communes, %d arrondissements, %d approximate; want 34934, 45, 3", com, arm, approx)
	}
	if !sort.SliceIsSorted(Communes(), func(i, j int) bool { return Communes()[i].INSEE < Communes()[j].INSEE }) {
		t.Error("communes not sorted by INSEE")
	}
}

func TestCommuneByINSEE(t *testing.T) {
	tests := []struct {
		code, name, dep, reg string
		lat, lon             float64
		minPop               int
		postcodes            int
	}{
		{"69123", "Lyon", "69", "84", 45.76, 4.83, 500000, 9},
		{"75056", "Paris", "75", "11", 48.86, 2.34, 2000000, 21},
		{"13055", "Marseille", "13", "93", 43.30, 5.40, 800000, 16},
		{"42218", "Saint-Étienne", "42", "84", 45.43, 4.39, 150000, 0},
		{"72181", "Le Mans", "72", "52", 48.00, 0.20, 140000, 0},
		{"2A004", "Ajaccio", "2A", "94", 41.93, 8.74, 60000, 0},
		{"97411", "Saint-Denis", "974", "04", -20.93, 55.45, 140000, 0},
		{"91235", "Fleury-Mérogis", "91", "11", 48.63, 2.37, 5000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			c, ok := CommuneByINSEE(tt.code)
			if !ok {
				t.Fatalf("%s not found", tt.code)
			}
			if c.NameWithArticle != tt.name || c.Departement != tt.dep || c.Region != tt.reg {
				t.Errorf("got %q dep %s reg %s", c.NameWithArticle, c.Departement, c.Region)
			}
			if !near(c.Lat, tt.lat, 0.1) || !near(c.Lon, tt.lon, 0.1) {
				t.Errorf("coordinates %v,%v, want near %v,%v", c.Lat, c.Lon, tt.lat, tt.lon)
			}
			if c.Population < tt.minPop {
				t.Errorf("population %d < %d", c.Population, tt.minPop)
			}
			if tt.postcodes > 0 && len(c.Postcodes) != tt.postcodes {
				t.Errorf("%d postcodes %v, want %d", len(c.Postcodes), c.Postcodes, tt.postcodes)
			}
		})
	}
	if c, _ := CommuneByINSEE("72181"); c.Name != "Mans" {
		t.Errorf("Name without article = %q, want Mans", c.Name)
	}
	if _, ok := CommuneByINSEE("00000"); ok {
		t.Error("00000 found")
	}
	if c, ok := CommuneByINSEE(" 2a004 "); !ok || c.INSEE != "2A004" {
		t.Error("lower-case Corsican code not found")
	}
	lyon, _ := CommuneByINSEE("69123")
	sum := 0
	for _, c := range Communes() {
		if c.Parent == "69123" {
			sum += c.Population
		}
	}
	if sum != lyon.Population {
		t.Errorf("Lyon population %d, sum of arrondissements %d", lyon.Population, sum)
	}
}

func TestGeocode(t *testing.T) {
	tests := []struct {
		name, postcode, city, want string
	}{
		{"upper case abbreviation", "42000", "ST ETIENNE", "42218"},
		{"accents and hyphens", "42100", "saint-étienne", "42218"},
		{"plain", "42000", "Saint Etienne", "42218"},
		{"no postcode", "", "Saint Etienne", "42218"},
		{"article", "72000", "Le Mans", "72181"},
		{"without article", "72100", "Mans", "72181"},
		{"lost leading zero", "1000", "Bourg-en-Bresse", "01053"},
		{"cedex postcode falls to département", "42998", "ST ETIENNE CEDEX 9", "42218"},
		{"arrondissement from city", "69003", "LYON", "69383"},
		{"arrondissement with cedex", "75015", "PARIS CEDEX 15", "75115"},
		{"arrondissement without name", "13008", "", "13208"},
		{"unknown name falls back to most populous of postcode", "72000", "Nulle-Part", "72181"},
		{"name disambiguates a shared postcode", "01400", "Abergement-Clémenciat", "01001"},
		{"former commune merged into a new one", "01380", "Bâgé-la-Ville", "01025"},
		{"same name, postcode decides", "93200", "Saint-Denis", "93066"},
		{"same name, réunion", "97400", "St Denis", "97411"},
		{"same name without postcode: most populous", "", "Saint-Denis", "97411"},
		{"corsica cedex", "20999", "Ajaccio", "2A004"},
		{"spaces in postcode", "69 100", "Villeurbanne", "69266"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := Geocode(tt.postcode, tt.city)
			if !ok || c.INSEE != tt.want {
				t.Errorf("Geocode(%q, %q) = %s %q, %v; want %s", tt.postcode, tt.city, c.INSEE, c.NameWithArticle, ok, tt.want)
			}
		})
	}
	for _, q := range [][2]string{{"", ""}, {"99999", ""}, {"", "Atlantide-sur-Mer"}, {"00000", "Nulle Part"}} {
		if c, ok := Geocode(q[0], q[1]); ok {
			t.Errorf("Geocode(%q, %q) = %s, want no match", q[0], q[1], c.INSEE)
		}
	}
}

func TestCommunePrefix(t *testing.T) {
	tests := []struct {
		prefix string
		n      int
		first  string // INSEE of the first result
	}{
		{"saint-ét", 5, "42218"},
		{"ST ET", 5, "42218"},
		{"le ma", 3, "72181"},
		{"mans", 3, "72181"},
		{"lyo", 3, "69123"},
		{"Pa", 1, "75056"},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			got := CommunePrefix(tt.prefix, tt.n)
			if len(got) == 0 || len(got) > tt.n {
				t.Fatalf("got %d results", len(got))
			}
			if got[0].INSEE != tt.first {
				t.Errorf("first = %s %q, want %s", got[0].INSEE, got[0].NameWithArticle, tt.first)
			}
			p := Normalize(tt.prefix)
			for i, c := range got {
				if i > 0 && c.Population > got[i-1].Population {
					t.Errorf("not sorted by population at %d", i)
				}
				k1, k2 := Normalize(c.Name), Normalize(c.NameWithArticle)
				if p != "st et" && !hasPrefix(k1, p) && !hasPrefix(k2, p) {
					t.Errorf("%q does not start with %q", c.NameWithArticle, p)
				}
			}
		})
	}
	if got := CommunePrefix("saint", 50); len(got) != 50 {
		t.Errorf("n not honoured: %d", len(got))
	}
	if got := CommunePrefix("", 5); got != nil {
		t.Error("empty prefix gave results")
	}
	if got := CommunePrefix("lyon", 0); got != nil {
		t.Error("n=0 gave results")
	}
	if got := CommunePrefix("zzzzqq", 5); len(got) != 0 {
		t.Error("nonsense prefix gave results")
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func TestDepartementsRegions(t *testing.T) {
	if n := len(Departements()); n != 101 {
		t.Errorf("%d départements, want 101", n)
	}
	if n := len(Regions()); n != 18 {
		t.Errorf("%d régions, want 18", n)
	}
	for _, d := range Departements() {
		if _, ok := RegionByCode(d.Region); !ok {
			t.Errorf("département %s: unknown région %s", d.Code, d.Region)
		}
		c, ok := CommuneByINSEE(d.ChefLieu)
		if !ok || c.Departement != d.Code {
			t.Errorf("département %s: chef-lieu %s not in it", d.Code, d.ChefLieu)
		}
	}
	tests := []struct{ code, name, reg string }{
		{"69", "Rhône", "84"}, {"2B", "Haute-Corse", "94"}, {"976", "Mayotte", "06"}, {"75", "Paris", "11"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			d, ok := DepartementByCode(tt.code)
			if !ok || d.Name != tt.name || d.Region != tt.reg {
				t.Errorf("got %+v", d)
			}
		})
	}
	if r, ok := RegionByCode("84"); !ok || r.Name != "Auvergne-Rhône-Alpes" {
		t.Errorf("région 84 = %+v", r)
	}
	if _, ok := DepartementByCode("20"); ok {
		t.Error("20 is not a département since 1976")
	}
}

// TestConcurrentFirstUse makes several goroutines hit the lazy loaders at
// once; run with -race to check the sync.Once plumbing.
func TestConcurrentFirstUse(t *testing.T) {
	// Start from a cold state, as a fresh process would (no test here runs in
	// parallel, so resetting is safe).
	communesOnce, adminOnce, prisonsOnce, romeOnce = sync.Once{}, sync.Once{}, sync.Once{}, sync.Once{}
	done := make(chan string, 4)
	go func() { c, _ := Geocode("69003", "Lyon"); done <- c.INSEE }()
	go func() { c, _ := CommuneByINSEE("69383"); done <- c.INSEE }()
	go func() { p, _ := PrisonByID("maison-d-arret-de-fleury-merogis"); done <- p.CommuneINSEE }()
	go func() { r, _ := ROMEByCode("A1203"); done <- r.Code }()
	got := map[string]bool{}
	for range 4 {
		got[<-done] = true
	}
	for _, want := range []string{"69383", "91235", "A1203"} {
		if !got[want] {
			t.Errorf("missing %s in %v", want, got)
		}
	}
}
