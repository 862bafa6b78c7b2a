package matching_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
	"github.com/atigip/atigip360/matching/rulecases"
)

// changesTo lists every record of w as changed (and the organisation as
// deleted when w deletes it).
func changesTo(w *rulecases.World) matching.Changes {
	d := w.Data()
	c := matching.Changes{Posts: d.Posts, Offers: d.Offers, Organisations: d.Organisations, People: d.People,
		Measures: d.Measures, Applications: d.Applications}
	if w.OrgDeleted {
		c.DeletedOrganisations = []int64{w.Org.ID}
	}
	return c
}

// A patched engine judges every pair of every boundary case as an engine
// built from scratch over the same records, in both directions (lawful to
// unlawful and back); the engine patched from stays as it was.
func TestPatchAgreesWithABuild(t *testing.T) {
	patched := 0
	for _, c := range rulecases.Cases() {
		for _, lawfulFirst := range []bool{true, false} {
			from, to := c.Apply(rbToday, lawfulFirst), c.Apply(rbToday, !lawfulFirst)
			from.Link()
			to.Link()
			if !slices.Equal(fromContracts(from), fromContracts(to)) {
				continue // new contract offers: a rebuild, tested below
			}
			e0, err := matching.New(from.Data(), matching.Options{Today: rbToday})
			if err != nil {
				t.Fatal(err)
			}
			before := verdicts(t, e0, from, c.Side)
			ep, err := e0.Patch(changesTo(to))
			if errors.Is(err, matching.ErrRebuild) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			patched++
			eb, err := matching.New(to.Data(), matching.Options{Today: rbToday})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := verdicts(t, ep, to, c.Side), verdicts(t, eb, to, c.Side); !slices.Equal(got, want) {
				t.Errorf("%s (lawful first %v): patched %q, built %q", c.Name, lawfulFirst, got, want)
			}
			if after := verdicts(t, e0, from, c.Side); !slices.Equal(before, after) {
				t.Errorf("%s: the engine patched from changed", c.Name)
			}
		}
	}
	if patched < len(rulecases.Cases()) {
		t.Errorf("only %d patches out of %d cases × 2", patched, len(rulecases.Cases()))
	}
}

func fromContracts(w *rulecases.World) []int64 {
	var ids []int64
	for _, c := range w.Contracts {
		ids = append(ids, c.ID)
	}
	return ids
}

// verdicts is every exclusion of the case's pair, and of the rival on the
// post, as sentences.
func verdicts(t *testing.T, e *matching.Engine, w *rulecases.World, side rulecases.Side) []string {
	t.Helper()
	var out []string
	for _, pair := range []struct {
		person int64
		ref    matching.Ref
	}{{w.Subject(side).ID, w.Ref(side)}, {w.Rival.ID, w.Ref(rulecases.SideTIG)}} {
		p, err := e.Explain(pair.person, pair.ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Exclusions) == 0 {
			out = append(out, "feasible")
		}
		for _, x := range p.Exclusions {
			out = append(out, x.Message)
		}
	}
	return out
}

// Moved posts and deleted people ask for a rebuild; new records for a build later.
func TestPatchAsksForARebuild(t *testing.T) {
	w := rulecases.New(rbToday)
	w.Link()
	e, err := matching.New(w.Data(), matching.Options{Today: rbToday})
	if err != nil {
		t.Fatal(err)
	}
	moved := *w.Post
	moved.Location = rulecases.East(rulecases.Lyon, 5)
	newPost := *w.Post
	newPost.ID = 999
	for name, c := range map[string]matching.Changes{
		"moved post":     {Posts: []*atigip.Post{&moved}},
		"deleted person": {DeletedPeople: []int64{w.Person.ID}},
	} {
		if _, err := e.Patch(c); !errors.Is(err, matching.ErrRebuild) {
			t.Errorf("%s: %v, want ErrRebuild", name, err)
		}
	}
	// A new post is left to the next build, and the patch says so.
	ep, err := e.Patch(matching.Changes{Posts: []*atigip.Post{&newPost}})
	if err != nil || !ep.Incomplete() || ep.Has(matching.Ref{Kind: matching.KindTIG, ID: 999}) || e.Incomplete() {
		t.Fatalf("new post: %v, incomplete %v", err, ep != nil && ep.Incomplete())
	}
}
