package prospection_test

import (
	"fmt"

	"github.com/atigip/atigip360/internal/prospection"
)

func ExampleCompute() {
	r := prospection.Compute(prospection.Input{
		Communes: []prospection.Commune{
			{INSEE: "69123", Name: "Lyon", Departement: "69", Population: 520000, Lon: 4.835, Lat: 45.758},
			{INSEE: "69001", Name: "Village", Departement: "69", Population: 1000, Lon: 4.40, Lat: 46.05},
		},
		Posts:   []prospection.Post{{Commune: "69123", Departement: "69", Lon: 4.835, Lat: 45.758, Open: true}},
		Waiting: []string{"69001"},
	})
	for _, c := range r.Communes {
		fmt.Printf("%s: far %v, nearest %.0f km, waiting %d\n", c.Name, c.Far, c.NearestKm, c.Waiting)
	}
	fmt.Printf("69: %.2f posts per 10,000 inhabitants\n", r.Departements[0].Per10k)
	// Output:
	// Village: far true, nearest 47 km, waiting 1
	// Lyon: far false, nearest 0 km, waiting 0
	// 69: 0.02 posts per 10,000 inhabitants
}
