package styles

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed public.json justice.json
var files embed.FS

// Names lists the styles.
var Names = []string{"public", "justice"}

// DefaultBasemap is OpenStreetMap's raster tile service.
const DefaultBasemap = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

// Options choose the backgrounds of a rendered style.
type Options struct {
	// Raster is a {z}/{x}/{y} raster URL template drawn over the vector
	// background (under the labels); empty removes the raster layer.
	Raster string
	// Vector keeps the vector basemap (source "basemap", served at
	// /tiles/basemap.json); false removes it and its layers.
	Vector bool
	// Base, when set, is another basemap style (MapLibre JSON, e.g. one
	// made for a prebuilt OpenStreetMap PMTiles archive in its own schema):
	// its sources, layers (but its backgrounds), glyphs and sprite replace
	// our vector basemap's, under our posts. {{BASE}} in it is replaced
	// by the server's origin, as in ours.
	Base []byte
}

// Render returns style name with base (the server origin, no trailing
// slash) and basemap (a {z}/{x}/{y} raster URL template; empty removes
// the raster layer, for offline use) filled in, without the vector
// basemap.
func Render(name, base, basemap string) ([]byte, error) {
	return RenderWith(name, base, Options{Raster: basemap})
}

// RenderWith returns style name for the server at base (its origin, no
// trailing slash) with the backgrounds o asks for.
func RenderWith(name, base string, o Options) ([]byte, error) {
	b, err := files.ReadFile(name + ".json")
	if err != nil {
		return nil, fmt.Errorf("styles: %s: %w", name, err)
	}
	s := strings.ReplaceAll(string(b), "{{BASE}}", strings.TrimSuffix(base, "/"))
	bm, _ := json.Marshal(o.Raster)
	s = strings.ReplaceAll(s, `"{{BASEMAP}}"`, string(bm))
	var st map[string]any
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		return nil, fmt.Errorf("styles: %s: %w", name, err)
	}
	drop := map[string]bool{"osm": o.Raster == "", "basemap": !o.Vector || o.Base != nil}
	sources := st["sources"].(map[string]any)
	for src, d := range drop {
		if d {
			delete(sources, src)
		}
	}
	var other struct {
		Sources map[string]any   `json:"sources"`
		Layers  []map[string]any `json:"layers"`
		Glyphs  string           `json:"glyphs"`
		Sprite  any              `json:"sprite"`
	}
	if o.Base != nil {
		b := strings.ReplaceAll(string(o.Base), "{{BASE}}", strings.TrimSuffix(base, "/"))
		if err := json.Unmarshal([]byte(b), &other); err != nil || len(other.Layers) == 0 {
			return nil, fmt.Errorf("styles: basemap style: not a MapLibre style with layers (%v)", err)
		}
		for k, v := range other.Sources {
			if _, taken := sources[k]; taken {
				return nil, fmt.Errorf("styles: basemap style: source %q is ours", k)
			}
			sources[k] = v
		}
		if other.Glyphs != "" {
			st["glyphs"] = other.Glyphs
		}
		if other.Sprite != nil {
			st["sprite"] = other.Sprite
		}
	}
	layers := []any{}
	for _, l := range st["layers"].([]any) {
		if src, _ := l.(map[string]any)["source"].(string); !drop[src] {
			layers = append(layers, l)
		}
		// The other style's layers go over our land, under everything else;
		// its backgrounds would hide our land and sea.
		if l.(map[string]any)["id"] == "land" {
			for _, bl := range other.Layers {
				if bl["type"] != "background" {
					layers = append(layers, bl)
				}
			}
		}
	}
	st["layers"] = layers
	out, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("styles: %s: %w", name, err)
	}
	return out, nil
}
