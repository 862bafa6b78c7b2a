package matching

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// randomInstance is a synthetic instance with the cases the indexes must
// not miss: people and posts without a location, and (after a patch)
// people who moved since the build.
func randomInstance(t *testing.T, seed uint64) (*Engine, Data) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 11))
	d := synth(seed, 40+r.IntN(200), 300+r.IntN(1500), 200+r.IntN(600))
	for _, p := range d.People {
		if r.Float64() < 0.03 {
			p.Home = atigip.Point{}
		}
	}
	for _, p := range d.Posts {
		if r.Float64() < 0.02 {
			p.Location = atigip.Point{}
		}
	}
	e, err := New(d, Options{Today: synthToday})
	if err != nil {
		t.Fatal(err)
	}
	// Move some people (and give a home to some who had none): the
	// patched engine must find them at their new home.
	var moved []*atigip.Person
	for _, p := range d.People {
		if r.Float64() < 0.05 {
			c := *p
			c.Home = atigip.Point{Lat: 43 + 7*r.Float64(), Lon: -1.5 + 9*r.Float64()}
			c.Mobility.RadiusKm = float64(5 + r.IntN(60))
			moved = append(moved, &c)
		}
	}
	if e, err = e.Patch(Changes{People: moved}); err != nil {
		t.Fatal(err)
	}
	return e, d
}

// randomQuery draws a query shape, with a perimeter half the time.
func randomQuery(r *rand.Rand) Query {
	q := Query{Limit: 1 + r.IntN(30), Excluded: r.IntN(2) == 0, ExcludedLimit: r.IntN(15)}
	if r.IntN(2) == 0 {
		mod := int64(2 + r.IntN(4))
		q.Only = func(id int64) bool { return id%mod != 0 }
	}
	return q
}

// The indexed rankings give exactly what examining every pair gives:
// the same proposals in the same order with the same explanations, the
// same near misses, the same counts.
func TestIndexedRankingsEqualExhaustive(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			e, d := randomInstance(t, seed)
			r := rand.New(rand.NewPCG(seed, 5))
			for n := 0; n < 60; n++ {
				ii := e.byRef[refKey(Ref{KindTIG, d.Posts[r.IntN(len(d.Posts))].ID})]
				q := randomQuery(r)
				got, want := e.rankPeople(ii, q, false), e.rankPeople(ii, q, true)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("candidates of %v (%+v): indexed\n%+v\nexhaustive\n%+v", e.items.at(ii).ref, q, got, want)
				}
			}
			for n := 0; n < 200; n++ {
				pi := e.byID[d.People[r.IntN(len(d.People))].ID]
				q := randomQuery(r)
				got, want := e.rankItems(pi, q, false), e.rankItems(pi, q, true)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("offers for %d (%+v): fast\n%+v\nexhaustive\n%+v", e.people.at(pi).p.ID, q, got, want)
				}
			}
		})
	}
}
