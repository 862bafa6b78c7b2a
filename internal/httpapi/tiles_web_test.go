package httpapi

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/tiles"
)

func TestMapPage(t *testing.T) {
	eng, err := tiles.Build(tilesData(), tiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, newMemStore(), func(o *Options) {
		o.Modules = append(o.Modules, TilesModule{Engine: eng}, MapModule{})
	})
	t.Run("public page", func(t *testing.T) {
		r := env.do("GET", "/", "", nil)
		body := string(r.body)
		if r.status != 200 || !strings.Contains(body, `lang="fr"`) || !strings.Contains(body, `"tileset":"public"`) ||
			!strings.Contains(body, `href="/dev/signin?retour=`) || strings.Contains(body, "f-places") {
			t.Fatalf("%d %s", r.status, body)
		}
	})
	t.Run("justice page", func(t *testing.T) {
		r := env.do("GET", "/", env.token(atigip.Principal{Role: atigip.RoleLawyer, Name: "Me Durand"}), nil)
		body := string(r.body)
		if !strings.Contains(body, `"tileset":"justice"`) || !strings.Contains(body, "Avocat") || !strings.Contains(body, "f-places") {
			t.Fatalf("%s", body)
		}
	})
	t.Run("assets and styles", func(t *testing.T) {
		for path, ct := range map[string]string{"/static/app.js": "javascript", "/static/app.css": "text/css",
			"/styles/public.json": "application/json"} {
			r := env.do("GET", path, "", nil)
			if r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), ct) {
				t.Fatalf("%s: %d %s", path, r.status, r.header.Get("Content-Type"))
			}
		}
		if web.VendorReady() {
			if r := env.do("GET", "/static/vendor/maplibre-gl.js", "", nil); r.status != 200 {
				t.Fatalf("vendor: %d", r.status)
			}
		}
		for _, p := range []string{"/static/nope.js", "/styles/nope.json", "/static/vendor/..%2Fapp.js"} {
			if r := env.do("GET", p, "", nil); r.status != 404 {
				t.Fatalf("%s: %d", p, r.status)
			}
		}
		var st map[string]any
		env.do("GET", "/styles/justice.json", "", nil).json(t, &st)
		if _, ok := st["sources"].(map[string]any)["osm"]; ok {
			t.Fatal("osm source without a configured basemap")
		}
	})
	t.Run("communes", func(t *testing.T) {
		var hits []communeHit
		env.do("GET", "/carte/communes?q=Rennes", "", nil).json(t, &hits)
		if len(hits) == 0 || hits[0].Code != "35238" || hits[0].Lat < 48 {
			t.Fatalf("%+v", hits)
		}
		env.do("GET", "/carte/communes?q=69001", "", nil).json(t, &hits)
		if len(hits) != 1 || !strings.Contains(hits[0].Label, "Lyon") {
			t.Fatalf("%+v", hits)
		}
	})
}

// TestMapInChromium serves the map over the demo data set the browser
// tests share and drives Debian's headless Chromium with playwright-core: posts and boundaries render, a
// cluster click zooms in, the minors filter changes what is drawn, a post
// opens a popup; the screenshot is left as an artifact.
func TestMapInChromium(t *testing.T) {
	t.Parallel()
	node, chromium := browserEnv(t)
	site := sharedBrowserSite(t)
	store, ctx := site.store, t.Context()
	webDir := filepath.Join("..", "web")

	// Centre on the densest z13 tile of public posts, for the filter check.
	posts, err := atigip.Of[*atigip.Post](store).All(ctx, atigip.ListFilter{PublicOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[maptile.Tile]int{}
	var best maptile.Tile
	for _, p := range posts {
		tl := maptile.At(orb.Point{p.Location.Lon, p.Location.Lat}, 13)
		if counts[tl]++; counts[tl] > counts[best] {
			best = tl
		}
	}
	c := best.Center()
	shot := filepath.Join(artefacts(t), "atigip-map-e2e.png")
	cmd := exec.CommandContext(ctx, node, filepath.Join(webDir, "testdata", "e2e.mjs"), site.url,
		strconv.FormatFloat(c[0], 'f', 5, 64), strconv.FormatFloat(c[1], 'f', 5, 64), shot)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	out, err := cmd.Output()
	var rep struct {
		Failed bool           `json:"failed"`
		Error  string         `json:"error"`
		Checks map[string]any `json:"checks"`
	}
	_ = json.Unmarshal(out, &rep)
	if err != nil || rep.Failed {
		t.Fatalf("e2e: %v\n%s", err, out)
	}
	t.Logf("checks: %v; screenshot: %s", rep.Checks, shot)
}
