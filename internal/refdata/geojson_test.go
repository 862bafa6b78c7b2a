package refdata

import (
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

func TestBoundariesGeoJSON(t *testing.T) {
	tests := []struct {
		name  string
		raw   []byte
		count int
		codes func() map[string]bool
		// a point that must fall inside the feature of that code
		inside map[string]orb.Point
	}{
		{
			name: "départements", raw: DepartementsGeoJSON(), count: 101,
			codes: func() map[string]bool {
				m := map[string]bool{}
				for _, d := range Departements() {
					m[d.Code] = true
				}
				return m
			},
			inside: map[string]orb.Point{"69": {4.83, 45.76}, "2A": {8.74, 41.93}, "974": {55.45, -20.93}, "91": {2.37, 48.63}},
		},
		{
			name: "régions", raw: RegionsGeoJSON(), count: 18,
			codes: func() map[string]bool {
				m := map[string]bool{}
				for _, r := range Regions() {
					m[r.Code] = true
				}
				return m
			},
			inside: map[string]orb.Point{"84": {4.83, 45.76}, "11": {2.35, 48.86}, "06": {45.23, -12.78}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc, err := geojson.UnmarshalFeatureCollection(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(fc.Features) != tt.count {
				t.Fatalf("%d features, want %d", len(fc.Features), tt.count)
			}
			want := tt.codes()
			byCode := map[string]orb.Geometry{}
			for _, f := range fc.Features {
				code := f.Properties.MustString("code", "")
				if !want[code] || f.Properties.MustString("nom", "") == "" {
					t.Errorf("feature %q unknown or unnamed", code)
				}
				byCode[code] = f.Geometry
			}
			for code, p := range tt.inside {
				if !contains(byCode[code], p) {
					t.Errorf("%v not inside %s", p, code)
				}
			}
		})
	}
}

func contains(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	return false
}
