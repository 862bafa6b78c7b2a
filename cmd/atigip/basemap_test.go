package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var bundledExtract = filepath.Join("..", "..", "tiles", "basemap", "testdata", "saint-barthelemy-2014.osm.pbf")

// TestBasemapImportCommand runs `atigip basemap import` on the bundled
// extract, then serves the archive it made (ATIGIP_BASEMAP_PMTILES).
func TestBasemapImportCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sb.pmtiles")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"basemap", "import", bundledExtract, "-o", out}, mapEnv(nil), &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "8076 nœuds, 625 chemins, 16 relations") {
		t.Fatalf("stdout %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "tuiles z14") {
		t.Errorf("no progress bar on stderr: %q", stderr.String())
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() < 10000 {
		t.Fatalf("archive: %v", err)
	}
	for name, args := range map[string][]string{
		"no subcommand": {"basemap"},
		"no extract":    {"basemap", "import"},
		"bad output":    {"basemap", "import", bundledExtract, "-o", "x.mbtiles"},
	} {
		t.Run(name, func(t *testing.T) {
			var o, e bytes.Buffer
			if err := run(context.Background(), args, mapEnv(nil), &o, &e); exitCode(err) != 2 {
				t.Fatalf("%v", err)
			}
		})
	}

	t.Run("served", func(t *testing.T) {
		style := filepath.Join(t.TempDir(), "style.json")
		if err := os.WriteFile(style, []byte(`{"version":8,"sources":{"omt":{"type":"vector","url":"{{BASE}}/tiles/basemap.json"}},
			"layers":[{"id":"omt-water","type":"fill","source":"omt","source-layer":"water"}]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		base := startServer(t, map[string]string{"ATIGIP_BASEMAP_PMTILES": out, "ATIGIP_BASEMAP_STYLE": style})
		if code, b, _ := get(t, base+"/styles/justice.json", ""); code != 200 || !strings.Contains(string(b), `"omt-water"`) || strings.Contains(string(b), "fond-noms-lieux") {
			t.Fatalf("style with ATIGIP_BASEMAP_STYLE: %d %s", code, b)
		}
		code, b, _ := get(t, base+"/tiles/basemap.json", "")
		var tj map[string]any
		if code != 200 || json.Unmarshal(b, &tj) != nil || !strings.Contains(tj["attribution"].(string), "OpenStreetMap") {
			t.Fatalf("%d %s", code, b)
		}
	})
}

// TestDefaultBasemapServed: with no extract configured, `serve` draws the
// basemap built from the embedded communes, and the styles use it.
func TestDefaultBasemapServed(t *testing.T) {
	base := startServer(t, nil)
	code, b, _ := get(t, base+"/tiles/basemap.json", "")
	if code != 200 || !strings.Contains(string(b), "INSEE") {
		t.Fatalf("%d %s", code, b)
	}
	code, b, _ = get(t, base+"/styles/public.json", "")
	if code != 200 || !strings.Contains(string(b), `/tiles/basemap.json"`) || !strings.Contains(string(b), `"glyphs"`) || strings.Contains(string(b), "tile.openstreetmap.org") {
		t.Fatalf("%d %s", code, b)
	}
	// Lyon's tile at zoom 5 names Lyon.
	code, b, _ = get(t, base+"/tiles/basemap/5/16/11.mvt", "")
	if code != 200 || !bytes.Contains(b, []byte("Lyon")) {
		t.Fatalf("%d, Lyon missing", code)
	}
}
