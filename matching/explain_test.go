package matching

import (
	"context"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

var occRE = regexp.MustCompile(`occupée à (\d+) %`)

// The load term of an assignment's proposals says the occupancy its value
// is computed from (it counts the people the assignment already sends
// there), for every proposal of an assignment on the demo data.
func TestAssignmentLoadTermAgreesWithItsSentence(t *testing.T) {
	d := demoData(t, 0.05)
	e, err := New(d, Options{Today: atigip.DateOf(demoNow)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.Assign(context.Background(), AssignRequest{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Proposals) < 20 {
		t.Fatalf("only %d proposals", len(a.Proposals))
	}
	shared := 0
	for _, p := range a.Proposals {
		for _, term := range p.Terms {
			if term.Name != TermLoad {
				continue
			}
			m := occRE.FindStringSubmatch(term.Detail)
			if m == nil {
				t.Fatalf("load sentence without occupancy: %q", term.Detail)
			}
			occ, _ := strconv.Atoi(m[1])
			if want := math.Round(100 * (1 - term.Value)); math.Abs(float64(occ)-want) > 1 {
				t.Errorf("person %d: load value %.3f but sentence %q", p.PersonID, term.Value, term.Detail)
			}
			if strings.Contains(term.Detail, "propositions précédentes") {
				shared++
			}
		}
	}
	if shared == 0 {
		t.Error("no organisation received two people: the test does not reach the marginal load")
	}
}

// The sentence of rule measure says why a person has no measure to place,
// and never "no hours left" of someone placed with hours left.
func TestNoMeasureSentence(t *testing.T) {
	cases := []struct {
		state atigip.MeasureState
		done  float64
		want  string
	}{
		{atigip.MeasureAssigned, 10, "déjà « affectée » (110 heures restantes"},
		{atigip.MeasureInProgress, 60, "déjà « en cours d'exécution » (60 heures restantes"},
		{atigip.MeasureToPlace, 120, "toutes les heures prononcées sont faites"},
		{atigip.MeasureCompleted, 120, "la mesure est « exécutée »"},
	}
	for _, c := range cases {
		tc := newTIGCase()
		tc.measure.State, tc.measure.HoursDone = c.state, c.done
		if c.state != atigip.MeasureToPlace {
			tc.measure.PostID = 99
		}
		p, err := tc.engine(t).Explain(1, Ref{KindTIG, tc.post.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Exclusions) == 0 || p.Exclusions[0].Rule != RuleMeasure || !strings.Contains(p.Exclusions[0].Message, c.want) {
			t.Errorf("%s with %v h done: %+v, want %q", c.state, c.done, p.Exclusions, c.want)
		}
	}
}
