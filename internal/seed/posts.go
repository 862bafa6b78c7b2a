package seed

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// How many posts an organisation of each kind hosts, relatively.
var postsPerKind = map[atigip.OrganisationKind]float64{
	kCommune: 3, kAssoc: 1.5, kPublic: 2.5, kHosp: 2.5, kESS: 2, kCompany: 1,
}

// Posts follow their organisation's habilitation: only a habilitated
// organisation has registered, open or full posts.
var habPostWeight = map[atigip.HabilitationStatus]float64{
	atigip.HabHabilitated: 1, atigip.HabRequested: 0.6, atigip.HabAwaiting: 0.6,
	atigip.HabRefused: 0.3, atigip.HabExpired: 0.5, atigip.HabNone: 0.2,
}

var dayNames = []string{"", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"}

func (g *gen) posts() {
	r := g.rng(stepPosts)
	n := g.opts.scaled(nPosts)
	orgs := g.d.Organisations
	cum := make([]float64, len(orgs))
	total := 0.0
	for i, o := range orgs {
		total += postsPerKind[o.OrgKind] * habPostWeight[o.Habilitation.Status]
		cum[i] = total
	}
	byKind := jobsByKind()
	for i := 0; i < n; i++ {
		oi := pickCum(r, cum)
		o := orgs[oi]
		cand := byKind[o.OrgKind]
		w := make([]float64, len(cand))
		for k, j := range cand {
			w[k] = tigJobs[j].weight
		}
		job := tigJobs[cand[weighted(r, w)]]
		p := &atigip.Post{
			OrganisationID: int64(oi + 1),
			Title:          g.titles.pick(r, job.rome),
			ROMECodes:      []string{job.rome},
			Skills:         skillsOf(r, job.rome, 3),
			Places:         1 + weighted(r, []float64{35, 30, 15, 10, 10}),
			Schedule:       postSchedule(r, o.OrgKind),
			Address:        o.Address,
			Visibility:     atigip.VisibilityPublic,
		}
		if chance(r, 0.3) {
			p.Address.Street = street(r)
			p.Location = jitter(r, o.Location, 0.4)
		} else {
			p.Location = o.Location
		}
		p.Risky = chance(r, job.risky)
		p.CareSetting = o.OrgKind == kHosp || job.rome == "K1302"
		p.MedicalCheck = p.Risky || p.CareSetting
		p.MinorsAccepted = job.minors && !p.Risky && !p.CareSetting && chance(r, 0.35)
		p.WheelchairAccess = !p.Risky && chance(r, 0.3)
		pop := 0
		if c, ok := refdata.CommuneByINSEE(o.Address.Commune); ok {
			pop = c.Population
		}
		switch {
		case pop > 20000:
			p.PublicTransport = chance(r, 0.9)
		case pop > 5000:
			p.PublicTransport = chance(r, 0.6)
		default:
			p.PublicTransport = chance(r, 0.2)
		}
		if chance(r, 0.15) {
			p.Visibility = atigip.VisibilityJustice
		}
		p.Status = postStatus(r, o.Habilitation.Status)
		p.Description = postDescription(r, job, p)
		g.d.Posts = append(g.d.Posts, p)
	}
}

func postStatus(r *rand.Rand, h atigip.HabilitationStatus) atigip.PostStatus {
	switch h {
	case atigip.HabHabilitated:
		// Open and full are settled once measures take places.
		return []atigip.PostStatus{atigip.PostOpen, atigip.PostRegistered, atigip.PostClosed, atigip.PostDraft}[weighted(r, []float64{82, 8, 5, 5})]
	case atigip.HabRefused:
		return []atigip.PostStatus{atigip.PostClosed, atigip.PostDraft}[r.IntN(2)]
	case atigip.HabExpired:
		return atigip.PostClosed
	}
	return atigip.PostDraft
}

// postSchedule draws weekday slots, with weekends for some posts
// (hospitals and associations work on Saturdays and Sundays).
func postSchedule(r *rand.Rand, k atigip.OrganisationKind) atigip.Schedule {
	days := []int{}
	for d := 1; d <= 5; d++ {
		days = append(days, d)
	}
	r.Shuffle(len(days), func(i, j int) { days[i], days[j] = days[j], days[i] })
	days = days[:between(r, 2, 5)]
	sort.Ints(days)
	var s atigip.Schedule
	switch weighted(r, []float64{45, 35, 20}) {
	case 0:
		s = weekSchedule(days, [2]string{"08:00", "12:00"})
	case 1:
		s = weekSchedule(days, [2]string{"08:30", "12:00"}, [2]string{"13:30", "17:00"})
	default:
		s = weekSchedule(days, [2]string{"13:30", "17:00"})
	}
	wk := 0.1
	if k == kHosp || k == kAssoc {
		wk = 0.25
	}
	if chance(r, wk) {
		s.Slots = append(s.Slots, atigip.Slot{Day: 6, Start: "09:00", End: "12:30"})
		if chance(r, 0.3) {
			s.Slots = append(s.Slots, atigip.Slot{Day: 7, Start: "08:30", End: "12:00"})
		}
	}
	return s
}

var tutors = []string{
	"Encadrement par un tuteur ou une tutrice de la structure, présent(e) sur place.",
	"Le tigiste travaille au sein d'une équipe, sous la responsabilité d'un agent référent.",
	"Accueil et présentation de la structure le premier jour ; tutrice désignée.",
}

func postDescription(r *rand.Rand, job tigJob, p *atigip.Post) string {
	var b strings.Builder
	b.WriteString(pickStr(r, job.tasks))
	b.WriteString(". ")
	b.WriteString(pickStr(r, tutors))
	b.WriteString(" ")
	days := map[int]bool{}
	for _, s := range p.Schedule.Slots {
		days[s.Day] = true
	}
	var names []string
	for d := 1; d <= 7; d++ {
		if days[d] {
			names = append(names, dayNames[d])
		}
	}
	fmt.Fprintf(&b, "Présence : %s, soit %.1f h par semaine. ", joinFR(names), p.Schedule.HoursPerWeek())
	if p.Risky {
		b.WriteString("Travail avec outillage ou en hauteur : équipements de protection individuelle fournis, visite médicale préalable obligatoire. ")
	} else {
		b.WriteString("Tenue de travail fournie. ")
	}
	if p.CareSetting {
		b.WriteString("Poste en établissement de santé ou médico-social : visite médicale préalable. ")
	}
	if p.MinorsAccepted {
		b.WriteString("Poste adapté aux mineurs de 16 ans et plus (suivi PJJ). ")
	}
	if p.PublicTransport {
		b.WriteString("Accessible en transports en commun.")
	} else {
		b.WriteString("Peu desservi par les transports en commun : véhicule, vélo ou covoiturage conseillé.")
	}
	return strings.TrimSpace(b.String())
}

// joinFR joins "lundi, mardi et jeudi".
func joinFR(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " et " + xs[len(xs)-1]
}
