package search

import (
	"slices"
	"strings"
	"unicode/utf8"

	index "github.com/blevesearch/bleve_index_api"
	"github.com/hbollon/go-edlib"
)

// Typo tolerance works on words as written (unstemmed, see Words) and
// corrects them from a dictionary of the words the index holds (its words
// field, with each word's document count) and of the ROME job titles.
// Matching fuzzy stems instead invented matches: "infirmier" within two
// edits of the stem of « information », "plombier" of « Plonéis ».
//
// A word is corrected when it is in neither dictionary, to the closest
// words within the edits its length allows (see fuzziness), counting a
// transposition as one edit ("animatuer"); or, when it is a real word,
// to a word one edit away that is far more frequent (realWordRatio):
// "aide jardiner" means « aide jardinier ». A word of the job titles is
// never corrected: "trieur" is a job, not a typo of « Trieux ».
const (
	// realWordRatio is how much more frequent a word one edit away must
	// be to replace a word that exists.
	realWordRatio = 20
	// maxCorrections bounds the corrections kept for one word.
	maxCorrections = 3
)

// fuzziness is the number of typos tolerated in a word, by its length as
// written, as mature engines do: none up to four letters, one up to
// eight, two beyond.
func fuzziness(word string) int {
	switch n := utf8.RuneCountInString(word); {
	case n <= 4:
		return 0
	case n <= 8:
		return 1
	}
	return 2
}

// spelling is one reading of a query word: as typed, or corrected.
type spelling struct {
	text string
	// weight is the share of a match's score it gets: 1 as typed or
	// corrected from a word that no document holds as written (whose
	// reading as typed then only matches by a coincidence of stems),
	// boostCorrected for a real word's correction or the other reading.
	weight    float64
	corrected bool
}

// wordFreq counts the documents holding the unstemmed word w (0 when r is
// nil: no index).
func wordFreq(r index.IndexReader, w string) uint64 {
	if r == nil {
		return 0
	}
	d, err := r.FieldDictRange(fWords, []byte(w), []byte(w))
	if err != nil {
		return 0
	}
	defer d.Close()
	if e, err := d.Next(); err == nil && e != nil && e.Term == w {
		return e.Count
	}
	return 0
}

type candidate struct {
	word string
	dist int
	freq uint64 // documents of the index plus job titles holding it
}

// neighbours returns the words of the index and of the job titles within
// maxEdits of w (a transposition counting one), sharing its first letter
// (typos rarely hit it, and it keeps the lookup cheap), closest then most
// frequent first.
func neighbours(r index.IndexReader, syn *synonyms, w string, maxEdits int, cheap bool) []candidate {
	if maxEdits <= 0 || w == "" {
		return nil
	}
	edits := min(maxEdits+1, 2)
	if cheap {
		edits = maxEdits
	}
	first, _ := utf8.DecodeRuneInString(w)
	prefix := string(first)
	seen := map[string]bool{w: true}
	var out []candidate
	consider := func(v string) {
		if seen[v] {
			return
		}
		seen[v] = true
		if d := edlib.OSADamerauLevenshteinDistance(w, v); d <= maxEdits {
			out = append(out, candidate{word: v, dist: d, freq: wordFreq(r, v) + uint64(syn.words[v])})
		}
	}
	var d index.FieldDict
	var err error
	if fr, ok := r.(index.IndexReaderFuzzy); ok {
		// The automaton counts a transposition as two edits: ask one more
		// (bleve goes up to two) and keep those within maxEdits above,
		// unless cheap asks for the edits alone.
		d, err = fr.FieldDictFuzzy(fWords, w, edits, prefix)
	} else if r != nil {
		// bleve's in-memory engine (tests) has no automaton: every word
		// with that first letter.
		d, err = r.FieldDictPrefix(fWords, []byte(prefix))
	}
	if d != nil && err == nil {
		for e, err := d.Next(); err == nil && e != nil; e, err = d.Next() {
			if max(len(e.Term)-len(w), len(w)-len(e.Term)) <= maxEdits {
				consider(e.Term)
			}
		}
		d.Close()
	}
	for _, v := range syn.byFirst[first] {
		if max(len(v)-len(w), len(w)-len(v)) <= maxEdits {
			consider(v)
		}
	}
	slices.SortFunc(out, func(a, b candidate) int {
		if a.dist != b.dist {
			return a.dist - b.dist
		}
		if a.freq != b.freq {
			if a.freq > b.freq {
				return -1
			}
			return 1
		}
		return strings.Compare(a.word, b.word)
	})
	return out
}

// spell returns the readings of the query word w: as typed first, then its
// corrections (see the rules above).
func spell(r index.IndexReader, syn *synonyms, w string) []spelling {
	out := []spelling{{text: w, weight: 1}}
	subs := Words(w)
	fixed := slices.Clone(subs)
	var more []string // other corrections of a one-word w
	changed, real := false, true
	for i, u := range subs {
		f := fuzziness(u)
		if f == 0 || syn.words[u] > 0 {
			continue
		}
		if freq := wordFreq(r, u); freq > 0 {
			// A real word: only a far more frequent one an edit away.
			// Asked of most query words: the cheaper automaton, without
			// transpositions.
			if cs := neighbours(r, syn, u, 1, true); len(cs) > 0 && cs[0].freq >= realWordRatio*freq {
				fixed[i], changed = cs[0].word, true
			}
			continue
		}
		real = false
		cs := neighbours(r, syn, u, f, false)
		if len(cs) == 0 {
			continue
		}
		fixed[i], changed = cs[0].word, true
		for _, c := range cs[1:] {
			if len(subs) == 1 && c.dist == cs[0].dist && len(more) < maxCorrections-1 {
				more = append(more, c.word)
			}
		}
	}
	if !changed {
		return out
	}
	best := spelling{text: strings.Join(fixed, " "), weight: boostCorrected, corrected: true}
	if !real {
		out[0].weight, best.weight = boostCorrected, 1
	}
	out = append(out, best)
	for _, m := range more {
		out = append(out, spelling{text: m, weight: boostCorrected, corrected: true})
	}
	return out
}
