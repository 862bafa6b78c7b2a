// Command genpaths prints a shuffled list of tile paths across France,
// z0 to z14, for the wrk load script (wrk.lua):
//
//	go run ./tiles/bench/genpaths -n 20000 -tileset public > /tmp/tiles-paths.txt
//
// Points are drawn around random communes, so the list is dense where the
// posts are, with every zoom equally represented.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"

	"github.com/atigip/atigip360/internal/refdata"
)

func main() {
	n := flag.Int("n", 20000, "number of paths (at least 10,000 for the benchmark)")
	maxZ := flag.Int("maxzoom", 14, "deepest zoom")
	tileset := flag.String("tileset", "public", "tile set")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	r := rand.New(rand.NewPCG(*seed, 7))
	cs := refdata.Communes()
	for i := 0; i < *n; i++ {
		c := cs[r.IntN(len(cs))]
		z := r.IntN(*maxZ + 1)
		lon := c.Lon + (r.Float64()-0.5)*0.02
		lat := math.Max(-85, math.Min(85, c.Lat+(r.Float64()-0.5)*0.02))
		nz := math.Exp2(float64(z))
		x := int((lon + 180) / 360 * nz)
		s := math.Sin(lat * math.Pi / 180)
		y := int((0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * nz)
		if _, err := fmt.Fprintf(os.Stdout, "/tiles/%s/%d/%d/%d.mvt\n", *tileset, z, x, y); err != nil {
			os.Exit(1)
		}
	}
}
