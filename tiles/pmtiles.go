package tiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/protomaps/go-pmtiles/pmtiles"

	"github.com/atigip/atigip360/internal/atigip"
)

// ExportOptions selects what Export writes.
type ExportOptions struct {
	Tileset string // "public" (default) or "justice"
	MinZoom int
	// MaxZoom is the deepest zoom written (default: the engine's
	// ClusterBelow, the first zoom of single posts; at most SourceMaxZoom).
	MaxZoom int
	// Progress, when set, is called after each zoom with the tiles written.
	Progress func(z, tiles int)
}

// ExportStats sums up an export.
type ExportStats struct {
	Tiles       int   // addressed tiles
	Unique      int   // distinct tile contents stored
	Bytes       int64 // file size
	MaxTileSize int   // largest uncompressed tile
}

// Export writes tileset as a PMTiles v3 archive at path (gzip-compressed
// MVT, deduplicated, with TileJSON-like metadata) for static hosting. Only
// non-empty tiles are written; a tile's children are visited only when it
// is not empty, since a child's buffered extent lies inside its parent's.
func (e *Engine) Export(ctx context.Context, path string, o ExportOptions) (ExportStats, error) {
	var st ExportStats
	if o.Tileset == "" {
		o.Tileset = "public"
	}
	ta, ok := Tilesets[o.Tileset]
	if !ok {
		return st, atigip.Errorf(atigip.EINVALID, "Jeu de tuiles inconnu : %q (public ou justice).", o.Tileset)
	}
	if o.MaxZoom == 0 {
		o.MaxZoom = min(max(e.opts.ClusterBelow, 0), e.opts.SourceMaxZoom)
	}
	if o.MinZoom < 0 || o.MaxZoom < o.MinZoom || o.MaxZoom > e.opts.MaxZoom {
		return st, atigip.Errorf(atigip.EINVALID, "Zooms d'export invalides : %d à %d (maximum %d).", o.MinZoom, o.MaxZoom, e.opts.MaxZoom)
	}
	aud := audIndex(ta)
	snap := e.snap.Load()

	w, err := NewArchiveWriter(path)
	if err != nil {
		return st, err
	}
	defer w.Abort()
	type job struct {
		x, y uint32
		data []byte
		err  error
	}
	level := []job{{0, 0, nil, nil}}
	for z := 0; z <= o.MaxZoom && len(level) > 0; z++ {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("tiles: export: %w", err)
		}
		// Render the level in parallel: tiles are independent.
		var wg sync.WaitGroup
		next := make(chan int)
		for w := 0; w < runtime.GOMAXPROCS(0); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					level[i].data, level[i].err = e.render(snap, aud, z, level[i].x, level[i].y)
				}
			}()
		}
		for i := range level {
			next <- i
		}
		close(next)
		wg.Wait()
		var children []job
		count := 0
		for _, j := range level {
			if j.err != nil {
				return st, j.err
			}
			if len(j.data) == 0 {
				continue
			}
			if z >= o.MinZoom {
				if err := w.Add(z, j.x, j.y, j.data); err != nil {
					return st, fmt.Errorf("tiles: export: %w", err)
				}
				count++
			}
			for _, c := range [4][2]uint32{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				children = append(children, job{x: 2*j.x + c[0], y: 2*j.y + c[1]})
			}
		}
		if o.Progress != nil {
			o.Progress(z, count)
		}
		level = children
	}
	tj, err := e.TileJSON(ta, o.Tileset, "")
	if err != nil {
		return st, err
	}
	return w.Finish(ArchiveInfo{Bounds: tj.Bounds, Center: tj.Center, Metadata: func(minZ, maxZ int) map[string]any {
		// The layers stop where the archive does: a client told maxzoom 16
		// asks for tiles the archive does not have instead of overzooming.
		for i := range tj.VectorLayers {
			tj.VectorLayers[i].MinZoom = max(tj.VectorLayers[i].MinZoom, minZ)
			tj.VectorLayers[i].MaxZoom = min(tj.VectorLayers[i].MaxZoom, maxZ)
		}
		return map[string]any{"name": tj.Name, "description": tj.Description, "attribution": tj.Attribution,
			"version": tj.Version, "type": "overlay", "vector_layers": tj.VectorLayers}
	}})
}

// Archive reads tiles from a PMTiles v3 file (one written by Export, or
// any MVT archive), to serve a static tileset from the binary.
type Archive struct {
	f      *os.File
	header pmtiles.HeaderV3
	root   []pmtiles.EntryV3
	meta   []byte

	mu     sync.Mutex
	leaves map[uint64][]pmtiles.EntryV3 // leaf directories read so far
}

// OpenArchive opens a PMTiles file.
func OpenArchive(path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tiles: open archive: %w", err)
	}
	a := &Archive{f: f, leaves: map[uint64][]pmtiles.EntryV3{}}
	hb := make([]byte, pmtiles.HeaderV3LenBytes)
	if _, err := f.ReadAt(hb, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("tiles: archive header: %w", err)
	}
	if a.header, err = pmtiles.DeserializeHeader(hb); err != nil {
		f.Close()
		return nil, fmt.Errorf("tiles: archive header: %w", err)
	}
	if a.header.TileType != pmtiles.Mvt {
		f.Close()
		return nil, fmt.Errorf("tiles: archive %s: not a vector tile archive", path)
	}
	if a.root, err = a.dir(a.header.RootOffset, a.header.RootLength); err != nil {
		f.Close()
		return nil, err
	}
	mb := make([]byte, a.header.MetadataLength)
	if _, err := f.ReadAt(mb, int64(a.header.MetadataOffset)); err != nil {
		f.Close()
		return nil, fmt.Errorf("tiles: archive metadata: %w", err)
	}
	if a.meta, err = pmtiles.DeserializeMetadataBytes(bytes.NewReader(mb), a.header.InternalCompression); err != nil {
		f.Close()
		return nil, fmt.Errorf("tiles: archive metadata: %w", err)
	}
	return a, nil
}

func (a *Archive) dir(off, n uint64) ([]pmtiles.EntryV3, error) {
	b := make([]byte, n)
	if _, err := a.f.ReadAt(b, int64(off)); err != nil {
		return nil, fmt.Errorf("tiles: archive directory: %w", err)
	}
	return pmtiles.DeserializeEntries(bytes.NewBuffer(b), a.header.InternalCompression), nil
}

// Close closes the file.
func (a *Archive) Close() error { return a.f.Close() }

// MaxZoom is the archive's deepest zoom.
func (a *Archive) MaxZoom() int { return int(a.header.MaxZoom) }

// Bounds is the archive's extent (west, south, east, north) and center
// (lon, lat, zoom), from its header.
func (a *Archive) Bounds() (bounds [4]float64, center [3]float64) {
	h := a.header
	return [4]float64{float64(h.MinLonE7) / 1e7, float64(h.MinLatE7) / 1e7, float64(h.MaxLonE7) / 1e7, float64(h.MaxLatE7) / 1e7},
		[3]float64{float64(h.CenterLonE7) / 1e7, float64(h.CenterLatE7) / 1e7, float64(h.CenterZoom)}
}

// Metadata is the archive's JSON metadata.
func (a *Archive) Metadata() []byte { return a.meta }

// Gzipped reports whether tiles are stored gzip-compressed.
func (a *Archive) Gzipped() bool { return a.header.TileCompression == pmtiles.Gzip }

// Tile returns the stored bytes of tile (z, x, y) (compressed as the
// archive says), or nil when the archive has no such tile.
func (a *Archive) Tile(z, x, y int) ([]byte, error) {
	if z < 0 || z > 31 || x < 0 || y < 0 || x >= 1<<z || y >= 1<<z {
		return nil, atigip.Errorf(atigip.EINVALID, "Adresse de tuile invalide.")
	}
	id := pmtiles.ZxyToID(uint8(z), uint32(x), uint32(y))
	entries := a.root
	for depth := 0; depth < 4; depth++ {
		en, ok := pmtiles.FindTile(entries, id)
		if !ok {
			return nil, nil
		}
		if en.RunLength > 0 {
			b := make([]byte, en.Length)
			if _, err := a.f.ReadAt(b, int64(a.header.TileDataOffset+en.Offset)); err != nil {
				return nil, fmt.Errorf("tiles: archive tile: %w", err)
			}
			return b, nil
		}
		a.mu.Lock()
		leaf, ok := a.leaves[en.Offset]
		a.mu.Unlock()
		if !ok {
			var err error
			if leaf, err = a.dir(a.header.LeafDirectoryOffset+en.Offset, uint64(en.Length)); err != nil {
				return nil, err
			}
			a.mu.Lock()
			a.leaves[en.Offset] = leaf
			a.mu.Unlock()
		}
		entries = leaf
	}
	return nil, errors.New("tiles: archive: directory too deep")
}
