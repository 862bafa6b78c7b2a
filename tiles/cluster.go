package tiles

import (
	"slices"
	"sort"

	"github.com/paulmach/orb/geojson"
)

// item is one feature of the posts layer at one zoom: a single post or a
// cluster of posts.
type item struct {
	qk    uint64
	x, y  float64
	post  *postRec // the post when count == 1
	seed  int64    // id of the post that seeded the cluster: stable ids
	count int
	// expansion is the zoom at which a cluster splits into several items.
	expansion                               int
	minors, weekends, wheelchair, transport int
	withPlaces, placesAvailable             int
	domains                                 uint16
	props                                   geojson.Properties
	featureID                               uint64
}

// sig identifies an item's drawn content: two levels are diffed on it to
// invalidate only the tiles whose features changed.
type sig struct {
	x, y                                    float64
	count, expansion                        int
	minors, weekends, wheelchair, transport int
	withPlaces, placesAvailable             int
	domains                                 uint16
	post                                    *postRec
	seed                                    int64
}

func (it *item) sig() sig {
	s := sig{x: it.x, y: it.y, count: it.count, expansion: it.expansion,
		minors: it.minors, weekends: it.weekends, wheelchair: it.wheelchair, transport: it.transport,
		withPlaces: it.withPlaces, placesAvailable: it.placesAvailable, domains: it.domains, seed: it.seed}
	if it.count == 1 {
		s.post = it.post // a new record per change of the post
	}
	return s
}

// pyramid is the posts layer of one audience at every zoom.
type pyramid struct {
	levels [][]item // levels[z] for z < ClusterBelow, sorted by qk
	leaves []item   // single posts, sorted by qk: every zoom ≥ ClusterBelow
}

func (p *pyramid) at(z int) []item {
	if z < len(p.levels) {
		return p.levels[z]
	}
	return p.leaves
}

func leafItem(r *postRec, aud int) item {
	it := item{qk: r.qk, x: r.x, y: r.y, post: r, seed: r.id, count: 1, domains: r.domains,
		props: r.props[aud], featureID: uint64(r.id)}
	it.minors, it.weekends = b2i(r.minors), b2i(r.weekends)
	it.wheelchair, it.transport = b2i(r.wheelchair), b2i(r.transport)
	it.withPlaces, it.placesAvailable = b2i(r.placesLeft > 0), r.placesLeft
	return it
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// buildPyramid clusters the visible posts of audience aud like
// supercluster: from zoom ClusterBelow-1 up to 0, each item of the level
// below joins the first unclaimed item within radius pixels (of a 512 px
// tile) and the cluster sits at the count-weighted centroid. Each post is
// thus in exactly one item per zoom.
func buildPyramid(posts []*postRec, aud int, clusterBelow int, radius float64) *pyramid {
	p := &pyramid{levels: make([][]item, clusterBelow)}
	for _, r := range posts {
		if r.visible[aud] {
			p.leaves = append(p.leaves, leafItem(r, aud))
		}
	}
	sortItems(p.leaves)
	prev := p.leaves
	for z := clusterBelow - 1; z >= 0; z-- {
		prev = clusterLevel(prev, z, radius, aud)
		p.levels[z] = prev
	}
	return p
}

func sortItems(items []item) {
	slices.SortFunc(items, func(a, b item) int {
		if a.qk != b.qk {
			if a.qk < b.qk {
				return -1
			}
			return 1
		}
		// Same quadkey (same place): stable order by seed post.
		return int(a.seed - b.seed)
	})
}

type cell struct {
	key uint64
	idx int32
}

func clusterLevel(in []item, z int, radius float64, aud int) []item {
	r := radius / (512 * float64(uint64(1)<<z))
	cellOf := func(x, y float64) (uint32, uint32) { return uint32(x / r), uint32(y / r) }
	cells := make([]cell, len(in))
	for i := range in {
		cx, cy := cellOf(in[i].x, in[i].y)
		cells[i] = cell{uint64(cx)<<32 | uint64(cy), int32(i)}
	}
	slices.SortFunc(cells, func(a, b cell) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		return int(a.idx - b.idx)
	})
	claimed := make([]bool, len(in))
	out := make([]item, 0, len(in)/2+1)
	r2 := r * r
	var members []int32
	for i := range in {
		if claimed[i] {
			continue
		}
		claimed[i] = true
		a := &in[i]
		members = members[:0]
		cx, cy := cellOf(a.x, a.y)
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				nx, ny := int64(cx)+int64(dx), int64(cy)+int64(dy)
				if nx < 0 || ny < 0 {
					continue
				}
				key := uint64(nx)<<32 | uint64(ny)
				j := sort.Search(len(cells), func(k int) bool { return cells[k].key >= key })
				for ; j < len(cells) && cells[j].key == key; j++ {
					m := cells[j].idx
					if claimed[m] {
						continue
					}
					b := &in[m]
					if ddx, ddy := b.x-a.x, b.y-a.y; ddx*ddx+ddy*ddy <= r2 {
						claimed[m] = true
						members = append(members, m)
					}
				}
			}
		}
		if len(members) == 0 {
			it := *a // alone at this zoom: same feature, one level up
			if it.count > 1 {
				it.featureID = clusterID(it.seed, z)
			}
			out = append(out, it)
			continue
		}
		c := item{seed: a.seed, count: a.count, expansion: z + 1}
		wx, wy := a.x*float64(a.count), a.y*float64(a.count)
		c.add(a)
		for _, m := range members {
			b := &in[m]
			c.count += b.count
			wx += b.x * float64(b.count)
			wy += b.y * float64(b.count)
			c.add(b)
		}
		c.x, c.y = wx/float64(c.count), wy/float64(c.count)
		c.qk = quadkey(c.x, c.y)
		c.featureID = clusterID(c.seed, z)
		c.props = clusterProps(&c, aud)
		out = append(out, c)
	}
	sortItems(out)
	return out
}

func (c *item) add(b *item) {
	c.minors += b.minors
	c.weekends += b.weekends
	c.wheelchair += b.wheelchair
	c.transport += b.transport
	c.withPlaces += b.withPlaces
	c.placesAvailable += b.placesAvailable
	c.domains |= b.domains
}

// clusterID keeps cluster ids apart from post ids (below 2^40) and stable
// while the cluster's seed post stays the same.
func clusterID(seed int64, z int) uint64 {
	return 1<<62 | uint64(seed)<<5 | uint64(z)
}

func clusterProps(c *item, aud int) geojson.Properties {
	all := geojson.Properties{
		"cluster":                 true,
		"point_count":             c.count,
		"point_count_abbreviated": abbreviate(c.count),
		"expansion_zoom":          c.expansion,
		"minors_count":            c.minors,
		"weekends_count":          c.weekends,
		"wheelchair_count":        c.wheelchair,
		"transport_count":         c.transport,
		"domains":                 domainString(c.domains),
		"places_available":        c.placesAvailable,
		"with_places_count":       c.withPlaces,
	}
	return whitelist(LayerPosts, audiences[aud], all)
}

// itemsIn returns the items of a level sorted by qk that fall in tile
// (z, x, y): a contiguous run.
func itemsIn(items []item, z int, x, y uint32) []item {
	lo, hi := quadRange(z, x, y)
	i := sort.Search(len(items), func(k int) bool { return items[k].qk >= lo })
	j := sort.Search(len(items), func(k int) bool { return items[k].qk >= hi })
	return items[i:j]
}

// diffLevels calls fn with every item present in only one of a and b.
func diffLevels(a, b []item, fn func(it *item)) {
	seen := make(map[sig]int, len(a))
	for i := range a {
		seen[a[i].sig()]++
	}
	for i := range b {
		s := b[i].sig()
		if seen[s] > 0 {
			seen[s]--
			continue
		}
		fn(&b[i])
	}
	left := make(map[sig]int, len(seen))
	for s, n := range seen {
		if n > 0 {
			left[s] = n
		}
	}
	if len(left) == 0 {
		return
	}
	for i := range a {
		if s := a[i].sig(); left[s] > 0 {
			left[s]--
			fn(&a[i])
		}
	}
}
