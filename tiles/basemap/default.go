package basemap

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/atigip/atigip360/internal/refdata"
)

// DefaultAttribution credits the data of the Default basemap.
const DefaultAttribution = "Communes : INSEE / La Poste / IGN (Licence Ouverte)"

// Default builds, at out, the basemap the binary can make with no
// extract: every French commune's name (places, thinned by population and
// zoom) and the outlines of départements (admin_level 6) and régions (4),
// from the reference data embedded in the binary. It takes a few seconds.
func Default(ctx context.Context, out string, o Options) (Stats, error) {
	o.defaults()
	o.MaxZoom = min(o.MaxZoom, 11) // every commune is named by zoom 11; clients overzoom
	if o.Attribution == "© les contributeurs d'OpenStreetMap" {
		o.Attribution = DefaultAttribution
	}
	var st Stats
	if o.TempDir == "" {
		o.TempDir = filepath.Dir(out)
	}
	sp, err := newSpool(o.TempDir)
	if err != nil {
		return st, err
	}
	defer sp.close()
	var bound orb.Bound
	for _, c := range refdata.Communes() {
		if c.Kind != refdata.KindCommune {
			continue // Paris, Lyon, Marseille are placed whole
		}
		p := orb.Point{c.Lon, c.Lat}
		if bound.IsZero() {
			bound = orb.Bound{Min: p, Max: p}
		}
		bound = bound.Extend(p)
		kind, mz := communePlace(c.Population)
		if err := sp.add(Feature{Layer: LayerPlaces, MinZoom: mz, Kind: kind, Name: c.NameWithArticle, Pop: int64(c.Population), Geom: p}); err != nil {
			return st, err
		}
	}
	for _, src := range []struct {
		data  []byte
		level int
	}{{refdata.RegionsGeoJSON(), 4}, {refdata.DepartementsGeoJSON(), 6}} {
		fc, err := geojson.UnmarshalFeatureCollection(src.data)
		if err != nil {
			return st, fmt.Errorf("basemap: outlines: %w", err)
		}
		for _, f := range fc.Features {
			var lines orb.MultiLineString
			switch g := f.Geometry.(type) {
			case orb.Polygon:
				for _, r := range g {
					lines = append(lines, orb.LineString(r))
				}
			case orb.MultiPolygon:
				for _, p := range g {
					for _, r := range p {
						lines = append(lines, orb.LineString(r))
					}
				}
			}
			if len(lines) == 0 {
				continue
			}
			if err := sp.add(Feature{Layer: LayerBoundaries, MinZoom: boundaryMinZoom[src.level] - 2, Level: src.level, Geom: lines}); err != nil {
				return st, err
			}
		}
	}
	return st, build(ctx, sp, out, bound, o, &st)
}

// communePlace gives a commune its place kind and first zoom: the 40-odd
// biggest cities at the national view, every commune by zoom 11.
func communePlace(pop int) (string, int) {
	switch {
	case pop >= 150000:
		return "city", 4
	case pop >= 50000:
		return "city", 6
	case pop >= 15000:
		return "town", 7
	case pop >= 5000:
		return "town", 8
	case pop >= 2000:
		return "village", 9
	case pop >= 500:
		return "village", 10
	}
	return "village", 11
}
