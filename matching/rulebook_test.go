package matching_test

import (
	"context"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
	"github.com/atigip/atigip360/matching/rulecases"
)

var rbToday = atigip.NewDate(2025, 3, 3)

func rbEngine(t *testing.T, w *rulecases.World) *matching.Engine {
	t.Helper()
	w.Link()
	e, err := matching.New(w.Data(), matching.Options{Today: w.Today})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Every case of the shared table, on both sides of its boundary, through
// the engine's three doors (ranking, candidates, assignment job) and
// matching.Check, the function the committing doors call.
func TestRulebookBoundaries(t *testing.T) {
	for _, c := range rulecases.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			for _, lawful := range []bool{true, false} {
				w := c.Apply(rbToday, lawful)
				e := rbEngine(t, w)
				subject, ref := w.Subject(c.Side), w.Ref(c.Side)
				ex := matching.Check(w.Pair(c.Side), w.Today, nil)
				expl, err := e.Explain(subject.ID, ref)
				if err != nil {
					t.Fatal(err)
				}
				rk, err := e.OffersForPerson(subject.ID, matching.Query{Kinds: []matching.ItemKind{ref.Kind}})
				if err != nil {
					t.Fatal(err)
				}
				cands, err := e.CandidatesFor(ref, matching.Query{})
				if err != nil {
					t.Fatal(err)
				}
				asg, err := e.Assign(context.Background(), matching.AssignRequest{People: []int64{subject.ID}, Kinds: []matching.ItemKind{ref.Kind}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				proposed := len(rk.Proposals) == 1 && rk.Proposals[0].Item == ref
				candidate := false
				for _, p := range cands.Proposals {
					candidate = candidate || p.PersonID == subject.ID
				}
				placed := len(asg.Proposals) == 1
				if lawful {
					if len(ex) != 0 || len(expl.Exclusions) != 0 || !proposed || !candidate || !placed {
						t.Fatalf("lawful side refused: check %+v, explain %+v, proposed %v, candidate %v, placed %v", ex, expl.Exclusions, proposed, candidate, placed)
					}
					continue
				}
				if proposed || candidate || placed {
					t.Fatalf("unlawful side let through: proposed %v, candidate %v, placed %v", proposed, candidate, placed)
				}
				var fromCheck, fromExplain string
				for _, x := range ex {
					if x.Rule == c.Rule {
						fromCheck = x.Message
					}
				}
				for _, x := range expl.Exclusions {
					if x.Rule == c.Rule {
						fromExplain = x.Message
					}
				}
				if fromCheck == "" || fromCheck != fromExplain {
					t.Fatalf("rule %s: check says %q, ranking says %q (all: %+v)", c.Rule, fromCheck, fromExplain, ex)
				}
			}
		})
	}
}

// The table covers every rule of the rulebook: the list of rules comes
// from matching.Rules itself, so a new rule without a case fails here.
func TestEveryRuleHasBoundaryCases(t *testing.T) {
	n := map[matching.Rule]int{}
	for _, c := range rulecases.Cases() {
		if _, ok := c.Rule.Info(); !ok {
			t.Errorf("case %q names an unknown rule %q", c.Name, c.Rule)
		}
		if c.Unlawful == nil {
			t.Errorf("case %q has no unlawful side", c.Name)
		}
		n[c.Rule]++
	}
	for _, r := range matching.Rules {
		if n[r.Rule] == 0 {
			t.Errorf("rule %s has no boundary case", r.Rule)
		}
		if r.Law == "" || r.Label == "" || r.Scope == 0 || len(r.Doors()) < 3 {
			t.Errorf("rule %s: incomplete row %+v", r.Rule, r)
		}
	}
}
