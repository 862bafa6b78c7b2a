package search

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// relevanceFile is testdata/relevance.json: hand-made judgments of French
// queries on the demo set (see its "method").
type relevanceFile struct {
	Method  []string `json:"method"`
	Dataset struct {
		Seed  uint64  `json:"seed"`
		Scale float64 `json:"scale"`
	} `json:"dataset"`
	Floors struct {
		PrecisionAt5 float64 `json:"precision_at_5"`
		NDCGAt10     float64 `json:"ndcg_at_10"`
	} `json:"floors"`
	Queries []relQuery `json:"queries"`
}

type relQuery struct {
	Q           string      `json:"q"`
	Role        atigip.Role `json:"role,omitempty"`
	Types       []Type      `json:"type,omitempty"`
	Departement string      `json:"departement,omitempty"`
	Region      string      `json:"region,omitempty"`
	Minors      *bool       `json:"minors,omitempty"`
	Relevant    []criterion `json:"relevant"`
	Note        string      `json:"note,omitempty"`
}

// criterion grades the documents that have every property it sets.
type criterion struct {
	Grade       int      `json:"grade"` // 2 highly relevant, 1 partly
	Type        Type     `json:"type,omitempty"`
	Subtype     string   `json:"subtype,omitempty"`
	ROME        []string `json:"rome,omitempty"`   // any of
	Domain      string   `json:"domain,omitempty"` // ROME domaine professionnel prefix ("A12")
	Departement string   `json:"departement,omitempty"`
	Region      string   `json:"region,omitempty"`
	Text        []string `json:"text,omitempty"` // any of, in title or body, accents and case ignored
	Minors      *bool    `json:"minors,omitempty"`
}

func (c criterion) match(d *document) bool {
	switch {
	case c.Type != "" && Type(d.Type) != c.Type,
		c.Subtype != "" && d.Subtype != c.Subtype,
		c.Departement != "" && d.Departement != c.Departement,
		c.Region != "" && d.Region != c.Region,
		c.Minors != nil && d.Minors != *c.Minors:
		return false
	case len(c.ROME) > 0 && !slices.ContainsFunc(d.ROME, func(r string) bool { return slices.Contains(c.ROME, r) }):
		return false
	case c.Domain != "" && !slices.ContainsFunc(d.ROME, func(r string) bool { return strings.HasPrefix(r, c.Domain) }):
		return false
	}
	if len(c.Text) > 0 {
		text := refdata.Normalize(d.Title + " " + d.Body)
		if Type(d.Type) == TypeOrganisation {
			text = refdata.Normalize(d.Parent + " " + d.Body) // its name
		}
		if !slices.ContainsFunc(c.Text, func(s string) bool { return strings.Contains(text, refdata.Normalize(s)) }) {
			return false
		}
	}
	return true
}

func (q relQuery) grade(d *document) int {
	g := 0
	for _, c := range q.Relevant {
		if c.match(d) {
			g = max(g, c.Grade)
		}
	}
	return g
}

// collectSink keeps every document of a rebuild, to grade hits and to
// know the ideal ranking of each query.
type collectSink struct{ docs map[string]*document }

func (s *collectSink) index(id string, d document) error { s.docs[id] = &d; return nil }
func (s *collectSink) finish(int64) (bleve.Index, error) { return nil, nil }
func (s *collectSink) abort()                            {}

type relMetrics struct {
	p5, ndcg10 float64
	relevant   int
}

// evaluate runs q and measures precision@5 (over min(5, relevant
// documents), so a query with three good answers can score 1) and
// NDCG@10 with exponential gains against the ideal order of all documents
// the role may see.
func evaluate(t testing.TB, ix *Index, docs map[string]*document, q relQuery) relMetrics {
	t.Helper()
	role := q.Role
	if role == "" {
		role = atigip.RolePublic
	}
	res, err := ix.Search(context.Background(), Request{Query: q.Q, Role: role, Types: q.Types,
		Departement: q.Departement, Region: q.Region, Minors: q.Minors, PerPage: 10})
	if err != nil {
		t.Fatalf("%q: %v", q.Q, err)
	}
	justice := role.Audience() == atigip.AudienceJustice
	var ideal []int
	for _, d := range docs {
		if d.Audience != audPublic && !justice {
			continue
		}
		if g := q.grade(d); g > 0 {
			ideal = append(ideal, g)
		}
	}
	slices.SortFunc(ideal, func(a, b int) int { return b - a })
	m := relMetrics{relevant: len(ideal)}
	if len(ideal) == 0 {
		t.Errorf("%q: no relevant document in the demo set: fix the judgment", q.Q)
		return m
	}
	dcg, idcg, good5 := 0.0, 0.0, 0
	for i := 0; i < 10; i++ {
		disc := math.Log2(float64(i) + 2)
		if i < len(ideal) {
			idcg += (math.Pow(2, float64(ideal[i])) - 1) / disc
		}
		if i < len(res.Hits) {
			h := res.Hits[i]
			d := docs[string(h.Type)+":"+itoa(h.ID)]
			if d == nil {
				t.Fatalf("%q: hit %s %d not in the store", q.Q, h.Type, h.ID)
			}
			g := q.grade(d)
			dcg += (math.Pow(2, float64(g)) - 1) / disc
			if i < 5 && g > 0 {
				good5++
			}
		}
	}
	m.p5 = float64(good5) / float64(min(5, len(ideal)))
	m.ndcg10 = dcg / idcg
	return m
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// relevanceSetup reads testdata/relevance.json and builds the index of the
// demo set it was judged on (in dir; "" in memory), with every document.
func relevanceSetup(t testing.TB, dir string) (relevanceFile, *Index, *collectSink) {
	var f relevanceFile
	raw, err := os.ReadFile("testdata/relevance.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if f.Dataset.Seed != testSeed || f.Dataset.Scale != testScale {
		t.Fatalf("judgments made on seed %d scale %g, tests seed %d scale %g", f.Dataset.Seed, f.Dataset.Scale, testSeed, testScale)
	}
	db := openStore(t, f.Dataset.Scale)
	ix := builtIndex(t, db, dir)
	sink := &collectSink{docs: map[string]*document{}}
	if _, err := fill(context.Background(), db, sink, newFilterTable(), nil); err != nil {
		t.Fatal(err)
	}
	return f, ix, sink
}

// TestRelevance measures the ranking on the hand-judged queries of
// testdata/relevance.json and fails under the floors recorded there.
// Run `go test ./search -run TestRelevance -v` to see every query's scores.
func TestRelevance(t *testing.T) {
	f, ix, sink := relevanceSetup(t, "")
	if len(f.Queries) < 40 {
		t.Fatalf("%d queries, want at least 40", len(f.Queries))
	}
	var sumP, sumN float64
	for _, q := range f.Queries {
		m := evaluate(t, ix, sink.docs, q)
		sumP += m.p5
		sumN += m.ndcg10
		t.Logf("P@5 %.2f  NDCG@10 %.2f  (%4d relevant)  %s %v %s %s", m.p5, m.ndcg10, m.relevant, q.Q, q.Types, q.Departement, q.Role)
	}
	p5, ndcg := sumP/float64(len(f.Queries)), sumN/float64(len(f.Queries))
	t.Logf("mean over %d queries: precision@5 %.3f, NDCG@10 %.3f (floors %.2f, %.2f)", len(f.Queries), p5, ndcg, f.Floors.PrecisionAt5, f.Floors.NDCGAt10)
	if p5 < f.Floors.PrecisionAt5 || ndcg < f.Floors.NDCGAt10 {
		t.Errorf("relevance under the floor: precision@5 %.3f (floor %.2f), NDCG@10 %.3f (floor %.2f)", p5, f.Floors.PrecisionAt5, ndcg, f.Floors.NDCGAt10)
	}
}
