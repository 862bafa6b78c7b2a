package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/atigip/atigip360/tiles/basemap"
)

// cmdBasemap is `atigip basemap import EXTRACT.osm.pbf [-o basemap.pmtiles]`:
// the map's vector background from an OpenStreetMap extract, served with
// ATIGIP_BASEMAP_PMTILES.
func cmdBasemap(ctx context.Context, env *Env, args []string) error {
	usage := "usage: atigip basemap import EXTRACT.osm.pbf [-o basemap.pmtiles] [--maxzoom 14]"
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(env.Stderr, usage)
		return fmt.Errorf("%w: basemap needs the subcommand import", errUsage)
	}
	fs := flags(env, "basemap import")
	out := fs.String("o", "basemap.pmtiles", "output archive")
	maxZoom := fs.Int("maxzoom", basemap.DefaultMaxZoom, "deepest zoom written (clients overzoom beyond)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	// The extract may come before the flags (atigip basemap import x.pbf -o y).
	rest := args[1:]
	var in string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		in, rest = rest[0], rest[1:]
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	if in == "" && fs.NArg() == 1 {
		in = fs.Arg(0)
	}
	if in == "" || (fs.NArg() > 0 && fs.Arg(0) != in) || !strings.HasSuffix(*out, ".pmtiles") {
		fmt.Fprintln(env.Stderr, usage)
		return fmt.Errorf("%w: one OSM extract and an output ending in .pmtiles are needed", errUsage)
	}
	o := basemap.Options{MaxZoom: *maxZoom}
	if !*quiet {
		var bar *progressbar.ProgressBar
		var stage string
		o.Progress = func(s string, done, total int64) {
			if s != stage || bar == nil {
				if bar != nil {
					bar.Finish()
				}
				stage = s
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(env.Stderr),
					progressbar.OptionSetDescription(fmt.Sprintf("%-12s", s)), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(env.Stderr) }))
			}
			bar.ChangeMax64(total)
			bar.Set64(done)
		}
		defer func() {
			if bar != nil {
				bar.Finish()
			}
		}()
	}
	start := time.Now()
	st, err := basemap.Import(ctx, in, *out, o)
	if err != nil {
		return fmt.Errorf("basemap import: %w", err)
	}
	el := time.Since(start)
	largest := 0
	for _, n := range st.MaxTile {
		largest = max(largest, n)
	}
	fmt.Fprintf(env.Stdout, "%s: %d nœuds, %d chemins, %d relations → %d objets, %d tuiles, %.1f Mo, plus grosse tuile %.1f ko (%d au-dessus de 100 ko), %s\n",
		*out, st.Nodes, st.Ways, st.Relations, st.Features, st.Tiles, float64(st.Bytes)/1e6, float64(largest)/1e3, st.Over100K, el.Round(time.Millisecond))
	return nil
}

// defaultBasemapFile names the basemap built from the embedded data; the
// suffix changes when what it draws does, so a new binary rebuilds it.
const defaultBasemapFile = "basemap-communes-v2.pmtiles"

// basemapArchive is the vector basemap to serve: ATIGIP_BASEMAP_PMTILES,
// else the one built from the embedded communes and outlines: derived
// from the binary alone, it is made at first start (a few seconds) in the
// user's cache directory and kept for every later start.
func (env *Env) basemapArchive(ctx context.Context) (string, error) {
	if p := env.Config.BasemapPMTiles; p != "" {
		return p, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = env.Config.DataDir
	} else {
		dir = filepath.Join(dir, "atigip")
	}
	path := filepath.Join(dir, defaultBasemapFile)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("basemap: %w", err)
	}
	start := time.Now()
	st, err := basemap.Default(ctx, path, basemap.Options{Workers: 1})
	if err != nil {
		return "", fmt.Errorf("basemap: default: %w", err)
	}
	env.Logger.Info("default basemap built", "path", path, "tiles", st.Tiles, "bytes", st.Bytes,
		"duration", time.Since(start).Round(time.Millisecond).String())
	return path, nil
}
