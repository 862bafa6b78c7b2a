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
	// Detainees in three prisons, with work and training inside and jobs
	// at release around (some unlocated): the offers' paths.
	for _, p := range d.People {
		if r.Float64() < 0.15 {
			p.Detained, p.PrisonID, p.WorkCleared = true, int64(1+r.IntN(3)), r.IntN(4) > 0
		}
	}
	kinds := []atigip.OfferKind{atigip.OfferWork, atigip.OfferTraining, atigip.OfferRelease}
	for i, post := range d.Posts[:len(d.Posts)/4] {
		o := &atigip.Offer{Meta: atigip.Meta{ID: int64(i + 1)}, OfferKind: kinds[r.IntN(3)], Title: post.Title,
			Description: post.Description, ROMECodes: post.ROMECodes, Places: post.Places, Schedule: post.Schedule,
			HoursPerWeek: post.Schedule.HoursPerWeek(), Status: atigip.OfferOpen}
		if o.OfferKind == atigip.OfferRelease {
			if r.Float64() < 0.9 {
				o.Location = post.Location
			}
		} else {
			o.PrisonID = int64(1 + r.IntN(3))
		}
		d.Offers = append(d.Offers, o)
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
			bounded, offers := 0, 0
			for n := 0; n < 80; n++ {
				ii, _ := e.byRef.get(refKey(Ref{KindTIG, d.Posts[r.IntN(len(d.Posts))].ID}))
				if n%4 == 0 {
					o := d.Offers[r.IntN(len(d.Offers))]
					ii, _ = e.byRef.get(refKey(Ref{ItemKind(o.OfferKind), o.ID}))
				}
				q := randomQuery(r)
				got, want := e.rankPeople(ii, q, false), e.rankPeople(ii, q, true)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("candidates of %v (%+v): indexed\n%+v\nexhaustive\n%+v", e.items.at(ii).ref, q, got, want)
				}
			}
			for n := 0; n < 300; n++ {
				pi, _ := e.byID.get(d.People[r.IntN(len(d.People))].ID)
				q := randomQuery(r)
				if r.IntN(3) == 0 {
					q.Kinds = []ItemKind{[]ItemKind{KindTIG, KindWork, KindTraining, KindRelease}[r.IntN(4)]}
				}
				got, want := e.rankItems(pi, q, false), e.rankItems(pi, q, true)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("offers for %d (%+v): fast\n%+v\nexhaustive\n%+v", e.people.at(pi).p.ID, q, got, want)
				}
				if got.Feasible > len(got.Proposals) {
					bounded++
				}
				if len(got.Proposals) > 0 && got.Proposals[0].Item.Kind != KindTIG {
					offers++
				}
			}
			// The instance exercises what is compared: rankings cut by
			// the bound, and offers to detainees.
			if bounded < 20 || offers < 5 {
				t.Fatalf("only %d rankings beyond their limit, %d of offers", bounded, offers)
			}
		})
	}
}
