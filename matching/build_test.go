package matching

import (
	"cmp"
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed"
)

// dataTx is a store holding a seed's data set that can only be scanned,
// in ascending id as every store's Scan is (filters are not applied).
type dataTx struct {
	atigip.Tx
	ds *seed.Dataset
}

type scanOnly struct {
	atigip.Entities
	all []atigip.Entity
}

func (s scanOnly) Scan(_ context.Context, _ atigip.ListFilter, fn func(atigip.Entity) error) error {
	all := slices.Clone(s.all)
	slices.SortFunc(all, func(x, y atigip.Entity) int { return cmp.Compare(x.GetMeta().ID, y.GetMeta().ID) })
	for _, x := range all {
		if err := fn(x); err != nil {
			return err
		}
	}
	return nil
}

func (tx dataTx) Entities(k atigip.Kind) atigip.Entities { return scanOnly{all: tx.ds.Entities(k)} }

// TestBuildEqualsNew checks that an engine built while the store is
// scanned (what a snapshot now does, holding one record at a time)
// answers exactly as one built from the loaded data: rankings in both
// directions, with their explanations, and the global assignment.
func TestBuildEqualsNew(t *testing.T) {
	ds, err := seed.Generate(seed.Options{Scale: 0.05, Seed: 1, Now: demoNow})
	if err != nil {
		t.Fatal(err)
	}
	ds.NumberByPosition()
	// The slices out of id order: New sorts them, a scan gives them sorted.
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(ds.Posts), func(i, j int) { ds.Posts[i], ds.Posts[j] = ds.Posts[j], ds.Posts[i] })
	r.Shuffle(len(ds.People), func(i, j int) { ds.People[i], ds.People[j] = ds.People[j], ds.People[i] })
	d := Data{Posts: ds.Posts, Offers: ds.Offers, Organisations: ds.Organisations, People: ds.People,
		Measures: ds.Measures, Applications: ds.Applications}
	opts := Options{Today: atigip.DateOf(demoNow)}
	want, err := New(d, opts)
	if err != nil {
		t.Fatal(err)
	}
	var seen int
	got, err := Build(t.Context(), dataTx{ds: ds}, opts, func(*atigip.Person) { seen++ })
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(d.People) {
		t.Fatalf("each saw %d people, want %d", seen, len(d.People))
	}
	same := func(what string, x, y any) { t.Helper(); sameJSON(t, what, "built", "new", x, y) }
	q := Query{Excluded: true}
	for _, p := range d.People[:min(200, len(d.People))] {
		x, errX := got.OffersForPerson(p.ID, q)
		y, errY := want.OffersForPerson(p.ID, q)
		same("offers for person", []any{x, errX}, []any{y, errY})
	}
	for _, p := range d.Posts[:min(100, len(d.Posts))] {
		x, errX := got.CandidatesFor(Ref{KindTIG, p.ID}, q)
		y, errY := want.CandidatesFor(Ref{KindTIG, p.ID}, q)
		same("candidates for post", []any{x, errX}, []any{y, errY})
	}
	x, err := got.Assign(t.Context(), AssignRequest{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	y, err := want.Assign(t.Context(), AssignRequest{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	x.Stats.Seconds, y.Stats.Seconds = 0, 0
	same("assignment", x, y)
}

// sameJSON fails t when x and y (named nx and ny) differ in JSON.
func sameJSON(t *testing.T, what, nx, ny string, x, y any) {
	t.Helper()
	a, _ := json.Marshal(x)
	b, _ := json.Marshal(y)
	if string(a) != string(b) {
		t.Fatalf("%s differs:\n%s %s\n%s %s", what, nx, a, ny, b)
	}
}

// TestBuilderOrder checks that records out of the builder's order fail
// the build instead of giving an engine whose indices depend on it.
func TestBuilderOrder(t *testing.T) {
	post := func(id int64) *atigip.Post { p := &atigip.Post{}; p.ID = id; return p }
	person := func(id int64) *atigip.Person { p := &atigip.Person{}; p.ID = id; return p }
	for _, tc := range []struct {
		name string
		recs []atigip.Entity
		ok   bool
	}{
		{"in order", []atigip.Entity{post(1), post(2), person(1), person(5)}, true},
		{"posts descending", []atigip.Entity{post(2), post(1)}, false},
		{"a post after the people", []atigip.Entity{post(1), person(1), post(2)}, false},
		{"a repeated person", []atigip.Entity{person(3), person(3)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NewBuilder(Options{Today: atigip.DateOf(demoNow)}, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.recs {
				err = b.Add(r)
			}
			if (err == nil) != tc.ok {
				t.Fatalf("error %v, want ok %v", err, tc.ok)
			}
		})
	}
}
