package refdata

import (
	"strings"
	"testing"
)

func TestPrisons(t *testing.T) {
	list := Prisons()
	if len(list) != 176 {
		t.Fatalf("%d prisons, want 176", len(list))
	}
	types := map[string]int{}
	perDISP := map[string]int{}
	for _, p := range list {
		types[p.TypeCode]++
		perDISP[p.DISP]++
		if p.ID == "" || strings.ContainsAny(p.ID, " ()'") {
			t.Errorf("%q: bad id %q", p.Name, p.ID)
		}
		if got, ok := PrisonByID(p.ID); !ok || got.Name != p.Name {
			t.Errorf("PrisonByID(%q) = %q", p.ID, got.Name)
		}
		c, ok := CommuneByINSEE(p.CommuneINSEE)
		if !ok {
			t.Errorf("%q: unknown commune %s", p.Name, p.CommuneINSEE)
			continue
		}
		if !near(c.Lat, p.Lat, 0.02) || !near(c.Lon, p.Lon, 0.02) {
			t.Errorf("%q: %v,%v far from its commune %v,%v", p.Name, p.Lat, p.Lon, c.Lat, c.Lon)
		}
		if d, _ := DISPOfDepartement(p.Departement); d.Code != p.DISP {
			t.Errorf("%q: DISP %s, département %s gives %s", p.Name, p.DISP, p.Departement, d.Code)
		}
	}
	want := map[string]int{"MA": 89, "CP": 43, "CD": 25, "CSL": 12, "MC": 6, "EPSN": 1}
	for k, n := range want {
		if types[k] != n {
			t.Errorf("%d %s, want %d", types[k], k, n)
		}
	}
	if len(types) != len(want) {
		t.Errorf("type codes %v", types)
	}
	for _, d := range DISPs() {
		if perDISP[d.Code] == 0 {
			t.Errorf("DISP %s has no establishment", d.Code)
		}
	}
	if perDISP["paris"] < 10 {
		t.Errorf("DISP de Paris has %d establishments", perDISP["paris"])
	}
}

func TestPrisonFleuryMerogis(t *testing.T) {
	p, ok := PrisonByID("maison-d-arret-de-fleury-merogis")
	if !ok {
		t.Fatal("Fleury-Mérogis not found")
	}
	if p.TypeCode != "MA" || p.CommuneINSEE != "91235" || p.Departement != "91" || p.DISP != "paris" {
		t.Errorf("got %+v", p)
	}
	if !near(p.Lat, 48.63, 0.05) || !near(p.Lon, 2.37, 0.05) {
		t.Errorf("coordinates %v,%v", p.Lat, p.Lon)
	}
	if !strings.Contains(p.SPIP, "Essonne") {
		t.Errorf("SPIP %q", p.SPIP)
	}
	if _, ok := PrisonByID("nope"); ok {
		t.Error("unknown id found")
	}
}

func TestDISPOfDepartement(t *testing.T) {
	tests := []struct{ dep, disp string }{
		{"33", "bordeaux"}, {"87", "bordeaux"}, {"86", "bordeaux"},
		{"21", "dijon"}, {"45", "dijon"}, {"90", "dijon"},
		{"59", "lille"}, {"80", "lille"},
		{"69", "lyon"}, {"63", "lyon"}, {"74", "lyon"},
		{"13", "marseille"}, {"2A", "marseille"}, {"2b", "marseille"},
		{"75", "paris"}, {"91", "paris"}, {"95", "paris"},
		{"35", "rennes"}, {"76", "rennes"}, {"14", "rennes"}, {"44", "rennes"},
		{"67", "strasbourg"}, {"51", "strasbourg"}, {"08", "strasbourg"},
		{"31", "toulouse"}, {"34", "toulouse"}, {"66", "toulouse"},
		{"971", "outre-mer"}, {"974", "outre-mer"}, {"976", "outre-mer"},
	}
	for _, tt := range tests {
		t.Run(tt.dep, func(t *testing.T) {
			d, ok := DISPOfDepartement(tt.dep)
			if !ok || d.Code != tt.disp {
				t.Errorf("got %q, %v; want %s", d.Code, ok, tt.disp)
			}
		})
	}
	if _, ok := DISPOfDepartement("99"); ok {
		t.Error("99 has a DISP")
	}
	if len(DISPs()) != 10 {
		t.Errorf("%d DISP, want 9 + overseas mission", len(DISPs()))
	}
	// Every région belongs to exactly one DISP.
	seen := map[string]string{}
	for _, d := range DISPs() {
		for _, r := range d.Regions {
			if prev, dup := seen[r]; dup {
				t.Errorf("région %s in %s and %s", r, prev, d.Code)
			}
			seen[r] = d.Code
		}
		if got, ok := DISPByCode(d.Code); !ok || got.Name != d.Name {
			t.Errorf("DISPByCode(%q) failed", d.Code)
		}
	}
	for _, r := range Regions() {
		if seen[r.Code] == "" {
			t.Errorf("région %s %s has no DISP", r.Code, r.Name)
		}
	}
}
