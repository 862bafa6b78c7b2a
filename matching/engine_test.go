package matching

import (
	"math"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/atigip/atigip360/internal/atigip"
)

func TestExplanationTerms(t *testing.T) {
	c := newTIGCase()
	e := c.engine(t)
	p, err := e.Explain(1, Ref{KindTIG, 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Exclusions) != 0 || len(p.Terms) != nTerms {
		t.Fatalf("feasible pair: %+v", p)
	}
	var sum float64
	byName := map[TermName]Term{}
	for _, term := range p.Terms {
		if term.Value < 0 || term.Value > 1 || term.Label == "" || term.Detail == "" {
			t.Errorf("term %+v", term)
		}
		if math.Abs(term.Points-round3(term.Weight*term.Value)) > 0.002 {
			t.Errorf("term %s: points %v != weight × value", term.Name, term.Points)
		}
		sum += term.Points
		byName[term.Name] = term
	}
	if math.Abs(sum-p.Score) > 0.01 {
		t.Errorf("terms add up to %v, score %v", sum, p.Score)
	}
	tests := []struct {
		name   TermName
		value  float64
		detail string
	}{
		{TermROME, 1, "Même métier : "},
		{TermDistance, math.Exp(-3.0 / 10), "À 3 km du domicile (rayon de mobilité 10 km)."},
		{TermSchedule, 1, "6 h sur 6 h hebdomadaires du poste pendant les disponibilités."},
		{TermLoad, 0.5, "Structure occupée à 50 % (1 place(s) prise(s) sur 2)."},
		{TermUrgency, 0, "Échéance de la mesure le 10/07/2026 (60 heures restantes)."},
	}
	for _, tt := range tests {
		got := byName[tt.name]
		if math.Abs(got.Value-tt.value) > 0.01 {
			t.Errorf("%s = %v, want %v", tt.name, got.Value, tt.value)
		}
		if !strings.HasPrefix(got.Detail, tt.detail) {
			t.Errorf("%s detail %q, want prefix %q", tt.name, got.Detail, tt.detail)
		}
	}
	if byName[TermText].Value <= 0 {
		t.Errorf("experience 'espaces verts' should fit the post's text: %+v", byName[TermText])
	}
	if !strings.HasPrefix(p.Summary, "Score 0,") || !strings.Contains(p.Summary, "Même métier") {
		t.Errorf("summary %q", p.Summary)
	}
}

func TestExplainListsEveryBrokenRule(t *testing.T) {
	c := newTIGCase()
	c.post.Status = atigip.PostClosed
	c.post.Location = east(lyon, 40)
	c.person.JobHoursPerWeek = 45
	p, err := c.engine(t).Explain(1, Ref{KindTIG, 7})
	if err != nil {
		t.Fatal(err)
	}
	var rules []Rule
	for _, x := range p.Exclusions {
		rules = append(rules, x.Rule)
	}
	want := []Rule{RuleOpen, RuleMobility, RuleWorkingWeek}
	if len(rules) != len(want) {
		t.Fatalf("rules %v, want %v", rules, want)
	}
	for i := range want {
		if rules[i] != want[i] {
			t.Fatalf("rules %v, want %v", rules, want)
		}
	}
	if x := p.Exclusions[1]; x.Value < 39 || x.Value > 41 || x.Limit != 10 ||
		!strings.HasPrefix(x.Message, "Le poste est à ") || !strings.HasSuffix(x.Message, " km du domicile, au-delà du rayon de mobilité de 10 km.") {
		t.Errorf("mobility exclusion %+v", x)
	}
}

func TestRankingOrderAndExcluded(t *testing.T) {
	d := synth(3, 300, 3000, 400)
	e, err := New(d, Options{Today: synthToday})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, pp := range d.People[:100] {
		rk, err := e.OffersForPerson(pp.ID, Query{Limit: 10, Excluded: true, ExcludedLimit: 5})
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range rk.Proposals {
			if p.Rank != i+1 || (i > 0 && p.Score > rk.Proposals[i-1].Score) {
				t.Fatalf("ranking out of order: %+v", rk.Proposals)
			}
			if p.DistanceKm > pp.Mobility.RadiusKm+0.1 {
				t.Fatalf("proposal beyond radius: %+v", p)
			}
			// Both directions agree on the pair's score.
			cands, err := e.CandidatesFor(p.Item, Query{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, c := range cands.Proposals {
				if c.PersonID == pp.ID {
					found = c.Score == p.Score
				}
			}
			if !found {
				t.Fatalf("person %d missing or scored differently among the candidates of %v", pp.ID, p.Item)
			}
			checked++
		}
		for _, x := range rk.Excluded {
			if len(x.Exclusions) == 0 || x.Score != 0 {
				t.Fatalf("excluded without reason: %+v", x)
			}
		}
		if rk.Feasible < len(rk.Proposals) || rk.Examined < rk.Feasible {
			t.Fatalf("counts %+v", rk)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d proposals checked: instance too sparse", checked)
	}
	if _, err := e.OffersForPerson(-1, Query{}); atigip.ErrorCode(err) != atigip.ENOTFOUND {
		t.Fatalf("unknown person: %v", err)
	}
	if _, err := e.CandidatesFor(Ref{KindWork, 1}, Query{}); atigip.ErrorCode(err) != atigip.ENOTFOUND {
		t.Fatalf("unknown offer: %v", err)
	}
}

// fixedText is an external TextScorer: the engine must use it.
type fixedText struct{ v float64 }

func (f fixedText) TextFit(_ string, items []Ref, out []float64) {
	for i := range items {
		out[i] = f.v
	}
}

func TestExternalTextScorer(t *testing.T) {
	c := newTIGCase()
	e, err := New(Data{Posts: []*atigip.Post{c.post}, People: []*atigip.Person{c.person}, Measures: []*atigip.Measure{c.measure}},
		Options{Today: synthToday, Text: fixedText{0.42}})
	if err != nil {
		t.Fatal(err)
	}
	for _, get := range []func() (Proposal, error){
		func() (Proposal, error) { return e.Explain(1, Ref{KindTIG, 7}) },
		func() (Proposal, error) {
			rk, err := e.CandidatesFor(Ref{KindTIG, 7}, Query{})
			if err != nil || len(rk.Proposals) == 0 {
				return Proposal{}, err
			}
			return rk.Proposals[0], nil
		},
	} {
		p, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if p.Terms[2].Name != TermText || p.Terms[2].Value != 0.42 {
			t.Fatalf("text term %+v", p.Terms)
		}
	}
}

// wordText is an external TextScorer whose fit says whether the person's
// text holds a word.
type wordText struct{ word string }

func (w wordText) TextFit(text string, items []Ref, out []float64) {
	for i := range items {
		out[i] = 0
		if strings.Contains(text, w.word) {
			out[i] = 1
		}
	}
}

// An external scorer is given the person's experience and wishes, the
// patched ones after a patch, and the engine patched from keeps its own.
func TestExternalTextScorerWords(t *testing.T) {
	c := newTIGCase()
	c.person.Experience = "maraîchage"
	e, err := New(Data{Posts: []*atigip.Post{c.post}, People: []*atigip.Person{c.person}, Measures: []*atigip.Measure{c.measure}},
		Options{Today: synthToday, Text: wordText{"maraîchage"}})
	if err != nil {
		t.Fatal(err)
	}
	moved := *c.person
	moved.Experience = "menuiserie"
	ep, err := e.Patch(Changes{People: []*atigip.Person{&moved}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		e    *Engine
		want float64
	}{{e, 1}, {ep, 0}} {
		p, err := tc.e.Explain(c.person.ID, Ref{KindTIG, c.post.ID})
		if err != nil {
			t.Fatal(err)
		}
		if p.Terms[2].Value != tc.want {
			t.Fatalf("text term %v, want %v", p.Terms[2].Value, tc.want)
		}
	}
}

func TestTerms(t *testing.T) {
	got := strings.Join(Terms("L'écurie des chevaux ; ÉCURIES et jardinières"), " ")
	if got != "ecur cheval ecur jardinier" {
		t.Fatalf("Terms = %q", got)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultConfig()
	bad.DistanceScaleKm = 0
	if _, err := New(Data{}, Options{Config: &bad}); err == nil {
		t.Fatal("invalid config accepted")
	}
	w := DefaultConfig()
	if s := w.WeightROME + w.WeightSkills + w.WeightText + w.WeightDistance + w.WeightSchedule + w.WeightUrgency + w.WeightLoad; math.Abs(s-1) > 1e-9 {
		t.Fatalf("default weights sum to %v, want 1", s)
	}
}

// TestEngineKeepsNoRecords checks that an engine holds no person or
// measure record once its data is dropped: it keeps a flat profile (the
// records would double its memory at national size).
func TestEngineKeepsNoRecords(t *testing.T) {
	d := synth(9, 20, 100, 50)
	people := make([]weak.Pointer[atigip.Person], len(d.People))
	for i, p := range d.People {
		people[i] = weak.Make(p)
	}
	measures := make([]weak.Pointer[atigip.Measure], len(d.Measures))
	for i, m := range d.Measures {
		measures[i] = weak.Make(m)
	}
	e, err := New(d, Options{Today: synthToday})
	if err != nil {
		t.Fatal(err)
	}
	d = Data{}
	runtime.GC()
	for i, w := range people {
		if w.Value() != nil {
			t.Fatalf("person %d is still held", i+1)
		}
	}
	for i, w := range measures {
		if w.Value() != nil {
			t.Fatalf("measure %d is still held", i+1)
		}
	}
	if _, err := e.OffersForPerson(1, Query{}); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(d)
}
