package matching

import (
	"context"
	"fmt"
	"math"
)

// solveFlow finds the assignment of maximal value on the network
//
//	person ─(1, Cv−v)→ item ─(places left, 0)→ organisation ─(convex)→ sink
//	person ─(1, Cv+Cm)────────────────────────────────────────────→ sink
//
// where the direct arc means "left unplaced" and the k-th unit through an
// organisation costs Cm − marginal(k). Every path from a person to the
// sink holds exactly one arc shifted by Cv and one by Cm, so minimising the
// cost of routing every person maximises Σ value exactly, and all
// initial costs are non-negative (potentials start at 0).
//
// Successive shortest paths: each person in turn is routed along a
// shortest path in the residual network (Dijkstra on reduced costs,
// stopped when the sink is reached); the potentials then keep every
// reduced cost non-negative, which is the optimality certificate.
// It returns, per local person, the index of its chosen candidate or −1.
func (e *Engine) solveFlow(ctx context.Context, pr *problem, progress Progress) ([]int32, error) {
	P, I, G := len(pr.people), len(pr.items), len(pr.groups)
	T := P + I + G
	N := T + 1
	cv, cm := pr.maxV, pr.maxM
	type holder struct {
		person int32
		cost   int64 // cost of the person → item arc
		cand   int32
	}
	asg := make([]int32, P) // candidate index, −1 unrouted, −2 unplaced
	for i := range asg {
		asg[i] = -1
	}
	holders := make([][]holder, I)
	gflow := make([]int, G)
	pot := make([]int64, N)
	dist := make([]int64, N)
	prev := make([]int32, N)
	prevCand := make([]int32, N) // for person → item arcs: the candidate index
	done := make([]bool, N)
	for i := range dist {
		dist[i] = math.MaxInt64
	}
	var touched, finals []int32
	h := &minHeap{}
	groupCost := func(g int) int64 { return cm - e.marginal(pr.groups[g], gflow[g]) }

	for s := 0; s < P; s++ {
		if s%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("matching: assign: %w", err)
			}
		}
		touched, finals = touched[:0], finals[:0]
		h.reset()
		relax := func(u, v int32, c int64, pc int32) {
			nd := dist[u] + c + pot[u] - pot[v]
			if nd < dist[u] {
				// Rounding cannot make a reduced cost negative with
				// integer costs; this guards the invariant anyway.
				nd = dist[u]
			}
			if nd < dist[v] {
				if dist[v] == math.MaxInt64 {
					touched = append(touched, v)
				}
				dist[v], prev[v], prevCand[v] = nd, u, pc
				h.push(nd, v)
			}
		}
		dist[s] = 0
		touched = append(touched, int32(s))
		h.push(0, int32(s))
		for h.len() > 0 {
			du, u := h.pop()
			if done[u] || du > dist[u] {
				continue
			}
			done[u] = true
			finals = append(finals, u)
			if int(u) == T {
				break
			}
			switch {
			case int(u) < P: // person
				for c, cd := range pr.cands[u] {
					if asg[u] != int32(c) {
						relax(u, int32(P)+cd.item, cv-cd.v, int32(c))
					}
				}
				if asg[u] != -2 {
					relax(u, int32(T), cv+cm, -1)
				}
			case int(u) < P+I: // item
				j := int(u) - P
				if len(holders[j]) < int(pr.caps[j]) {
					relax(u, int32(P+I)+pr.itemGrp[j], 0, -1)
				}
				for _, hd := range holders[j] {
					relax(u, hd.person, -hd.cost, -1)
				}
			default: // organisation
				g := int(u) - P - I
				relax(u, int32(T), groupCost(g), -1)
				for _, j := range pr.grpItem[g] {
					if len(holders[j]) > 0 {
						relax(u, int32(P)+j, 0, -1)
					}
				}
			}
		}
		dT := dist[T]
		if dT == math.MaxInt64 {
			// Cannot happen: the direct arc always reaches the sink.
			return nil, fmt.Errorf("matching: assign: person %d cannot reach the sink", s)
		}
		for _, v := range finals {
			pot[v] += dist[v] - dT
		}
		// Augment along the path, from the sink back to s.
		for v := int32(T); int(v) != s; {
			u := prev[v]
			switch {
			case int(u) < P && int(v) == T: // left unplaced
				asg[u] = -2
			case int(u) < P: // person → item
				c := prevCand[v]
				asg[u] = c
				holders[int(v)-P] = append(holders[int(v)-P], holder{u, cv - pr.cands[u][c].v, c})
			case int(u) < P+I && int(v) < P: // item → person (reverse): the person leaves the item
				hs := holders[int(u)-P]
				for k := range hs {
					if hs[k].person == v {
						holders[int(u)-P] = append(hs[:k], hs[k+1:]...)
						break
					}
				}
			case int(u) >= P+I && int(u) < T && int(v) == T: // organisation → sink
				gflow[int(u)-P-I]++
			}
			v = u
		}
		for _, v := range touched {
			dist[v] = math.MaxInt64
			done[v] = false
		}
		if progress != nil && (s%64 == 63 || s == P-1) {
			progress(P+s+1, 2*P)
		}
	}
	for i := range asg {
		if asg[i] < 0 {
			asg[i] = -1
		}
	}
	return asg, nil
}

// minHeap is a binary heap of (distance, node), ties by node for a
// deterministic order.
type minHeap struct {
	d []int64
	n []int32
}

func (h *minHeap) reset()   { h.d, h.n = h.d[:0], h.n[:0] }
func (h *minHeap) len() int { return len(h.d) }

func (h *minHeap) less(i, j int) bool {
	return h.d[i] < h.d[j] || (h.d[i] == h.d[j] && h.n[i] < h.n[j])
}

func (h *minHeap) swap(i, j int) {
	h.d[i], h.d[j] = h.d[j], h.d[i]
	h.n[i], h.n[j] = h.n[j], h.n[i]
}

func (h *minHeap) push(d int64, n int32) {
	h.d, h.n = append(h.d, d), append(h.n, n)
	for i := len(h.d) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h *minHeap) pop() (int64, int32) {
	d, n := h.d[0], h.n[0]
	last := len(h.d) - 1
	h.swap(0, last)
	h.d, h.n = h.d[:last], h.n[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && h.less(l, m) {
			m = l
		}
		if r < last && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h.swap(i, m)
		i = m
	}
	return d, n
}
