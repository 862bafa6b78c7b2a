package refdata

import "sync"

// The boundaries come from france-geojson's "avec-outre-mer" files (IGN ADMIN
// EXPRESS COG 2018, 25 % simplification): metropolitan France plus the five
// DROM drawn at their real position. Each Feature has properties
// {"code", "nom"} (INSEE code and name), sorted by code.

var (
	depGeoOnce, regGeoOnce sync.Once
	depGeo, regGeo         []byte
)

// DepartementsGeoJSON returns the GeoJSON FeatureCollection of the 101
// départements (WGS84, 5 decimals, about 3.7 MB). The slice is shared: do not
// modify it.
func DepartementsGeoJSON() []byte {
	depGeoOnce.Do(func() {
		b, err := readGz("departements.geojson.gz")
		mustLoad(err)
		depGeo = b
	})
	return depGeo
}

// RegionsGeoJSON returns the GeoJSON FeatureCollection of the 18 régions
// (WGS84, 5 decimals, about 1.7 MB). The slice is shared: do not modify it.
func RegionsGeoJSON() []byte {
	regGeoOnce.Do(func() {
		b, err := readGz("regions.geojson.gz")
		mustLoad(err)
		regGeo = b
	})
	return regGeo
}
