package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// Random streams, one per step.
const (
	stepPrisons uint64 = iota + 1
	stepOrganisations
	stepPosts
	stepFloorSpaces
	stepOffers
	stepPeople
	stepMeasures
	stepApplications
)

// prisonType maps the type codes of the A44 list to the domain's.
func prisonType(code string) atigip.PrisonType {
	t := atigip.PrisonType(code)
	if code == "EPSN" {
		t = "EPSNF"
	}
	if _, ok := atigip.PrisonTypes[t]; !ok {
		t = "CP"
	}
	return t
}

// capacity draws an operational capacity typical of the type (places,
// Ministère de la Justice statistics: a maison d'arrêt holds 50 to 900,
// most 100 to 400).
func capacity(r *rand.Rand, t atigip.PrisonType) int {
	switch t {
	case "MA":
		return 10 * between(r, 6, 22+r.IntN(50))
	case "CP":
		return 10 * between(r, 30, 90)
	case "CD":
		return 10 * between(r, 15, 70)
	case "MC":
		return 10 * between(r, 10, 35)
	case "CSL":
		return between(r, 20, 100)
	case "EPSNF":
		return 80
	}
	return 10 * between(r, 10, 60)
}

func (g *gen) prisons() {
	r := g.rng(stepPrisons)
	all := refdata.Prisons()
	for _, p := range all {
		if _, ok := g.spip[p.Departement]; !ok {
			g.spip[p.Departement] = p.SPIP
		}
	}
	keep := all
	if g.opts.Scale < 0.01 {
		// Below 1 %, keep a proportional, evenly spread subset.
		n := max(1, int(math.Round(float64(len(all))*g.opts.Scale*100)))
		keep = nil
		for i := 0; i < n; i++ {
			keep = append(keep, all[i*len(all)/n])
		}
	}
	for _, p := range keep {
		c, ok := refdata.CommuneByINSEE(p.CommuneINSEE)
		addr := atigip.Address{City: p.CommuneName, Commune: p.CommuneINSEE, Departement: p.Departement}
		if ok {
			addr.Postcode, addr.Region = c.Postcode, c.Region
		}
		t := prisonType(p.TypeCode)
		disp := p.DISP
		if d, ok := refdata.DISPByCode(p.DISP); ok {
			disp = d.Name
		}
		spip := p.SPIP
		if p.Antenne != "" {
			spip += " – " + p.Antenne
		}
		domain := "implantation." + slugify(p.CommuneName) + ".justice"
		ct := contact(r, "Service de l'emploi pénitentiaire", domain, p.Departement)
		ct.Role = "Référent travail et implantation d'activités (contact entreprises)"
		ct.Name = "Service de l'emploi pénitentiaire – " + ct.Name
		// What the public sees: the service, never the person.
		svc := atigip.Contact{Name: "Service de l'emploi pénitentiaire – " + p.Name,
			Role:  "Travail et implantation d'activités (contact entreprises)",
			Email: "emploi-penitentiaire@" + domain + ".test", Phone: switchboard(p.Departement, len(g.d.Prisons))}
		g.d.Prisons = append(g.d.Prisons, &atigip.Prison{
			Name: p.Name, Type: t, DISP: disp, SPIP: spip, Address: addr,
			Location: atigip.Point{Lon: p.Lon, Lat: p.Lat}, LocationPrecision: "commune_centroid",
			Capacity: capacity(r, t), Contact: &ct, ServiceContact: &svc,
		})
	}
}

// prisonWeights weighs prisons for floor spaces and offers: bigger
// establishments for sentenced people have more workshops.
func (g *gen) prisonWeights(byCapacity bool) []float64 {
	w := make([]float64, len(g.d.Prisons))
	for i, p := range g.d.Prisons {
		f := 1.0
		switch p.Type {
		case "CD", "CP":
			f = 1.5
		case "MC":
			f = 1.2
		case "CSL":
			f = 0.1
		case "EPSNF":
			f = 0.3
		}
		if byCapacity {
			f *= float64(p.Capacity)
		}
		w[i] = f
	}
	return w
}

var floorNames = map[atigip.FloorUse][]string{
	atigip.UseProduction: {"Atelier de production", "Atelier concession", "Atelier polyvalent", "Atelier de conditionnement"},
	atigip.UseStorage:    {"Zone de stockage", "Entrepôt", "Magasin général", "Quai et réserve"},
	atigip.UseOffice:     {"Bureaux", "Bureaux administratifs", "Salle de formation et bureaux"},
}

func (g *gen) floorSpaces() {
	r := g.rng(stepFloorSpaces)
	n := g.opts.scaled(nFloorSpaces)
	w := g.prisonWeights(false)
	perPrison := map[int]int{}
	for i := 0; i < n; i++ {
		pi := weighted(r, w)
		perPrison[pi]++
		p := g.d.Prisons[pi]
		use := []atigip.FloorUse{atigip.UseProduction, atigip.UseStorage, atigip.UseOffice}[weighted(r, []float64{6, 3, 1})]
		var area float64
		switch use {
		case atigip.UseProduction:
			area = 300 + r.Float64()*2700
		case atigip.UseStorage:
			area = 150 + r.Float64()*1850
		default:
			area = 100 + r.Float64()*400
		}
		// A rectangle of that area, aspect 1:1 to 1:3, turned at random, a
		// few hundred metres from the commune centre that stands for the
		// prison.
		aspect := 1 + 2*r.Float64()
		wM := math.Sqrt(area / aspect)
		hM := wM * aspect
		c := offset(p.Location, 150+r.Float64()*650, r.Float64()*2*math.Pi)
		rot := r.Float64() * math.Pi
		ring := atigip.Ring{}
		for _, k := range [][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}, {-1, -1}} {
			x, y := k[0]*wM/2, k[1]*hM/2
			dx, dy := x*math.Cos(rot)-y*math.Sin(rot), x*math.Sin(rot)+y*math.Cos(rot)
			ring = append(ring, offset(c, math.Hypot(dx, dy), math.Atan2(dx, dy)))
		}
		poly := atigip.Polygon{ring}
		status := []atigip.FloorStatus{atigip.FloorAvailable, atigip.FloorReserved, atigip.FloorOccupied}[weighted(r, []float64{45, 15, 40})]
		fs := &atigip.FloorSpace{
			PrisonID: int64(pi + 1),
			Name:     fmt.Sprintf("%s %c", pickStr(r, floorNames[use]), 'A'+rune(perPrison[pi]-1)%26),
			Geometry: poly,
			AreaM2:   math.Round(geo.Area(toOrb(poly))*10) / 10,
			Use:      use, Status: status,
			Departement: p.Address.Departement, Commune: p.Address.Commune,
		}
		switch use {
		case atigip.UseProduction:
			fs.CeilingHeightM = float64(between(r, 8, 18)) / 2
			fs.LoadingDock = chance(r, 0.6)
			fs.PowerKVA = float64(between(r, 36, 400))
		case atigip.UseStorage:
			fs.CeilingHeightM = float64(between(r, 10, 24)) / 2
			fs.LoadingDock = chance(r, 0.8)
			fs.PowerKVA = float64(between(r, 12, 60))
		default:
			fs.CeilingHeightM = float64(between(r, 25, 32)) / 10
			fs.PowerKVA = float64(between(r, 9, 36))
		}
		switch status {
		case atigip.FloorAvailable:
			fs.AvailableFrom = ptr(g.now.AddDate(0, 0, -between(r, 0, 400)))
		case atigip.FloorReserved:
			fs.AvailableFrom = ptr(g.now.AddDate(0, 0, between(r, 30, 365)))
		}
		dock := "sans quai de chargement"
		if fs.LoadingDock {
			dock = "avec quai de chargement"
		}
		fs.Description = fmt.Sprintf("%s de %.0f m² (établissement : %s), hauteur sous plafond %.1f m, %s, puissance électrique %.0f kVA. "+
			"Contour indicatif : la position de l'établissement est le centre de sa commune, pas l'emprise réelle du bâtiment.",
			atigip.FloorUses[use], fs.AreaM2, p.Name, fs.CeilingHeightM, dock, fs.PowerKVA)
		g.d.FloorSpaces = append(g.d.FloorSpaces, fs)
	}
}

func toOrb(p atigip.Polygon) orb.Polygon {
	out := make(orb.Polygon, len(p))
	for i, ring := range p {
		for _, pt := range ring {
			out[i] = append(out[i], orb.Point{pt.Lon, pt.Lat})
		}
	}
	return out
}

// weekSchedule builds slots on the given days with the given daily ranges.
func weekSchedule(days []int, ranges ...[2]string) atigip.Schedule {
	var s atigip.Schedule
	for _, d := range days {
		for _, rg := range ranges {
			s.Slots = append(s.Slots, atigip.Slot{Day: d, Start: rg[0], End: rg[1]})
		}
	}
	return s
}

var (
	monFri = []int{1, 2, 3, 4, 5}
	monThu = []int{1, 2, 3, 4}
)

// prisonWorkSchedules respect prison work limits: 10 to 48 h a week, at
// most 10 h a day.
var prisonWorkSchedules = []atigip.Schedule{
	weekSchedule(monFri, [2]string{"07:30", "11:30"}, [2]string{"13:00", "16:00"}), // 35 h
	weekSchedule(monFri, [2]string{"07:30", "11:30"}),                              // 20 h
	weekSchedule(monFri, [2]string{"13:30", "17:00"}),                              // 17.5 h
	weekSchedule(monThu, [2]string{"07:30", "12:00"}, [2]string{"13:00", "16:30"}), // 32 h
	weekSchedule([]int{1, 2, 3, 4, 5, 6}, [2]string{"06:30", "13:30"}),             // 42 h, kitchens
	weekSchedule([]int{1, 3, 5}, [2]string{"08:00", "12:00"}),                      // 12 h
}

var trainingSchedules = []atigip.Schedule{
	weekSchedule(monFri, [2]string{"08:30", "12:00"}, [2]string{"13:30", "16:30"}), // 32.5 h
	weekSchedule(monThu, [2]string{"08:30", "12:00"}),                              // 14 h
	weekSchedule(monFri, [2]string{"08:30", "12:00"}),                              // 17.5 h
}

var releaseSchedules = []atigip.Schedule{
	weekSchedule(monFri, [2]string{"08:00", "12:00"}, [2]string{"13:00", "16:00"}), // 35 h
	weekSchedule(monThu, [2]string{"08:00", "14:00"}),                              // 24 h
	weekSchedule(monFri, [2]string{"06:00", "13:00"}),                              // 35 h, early shift
}

var concessionNames = []string{"Conditionnement", "Sous-traitance industrielle", "Emballages", "Assemblage", "Routage", "Logistique"}
var companySuffix = []string{"SAS", "SARL", "SA", "SCOP"}

func (g *gen) offers() {
	r := g.rng(stepOffers)
	wCap := g.prisonWeights(true)
	add := func(o *atigip.Offer, pi int, r *rand.Rand) {
		p := g.d.Prisons[pi]
		o.PrisonID = int64(pi + 1)
		if o.Address.Commune == "" {
			o.Address = p.Address
			o.Location = p.Location
		}
		o.HoursPerWeek = o.Schedule.HoursPerWeek()
		o.Status = []atigip.OfferStatus{atigip.OfferOpen, atigip.OfferFilled, atigip.OfferClosed}[weighted(r, []float64{60, 30, 10})]
		switch o.Status {
		case atigip.OfferFilled:
			o.PlacesTaken = o.Places
		case atigip.OfferOpen:
			o.PlacesTaken = r.IntN(o.Places)
		default:
			o.PlacesTaken = 0
		}
		g.d.Offers = append(g.d.Offers, o)
	}
	for i, n := 0, g.opts.scaled(nWorkOffers); i < n; i++ {
		pi := weighted(r, wCap)
		p := g.d.Prisons[pi]
		ek := []atigip.EmployerKind{atigip.EmployerPublic, atigip.EmployerConcession, atigip.EmployerSEP}[weighted(r, []float64{45, 40, 15})]
		code := pickStr(r, prisonWorkJobs[ek])
		o := &atigip.Offer{OfferKind: atigip.OfferWork, Title: g.titles.pick(r, code), ROMECodes: []string{code},
			Skills: skillsOf(r, code, 3), EmployerKind: ek, Schedule: prisonWorkSchedules[r.IntN(len(prisonWorkSchedules))]}
		switch ek {
		case atigip.EmployerPublic:
			o.Places = between(r, 1, 6)
			o.EmployerName = "Service général – " + p.Name
			o.Description = "Poste au service général de l'établissement (" + strings.ToLower(atigip.EmployerKinds[ek]) + "). Classement par la commission pluridisciplinaire unique (CPU) requis."
		case atigip.EmployerConcession:
			o.Places = between(r, 4, 30)
			o.EmployerName = fmt.Sprintf("%s %s %s", pickStr(r, concessionNames), cityName(mustCommune(p.Address.Commune)), pickStr(r, companySuffix))
			o.Description = "Travail en atelier pour une entreprise concessionnaire : rémunération à l'heure, contrat d'emploi pénitentiaire (CEP)."
		default:
			o.Places = between(r, 3, 15)
			o.EmployerName = "Service de l'emploi pénitentiaire (SEP-RIEP)"
			o.Description = "Atelier de la régie industrielle des établissements pénitentiaires : production pour les administrations, contrat d'emploi pénitentiaire (CEP)."
		}
		if o.Schedule.HoursPerWeek() > 35 {
			o.Description += " Temps plein avec heures supplémentaires possibles, dans la limite de 48 heures par semaine."
		}
		add(o, pi, r)
	}
	for i, n := 0, g.opts.scaled(nTrainings); i < n; i++ {
		pi := weighted(r, wCap)
		p := g.d.Prisons[pi]
		code := pickStr(r, trainingJobs)
		title := g.titles.pick(r, code)
		region := ""
		if rg, ok := refdata.RegionByCode(p.Address.Region); ok {
			region = " " + rg.Name
		}
		o := &atigip.Offer{OfferKind: atigip.OfferTraining, Title: "Formation qualifiante – " + title, ROMECodes: []string{code},
			Skills: skillsOf(r, code, 4), EmployerKind: atigip.EmployerPublic, Places: between(r, 6, 14),
			EmployerName: "Organisme de formation mandaté par la Région" + region,
			Schedule:     trainingSchedules[r.IntN(len(trainingSchedules))]}
		o.Description = fmt.Sprintf("Formation professionnelle en détention de %d semaines préparant au métier de %s, avec une période de mise en situation en atelier. Rémunération de stagiaire de la formation professionnelle.",
			between(r, 8, 30), strings.ToLower(title))
		add(o, pi, r)
	}
	for i, n := 0, g.opts.scaled(nReleaseJobs); i < n; i++ {
		pi := weighted(r, wCap)
		p := g.d.Prisons[pi]
		c := g.places.pickInDep(r, p.Address.Departement)
		code := pickStr(r, releaseJobs)
		ek := atigip.EmployerConcession
		name := fmt.Sprintf("%s %s %s", pickStr(r, []string{"Propreté", "Transports", "Services", "Bâtiment", "Restauration", "Logistique", "Espaces verts"}), cityName(c), pickStr(r, companySuffix))
		if chance(r, 0.2) {
			ek = atigip.EmployerPublic
			name = townHall(c)
		}
		o := &atigip.Offer{OfferKind: atigip.OfferRelease, Title: g.titles.pick(r, code), ROMECodes: []string{code},
			Skills: skillsOf(r, code, 4), EmployerKind: ek, EmployerName: name, Places: between(r, 1, 3),
			Address: addressIn(c, street(r)), Location: jitter(r, centre(c), jitterRadiusKm(c)),
			Schedule: releaseSchedules[r.IntN(len(releaseSchedules))]}
		o.Description = fmt.Sprintf("Emploi à la sortie à %s (%s), %s. Employeur engagé dans l'insertion des personnes sortant de détention de %s.",
			cityName(c), c.Postcode, pickStr(r, []string{"contrat à durée déterminée de 6 mois renouvelable", "contrat à durée indéterminée", "contrat à durée déterminée d'insertion (CDDI)", "mission d'intérim de 3 mois"}), p.Name)
		add(o, pi, r)
	}
}

func mustCommune(insee string) refdata.Commune {
	c, _ := refdata.CommuneByINSEE(insee)
	if c.INSEE == "" {
		c.NameWithArticle = insee
	}
	return c
}
