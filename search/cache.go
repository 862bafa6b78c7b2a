package search

import (
	"encoding/json"
	"sync"
)

// browseCache keeps the answers of requests without text (browsing by
// filters: the list beside the map, its facets) until the index changes.
// Such a request visits every document its filters keep to count facets
// and order by date, tens of milliseconds nationwide for a broad one,
// while the same few are asked again and again; any write to the index
// (Apply, Reindex) makes every entry stale. Text queries are not cached:
// they are cheap and varied.
type browseCache struct {
	mu      sync.Mutex
	entries map[string]browseEntry
	order   []string // insertion order, for eviction
}

type browseEntry struct {
	gen int64 // Index.written when computed
	res Result
}

// browseCacheSize bounds the entries: a few megabytes at most.
const browseCacheSize = 256

// browseKey identifies a normalized request without text; ok is false
// for requests not cached.
func browseKey(r *Request, pq parsedQuery) (string, bool) {
	if !pq.empty() || r.Explain {
		return "", false
	}
	k := *r
	k.Query = ""
	b, err := json.Marshal(k)
	if err != nil {
		return "", false
	}
	return string(b), true
}

func (c *browseCache) get(key string, gen int64) (*Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.gen != gen {
		return nil, false
	}
	res := e.res // the hits and facets are shared, read only
	return &res, true
}

func (c *browseCache) put(key string, gen int64, res *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]browseEntry{}
	}
	if _, ok := c.entries[key]; !ok {
		c.order = append(c.order, key)
		if len(c.order) > browseCacheSize {
			delete(c.entries, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.entries[key] = browseEntry{gen: gen, res: *res}
}
