package matching

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// EvalOptions shape an evaluation.
type EvalOptions struct {
	// Sample is the number of people whose rankings are judged (default
	// 500), taken evenly across the people with a measure to place.
	Sample int
	// Config and Today as in Options (nil / zero: defaults).
	Config *Config
	Options
}

// RankMetrics are the ranking metrics of one method.
type RankMetrics struct {
	Method       string  `json:"method"`
	Queries      int     `json:"queries"`
	PrecisionAt5 float64 `json:"precision_at_5"`
	NDCGAt10     float64 `json:"ndcg_at_10"`
	MRR          float64 `json:"mrr"`
}

// Report is the result of Evaluate.
type Report struct {
	People, Items int
	Ranking       []RankMetrics
	Assignment    []*Assignment
}

// Grade is the relevance label of an item for a person, by rules fixed in
// advance that use neither the scorer's weights nor its output:
//
//	3: the item is one of the person's ROME jobs, within half their
//	   mobility radius, and its schedule lies wholly in their declared
//	   availability (or none is declared);
//	2: the item is one of the person's ROME jobs;
//	1: same domaine professionnel (first three characters of the code);
//	0: otherwise.
//
// Items of grade 2 and 3 are the "good" matches (precision, MRR).
func (e *Engine) grade(p *person, it *item, d float64) int {
	same, domain := false, false
	for _, pr := range p.rome {
		a := pr.code
		for _, b := range it.rome {
			if a == b.code {
				same = true
			} else if len(a) == 5 && strings.HasPrefix(b.code, a[:3]) {
				domain = true
			}
		}
	}
	switch {
	case same && d <= p.radius/2 && (len(p.avail.slots) == 0 || overlapHours(p.avail.slots, it.slots) >= it.hours-1e-9):
		return 3
	case same:
		return 2
	case domain:
		return 1
	}
	return 0
}

// Evaluate builds the labelled set from d (the demo data), judges the
// scorer's rankings against a nearest-first baseline, and compares the
// exact assignment with the greedy one.
func Evaluate(ctx context.Context, d Data, o EvalOptions) (*Report, error) {
	opts := o.Options
	if o.Config != nil {
		opts.Config = o.Config
	}
	e, err := New(d, opts)
	if err != nil {
		return nil, err
	}
	sample := o.Sample
	if sample <= 0 {
		sample = 500
	}
	var pool []int32
	for pi := int32(0); pi < int32(e.people.len()); pi++ {
		if p := (e.people.at(pi)); p.toPlace && !p.p.Detained && len(p.rome) > 0 {
			pool = append(pool, int32(pi))
		}
	}
	step := max(1, len(pool)/sample)
	methods := []RankMetrics{{Method: "score"}, {Method: "nearest"}}
	for k := 0; k < len(pool) && k/step < sample; k += step {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("matching: evaluate: %w", err)
		}
		p := (e.people.at(pool[k]))
		var fs []scored
		e.candidatesOf(p, []ItemKind{KindTIG}, 1, func(i int32) {
			it := (e.items.at(i))
			dd := e.distance(p, it)
			if len(e.violations(p, it, dd, false)) == 0 {
				fs = append(fs, scored{item: i, person: pool[k], d: dd, r: e.terms(p, it, dd)})
			}
		})
		e.fillText(p, fs)
		grades := func() []int {
			g := make([]int, len(fs))
			for i := range fs {
				g[i] = e.grade(p, (e.items.at(fs[i].item)), fs[i].d)
			}
			return g
		}
		ideal := grades()
		slices.SortFunc(ideal, func(a, b int) int { return b - a })
		if len(ideal) == 0 || ideal[0] < 2 {
			continue // no good match to find: the query says nothing
		}
		slices.SortFunc(fs, func(a, b scored) int { return e.less(&a, &b) })
		accumulate(&methods[0], grades(), ideal)
		slices.SortFunc(fs, func(a, b scored) int {
			if a.d != b.d {
				return cmp.Compare(a.d, b.d)
			}
			return cmpRef((*e.items.at(a.item)).ref, (*e.items.at(b.item)).ref)
		})
		accumulate(&methods[1], grades(), ideal)
	}
	for i := range methods {
		if n := float64(methods[i].Queries); n > 0 {
			methods[i].PrecisionAt5 /= n
			methods[i].NDCGAt10 /= n
			methods[i].MRR /= n
		}
	}
	r := &Report{People: e.people.len(), Items: e.items.len(), Ranking: methods}
	for _, run := range []func(context.Context, AssignRequest, Progress) (*Assignment, error){e.Assign, e.AssignGreedy} {
		a, err := run(ctx, AssignRequest{}, nil)
		if err != nil {
			return nil, err
		}
		r.Assignment = append(r.Assignment, a)
	}
	return r, nil
}

// accumulate adds one query's metrics; grades are in ranked order.
func accumulate(m *RankMetrics, grades, ideal []int) {
	m.Queries++
	good := 0
	for i := 0; i < 5 && i < len(grades); i++ {
		if grades[i] >= 2 {
			good++
		}
	}
	m.PrecisionAt5 += float64(good) / 5
	for i, g := range grades {
		if g >= 2 {
			m.MRR += 1 / float64(i+1)
			break
		}
	}
	if idcg := dcg(ideal, 10); idcg > 0 {
		m.NDCGAt10 += dcg(grades, 10) / idcg
	}
}

func dcg(grades []int, k int) float64 {
	var s float64
	for i := 0; i < k && i < len(grades); i++ {
		s += (math.Pow(2, float64(grades[i])) - 1) / math.Log2(float64(i+2))
	}
	return s
}

// Write prints the report as a plain table.
func (r *Report) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "matching evaluation: %d people, %d posts and offers\n\n", r.People, r.Items)
	fmt.Fprintf(&b, "ranking (labelled set: ROME job, distance and schedule rules)\n")
	fmt.Fprintf(&b, "  %-10s %8s %12s %10s %8s\n", "method", "queries", "precision@5", "NDCG@10", "MRR")
	for _, m := range r.Ranking {
		fmt.Fprintf(&b, "  %-10s %8d %12.3f %10.3f %8.3f\n", m.Method, m.Queries, m.PrecisionAt5, m.NDCGAt10, m.MRR)
	}
	fmt.Fprintf(&b, "\nassignment\n")
	fmt.Fprintf(&b, "  %-14s %7s %7s %8s %8s %8s %8s %9s %10s %8s\n", "method", "people", "placed", "placed%", "filled%", "mean km", "p95 km", "load Gini", "objective", "seconds")
	for _, a := range r.Assignment {
		s := a.Stats
		fmt.Fprintf(&b, "  %-14s %7d %7d %8.1f %8.1f %8.2f %8.2f %9.3f %10.2f %8.2f\n", a.Method, s.People, s.Placed,
			100*s.SharePlaced, 100*s.ShareFilled, s.MeanKm, s.P95Km, s.LoadGini, a.Objective, s.Seconds)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
