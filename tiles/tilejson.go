package tiles

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/atigip/atigip360/internal/atigip"
)

// TileJSON is a TileJSON 3.0.0 document.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	Version      string        `json:"version"`
	Attribution  string        `json:"attribution"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// VectorLayer describes one layer: its fields map names to descriptions.
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

var layerDescriptions = map[string]string{
	LayerPosts:       "Postes de TIG (regroupés aux petites échelles)",
	LayerPrisons:     "Établissements pénitentiaires",
	LayerFloorSpaces: "Surfaces d'implantation dans les établissements",
	LayerBoundaries:  "Contours des régions et départements (IGN)",
}

// TileJSON describes tileset for a viewer of audience a; tileURL is the
// absolute URL template of its tiles ("https://…/tiles/public/{z}/{x}/{y}.mvt").
func (e *Engine) TileJSON(a atigip.Audience, tileset, tileURL string) (TileJSON, error) {
	ta, err := e.tilesetAudience(a, tileset)
	if err != nil {
		return TileJSON{}, err
	}
	b := e.bounds.bound
	minLon, maxLat := unmercator(b.Min[0], b.Min[1])
	maxLon, minLat := unmercator(b.Max[0], b.Max[1])
	r5 := func(v float64) float64 { return math.Round(v*1e5) / 1e5 }
	tj := TileJSON{
		TileJSON: "3.0.0", Name: "ATIGIP 360 — " + tileset,
		Description: map[atigip.Audience]string{
			atigip.AudiencePublic:  "Carte publique des postes de TIG, des établissements pénitentiaires et de leurs surfaces d'implantation.",
			atigip.AudienceJustice: "Carte des professionnels de la justice : tous les postes de TIG, places restantes et contacts des structures d'accueil.",
		}[ta],
		Version: "1.0.0", Attribution: e.opts.Attribution, Scheme: "xyz",
		Tiles: []string{tileURL}, MinZoom: 0, MaxZoom: e.opts.SourceMaxZoom,
		Bounds: [4]float64{r5(minLon), r5(minLat), r5(maxLon), r5(maxLat)},
		// Metropolitan France.
		Center: [3]float64{2.35, 46.6, 5},
	}
	for _, name := range layerOrder {
		vl := VectorLayer{ID: name, Description: layerDescriptions[name], MinZoom: 0,
			MaxZoom: e.opts.SourceMaxZoom, Fields: map[string]string{}}
		for _, f := range Fields[name] {
			if f.Audience == atigip.AudiencePublic || ta == atigip.AudienceJustice {
				vl.Fields[f.Name] = fmt.Sprintf("%s — %s", f.Type, f.Description)
			}
		}
		tj.VectorLayers = append(tj.VectorLayers, vl)
	}
	return tj, nil
}

// MarshalTileJSON is TileJSON encoded.
func (e *Engine) MarshalTileJSON(a atigip.Audience, tileset, tileURL string) ([]byte, error) {
	tj, err := e.TileJSON(a, tileset, tileURL)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(tj)
	if err != nil {
		return nil, fmt.Errorf("tiles: tilejson: %w", err)
	}
	return b, nil
}
