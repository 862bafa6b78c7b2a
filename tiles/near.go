package tiles

import (
	"slices"

	"github.com/atigip/atigip360/internal/atigip"
)

// NearPost is a post within a radius, with the attributes of its tiles.
type NearPost struct {
	ID         int64          `json:"id"`
	Lon        float64        `json:"lon"`
	Lat        float64        `json:"lat"`
	DistanceKm float64        `json:"distance_km"`
	Properties map[string]any `json:"properties"`
}

// MaxNearRadiusKm bounds Near's radius.
const MaxNearRadiusKm = 200

// Near lists the posts of tileset within radiusKm of center, nearest first,
// at most limit: what a judge or lawyer checks before pronouncing a TIG.
// It shows what the tiles show, nothing more.
func (e *Engine) Near(a atigip.Audience, tileset string, center atigip.Point, radiusKm float64, limit int) ([]NearPost, error) {
	ta, err := e.tilesetAudience(a, tileset)
	if err != nil {
		return nil, err
	}
	var pr atigip.Problems
	pr.Check(center.IsZero() || !center.Valid(), "lon", "Position invalide (longitude -180..180, latitude -90..90).")
	pr.Check(!(radiusKm > 0 && radiusKm <= MaxNearRadiusKm), "radius_km", "Le rayon doit être compris entre 0 et %d km.", MaxNearRadiusKm)
	if err := pr.Err("Recherche autour d'un point"); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	aud := audIndex(ta)
	var out []NearPost
	leaves := e.snap.Load().posts[aud].leaves
	for _, r := range leaves {
		if d := atigip.DistanceKm(center, r.loc); d <= radiusKm {
			out = append(out, NearPost{ID: r.id, Lon: r.loc.Lon, Lat: r.loc.Lat, DistanceKm: round1(d), Properties: postProps(r, aud)})
		}
	}
	slices.SortFunc(out, func(x, y NearPost) int {
		switch {
		case x.DistanceKm < y.DistanceKm:
			return -1
		case x.DistanceKm > y.DistanceKm:
			return 1
		}
		return int(x.ID - y.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
