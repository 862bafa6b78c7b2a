package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// Diplomas: 60 % of people under judicial supervision have none.
var (
	capDiplomas = []string{"CAP Cuisine", "CAP Maçon", "CAP Peintre applicateur de revêtements", "CAP Jardinier paysagiste",
		"CAP Opérateur/opératrice logistique", "CAP Électricien", "CAP Carreleur mosaïste", "CAP Équipier polyvalent du commerce",
		"CAP Agent de propreté et d'hygiène", "CAP Menuisier fabricant", "CAP Production et service en restaurations", "CAP Maintenance des véhicules"}
	bepDiplomas = []string{"BEP Métiers de la restauration et de l'hôtellerie", "BEP Métiers de l'électrotechnique", "BEP Logistique et transport",
		"BEP Métiers du bâtiment", "BEP Vente action marchande"}
	bacProDiplomas = []string{"Bac pro Commerce", "Bac pro Logistique", "Bac pro Aménagements paysagers", "Bac pro Maintenance des équipements industriels",
		"Bac pro Technicien du bâtiment", "Bac pro Accompagnement, soins et services à la personne"}
	otherDiplomas = []string{"Baccalauréat général", "BTS Management commercial opérationnel", "Titre professionnel Agent de propreté et d'hygiène",
		"CACES R489 (chariots élévateurs)", "Permis B"}
)

var wishes = []string{
	"Souhaite travailler en extérieur.",
	"Préfère un poste proche du domicile, accessible à pied ou en bus.",
	"Souhaite découvrir le métier de %s.",
	"Aimerait se former au métier de %s.",
	"Préfère les horaires du matin.",
	"Souhaite un poste au contact du public.",
	"Souhaite un travail manuel, en équipe.",
	"Recherche une expérience utile pour un futur emploi dans le domaine de %s.",
}

var suspensionReasons = []string{"Incarcération", "Raison médicale", "Hospitalisation", "Contraintes professionnelles temporaires", "Déménagement en cours"}

// caseNumber spreads index i over 7 digits without collision: 7919 is
// prime to 10^7, so i → i×7919 + off (mod 10^7) is one-to-one.
func caseNumber(i int, off uint64) int {
	return int((uint64(i)*7919 + off) % 10_000_000)
}

// seedOffset spreads seeds over the case number space (splitmix64), so
// that two seeds give disjoint references but for a small chance
// (2 × count / 10^7).
func seedOffset(seed, salt uint64) uint64 {
	z := seed + salt*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return (z ^ (z >> 31)) % 10_000_000
}

func (g *gen) people() {
	r := g.rng(stepPeople)
	off := seedOffset(g.opts.Seed, 1)
	nc, nd := g.opts.scaled(nCommunity), g.opts.scaled(nDetainees)
	// Detainees go mostly to prisons with offers, so that they can apply.
	withOffers := make([]float64, len(g.d.Prisons))
	for _, o := range g.d.Offers {
		if o.OfferKind != atigip.OfferRelease {
			withOffers[o.PrisonID-1] = float64(g.d.Prisons[o.PrisonID-1].Capacity)
		}
	}
	anyPrison := g.prisonWeights(true)
	for i := 0; i < nc+nd; i++ {
		detained := i >= nc
		p := &atigip.Person{Pseudonym: fmt.Sprintf("P-%07d", i+1), Detained: detained}
		var c refdata.Commune
		if detained {
			w := withOffers
			if !chance(r, 0.8) || allZero(w) {
				w = anyPrison
			}
			pi := weighted(r, w)
			p.PrisonID = int64(pi + 1)
			p.CaseSystem = "GENESIS"
			p.CaseRef = fmt.Sprintf("GEN-%07d", caseNumber(i, off))
			c = g.places.pickInDep(r, g.d.Prisons[pi].Address.Departement)
		} else {
			p.CaseSystem = "APPI"
			p.CaseRef = fmt.Sprintf("DOS-%07d", caseNumber(i, off))
			c = g.places.pick(r)
			p.Minor = chance(r, 0.05)
		}
		p.Home = jitter(r, centre(c), jitterRadiusKm(c))
		p.HomeAddress = atigip.Address{Postcode: c.Postcode, City: cityName(c), Commune: c.INSEE, Departement: c.Departement, Region: c.Region}
		var ageDays int
		if p.Minor {
			ageDays = between(r, 16*365+20, 17*365+200)
		} else {
			ageDays = int((18.5 + math.Min(50, r.ExpFloat64()*12)) * 365.25)
		}
		p.BirthDate = atigip.DateOf(g.now.AddDate(0, 0, -ageDays))
		g.mobility(r, p, c)
		g.profile(r, p)
		g.availability(r, p)
		if detained && chance(r, 0.55) {
			p.WorkCleared = true
			p.WorkClearedAt = ptr(g.daysAgo(r, between(r, 5, 700)))
		}
		g.d.People = append(g.d.People, p)
	}
}

func allZero(w []float64) bool {
	for _, x := range w {
		if x != 0 {
			return false
		}
	}
	return true
}

func (g *gen) mobility(r *rand.Rand, p *atigip.Person, c refdata.Commune) {
	ts := []atigip.Transport{atigip.TransportPublic, atigip.TransportCar, atigip.TransportBike, atigip.TransportWalk}
	w := []float64{40, 30, 15, 15}
	if c.Population < 5000 {
		w = []float64{15, 60, 15, 10}
	}
	if p.Minor {
		w[1] = 0
	}
	p.Mobility.Transport = ts[weighted(r, w)]
	switch p.Mobility.Transport {
	case atigip.TransportCar:
		p.Mobility.RadiusKm = float64(between(r, 10, 50))
	case atigip.TransportPublic:
		p.Mobility.RadiusKm = float64(between(r, 5, 25))
	case atigip.TransportBike:
		p.Mobility.RadiusKm = float64(between(r, 3, 12))
	default:
		p.Mobility.RadiusKm = float64(between(r, 1, 4))
	}
}

// profile draws jobs held, their ROME skills, diplomas, experience and
// wishes, and medical facts for a few.
func (g *gen) profile(r *rand.Rand, p *atigip.Person) {
	nJobs := weighted(r, []float64{20, 50, 30})
	if p.Minor {
		nJobs = weighted(r, []float64{60, 40})
	}
	seen := map[string]bool{}
	var exp []string
	for len(p.ROMECodes) < nJobs {
		code := pickStr(r, experienceJobs)
		if seen[code] {
			continue
		}
		seen[code] = true
		p.ROMECodes = append(p.ROMECodes, code)
		p.Skills = append(p.Skills, skillsOf(r, code, between(r, 2, 4))...)
		years := []string{"quelques mois", "1 an", "2 ans", "3 ans", "5 ans", "plus de 5 ans"}[r.IntN(6)]
		ctx := pickStr(r, []string{"en intérim", "en CDD", "en CDI", "en chantier d'insertion", "en travail saisonnier", "sans contrat déclaré"})
		exp = append(exp, fmt.Sprintf("%s (%s, %s)", g.titles.pick(r, code), years, ctx))
	}
	sort.Strings(p.ROMECodes)
	p.Skills = dedupSorted(p.Skills)
	switch {
	case len(exp) == 0 && p.Minor:
		p.Experience = "Scolarité interrompue, aucune expérience professionnelle."
	case len(exp) == 0:
		p.Experience = "Aucune expérience professionnelle déclarée."
	default:
		p.Experience = "Expérience : " + strings.Join(exp, " ; ") + "."
	}
	switch weighted(r, []float64{60, 20, 8, 8, 4}) {
	case 1:
		p.Diplomas = []string{pickStr(r, capDiplomas)}
	case 2:
		p.Diplomas = []string{pickStr(r, bepDiplomas)}
	case 3:
		p.Diplomas = []string{pickStr(r, bacProDiplomas)}
	case 4:
		p.Diplomas = []string{pickStr(r, otherDiplomas)}
	}
	if !p.Minor && chance(r, 0.25) {
		p.Diplomas = append(p.Diplomas, "Permis B")
		p.Diplomas = dedupSorted(p.Diplomas)
	}
	w := pickStr(r, wishes)
	if strings.Contains(w, "%s") {
		code := pickStr(r, releaseJobs)
		label := strings.ToLower(g.titles.pick(r, code))
		w = fmt.Sprintf(w, label)
	}
	p.Wishes = w
	if chance(r, 0.08) {
		switch r.IntN(4) {
		case 0:
			p.Medical.Disability = true
		case 1:
			p.Medical.Pregnancy = !p.Detained
			p.Medical.NoRiskyWork = true
		case 2:
			p.Medical.NoNightWork = true
		default:
			p.Medical.NoRiskyWork = true
		}
		if chance(r, 0.5) {
			p.Medical.CheckDone = true
			p.Medical.CheckDoneAt = atigip.DateOf(g.daysAgo(r, between(r, 5, 300)))
		}
	}
}

func dedupSorted(xs []string) []string {
	sort.Strings(xs)
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// availability: detainees are available on weekdays; people with a job
// (declared hours) on afternoons and Saturdays; others on most weekdays.
func (g *gen) availability(r *rand.Rand, p *atigip.Person) {
	if p.Detained {
		p.Availability = weekSchedule(monFri, [2]string{"08:00", "12:00"}, [2]string{"13:30", "17:00"})
		return
	}
	if !p.Minor && chance(r, 0.2) {
		p.JobHoursPerWeek = float64(between(r, 15, 35))
		days := []int{1 + r.IntN(5)}
		if d := 1 + r.IntN(5); d != days[0] {
			days = append(days, d)
		}
		sort.Ints(days)
		p.Availability = weekSchedule(days, [2]string{"13:30", "17:30"})
		p.Availability.Slots = append(p.Availability.Slots, atigip.Slot{Day: 6, Start: "08:00", End: "13:00"})
		return
	}
	days := []int{}
	for d := 1; d <= 5; d++ {
		if chance(r, 0.8) {
			days = append(days, d)
		}
	}
	if len(days) == 0 {
		days = []int{1 + r.IntN(5)}
	}
	if chance(r, 0.3) {
		p.Availability = weekSchedule(days, [2]string{"08:00", "12:30"})
	} else {
		p.Availability = weekSchedule(days, [2]string{"08:00", "12:30"}, [2]string{"13:30", "18:00"})
	}
	if chance(r, 0.15) {
		p.Availability.Slots = append(p.Availability.Slots, atigip.Slot{Day: 6, Start: "08:00", End: "13:00"})
	}
}

// postIndex finds posts near a point on a 0.1° grid.
type postIndex struct {
	cells map[[2]int][]int
}

func cellOf(p atigip.Point) [2]int {
	return [2]int{int(math.Floor(p.Lon * 10)), int(math.Floor(p.Lat * 10))}
}

func newPostIndex(posts []*atigip.Post) *postIndex {
	ix := &postIndex{cells: map[[2]int][]int{}}
	for i, p := range posts {
		c := cellOf(p.Location)
		ix.cells[c] = append(ix.cells[c], i)
	}
	return ix
}

type cand struct {
	i int
	d float64
}

// closer orders candidates by distance, then index for stable output.
func closer(a, b cand) bool { return a.d < b.d || (a.d == b.d && a.i < b.i) }

// nearest returns up to k eligible posts closest to at within maxKm,
// nearest first.
func (ix *postIndex) nearest(posts []*atigip.Post, at atigip.Point, maxKm float64, k int, ok func(int) bool) []int {
	cs := make([]cand, 0, k)
	c0 := cellOf(at)
	// An equirectangular distance is exact enough at these ranges and
	// much cheaper than the haversine for thousands of candidates.
	const kmPerDeg = 111.32
	cosLat := math.Cos(at.Lat * math.Pi / 180)
	// A cell is at least 0.1° of latitude (11 km) by 0.1° of longitude
	// (7 km at 50° N): rings to maxKm/7 cover the radius.
	rings := int(math.Ceil(maxKm/7)) + 1
	for ring := 0; ring <= rings; ring++ {
		for dx := -ring; dx <= ring; dx++ {
			for dy := -ring; dy <= ring; dy++ {
				if max(abs(dx), abs(dy)) != ring {
					continue
				}
				for _, i := range ix.cells[[2]int{c0[0] + dx, c0[1] + dy}] {
					if !ok(i) {
						continue
					}
					q := posts[i].Location
					d := kmPerDeg * math.Hypot((q.Lon-at.Lon)*cosLat, q.Lat-at.Lat)
					if d > maxKm || (len(cs) == k && !closer(cand{i, d}, cs[k-1])) {
						continue
					}
					// Keep the k nearest, sorted: dense cities hold
					// thousands of posts, of which only a handful matter.
					if len(cs) < k {
						cs = append(cs, cand{i, d})
					} else {
						cs[k-1] = cand{i, d}
					}
					for j := len(cs) - 1; j > 0 && closer(cs[j], cs[j-1]); j-- {
						cs[j], cs[j-1] = cs[j-1], cs[j]
					}
				}
			}
		}
		// One more ring after reaching k may still hold closer posts.
		if len(cs) >= k && ring >= 1 {
			break
		}
	}
	out := make([]int, len(cs))
	for i, c := range cs {
		out[i] = c.i
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

var measureStateWeights = []struct {
	state  atigip.MeasureState
	weight float64
	// sentence between minDays and maxDays ago
	minDays, maxDays int
}{
	{atigip.MeasureToPlace, 18, 5, 420},
	{atigip.MeasureProposed, 8, 20, 360},
	{atigip.MeasureAssigned, 10, 30, 400},
	{atigip.MeasureInProgress, 25, 60, 500},
	{atigip.MeasureSuspended, 6, 90, 520},
	{atigip.MeasureCompleted, 25, 150, 1095},
	{atigip.MeasureClosedFailed, 8, 200, 1095},
}

var hourChoices = []int{20, 35, 40, 50, 60, 70, 70, 80, 90, 100, 105, 105, 120, 140, 140, 150, 175, 180, 200, 210, 240, 280, 300, 350, 400}

func (g *gen) measures() {
	r := g.rng(stepMeasures)
	posts := g.d.Posts
	ix := newPostIndex(posts)
	active := make([]int, len(posts)) // assigned or in progress measures per post
	w := make([]float64, len(measureStateWeights))
	for i, s := range measureStateWeights {
		w[i] = s.weight
	}
	off := seedOffset(g.opts.Seed, 2)
	for pi, p := range g.d.People {
		if p.Detained {
			continue
		}
		sw := measureStateWeights[weighted(r, w)]
		m := &atigip.Measure{
			PersonID: int64(pi + 1), State: sw.state, Minor: p.Minor,
			HoursOrdered: hourChoices[r.IntN(len(hourChoices))],
			Departement:  p.HomeAddress.Departement, Court: court(p.HomeAddress.Departement),
		}
		if p.Minor {
			m.HoursOrdered = min(m.HoursOrdered, 140)
		}
		sentencedAgo := between(r, sw.minDays, sw.maxDays)
		m.SentenceDate = atigip.DateOf(g.now.AddDate(0, 0, -sentencedAgo))
		m.CaseRef = fmt.Sprintf("TIG-%d-%07d", m.SentenceDate.Year(), caseNumber(len(g.d.Measures), off))
		needsPlace := sw.state == atigip.MeasureAssigned || sw.state == atigip.MeasureInProgress || sw.state == atigip.MeasureProposed
		needsPost := sw.state != atigip.MeasureToPlace && !(sw.state == atigip.MeasureClosedFailed && chance(r, 0.5))
		post := -1
		if needsPost {
			eligible := func(i int) bool {
				q := posts[i]
				if q.Status == atigip.PostDraft || q.Status == atigip.PostRegistered {
					return false
				}
				if needsPlace && (q.Status != atigip.PostOpen || active[i] >= q.Places) {
					return false
				}
				if p.Minor && !q.MinorsAccepted {
					return false
				}
				if (p.Medical.NoRiskyWork || p.Medical.Pregnancy) && q.Risky {
					return false
				}
				return true
			}
			radius := max(5, p.Mobility.RadiusKm)
			cands := ix.nearest(posts, p.Home, radius, 5, eligible)
			if len(cands) == 0 {
				cands = ix.nearest(posts, p.Home, 80, 5, eligible)
			}
			if len(cands) == 0 {
				// No post fits near home: the measure waits to be placed.
				m.State = atigip.MeasureToPlace
			} else {
				post = cands[r.IntN(len(cands))]
				m.PostID = int64(post + 1)
				if sw.state == atigip.MeasureAssigned || sw.state == atigip.MeasureInProgress {
					active[post]++
				}
			}
		}
		g.execution(r, m, sentencedAgo)
		g.d.Measures = append(g.d.Measures, m)
	}
	// Places taken are exactly the measures assigned or in progress; an
	// open post with every place taken is full.
	for i, q := range posts {
		q.PlacesTaken = active[i]
		if q.Status == atigip.PostOpen && q.PlacesTaken >= q.Places {
			q.Status = atigip.PostFull
		}
	}
}

// court names the tribunal judiciaire at the prefecture of the département.
func court(dep string) string {
	d, ok := refdata.DepartementByCode(dep)
	if !ok {
		return ""
	}
	if c, ok := refdata.CommuneByINSEE(d.ChefLieu); ok {
		return "Tribunal judiciaire " + deName(cityName(c))
	}
	return ""
}

// execution fills hours, dates, suspensions and history consistently with
// the measure's state.
func (g *gen) execution(r *rand.Rand, m *atigip.Measure, sentencedAgo int) {
	dep := m.Departement
	cpip := fmt.Sprintf("cpip.%s.%03d", strings.ToLower(dep), 1+r.IntN(40))
	if m.Minor {
		cpip = fmt.Sprintf("pjj.%s.%03d", strings.ToLower(dep), 1+r.IntN(15))
	}
	role := atigip.RoleCPIP
	if m.Minor {
		role = atigip.RolePJJ
	}
	tutor := fmt.Sprintf("tuteur.%s.%04d", strings.ToLower(dep), 1+r.IntN(2000))
	at := func(daysAgo int) time.Time { return g.daysAgo(r, daysAgo) }
	ev := func(daysAgo int, by string, role atigip.Role, from, to atigip.MeasureState, note string, post int64) {
		m.History = append(m.History, atigip.MeasureEvent{At: at(daysAgo), By: by, Role: role, From: from, To: to, Note: note, PostID: post})
	}
	t := sentencedAgo - between(r, 2, 4) // FFE11 reaches the SPIP a few days after the sentence
	t = max(t, 1)
	ev(t, "appi", atigip.RoleCaseSystem, "", atigip.MeasureToPlace, "FFE11 : mesure à placer reçue d'APPI", 0)
	if m.State == atigip.MeasureToPlace {
		return
	}
	if m.State == atigip.MeasureClosedFailed && m.PostID == 0 {
		// Never placed: closed when the 18-month delay ran out, or on a refusal.
		note := "Délai d'exécution de 18 mois expiré"
		if sentencedAgo < 560 {
			note = "Refus d'exécution : retour au juge de l'application des peines"
		}
		ev(max(1, sentencedAgo-min(sentencedAgo-1, 548)), cpip, role, atigip.MeasureToPlace, atigip.MeasureClosedFailed, note, 0)
		return
	}
	// Dates in days ago, decreasing: proposal, assignment, start.
	span := max(6, t-1)
	proposed := t - between(r, 1, max(1, span/4))
	ev(proposed, cpip, role, atigip.MeasureToPlace, atigip.MeasureProposed, "FFS12 : proposition de poste transmise au JAP", m.PostID)
	if m.State == atigip.MeasureProposed {
		return
	}
	assigned := max(1, proposed-between(r, 3, 20))
	ev(assigned, "appi", atigip.RoleCaseSystem, atigip.MeasureProposed, atigip.MeasureAssigned, "FFE13 : affectation ordonnée par le JAP", m.PostID)
	if m.State == atigip.MeasureAssigned {
		m.StartDate = atigip.DateOf(g.now.AddDate(0, 0, between(r, 3, 30)))
		return
	}
	started := max(1, assigned-between(r, 5, 25))
	m.StartDate = atigip.DateOf(g.now.AddDate(0, 0, -started))
	ev(started, tutor, atigip.RoleHost, atigip.MeasureAssigned, atigip.MeasureInProgress, "Début d'exécution du TIG", m.PostID)
	// Work runs at about one 3.5-hour session every few days.
	h := float64(m.HoursOrdered)
	switch m.State {
	case atigip.MeasureInProgress:
		m.HoursDone = roundHalf(math.Min(h-1, float64(started)/4*3.5*r.Float64()+3.5))
		if chance(r, 0.1) && started > 40 {
			from := started - between(r, 5, started/3)
			to := from - between(r, 5, 25)
			if to > 1 {
				m.Suspensions = append(m.Suspensions, atigip.Suspension{From: dayAgo(g, from), To: dayAgo(g, to), Reason: pickStr(r, suspensionReasons)})
				ev(from, cpip, role, atigip.MeasureInProgress, atigip.MeasureSuspended, "Suspension du délai", m.PostID)
				ev(to, cpip, role, atigip.MeasureSuspended, atigip.MeasureInProgress, "Reprise de l'exécution", m.PostID)
			}
		}
	case atigip.MeasureSuspended:
		from := max(1, started-between(r, 3, max(3, started-1)))
		m.HoursDone = roundHalf(math.Min(h-1, h*(0.05+0.7*r.Float64())))
		reason := pickStr(r, suspensionReasons)
		m.Suspensions = append(m.Suspensions, atigip.Suspension{From: dayAgo(g, from), Reason: reason})
		ev(from, cpip, role, atigip.MeasureInProgress, atigip.MeasureSuspended, "Suspension du délai : "+strings.ToLower(reason), m.PostID)
	case atigip.MeasureCompleted:
		m.HoursDone = h
		end := max(1, started-between(r, 7, max(7, min(started-1, int(h/3.5*4)))))
		ev(end, tutor, atigip.RoleHost, atigip.MeasureInProgress, atigip.MeasureCompleted, fmt.Sprintf("Heures effectuées : %d h sur %d h", m.HoursOrdered, m.HoursOrdered), m.PostID)
	case atigip.MeasureClosedFailed:
		m.HoursDone = roundHalf(h * 0.6 * r.Float64())
		end := max(1, started-between(r, 7, max(7, started-1)))
		ev(end, cpip, role, atigip.MeasureInProgress, atigip.MeasureClosedFailed,
			failNote(r, sentencedAgo), m.PostID)
	}
}

// failNote says why a started measure was closed; the 18-month delay can
// only have run out on an old sentence.
func failNote(r *rand.Rand, sentencedAgo int) string {
	notes := []string{"Absences répétées non justifiées : rapport d'incident au JAP", "Nouvelle incarcération : fin de mesure"}
	if sentencedAgo > 560 {
		notes = append(notes, "Délai d'exécution de 18 mois expiré")
	}
	return pickStr(r, notes)
}

func dayAgo(g *gen, n int) atigip.Date { return atigip.DateOf(g.now.AddDate(0, 0, -n)) }

func roundHalf(x float64) float64 { return math.Max(0, math.Round(x*2)/2) }

var appStateWeights = []float64{30, 15, 15, 20, 10, 10}
var appStates = []atigip.ApplicationState{atigip.AppSubmitted, atigip.AppInterview, atigip.AppAccepted, atigip.AppRefused, atigip.AppWithdrawn, atigip.AppClosed}

func (g *gen) applications() {
	r := g.rng(stepApplications)
	byPrison := map[int64][]int{}
	for i, o := range g.d.Offers {
		byPrison[o.PrisonID] = append(byPrison[o.PrisonID], i)
	}
	accepted := make([]int, len(g.d.Offers))
	type pending struct {
		app  *atigip.Application
		days int
	}
	waiting := map[int][]pending{}
	for pi, p := range g.d.People {
		if !p.Detained {
			continue
		}
		var mine []int
		for _, oi := range byPrison[p.PrisonID] {
			o := g.d.Offers[oi]
			if o.OfferKind == atigip.OfferWork && !p.WorkCleared {
				continue // the CPU clears for work before any application
			}
			mine = append(mine, oi)
		}
		n := min(len(mine), weighted(r, []float64{20, 40, 25, 15}))
		r.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
		hasJob := false
		for _, oi := range mine[:n] {
			o := g.d.Offers[oi]
			st := appStates[weighted(r, appStateWeights)]
			if st == atigip.AppAccepted && (hasJob || accepted[oi] >= o.Places || o.Status == atigip.OfferClosed) {
				st = atigip.AppSubmitted
			}
			if o.Status == atigip.OfferClosed && (st == atigip.AppSubmitted || st == atigip.AppInterview) {
				st = atigip.AppClosed
			}
			if st == atigip.AppAccepted {
				accepted[oi]++
				hasJob = true
			}
			a := &atigip.Application{PersonID: int64(pi + 1), OfferID: int64(oi + 1), State: st}
			days := between(r, 10, 300)
			a.History = append(a.History, atigip.ApplicationEvent{At: g.daysAgo(r, days), By: "greffe." + slugify(g.d.Prisons[p.PrisonID-1].Address.City), Role: atigip.RolePrisonStaff, To: atigip.AppSubmitted, Note: "Candidature enregistrée"})
			next := max(1, days-between(r, 5, 30))
			switch st {
			case atigip.AppInterview:
				a.History = append(a.History, atigip.ApplicationEvent{At: g.daysAgo(r, next), By: "employeur." + slugify(o.EmployerName), Role: atigip.RoleBusiness, To: st, Note: "Entretien avec l'employeur programmé"})
			case atigip.AppAccepted:
				a.History = append(a.History, atigip.ApplicationEvent{At: g.daysAgo(r, next), By: "direction.etablissement", Role: atigip.RolePrisonStaff, To: st, Note: "Classement et affectation par le chef d'établissement, signature du contrat d'emploi pénitentiaire"})
			case atigip.AppRefused:
				a.Note = pickStr(r, []string{"Poste pourvu par un candidat plus expérimenté", "Horaires incompatibles avec le parcours de soins", "Avis défavorable de la CPU"})
				a.History = append(a.History, atigip.ApplicationEvent{At: g.daysAgo(r, next), By: "direction.etablissement", Role: atigip.RolePrisonStaff, To: st, Note: a.Note})
			case atigip.AppWithdrawn:
				a.History = append(a.History, atigip.ApplicationEvent{At: g.daysAgo(r, next), By: "personne", Role: atigip.RolePerson, To: st, Note: "Candidature retirée par la personne"})
			case atigip.AppClosed:
				a.History = append(a.History, atigip.ApplicationEvent{At: g.daysAgo(r, next), By: "greffe", Role: atigip.RolePrisonStaff, To: st, Note: pickStr(r, []string{"Transfert vers un autre établissement", "Libération", "Offre fermée"})})
			}
			if st == atigip.AppSubmitted || st == atigip.AppInterview {
				waiting[oi] = append(waiting[oi], pending{a, days})
			}
			g.d.Applications = append(g.d.Applications, a)
		}
	}
	// The waiting list of each offer ranks pending applications by age,
	// oldest first.
	for _, ps := range waiting {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].days > ps[j].days })
		for k, p := range ps {
			p.app.Rank = k + 1
		}
	}
	for i, o := range g.d.Offers {
		if accepted[i] > o.PlacesTaken {
			o.PlacesTaken = accepted[i]
		}
		if o.Status == atigip.OfferOpen && o.PlacesTaken >= o.Places {
			o.Status = atigip.OfferFilled
		}
	}
}
