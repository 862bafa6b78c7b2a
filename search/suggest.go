package search

import (
	"sort"
	"strings"
	"sync"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// Suggestion kinds.
const (
	SuggestCommune = "commune"
	SuggestJob     = "job"
)

// Suggestion is one autocomplete proposal.
type Suggestion struct {
	Kind  string `json:"kind"`
	Label string `json:"label"` // what to display and put in the box
	// Value is what to filter on: the commune's INSEE code or the job's
	// ROME code.
	Value    string        `json:"value"`
	Detail   string        `json:"detail,omitempty"` // département, or the ROME code's label
	Postcode string        `json:"postcode,omitempty"`
	Location *atigip.Point `json:"location,omitempty"`
}

// Suggestion limits.
const (
	DefaultSuggestions = 10
	MaxSuggestions     = 50
	maxPrefixLen       = 100
)

// Suggest completes prefix as commune names (most populous first) or job
// titles of the ROME (titles starting with the prefix first, then titles
// with a word starting with it). kind "" proposes both, communes first.
func Suggest(prefix, kind string, n int) ([]Suggestion, error) {
	var p atigip.Problems
	if n == 0 {
		n = DefaultSuggestions
	}
	p.Check(n < 1 || n > MaxSuggestions, "limit", "Le nombre de suggestions doit être compris entre 1 et %d.", MaxSuggestions)
	p.Check(len([]rune(prefix)) > maxPrefixLen, "q", "Le début de saisie dépasse %d caractères.", maxPrefixLen)
	p.Check(refdata.Normalize(prefix) == "", "q", "Saisissez au moins une lettre.")
	p.Check(kind != "" && kind != SuggestCommune && kind != SuggestJob, "kind",
		"Type de suggestion inconnu : %q (attendu : commune ou job).", kind)
	if err := p.Err("Suggestion"); err != nil {
		return nil, err
	}
	var out []Suggestion
	if kind == "" || kind == SuggestCommune {
		for _, c := range refdata.CommunePrefix(prefix, n) {
			s := Suggestion{Kind: SuggestCommune, Label: c.NameWithArticle, Value: c.INSEE,
				Postcode: c.Postcode, Location: &atigip.Point{Lon: c.Lon, Lat: c.Lat}}
			if d, ok := refdata.DepartementByCode(c.Departement); ok {
				s.Detail = d.Name + " (" + d.Code + ")"
			}
			out = append(out, s)
		}
	}
	if kind == "" || kind == SuggestJob {
		out = append(out, jobSuggestions(prefix, n)...)
	}
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// jobIndex is every job title keyed by each of its word-suffixes ("agent
// entretien espaces verts", "entretien espaces verts"…), with the little
// words dropped so that "agent entretien" finds "Agent d'entretien".
type jobIndex struct {
	keys []jobKey
}

type jobKey struct {
	key   string
	app   int32 // index into refdata.Appellations()
	start bool  // the key starts at the title's first word
}

var (
	jobsOnce sync.Once
	jobs     *jobIndex
)

var littleWords = map[string]bool{
	"a": true, "au": true, "aux": true, "d": true, "de": true, "des": true, "du": true,
	"en": true, "et": true, "l": true, "la": true, "le": true, "les": true, "ou": true, "sur": true,
}

// jobWords normalizes a title or a prefix into comparable words. For a
// prefix the last word may be unfinished, so it is kept even if little.
func jobWords(s string, prefix bool) []string {
	ws := strings.Fields(refdata.Normalize(s))
	out := ws[:0]
	for i, w := range ws {
		if littleWords[w] && !(prefix && i == len(ws)-1) {
			continue
		}
		out = append(out, w)
	}
	return out
}

func jobIndexData() *jobIndex {
	jobsOnce.Do(func() {
		apps := refdata.Appellations()
		ji := &jobIndex{keys: make([]jobKey, 0, len(apps)*4)}
		for i, a := range apps {
			seen := map[string]bool{}
			for _, label := range append([]string{a.Label, a.ShortLabel}, genderForms(a.ShortLabel)...) {
				ws := jobWords(label, false)
				for j := range ws {
					k := strings.Join(ws[j:], " ")
					if !seen[k] {
						seen[k] = true
						ji.keys = append(ji.keys, jobKey{key: k, app: int32(i), start: j == 0})
					}
				}
			}
		}
		sort.Slice(ji.keys, func(a, b int) bool { return ji.keys[a].key < ji.keys[b].key })
		jobs = ji
	})
	return jobs
}

// genderForms splits a title written "Plongeur officier / Plongeuse
// officière de cuisine" into its masculine and feminine forms ("Plongeur
// officier de cuisine", "Plongeuse officière de cuisine"), which is what
// people type. Titles without " / " give nothing.
func genderForms(label string) []string {
	m, f, ok := strings.Cut(label, " / ")
	if !ok {
		return nil
	}
	mw, fw := strings.Fields(m), strings.Fields(f)
	if len(fw) <= len(mw) {
		return []string{m, f}
	}
	tail := strings.Join(fw[len(mw):], " ")
	return []string{m + " " + tail, f}
}

func jobSuggestions(prefix string, n int) []Suggestion {
	ws := jobWords(prefix, true)
	if len(ws) == 0 {
		return nil
	}
	p := strings.Join(ws, " ")
	ji := jobIndexData()
	apps := refdata.Appellations()
	type cand struct {
		app   int32
		start bool
	}
	best := map[int32]bool{} // app → matched at the start
	lo := sort.Search(len(ji.keys), func(i int) bool { return ji.keys[i].key >= p })
	for i := lo; i < len(ji.keys) && strings.HasPrefix(ji.keys[i].key, p); i++ {
		k := ji.keys[i]
		best[k.app] = best[k.app] || k.start
	}
	cands := make([]cand, 0, len(best))
	for a, s := range best {
		cands = append(cands, cand{a, s})
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := apps[cands[i].app], apps[cands[j].app]
		switch {
		case cands[i].start != cands[j].start:
			return cands[i].start
		case a.Principale != b.Principale:
			return a.Principale
		case a.Rare != b.Rare:
			return !a.Rare
		case len(a.ShortLabel) != len(b.ShortLabel):
			return len(a.ShortLabel) < len(b.ShortLabel)
		}
		return a.OGR < b.OGR
	})
	if len(cands) > n {
		cands = cands[:n]
	}
	out := make([]Suggestion, len(cands))
	for i, c := range cands {
		a := apps[c.app]
		out[i] = Suggestion{Kind: SuggestJob, Label: a.ShortLabel, Value: a.ROME}
		if r, ok := refdata.ROMEByCode(a.ROME); ok {
			out[i].Detail = r.Label
		}
	}
	return out
}
