package httpapi

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/atigip/atigip360/tiles"
	"github.com/atigip/atigip360/tiles/basemap"
)

// bundledExtract is the small real OSM extract the basemap tests import.
var bundledExtract = filepath.Join("..", "..", "tiles", "basemap", "testdata", "saint-barthelemy-2014.osm.pbf")

// basemapArchive imports the bundled extract, as `atigip basemap import`
// does, and opens the archive.
func basemapArchive(t testing.TB) *tiles.Archive {
	t.Helper()
	out := filepath.Join(t.TempDir(), "basemap.pmtiles")
	if _, err := basemap.Import(context.Background(), bundledExtract, out, basemap.Options{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	a, err := tiles.OpenArchive(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestBasemapServing: the vector basemap's TileJSON and tiles come from
// the archive with the caching headers of the other tilesets, the styles
// draw it with French labels whose glyphs the binary serves.
func TestBasemapServing(t *testing.T) {
	eng, err := tiles.Build(tilesData(), tiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := basemapArchive(t)
	env := newEnv(t, newMemStore(), func(o *Options) {
		o.Modules = append(o.Modules, TilesModule{Engine: eng, Archives: map[string]*tiles.Archive{"basemap": a}},
			MapModule{VectorBasemap: true})
	})
	t.Run("tilejson", func(t *testing.T) {
		var tj struct {
			TileJSON    string           `json:"tilejson"`
			Tiles       []string         `json:"tiles"`
			MaxZoom     int              `json:"maxzoom"`
			Bounds      []float64        `json:"bounds"`
			Attribution string           `json:"attribution"`
			Layers      []map[string]any `json:"vector_layers"`
		}
		r := env.do("GET", "/tiles/basemap.json", "", nil)
		r.json(t, &tj)
		if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || !strings.HasSuffix(tj.Tiles[0], "/tiles/basemap/{z}/{x}/{y}.mvt") ||
			tj.MaxZoom != 14 || len(tj.Bounds) != 4 || tj.Bounds[0] > -62.8 || !strings.Contains(tj.Attribution, "OpenStreetMap") {
			t.Fatalf("%s", r.body)
		}
		ids := map[string]bool{}
		for _, l := range tj.Layers {
			ids[l["id"].(string)] = true
		}
		for _, l := range basemap.Layers {
			if !ids[l.ID] {
				t.Errorf("layer %s not described", l.ID)
			}
		}
	})
	t.Run("tiles", func(t *testing.T) {
		tl := maptile.At(orb.Point{-62.85, 17.896}, 14) // Gustavia
		path := "/tiles/basemap/14/" + strconv.Itoa(int(tl.X)) + "/" + strconv.Itoa(int(tl.Y)) + ".mvt"
		r := env.do("GET", path, "", nil)
		if r.status != 200 || r.header.Get("Content-Type") != ContentTypeMVT || r.header.Get("Cache-Control") != "public, max-age=60" ||
			r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("ETag") == "" {
			t.Fatalf("%d %v", r.status, r.header)
		}
		ls, err := mvt.Unmarshal(r.body)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, l := range ls {
			got[l.Name] = len(l.Features)
		}
		if got[basemap.LayerRoads] == 0 || got[basemap.LayerPlaces] == 0 {
			t.Fatalf("layers %v", got)
		}
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("If-None-Match", r.header.Get("ETag"))
		if r2 := env.send(req); r2.status != 304 {
			t.Fatalf("revalidation: %d", r2.status)
		}
		if r := env.do("GET", "/tiles/basemap/3/0/0.mvt", "", nil); r.status != 204 {
			t.Fatalf("empty tile: %d", r.status)
		}
		if r := env.do("GET", "/tiles/basemap/14/1/1.mvt?domain=A", "", nil); r.status != 400 {
			t.Fatalf("filtered archive: %d", r.status)
		}
	})
	t.Run("style", func(t *testing.T) {
		var st struct {
			Glyphs  string                    `json:"glyphs"`
			Sprite  string                    `json:"sprite"`
			Sources map[string]map[string]any `json:"sources"`
			Layers  []map[string]any          `json:"layers"`
		}
		env.do("GET", "/styles/public.json", "", nil).json(t, &st)
		if st.Sources["basemap"]["url"] == nil || !strings.HasSuffix(st.Glyphs, "/fonts/{fontstack}/{range}.pbf") || !strings.HasSuffix(st.Sprite, "/sprites/basemap") {
			t.Fatalf("sources %v glyphs %q", st.Sources, st.Glyphs)
		}
		if _, ok := st.Sources["osm"]; ok {
			t.Fatal("raster basemap without ATIGIP_BASEMAP_URL")
		}
		var labels, posts int
		for i, l := range st.Layers {
			if l["source"] == "basemap" && l["type"] == "symbol" {
				labels = i
			}
			if l["id"] == "posts-points" {
				posts = i
			}
		}
		if labels == 0 || labels > posts {
			t.Fatalf("basemap labels at %d, posts at %d: the posts go over the basemap", labels, posts)
		}
	})
	t.Run("sprites", func(t *testing.T) {
		var idx map[string]map[string]int
		r := env.do("GET", "/sprites/basemap@2x.json", "", nil)
		r.json(t, &idx)
		for _, k := range []string{"townhall", "courthouse", "police", "prison", "station", "airport", "hospital"} {
			if idx[k]["pixelRatio"] != 2 || idx[k]["width"] == 0 {
				t.Errorf("icon %s: %v", k, idx[k])
			}
		}
		if r := env.do("GET", "/sprites/basemap.png", "", nil); r.status != 200 || r.header.Get("Content-Type") != "image/png" ||
			r.header.Get("Cache-Control") != "public, max-age=86400" || !strings.HasPrefix(string(r.body), "\x89PNG") {
			t.Fatalf("png: %d %v", r.status, r.header)
		}
		if r := env.do("GET", "/sprites/other.png", "", nil); r.status != 404 {
			t.Fatalf("unknown sheet: %d", r.status)
		}
	})
	t.Run("glyphs", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join("..", "web", "static", "vendor", "fonts", "NotoSans-Regular.ttf")); err != nil {
			t.Fatal("Noto Sans not installed: run make web")
		}
		r := env.do("GET", "/fonts/Noto%20Sans%20Bold/0-255.pbf", "", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "application/x-protobuf" || len(r.body) < 10000 ||
			!strings.Contains(string(r.body), "Noto Sans Bold") {
			t.Fatalf("%d %v %d bytes", r.status, r.header, len(r.body))
		}
		// A stack we lack falls back to the regular face.
		if r := env.do("GET", "/fonts/Open%20Sans%20Regular,Arial/256-511.pbf", "", nil); r.status != 200 || !strings.Contains(string(r.body), "Noto Sans Regular") {
			t.Fatalf("fallback: %d", r.status)
		}
		for _, p := range []string{"/fonts/Noto%20Sans%20Regular/0-10.pbf", "/fonts/Noto%20Sans%20Regular/1-256.pbf", "/fonts/Noto%20Sans%20Regular/x-y.pbf"} {
			if r := env.do("GET", p, "", nil); r.status != 400 {
				t.Fatalf("%s: %d", p, r.status)
			}
		}
	})
}

// TestBasemapInChromium loads the map, offline (every request off the
// server aborted), over the imported Saint-Barthélemy extract at zooms 5,
// 10 and 15: the canvas is drawn (not a single colour), place names are
// rendered as text (glyphs from the binary), and roads from zoom 10.
// Screenshots basemap-osm-z*.png are artefacts (see artefacts).
//
// Then the same with the default basemap (what `make run` shows with no
// extract): commune names over Lyon at zooms 5, 8 and 11.
func TestBasemapInChromium(t *testing.T) {
	node, chromium := browserEnv(t)
	eng, err := tiles.Build(tilesData(), tiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	def := filepath.Join(t.TempDir(), "communes.pmtiles")
	if _, err := basemap.Default(context.Background(), def, basemap.Options{}); err != nil {
		t.Fatal(err)
	}
	communes, err := tiles.OpenArchive(def)
	if err != nil {
		t.Fatal(err)
	}
	defer communes.Close()
	for view, a := range map[string]*tiles.Archive{"osm": basemapArchive(t), "communes": communes} {
		t.Run(view, func(t *testing.T) {
			env := newEnv(t, newMemStore(), func(o *Options) {
				o.Modules = append(o.Modules, TilesModule{Engine: eng, Archives: map[string]*tiles.Archive{"basemap": a}},
					MapModule{VectorBasemap: true})
			})
			out := artefacts(t)
			env.real("GET", "/tiles/basemap.json", "", "") // starts the listener
			cmd := exec.Command(node, filepath.Join("..", "web", "testdata", "basemap.mjs"), env.url, out, view)
			cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
			b, err := cmd.CombinedOutput()
			t.Logf("%s", b)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
