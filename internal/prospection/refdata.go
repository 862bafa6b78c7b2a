package prospection

import (
	"cmp"
	"slices"
	"sync"

	"github.com/atigip/atigip360/internal/refdata"
)

// Communes are the communes of the reference (COG), without the
// municipal arrondissements, whose population their commune already
// counts, the most populated first (the order Compute lists them in).
// The slice is shared: callers must not modify it.
func Communes() []Commune {
	communesOnce.Do(func() { communes = loadCommunes() })
	return communes
}

var (
	communesOnce sync.Once
	communes     []Commune
)

func loadCommunes() []Commune {
	var out []Commune
	for _, c := range refdata.Communes() {
		if c.Kind != refdata.KindCommune {
			continue
		}
		out = append(out, Commune{INSEE: c.INSEE, Name: c.NameWithArticle, Departement: c.Departement,
			Region: c.Region, Population: c.Population, Lon: c.Lon, Lat: c.Lat})
	}
	slices.SortFunc(out, func(a, b Commune) int {
		if c := cmp.Compare(b.Population, a.Population); c != 0 {
			return c
		}
		return cmp.Compare(a.INSEE, b.INSEE)
	})
	return out
}

// CommuneOf is the commune of an INSEE code: an arrondissement's commune
// (75101 → 75056), the code itself otherwise.
func CommuneOf(code string) string {
	if c, ok := refdata.CommuneByINSEE(code); ok && c.Parent != "" {
		return c.Parent
	}
	return code
}
