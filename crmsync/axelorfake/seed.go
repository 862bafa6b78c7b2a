package axelorfake

import (
	"cmp"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// numCities is the number of cities the fake holds.
const numCities = 600

// Commune is one city of the fake.
type Commune struct {
	Insee, Name, Postcode, Dep string
	Lat, Lng                   float64
}

// communes is computed once: sorting the 35,000 communes of refdata is the
// costly part of New.
var communes = sync.OnceValue(func() []Commune {
	all := refdata.Communes()
	// Paris, Lyon and Marseille count by arrondissement, each with its own
	// postcode, as cities do in Axelor; the whole city is left out.
	split := map[string]bool{}
	for _, c := range all {
		if c.Parent != "" {
			split[c.Parent] = true
		}
	}
	list := make([]refdata.Commune, 0, len(all))
	for _, c := range all {
		if !split[c.INSEE] {
			list = append(list, c)
		}
	}
	// Most populous first, then by INSEE code, so that the list and so the
	// city ids are the same on every run.
	slices.SortFunc(list, func(a, b refdata.Commune) int {
		return cmp.Or(cmp.Compare(b.Population, a.Population), cmp.Compare(a.INSEE, b.INSEE))
	})
	out := make([]Commune, 0, numCities)
	for _, c := range list[:numCities] {
		name := c.NameWithArticle
		if c.Parent != "" { // an arrondissement is named after its city, "Paris"
			p, _ := refdata.CommuneByINSEE(c.Parent)
			name = p.NameWithArticle
		}
		out = append(out, Commune{Insee: c.INSEE, Name: name, Postcode: c.Postcode, Dep: c.Departement, Lat: c.Lat, Lng: c.Lon})
	}
	return out
})

// Communes returns the communes the fake uses as cities: the numCities most
// populous of internal/refdata (real INSEE codes, postcodes and centroids),
// most populous first.
func Communes() []Commune { return slices.Clone(communes()) }

// Categories are the partner categories of the fake: the codes Axelor
// Open Suite installs (axelor-base demo data, base_partnerCategory.csv),
// then categories a deployment adds for host organisations, with codes
// of its own that no default can know.
var Categories = []struct{ Code, Name string }{
	{"ASSOC", "Association"},
	{"ADMIN", "Administration et collectivité"},
	{"SMB", "TPE"},
	{"SME", "PME"},
	{"KA", "Grand compte"},
	{"MAIRIES", "Mairies et CCAS"},
	{"CH", "Centre hospitalier"},
	{"EHPAD-MR", "EHPAD / maison de retraite"},
	{"ETAB-SCO", "Établissement scolaire"},
	{"IAE", "Structure d'insertion par l'activité économique"},
	{"PROS", "Prospect"},
}

func (s *Server) initReference() {
	d := s.d
	t0 := time.Date(2021, 3, 1, 8, 0, 0, 0, time.UTC)
	c := &country{audit: audit{ID: d.newID(mCountry), CreatedOn: t0}, Name: "France", Alpha2: "FR"}
	d.countries[c.ID] = c
	for _, cat := range Categories {
		k := &category{audit: audit{ID: d.newID(mCategory), CreatedOn: t0}, Code: cat.Code, Name: cat.Name}
		d.categories[k.ID] = k
	}
	for _, cm := range communes() {
		ct := &city{audit: audit{ID: d.newID(mCity), CreatedOn: t0}, Name: cm.Name, Zip: cm.Postcode,
			Insee: cm.Insee, Lat: cm.Lat, Lng: cm.Lng}
		d.cities[ct.ID] = ct
	}
}

var (
	surnames = []string{"Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
		"Moreau", "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
		"Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller",
		"Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier"}
	firstNames = []string{"Camille", "Léa", "Manon", "Chloé", "Inès", "Jade", "Louise", "Nathalie", "Sophie",
		"Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Jules", "Thomas", "Nicolas", "Julien", "Céline"}
	streets = []string{"rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Gambetta",
		"place de l'Hôtel de Ville", "rue Pasteur", "avenue du Général de Gaulle", "rue des Lilas",
		"chemin des Vignes", "rue de la Gare", "allée des Tilleuls", "rue Émile Zola", "quai de la Loire",
		"rue Jules Ferry", "impasse des Acacias", "rue du Moulin", "avenue de la Libération", "rue Nationale",
		"rue de l'Église", "boulevard de la Liberté", "rue Jean Moulin", "place du Marché"}
	assoNames = []string{"Les Restos du Cœur", "Emmaüs", "Secours populaire français", "Les Amis du Parc",
		"Jardins de Cocagne", "La Ressourcerie", "Croix-Rouge française", "Banque alimentaire",
		"Régie de quartier", "Compagnons Bâtisseurs", "Maison des jeunes et de la culture", "Le Relais",
		"Habitat et Humanisme", "Les Petits Frères des Pauvres", "Association sportive", "Amicale laïque"}
	publicNames = []string{"Office national des forêts, agence de %s", "Office public de l'habitat de %s",
		"Lycée professionnel Jean Moulin de %s", "Collège Victor Hugo de %s", "Médiathèque de %s",
		"Voies navigables de France, subdivision de %s", "Muséum d'histoire naturelle de %s"}
	hospNames = []string{"Centre hospitalier de %s", "EHPAD Les Tilleuls de %s", "Clinique Saint-Joseph de %s",
		"Centre de soins de suite de %s"}
	essNames = []string{"Atelier chantier d'insertion %s", "Entreprise d'insertion Tremplin %s",
		"SCOP Les Artisans de %s", "Recyclerie solidaire de %s", "ESAT Les Ateliers de %s"}
	collNames = []string{"Mairie de %s", "Centre communal d'action sociale de %s",
		"Communauté d'agglomération de %s", "Services techniques de la ville de %s"}
)

// siret builds a SIRET whose SIREN (9 digits) and whole number (14
// digits) are both Luhn-valid.
func siret(rng *mrand.Rand) string {
	siren := make([]byte, 0, 8)
	siren = append(siren, byte('1'+rng.IntN(9)))
	for len(siren) < 8 {
		siren = append(siren, byte('0'+rng.IntN(10)))
	}
	nic := make([]byte, 0, 4)
	for len(nic) < 4 {
		nic = append(nic, byte('0'+rng.IntN(10)))
	}
	return atigip.NewSIRET(string(siren), string(nic))
}

// slug turns a name into a lower-case ASCII mail domain label:
// "Saint-Étienne" → "saint-etienne".
func slug(s string) string { return strings.ReplaceAll(refdata.Normalize(s), " ", "-") }

// varyPrecision gives timestamps the precisions a real server shows:
// microseconds, milliseconds, whole seconds and whole minutes.
func varyPrecision(rng *mrand.Rand, t time.Time) time.Time {
	switch rng.IntN(10) {
	case 0:
		return t.Truncate(time.Minute)
	case 1:
		return t.Truncate(time.Second)
	case 2:
		return t.Truncate(time.Millisecond)
	}
	return t.Truncate(time.Microsecond)
}

// Seed adds n generated partners (deterministic for a given seed):
// about 5 % contact persons, 3 % archived, 15 % without coordinates,
// 25 % never updated (updatedOn null), 5 % without SIRET.
func (s *Server) Seed(n int, seed uint64) {
	rng := mrand.New(mrand.NewPCG(seed, seed+1))
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.d
	now := s.now()
	ncity := int(d.nextID[mCity])
	var orgs []int64
	for i := 0; i < n; i++ {
		ct := d.cities[int64(1+rng.IntN(ncity))]
		created := varyPrecision(rng, now.Add(-time.Duration(rng.Int64N(int64(3*365*24*time.Hour)))))
		var updated *time.Time
		version := int64(0)
		if rng.IntN(4) != 0 {
			// A fraction of the span, not Int64N(span): Int64N draws again
			// now and then depending on the span, which depends on the
			// clock, and every later draw would shift.
			u := varyPrecision(rng, created.Add(time.Duration(rng.Float64()*float64(now.Sub(created)))))
			updated = &u
			version = 1 + rng.Int64N(5)
		}
		p := &partner{audit: audit{ID: d.newID(mPartner), Version: version, CreatedOn: created, UpdatedOn: updated},
			PartnerTypeSelect: 1, IsProspect: rng.IntN(3) == 0}
		p.PartnerSeq = fmt.Sprintf("P%05d", p.ID)
		isContact := len(orgs) > 0 && rng.IntN(20) == 0
		if isContact {
			p.IsContact, p.PartnerTypeSelect = true, 2
			p.Name, p.FirstName = surnames[rng.IntN(len(surnames))], firstNames[rng.IntN(len(firstNames))]
			p.MainPartID = orgs[rng.IntN(len(orgs))]
			p.MobilePhone = fmt.Sprintf("06 %02d %02d %02d %02d", rng.IntN(100), rng.IntN(100), rng.IntN(100), rng.IntN(100))
		} else {
			cat := 1 + rng.IntN(len(Categories))
			p.CategoryID = int64(cat)
			p.Name = orgName(rng, Categories[cat-1].Code, ct.Name)
			if rng.IntN(20) != 0 {
				p.RegistrationCode = siret(rng)
				p.Siren, p.Nic = p.RegistrationCode[:9], p.RegistrationCode[9:]
			}
			p.FixedPhone = fmt.Sprintf("0%d %02d %02d %02d %02d", 1+rng.IntN(5), rng.IntN(100), rng.IntN(100), rng.IntN(100), rng.IntN(100))
			orgs = append(orgs, p.ID)
		}
		if rng.IntN(5) != 0 {
			e := &email{audit: audit{ID: d.newID(mEmail), CreatedOn: created},
				Address: fmt.Sprintf("contact.%d@%s.fr", p.ID, slug(ct.Name)), PartnerID: p.ID}
			d.emails[e.ID] = e
			p.EmailID = e.ID
		}
		if rng.IntN(10) == 0 {
			attrs := `{"suiviReferent":"premier contact"}`
			p.PartnerAttrs = &attrs
		}
		if rng.IntN(33) == 0 {
			t := true
			p.Archived = &t
		}
		a := &address{audit: audit{ID: d.newID(mAddress), CreatedOn: created},
			L4: fmt.Sprintf("%d %s", 1+rng.IntN(180), streets[rng.IntN(len(streets))]),
			L6: ct.Zip + " " + strings.ToUpper(ct.Name), Zip: ct.Zip, Insee: ct.Insee, CityID: ct.ID, CountryID: 1}
		if rng.IntN(7) != 0 {
			la, _ := scaleDecimal(strconv.FormatFloat(ct.Lat+(rng.Float64()-0.5)*0.02, 'f', 6, 64))
			lo, _ := scaleDecimal(strconv.FormatFloat(ct.Lng+(rng.Float64()-0.5)*0.02, 'f', 6, 64))
			a.Latit, a.Longit = &la, &lo
		}
		a.FullName = addressFullName(a)
		d.addresses[a.ID] = a
		p.Addresses = []partnerAddress{{ID: d.newID(mPAddress), Default: true, Invoicing: true, Delivery: true, AddressID: a.ID}}
		p.MainAddressID = a.ID
		d.partners[p.ID] = p
		d.order = append(d.order, p.ID)
	}
}

func orgName(rng *mrand.Rand, code, cityName string) string {
	pick := func(l []string) string { return l[rng.IntN(len(l))] }
	switch code {
	case "ASSOC":
		return pick(assoNames) + " – " + cityName
	case "MAIRIES":
		return fmt.Sprintf(pick(collNames), cityName)
	case "ADMIN", "ETAB-SCO":
		return fmt.Sprintf(pick(publicNames), cityName)
	case "CH", "EHPAD-MR":
		return fmt.Sprintf(pick(hospNames), cityName)
	case "IAE":
		return fmt.Sprintf(pick(essNames), cityName)
	case "SMB", "SME", "KA":
		s := pick(surnames)
		return pick([]string{"SARL " + s + " Espaces verts", "SAS " + s + " Bâtiment", s + " et Fils", "Boulangerie " + s}) + " (" + cityName + ")"
	}
	return "Prospect " + pick(surnames) + " – " + cityName
}
