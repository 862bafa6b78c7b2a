package tiles

import (
	"cmp"
	"slices"
	"sort"

	"github.com/paulmach/orb/geojson"
)

// item is one feature of the posts layer at one zoom: a single post or a
// cluster of posts. Its attributes are encoded at tile time (props), so a
// level costs only these compact values.
type item struct {
	qk   uint64
	x, y float64
	post *postRec // the post when count == 1
	seed int64    // id of the post that seeded the cluster: stable ids
	// count is the number of posts; the other counts are those of posts
	// with the named property.
	count, minors, weekends, wheelchair, transport int32
	withPlaces, placesAvailable                    int32
	domains                                        uint16
	// expansion is the zoom at which a cluster splits into several items.
	expansion int8
}

// featureID is the item's MVT id at zoom z: the post's id for a single
// post, an id derived from the seed post for a cluster.
func (it *item) featureID(z int) uint64 {
	if it.count == 1 {
		return uint64(it.seed)
	}
	return clusterID(it.seed, z)
}

// props are the item's attributes for audience aud.
func (it *item) props(aud int) geojson.Properties {
	if it.count == 1 {
		return postProps(it.post, aud)
	}
	return clusterProps(it, aud)
}

// An item is compared whole to diff two levels and invalidate only the
// tiles whose features changed: a single post's record is new after every
// change of the post, so its pointer stands for its attributes.

// pyramid is the posts layer of one audience at every zoom.
type pyramid struct {
	levels [][]item // levels[z] for z < ClusterBelow, sorted by qk
	// leaves are the single posts of every zoom ≥ ClusterBelow, sorted by
	// (qk, id): a tile makes their items (leafItem), so a post costs a
	// pointer here rather than a 72-byte item (35 MB of the served heap
	// at ten times the country).
	leaves []*postRec
}

// itemsAt returns the items of tile z/x/y.
func (p *pyramid) itemsAt(z int, x, y uint32) []item {
	if z < len(p.levels) {
		return itemsIn(p.levels[z], z, x, y)
	}
	return leafItems(inTile(p.leaves, func(r *postRec) uint64 { return r.qk }, z, x, y))
}

func leafItems(rs []*postRec) []item {
	out := make([]item, len(rs))
	for i, r := range rs {
		out[i] = leafItem(r)
	}
	return out
}

func leafItem(r *postRec) item {
	it := item{qk: r.qk, x: r.x, y: r.y, post: r, seed: r.id, count: 1, domains: r.domains}
	it.minors, it.weekends = b2i(r.minors), b2i(r.weekends)
	it.wheelchair, it.transport = b2i(r.wheelchair), b2i(r.transport)
	it.withPlaces, it.placesAvailable = b2i(r.placesLeft > 0), r.placesLeft
	return it
}

func b2i(b bool) int32 {
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
	n := 0
	for _, r := range posts {
		if r.visible[aud] {
			n++
		}
	}
	p.leaves = make([]*postRec, 0, n)
	for _, r := range posts {
		if r.visible[aud] {
			p.leaves = append(p.leaves, r)
		}
	}
	// The order of sortItems: a leaf item's seed is its post's id.
	slices.SortFunc(p.leaves, func(a, b *postRec) int { return cmp.Or(cmp.Compare(a.qk, b.qk), cmp.Compare(a.id, b.id)) })
	if clusterBelow == 0 {
		return p
	}
	prev := leafItems(p.leaves) // the level below the deepest cluster level, for its build only
	for z := clusterBelow - 1; z >= 0; z-- {
		prev = clusterLevel(prev, z, radius)
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

func clusterLevel(in []item, z int, radius float64) []item {
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
			out = append(out, *a) // alone at this zoom: same feature, one level up
			continue
		}
		c := item{seed: a.seed, count: a.count, expansion: int8(z + 1)}
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
		out = append(out, c)
	}
	sortItems(out)
	// The level is kept as long as the snapshot: not the room guessed
	// for it (half the level below), which clustering often leaves empty.
	if cap(out)-len(out) > len(out)/8 {
		out = slices.Clone(out)
	}
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
	f := postFields[aud]
	p := make(geojson.Properties, 12)
	f.put(p, "cluster", true)
	f.put(p, "point_count", int(c.count))
	f.put(p, "point_count_abbreviated", abbreviate(int(c.count)))
	f.put(p, "expansion_zoom", int(c.expansion))
	f.put(p, "minors_count", int(c.minors))
	f.put(p, "weekends_count", int(c.weekends))
	f.put(p, "wheelchair_count", int(c.wheelchair))
	f.put(p, "transport_count", int(c.transport))
	f.put(p, "domains", domainString(c.domains))
	f.put(p, "places_available", int(c.placesAvailable))
	f.put(p, "with_places_count", int(c.withPlaces))
	return p
}

// itemsIn returns the items of a level sorted by qk that fall in tile
// (z, x, y).
func itemsIn(items []item, z int, x, y uint32) []item {
	return inTile(items, func(it item) uint64 { return it.qk }, z, x, y)
}

// inTile returns the elements of s, sorted by their quadkey qk, that fall
// in tile (z, x, y): a contiguous run.
func inTile[T any](s []T, qk func(T) uint64, z int, x, y uint32) []T {
	lo, hi := quadRange(z, x, y)
	i := sort.Search(len(s), func(k int) bool { return qk(s[k]) >= lo })
	j := sort.Search(len(s), func(k int) bool { return qk(s[k]) >= hi })
	return s[i:j]
}

// diffLeaves calls fn with every post present in only one of a and b:
// records are new after every change, so a pointer stands for its item.
func diffLeaves(a, b []*postRec, fn func(r *postRec)) {
	only := make(map[*postRec]bool, len(a))
	for _, r := range a {
		only[r] = true
	}
	for _, r := range b {
		if only[r] {
			delete(only, r)
		} else {
			fn(r)
		}
	}
	for r := range only {
		fn(r)
	}
}

// diffLevels calls fn with every item present in only one of a and b.
func diffLevels(a, b []item, fn func(it *item)) {
	seen := make(map[item]int, len(a))
	for i := range a {
		seen[a[i]]++
	}
	for i := range b {
		s := b[i]
		if seen[s] > 0 {
			seen[s]--
			continue
		}
		fn(&b[i])
	}
	left := make(map[item]int, len(seen))
	for s, n := range seen {
		if n > 0 {
			left[s] = n
		}
	}
	if len(left) == 0 {
		return
	}
	for i := range a {
		if s := a[i]; left[s] > 0 {
			left[s]--
			fn(&a[i])
		}
	}
}
