package matching

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// smallInstance is a dense random instance: few people, few posts with
// few places, all in one town, so that people compete for places.
func smallInstance(seed uint64, nPeople, nPosts int) Data {
	d := synth(seed, 3, nPosts, nPeople)
	r := rand.New(rand.NewPCG(seed, 99))
	for _, p := range d.Posts {
		p.Location = east(lyon, r.Float64()*8)
		p.Places = 1 + r.IntN(2)
		p.PlacesTaken = 0
		p.OrganisationID = int64(1 + r.IntN(3))
	}
	for _, p := range d.People {
		p.Home = east(lyon, r.Float64()*8)
		p.Mobility.RadiusKm = 4 + float64(r.IntN(8))
	}
	return d
}

// checkAssignment verifies capacities and hard constraints of a result.
func checkAssignment(t *testing.T, e *Engine, a *Assignment) {
	t.Helper()
	used := map[Ref]int{}
	seen := map[int64]bool{}
	for _, p := range a.Proposals {
		if seen[p.PersonID] {
			t.Fatalf("%s: person %d placed twice", a.Method, p.PersonID)
		}
		seen[p.PersonID] = true
		used[p.Item]++
		x, err := e.Explain(p.PersonID, p.Item)
		if err != nil {
			t.Fatal(err)
		}
		if len(x.Exclusions) > 0 {
			t.Fatalf("%s: proposal %d → %v breaks %+v", a.Method, p.PersonID, p.Item, x.Exclusions)
		}
	}
	for ref, n := range used {
		ii, _ := e.byRef.get(refKey(ref))
		if left := int(e.items.at(ii).left); n > left {
			t.Fatalf("%s: %v receives %d people for %d places", a.Method, ref, n, left)
		}
	}
	if len(a.Proposals)+len(a.Unplaced) != a.Stats.People {
		t.Fatalf("%s: %d placed + %d unplaced != %d people", a.Method, len(a.Proposals), len(a.Unplaced), a.Stats.People)
	}
}

// bruteForce returns the best objective over every assignment of a tiny
// problem, by exhaustive search with the same value model.
func bruteForce(e *Engine, pr *problem) int64 {
	left := append([]int32(nil), pr.caps...)
	perGroup := make([]int, len(pr.groups))
	var best int64 = math.MinInt64
	var rec func(n int, acc int64)
	rec = func(n int, acc int64) {
		if n == len(pr.people) {
			best = max(best, acc)
			return
		}
		rec(n+1, acc) // unplaced
		for _, c := range pr.cands[n] {
			if left[c.item] == 0 {
				continue
			}
			g := pr.itemGrp[c.item]
			m := e.marginal(pr.groups[g], perGroup[g])
			left[c.item]--
			perGroup[g]++
			rec(n+1, acc+c.v+m)
			perGroup[g]--
			left[c.item]++
		}
	}
	rec(0, 0)
	return best
}

// Property: on random instances the flow never exceeds a capacity nor
// breaks a hard constraint, is optimal (equal to exhaustive search on tiny
// instances), and is never below the greedy baseline.
func TestAssignProperties(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 60; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			nPeople, nPosts := 4+int(seed%5), 3+int(seed%4)
			if seed > 40 {
				nPeople, nPosts = 40+int(seed), 25
			}
			d := smallInstance(seed, nPeople, nPosts)
			cfg := DefaultConfig()
			if seed%3 == 0 {
				cfg.PlacementBonus = 0 // pure score: leaving someone unplaced can be optimal
			}
			if seed%4 == 0 {
				cfg.WeightLoad = 0.5 // strong spread
			}
			e, err := New(d, Options{Today: synthToday, Config: &cfg})
			if err != nil {
				t.Fatal(err)
			}
			req := AssignRequest{Candidates: -1}
			flow, err := e.Assign(ctx, req, nil)
			if err != nil {
				t.Fatal(err)
			}
			greedy, err := e.AssignGreedy(ctx, req, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkAssignment(t, e, flow)
			checkAssignment(t, e, greedy)
			if flow.Objective < greedy.Objective-1e-9 {
				t.Fatalf("flow objective %v < greedy %v", flow.Objective, greedy.Objective)
			}
			if nPeople <= 8 {
				pr, err := e.preparing(ctx, req, nil)
				if err != nil {
					t.Fatal(err)
				}
				if want := float64(bruteForce(e, pr)) / valueScale; math.Abs(flow.Objective-want) > 1e-9 {
					t.Fatalf("flow objective %v, exhaustive optimum %v", flow.Objective, want)
				}
			}
			// The objective is the sum of what the proposals show.
			sum := 0.0
			for _, p := range flow.Proposals {
				sum += p.Score + cfg.PlacementBonus
			}
			if math.Abs(sum-flow.Objective) > 0.01*float64(len(flow.Proposals)+1) {
				t.Fatalf("proposals add up to %v, objective %v", sum, flow.Objective)
			}
		})
	}
}

func TestAssignDeterministic(t *testing.T) {
	d := synth(5, 200, 600, 500)
	run := func() *Assignment {
		e, err := New(d, Options{Today: synthToday})
		if err != nil {
			t.Fatal(err)
		}
		a, err := e.Assign(context.Background(), AssignRequest{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b := run(), run()
	if a.Objective != b.Objective || len(a.Proposals) != len(b.Proposals) {
		t.Fatalf("two runs differ: %v/%d vs %v/%d", a.Objective, len(a.Proposals), b.Objective, len(b.Proposals))
	}
	for i := range a.Proposals {
		if a.Proposals[i].PersonID != b.Proposals[i].PersonID || a.Proposals[i].Item != b.Proposals[i].Item {
			t.Fatalf("proposal %d differs: %+v vs %+v", i, a.Proposals[i], b.Proposals[i])
		}
	}
}

func TestAssignProgressAndCancel(t *testing.T) {
	e, err := New(synth(6, 50, 200, 300), Options{Today: synthToday})
	if err != nil {
		t.Fatal(err)
	}
	last, total := 0, 0
	a, err := e.Assign(context.Background(), AssignRequest{}, func(done, tot int) { last, total = done, tot })
	if err != nil {
		t.Fatal(err)
	}
	if total != 2*a.Stats.People || last != total {
		t.Fatalf("progress ended at %d/%d for %d people", last, total, a.Stats.People)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Assign(ctx, AssignRequest{}, nil); err == nil {
		t.Fatal("cancelled assignment succeeded")
	}
	if _, err := e.Assign(context.Background(), AssignRequest{People: []int64{999999}}, nil); atigip.ErrorCode(err) != atigip.ENOTFOUND {
		t.Fatalf("unknown person: %v", err)
	}
}

func TestGini(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{{[]float64{1, 1, 1, 1}, 0}, {[]float64{0, 0, 0, 1}, 0.75}, {nil, 0}, {[]float64{0, 0}, 0}, {[]float64{1, 3}, 0.25}} {
		if got := Gini(tt.xs); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Gini(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

// TestOnlyRestrictsPeople checks that a caller's restriction keeps the
// others out of candidate lists, their counts and assignment batches.
func TestOnlyRestrictsPeople(t *testing.T) {
	e, err := New(synth(8, 50, 300, 400), Options{Today: synthToday})
	if err != nil {
		t.Fatal(err)
	}
	even := func(id int64) bool { return id%2 == 0 }
	all, err := e.Assign(context.Background(), AssignRequest{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	some, err := e.Assign(context.Background(), AssignRequest{Only: even}, nil)
	if err != nil {
		t.Fatal(err)
	}
	batch := func(a *Assignment) []int64 {
		ids := slices.Clone(a.Unplaced)
		for _, p := range a.Proposals {
			ids = append(ids, p.PersonID)
		}
		return ids
	}
	wantN := 0
	for _, id := range batch(all) {
		if even(id) {
			wantN++
		}
	}
	got := batch(some)
	if len(got) != wantN || wantN == 0 {
		t.Fatalf("restricted batch of %d, want %d", len(got), wantN)
	}
	for _, id := range got {
		if !even(id) {
			t.Fatalf("person %d outside the restriction in the batch", id)
		}
	}
	if _, err := e.Assign(context.Background(), AssignRequest{People: []int64{1}, Only: even}, nil); atigip.ErrorCode(err) != atigip.ENOTFOUND {
		t.Fatalf("named person outside the restriction: %v", err)
	}

	checked := 0
	for _, post := range []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10} {
		ref := Ref{KindTIG, post}
		full, err := e.CandidatesFor(ref, Query{Limit: 1000, Excluded: true, ExcludedLimit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		rk, err := e.CandidatesFor(ref, Query{Limit: 1000, Excluded: true, ExcludedLimit: 1000, Only: even})
		if err != nil {
			t.Fatal(err)
		}
		feasible := 0
		for _, p := range full.Proposals {
			if even(p.PersonID) {
				feasible++
			}
		}
		examined := feasible
		for _, p := range full.Excluded {
			if even(p.PersonID) {
				examined++
			}
		}
		if rk.Feasible != feasible || rk.Examined != examined || len(rk.Proposals) != feasible {
			t.Fatalf("post %d: feasible %d examined %d, want %d %d", post, rk.Feasible, rk.Examined, feasible, examined)
		}
		for _, list := range [][]Proposal{rk.Proposals, rk.Excluded} {
			for _, p := range list {
				if !even(p.PersonID) {
					t.Fatalf("post %d: person %d outside the restriction", post, p.PersonID)
				}
			}
		}
		checked += examined
	}
	if checked == 0 {
		t.Fatal("no candidate examined: the instance tests nothing")
	}
}

// TestAssignWithBaseline checks that a job's one candidate problem gives
// what the two methods give alone: the optimal assignment, and the
// greedy one's statistics; and that its result explains a page of its
// pairs as the whole assignment does.
func TestAssignWithBaseline(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    Data
		req  AssignRequest
	}{
		{"dense", smallInstance(7, 40, 25), AssignRequest{Candidates: -1}},
		{"sparse", synth(5, 200, 600, 500), AssignRequest{}},
		{"few candidates", synth(8, 100, 300, 400), AssignRequest{Candidates: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(tc.d, Options{Today: synthToday})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			flow, err := e.Assign(ctx, tc.req, nil)
			if err != nil {
				t.Fatal(err)
			}
			greedy, err := e.AssignGreedy(ctx, tc.req, nil)
			if err != nil {
				t.Fatal(err)
			}
			last, total := 0, 0
			res, base, err := e.AssignWithBaseline(ctx, tc.req, func(done, tot int) { last, total = done, tot })
			if err != nil {
				t.Fatal(err)
			}
			if total != 2*flow.Stats.People || last != total {
				t.Fatalf("progress ended at %d/%d for %d people", last, total, flow.Stats.People)
			}
			if greedy.Stats.Placed == flow.Stats.Placed && greedy.Stats.MeanKm == flow.Stats.MeanKm {
				t.Fatalf("the instance does not tell greedy from flow: %+v", greedy.Stats)
			}
			got := res.Full()
			flow.Stats.Seconds, got.Stats.Seconds = 0, 0
			if !reflect.DeepEqual(got, flow) {
				t.Fatalf("the job's assignment differs from Assign's:\n%+v\n%+v", got.Stats, flow.Stats)
			}
			// A page explains its pairs as the whole does.
			if res.Placed() < 3 || res.Unplaced() < 2 {
				t.Fatalf("%d placed, %d unplaced: too few to page", res.Placed(), res.Unplaced())
			}
			placed, unplaced := []int{res.Placed() - 1, 1}, []int{res.Unplaced() - 1}
			page := res.Explain(placed, unplaced)
			for i, k := range placed {
				if !reflect.DeepEqual(page.Proposals[i], flow.Proposals[k]) || res.PlacedPerson(k) != flow.Proposals[k].PersonID {
					t.Fatalf("proposal %d: %+v, want %+v", k, page.Proposals[i], flow.Proposals[k])
				}
			}
			for i, k := range unplaced {
				if page.Unplaced[i] != flow.Unplaced[k] || res.UnplacedPerson(k) != flow.Unplaced[k] || !reflect.DeepEqual(page.WhyUnplaced[i], flow.WhyUnplaced[k]) {
					t.Fatalf("unplaced %d: %v %+v, want %v %+v", k, page.Unplaced[i], page.WhyUnplaced[i], flow.Unplaced[k], flow.WhyUnplaced[k])
				}
			}
			want := greedy.Stats
			want.Seconds, base.Seconds = 0, 0
			if *base != want {
				t.Fatalf("baseline %+v, want greedy's %+v", *base, want)
			}
		})
	}
}
