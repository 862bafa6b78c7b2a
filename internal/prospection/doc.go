// Package prospection tells the TIG referent where posts are missing:
// posts per 10,000 inhabitants by département and by commune, the
// communes farther than a radius (15 km) from any open post, and the
// measures waiting to be placed whose person lives in such a commune.
// Compute takes plain values (communes with their population and
// centroid, posts, the home communes of waiting measures) and returns
// sorted rows; the nearest-post search uses a grid of about 22 km cells,
// so a national run stays in the tens of milliseconds.
package prospection
