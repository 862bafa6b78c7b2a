package refdata

import (
	"fmt"
	"strings"
	"sync"
)

// DISP is a direction interrégionale des services pénitentiaires (or the
// overseas mission, which plays that role outside metropolitan France).
type DISP struct {
	Code string // short stable identifier: "bordeaux" … "toulouse", "outre-mer"
	Name string // official name, e.g. "DISP de Lyon"
	Seat string // city of the seat
	// Regions are the région codes of its ressort.
	Regions []string
}

// disps is the ressort of each DISP since 1 January 2017 (décret n° 2016-1877
// du 26 décembre 2016 and arrêté of the same day): each interrégion is made
// of whole administrative régions, so a département's DISP follows from its
// région. A44 (the prisons source) does not name DISPs, hence this table;
// it is public knowledge (Ministère de la Justice, organisation of the
// administration pénitentiaire). The overseas mission also covers the
// collectivités d'outre-mer (Polynésie, Nouvelle-Calédonie, Saint-Pierre-et-
// Miquelon, Saint-Martin, Saint-Barthélemy, Wallis-et-Futuna), which have no
// région code.
var disps = []DISP{
	{"bordeaux", "DISP de Bordeaux", "Bordeaux", []string{"75"}},          // Nouvelle-Aquitaine
	{"dijon", "DISP de Dijon", "Dijon", []string{"27", "24"}},             // Bourgogne-Franche-Comté, Centre-Val de Loire
	{"lille", "DISP de Lille", "Lille", []string{"32"}},                   // Hauts-de-France
	{"lyon", "DISP de Lyon", "Lyon", []string{"84"}},                      // Auvergne-Rhône-Alpes
	{"marseille", "DISP de Marseille", "Marseille", []string{"93", "94"}}, // Provence-Alpes-Côte d'Azur, Corse
	{"paris", "DISP de Paris", "Paris", []string{"11"}},                   // Île-de-France
	{"rennes", "DISP de Rennes", "Rennes", []string{"53", "28", "52"}},    // Bretagne, Normandie, Pays de la Loire
	{"strasbourg", "DISP de Strasbourg", "Strasbourg", []string{"44"}},    // Grand Est
	{"toulouse", "DISP de Toulouse", "Toulouse", []string{"76"}},          // Occitanie
	{"outre-mer", "Mission des services pénitentiaires de l'outre-mer", "Paris",
		[]string{"01", "02", "03", "04", "06"}}, // Guadeloupe, Martinique, Guyane, La Réunion, Mayotte
}

func dispIndexByRegion(reg string) (int, bool) {
	for i, d := range disps {
		for _, r := range d.Regions {
			if r == reg {
				return i, true
			}
		}
	}
	return 0, false
}

// DISPs returns the 9 metropolitan DISP and the overseas mission.
func DISPs() []DISP { return disps }

// DISPByCode returns the DISP with that Code ("lyon").
func DISPByCode(code string) (DISP, bool) {
	for _, d := range disps {
		if d.Code == code {
			return d, true
		}
	}
	return DISP{}, false
}

// DISPOfDepartement returns the DISP whose ressort holds the département.
func DISPOfDepartement(dep string) (DISP, bool) {
	i, ok := loadedAdmin().dispIdx[strings.ToUpper(strings.TrimSpace(dep))]
	if !ok {
		return DISP{}, false
	}
	return disps[i], true
}

// Prison is a penitentiary establishment as listed by article A44 of the Code
// de procédure pénale (arrêté of 2 April 2015). Its coordinates are those of
// its commune's centroid, not of the building (typically 1–5 km off).
type Prison struct {
	// ID is a stable slug of the name, e.g. "maison-d-arret-de-fleury-merogis".
	ID       string
	Name     string // as written in the arrêté, e.g. "Maison d'arrêt de Fleury-Mérogis"
	Type     string // type label, e.g. "Maison d'arrêt"
	TypeCode string // as in the data: MA, CP, CD, CSL, MC, EPSN
	SPIP     string // service pénitentiaire d'insertion et de probation in charge
	Antenne  string // SPIP antenne in charge, empty when the SPIP has none
	// Departement is the département of the SPIP (also the prison's).
	Departement  string
	CommuneINSEE string
	CommuneName  string
	Lat, Lon     float64
	// CoordPrecision tells how Lat/Lon were set: "commune_centroid" or
	// "city_mean_of_arrondissements".
	CoordPrecision string
	DISP           string // DISP.Code of the establishment's interrégion
}

var (
	prisonsOnce sync.Once
	prisons     []Prison
	prisonByID  map[string]int
)

func loadedPrisons() []Prison {
	prisonsOnce.Do(func() {
		p, idx, err := loadPrisons()
		mustLoad(err)
		prisons, prisonByID = p, idx
	})
	return prisons
}

func loadPrisons() ([]Prison, map[string]int, error) {
	header := []string{"nom", "type", "type_code", "spip", "antenne", "departement", "commune_insee", "commune_nom", "lat", "lon", "coord_precision"}
	var list []Prison
	byID := map[string]int{}
	err := eachRecord("prisons.csv.gz", header, func(rec []string) error {
		lat, err := parseFloat(rec[8])
		if err != nil {
			return err
		}
		lon, err := parseFloat(rec[9])
		if err != nil {
			return err
		}
		disp, ok := DISPOfDepartement(rec[5])
		if !ok {
			return fmt.Errorf("prison %q: no DISP for département %s", rec[0], rec[5])
		}
		p := Prison{
			ID: slug(rec[0]), Name: rec[0], Type: rec[1], TypeCode: rec[2], SPIP: rec[3], Antenne: rec[4],
			Departement: rec[5], CommuneINSEE: rec[6], CommuneName: rec[7], Lat: lat, Lon: lon,
			CoordPrecision: rec[10], DISP: disp.Code,
		}
		if _, dup := byID[p.ID]; dup {
			return fmt.Errorf("prison %q: duplicate id %s", p.Name, p.ID)
		}
		byID[p.ID] = len(list)
		list = append(list, p)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return list, byID, nil
}

// slug turns a name into a lower-case ASCII identifier joined by hyphens,
// without the arrêté's parenthesised notes ("(quartier … inclus)"), which
// are long and one of them is not even closed.
func slug(s string) string {
	if i := strings.Index(s, "("); i > 0 {
		s = s[:i]
	}
	return strings.ReplaceAll(Normalize(s), " ", "-")
}

// Prisons returns the 176 establishments of A44, in the order of the arrêté
// (by SPIP, i.e. roughly by département).
func Prisons() []Prison { return loadedPrisons() }

// PrisonByID returns the establishment with that ID.
func PrisonByID(id string) (Prison, bool) {
	list := loadedPrisons()
	i, ok := prisonByID[id]
	if !ok {
		return Prison{}, false
	}
	return list[i], true
}
