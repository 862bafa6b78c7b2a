package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/atigip/atigip360/tiles"
)

// cmdTiles is `atigip tiles export [--tileset public] [--minzoom 0]
// [--maxzoom N] out.pmtiles`: a PMTiles archive of the map for static
// hosting or a CDN, drawn from the store.
func cmdTiles(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprintln(env.Stderr, "usage: atigip tiles export [--tileset public|justice] [--minzoom 0] [--maxzoom 13] out.pmtiles")
		return fmt.Errorf("%w: tiles needs the subcommand export", errUsage)
	}
	fs := flags(env, "tiles export")
	tileset := fs.String("tileset", "public", "tile set: public (static hosting) or justice (never on a public CDN)")
	minZoom := fs.Int("minzoom", 0, "first zoom written")
	maxZoom := fs.Int("maxzoom", 0, "last zoom written (default: the first zoom of single posts, 13)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 || !strings.HasSuffix(fs.Arg(0), ".pmtiles") {
		return fmt.Errorf("%w: one output file ending in .pmtiles is needed", errUsage)
	}
	if _, ok := tiles.Tilesets[*tileset]; !ok {
		return fmt.Errorf("%w: --tileset must be public or justice", errUsage)
	}
	s, err := env.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Now()
	eng, err := tiles.New(ctx, s, tiles.Options{Logger: env.Logger, CacheBytes: -1})
	if err != nil {
		return err
	}
	st, err := eng.Export(ctx, fs.Arg(0), tiles.ExportOptions{Tileset: *tileset, MinZoom: *minZoom, MaxZoom: *maxZoom,
		Progress: func(z, n int) { env.Logger.Info("tiles export", "zoom", z, "tiles", n) }})
	if err != nil {
		return fmt.Errorf("tiles export: %w", err)
	}
	fmt.Fprintf(env.Stdout, "%s: %d tiles (%d distinct), %.1f MB, largest tile %.1f kB, %s\n",
		fs.Arg(0), st.Tiles, st.Unique, float64(st.Bytes)/1e6, float64(st.MaxTileSize)/1e3, time.Since(start).Round(time.Millisecond))
	return nil
}
