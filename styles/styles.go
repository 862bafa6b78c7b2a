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
	drop := map[string]bool{"osm": o.Raster == "", "basemap": !o.Vector}
	sources := st["sources"].(map[string]any)
	for src, d := range drop {
		if d {
			delete(sources, src)
		}
	}
	layers := []any{}
	for _, l := range st["layers"].([]any) {
		if src, _ := l.(map[string]any)["source"].(string); !drop[src] {
			layers = append(layers, l)
		}
	}
	st["layers"] = layers
	out, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("styles: %s: %w", name, err)
	}
	return out, nil
}
