package search

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2"
)

// Keys of the values the index keeps in bleve's internal storage, next to
// the documents they describe, so that both are persisted by the same batch.
var (
	keyVersion = []byte("atigip:mapping_version")
	keySeq     = []byte("atigip:seq") // last change feed Seq applied
)

// Options tunes Open.
type Options struct {
	// Logger receives index life-cycle events (rebuild reasons, follow
	// errors). Nil discards them.
	Logger *slog.Logger
}

// Index is the full-text index of posts, offers, organisations and floor
// spaces. It is safe for concurrent use: searches run while changes are
// applied.
type Index struct {
	path   string
	logger *slog.Logger

	mu  sync.RWMutex // guards idx, swapped by Reindex
	idx bleve.Index

	seq     atomic.Int64 // last change Seq applied; -1 before the first build
	written atomic.Int64 // documents indexed or deleted since Open
	browse  browseCache  // answers of requests without text, until a write
	table   *filterTable // requests without text, from memory; swapped with idx
	facets  facetCache   // facet postings by segment, for text queries
	reason  string       // why Open started from an empty index ("" if it did not)
	// tableResumed: the filter table was read from SaveTable's file.
	tableResumed bool
	// follower is Follow's, for Ready; nil before Follow.
	follower atomic.Pointer[follower]
}

// Open opens the index at path, or an in-memory index when path is "".
// An index that is missing, unreadable, written with another mapping
// version or whose first build never finished is recreated empty, and
// NeedsRebuild reports it: CatchUp and Follow then rebuild it from the
// store instead of trusting it.
func Open(path string, opts Options) (*Index, error) {
	ix := &Index{path: path, logger: opts.Logger, table: newFilterTable()}
	if ix.logger == nil {
		ix.logger = slog.New(slog.DiscardHandler)
	}
	ix.seq.Store(-1)
	if path == "" {
		idx, err := newBleve("")
		if err != nil {
			return nil, err
		}
		ix.idx, ix.reason = idx, "index en mémoire"
		return ix, nil
	}
	idx, seq, reason := openExisting(path)
	if reason != "" {
		if _, err := os.Stat(path); err == nil {
			ix.logger.Warn("search: index rebuilt", "path", path, "reason", reason)
		}
		if err := os.RemoveAll(path); err != nil {
			return nil, fmt.Errorf("search: remove stale index: %w", err)
		}
		var err error
		if idx, err = newBleve(path); err != nil {
			return nil, err
		}
	} else {
		ix.seq.Store(seq)
	}
	ix.idx, ix.reason = idx, reason
	return ix, nil
}

// openExisting opens path and checks it can be trusted; reason says why
// not. Bleve may panic on some corrupt files: that is a reason too.
func openExisting(path string) (idx bleve.Index, seq int64, reason string) {
	if _, err := os.Stat(filepath.Join(path, "index_meta.json")); errors.Is(err, os.ErrNotExist) {
		return nil, 0, "absent"
	}
	defer func() {
		if r := recover(); r != nil {
			if idx != nil {
				_ = idx.Close()
			}
			idx, reason = nil, fmt.Sprintf("corrompu (%v)", r)
		}
	}()
	idx, err := bleve.Open(path)
	if err != nil {
		return nil, 0, fmt.Sprintf("corrompu (%v)", err)
	}
	fail := func(r string) (bleve.Index, int64, string) {
		_ = idx.Close()
		return nil, 0, r
	}
	v, err := idx.GetInternal(keyVersion)
	switch {
	case err != nil:
		return fail(fmt.Sprintf("corrompu (%v)", err))
	case string(v) != MappingVersion:
		return fail(fmt.Sprintf("version de mapping %q au lieu de %q", v, MappingVersion))
	}
	raw, err := idx.GetInternal(keySeq)
	if err != nil {
		return fail(fmt.Sprintf("corrompu (%v)", err))
	}
	if raw == nil {
		return fail("construction initiale inachevée")
	}
	seq, err = strconv.ParseInt(string(raw), 10, 64)
	if err != nil || seq < 0 {
		return fail(fmt.Sprintf("position %q illisible", raw))
	}
	// Reading the document count walks every segment: a truncated
	// segment file fails here rather than in a user's search.
	if _, err := idx.DocCount(); err != nil {
		return fail(fmt.Sprintf("corrompu (%v)", err))
	}
	return idx, seq, ""
}

func newBleve(path string) (bleve.Index, error) {
	m, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("search: mapping: %w", err)
	}
	var idx bleve.Index
	if path == "" {
		idx, err = bleve.NewMemOnly(m)
	} else {
		idx, err = bleve.New(path, m)
	}
	if err != nil {
		return nil, fmt.Errorf("search: create index: %w", err)
	}
	if err := idx.SetInternal(keyVersion, []byte(MappingVersion)); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("search: write mapping version: %w", err)
	}
	return idx, nil
}

// NeedsRebuild reports whether the index must be rebuilt from the store
// before it can be followed: it is new, or Open discarded it.
func (ix *Index) NeedsRebuild() bool { return ix.seq.Load() < 0 }

// RebuildReason says why Open started from an empty index, "" when it
// reopened a sound one.
func (ix *Index) RebuildReason() string { return ix.reason }

// Seq is the last change feed Seq applied (-1 before the first build).
func (ix *Index) Seq() int64 { return ix.seq.Load() }

// Written counts the documents indexed or deleted since Open, which tells a
// catch-up from a full rebuild.
func (ix *Index) Written() int64 { return ix.written.Load() }

// DocCount is the number of documents in the index.
func (ix *Index) DocCount() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n, err := ix.idx.DocCount()
	if err != nil {
		return 0, fmt.Errorf("search: count documents: %w", err)
	}
	return n, nil
}

// Path is the index directory ("" in memory).
func (ix *Index) Path() string { return ix.path }

// Close releases the index files.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.idx == nil {
		return nil
	}
	err := ix.idx.Close()
	ix.idx = nil
	if err != nil {
		return fmt.Errorf("search: close index: %w", err)
	}
	return nil
}
