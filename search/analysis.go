package search

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/custom" // registers the "custom" analyzer type
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/shingle"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
)

// Names under which the French analysis chain is registered in bleve's
// global registry: the mapping stored with an index refers to them by
// name, so they must exist before any index is opened.
const (
	analyzerName = "atigip_fr"
	foldName     = "atigip_fold"
	feminineName = "atigip_fr_feminine"
	stopName     = "atigip_stop_fr"
	// pairName analyzes the pair fields (see mapping.go): the French chain
	// above, then each two consecutive tokens joined into one term, a
	// removed stop word standing as "_" ("taille des haies" gives
	// "taill _" and "_ hai").
	pairName       = "atigip_fr_pairs"
	pairFilterName = "atigip_pairs"
	// wordsName analyzes the words field (see fWords): the French chain
	// without feminine endings nor stemming, the words as written but for
	// case and accents, which typo correction compares with.
	wordsName = "atigip_fr_words"
)

// foldFilter removes accents from each token. It is a token filter rather
// than bleve's asciifolding char filter because a char filter shortens the
// text before tokenizing, which shifts the byte offsets the highlighter
// uses to cut snippets out of the original (accented) text.
type foldFilter struct {
	f *asciifolding.AsciiFoldingFilter
}

func (f foldFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		if !isASCII(t.Term) {
			t.Term = f.f.Filter(t.Term)
		}
	}
	return in
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// feminineFilter turns the feminine "-ère(s)" of job names into the
// masculine "-er(s)" before stemming: the light stemmer reduces
// "jardinier" to "jardini" but leaves "jardiniere" as "jardinier", so job
// titles written "Jardinier / Jardinière" would not meet otherwise. Short
// words ("mère", "frère") are left alone so as not to become "mer", "frer".
type feminineFilter struct{}

func (feminineFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		n := len(t.Term)
		switch {
		case n > 6 && bytes.HasSuffix(t.Term, []byte("eres")):
			t.Term = append(t.Term[:n-2], 's')
		case n > 5 && bytes.HasSuffix(t.Term, []byte("ere")):
			t.Term = t.Term[:n-1]
		}
	}
	return in
}

// stopWords is the snowball French stop list, both as written and folded,
// because the filter runs after accent folding ("été" → "ete", "où" → "ou").
func stopWords() analysis.TokenMap {
	m := analysis.NewTokenMap()
	if err := m.LoadBytes(fr.FrenchStopWords); err != nil {
		panic(fmt.Sprintf("search: French stop words: %v", err))
	}
	fold := asciifolding.New()
	for w := range m {
		m.AddToken(string(fold.Filter([]byte(w))))
	}
	return m
}

func init() {
	mustRegister(registry.RegisterTokenFilter(foldName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return foldFilter{asciifolding.New()}, nil
	}))
	mustRegister(registry.RegisterTokenFilter(feminineName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return feminineFilter{}, nil
	}))
	mustRegister(registry.RegisterTokenFilter(stopName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return stop.NewStopTokensFilter(stopWords()), nil
	}))
}

func mustRegister(err error) {
	if err != nil {
		panic(fmt.Sprintf("search: register analysis component: %v", err))
	}
}

// addAnalyzer declares the French analyzer on m: Unicode word segmentation,
// lower case, elision ("l'écurie" → "écurie"), accent folding, French stop
// words, feminine job endings, then the light (Savoy) stemmer that mostly
// strips plurals and feminine endings ("écuries", "ÉCURIE", "ecurie" →
// "ecur").
func addAnalyzer(m *mapping.IndexMappingImpl) error {
	chain := []any{
		lowercase.Name,
		fr.ElisionName,
		foldName,
		stopName,
		feminineName,
		fr.LightStemmerName,
	}
	if err := m.AddCustomAnalyzer(analyzerName, map[string]any{
		"type":          "custom",
		"tokenizer":     unicode.Name,
		"token_filters": chain,
	}); err != nil {
		return err
	}
	if err := m.AddCustomAnalyzer(wordsName, map[string]any{
		"type":          "custom",
		"tokenizer":     unicode.Name,
		"token_filters": chain[:4],
	}); err != nil {
		return err
	}
	if err := m.AddCustomTokenFilter(pairFilterName, map[string]any{
		"type":            shingle.Name,
		"min":             2.0,
		"max":             2.0,
		"output_original": false,
		"separator":       " ",
		"filler":          "_",
	}); err != nil {
		return err
	}
	return m.AddCustomAnalyzer(pairName, map[string]any{
		"type":          "custom",
		"tokenizer":     unicode.Name,
		"token_filters": append(chain, pairFilterName),
	})
}

var (
	standaloneOnce     sync.Once
	standaloneAnalyzer analysis.Analyzer
	pairAnalyzer       analysis.Analyzer
	wordsAnalyzer      analysis.Analyzer
)

// frAnalyzer returns the French analyzer outside any index, for query
// parsing and the ROME synonym table, so that both see the exact tokens the
// index holds.
func frAnalyzer() analysis.Analyzer {
	standaloneOnce.Do(func() {
		m, err := newMapping()
		if err != nil {
			panic(fmt.Sprintf("search: build mapping: %v", err))
		}
		standaloneAnalyzer = m.AnalyzerNamed(analyzerName)
		pairAnalyzer = m.AnalyzerNamed(pairName)
		wordsAnalyzer = m.AnalyzerNamed(wordsName)
		if standaloneAnalyzer == nil || pairAnalyzer == nil || wordsAnalyzer == nil {
			panic("search: French analyzers missing from the mapping")
		}
	})
	return standaloneAnalyzer
}

// Tokens returns the terms the index stores for text.
func Tokens(text string) []string { return terms(frAnalyzer(), text) }

// Words returns the words of text as the words field stores them: lower
// case, without accents, elisions nor stop words, unstemmed.
func Words(text string) []string {
	frAnalyzer()
	return terms(wordsAnalyzer, text)
}

// pairs returns the terms the pair fields store for text.
func pairs(text string) []string {
	frAnalyzer()
	return terms(pairAnalyzer, text)
}

func terms(a analysis.Analyzer, text string) []string {
	ts := a.Analyze([]byte(text))
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, string(t.Term))
	}
	return out
}
