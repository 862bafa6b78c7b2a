package seed

import (
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// tigJob is a kind of work plausible for a TIG post: unqualified, useful to
// the community, supervised by a tutor.
type tigJob struct {
	rome   string
	weight float64
	kinds  []atigip.OrganisationKind // host kinds that offer it
	risky  float64                   // share of posts with machinery, heights…
	minors bool                      // may be adapted for minors (PJJ)
	tasks  []string                  // French task descriptions
}

const (
	kCommune = atigip.OrgCommune
	kAssoc   = atigip.OrgAssociation
	kPublic  = atigip.OrgPublicBody
	kHosp    = atigip.OrgHospital
	kESS     = atigip.OrgSocialEconomy
	kCompany = atigip.OrgCompany
)

var allKinds = []atigip.OrganisationKind{kCommune, kAssoc, kPublic, kHosp, kESS, kCompany}

var tigJobs = []tigJob{
	{"A1203", 20, []atigip.OrganisationKind{kCommune, kPublic, kAssoc, kESS, kCompany}, 0.35, true, []string{
		"Entretien des espaces verts communaux : tonte, ramassage des feuilles, désherbage manuel des massifs",
		"Plantation et arrosage des massifs fleuris, paillage et nettoyage des allées du parc",
		"Taille de haies et débroussaillage des abords des chemins avec l'équipe des espaces verts",
		"Entretien du cimetière et des squares : désherbage sans produit phytosanitaire, ramassage des déchets verts",
	}},
	{"A1202", 5, []atigip.OrganisationKind{kCommune, kPublic, kAssoc}, 0.4, true, []string{
		"Entretien des sentiers de randonnée et du balisage, débroussaillage des bords de rivière",
		"Nettoyage des berges et des espaces naturels sensibles, ramassage des déchets",
		"Restauration de murets en pierre sèche et entretien des fossés",
	}},
	{"I1203", 15, allKinds, 0.25, true, []string{
		"Petits travaux d'entretien des bâtiments : peinture, rebouchage, remplacement d'ampoules",
		"Aide à l'agent de maintenance : manutention de mobilier, montage de stands, petites réparations",
		"Entretien des locaux techniques et des équipements sportifs municipaux",
	}},
	{"K2205", 9, allKinds, 0, true, []string{
		"Nettoyage des locaux : sols, sanitaires, vitres basses, vidage des poubelles",
		"Entretien des salles municipales après les manifestations, rangement du matériel",
		"Nettoyage et désinfection des espaces d'accueil du public",
	}},
	{"K2204", 6, []atigip.OrganisationKind{kCommune, kPublic, kESS, kCompany, kHosp}, 0.3, false, []string{
		"Nettoyage des ateliers et des entrepôts à l'aide d'une autolaveuse",
		"Nettoyage des véhicules de service et des garages municipaux",
	}},
	{"K2307", 7, []atigip.OrganisationKind{kCommune, kPublic}, 0.15, true, []string{
		"Propreté urbaine : ramassage des déchets sur la voie publique, vidage des corbeilles",
		"Nettoyage des abords des écoles et des marchés, enlèvement des affichages sauvages",
	}},
	{"K2304", 6, []atigip.OrganisationKind{kESS, kAssoc, kPublic}, 0.2, true, []string{
		"Tri des objets collectés à la ressourcerie : textile, vaisselle, livres, petit mobilier",
		"Tri et démantèlement de petits appareils électriques pour le recyclage",
		"Accueil des apports en déchetterie et orientation vers les bonnes bennes",
	}},
	{"G1607", 5, []atigip.OrganisationKind{kHosp, kCommune, kAssoc, kPublic}, 0, true, []string{
		"Aide en restauration collective : mise en place de la salle, service des repas, débarrassage",
		"Préparation des entrées et des desserts en cuisine centrale, sous la conduite du chef",
	}},
	{"G1605", 3, []atigip.OrganisationKind{kHosp, kAssoc, kCommune}, 0, true, []string{
		"Plonge et entretien de la cuisine de la cantine scolaire",
		"Lavage de la vaisselle et rangement de la réserve du restaurant solidaire",
	}},
	{"N1105", 6, []atigip.OrganisationKind{kAssoc, kESS, kCompany}, 0.2, true, []string{
		"Manutention à la banque alimentaire : réception des livraisons, rangement en chambre froide",
		"Chargement et déchargement des dons, préparation des palettes pour les associations partenaires",
	}},
	{"N1103", 4, []atigip.OrganisationKind{kAssoc, kESS}, 0.1, true, []string{
		"Préparation des colis alimentaires pour les familles bénéficiaires",
		"Préparation des commandes de l'épicerie solidaire et tenue du stock",
	}},
	{"K1601", 3, []atigip.OrganisationKind{kCommune, kPublic}, 0, true, []string{
		"Aide à la médiathèque : équipement et rangement des documents, réparation des livres abîmés",
		"Classement et conditionnement des archives municipales",
	}},
	{"K1205", 3, []atigip.OrganisationKind{kAssoc, kCommune, kHosp}, 0, false, []string{
		"Accueil et orientation du public à l'épicerie sociale, aide aux inscriptions",
		"Aide à l'accueil de jour : préparation des boissons chaudes, orientation des personnes",
	}},
	{"K1302", 3, []atigip.OrganisationKind{kHosp, kAssoc}, 0, false, []string{
		"Accompagnement des résidents lors des animations et des promenades, sans soin",
		"Aide à la distribution des repas et des collations aux résidents de l'EHPAD",
	}},
	{"F1606", 4, []atigip.OrganisationKind{kCommune, kPublic, kAssoc, kESS}, 0.3, true, []string{
		"Remise en peinture des salles de classe et des préaux pendant les vacances scolaires",
		"Effacement des tags et remise en peinture du mobilier urbain",
	}},
	{"F1704", 3, []atigip.OrganisationKind{kCommune, kESS, kPublic}, 0.6, false, []string{
		"Aide aux travaux de voirie et de maçonnerie légère avec l'équipe technique",
		"Manœuvre sur le chantier d'insertion : préparation du chantier, évacuation des gravats",
	}},
	{"G1202", 2, []atigip.OrganisationKind{kAssoc, kCommune}, 0, true, []string{
		"Aide à l'animation des ateliers du centre social, installation et rangement du matériel",
		"Participation à l'organisation des manifestations sportives et culturelles de l'association",
	}},
	{"M1602", 2, []atigip.OrganisationKind{kPublic, kAssoc, kHosp}, 0, true, []string{
		"Travaux administratifs simples : classement, mise sous pli, saisie de fiches d'inscription",
	}},
	{"A1433", 3, []atigip.OrganisationKind{kAssoc, kESS}, 0.1, true, []string{
		"Travaux du jardin solidaire : semis, repiquage, désherbage, récolte des légumes",
		"Entretien des serres et préparation des paniers de légumes du chantier d'insertion",
	}},
	{"K2201", 2, []atigip.OrganisationKind{kHosp, kESS}, 0.1, false, []string{
		"Aide à la blanchisserie : tri du linge, pliage, mise en chariots",
	}},
	{"D1507", 2, []atigip.OrganisationKind{kESS, kAssoc}, 0, true, []string{
		"Mise en rayon et étiquetage dans la boutique de la ressourcerie",
		"Tenue du rayon de la boutique solidaire : réassort, rangement, accueil des clients",
	}},
	{"H2206", 1, []atigip.OrganisationKind{kESS, kAssoc}, 0.7, false, []string{
		"Réparation et remise en état de petit mobilier dans l'atelier bois de la recyclerie",
	}},
}

// jobsByKind lists, per organisation kind, the indices of tigJobs it offers
// with their weights.
func jobsByKind() map[atigip.OrganisationKind][]int {
	out := map[atigip.OrganisationKind][]int{}
	for i, j := range tigJobs {
		for _, k := range j.kinds {
			out[k] = append(out[k], i)
		}
	}
	return out
}

// Offers in prison: service général (kitchen, cleaning, laundry,
// maintenance), concession workshops and the SEP/RIEP workshops.
var prisonWorkJobs = map[atigip.EmployerKind][]string{
	atigip.EmployerPublic:     {"G1602", "G1607", "K2205", "K2201", "I1203", "N1110", "K1601", "G1605"},
	atigip.EmployerConcession: {"H3302", "H2909", "N1105", "E1304", "N1103", "H3301"},
	atigip.EmployerSEP:        {"H2206", "H2911", "M1606", "E1301", "A1203", "H2913"},
}

var trainingJobs = []string{
	"G1602", "G1609", "K2205", "F1703", "F1606", "A1203", "N1101", "N1103", "H2913",
	"I1203", "D1507", "M1602", "F1602", "A1433", "K2304", "F1608",
}

var releaseJobs = []string{
	"N1105", "N1103", "N1101", "K2205", "K2204", "G1602", "G1607", "G1605", "F1703",
	"F1704", "A1203", "A1419", "D1507", "H3302", "H2909", "I1203", "F1606", "K2303", "N4101",
}

// Jobs people have held, for profiles.
var experienceJobs = []string{
	"N1105", "N1103", "N1101", "K2205", "K2204", "G1602", "G1603", "G1605", "F1703", "F1704",
	"F1606", "F1602", "F1608", "A1203", "A1419", "A1401", "D1507", "D1505", "H3302", "H2909",
	"I1203", "K2303", "N4101", "N4105", "K2503", "G1609", "M1602", "K1302", "H2913", "N1102",
}

// titlePool caches the plausible job titles of a ROME code: real
// appellations, without the rare ones nor managers and engineers, which no
// TIG post or prison work post is.
type titlePool map[string][]string

var unfitTitle = []string{
	"chef", "cheffe", "responsable", "directeur", "directrice", "ingénieur", "technicien",
	"entrepreneur", "attaché", "chargé", "conservat", "paléographe", "encadrant", "contremaître",
	"gérant", "manager", "inspecteur", "animateur commercial", "superviseur",
}

func (tp titlePool) titles(code string) []string {
	if t, ok := tp[code]; ok {
		return t
	}
	var out, principal []string
	for _, a := range refdata.AppellationsOf(code) {
		if a.Principale {
			principal = append(principal, a.Label)
		}
		if a.Rare || len(a.Label) > 90 {
			continue
		}
		low := strings.ToLower(a.Label)
		fit := true
		for _, w := range unfitTitle {
			if strings.Contains(low, w) {
				fit = false
				break
			}
		}
		if fit {
			out = append(out, a.Label)
		}
	}
	if len(out) == 0 {
		out = principal
	}
	if len(out) == 0 {
		if rc, ok := refdata.ROMEByCode(code); ok {
			out = []string{rc.Label}
		}
	}
	sort.Strings(out) // AppellationsOf is stable, but do not depend on it
	tp[code] = out
	return out
}

func (tp titlePool) pick(r *rand.Rand, code string) string {
	t := tp.titles(code)
	if len(t) == 0 {
		return code
	}
	return t[r.IntN(len(t))]
}

// skillsOf draws n ROME skills (savoir-faire first, core items preferred)
// of a code, as code_ogr, sorted for stable output.
func skillsOf(r *rand.Rand, code string, n int) []string {
	links := refdata.SkillsOf(code)
	var core, other []string
	for _, l := range links {
		if l.Skill.Kind != refdata.SavoirFaire {
			continue
		}
		if l.IsCore() {
			core = append(core, l.Skill.OGR)
		} else {
			other = append(other, l.Skill.OGR)
		}
	}
	pool := core
	if len(pool) < n {
		pool = append(append([]string(nil), core...), other...)
	}
	if len(pool) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for tries := 0; len(out) < n && tries < 4*n; tries++ {
		s := pool[r.IntN(len(pool))]
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
