package refdata

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// GrandDomaine is one of the 14 top-level ROME domains, lettered A..N.
type GrandDomaine struct {
	Code  string // "A"
	Label string
}

// DomainePro is a ROME professional domain, e.g. "A12" (Espaces naturels et
// espaces verts), child of the grand domaine given by its first letter.
type DomainePro struct {
	Code  string
	Label string
}

// ROMECode is a ROME 4.0 job sheet (fiche métier).
type ROMECode struct {
	Code         string // "A1203"
	OGR          string // code_ogr of the fiche
	Label        string // "Agent / Agente d'entretien des espaces verts"
	GrandDomaine string // "A"
	DomainePro   string // "A12"
	// Parent is the ROME v3 code this fiche descends from (itself for the
	// 532 historical fiches); use it to read v3 codes found in older data.
	Parent string
}

// Appellation is a job title attached to a ROME code.
type Appellation struct {
	OGR        string // code_ogr, e.g. "10200"
	Label      string // long label
	ShortLabel string // short label (equal to Label for most)
	ROME       string // ROME code
	Principale bool   // the main title of its ROME code (one per code)
	Rare       bool   // marked "peu usité"
}

// SkillKind tells what a ROME item is.
type SkillKind string

// Skill kinds, from the rubriques of the ROME and its contexte de travail
// referential.
const (
	SavoirFaire     SkillKind = "savoir-faire"
	SavoirEtre      SkillKind = "savoir-etre" // savoir-être professionnel
	Savoir          SkillKind = "savoir"      // knowledge
	ContexteTravail SkillKind = "contexte"    // working conditions, schedules, publics
)

var skillKinds = map[string]SkillKind{"F": SavoirFaire, "E": SavoirEtre, "S": Savoir, "C": ContexteTravail}

// Skill is a ROME item referenced by at least one ROME code: a competence
// (savoir-faire, savoir-être), a savoir, or a work context.
type Skill struct {
	OGR      string // code_ogr, e.g. "100032"
	Label    string
	Kind     SkillKind
	Category string // sous-catégorie (competences), catégorie (savoirs) or context type
}

// Core flags of a ROME → skill link (coeur_metier).
const (
	CoreNone      = ""           // ordinary item of the job
	CorePrincipal = "principale" // core of the job
	CoreEmergent  = "emergente"  // emerging core item
)

// SkillLink attaches a skill to a ROME code.
type SkillLink struct {
	Skill Skill
	// Core is CorePrincipal for the items at the heart of the job, CoreEmergent
	// for emerging ones, CoreNone otherwise.
	Core string
}

// IsCore reports whether the link is a core (principal) item of the job.
func (l SkillLink) IsCore() bool { return l.Core == CorePrincipal }

type romeData struct {
	grands     []GrandDomaine
	domaines   []DomainePro
	domIdx     map[string]int
	codes      []ROMECode
	codeIdx    map[string]int
	apps       []Appellation
	appIdx     map[string]int
	appsByROME map[string][]int32
	skills     []Skill
	skillIdx   map[string]int
	links      map[string][]SkillLink
}

var (
	romeOnce sync.Once
	rome     *romeData
)

func loadedROME() *romeData {
	romeOnce.Do(func() {
		d, err := loadROME()
		mustLoad(err)
		rome = d
	})
	return rome
}

func loadROME() (*romeData, error) {
	d := &romeData{domIdx: map[string]int{}, codeIdx: map[string]int{}, skillIdx: map[string]int{}}
	err := eachRecord("rome_domaines.csv.gz", []string{"code", "label"}, func(rec []string) error {
		switch len(rec[0]) {
		case 1:
			d.grands = append(d.grands, GrandDomaine{Code: rec[0], Label: rec[1]})
		case 3:
			d.domIdx[rec[0]] = len(d.domaines)
			d.domaines = append(d.domaines, DomainePro{Code: rec[0], Label: rec[1]})
		default:
			return fmt.Errorf("bad domain code %q", rec[0])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRecord("rome_codes.csv.gz", []string{"code", "ogr", "label", "domaine", "parent"}, func(rec []string) error {
		if _, ok := d.domIdx[rec[3]]; !ok {
			return fmt.Errorf("ROME %s: unknown domain %s", rec[0], rec[3])
		}
		d.codeIdx[rec[0]] = len(d.codes)
		d.codes = append(d.codes, ROMECode{Code: rec[0], OGR: rec[1], Label: rec[2], GrandDomaine: rec[3][:1], DomainePro: rec[3], Parent: rec[4]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.apps = make([]Appellation, 0, 13200)
	d.appIdx = make(map[string]int, 13200)
	d.appsByROME = make(map[string][]int32, len(d.codes))
	err = eachRecord("rome_appellations.csv.gz", []string{"ogr", "long", "short", "rome", "principale", "rare"}, func(rec []string) error {
		if _, ok := d.codeIdx[rec[3]]; !ok {
			return fmt.Errorf("appellation %s: unknown ROME %s", rec[0], rec[3])
		}
		a := Appellation{OGR: rec[0], Label: rec[1], ShortLabel: rec[2], ROME: rec[3], Principale: rec[4] == "1", Rare: rec[5] == "1"}
		if a.ShortLabel == "" {
			a.ShortLabel = a.Label
		}
		d.appIdx[a.OGR] = len(d.apps)
		d.appsByROME[a.ROME] = append(d.appsByROME[a.ROME], int32(len(d.apps)))
		d.apps = append(d.apps, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.skills = make([]Skill, 0, 30500)
	d.skillIdx = make(map[string]int, 30500)
	err = eachRecord("rome_skills.csv.gz", []string{"ogr", "kind", "category", "label"}, func(rec []string) error {
		k, ok := skillKinds[rec[1]]
		if !ok {
			return fmt.Errorf("skill %s: unknown kind %q", rec[0], rec[1])
		}
		d.skillIdx[rec[0]] = len(d.skills)
		d.skills = append(d.skills, Skill{OGR: rec[0], Kind: k, Category: rec[2], Label: rec[3]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.links = make(map[string][]SkillLink, len(d.codes))
	core := map[string]string{"": CoreNone, "P": CorePrincipal, "E": CoreEmergent}
	err = eachRecord("rome_links.csv.gz", []string{"rome", "ogr", "coeur"}, func(rec []string) error {
		i, ok := d.skillIdx[rec[1]]
		if !ok {
			return fmt.Errorf("link %s→%s: unknown skill", rec[0], rec[1])
		}
		c, ok := core[rec[2]]
		if !ok {
			return fmt.Errorf("link %s→%s: bad core flag %q", rec[0], rec[1], rec[2])
		}
		code := rec[0]
		if l := d.links[code]; len(l) == 0 {
			// Reuse the ROME code string held by codes rather than the CSV
			// line, which would keep the whole record alive.
			ci, ok := d.codeIdx[code]
			if !ok {
				return fmt.Errorf("link %s→%s: unknown ROME code", rec[0], rec[1])
			}
			code = d.codes[ci].Code
		}
		d.links[code] = append(d.links[code], SkillLink{Skill: d.skills[i], Core: c})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// GrandDomaines returns the 14 grand domaines A..N.
func GrandDomaines() []GrandDomaine { return loadedROME().grands }

// DomainesPro returns the 110 professional domains sorted by code.
func DomainesPro() []DomainePro { return loadedROME().domaines }

// DomaineProByCode returns the professional domain with that code ("A12").
func DomaineProByCode(code string) (DomainePro, bool) {
	d := loadedROME()
	i, ok := d.domIdx[strings.ToUpper(strings.TrimSpace(code))]
	if !ok {
		return DomainePro{}, false
	}
	return d.domaines[i], true
}

// ROMECodes returns the 1,584 ROME 4.0 codes sorted by code.
func ROMECodes() []ROMECode { return loadedROME().codes }

// ROMEByCode returns the ROME code ("A1203"; case and spaces ignored).
func ROMEByCode(code string) (ROMECode, bool) {
	d := loadedROME()
	i, ok := d.codeIdx[strings.ToUpper(strings.TrimSpace(code))]
	if !ok {
		return ROMECode{}, false
	}
	return d.codes[i], true
}

// Appellations returns the 13,120 job titles.
func Appellations() []Appellation { return loadedROME().apps }

// AppellationByOGR returns the job title with that code_ogr.
func AppellationByOGR(ogr string) (Appellation, bool) {
	d := loadedROME()
	i, ok := d.appIdx[strings.TrimSpace(ogr)]
	if !ok {
		return Appellation{}, false
	}
	return d.apps[i], true
}

// AppellationsOf returns the job titles of a ROME code, principal first.
func AppellationsOf(romeCode string) []Appellation {
	d := loadedROME()
	idx := d.appsByROME[strings.ToUpper(strings.TrimSpace(romeCode))]
	out := make([]Appellation, len(idx))
	for i, j := range idx {
		out[i] = d.apps[j]
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Principale && !out[b].Principale })
	return out
}

// Skills returns every skill referenced by a ROME code, sorted by numeric
// code_ogr.
func Skills() []Skill { return loadedROME().skills }

// SkillByOGR returns the skill with that code_ogr.
func SkillByOGR(ogr string) (Skill, bool) {
	d := loadedROME()
	i, ok := d.skillIdx[strings.TrimSpace(ogr)]
	if !ok {
		return Skill{}, false
	}
	return d.skills[i], true
}

// SkillsOf returns the skills attached to a ROME code, sorted by numeric
// code_ogr (nil for an unknown code). The slice is shared: do not modify it.
func SkillsOf(romeCode string) []SkillLink {
	return loadedROME().links[strings.ToUpper(strings.TrimSpace(romeCode))]
}
