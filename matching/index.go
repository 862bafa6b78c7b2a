package matching

import (
	"slices"
	"sort"
)

// index maps keys (ids, refKeys) to engine indices: two sorted arrays, 12
// bytes an entry where a map takes about 30 at ten times the country. It
// is filled while building, sealed once (sorted), then only read.
type index struct {
	keys []int64
	idx  []int32
}

func (x *index) add(k int64, i int32) {
	x.keys = append(x.keys, k)
	x.idx = append(x.idx, i)
}

// seal sorts the entries by key and gives them arrays of their length.
func (x *index) seal() {
	if !sort.IsSorted(x) {
		sort.Sort(x)
	}
	x.keys, x.idx = slices.Clone(x.keys), slices.Clone(x.idx)
}

// get returns the index of key k.
func (x *index) get(k int64) (int32, bool) {
	i, ok := slices.BinarySearch(x.keys, k)
	if !ok {
		return 0, false
	}
	return x.idx[i], true
}

func (x *index) Len() int           { return len(x.keys) }
func (x *index) Less(i, j int) bool { return x.keys[i] < x.keys[j] }
func (x *index) Swap(i, j int) {
	x.keys[i], x.keys[j] = x.keys[j], x.keys[i]
	x.idx[i], x.idx[j] = x.idx[j], x.idx[i]
}
