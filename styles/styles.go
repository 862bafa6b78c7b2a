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

// Render returns style name with base (the server origin, no trailing
// slash) and basemap (a {z}/{x}/{y} raster URL template; empty removes
// the raster layer, for offline use) filled in.
func Render(name, base, basemap string) ([]byte, error) {
	b, err := files.ReadFile(name + ".json")
	if err != nil {
		return nil, fmt.Errorf("styles: %s: %w", name, err)
	}
	s := strings.ReplaceAll(string(b), "{{BASE}}", strings.TrimSuffix(base, "/"))
	if basemap != "" {
		bm, _ := json.Marshal(basemap)
		return []byte(strings.ReplaceAll(s, `"{{BASEMAP}}"`, string(bm))), nil
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		return nil, fmt.Errorf("styles: %s: %w", name, err)
	}
	delete(st["sources"].(map[string]any), "osm")
	var layers []any
	for _, l := range st["layers"].([]any) {
		if l.(map[string]any)["source"] != "osm" {
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
