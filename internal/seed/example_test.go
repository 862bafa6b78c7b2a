package seed_test

import (
	"fmt"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed"
)

// Generate builds a data set without a store; Run inserts one. At 1 % of
// the national scale the 176 real prisons stay whole.
func ExampleGenerate() {
	d, err := seed.Generate(seed.Options{Scale: 0.01, Seed: 1, Now: time.Now()})
	if err != nil {
		panic(err)
	}
	counts := d.Counts()
	for _, k := range []atigip.Kind{atigip.KindPrison, atigip.KindOrganisation, atigip.KindPost, atigip.KindMeasure} {
		fmt.Println(k, counts[k])
	}
	fmt.Println(d.Prisons[0].Name, "–", d.Prisons[0].LocationPrecision)
	// Output:
	// prisons 176
	// organisations 150
	// posts 310
	// measures 160
	// Centre pénitentiaire de Bourg-en-Bresse – commune_centroid
}
