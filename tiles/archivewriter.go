package tiles

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"

	"github.com/protomaps/go-pmtiles/pmtiles"

	"github.com/atigip/atigip360/internal/atigip"
)

// ArchiveInfo is what Finish writes besides the tiles.
type ArchiveInfo struct {
	Bounds [4]float64 // west, south, east, north
	Center [3]float64 // lon, lat, zoom
	// Metadata returns the archive's JSON metadata (name, attribution,
	// vector_layers…), given the zooms the archive holds.
	Metadata func(minZ, maxZ int) map[string]any
}

// ArchiveWriter writes MVT tiles into a PMTiles v3 archive, gzip-compressed
// and deduplicated. Tiles may come in any order and from any source (the
// live engine's Export, the basemap importer); only the directory
// (16 bytes a tile) stays in memory, tile data goes to a temporary file
// beside the archive until Finish lays it out in tile-id order.
type ArchiveWriter struct {
	path    string
	tmp     *os.File
	entries []pmtiles.EntryV3
	offsets map[uint64]offLen // content hash → stored data
	written uint64
	gz      bytes.Buffer
	zw      *gzip.Writer
	st      ExportStats
}

type offLen struct {
	off uint64
	n   uint32
}

// NewArchiveWriter starts an archive to be written at path.
func NewArchiveWriter(path string) (*ArchiveWriter, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tiles-export-*")
	if err != nil {
		return nil, fmt.Errorf("tiles: archive: %w", err)
	}
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestCompression)
	return &ArchiveWriter{path: path, tmp: tmp, offsets: map[uint64]offLen{}, zw: zw}, nil
}

// Add stores tile (z, x, y) with its uncompressed MVT data.
func (w *ArchiveWriter) Add(z int, x, y uint32, data []byte) error {
	w.st.Tiles++
	w.st.MaxTileSize = max(w.st.MaxTileSize, len(data))
	h := fnv.New64a()
	h.Write(data)
	sum := h.Sum64()
	id := pmtiles.ZxyToID(uint8(z), x, y)
	if ol, ok := w.offsets[sum]; ok {
		w.entries = append(w.entries, pmtiles.EntryV3{TileID: id, Offset: ol.off, Length: ol.n, RunLength: 1})
		return nil
	}
	w.gz.Reset()
	w.zw.Reset(&w.gz)
	if _, err := w.zw.Write(data); err != nil {
		return fmt.Errorf("tiles: archive: %w", err)
	}
	if err := w.zw.Close(); err != nil {
		return fmt.Errorf("tiles: archive: %w", err)
	}
	if _, err := w.tmp.Write(w.gz.Bytes()); err != nil {
		return fmt.Errorf("tiles: archive: %w", err)
	}
	ol := offLen{w.written, uint32(w.gz.Len())}
	w.offsets[sum] = ol
	w.written += uint64(w.gz.Len())
	w.st.Unique++
	w.entries = append(w.entries, pmtiles.EntryV3{TileID: id, Offset: ol.off, Length: ol.n, RunLength: 1})
	return nil
}

// Abort removes the temporary file (after Finish, it is already gone).
func (w *ArchiveWriter) Abort() {
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}

// Finish writes the archive and removes the temporary file.
func (w *ArchiveWriter) Finish(info ArchiveInfo) (ExportStats, error) {
	defer w.Abort()
	st := w.st
	entries := w.entries
	if len(entries) == 0 {
		return st, atigip.Errorf(atigip.EINVALID, "Aucune tuile à exporter.")
	}
	slices.SortFunc(entries, func(a, b pmtiles.EntryV3) int {
		switch {
		case a.TileID < b.TileID:
			return -1
		case a.TileID > b.TileID:
			return 1
		}
		return 0
	})
	// Clustered (PMTiles v3): tile contents laid out in tile-id order, so
	// that a client reading neighbouring tiles reads neighbouring bytes.
	// Contents were written in discovery order: give each its offset at
	// its first use in id order, and copy them so below.
	type move struct {
		from uint64
		n    uint32
	}
	var moves []move
	newOff := make(map[uint64]uint64, st.Unique) // discovery offset → clustered offset
	var at uint64
	for i := range entries {
		en := &entries[i]
		to, ok := newOff[en.Offset]
		if !ok {
			to = at
			newOff[en.Offset] = to
			moves = append(moves, move{en.Offset, en.Length})
			at += uint64(en.Length)
		}
		en.Offset = to
	}
	// Run-length encode consecutive ids with the same content.
	rle := entries[:1]
	for _, en := range entries[1:] {
		last := &rle[len(rle)-1]
		if en.Offset == last.Offset && en.TileID == last.TileID+uint64(last.RunLength) {
			last.RunLength++
			continue
		}
		rle = append(rle, en)
	}

	root, leaves, _ := pmtiles.BuildDirectories(rle, 16384-pmtiles.HeaderV3LenBytes, pmtiles.Gzip)
	minZ, _, _ := pmtiles.IDToZxy(rle[0].TileID)
	maxZ, _, _ := pmtiles.IDToZxy(rle[len(rle)-1].TileID)
	var meta map[string]any
	if info.Metadata != nil {
		meta = info.Metadata(int(minZ), int(maxZ))
	}
	metaBytes, err := pmtiles.SerializeMetadata(meta, pmtiles.Gzip)
	if err != nil {
		return st, fmt.Errorf("tiles: archive metadata: %w", err)
	}
	h := pmtiles.HeaderV3{
		SpecVersion: 3, RootOffset: pmtiles.HeaderV3LenBytes, RootLength: uint64(len(root)),
		AddressedTilesCount: uint64(st.Tiles), TileEntriesCount: uint64(len(rle)), TileContentsCount: uint64(st.Unique),
		Clustered: true, InternalCompression: pmtiles.Gzip, TileCompression: pmtiles.Gzip, TileType: pmtiles.Mvt,
		MinZoom: minZ, MaxZoom: maxZ,
		MinLonE7: int32(info.Bounds[0] * 1e7), MinLatE7: int32(info.Bounds[1] * 1e7),
		MaxLonE7: int32(info.Bounds[2] * 1e7), MaxLatE7: int32(info.Bounds[3] * 1e7),
		CenterZoom: uint8(info.Center[2]), CenterLonE7: int32(info.Center[0] * 1e7), CenterLatE7: int32(info.Center[1] * 1e7),
	}
	h.MetadataOffset = h.RootOffset + h.RootLength
	h.MetadataLength = uint64(len(metaBytes))
	h.LeafDirectoryOffset = h.MetadataOffset + h.MetadataLength
	h.LeafDirectoryLength = uint64(len(leaves))
	h.TileDataOffset = h.LeafDirectoryOffset + h.LeafDirectoryLength
	h.TileDataLength = w.written

	// Written beside the target and renamed, so that a server never opens
	// a half-written archive.
	out, err := os.CreateTemp(filepath.Dir(w.path), ".tiles-archive-*")
	if err != nil {
		return st, fmt.Errorf("tiles: archive: %w", err)
	}
	defer os.Remove(out.Name())
	defer out.Close()
	for _, b := range [][]byte{pmtiles.SerializeHeader(h), root, metaBytes, leaves} {
		if _, err := out.Write(b); err != nil {
			return st, fmt.Errorf("tiles: archive write: %w", err)
		}
	}
	// moves are in clustered order: each content is appended in turn.
	var buf []byte
	for _, m := range moves {
		buf = slices.Grow(buf[:0], int(m.n))[:m.n]
		if _, err := w.tmp.ReadAt(buf, int64(m.from)); err != nil {
			return st, fmt.Errorf("tiles: archive copy: %w", err)
		}
		if _, err := out.Write(buf); err != nil {
			return st, fmt.Errorf("tiles: archive copy: %w", err)
		}
	}
	if err := out.Close(); err != nil {
		return st, fmt.Errorf("tiles: archive close: %w", err)
	}
	if err := os.Rename(out.Name(), w.path); err != nil {
		return st, fmt.Errorf("tiles: archive: %w", err)
	}
	st.Bytes = int64(h.TileDataOffset + h.TileDataLength)
	return st, nil
}
