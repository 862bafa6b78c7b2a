package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/protomaps/go-pmtiles/pmtiles"

	"github.com/atigip/atigip360/internal/atigip"
)

func TestExportRoundTrip(t *testing.T) {
	e := mustBuild(t, fixture(), Options{})
	path := filepath.Join(t.TempDir(), "public.pmtiles")
	st, err := e.Export(context.Background(), path, ExportOptions{Tileset: "public", MaxZoom: 10})
	if err != nil {
		t.Fatal(err)
	}
	if st.Tiles == 0 || st.Unique == 0 || st.Unique > st.Tiles || st.Bytes == 0 {
		t.Fatalf("stats %+v", st)
	}
	a, err := OpenArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.MaxZoom() != 10 || !a.Gzipped() || !bytes.Contains(a.Metadata(), []byte(`"vector_layers"`)) {
		t.Fatalf("header: maxzoom %d gzip %v meta %s", a.MaxZoom(), a.Gzipped(), a.Metadata())
	}
	check := func(z, x, y int) {
		t.Helper()
		want, err := e.Tile(context.Background(), atigip.AudiencePublic, "public", z, x, y)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Tile(z, x, y)
		if err != nil {
			t.Fatal(err)
		}
		if want.Empty {
			if got != nil {
				t.Fatalf("%d/%d/%d: empty tile stored", z, x, y)
			}
			return
		}
		zr, err := gzip.NewReader(bytes.NewReader(got))
		if err != nil {
			t.Fatalf("%d/%d/%d: %v", z, x, y, err)
		}
		raw, _ := io.ReadAll(zr)
		if !bytes.Equal(raw, want.Data) {
			t.Fatalf("%d/%d/%d: archive differs from the engine", z, x, y)
		}
	}
	for z := 0; z <= 10; z++ {
		tl := maptile.At(orb.Point{4.8357, 45.7640}, maptile.Zoom(z))
		check(z, int(tl.X), int(tl.Y))
		check(z, 0, 0) // ocean or world
	}
	if got, _ := a.Tile(11, 0, 0); got != nil {
		t.Fatal("tile beyond maxzoom")
	}
	if _, err := e.Export(context.Background(), path, ExportOptions{Tileset: "nope"}); atigip.ErrorCode(err) != atigip.EINVALID {
		t.Fatalf("unknown tileset: %v", err)
	}
}

// TestExportClustered: the archive says it is clustered and is (each new
// content follows the previous one in tile-id order), and its layers'
// zoom range is the archive's, not the engine's.
func TestExportClustered(t *testing.T) {
	e := mustBuild(t, fixture(), Options{})
	path := filepath.Join(t.TempDir(), "public.pmtiles")
	if _, err := e.Export(context.Background(), path, ExportOptions{Tileset: "public", MaxZoom: 9}); err != nil {
		t.Fatal(err)
	}
	a, err := OpenArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !a.header.Clustered {
		t.Error("header does not say clustered")
	}
	var entries []pmtiles.EntryV3
	var walk func(es []pmtiles.EntryV3)
	walk = func(es []pmtiles.EntryV3) {
		for _, en := range es {
			if en.RunLength == 0 { // a leaf directory
				leaf, err := a.dir(a.header.LeafDirectoryOffset+en.Offset, uint64(en.Length))
				if err != nil {
					t.Fatal(err)
				}
				walk(leaf)
				continue
			}
			entries = append(entries, en)
		}
	}
	walk(a.root)
	var end uint64
	for i, en := range entries {
		switch {
		case en.Offset == end:
			end += uint64(en.Length)
		case en.Offset+uint64(en.Length) <= end: // a repeated content, stored earlier
		default:
			t.Fatalf("entry %d (tile %d) at offset %d, want %d or an earlier content: not clustered", i, en.TileID, en.Offset, end)
		}
	}
	var meta struct {
		VectorLayers []struct {
			ID      string `json:"id"`
			MinZoom int    `json:"minzoom"`
			MaxZoom int    `json:"maxzoom"`
		} `json:"vector_layers"`
	}
	if err := json.Unmarshal(a.Metadata(), &meta); err != nil || len(meta.VectorLayers) == 0 {
		t.Fatalf("metadata: %v %s", err, a.Metadata())
	}
	for _, l := range meta.VectorLayers {
		if l.MaxZoom != a.MaxZoom() {
			t.Errorf("layer %s maxzoom %d, archive maxzoom %d", l.ID, l.MaxZoom, a.MaxZoom())
		}
	}
}
