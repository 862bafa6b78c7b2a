package matching

import (
	"cmp"
	"slices"
	"sync"

	"github.com/atigip/atigip360/internal/atigip"
)

// rankScratch holds the lists of one ranking, reused from call to call,
// so that a query allocates in proportion to its answer rather than to
// the thousands of posts it examines at ten times the country.
type rankScratch struct {
	feas, excluded, best []scored
}

var rankScratches = sync.Pool{New: func() any { return new(rankScratch) }}

// rankItems is OffersForPerson on person pi. exhaustive is the reference
// the fast path is tested against: every pair read and fully scored,
// every list sorted.
func (e *Engine) rankItems(pi int32, q Query, exhaustive bool) *Ranking {
	p := e.people.at(pi)
	kinds := q.Kinds
	if len(kinds) == 0 {
		kinds = defaultKinds(p)
	}
	limit, xlimit := q.limits()
	factor := 1.0
	if q.Excluded {
		factor = e.cfg.ExcludedRadiusFactor
	}
	sc := rankScratches.Get().(*rankScratch)
	defer rankScratches.Put(sc)
	rk := &Ranking{}
	feas, excluded := sc.feas[:0], sc.excluded[:0]
	pair := func(i int32, d float64, lawful bool) {
		rk.Examined++
		switch {
		case lawful:
			feas = append(feas, scored{item: i, person: pi, d: d, r: e.terms(p, e.items.at(i), d)})
		case q.Excluded:
			excluded = append(excluded, scored{item: i, person: pi, d: d})
		}
	}
	if exhaustive {
		e.candidatesOf(p, kinds, factor, func(i int32) {
			d := e.distance(p, e.items.at(i))
			pair(i, d, len(e.violations(p, e.items.at(i), d, false)) == 0)
		})
	} else {
		e.pairsOf(p, kinds, factor, pair)
	}
	rk.Feasible = len(feas)
	if exhaustive {
		e.fillText(p, feas)
		rk.Proposals = e.top(feas, limit)
	} else {
		var top []scored
		top, sc.best = e.bestOf(p, feas, limit, sc.best)
		rk.Proposals = e.top(top, limit)
	}
	if q.Excluded {
		if !exhaustive && len(excluded) > xlimit {
			sc.best = sc.best[:0]
			for k := range excluded {
				sc.best = keepBest(sc.best, xlimit, &excluded[k], e.nearer)
			}
			excluded = append(excluded[:0], sc.best...)
		}
		rk.Excluded = e.excludedList(excluded, xlimit)
	}
	sc.feas, sc.excluded = feas[:0], excluded[:0]
	return rk
}

// pairsOf calls fn with every item of the given kinds that could be
// within reach of p (radius × factor), each once, with its distance and
// whether the pair breaks no rule. A located post beyond the person's
// radius breaks rule mobility: its item is not even read.
func (e *Engine) pairsOf(p *person, kinds []ItemKind, factor float64, fn func(i int32, d float64, lawful bool)) {
	check := func(i int32, d float64) { fn(i, d, len(e.violations(p, e.items.at(i), d, false)) == 0) }
	lawful := func(i int32) { check(i, e.distance(p, e.items.at(i))) }
	tig, release := slices.Contains(kinds, KindTIG), slices.Contains(kinds, KindRelease)
	if !(tig || release) || p.p.Home.IsZero() {
		e.candidatesOf(p, kinds, factor, lawful)
		return
	}
	// Inside offers and unlocated items as before; the grid's entries
	// carry their position and kind.
	var rest []ItemKind
	for _, k := range kinds {
		if k != KindTIG && k != KindRelease {
			rest = append(rest, k)
		}
	}
	if len(rest) > 0 {
		e.candidatesOf(p, rest, factor, lawful)
	}
	e.grid.near(p.p.Home, p.radius*factor, func(g *gridEntry) {
		if (g.tig && !tig) || (!g.tig && !release) {
			return
		}
		// The same computation as distance: the same value.
		if d := atigip.DistanceKm(p.p.Home, g.loc); d > p.radius {
			fn(g.idx, d, false)
		} else {
			check(g.idx, d)
		}
	})
	for _, i := range e.lost {
		if k := e.items.at(i).ref.Kind; (k == KindTIG && tig) || (k == KindRelease && release) {
			lawful(i)
		}
	}
}

// bestOf returns the limit best of the feasible pairs fs (every one when
// limit <= 0) in order, with their text term and score; best is scratch
// space, returned for reuse.
func (e *Engine) bestOf(p *person, fs []scored, limit int, best []scored) (top, scratch []scored) {
	if limit > 0 && len(fs) > limit && e.tfidf != nil {
		best = e.bestByBound(p, fs, limit, best[:0])
		fs = best
	} else {
		e.fillText(p, fs)
	}
	slices.SortFunc(fs, func(a, b scored) int { return e.less(&a, &b) })
	if limit > 0 && len(fs) > limit {
		fs = fs[:limit]
	}
	return fs, best
}

// bestByBound returns (in best) the limit best feasible pairs of fs, whose
// terms but text are known, with their text term and score. The text term
// is computed in decreasing order of the score each pair would have with
// a perfect text fit (1, its maximum), and no more once that bound falls
// below the limit-th score found: the pairs left cannot enter the top.
func (e *Engine) bestByBound(p *person, fs []scored, limit int, best []scored) []scored {
	for k := range fs {
		r := fs[k].r
		r[2] = 1
		fs[k].score = r.total(&e.w) // the bound, until the text is known
	}
	slices.SortFunc(fs, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	for k := range fs {
		if len(best) == limit && fs[k].score < best[0].score {
			break
		}
		fs[k].r[2] = cosine(p.text, e.items.at(fs[k].item).text)
		fs[k].score = fs[k].r.total(&e.w)
		best = keepBest(best, limit, &fs[k], e.less)
	}
	return best
}

// keepBest adds x to h, a heap of at most n elements that keeps the n
// best by order (negative: a before b), the worst at h[0].
func keepBest(h []scored, n int, x *scored, order func(a, b *scored) int) []scored {
	if n <= 0 {
		return h
	}
	if len(h) < n {
		h = append(h, *x)
		for i := len(h) - 1; i > 0; {
			up := (i - 1) / 2
			if order(&h[i], &h[up]) <= 0 {
				break
			}
			h[i], h[up] = h[up], h[i]
			i = up
		}
		return h
	}
	if order(x, &h[0]) >= 0 {
		return h
	}
	h[0] = *x
	for i := 0; ; {
		l, r, w := 2*i+1, 2*i+2, i
		if l < len(h) && order(&h[l], &h[w]) > 0 {
			w = l
		}
		if r < len(h) && order(&h[r], &h[w]) > 0 {
			w = r
		}
		if w == i {
			return h
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}
