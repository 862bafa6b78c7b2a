// Package tiles serves the national map of ATIGIP 360 as Mapbox Vector Tiles
// (MVT 2.1): TIG posts (clustered below a configurable zoom), penitentiary
// establishments, their floor space (surfaces d'implantation) and the IGN
// département and région outlines as a light basemap that works offline.
//
// An Engine keeps every layer in memory, in Web Mercator coordinates sorted
// by quadkey, so that any tile is a binary search plus the encoding of its
// few features; generated tiles are cached per (tileset, z, x, y), within
// Options.CacheBytes (hit and miss counts in CacheStats). Engine.Follow
// applies the store's change feed and invalidates only the tiles and cluster
// levels whose content changed.
//
// Memory is kept small for the national set (about 30 MB of records and
// pyramids, 15 MB of outlines): posts and organisations are compact records
// with shared strings, streamed from the store, whose attributes are
// encoded only when a tile is drawn; the IGN outlines are packed as 32-bit
// fixed-point coordinates, whole up to z8 and cut per z9 tile beyond. The
// boundaries layer up to z8 (once per process) and the prisons layer up to
// z8 (once per snapshot) are encoded in advance: a tile is the
// concatenation of its layers encoded apart, so the heavy low zooms only
// encode their posts and floor spaces.
//
// Two tilesets cut the same layers for two audiences (see Fields for the
// per-audience attribute whitelist):
//
//   - "public": public, non-draft posts with non-personal attributes only;
//   - "justice": adds the posts reserved for justice professionals, the
//     places left and the host organisation's professional contact.
//
// Clusters carry the attribute names MapLibre styles already use (cluster,
// point_count, point_count_abbreviated) plus per-filter counts; every post
// is in exactly one feature per zoom, so summing point_count over all the
// tiles of a zoom gives the number of visible posts.
//
// The package takes and returns plain Go values; HTTP lives in
// internal/httpapi (tiles.go) and the command in cmd/atigip (cmd_tiles.go).
package tiles
