package matching

import (
	"fmt"
	"math"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

const (
	prisonMaxPerDay  = atigip.PrisonMaxHoursPerDay
	prisonMaxPerWeek = atigip.PrisonMaxHoursPerWeek
)

// TermName names a score term.
type TermName string

// The score terms.
const (
	TermROME     TermName = "rome"
	TermSkills   TermName = "skills"
	TermText     TermName = "text"
	TermDistance TermName = "distance"
	TermSchedule TermName = "schedule"
	TermUrgency  TermName = "urgency"
	TermLoad     TermName = "load"
)

// termOrder is the order of terms in raw arrays and explanations.
var termOrder = [nTerms]TermName{TermROME, TermSkills, TermText, TermDistance, TermSchedule, TermUrgency, TermLoad}

const nTerms = 7

var termLabels = map[TermName]string{
	TermROME:     "Métier (ROME)",
	TermSkills:   "Compétences",
	TermText:     "Expérience et souhaits",
	TermDistance: "Distance",
	TermSchedule: "Horaires",
	TermUrgency:  "Urgence",
	TermLoad:     "Répartition entre structures",
}

// Term is one visible part of a score.
type Term struct {
	Name   TermName `json:"name"`
	Label  string   `json:"label"`
	Value  float64  `json:"value"`  // in [0, 1]
	Weight float64  `json:"weight"` // from Config
	Points float64  `json:"points"` // Weight × Value, what the term adds to the score
	Detail string   `json:"detail"` // French sentence for the screen
}

// raw is the term values of one pair, in termOrder.
type raw [nTerms]float64

func (e *Engine) weights() raw {
	c := &e.cfg
	return raw{c.WeightROME, c.WeightSkills, c.WeightText, c.WeightDistance, c.WeightSchedule, c.WeightUrgency, c.WeightLoad}
}

// total is Σ weight × value.
func (r *raw) total(w *raw) float64 {
	var s float64
	for i := range r {
		s += w[i] * r[i]
	}
	return s
}

// romeFit is the best proximity between the person's and the item's ROME
// codes, with the pair that gives it.
func (e *Engine) romeFit(p *person, it *item) (v float64, pc, ic romeRef) {
	for _, a := range p.rome {
		for _, b := range it.rome {
			var s float64
			switch {
			case a.code == b.code:
				s = 1
			case a.domain != "" && a.domain == b.domain:
				s = e.cfg.ROMESameDomain
			case a.grand != "" && a.grand == b.grand:
				s = e.cfg.ROMESameGrandDomain
			}
			if s > v {
				v, pc, ic = s, a, b
			}
		}
	}
	return v, pc, ic
}

// terms computes the raw terms of (p, it) except text, which the caller
// fills in batches.
func (e *Engine) terms(p *person, it *item, d float64) raw {
	var r raw
	r[0], _, _ = e.romeFit(p, it)
	if len(p.skills) > 0 && len(it.skills) > 0 {
		den := max(min(len(p.skills), len(it.skills)), e.cfg.SkillsMinDenominator)
		r[1] = min(1, float64(sharedCount(p.skills, it.skills))/float64(den))
	}
	r[3] = math.Exp(-d / e.cfg.DistanceScaleKm)
	switch {
	case len(p.avail.slots) == 0 || it.hours <= 0:
		r[4] = 0.5 // nothing declared: neither reward nor penalty
	default:
		r[4] = min(1, overlapHours(p.avail.slots, it.slots)/it.hours)
	}
	r[5] = p.urgency
	g := e.groups[it.group]
	if g.places > 0 {
		r[6] = max(0, 1-float64(g.taken)/float64(g.places))
	}
	return r
}

// pairFacts is what explaining a pair reads of the engine: a job keeps
// them for each pair of its result (about 350 bytes) rather than the
// explained proposal (about 2 kB of sentences), so that a national
// assignment at ten times the country (155,000 pairs) explains only the
// page read, and holds no engine.
type pairFacts struct {
	personID        int64
	ref             Ref
	title           string
	orgID, prisonID int64
	d, score        float64
	r               raw
	rome            float64 // romeFit's value, between pc and ic
	pc, ic          romeRef
	personROME      bool // the person has ROME codes
	shared          int  // key skills in common
	slotsKnown      bool // both schedules are declared
	overlap, hours  float64
	radius          float64
	hasDeadline     bool
	deadline        atigip.Date
	left            float64
	// taken and places are the group's occupancy; sent the people an
	// assignment sends there before this one.
	taken, places, sent int
}

// factsOf reads what explaining the pair (p, it) with raw values r and
// score needs.
func (e *Engine) factsOf(p *person, it *item, d float64, r raw, score float64, sent int) pairFacts {
	f := pairFacts{personID: p.p.ID, ref: it.ref, title: it.title, orgID: it.orgID, prisonID: it.prisonID,
		d: d, score: score, r: r, personROME: len(p.rome) > 0, shared: sharedCount(p.skills, it.skills),
		slotsKnown: len(p.avail.slots) > 0 && it.hours > 0, hours: it.hours, radius: p.radius,
		hasDeadline: p.toPlace && !p.deadline.IsZero(), deadline: p.deadline, left: p.left, sent: sent}
	f.rome, f.pc, f.ic = e.romeFit(p, it)
	if f.slotsKnown {
		f.overlap = overlapHours(p.avail.slots, it.slots)
	}
	g := e.groups[it.group]
	f.taken, f.places = g.taken, g.places
	return f
}

// terms are the visible terms of the pair, with French sentences, under
// weights w.
func (f *pairFacts) terms(w *raw) []Term {
	r, d := f.r, f.d
	out := make([]Term, nTerms)
	for i, n := range termOrder {
		out[i] = Term{Name: n, Label: termLabels[n], Value: round3(r[i]), Weight: w[i], Points: round3(w[i] * r[i])}
	}
	// ROME.
	v, pc, ic := f.rome, f.pc, f.ic
	switch {
	case !f.personROME:
		out[0].Detail = "Aucun métier ROME renseigné pour la personne."
	case v == 1:
		out[0].Detail = fmt.Sprintf("Même métier : %s (%s).", romeLabel(ic.code), ic.code)
	case v > 0 && pc.domain == ic.domain:
		out[0].Detail = fmt.Sprintf("Même domaine professionnel (%s) : %s et %s.", ic.domain, pc.code, ic.code)
	case v > 0:
		out[0].Detail = fmt.Sprintf("Même grand domaine (%s) : %s et %s.", ic.grand, pc.code, ic.code)
	default:
		out[0].Detail = "Métiers de domaines différents."
	}
	// Skills.
	if n := f.shared; n > 0 {
		out[1].Detail = fmt.Sprintf("%d compétence(s) clé(s) ROME en commun.", n)
	} else {
		out[1].Detail = "Aucune compétence clé ROME en commun."
	}
	// Text.
	switch {
	case r[2] >= 0.3:
		out[2].Detail = "L'expérience et les souhaits correspondent bien à la description."
	case r[2] > 0:
		out[2].Detail = "L'expérience et les souhaits recoupent en partie la description."
	default:
		out[2].Detail = "Pas de rapprochement entre l'expérience, les souhaits et la description."
	}
	// Distance.
	if f.ref.Kind == KindWork || f.ref.Kind == KindTraining {
		out[3].Detail = "Dans l'établissement pénitentiaire de la personne."
	} else {
		out[3].Detail = fmt.Sprintf("À %s km du domicile (rayon de mobilité %s km).", num(d), num(f.radius))
	}
	// Schedule.
	if !f.slotsKnown {
		out[4].Detail = "Disponibilités non renseignées : horaires non comparés."
	} else {
		out[4].Detail = fmt.Sprintf("%s h sur %s h hebdomadaires du poste pendant les disponibilités.", num(f.overlap), num(f.hours))
	}
	// Urgency.
	if f.hasDeadline {
		out[5].Detail = fmt.Sprintf("Échéance de la mesure le %s (%s heures restantes).", f.deadline.Format("02/01/2006"), num(f.left))
	} else {
		out[5].Detail = "Pas d'échéance de mesure."
	}
	// Load.
	// The sentence states the occupancy the value is computed from: in an
	// assignment, with the people it already sends there.
	taken, sent := f.taken+f.sent, f.sent
	occ := 0
	if f.places > 0 {
		occ = int(math.Round(100 * float64(taken) / float64(f.places)))
	}
	out[6].Detail = fmt.Sprintf("Structure occupée à %d %% (%d place(s) prise(s) sur %d).", occ, taken, f.places)
	if sent > 0 {
		out[6].Detail = fmt.Sprintf("Structure occupée à %d %% (%d place(s) prise(s) sur %d, dont %d par les propositions précédentes de cette affectation).",
			occ, taken, f.places, sent)
	}
	return out
}

// proposal explains the pair under weights w.
func (f *pairFacts) proposal(w *raw) Proposal {
	terms := f.terms(w)
	score := round3(f.score)
	return Proposal{PersonID: f.personID, Item: f.ref, Title: f.title, OrganisationID: f.orgID, PrisonID: f.prisonID,
		DistanceKm: round1(f.d), Score: score, Terms: terms, Summary: summary(score, terms)}
}

// summary is the short French sentence of a proposal: its score and its
// two strongest reasons.
func summary(score float64, terms []Term) string {
	best := []int{}
	for i := range terms {
		best = append(best, i)
	}
	// Two largest contributions, stable on ties (term order).
	for i := 0; i < 2 && i < len(best); i++ {
		for j := i + 1; j < len(best); j++ {
			if terms[best[j]].Points > terms[best[i]].Points {
				best[i], best[j] = best[j], best[i]
			}
		}
	}
	var parts []string
	for _, i := range best[:min(2, len(best))] {
		if terms[i].Points > 0 {
			parts = append(parts, strings.TrimSuffix(terms[i].Detail, "."))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("Score %s.", num2(score))
	}
	return fmt.Sprintf("Score %s : %s.", num2(score), strings.Join(parts, " ; "))
}

func num2(x float64) string { return strings.Replace(fmt.Sprintf("%.2f", x), ".", ",", 1) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func romeLabel(code string) string {
	if rc, ok := refdata.ROMEByCode(code); ok {
		return rc.Label
	}
	return code
}
