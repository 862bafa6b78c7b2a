package refdata_test

import (
	"fmt"

	"github.com/atigip/atigip360/internal/refdata"
)

func Example() {
	c, ok := refdata.Geocode("42000", "ST ETIENNE")
	fmt.Println(ok, c.INSEE, c.NameWithArticle, c.Departement)

	lyon, _ := refdata.CommuneByINSEE("69123")
	fmt.Printf("%s %.2f %.2f\n", lyon.Name, lyon.Lat, lyon.Lon)

	for _, c := range refdata.CommunePrefix("le ma", 2) {
		fmt.Println(c.NameWithArticle)
	}

	p, _ := refdata.PrisonByID("maison-d-arret-de-fleury-merogis")
	disp, _ := refdata.DISPByCode(p.DISP)
	fmt.Println(p.TypeCode, p.CommuneName, disp.Name)

	job, _ := refdata.ROMEByCode("A1203")
	fmt.Println(job.Code, job.Label, len(refdata.SkillsOf(job.Code)))

	fmt.Println(refdata.Normalize("L'Haÿ-les-Roses"))
	// Output:
	// true 42218 Saint-Étienne 42
	// Lyon 45.76 4.84
	// Le Mans
	// Le Marin
	// MA Fleury-Mérogis DISP de Paris
	// A1203 Agent / Agente d'entretien des espaces verts 73
	// l hay les roses
}
