package matching

import (
	"encoding/binary"
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
	ix := newTextIndex()
	for r, text := range texts {
		ix.add(r, text)
	}
	t, refs, vecs := ix.index()
	t.docs = make(map[Ref]vec, len(refs))
	for k, r := range refs {
		t.docs[r] = vecs[k]
	}
	return t
}

// textIndex gathers the items' texts one at a time and makes the TF-IDF
// index over them. Each text is analysed as it comes into provisional term
// ids, and only their sequence is kept (once for equal sequences), so that
// a build at ten times the country holds neither the 350,000 texts nor
// their words. The final term ids are given in the order of first
// occurrence over the texts in Ref order, as when the texts were analysed
// together in that order: the vectors, and the float sums over their
// terms, are the same.
type textIndex struct {
	vocab map[string]int32 // word → provisional id
	seqs  map[string]int32 // provisional ids (4 bytes each) → index in uniq
	uniq  []string
	docs  []textDoc
}

// textDoc is one item's text: its sequence of provisional ids.
type textDoc struct {
	ref Ref
	seq int32
}

func newTextIndex() *textIndex {
	return &textIndex{vocab: map[string]int32{}, seqs: map[string]int32{}}
}

// add analyses the text of the item ref.
func (x *textIndex) add(ref Ref, text string) {
	terms := Terms(text)
	key := make([]byte, 0, 4*len(terms))
	for _, w := range terms {
		id, ok := x.vocab[w]
		if !ok {
			id = int32(len(x.vocab))
			x.vocab[w] = id
		}
		key = binary.LittleEndian.AppendUint32(key, uint32(id))
	}
	s, ok := x.seqs[string(key)]
	if !ok {
		k := string(key)
		s = int32(len(x.uniq))
		x.uniq = append(x.uniq, k)
		x.seqs[k] = s
	}
	x.docs = append(x.docs, textDoc{ref, s})
}

// ids calls fn with each provisional id of sequence s.
func (x *textIndex) ids(s int32, fn func(int32)) {
	seq := x.uniq[s]
	for i := 0; i+4 <= len(seq); i += 4 {
		fn(int32(binary.LittleEndian.Uint32([]byte(seq[i : i+4]))))
	}
}

// index returns the TF-IDF index (without documents), the items in Ref
// order and their vectors (one shared between equal texts). Document
// frequencies count every item.
func (x *textIndex) index() (*TFIDF, []Ref, []vec) {
	slices.SortFunc(x.docs, func(a, b textDoc) int { return cmpRef(a.ref, b.ref) })
	final := make([]int32, len(x.vocab))
	for i := range final {
		final[i] = -1
	}
	var next int32
	uses := make([]int, len(x.uniq))
	for _, d := range x.docs {
		if uses[d.seq] == 0 { // a sequence seen before brings no new word
			x.ids(d.seq, func(p int32) {
				if final[p] < 0 {
					final[p] = next
					next++
				}
			})
		}
		uses[d.seq]++
	}
	t := &TFIDF{vocab: make(map[string]int32, len(x.vocab))}
	for w, p := range x.vocab {
		t.vocab[w] = final[p]
	}
	df := make([]int, len(x.vocab))
	seen := make([]int32, len(x.vocab)) // last sequence (+1) that counted the term
	ids := make([][]int32, len(x.uniq))
	for s := range x.uniq {
		x.ids(int32(s), func(p int32) {
			id := final[p]
			ids[s] = append(ids[s], id)
			if seen[id] != int32(s)+1 {
				seen[id] = int32(s) + 1
				df[id] += uses[s]
			}
		})
	}
	t.idf = make([]float32, len(df))
	n := float64(max(1, len(x.docs)))
	for i, d := range df {
		t.idf[i] = float32(math.Log(1 + n/float64(d)))
	}
	vecs := make([]vec, len(x.uniq))
	for s := range x.uniq {
		vecs[s] = t.vectorOfIDs(ids[s])
		ids[s] = nil
	}
	refs := make([]Ref, len(x.docs))
	out := make([]vec, len(x.docs))
	for k, d := range x.docs {
		refs[k], out[k] = d.ref, vecs[d.seq]
	}
	return t, refs, out
}

// Vector returns the normalised query vector of a text.
func (t *TFIDF) vector(text string) vec { return t.vectorOf(Terms(text)) }

func (t *TFIDF) vectorOf(tokens []string) vec {
	ids := make([]int32, 0, len(tokens))
	for _, w := range tokens {
		if id, ok := t.vocab[w]; ok {
			ids = append(ids, id)
		}
	}
	return t.vectorOfIDs(ids)
}

// vectorOfIDs is the vector of a text's term ids.
func (t *TFIDF) vectorOfIDs(ids []int32) vec {
	tf := map[int32]float64{}
	for _, id := range ids {
		tf[id]++
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
