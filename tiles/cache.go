package tiles

import (
	"bytes"
	"compress/gzip"
	"io"
	"sync"
	"sync/atomic"
)

// cacheKey names a generated tile. The tileset fixes the audience, so the
// key is per audience as the issue asks.
type cacheKey struct {
	aud  uint8
	z    uint8
	x, y uint32
	// filt numbers the Filter of the tile (0: none): each combination is
	// its own tile.
	filt uint32
}

// entry is a generated tile, shared read-only by every request for it.
type entry struct {
	data   []byte
	etag   string
	empty  bool
	gzOnce sync.Once
	gz     []byte
}

// size is the entry's weight in the cache, fixed at creation: the data
// and room for its gzip copy, which is never larger for tiles.
func (e *entry) size() int64 { return int64(2*len(e.data)) + 128 }

// gzipped returns the tile gzip-compressed, computed once.
func (e *entry) gzipped() []byte {
	e.gzOnce.Do(func() {
		var b bytes.Buffer
		b.Grow(len(e.data)/2 + 64)
		w := gzipWriters.Get().(*gzip.Writer)
		w.Reset(&b)
		_, _ = w.Write(e.data) // a bytes.Buffer does not fail
		_ = w.Close()
		gzipWriters.Put(w)
		e.gz = b.Bytes()
	})
	return e.gz
}

// gzipWriters are reused: a new gzip.Writer allocates about 800 KB of
// tables, which dominated the cost of a tile's first compression.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // a valid level never fails
	return w
}}

const cacheShards = 32

// cache is a sharded map bounded in bytes; when a shard is over its share
// it drops arbitrary entries (Go's random map order), which is as good as
// LRU for tiles requested uniformly and far cheaper under contention.
type cache struct {
	shards   [cacheShards]cacheShard
	perShard int64
	disabled bool
	gen      *atomic.Uint64 // the engine's snapshot generation
}

type cacheShard struct {
	mu           sync.RWMutex
	m            map[cacheKey]*entry
	bytes        int64
	hits, misses atomic.Uint64
}

func newCache(limit int64, gen *atomic.Uint64) *cache {
	c := &cache{perShard: limit / cacheShards, disabled: limit < 0, gen: gen}
	for i := range c.shards {
		c.shards[i].m = map[cacheKey]*entry{}
	}
	return c
}

func (c *cache) shard(k cacheKey) *cacheShard {
	h := uint32(k.x)*2654435761 ^ uint32(k.y)*40503 ^ uint32(k.z)*97 ^ uint32(k.aud) ^ k.filt*2246822519
	return &c.shards[h%cacheShards]
}

func (c *cache) get(k cacheKey) *entry {
	if c.disabled {
		return nil
	}
	s := c.shard(k)
	s.mu.RLock()
	e := s.m[k]
	s.mu.RUnlock()
	if e != nil {
		s.hits.Add(1)
	} else {
		s.misses.Add(1)
	}
	return e
}

// CacheStats describes the tile cache.
type CacheStats struct {
	Hits, Misses uint64 // lookups since the engine was built
	Entries      int
	Bytes        int64 // the entries' weight: data plus room for gzip
	Limit        int64 // 7/8 of Options.CacheBytes, the rest is for filtered pyramids (negative: disabled)
}

func (c *cache) stats() CacheStats {
	st := CacheStats{Limit: c.perShard * cacheShards}
	if c.disabled {
		st.Limit = -1
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		st.Entries += len(s.m)
		st.Bytes += s.bytes
		s.mu.RUnlock()
		st.Hits += s.hits.Load()
		st.Misses += s.misses.Load()
	}
	return st
}

// put stores e if it was generated from the current snapshot: a tile built
// from data that changed meanwhile is served once but never cached, since
// its invalidation may already have run.
func (c *cache) put(k cacheKey, e *entry, gen uint64) {
	if c.disabled {
		return
	}
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if old := s.m[k]; old != nil {
		s.bytes -= old.size()
	}
	s.m[k] = e
	s.bytes += e.size()
	for kk, ee := range s.m {
		if s.bytes <= c.perShard {
			break
		}
		if kk != k {
			s.bytes -= ee.size()
			delete(s.m, kk)
		}
	}
}

func (c *cache) delete(k cacheKey) bool {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[k]; ok {
		s.bytes -= e.size()
		delete(s.m, k)
		return true
	}
	return false
}

func (c *cache) clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.m = map[cacheKey]*entry{}
		s.bytes = 0
		s.mu.Unlock()
	}
}

func (c *cache) deleteWhere(pred func(cacheKey) bool) int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			if pred(k) {
				s.bytes -= e.size()
				delete(s.m, k)
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}
