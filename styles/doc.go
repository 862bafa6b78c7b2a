// Package styles embeds the MapLibre styles of the national map: public.json
// for everyone and justice.json for justice professionals (points coloured
// by places left). Both draw the posts, prisons, floor spaces and IGN
// boundaries of the tiles package over an OpenStreetMap raster basemap
// whose URL is configurable; offline, the boundaries layer alone still
// makes a readable map.
//
// The files hold two placeholders that Render fills in: {{BASE}}, the
// server's origin, and {{BASEMAP}}, the raster tile URL template.
package styles
