package refdata

import (
	"strconv"
	"strings"
	"testing"
)

func TestROMECounts(t *testing.T) {
	if n := len(GrandDomaines()); n != 14 {
		t.Errorf("%d grand domaines, want 14", n)
	}
	for i, g := range GrandDomaines() {
		if g.Code != string(rune('A'+i)) || g.Label == "" {
			t.Errorf("grand domaine %d = %+v", i, g)
		}
	}
	if n := len(DomainesPro()); n != 110 {
		t.Errorf("%d domaines professionnels, want 110", n)
	}
	if n := len(ROMECodes()); n != 1584 {
		t.Errorf("%d ROME codes, want 1584", n)
	}
	if n := len(Appellations()); n != 13120 {
		t.Errorf("%d appellations, want 13120", n)
	}
	kinds := map[SkillKind]int{}
	for _, s := range Skills() {
		kinds[s.Kind]++
	}
	want := map[SkillKind]int{SavoirFaire: 16740, SavoirEtre: 16, Savoir: 13222, ContexteTravail: 178}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d skills of kind %s, want %d", kinds[k], k, n)
		}
	}
	links, core := 0, map[string]int{}
	principal := 0
	for _, c := range ROMECodes() {
		if _, ok := DomaineProByCode(c.DomainePro); !ok || c.DomainePro[:1] != c.GrandDomaine {
			t.Errorf("%s: domain %s / %s", c.Code, c.DomainePro, c.GrandDomaine)
		}
		if _, ok := ROMEByCode(c.Parent); !ok {
			t.Errorf("%s: unknown parent %s", c.Code, c.Parent)
		}
		l := SkillsOf(c.Code)
		if len(l) == 0 {
			t.Errorf("%s has no skill", c.Code)
		}
		for i, s := range l {
			core[s.Core]++
			if i > 0 && atoiT(l[i-1].Skill.OGR) >= atoiT(s.Skill.OGR) {
				t.Errorf("%s: skills not sorted at %d", c.Code, i)
			}
		}
		links += len(l)
		apps := AppellationsOf(c.Code)
		if len(apps) == 0 || !apps[0].Principale {
			t.Errorf("%s: no principal appellation first", c.Code)
		}
		for _, a := range apps {
			if a.Principale {
				principal++
			}
		}
	}
	if links != 104219 {
		t.Errorf("%d ROME→skill links, want 104219", links)
	}
	if core[CorePrincipal] != 18900 || core[CoreEmergent] != 1731 {
		t.Errorf("core flags %v", core)
	}
	if principal != 1584 {
		t.Errorf("%d principal appellations, want one per code", principal)
	}
}

func atoiT(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func TestROMEA1203(t *testing.T) {
	c, ok := ROMEByCode(" a1203 ")
	if !ok {
		t.Fatal("A1203 not found")
	}
	// ROME 4.0 renamed the v3 fiche "Aménagement et entretien des espaces
	// verts"; "jardins" is now in its appellations.
	if c.Label != "Agent / Agente d'entretien des espaces verts" || c.GrandDomaine != "A" || c.DomainePro != "A12" {
		t.Errorf("got %+v", c)
	}
	jardins := false
	for _, a := range AppellationsOf("A1203") {
		if a.ROME != "A1203" {
			t.Errorf("appellation %s of %s", a.OGR, a.ROME)
		}
		if strings.Contains(a.Label, "jardins") {
			jardins = true
		}
	}
	if !jardins {
		t.Error("no A1203 appellation mentions jardins")
	}
	links := SkillsOf("A1203")
	if len(links) != 73 {
		t.Errorf("A1203 has %d items, want 73", len(links))
	}
	var coreOGR []string
	for _, l := range links {
		if l.IsCore() {
			coreOGR = append(coreOGR, l.Skill.OGR)
		}
	}
	if len(coreOGR) == 0 || coreOGR[0] != "100032" {
		t.Errorf("core items %v, want 100032 first", coreOGR)
	}
	s, ok := SkillByOGR("100032")
	if !ok || s.Kind != Savoir || s.Label != "Techniques de taille de végétaux" || s.Category != "Techniques professionnelles" {
		t.Errorf("skill 100032 = %+v", s)
	}
	if s, ok := SkillByOGR("23374"); !ok || s.Kind != ContexteTravail || s.Label != "Travail le samedi" || s.Category != "Horaires et durée du travail" {
		t.Errorf("skill 23374 = %+v", s)
	}
	if a, ok := AppellationByOGR("10200"); !ok || a.ROME != "F1402" || a.ShortLabel != a.Label {
		t.Errorf("appellation 10200 = %+v", a)
	}
	if a, ok := AppellationByOGR("10202"); !ok || a.ShortLabel == a.Label {
		t.Errorf("appellation 10202 short label = %+v", a)
	}
	if SkillsOf("Z9999") != nil {
		t.Error("unknown code has skills")
	}
	if _, ok := SkillByOGR("0"); ok {
		t.Error("skill 0 found")
	}
}
