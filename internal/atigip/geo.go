package atigip

import "math"

// Point is a WGS84 position. JSON keeps the GeoJSON order, longitude first.
type Point struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

// IsZero reports whether p is the unset position (0,0), which lies in the
// Gulf of Guinea and is never a French place.
func (p Point) IsZero() bool { return p.Lon == 0 && p.Lat == 0 }

// Valid reports whether p is a WGS84 coordinate.
func (p Point) Valid() bool {
	return !math.IsNaN(p.Lon) && !math.IsNaN(p.Lat) &&
		p.Lon >= -180 && p.Lon <= 180 && p.Lat >= -90 && p.Lat <= 90
}

const earthRadiusKm = 6371.0088

// DistanceKm is the great-circle (haversine) distance between a and b.
func DistanceKm(a, b Point) float64 {
	const rad = math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	s := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(s)))
}

// Ring is a closed linear ring: first and last points are equal.
type Ring []Point

// Polygon is an outer ring followed by holes, as in GeoJSON.
type Polygon []Ring

func (p *Problems) checkPoint(field string, pt Point, required bool) {
	switch {
	case pt.IsZero() && required:
		p.Add(field, "La localisation est obligatoire.")
	case !pt.IsZero() && !pt.Valid():
		p.Add(field, "Coordonnées hors limites (longitude -180..180, latitude -90..90).")
	}
}

func (p *Problems) checkPolygon(field string, poly Polygon) {
	if len(poly) == 0 {
		p.Add(field, "La géométrie est obligatoire.")
		return
	}
	for i, r := range poly {
		if len(r) < 4 {
			p.Add(field, "L'anneau %d doit compter au moins 4 points.", i)
			continue
		}
		if r[0] != r[len(r)-1] {
			p.Add(field, "L'anneau %d doit être fermé (premier point = dernier point).", i)
		}
		for _, pt := range r {
			if !pt.Valid() {
				p.Add(field, "L'anneau %d contient des coordonnées hors limites.", i)
				break
			}
		}
	}
}
