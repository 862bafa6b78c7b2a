package seed

import (
	"fmt"
	"math/rand/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// Shares of host organisation kinds (TIG host statistics: communes and
// associations host most posts).
var orgKindWeights = []struct {
	kind   atigip.OrganisationKind
	weight float64
	siren  string // SIREN prefix typical of the legal category
}{
	{kCommune, 30, "21"},
	{kAssoc, 33, "7"},
	{kPublic, 11, "2"},
	{kHosp, 7, "26"},
	{kESS, 11, "5"},
	{kCompany, 8, "3"},
}

// Name patterns per kind; %s is "de X" for the commune X.
var orgNamePatterns = map[atigip.OrganisationKind][]string{
	// The first commune organisation is its mairie; later ones are services.
	kCommune: {"Centre technique municipal %s", "Services techniques de la ville %s", "Médiathèque municipale %s", "Service des espaces verts de la ville %s", "Régie municipale des sports %s"},
	kAssoc: {"Épicerie solidaire %s", "Association d'entraide %s", "Les Jardins partagés %s", "Amicale laïque %s", "Secours alimentaire %s",
		"Association sportive %s", "Maison des jeunes et de la culture %s", "Centre social %s", "Comité des fêtes %s", "Accueil de jour %s"},
	kPublic: {"Centre communal d'action sociale %s", "Office public de l'habitat %s", "Syndicat intercommunal des eaux %s", "Lycée professionnel %s",
		"Collège public %s", "Syndicat de collecte des déchets %s", "Office de tourisme %s"},
	kHosp:    {"Centre hospitalier %s", "EHPAD public %s", "Hôpital local %s", "Résidence autonomie %s"},
	kESS:     {"Ressourcerie %s", "Atelier et chantier d'insertion %s", "Régie de quartier %s", "Recyclerie %s", "Entreprise d'insertion %s", "Jardins d'insertion %s"},
	kCompany: {"Transports urbains %s", "Société d'économie mixte d'aménagement %s", "Société des eaux %s", "Propreté urbaine %s"},
}

var contactRoles = map[atigip.OrganisationKind][]string{
	kCommune: {"Tuteur TIG – services techniques", "Directeur des services techniques", "Secrétaire de mairie", "Responsable des ressources humaines"},
	kAssoc:   {"Président de l'association", "Coordinatrice des bénévoles", "Tuteur TIG", "Directrice"},
	kPublic:  {"Tuteur TIG", "Responsable du service technique", "Directeur"},
	kHosp:    {"Cadre de santé", "Responsable des services logistiques", "Tuteur TIG – services hôteliers"},
	kESS:     {"Encadrant technique d'insertion", "Directrice", "Chargé d'accompagnement socioprofessionnel"},
	kCompany: {"Responsable RSE", "Chef d'exploitation", "Tuteur TIG"},
}

func (g *gen) organisations() {
	r := g.rng(stepOrganisations)
	n := g.opts.scaled(nOrganisations)
	weights := make([]float64, len(orgKindWeights))
	for i, k := range orgKindWeights {
		weights[i] = k.weight
	}
	usedName := map[string]bool{}
	usedSIRET := map[string]bool{}
	hasHall := map[string]bool{}
	collisions := 0
	for len(g.d.Organisations) < n {
		kw := orgKindWeights[weighted(r, weights)]
		c := g.places.pick(r)
		var name string
		if kw.kind == kCommune && !hasHall[c.INSEE] {
			hasHall[c.INSEE] = true
			name = townHall(c)
		} else {
			name = fmt.Sprintf(pickStr(r, orgNamePatterns[kw.kind]), deName(cityName(c)))
		}
		if usedName[name] {
			// A second "Épicerie solidaire de Lyon" would puzzle a
			// referent: draw again, or number the site when big scales
			// exhaust the names.
			if collisions++; collisions < 50 {
				continue
			}
			base := name
			for i := 2; usedName[name]; i++ {
				name = fmt.Sprintf("%s (site %d)", base, i)
			}
		}
		collisions = 0
		usedName[name] = true
		s := siret(r, kw.siren)
		for usedSIRET[s] {
			s = siret(r, kw.siren)
		}
		usedSIRET[s] = true
		loc := jitter(r, centre(c), jitterRadiusKm(c))
		addr := addressIn(c, street(r))
		if kw.kind == kCommune && name == townHall(c) {
			addr.Street = "place de la Mairie"
		}
		domain := slugify(name)
		if len(domain) > 40 {
			domain = domain[:40]
		}
		o := &atigip.Organisation{
			Name: name, OrgKind: kw.kind, SIRET: s, Address: addr, Location: loc,
			Habilitation: g.habilitation(r, c), Active: true,
		}
		for i, nc := 0, 1+r.IntN(2); i < nc; i++ {
			o.Contacts = append(o.Contacts, contact(r, pickStr(r, contactRoles[kw.kind]), domain, c.Departement))
		}
		if o.Habilitation.Status == atigip.HabRefused || o.Habilitation.Status == atigip.HabExpired {
			o.Active = chance(r, 0.5)
		}
		g.d.Organisations = append(g.d.Organisations, o)
	}
}

// habilitation draws a status with coherent dates: most organisations are
// habilitated (valid five years), some are in the procedure, a few refused
// or expired.
func (g *gen) habilitation(r *rand.Rand, c refdata.Commune) atigip.Habilitation {
	statuses := []atigip.HabilitationStatus{atigip.HabHabilitated, atigip.HabRequested, atigip.HabAwaiting, atigip.HabRefused, atigip.HabExpired, atigip.HabNone}
	st := statuses[weighted(r, []float64{80, 5, 5, 3, 4, 3})]
	h := atigip.Habilitation{Status: st}
	authority := "DSPIP – " + g.spipOf(c.Departement)
	if chance(r, 0.06) {
		authority = "Direction territoriale de la protection judiciaire de la jeunesse"
		if d, ok := refdata.DepartementByCode(c.Departement); ok {
			authority += " – " + d.NameWithArticle
		}
	}
	switch h.Status {
	case atigip.HabRequested:
		h.RequestedAt = ptr(g.daysAgo(r, between(r, 1, 60)))
	case atigip.HabAwaiting:
		h.RequestedAt = ptr(g.daysAgo(r, between(r, 30, 200)))
	case atigip.HabHabilitated:
		decided := between(r, 10, 5*365-30)
		h.RequestedAt = ptr(g.daysAgo(r, decided+between(r, 30, 120)))
		h.DecidedAt = ptr(g.daysAgo(r, decided))
		h.ExpiresAt = ptr(h.DecidedAt.AddDate(5, 0, 0))
		h.Authority = authority
	case atigip.HabRefused:
		decided := between(r, 10, 3*365)
		h.RequestedAt = ptr(g.daysAgo(r, decided+between(r, 30, 120)))
		h.DecidedAt = ptr(g.daysAgo(r, decided))
		h.Authority = authority
	case atigip.HabExpired:
		decided := between(r, 5*365+10, 8*365)
		h.RequestedAt = ptr(g.daysAgo(r, decided+between(r, 30, 120)))
		h.DecidedAt = ptr(g.daysAgo(r, decided))
		h.ExpiresAt = ptr(h.DecidedAt.AddDate(5, 0, 0))
		h.Authority = authority
	}
	return h
}

func (g *gen) spipOf(dep string) string {
	if s, ok := g.spip[dep]; ok {
		return s
	}
	if d, ok := refdata.DepartementByCode(dep); ok {
		return "Service pénitentiaire d'insertion et de probation " + deName(d.NameWithArticle)
	}
	return "Service pénitentiaire d'insertion et de probation"
}
