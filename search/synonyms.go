package search

import (
	"sort"
	"sync"

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
	titles   []string // ROME code of each job title
	vocab    []string // every token, sorted, for typo lookups
}

// Expansion limits. A token found in the titles of more than maxCodesToken
// ROME codes ("agent", "aide", "responsable") says nothing about the job and
// is not expanded alone; an expansion keeps at most maxExpansion codes, those
// with the most matching titles.
const (
	maxCodesToken = 60
	maxExpansion  = 10
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
	s := &synonyms{postings: map[string][]int32{}}
	add := func(rome string, labels ...string) {
		i := int32(len(s.titles))
		s.titles = append(s.titles, rome)
		seen := map[string]bool{}
		for _, l := range labels {
			for _, t := range Tokens(l) {
				if !seen[t] && len(t) > 1 {
					seen[t] = true
					s.postings[t] = append(s.postings[t], i)
				}
			}
		}
	}
	for _, c := range refdata.ROMECodes() {
		add(c.Code, c.Label)
	}
	for _, a := range refdata.Appellations() {
		add(a.ROME, a.Label, a.ShortLabel)
	}
	s.vocab = make([]string, 0, len(s.postings))
	for t := range s.postings {
		s.vocab = append(s.vocab, t)
	}
	sort.Strings(s.vocab)
	return s
}

// codeWeight is a ROME code of an expansion with its weight in (0, 1]: the
// share of matching job titles relative to the best code.
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
	out := make([]codeWeight, 0, len(count))
	best := 0
	for c, n := range count {
		out = append(out, codeWeight{Code: c, Weight: float64(n)})
		best = max(best, n)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Weight != out[b].Weight {
			return out[a].Weight > out[b].Weight
		}
		return out[a].Code < out[b].Code
	})
	if len(out) > maxExpansion {
		out = out[:maxExpansion]
	}
	for i := range out {
		out[i].Weight /= float64(best)
	}
	return out
}

// known reports whether t appears in some job title.
func (s *synonyms) known(t string) bool { _, ok := s.postings[t]; return ok }

// correct returns the job-title tokens closest to t within maxDist edits
// (none when t is itself known), so that a misspelt job ("jardinnier")
// still expands.
func (s *synonyms) correct(t string, maxDist int) []string {
	if maxDist <= 0 || s.known(t) {
		return nil
	}
	best := maxDist + 1
	var out []string
	for _, v := range s.vocab {
		if abs(len(v)-len(t)) > maxDist {
			continue
		}
		d := levenshtein(t, v, best)
		switch {
		case d < best:
			best, out = d, []string{v}
		case d == best:
			out = append(out, v)
		}
	}
	if best > maxDist {
		return nil
	}
	return out
}

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

// levenshtein is the edit distance of two ASCII-folded tokens, giving up
// (returning limit) as soon as every cell of a row reaches limit.
func levenshtein(a, b string, limit int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
