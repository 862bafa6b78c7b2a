// Package basemap builds the map's background: a vector basemap (Mapbox
// Vector Tiles in a PMTiles archive) from an OpenStreetMap extract
// (Import), or from the reference data the binary carries (Default:
// every French commune's name, département and région outlines) when no
// extract is configured.
//
// Layers (see Layers): earth, water, landuse, roads, railways, buildings,
// boundaries and places, with French names ("name:fr", else "name").
// Generalisation is per zoom: each feature gets a minimum zoom from its
// class and, for areas, its size; each tile is clipped and simplified to
// its own resolution, places are thinned by population, and a tile that
// would exceed MaxTileBytes is simplified harder until it fits.
//
// Memory is bounded for a national extract: node coordinates go to a
// sorted file of 16-byte records (id, lon, lat) mapped in memory, so the
// kernel pages it rather than the heap holding it; features are spooled
// to a temporary file; tiles are cut zoom by zoom, in bands whose tile
// index fits Options.IndexBudget. What stays in the heap is the archive
// directory (about 16 bytes a tile) and the geometry of the ways that
// multipolygon relations need.
package basemap
