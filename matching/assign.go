package matching

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"
)

// AssignRequest selects who and what a global assignment is about.
type AssignRequest struct {
	// People to place; empty means everyone the kinds are for: people
	// outside with a TIG measure to place for TIG posts, detainees for
	// IPRO offers.
	People []int64 `json:"people,omitempty"`
	// Kinds of items to assign; empty means TIG posts.
	Kinds []ItemKind `json:"kinds,omitempty"`
	// Candidates bounds the posts considered per person to the best ones
	// by score: 0 means Config.AssignCandidates, a negative value all
	// feasible posts.
	Candidates int `json:"candidates,omitempty"`
	// Only restricts the people to those it accepts (nil: everyone): the
	// perimeter of the professional who asks, set by the caller, never
	// read from a request body. A named person it refuses is not found.
	Only func(personID int64) bool `json:"-"`
}

// Assignment is a proposed global assignment. Nothing is assigned: each
// proposal awaits a professional's decision.
type Assignment struct {
	Method    string     `json:"method"`    // "min_cost_flow" or "greedy"
	Proposals []Proposal `json:"proposals"` // one per placed person, by person id
	Unplaced  []int64    `json:"unplaced"`  // people without a proposal
	// WhyUnplaced says why, for each of them, in Unplaced order.
	WhyUnplaced []Why `json:"why_unplaced"`
	// Objective is what the method maximises: Σ (PlacementBonus + score),
	// the load term of each proposal being its marginal value (the k-th
	// person sent to an organisation counts its occupancy after k−1).
	Objective  float64 `json:"objective"`
	TotalScore float64 `json:"total_score"` // Σ score
	Stats      Stats   `json:"stats"`
}

// Why is why a person of an assignment has no proposal: the lawful posts
// went to others, or none is lawful, and then the nearest post or offer
// in reach with every rule it breaks (the ranking's sentences).
type Why struct {
	PersonID int64     `json:"person_id"`
	Reason   string    `json:"reason"`
	Nearest  *Proposal `json:"nearest,omitempty"`
}

// Stats describe an assignment for the evaluation.
type Stats struct {
	People        int     `json:"people"`
	Placed        int     `json:"placed"`
	PlacesLeft    int     `json:"places_left"`   // before the assignment, on items some person could take
	PlacesFilled  int     `json:"places_filled"` // by the assignment
	SharePlaced   float64 `json:"share_placed"`
	ShareFilled   float64 `json:"share_filled"`
	MeanKm        float64 `json:"mean_km"`
	P95Km         float64 `json:"p95_km"`
	LoadGini      float64 `json:"load_gini"` // Gini of occupancy after assignment across host organisations
	CandidatePair int     `json:"candidate_pairs"`
	Seconds       float64 `json:"seconds"`
}

// Progress is told how far a long computation is: done of total steps.
type Progress func(done, total int)

// valueScale turns scores into integer costs so that the flow is exact.
const valueScale = 1e6

// problem is the candidate graph shared by both methods.
type problem struct {
	kinds   []ItemKind
	people  []int32   // engine person indices, by person id
	items   []int32   // engine item indices of the local items
	itemGrp []int32   // local item → local group
	caps    []int32   // places left per local item
	groups  []int32   // engine group indices of the local groups
	grpItem [][]int32 // local group → local items
	cands   [][]cand  // per local person, best first
	maxV    int64
	maxM    int64
}

// cand is kept small (its terms are computed again for the chosen one):
// at ten times the country there are millions.
type cand struct {
	item  int32 // local item (the engine's item while the lists are built)
	v     int64 // (bonus + score without load) × valueScale
	score float64
	d     float64
}

// marginal is the value of sending one more person to group g that
// already received k in this assignment.
func (e *Engine) marginal(g int32, k int) int64 {
	gr := e.groups[g]
	if gr.places <= 0 {
		return 0
	}
	occ := float64(gr.taken+k) / float64(gr.places)
	return int64(math.Round(e.cfg.WeightLoad * max(0, 1-occ) * valueScale))
}

// Population returns the ids of the people req is about, in id order: the
// people named, or everyone the kinds are for, within req.Only.
func (e *Engine) Population(req AssignRequest) ([]int64, error) {
	pis, err := e.population(req)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(pis))
	for k, pi := range pis {
		ids[k] = (*e.people.at(pi)).p.ID
	}
	return ids, nil
}

// population returns the engine indices of the people req is about.
func (e *Engine) population(req AssignRequest) ([]int32, error) {
	var out []int32
	if len(req.People) > 0 {
		ids := slices.Clone(req.People)
		slices.Sort(ids)
		for _, id := range slices.Compact(ids) {
			pi, ok := e.byID.get(id)
			if !ok || (req.Only != nil && !req.Only(id)) {
				return nil, notFound("Personne %d introuvable.", id)
			}
			out = append(out, pi)
		}
		return out, nil
	}
	tig := len(req.Kinds) == 0 || slices.Contains(req.Kinds, KindTIG)
	for pi := int32(0); pi < int32(e.people.len()); pi++ {
		p := (e.people.at(pi))
		if ((tig && !p.p.Detained && p.toPlace) || (!tig && p.p.Detained)) && (req.Only == nil || req.Only(p.p.ID)) {
			out = append(out, int32(pi))
		}
	}
	return out, nil
}

func (e *Engine) buildProblem(ctx context.Context, req AssignRequest, people []int32, progress Progress) (*problem, error) {
	kinds := req.Kinds
	if len(kinds) == 0 {
		kinds = []ItemKind{KindTIG}
	}
	pr := &problem{people: people, kinds: kinds}
	total := 2 * max(1, len(people)) // two steps per person: candidates, then solving
	k := req.Candidates
	if k == 0 {
		k = e.cfg.AssignCandidates
	}
	// Candidate lists, in parallel: each person's list depends only on
	// the engine, so the result does not depend on scheduling.
	pr.cands = make([][]cand, len(pr.people))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
		next = make(chan int)
	)
	workers := max(1, runtime.GOMAXPROCS(0))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One scratch list per worker: each person keeps a copy of
			// its best k only, so the memory held is k per person, not
			// every feasible post (which at ten times the country is
			// thousands per person).
			var all, best []scored
			for n := range next {
				p := (e.people.at(pr.people[n]))
				all = all[:0]
				e.pairsOf(p, kinds, 1, func(i int32, d float64, lawful bool) {
					if lawful {
						all = append(all, scored{item: i, person: pr.people[n], d: d, r: e.terms(p, e.items.at(i), d)})
					}
				})
				var fs []scored
				fs, best = e.bestOf(p, all, k, best)
				cs := make([]cand, len(fs))
				for c, s := range fs {
					noLoad := s.score - e.w[6]*s.r[6]
					cs[c] = cand{item: s.item, v: int64(math.Round((e.cfg.PlacementBonus + noLoad) * valueScale)), score: s.score, d: s.d}
				}
				pr.cands[n] = cs
				if progress != nil {
					mu.Lock()
					done++
					progress(done, total)
					mu.Unlock()
				}
			}
		}()
	}
	var err error
feed:
	for n := range pr.people {
		select {
		case next <- n:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("matching: assign: %w", err)
	}
	localItem := map[int32]int32{}
	localGroup := map[int32]int32{}
	for _, cs := range pr.cands {
		for c := range cs {
			ei := cs[c].item
			li, ok := localItem[ei]
			if !ok {
				li = int32(len(pr.items))
				localItem[ei] = li
				pr.items = append(pr.items, ei)
				pr.caps = append(pr.caps, int32((*e.items.at(ei)).left))
				eg := int32((*e.items.at(ei)).group)
				lg, ok := localGroup[eg]
				if !ok {
					lg = int32(len(pr.groups))
					localGroup[eg] = lg
					pr.groups = append(pr.groups, eg)
					pr.grpItem = append(pr.grpItem, nil)
					pr.maxM = max(pr.maxM, e.marginal(eg, 0))
				}
				pr.itemGrp = append(pr.itemGrp, lg)
				pr.grpItem[lg] = append(pr.grpItem[lg], li)
			}
			cs[c].item = li
			pr.maxV = max(pr.maxV, cs[c].v)
		}
	}
	return pr, nil
}

// Assign proposes the assignment of maximal total value (exact, by
// successive shortest paths on a min-cost flow network), respecting the
// places left and every hard constraint. progress may be nil.
func (e *Engine) Assign(ctx context.Context, req AssignRequest, progress Progress) (*Assignment, error) {
	start := time.Now()
	pr, err := e.preparing(ctx, req, progress)
	if err != nil {
		return nil, err
	}
	asg, err := e.solveFlow(ctx, pr, progress)
	if err != nil {
		return nil, err
	}
	return e.result("min_cost_flow", pr, asg, start).Full(), nil
}

// AssignGreedy is the baseline: pairs in decreasing score order, each
// taken when the person is free and the post has a place left.
func (e *Engine) AssignGreedy(ctx context.Context, req AssignRequest, progress Progress) (*Assignment, error) {
	start := time.Now()
	pr, err := e.preparing(ctx, req, progress)
	if err != nil {
		return nil, err
	}
	asg := e.greedy(pr)
	if progress != nil {
		progress(2*len(pr.people), 2*len(pr.people))
	}
	return e.result("greedy", pr, asg, start).Full(), nil
}

// AssignWithBaseline is what a job shows: Assign, held as a Result, and
// the statistics of AssignGreedy for comparison, both over one candidate
// problem. Building the candidate lists again and explaining every greedy
// pair, to keep only its statistics, doubled the memory a national job
// held at its peak.
func (e *Engine) AssignWithBaseline(ctx context.Context, req AssignRequest, progress Progress) (*Result, *Stats, error) {
	start := time.Now()
	pr, err := e.preparing(ctx, req, progress)
	if err != nil {
		return nil, nil, err
	}
	built := time.Since(start)
	asg, err := e.solveFlow(ctx, pr, progress)
	if err != nil {
		return nil, nil, err
	}
	res := e.result("min_cost_flow", pr, asg, start)
	// The baseline's time is what AssignGreedy alone takes: the shared
	// candidate lists, then its choice.
	base := e.stats(pr, e.greedy(pr), time.Now().Add(-built))
	return res, &base, nil
}

// greedy chooses, per local person, a candidate index or −1: pairs in
// decreasing score order, each taken when the person is free and the item
// has a place left.
func (e *Engine) greedy(pr *problem) []int32 {
	type pair struct {
		n, c int32
	}
	n := 0
	for _, cs := range pr.cands {
		n += len(cs)
	}
	pairs := make([]pair, 0, n)
	for n, cs := range pr.cands {
		for c := range cs {
			pairs = append(pairs, pair{int32(n), int32(c)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		x, y := &pr.cands[a.n][a.c], &pr.cands[b.n][b.c]
		if x.score != y.score {
			return cmp.Compare(y.score, x.score)
		}
		if x.d != y.d {
			return cmp.Compare(x.d, y.d)
		}
		if c := cmpRef((*e.items.at(pr.items[x.item])).ref, (*e.items.at(pr.items[y.item])).ref); c != 0 {
			return c
		}
		return cmp.Compare(a.n, b.n)
	})
	asg := make([]int32, len(pr.people))
	for i := range asg {
		asg[i] = -1
	}
	left := slices.Clone(pr.caps)
	for _, p := range pairs {
		c := &pr.cands[p.n][p.c]
		if asg[p.n] < 0 && left[c.item] > 0 {
			asg[p.n] = p.c
			left[c.item]--
		}
	}
	return asg
}

func (e *Engine) preparing(ctx context.Context, req AssignRequest, progress Progress) (*problem, error) {
	people, err := e.population(req)
	if err != nil {
		return nil, err
	}
	pr, err := e.buildProblem(ctx, req, people, progress)
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress(len(people), 2*max(1, len(people)))
	}
	return pr, nil
}

// Result is a global assignment as a job keeps it: what explaining each
// pair reads of the engine (pairFacts), and the reason of each unplaced
// person, explained for the pairs read (Explain). Its figures are those
// of the Assignment it explains.
type Result struct {
	Method     string
	Objective  float64
	TotalScore float64
	Stats      Stats
	w          raw
	placed     []pairFacts // by person id
	unplaced   []unplaced  // by person id
}

// unplaced is a person of a result without a proposal: lawful is the
// number of lawful candidates (others took them); why is set when there
// is none (the nearest post and the rules it breaks).
type unplaced struct {
	personID int64
	lawful   int
	why      *Why
}

// Placed is the number of proposals; Unplaced the number of people
// without one.
func (r *Result) Placed() int   { return len(r.placed) }
func (r *Result) Unplaced() int { return len(r.unplaced) }

// PlacedPerson is the person of proposal k (in person id order);
// UnplacedPerson the person k without one.
func (r *Result) PlacedPerson(k int) int64   { return r.placed[k].personID }
func (r *Result) UnplacedPerson(k int) int64 { return r.unplaced[k].personID }

// Explain returns the assignment with the proposals placed and the
// unplaced people unplaced (indices, in the order given) explained.
func (r *Result) Explain(placed, unplaced []int) *Assignment {
	a := &Assignment{Method: r.Method, Objective: r.Objective, TotalScore: r.TotalScore, Stats: r.Stats,
		Proposals: make([]Proposal, 0, len(placed)), Unplaced: make([]int64, 0, len(unplaced)), WhyUnplaced: make([]Why, 0, len(unplaced))}
	for _, k := range placed {
		prop := r.placed[k].proposal(&r.w)
		prop.Rank = 1
		a.Proposals = append(a.Proposals, prop)
	}
	for _, k := range unplaced {
		u := &r.unplaced[k]
		a.Unplaced = append(a.Unplaced, u.personID)
		if u.why != nil {
			a.WhyUnplaced = append(a.WhyUnplaced, *u.why)
			continue
		}
		a.WhyUnplaced = append(a.WhyUnplaced, Why{PersonID: u.personID,
			Reason: fmt.Sprintf("Les %d poste(s) possible(s) ont été proposés à d'autres personnes par cette affectation.", u.lawful)})
	}
	return a
}

// Full is the whole assignment explained.
func (r *Result) Full() *Assignment {
	return r.Explain(indices(len(r.placed)), indices(len(r.unplaced)))
}

func indices(n int) []int {
	out := make([]int, n)
	for k := range out {
		out[k] = k
	}
	return out
}

// result turns local choices (candidate index per person, −1 unplaced)
// into a result, the load term of each pair at its marginal value.
func (e *Engine) result(method string, pr *problem, asg []int32, start time.Time) *Result {
	r := &Result{Method: method, w: e.w}
	// Sized once: appends would hold the old and the new arrays of facts
	// (350 bytes a pair) at the job's peak.
	placed := 0
	for _, c := range asg {
		if c >= 0 {
			placed++
		}
	}
	r.placed, r.unplaced = make([]pairFacts, 0, placed), make([]unplaced, 0, len(asg)-placed)
	perGroup := make([]int, len(pr.groups))
	var obj int64
	var total float64
	for n, c := range asg {
		pi := pr.people[n]
		if c < 0 {
			u := unplaced{personID: (*e.people.at(pi)).p.ID, lawful: len(pr.cands[n])}
			if u.lawful == 0 {
				w := e.why(pi, pr.kinds)
				u.why = &w
			}
			r.unplaced = append(r.unplaced, u)
			continue
		}
		cd := &pr.cands[n][c]
		g := pr.itemGrp[cd.item]
		sent := perGroup[g]
		m := e.marginal(pr.groups[g], sent)
		perGroup[g]++
		obj += cd.v + m
		// The terms of the chosen pair, as the candidate list had them.
		p := e.people.at(pi)
		one := []scored{{item: pr.items[cd.item], person: pi, d: cd.d, r: e.terms(p, e.items.at(pr.items[cd.item]), cd.d)}}
		e.fillText(p, one)
		s := one[0]
		if e.w[6] != 0 {
			s.r[6] = float64(m) / valueScale / max(e.w[6], 1e-12)
		}
		s.score = s.r.total(&e.w)
		r.placed = append(r.placed, e.factsOf(p, e.items.at(s.item), s.d, s.r, s.score, sent))
		total += s.score
	}
	r.Objective = float64(obj) / valueScale
	r.TotalScore = round3(total)
	r.Stats = e.stats(pr, asg, start)
	return r
}

// stats are the statistics of local choices, which need no explanation.
func (e *Engine) stats(pr *problem, asg []int32, start time.Time) Stats {
	var st Stats
	perGroup := make([]int, len(pr.groups))
	var dists []float64
	for n, c := range asg {
		if c < 0 {
			continue
		}
		cd := &pr.cands[n][c]
		perGroup[pr.itemGrp[cd.item]]++
		dists = append(dists, cd.d)
	}
	st.People, st.Placed, st.PlacesFilled = len(pr.people), len(dists), len(dists)
	for _, c := range pr.caps {
		st.PlacesLeft += int(c)
	}
	for _, cs := range pr.cands {
		st.CandidatePair += len(cs)
	}
	if st.People > 0 {
		st.SharePlaced = float64(st.Placed) / float64(st.People)
	}
	if st.PlacesLeft > 0 {
		st.ShareFilled = float64(st.PlacesFilled) / float64(st.PlacesLeft)
	}
	st.MeanKm, st.P95Km = meanP95(dists)
	occ := make([]float64, 0, len(pr.groups))
	for g, eg := range pr.groups {
		gr := e.groups[eg]
		if gr.places > 0 {
			occ = append(occ, float64(gr.taken+perGroup[g])/float64(gr.places))
		}
	}
	st.LoadGini = Gini(occ)
	st.Seconds = time.Since(start).Seconds()
	return st
}

// why explains that person pi is unplaced, who had no lawful candidate.
func (e *Engine) why(pi int32, kinds []ItemKind) Why {
	p := e.people.at(pi)
	w := Why{PersonID: p.p.ID}
	best, found := scored{}, false
	e.candidatesOf(p, kinds, e.cfg.ExcludedRadiusFactor, func(i int32) {
		d := e.distance(p, e.items.at(i))
		if !found || d < best.d || (d == best.d && cmpRef(e.items.at(i).ref, e.items.at(best.item).ref) < 0) {
			best, found = scored{item: i, person: pi, d: d}, true
		}
	})
	if !found {
		w.Reason = "Aucun poste ni offre dans la zone de recherche."
		return w
	}
	near := e.excludedList([]scored{best}, 1)[0]
	w.Nearest = &near
	w.Reason = "Aucun poste possible ; le plus proche est exclu : " + near.Exclusions[0].Message
	return w
}

func meanP95(xs []float64) (mean, p95 float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	return sum / float64(len(s)), Percentile(s, 0.95)
}

// Percentile returns the q-quantile (nearest rank) of sorted xs.
func Percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(len(sorted)-1, max(0, i))]
}

// Gini is the Gini coefficient of non-negative values: 0 when all are
// equal, towards 1 when one holds everything.
func Gini(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var sum, weighted float64
	for i, x := range s {
		sum += x
		weighted += float64(i+1) * x
	}
	if sum == 0 {
		return 0
	}
	n := float64(len(s))
	return (2*weighted)/(n*sum) - (n+1)/n
}
