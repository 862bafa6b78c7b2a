package matching

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Rule names a hard constraint. A post or offer that breaks one is never
// proposed; the exclusion, with its French sentence, can be asked for.
type Rule string

// The hard constraints, in the order they are checked.
const (
	RuleOpen               Rule = "open"                // post or offer open
	RulePlaces             Rule = "places"              // places left
	RuleAudience           Rule = "audience"            // TIG for people outside, offers for detainees
	RuleMeasure            Rule = "measure"             // a TIG measure with hours left
	RulePrison             Rule = "prison"              // work and training in the person's prison
	RuleWorkClearance      Rule = "work_clearance"      // CPU clearance for work in prison
	RuleHabilitation       Rule = "habilitation"        // host organisation habilitated and active
	RuleMobility           Rule = "mobility"            // within the mobility radius
	RuleTransport          Rule = "public_transport"    // served by public transport when needed
	RuleMinorAge           Rule = "minor_age"           // TIG from 16
	RuleMinors             Rule = "minors"              // minors only on posts that accept them
	RuleMedicalCheck       Rule = "medical_check"       // medical check done where the law asks
	RuleMedicalRestriction Rule = "medical_restriction" // no night or risky work against a restriction
	RuleDeadline           Rule = "deadline"            // hours left fit before the deadline
	RuleWorkingWeek        Rule = "working_week"        // TIG + job ≤ legal week + 12 h
	RulePrisonHours        Rule = "prison_hours"        // prison work ≤ 10 h a day, 48 h a week
	RuleAvailability       Rule = "availability"        // schedule overlaps the availability
)

// Rules lists every hard constraint with its French label, in check order.
var Rules = []struct {
	Rule  Rule
	Label string
}{
	{RuleOpen, "Poste ouvert"},
	{RulePlaces, "Places disponibles"},
	{RuleAudience, "Public concerné"},
	{RuleMeasure, "Mesure à placer"},
	{RulePrison, "Établissement pénitentiaire"},
	{RuleWorkClearance, "Classement au travail (CPU)"},
	{RuleHabilitation, "Habilitation de la structure d'accueil"},
	{RuleMobility, "Mobilité"},
	{RuleTransport, "Transports en commun"},
	{RuleMinorAge, "Âge minimum (16 ans)"},
	{RuleMinors, "Accueil des mineurs"},
	{RuleMedicalCheck, "Visite médicale"},
	{RuleMedicalRestriction, "Restriction médicale"},
	{RuleDeadline, "Délai d'exécution"},
	{RuleWorkingWeek, "Durée maximale du travail"},
	{RulePrisonHours, "Durée du travail en détention"},
	{RuleAvailability, "Disponibilités"},
}

// Label returns the French label of r.
func (r Rule) Label() string {
	for _, x := range Rules {
		if x.Rule == r {
			return x.Label
		}
	}
	return string(r)
}

// Exclusion is a broken hard constraint, as data and as a French sentence.
type Exclusion struct {
	Rule    Rule   `json:"rule"`
	Label   string `json:"label"`
	Message string `json:"message"`
	// Value and Limit are the figures compared, when the rule compares
	// figures (km, hours, days).
	Value float64 `json:"value,omitempty"`
	Limit float64 `json:"limit,omitempty"`
}

func excl(r Rule, value, limit float64, format string, args ...any) Exclusion {
	return Exclusion{Rule: r, Label: r.Label(), Message: fmt.Sprintf(format, args...), Value: value, Limit: limit}
}

// num formats a figure the French way: one decimal at most, comma.
func num(x float64) string {
	x = math.Round(x*10) / 10
	return strings.Replace(strconv.FormatFloat(x, 'f', -1, 64), ".", ",", 1)
}

// violations checks the hard constraints of (p, it) at distance d km, in
// Rules order. With all false it stops at the first broken one (ranking);
// with all true it lists every one (explanations).
func (e *Engine) violations(p *person, it *item, d float64, all bool) []Exclusion {
	var out []Exclusion
	add := func(x Exclusion) bool {
		out = append(out, x)
		return !all
	}
	c := &e.cfg
	pp := &p.p
	if !it.open && add(excl(RuleOpen, 0, 0, "Le poste n'est pas ouvert aux affectations (statut : %s).", it.status)) {
		return out
	}
	if it.left <= 0 && add(excl(RulePlaces, 0, 0, "Le poste n'a plus de place disponible.")) {
		return out
	}
	if it.ref.Kind == KindTIG {
		if pp.Detained && add(excl(RuleAudience, 0, 0, "La personne est détenue : l'exécution du TIG est suspendue pendant l'incarcération.")) {
			return out
		}
		if !p.toPlace && add(excl(RuleMeasure, 0, 0, "Aucune mesure de TIG à placer : pas d'heures restant à effectuer.")) {
			return out
		}
		if it.orgOK < 0 && add(excl(RuleHabilitation, 0, 0, "La structure d'accueil n'est pas habilitée à accueillir des TIG (%s).", it.orgState)) {
			return out
		}
	} else {
		if !pp.Detained && add(excl(RuleAudience, 0, 0, "Les postes de travail, formations et emplois à la sortie s'adressent aux personnes détenues.")) {
			return out
		}
		if (it.ref.Kind == KindWork || it.ref.Kind == KindTraining) && it.prisonID != pp.PrisonID &&
			add(excl(RulePrison, 0, 0, "L'offre relève d'un autre établissement pénitentiaire que celui de la personne.")) {
			return out
		}
		if it.ref.Kind == KindWork && !pp.WorkCleared &&
			add(excl(RuleWorkClearance, 0, 0, "La personne n'est pas classée au travail par la commission pluridisciplinaire unique (CPU).")) {
			return out
		}
	}
	if it.ref.Kind == KindTIG || it.ref.Kind == KindRelease {
		switch {
		case !it.located || pp.Home.IsZero():
			if add(excl(RuleMobility, 0, p.radius, "La distance ne peut être calculée : le poste ou le domicile n'est pas localisé.")) {
				return out
			}
		case d > p.radius:
			if add(excl(RuleMobility, d, p.radius, "Le poste est à %s km du domicile, au-delà du rayon de mobilité de %s km.", num(d), num(p.radius))) {
				return out
			}
		}
		if pp.PublicTransport && !it.transit &&
			add(excl(RuleTransport, 0, 0, "La personne se déplace en transports en commun et le poste n'est pas desservi.")) {
			return out
		}
	}
	minor := pp.Minor || (p.age >= 0 && p.age < 18)
	if it.ref.Kind == KindTIG && minor {
		if p.age >= 0 && p.age < 16 && add(excl(RuleMinorAge, float64(p.age), 16, "Le TIG n'est possible qu'à partir de 16 ans (la personne a %d ans).", p.age)) {
			return out
		}
		if !it.minors && add(excl(RuleMinors, 0, 0, "Le poste n'accueille pas de mineurs.")) {
			return out
		}
	}
	if why := medicalReasons(p, it, minor); len(why) > 0 && !pp.Medical.CheckDone &&
		add(excl(RuleMedicalCheck, 0, 0, "Une visite médicale préalable est obligatoire (%s) et n'a pas été faite.", strings.Join(why, ", "))) {
		return out
	}
	if pp.Medical.NoNightWork && it.night && add(excl(RuleMedicalRestriction, 0, 0, "Le poste comporte du travail de nuit, incompatible avec une restriction médicale de la personne.")) {
		return out
	}
	if pp.Medical.NoRiskyWork && it.risky && add(excl(RuleMedicalRestriction, 0, 0, "Le poste est à risques, incompatible avec une restriction médicale de la personne.")) {
		return out
	}
	if it.ref.Kind == KindTIG && p.toPlace && !p.deadline.IsZero() {
		if it.hours <= 0 {
			if add(excl(RuleDeadline, 0, 0, "Le poste n'a pas d'horaire hebdomadaire : les heures restantes ne peuvent être planifiées.")) {
				return out
			}
		} else {
			weeks := p.left / it.hours
			end := e.today.AddDays(c.StartDelayDays + int(math.Ceil(weeks*7)))
			if end.After(p.deadline.Time) {
				if add(excl(RuleDeadline, math.Ceil(weeks), float64(daysBetween(e.today.Time, p.deadline.Time))/7,
					"Au rythme du poste (%s h par semaine), les %s heures restantes demandent %s semaines : fin prévue le %s, après l'échéance du %s.",
					num(it.hours), num(p.left), num(math.Ceil(weeks)), end.Format("02/01/2006"), p.deadline.Format("02/01/2006"))) {
					return out
				}
			}
		}
	}
	if it.ref.Kind == KindTIG && pp.JobHoursPerWeek > 0 {
		limit := c.LegalWeekHours + c.ExtraWeekHours
		if total := it.hours + pp.JobHoursPerWeek; total > limit &&
			add(excl(RuleWorkingWeek, total, limit, "Le TIG (%s h) et l'emploi déclaré (%s h) font %s h par semaine, au-delà de la durée légale augmentée de 12 heures (%s h).",
				num(it.hours), num(pp.JobHoursPerWeek), num(total), num(limit))) {
			return out
		}
	}
	if it.ref.Kind == KindWork {
		if it.perDay > prisonMaxPerDay && add(excl(RulePrisonHours, it.perDay, prisonMaxPerDay, "Le travail en détention est limité à %d heures par jour (l'horaire en prévoit %s).", prisonMaxPerDay, num(it.perDay))) {
			return out
		}
		if it.hours > prisonMaxPerWeek && add(excl(RulePrisonHours, it.hours, prisonMaxPerWeek, "Le travail en détention est limité à %d heures par semaine (l'offre en prévoit %s).", prisonMaxPerWeek, num(it.hours))) {
			return out
		}
	}
	if len(p.slots) > 0 && it.hours > 0 {
		need := min(c.MinOverlapHours, it.hours)
		if ov := overlapHours(p.slots, it.slots); ov < need &&
			add(excl(RuleAvailability, ov, need, "Les horaires du poste ne recoupent les disponibilités de la personne que sur %s h par semaine (minimum %s h).", num(ov), num(need))) {
			return out
		}
	}
	return out
}

// medicalReasons lists why the law asks for a medical check before this
// placement (French, for the sentence); empty when it does not.
func medicalReasons(p *person, it *item, minor bool) []string {
	var why []string
	m := p.p.Medical
	if minor {
		why = append(why, "personne mineure")
	}
	if m.Disability {
		why = append(why, "situation de handicap")
	}
	if m.Pregnancy {
		why = append(why, "grossesse")
	}
	if it.night {
		why = append(why, "travail de nuit")
	}
	if it.risky {
		why = append(why, "poste à risques")
	}
	if it.care {
		why = append(why, "milieu de soins")
	}
	if it.medical && len(why) == 0 {
		why = append(why, "exigée par la structure d'accueil")
	}
	return why
}
