package refdata

import (
	"testing"
)

// The load benchmarks call the loaders directly (not through sync.Once) so
// that each iteration measures a full decode of the embedded data, the cost
// paid once by the first caller of each data set.

func benchLoad(b *testing.B, load func() error) {
	b.ReportAllocs()
	for b.Loop() {
		if err := load(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/load")
}

func BenchmarkLoadCommunes(b *testing.B) {
	benchLoad(b, func() error { _, err := loadCommunes(); return err })
}

func BenchmarkLoadAdmin(b *testing.B) {
	benchLoad(b, func() error { _, err := loadAdmin(); return err })
}

func BenchmarkLoadPrisons(b *testing.B) {
	loadedAdmin() // the DISP lookup needs départements; not part of this cost
	benchLoad(b, func() error { _, _, err := loadPrisons(); return err })
}

func BenchmarkLoadROME(b *testing.B) {
	benchLoad(b, func() error { _, err := loadROME(); return err })
}

func BenchmarkLoadDepartementsGeoJSON(b *testing.B) {
	benchLoad(b, func() error { _, err := readGz("departements.geojson.gz"); return err })
}

func BenchmarkLoadRegionsGeoJSON(b *testing.B) {
	benchLoad(b, func() error { _, err := readGz("regions.geojson.gz"); return err })
}

func BenchmarkGeocode(b *testing.B) {
	queries := [][2]string{{"42000", "ST ETIENNE"}, {"72000", "Le Mans"}, {"69003", "LYON"}, {"", "Saint Etienne"}, {"42998", "ST ETIENNE CEDEX 9"}}
	Communes()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q := queries[i%len(queries)]
		if _, ok := Geocode(q[0], q[1]); !ok {
			b.Fatal(q)
		}
		i++
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "µs/op")
}

func BenchmarkCommunePrefix(b *testing.B) {
	prefixes := []string{"s", "saint", "st et", "le ma", "lyo", "mar"}
	Communes()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if len(CommunePrefix(prefixes[i%len(prefixes)], 10)) == 0 {
			b.Fatal(prefixes[i%len(prefixes)])
		}
		i++
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "µs/op")
}

func BenchmarkNormalize(b *testing.B) {
	names := []string{"Saint-Étienne-du-Rouvray", "L'Haÿ-les-Roses", "ST ETIENNE CEDEX 9", "Châlons-en-Champagne"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = Normalize(names[i%len(names)])
		i++
	}
}
