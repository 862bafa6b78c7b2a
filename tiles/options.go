package tiles

import (
	"fmt"
	"log/slog"
	"time"
)

// Options configures an Engine. The zero value is replaced by defaults.
type Options struct {
	// MaxZoom is the deepest zoom served (default 22, at most 26).
	MaxZoom int
	// SourceMaxZoom is the maxzoom announced in TileJSON: beyond it map
	// clients overzoom (default 16, at most MaxZoom).
	SourceMaxZoom int
	// ClusterBelow: posts are clustered at every zoom z < ClusterBelow and
	// drawn one by one from ClusterBelow on (default 13; negative: never
	// clustered).
	ClusterBelow int
	// ClusterRadius is the clustering radius in pixels of a 512 px tile
	// (default 50).
	ClusterRadius float64
	// Extent is the MVT tile extent (default 4096).
	Extent int
	// Buffer is the polygon clipping buffer in tile units (default 64).
	Buffer int
	// DepartementsFrom is the first zoom drawing département outlines;
	// régions are drawn at every zoom (default 5).
	DepartementsFrom int
	// CacheBytes bounds the tile cache (default 64 MiB; negative
	// disables). 64 MiB hold about 25,000 tiles of the national map: the
	// wrk benchmark's 20,000 paths across France, z0–z14, need 15 MiB.
	// An eighth of it holds the clusters of filter combinations (Filter).
	CacheBytes int64
	// Poll is how often Follow polls the change feed when no signal came
	// (default 500 ms).
	Poll time.Duration
	// Attribution is shown by map clients (TileJSON).
	Attribution string
	// Logger receives engine events (default slog.Default()).
	Logger *slog.Logger
	// StatePath, when set, is the file where SaveState keeps the engine's
	// state and New resumes from (engines with a store only).
	StatePath string
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxZoom == 0 {
		o.MaxZoom = 22
	}
	if o.SourceMaxZoom == 0 {
		o.SourceMaxZoom = min(16, o.MaxZoom)
	}
	switch {
	case o.ClusterBelow == 0:
		o.ClusterBelow = 13
	case o.ClusterBelow < 0:
		o.ClusterBelow = 0
	}
	if o.ClusterRadius == 0 {
		o.ClusterRadius = 50
	}
	if o.Extent == 0 {
		o.Extent = 4096
	}
	if o.Buffer == 0 {
		o.Buffer = 64
	}
	if o.DepartementsFrom == 0 {
		o.DepartementsFrom = 5
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 64 << 20
	}
	if o.Poll == 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Attribution == "" {
		o.Attribution = "ATIGIP 360 — contours © IGN (ADMIN EXPRESS)"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	switch {
	case o.MaxZoom < 0 || o.MaxZoom > maxQuadZoom:
		return o, fmt.Errorf("tiles: options: MaxZoom %d out of 0..%d", o.MaxZoom, maxQuadZoom)
	case o.SourceMaxZoom < 0 || o.SourceMaxZoom > o.MaxZoom:
		return o, fmt.Errorf("tiles: options: SourceMaxZoom %d out of 0..MaxZoom", o.SourceMaxZoom)
	case o.ClusterBelow < 0 || o.ClusterBelow > o.MaxZoom+1:
		return o, fmt.Errorf("tiles: options: ClusterBelow %d out of 0..MaxZoom+1", o.ClusterBelow)
	case o.ClusterRadius < 0:
		return o, fmt.Errorf("tiles: options: negative ClusterRadius")
	case o.Extent < 256 || o.Extent&(o.Extent-1) != 0:
		return o, fmt.Errorf("tiles: options: Extent %d must be a power of two ≥ 256", o.Extent)
	case o.Buffer < 0 || o.Buffer > o.Extent/2:
		return o, fmt.Errorf("tiles: options: Buffer %d out of 0..Extent/2", o.Buffer)
	}
	return o, nil
}
