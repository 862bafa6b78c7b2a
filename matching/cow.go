package matching

// cowChunk is the number of elements per chunk of a cow slice.
const cowChunk = 256

// cow is a slice stored in chunks, so that a patched engine copies only
// the chunks it changes (copy on write) rather than every post and person.
type cow[T any] struct {
	chunks [][]T
	owned  []bool // chunks this slice may write in place
	n      int
}

func (c *cow[T]) len() int { return c.n }

// at is element i, for reading.
func (c *cow[T]) at(i int32) *T { return &c.chunks[i/cowChunk][i%cowChunk] }

// add appends v (while building: every chunk is owned).
func (c *cow[T]) add(v T) {
	if c.n%cowChunk == 0 {
		c.chunks = append(c.chunks, make([]T, 0, cowChunk))
		c.owned = append(c.owned, true)
	}
	k := c.n / cowChunk
	c.chunks[k] = append(c.chunks[k], v)
	c.n++
}

// share returns a copy that shares every chunk with c, owning none.
func (c *cow[T]) share() cow[T] {
	out := cow[T]{chunks: make([][]T, len(c.chunks)), owned: make([]bool, len(c.chunks)), n: c.n}
	copy(out.chunks, c.chunks)
	return out
}

// mut is element i, for writing: its chunk is copied first if shared.
func (c *cow[T]) mut(i int32) *T {
	k := i / cowChunk
	if !c.owned[k] {
		c.chunks[k] = append(make([]T, 0, cowChunk), c.chunks[k]...)
		c.owned[k] = true
	}
	return &c.chunks[k][i%cowChunk]
}
