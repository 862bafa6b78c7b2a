package tiles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paulmach/orb"

	"github.com/atigip/atigip360/internal/atigip"
)

// dirtySet names what a batch of changes touched. A nil map means that
// kind did not change.
type dirtySet struct {
	// posts maps each changed post to its record before the batch (nil
	// if it was not drawable), to know which audiences it leaves.
	posts           map[int64]*postRec
	prisons, floors map[int64]bool
	audience        [2]bool // filled by draw
}

// markPost records post id as changed; call it before changing the state.
func (d *dirtySet) markPost(st *state, id int64) {
	if d.posts == nil {
		d.posts = map[int64]*postRec{}
	}
	if _, ok := d.posts[id]; !ok {
		d.posts[id] = st.posts[id]
	}
}

func mark(m *map[int64]bool, id int64) {
	if *m == nil {
		*m = map[int64]bool{}
	}
	(*m)[id] = true
}

// Follow applies the store's change feed until ctx ends: a committed
// change shows in the tiles within the store's signal latency (Options.Poll
// at worst). A failure (the database restarting) is logged and retried
// from the last batch applied; Ready reports it meanwhile. It returns
// ctx's error.
func (e *Engine) Follow(ctx context.Context) error {
	if e.store == nil {
		return errors.New("tiles: follow: engine built without a store")
	}
	return e.follower.Run(ctx)
}

// Ready returns nil when Follow has applied the whole feed and has not
// failed since, else an EUNAVAILABLE error (for /readyz).
func (e *Engine) Ready() error {
	if e.follower == nil {
		return nil // built from plain data: nothing to follow
	}
	return e.follower.Ready()
}

func (e *Engine) newFollower() *atigip.Follower {
	return &atigip.Follower{Name: "tiles", Store: e.store, Batch: 1000, Poll: e.opts.Poll, Seq: e.Seq,
		Apply: func(ctx context.Context, cs []atigip.Change) error {
			_, err := e.Apply(ctx, cs)
			return err
		},
		OnError: func(err error, retry time.Duration) {
			e.log.Warn("tiles: follow changes, retrying", "err", err, "retry_in", retry.String(), "seq", e.Seq())
		},
		Rebuild: e.reload}
}

// Seq is the last change-feed position applied.
func (e *Engine) Seq() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seq
}

// Apply reloads the entities named by cs from the store, redraws what they
// touch and invalidates exactly the cached tiles whose content changed. It
// returns the number of cache entries dropped.
func (e *Engine) Apply(ctx context.Context, cs []atigip.Change) (int, error) {
	if e.store == nil {
		return 0, errors.New("tiles: apply: engine built without a store")
	}
	if len(cs) == 0 {
		return 0, nil
	}
	start := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	// Read everything first: a store failure (the database restarting)
	// then leaves the engine untouched, at the Seq before the batch, and
	// Follow's retry redoes the whole batch.
	type kid struct {
		k  atigip.Kind
		id int64
	}
	type fetched struct {
		c atigip.Change
		e atigip.Entity // nil: gone
	}
	done := map[kid]bool{}
	var batch []fetched
	for _, c := range cs {
		if done[kid{c.Kind, c.ID}] {
			continue
		}
		done[kid{c.Kind, c.ID}] = true
		switch c.Kind {
		case atigip.KindOrganisation, atigip.KindPost, atigip.KindPrison, atigip.KindFloorSpace:
		default:
			continue
		}
		ent, err := e.store.Entities(c.Kind).Get(ctx, c.ID)
		gone, err := missing(err)
		if err != nil {
			return 0, fmt.Errorf("tiles: apply %s %d: %w", c.Kind, c.ID, err)
		}
		if gone {
			ent = nil
		}
		batch = append(batch, fetched{c, ent})
	}
	st := e.state
	var d dirtySet
	orgs := map[int64]bool{} // organisations changed: their posts are rebound below
	in := interner{}
	for _, f := range batch {
		c := f.c
		switch c.Kind {
		case atigip.KindOrganisation:
			if f.e == nil {
				delete(st.orgs, c.ID)
			} else {
				st.orgs[c.ID] = newOrgRec(f.e.(*atigip.Organisation), in)
			}
			orgs[c.ID] = true
		case atigip.KindPost:
			d.markPost(st, c.ID)
			if f.e == nil {
				delete(st.posts, c.ID)
			} else {
				p := f.e.(*atigip.Post)
				st.setPost(newPostRec(p, st.orgs[p.OrganisationID], in))
			}
		case atigip.KindPrison:
			if f.e == nil {
				delete(st.prisons, c.ID)
			} else {
				st.prisons[c.ID] = f.e.(*atigip.Prison)
			}
			mark(&d.prisons, c.ID)
			for id := range st.floorsOfPri[c.ID] {
				mark(&d.floors, id) // they carry the prison's name
			}
		case atigip.KindFloorSpace:
			if old := st.floors[c.ID]; old != nil {
				mark(&d.prisons, old.PrisonID) // its count of available spaces
			}
			if f.e == nil {
				st.deleteFloor(c.ID)
			} else {
				fs := f.e.(*atigip.FloorSpace)
				st.setFloor(fs)
				mark(&d.prisons, fs.PrisonID)
			}
			mark(&d.floors, c.ID)
		}
	}
	if last := cs[len(cs)-1].Seq; last > e.seq {
		e.seq = last
	}
	if len(orgs) > 0 {
		for id, r := range st.posts {
			if orgs[r.orgID] {
				d.markPost(st, id)
				st.posts[id] = r.rebound(st.orgs[r.orgID])
			}
		}
	}
	if d.posts == nil && d.prisons == nil && d.floors == nil {
		return 0, nil
	}
	prev := e.snap.Load()
	next := e.draw(st, prev, &d)
	e.snap.Store(next)
	// Invalidate after the swap: a tile rendered from prev and put after
	// this point is refused by the cache's generation check.
	n := e.invalidate(prev, next, &d)
	e.log.Debug("tiles: changes applied", "changes", len(cs), "invalidated", n, "took", time.Since(start))
	return n, nil
}

func missing(err error) (bool, error) {
	switch {
	case err == nil:
		return false, nil
	case atigip.ErrorCode(err) == atigip.ENOTFOUND:
		return true, nil
	}
	return false, err
}

func (e *Engine) invalidate(prev, next *snapshot, d *dirtySet) int {
	n := 0
	del := func(aud, z int, x, y float64) {
		tx, ty := tileOf(x, y, z)
		if e.cache.delete(cacheKey{aud: uint8(aud), z: uint8(z), x: tx, y: ty}) {
			n++
		}
	}
	for a := range audiences {
		if !d.audience[a] {
			continue
		}
		for z := 0; z < e.opts.ClusterBelow; z++ {
			diffLevels(prev.posts[a].levels[z], next.posts[a].levels[z], func(it *item) { del(a, z, it.x, it.y) })
		}
		diffLeaves(prev.posts[a].leaves, next.posts[a].leaves, func(r *postRec) {
			for z := e.opts.ClusterBelow; z <= e.opts.MaxZoom; z++ {
				del(a, z, r.x, r.y)
			}
		})
	}
	for id := range d.prisons {
		for _, r := range []*pointRec{prev.prisRec[id], next.prisRec[id]} {
			if r == nil {
				continue
			}
			for z := 0; z <= e.opts.MaxZoom; z++ {
				for a := range audiences {
					del(a, z, r.x, r.y)
				}
			}
		}
	}
	for id := range d.floors {
		for _, r := range []*polyRec{prev.floors[id], next.floors[id]} {
			if r != nil {
				n += e.invalidateBound(r.bound)
			}
		}
	}
	// Filtered tiles are a small share of the cache, drawn from pyramids
	// dropped with the posts they were built from: all go at any change.
	n += e.cache.deleteWhere(func(k cacheKey) bool { return k.filt != 0 })
	return n
}

// invalidateBound drops, at every zoom and for both audiences, the cached
// tiles whose buffered extent meets b (normalised Web Mercator).
func (e *Engine) invalidateBound(b orb.Bound) int {
	n := 0
	for z := 0; z <= e.opts.MaxZoom; z++ {
		scale := float64(e.opts.Extent) * float64(uint64(1)<<z)
		pad := float64(e.opts.Buffer) / scale
		x0, y0 := tileOf(clamp01(b.Min[0]-pad), clamp01(b.Min[1]-pad), z)
		x1, y1 := tileOf(clamp01(b.Max[0]+pad), clamp01(b.Max[1]+pad), z)
		if count := uint64(x1-x0+1) * uint64(y1-y0+1); count > 4096 {
			n += e.cache.deleteWhere(func(k cacheKey) bool {
				return int(k.z) == z && k.x >= x0 && k.x <= x1 && k.y >= y0 && k.y <= y1
			})
			continue
		}
		for x := x0; x <= x1; x++ {
			for y := y0; y <= y1; y++ {
				for a := range audiences {
					if e.cache.delete(cacheKey{aud: uint8(a), z: uint8(z), x: x, y: y}) {
						n++
					}
				}
			}
		}
	}
	return n
}
