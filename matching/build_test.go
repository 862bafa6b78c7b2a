package matching

import (
	"cmp"
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// dataTx is a store holding d that can only be scanned, in ascending id
// as every store's Scan is; applications are all accepted contracts.
type dataTx struct {
	atigip.Tx
	d Data
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

func entitiesOf[T atigip.Entity](xs []T) []atigip.Entity {
	out := make([]atigip.Entity, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func (tx dataTx) Entities(k atigip.Kind) atigip.Entities {
	var all []atigip.Entity
	switch k {
	case atigip.KindOrganisation:
		all = entitiesOf(tx.d.Organisations)
	case atigip.KindMeasure:
		all = entitiesOf(tx.d.Measures)
	case atigip.KindPost:
		all = entitiesOf(tx.d.Posts)
	case atigip.KindOffer:
		all = entitiesOf(tx.d.Offers)
	case atigip.KindApplication:
		all = entitiesOf(tx.d.Applications)
	case atigip.KindPerson:
		all = entitiesOf(tx.d.People)
	}
	return scanOnly{all: all}
}

// TestBuildEqualsNew checks that an engine built while the store is
// scanned (what a snapshot now does, holding one record at a time)
// answers exactly as one built from the loaded data: rankings in both
// directions, with their explanations, and the global assignment.
func TestBuildEqualsNew(t *testing.T) {
	d := demoData(t, 0.05)
	// The slices out of id order: New sorts them, a scan gives them sorted.
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(d.Posts), func(i, j int) { d.Posts[i], d.Posts[j] = d.Posts[j], d.Posts[i] })
	r.Shuffle(len(d.People), func(i, j int) { d.People[i], d.People[j] = d.People[j], d.People[i] })
	opts := Options{Today: atigip.DateOf(demoNow)}
	want, err := New(d, opts)
	if err != nil {
		t.Fatal(err)
	}
	var seen int
	got, err := Build(t.Context(), dataTx{d: d}, opts, func(*atigip.Person) { seen++ })
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(d.People) {
		t.Fatalf("each saw %d people, want %d", seen, len(d.People))
	}
	same := func(what string, x, y any) {
		t.Helper()
		a, _ := json.Marshal(x)
		b, _ := json.Marshal(y)
		if string(a) != string(b) {
			t.Fatalf("%s differs:\nbuilt %s\nnew   %s", what, a, b)
		}
	}
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
