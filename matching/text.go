package matching

import (
	"math"
	"slices"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/token/elision"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
)

// TextScorer gives the text fit between a person's experience and wishes
// and items, each in [0, 1]. The HTTP layer can hand one backed by the
// search index; without one the Engine uses its own TF-IDF over the items'
// titles and descriptions (TFIDF), so that matching stays pure and
// testable. Implementations must be safe for concurrent use and
// deterministic.
type TextScorer interface {
	// TextFit writes into out[i] the fit of personText to items[i].
	TextFit(personText string, items []Ref, out []float64)
}

// vec is a sparse L2-normalised TF-IDF vector sorted by term id.
type vec []termWeight

type termWeight struct {
	term int32
	w    float32
}

// cosine is the dot product of two normalised vectors.
func cosine(a, b vec) float64 {
	var s float64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].term == b[j].term:
			s += float64(a[i].w) * float64(b[j].w)
			i++
			j++
		case a[i].term < b[j].term:
			i++
		default:
			j++
		}
	}
	return min(1, s)
}

var (
	analyzerOnce sync.Once
	frAnalyzer   *analysis.DefaultAnalyzer
)

// analyzer is the French chain of the search index, built standalone from
// bleve's components (no index, no registry): accent folding, Unicode word
// segmentation, lower case, elision, stop words, light stemming.
func analyzer() *analysis.DefaultAnalyzer {
	analyzerOnce.Do(func() {
		articles := analysis.NewTokenMap()
		stops := analysis.NewTokenMap()
		if err := articles.LoadBytes(fr.FrenchArticles); err != nil {
			panic("matching: French articles: " + err.Error())
		}
		if err := stops.LoadBytes(fr.FrenchStopWords); err != nil {
			panic("matching: French stop words: " + err.Error())
		}
		fold := asciifolding.New()
		for w := range stops {
			stops.AddToken(string(fold.Filter([]byte(w))))
		}
		frAnalyzer = &analysis.DefaultAnalyzer{
			CharFilters: []analysis.CharFilter{fold},
			Tokenizer:   unicode.NewUnicodeTokenizer(),
			TokenFilters: []analysis.TokenFilter{
				lowercase.NewLowerCaseFilter(),
				elision.NewElisionFilter(articles),
				stop.NewStopTokensFilter(stops),
				fr.NewFrenchLightStemmerFilter(),
			},
		}
	})
	return frAnalyzer
}

// Terms returns the analysed terms of a French text.
func Terms(text string) []string {
	ts := analyzer().Analyze([]byte(text))
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		if len(t.Term) > 1 {
			out = append(out, string(t.Term))
		}
	}
	return out
}

// TFIDF is the built-in text scorer: documents are the items' texts, the
// person's text is a query vector under the same inverse document
// frequencies, and the fit is the cosine.
type TFIDF struct {
	vocab map[string]int32
	idf   []float32
	docs  map[Ref]vec
}

// NewTFIDF indexes the texts of items.
func NewTFIDF(texts map[Ref]string) *TFIDF {
	t := &TFIDF{vocab: map[string]int32{}, docs: make(map[Ref]vec, len(texts))}
	refs := make([]Ref, 0, len(texts))
	for r := range texts {
		refs = append(refs, r)
	}
	// Sorted so that term ids, hence float sums, do not depend on map order.
	slices.SortFunc(refs, cmpRef)
	// Equal texts (posts copied from one template) are analysed once and
	// share one vector; document frequencies still count every document.
	tokens := make([][]string, len(refs))
	first := make(map[string]int, len(refs)) // text → first index holding it
	var df []int
	for i, r := range refs {
		if j, ok := first[texts[r]]; ok {
			tokens[i] = tokens[j]
		} else {
			first[texts[r]] = i
			tokens[i] = Terms(texts[r])
		}
		seen := map[int32]bool{}
		for _, w := range tokens[i] {
			id, ok := t.vocab[w]
			if !ok {
				id = int32(len(t.vocab))
				t.vocab[w] = id
				df = append(df, 0)
			}
			if !seen[id] {
				seen[id] = true
				df[id]++
			}
		}
	}
	t.idf = make([]float32, len(df))
	n := float64(max(1, len(refs)))
	for i, d := range df {
		t.idf[i] = float32(math.Log(1 + n/float64(d)))
	}
	for i, r := range refs {
		if j := first[texts[r]]; j < i {
			t.docs[r] = t.docs[refs[j]]
		} else {
			t.docs[r] = t.vectorOf(tokens[i])
		}
	}
	return t
}

// Vector returns the normalised query vector of a text.
func (t *TFIDF) vector(text string) vec { return t.vectorOf(Terms(text)) }

func (t *TFIDF) vectorOf(tokens []string) vec {
	tf := map[int32]float64{}
	for _, w := range tokens {
		if id, ok := t.vocab[w]; ok {
			tf[id]++
		}
	}
	v := make(vec, 0, len(tf))
	var norm float64
	for id, f := range tf {
		w := (1 + math.Log(f)) * float64(t.idf[id])
		norm += w * w
		v = append(v, termWeight{id, float32(w)})
	}
	if norm == 0 {
		return nil
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i].w = float32(float64(v[i].w) / norm)
	}
	slices.SortFunc(v, func(a, b termWeight) int { return int(a.term - b.term) })
	return v
}

// TextFit implements TextScorer.
func (t *TFIDF) TextFit(personText string, items []Ref, out []float64) {
	q := t.vector(personText)
	for i, r := range items {
		out[i] = cosine(q, t.docs[r])
	}
}

func cmpRef(a, b Ref) int {
	if a.Kind != b.Kind {
		if a.Kind < b.Kind {
			return -1
		}
		return 1
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}
