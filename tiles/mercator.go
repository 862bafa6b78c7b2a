package tiles

import (
	"math"

	"github.com/atigip/atigip360/internal/atigip"
)

// maxQuadZoom is the zoom of the quadkeys that order every layer: a tile
// at any zoom up to it is a contiguous quadkey range.
const maxQuadZoom = 26

// maxLat is the latitude limit of Web Mercator.
const maxLat = 85.05112877980659

// mercator projects WGS84 to normalised Web Mercator: x and y in [0, 1],
// y growing southwards as tile rows do.
func mercator(lon, lat float64) (x, y float64) {
	lat = math.Max(-maxLat, math.Min(maxLat, lat))
	x = (lon + 180) / 360
	s := math.Sin(lat * math.Pi / 180)
	y = 0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)
	return clamp01(x), clamp01(y)
}

// unmercator is the inverse of mercator.
func unmercator(x, y float64) (lon, lat float64) {
	lon = x*360 - 180
	lat = 180 / math.Pi * math.Atan(math.Sinh(math.Pi*(1-2*y)))
	return lon, lat
}

func clamp01(v float64) float64 {
	// Just below 1 so that the easternmost or southernmost point still
	// falls in the last tile column or row.
	return math.Max(0, math.Min(math.Nextafter(1, 0), v))
}

func pointMercator(p atigip.Point) (x, y float64) { return mercator(p.Lon, p.Lat) }

// tileOf returns the tile of zoom z holding the normalised point.
func tileOf(x, y float64, z int) (tx, ty uint32) {
	n := float64(uint64(1) << z)
	return uint32(x * n), uint32(y * n)
}

// quadkey interleaves the bits of the point's tile at maxQuadZoom
// (x in even bits, y in odd bits): sorting by it sorts by tile at every zoom.
func quadkey(x, y float64) uint64 {
	tx, ty := tileOf(x, y, maxQuadZoom)
	return interleave(tx, ty)
}

func interleave(x, y uint32) uint64 {
	return spread(x) | spread(y)<<1
}

func spread(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// quadRange is the half-open quadkey range of tile (z, x, y).
func quadRange(z int, x, y uint32) (lo, hi uint64) {
	shift := uint(2 * (maxQuadZoom - z))
	lo = interleave(x, y) << shift
	return lo, lo + 1<<shift
}

// tileBounds is the tile's extent in normalised Web Mercator.
type tileBounds struct {
	z       int
	x, y    uint32
	scale   float64 // tile units per normalised unit: extent·2^z
	originX float64 // normalised x of the tile's left edge
	originY float64 // normalised y of the tile's top edge
}

func newTileBounds(z int, x, y uint32, extent int) tileBounds {
	n := float64(uint64(1) << z)
	return tileBounds{z: z, x: x, y: y, scale: float64(extent) * n,
		originX: float64(x) / n, originY: float64(y) / n}
}

// toTile returns the point in tile units, not rounded.
func (b tileBounds) toTile(x, y float64) (float64, float64) {
	return (x - b.originX) * b.scale, (y - b.originY) * b.scale
}
