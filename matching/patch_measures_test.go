package matching

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// TestPatchMeasuresAgreesWithABuild patches the demo engine with measures
// changed (placed, proposed to the judge on a post, finished, given to
// someone else), new and deleted, and checks that every person concerned
// is ranked, and every post involved is given candidates, exactly as by an
// engine built over the changed records.
func TestPatchMeasuresAgreesWithABuild(t *testing.T) {
	d := demoData(t, 0.1)
	opts := Options{Today: atigip.DateOf(demoNow)}
	e0, err := New(d, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	states := []atigip.MeasureState{atigip.MeasureToPlace, atigip.MeasureProposed, atigip.MeasureAssigned,
		atigip.MeasureCompleted, atigip.MeasureClosedFailed}
	var ch Changes
	people := map[int64]bool{}
	posts := map[int64]bool{}
	after := slices.Clone(d.Measures)
	for k := 0; k < 60; k++ {
		i := r.IntN(len(after))
		m := *after[i]
		people[m.PersonID] = true
		switch k % 4 {
		case 0: // deleted
			ch.DeletedMeasures = append(ch.DeletedMeasures, m.ID)
			after = slices.Delete(after, i, i+1)
			continue
		case 1: // given to someone else
			m.PersonID = d.People[r.IntN(len(d.People))].ID
		case 2: // new
			m.ID = 1_000_000 + int64(k)
			m.PersonID = d.People[r.IntN(len(d.People))].ID
			after = append(after, &m)
			i = len(after) - 1
		}
		m.State = states[r.IntN(len(states))]
		if m.State != atigip.MeasureToPlace {
			m.PostID = d.Posts[r.IntN(len(d.Posts))].ID
			posts[m.PostID] = true
		}
		people[m.PersonID] = true
		after[i] = &m
		ch.Measures = append(ch.Measures, &m)
	}
	ep, err := e0.Patch(ch)
	if err != nil {
		t.Fatal(err)
	}
	d.Measures = after
	eb, err := New(d, opts)
	if err != nil {
		t.Fatal(err)
	}
	same := func(what string, x, y any) { t.Helper(); sameJSON(t, what, "patched", "built", x, y) }
	q := Query{Excluded: true}
	for id := range people {
		x, errX := ep.OffersForPerson(id, q)
		y, errY := eb.OffersForPerson(id, q)
		same("offers for person", []any{x, errX}, []any{y, errY})
	}
	for id := range posts {
		x, errX := ep.CandidatesFor(Ref{KindTIG, id}, q)
		y, errY := eb.CandidatesFor(Ref{KindTIG, id}, q)
		same("candidates for post", []any{x, errX}, []any{y, errY})
	}
	if !slices.IsSortedFunc(ep.measures, cmpMeasure) || len(ep.measures) != len(after) {
		t.Fatalf("patched measures: %d, sorted %v; want %d", len(ep.measures), slices.IsSortedFunc(ep.measures, cmpMeasure), len(after))
	}
}
