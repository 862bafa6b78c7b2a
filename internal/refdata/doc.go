// Package refdata serves the public reference data ATIGIP 360 needs at run
// time, embedded in the binary so that a clone works without shared/data:
//
//   - French communes (INSEE code, names, postcodes, centroid, population
//     2021), départements and régions, with a postcode + name geocoder and a
//     prefix autocomplete;
//   - the 176 penitentiary establishments of article A44 of the Code de
//     procédure pénale (2015), each with its DISP (direction interrégionale
//     des services pénitentiaires);
//   - the ROME 4.0 job referential (France Travail, v460): grand domaines,
//     domaines professionnels, 1,584 codes, 13,120 appellations, skills and
//     the ROME → skill links;
//   - département and région boundaries as GeoJSON (France with overseas).
//
// The data lives gzip-compressed in data/ and is decoded lazily, once per
// data set, on first use; every accessor is safe for concurrent use. Returned
// slices are shared: callers must not modify them.
//
// data/ is produced by `go generate` (internal/gen) from the shared data
// sets; data/ATTRIBUTION.md gives the sources and licences. The embedded data
// is checked by the package tests, so a decoding failure at run time means a
// corrupted build and panics.
package refdata

//go:generate go run ./internal/gen -src ../../../shared/data -out data
