package search

import (
	"slices"
	"sort"
	"sync"
	"unicode/utf8"

	"github.com/atigip/atigip360/internal/refdata"
)

// The ROME synonym table: every job title (appellation) of the ROME
// referential, analyzed like the index, gives its tokens; a query word found
// in job titles expands to the ROME codes of those titles, which are then
// matched against the documents' rome field. So "jardinier" finds posts
// coded A1203 whose text never says jardinier. Expansion happens at query
// time, which keeps the index small and lets the referential change
// without a reindex.
type synonyms struct {
	// postings maps a token to the job titles (indexes into titles) that
	// contain it, in ascending order.
	postings map[string][]int32
	titles   []string       // ROME code of each job title
	perCode  map[string]int // job titles of each ROME code
	// words counts the job titles each unstemmed word (see Words) is in:
	// the job vocabulary typo correction draws from besides the index's;
	// byFirst lists them by first letter, where corrections are looked for.
	words   map[string]int
	byFirst map[rune][]string
	// labelCodes maps a token to the ROME codes whose rome_label (the
	// code's label and its domaine professionnel's, see setROME) contains
	// it: the codes of the documents a rome_label clause of that token
	// matches (see labelRest).
	labelCodes map[string][]string
}

// An expansion is bounded by relevance, not by a count of codes (a cap of
// ten dropped most of the codes of "mécanicien"): a token found in the
// titles of more than maxCodesToken ROME codes ("agent", "aide",
// "responsable") says nothing about the job and is not expanded alone,
// and a code is kept when its weight (see expand) reaches minCodeWeight.
const (
	maxCodesToken = 60
	minCodeWeight = 0.1
)

var (
	synOnce sync.Once
	syn     *synonyms
)

func romeSynonyms() *synonyms {
	synOnce.Do(func() { syn = buildSynonyms() })
	return syn
}

func buildSynonyms() *synonyms {
	s := &synonyms{postings: map[string][]int32{}, perCode: map[string]int{}, words: map[string]int{}, byFirst: map[rune][]string{},
		labelCodes: map[string][]string{}}
	add := func(rome string, labels ...string) {
		i := int32(len(s.titles))
		s.titles = append(s.titles, rome)
		s.perCode[rome]++
		seen := map[string]bool{}
		for _, l := range labels {
			for _, t := range Tokens(l) {
				if !seen[t] && len(t) > 1 {
					seen[t] = true
					s.postings[t] = append(s.postings[t], i)
				}
			}
			for _, w := range Words(l) {
				if !seen["\x00"+w] && len(w) > 1 {
					seen["\x00"+w] = true
					s.words[w]++
				}
			}
		}
	}
	for _, c := range refdata.ROMECodes() {
		add(c.Code, c.Label)
		label, _, dpLabel := romeLabels(c)
		for _, t := range Tokens(label + " ; " + dpLabel) {
			if l := s.labelCodes[t]; len(l) == 0 || l[len(l)-1] != c.Code {
				s.labelCodes[t] = append(l, c.Code)
			}
		}
	}
	for _, a := range refdata.Appellations() {
		add(a.ROME, a.Label, a.ShortLabel)
	}
	for w := range s.words {
		r, _ := utf8.DecodeRuneInString(w)
		s.byFirst[r] = append(s.byFirst[r], w)
	}
	for _, ws := range s.byFirst {
		sort.Strings(ws)
	}
	return s
}

// codeWeight is a ROME code of an expansion with its weight in (0, 1]:
// the greater of its matching job titles relative to the best code's and
// of its share of its own titles that match. A code with one "mécanicien"
// among 122 titles is not about mechanics; one whose two titles both are,
// is.
type codeWeight struct {
	Code   string
	Weight float64
}

// expand returns the ROME codes whose job titles contain every token, best
// first; with one token it refuses a generic one (see maxCodesToken).
func (s *synonyms) expand(tokens []string) []codeWeight {
	if len(tokens) == 0 {
		return nil
	}
	var lists [][]int32
	for _, t := range tokens {
		p, ok := s.postings[t]
		if !ok {
			return nil
		}
		lists = append(lists, p)
	}
	sort.Slice(lists, func(a, b int) bool { return len(lists[a]) < len(lists[b]) })
	hits := lists[0]
	for _, l := range lists[1:] {
		hits = intersect(hits, l)
		if len(hits) == 0 {
			return nil
		}
	}
	count := map[string]int{}
	for _, i := range hits {
		count[s.titles[i]]++
	}
	if len(tokens) == 1 && len(count) > maxCodesToken {
		return nil
	}
	best := 0
	for _, n := range count {
		best = max(best, n)
	}
	out := make([]codeWeight, 0, len(count))
	for c, n := range count {
		w := max(float64(n)/float64(best), float64(n)/float64(s.perCode[c]))
		if w >= minCodeWeight {
			out = append(out, codeWeight{Code: c, Weight: w})
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Weight != out[b].Weight {
			return out[a].Weight > out[b].Weight
		}
		return out[a].Code < out[b].Code
	})
	return out
}

// labelRest returns the codes whose label contains t that are not among
// codes: a document has t in its rome_label exactly when it has one of
// codes or of these (see labelCodes), so a rome_label clause of t can be
// replaced by these codes beside codes, finding the same documents
// without walking the label's long posting list (« entretien » is in the
// label of 140,000 documents of 500,000 at scale 10, and the few codes
// left mostly in none).
// They come weighing 1, the label's whole weight.
func (s *synonyms) labelRest(t string, codes []codeWeight) []codeWeight {
	var rest []codeWeight
	for _, c := range s.labelCodes[t] {
		if !slices.ContainsFunc(codes, func(w codeWeight) bool { return w.Code == c }) {
			rest = append(rest, codeWeight{Code: c, Weight: 1})
		}
	}
	return rest
}

// known reports whether t appears in some job title.
func (s *synonyms) known(t string) bool { _, ok := s.postings[t]; return ok }

func intersect(a, b []int32) []int32 {
	var out []int32
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}
