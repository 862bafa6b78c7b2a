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
