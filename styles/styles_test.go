package styles

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	for _, name := range Names {
		for _, bm := range []string{DefaultBasemap, ""} {
			t.Run(name+"/"+bm, func(t *testing.T) {
				b, err := Render(name, "http://127.0.0.1:8080/", bm)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b), "{{") {
					t.Fatal("placeholder left")
				}
				var st struct {
					Version int                       `json:"version"`
					Sources map[string]map[string]any `json:"sources"`
					Layers  []map[string]any          `json:"layers"`
				}
				if err := json.Unmarshal(b, &st); err != nil {
					t.Fatal(err)
				}
				if st.Version != 8 || st.Sources["atigip"]["url"] != "http://127.0.0.1:8080/tiles/"+name+".json" {
					t.Fatalf("sources %v", st.Sources)
				}
				_, osm := st.Sources["osm"]
				if osm != (bm != "") {
					t.Fatalf("osm source present=%v with basemap %q", osm, bm)
				}
				if osm && st.Sources["osm"]["attribution"] != "© les contributeurs d'OpenStreetMap" {
					t.Fatal("OSM attribution missing")
				}
				ids := map[string]bool{}
				for _, l := range st.Layers {
					ids[l["id"].(string)] = true
					if src, ok := l["source"].(string); ok && st.Sources[src] == nil {
						t.Fatalf("layer %v uses missing source %s", l["id"], src)
					}
				}
				for _, id := range []string{"land", "regions", "prisons", "floor-spaces", "posts-clusters", "posts-points"} {
					if !ids[id] {
						t.Fatalf("layer %s missing", id)
					}
				}
			})
		}
	}
	if _, err := Render("nope", "", ""); err == nil {
		t.Fatal("unknown style accepted")
	}
}

// TestRenderVector: the vector basemap is drawn under the posts with
// French labels and local glyphs; another basemap style replaces it.
func TestRenderVector(t *testing.T) {
	type style struct {
		Glyphs  string                    `json:"glyphs"`
		Sprite  string                    `json:"sprite"`
		Sources map[string]map[string]any `json:"sources"`
		Layers  []map[string]any          `json:"layers"`
	}
	render := func(o Options) style {
		t.Helper()
		b, err := RenderWith("public", "http://h", o)
		if err != nil {
			t.Fatal(err)
		}
		var st style
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	index := func(st style, id string) int {
		for i, l := range st.Layers {
			if l["id"] == id {
				return i
			}
		}
		return -1
	}
	st := render(Options{Vector: true})
	if st.Sources["basemap"]["url"] != "http://h/tiles/basemap.json" || st.Glyphs != "http://h/fonts/{fontstack}/{range}.pbf" || st.Sprite != "http://h/sprites/basemap" {
		t.Fatalf("%v %q %q", st.Sources, st.Glyphs, st.Sprite)
	}
	if i, j := index(st, "fond-noms-lieux"), index(st, "posts-points"); i < 0 || i > j || index(st, "fond-routes-autoroutes") > index(st, "departements") {
		t.Fatal("basemap layers not under the posts")
	}
	names, _ := json.Marshal(st.Layers[index(st, "fond-noms-lieux")]["layout"])
	if !strings.Contains(string(names), `"text-field":["get","name"]`) || !strings.Contains(string(names), "Noto Sans") {
		t.Fatalf("place labels %s", names)
	}
	if st := render(Options{}); st.Sources["basemap"] != nil || index(st, "fond-noms-lieux") >= 0 {
		t.Fatal("vector basemap without an archive")
	}
	if st := render(Options{Vector: true, Raster: DefaultBasemap}); index(st, "osm") < index(st, "fond-routes-autoroutes") || index(st, "osm") > index(st, "fond-noms-lieux") {
		t.Fatal("the raster goes over the vector geometry, under the labels")
	}
	other := `{"version":8,"glyphs":"{{BASE}}/autres/{fontstack}/{range}.pbf","sources":{"protomaps":{"type":"vector","url":"{{BASE}}/tiles/basemap.json"}},
		"layers":[{"id":"fond","type":"background"},{"id":"eau","type":"fill","source":"protomaps","source-layer":"water"}]}`
	st = render(Options{Vector: true, Base: []byte(other)})
	if st.Sources["basemap"] != nil || st.Sources["protomaps"]["url"] != "http://h/tiles/basemap.json" || index(st, "fond-noms-lieux") >= 0 ||
		index(st, "fond") >= 0 || index(st, "eau") != index(st, "land")+1 || st.Glyphs != "http://h/autres/{fontstack}/{range}.pbf" {
		t.Fatalf("other basemap style: %+v", st)
	}
	for _, bad := range []string{`{}`, `not json`, `{"sources":{"atigip":{}},"layers":[{"id":"x","type":"fill"}]}`} {
		if _, err := RenderWith("public", "http://h", Options{Base: []byte(bad)}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
