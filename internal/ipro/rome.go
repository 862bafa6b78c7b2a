package ipro

import (
	"strings"
	"sync"

	"github.com/atigip/atigip360/internal/refdata"
)

// ROMEHit is one answer of the ROME search: a job title (appellation,
// with its ROME code) or a skill (compétence or savoir).
type ROMEHit struct {
	Kind  string // "metier" or "competence"
	Code  string // ROME code for a job, OGR code for a skill
	ROME  string // ROME code of a job title
	Label string
}

type romeEntry struct {
	hit  ROMEHit
	norm string
}

var (
	romeOnce  sync.Once
	romeIndex []romeEntry
)

func loadROMEIndex() {
	seen := map[string]bool{}
	for _, a := range refdata.Appellations() {
		if a.Rare {
			continue
		}
		romeIndex = append(romeIndex, romeEntry{ROMEHit{Kind: "metier", Code: a.ROME, ROME: a.ROME, Label: a.Label}, refdata.Normalize(a.Label)})
	}
	for _, r := range refdata.ROMECodes() {
		romeIndex = append(romeIndex, romeEntry{ROMEHit{Kind: "metier", Code: r.Code, ROME: r.Code, Label: r.Label}, refdata.Normalize(r.Code + " " + r.Label)})
	}
	for _, s := range refdata.Skills() {
		if seen[s.OGR] {
			continue
		}
		seen[s.OGR] = true
		romeIndex = append(romeIndex, romeEntry{ROMEHit{Kind: "competence", Code: s.OGR, Label: s.Label}, refdata.Normalize(s.Label)})
	}
}

// SearchROME returns up to n job titles and skills of the ROME referential
// whose label holds every word of q (accents and case ignored), the labels
// starting with q first.
func SearchROME(q string, n int) []ROMEHit {
	romeOnce.Do(loadROMEIndex)
	words := strings.Fields(refdata.Normalize(q))
	if len(words) == 0 || n <= 0 {
		return nil
	}
	var first, rest []ROMEHit
	seen := map[string]bool{}
	for _, e := range romeIndex {
		ok := true
		for _, w := range words {
			if !strings.Contains(e.norm, w) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		key := e.hit.Kind + e.hit.Code + e.hit.Label
		if seen[key] {
			continue
		}
		seen[key] = true
		if strings.HasPrefix(e.norm, words[0]) {
			first = append(first, e.hit)
			if len(first) >= n {
				break
			}
		} else if len(rest) < n {
			rest = append(rest, e.hit)
		}
	}
	out := append(first, rest...)
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// ROMELabel is the label of a ROME code, or the code when unknown.
func ROMELabel(code string) string {
	if r, ok := refdata.ROMEByCode(code); ok {
		return r.Label
	}
	return code
}

// SkillLabel is the label of a ROME skill (OGR code), or the code.
func SkillLabel(ogr string) string {
	if s, ok := refdata.SkillByOGR(ogr); ok {
		return s.Label
	}
	return ogr
}
