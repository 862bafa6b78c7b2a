package matching

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
)

// Rule names a hard constraint. A post or offer that breaks one is never
// proposed; the exclusion, with its French sentence, can be asked for; and
// every step that commits a person (see Door) refuses a pair that breaks
// one, with the same sentence.
type Rule string

// The hard constraints, in the order they are checked.
const (
	RuleOpen               Rule = "open"                // post or offer open
	RulePlaces             Rule = "places"              // places left, pending proposals counted
	RuleAudience           Rule = "audience"            // TIG for people outside, offers for detainees
	RuleMeasure            Rule = "measure"             // a TIG measure with hours left to place
	RulePrison             Rule = "prison"              // work and training in the person's prison
	RuleWorkClearance      Rule = "work_clearance"      // CPU clearance for work and training in prison
	RuleHabilitation       Rule = "habilitation"        // host organisation exists, habilitated and active
	RuleMobility           Rule = "mobility"            // within the mobility radius
	RuleTransport          Rule = "public_transport"    // served by public transport when needed
	RuleMinorAge           Rule = "minor_age"           // TIG from 16
	RuleMinors             Rule = "minors"              // minors only on posts that accept them
	RuleYoungNight         Rule = "young_night"         // no night work for 16–17
	RuleYoungHours         Rule = "young_hours"         // 16–17: 8 h a day, 35 h a week
	RuleYoungBreak         Rule = "young_break"         // 16–17: a 30-min break after 4 h 30
	RuleMedicalCheck       Rule = "medical_check"       // medical check done where the law asks
	RuleMedicalRestriction Rule = "medical_restriction" // no night or risky work against a restriction
	RuleDeadline           Rule = "deadline"            // hours left fit before the deadline
	RuleDailyHours         Rule = "daily_hours"         // adults: 10 h a day
	RuleWorkingWeek        Rule = "working_week"        // adults: 48 h a week; TIG + job ≤ legal week + 12 h
	RuleOfferSchedule      Rule = "offer_schedule"      // an offer's schedule agrees with its declared hours
	RuleContracts          Rule = "contracts"           // no overlap with the detainee's current contracts
	RulePrisonHours        Rule = "prison_hours"        // prison work, contracts included, ≤ 10 h a day, 48 h a week
	RuleAvailability       Rule = "availability"        // schedule overlaps the availability
)

// Scope is the set of item kinds a rule applies to.
type Scope uint8

// Scopes.
const (
	ScopeTIG Scope = 1 << iota
	ScopeWork
	ScopeTraining
	ScopeRelease
	ScopeInside = ScopeWork | ScopeTraining
	ScopeOffers = ScopeWork | ScopeTraining | ScopeRelease
	ScopeAll    = ScopeTIG | ScopeOffers
)

// Door is a step that commits a person, or proposes to: each one evaluates
// the rules of this file on the pair and refuses (409, with the sentences)
// a pair that breaks one.
type Door string

// The doors.
const (
	DoorRanking    Door = "ranking"           // GET /api/matching/people/{id}/offers
	DoorCandidates Door = "candidates"        // GET /api/matching/{posts,offers}/{id}/candidates
	DoorJob        Door = "assignment_job"    // POST /api/matching/assignments
	DoorProposal   Door = "proposal"          // to_place → proposed (FFS12 to the judge)
	DoorDecision   Door = "judge_decision"    // proposed → assigned, by the route
	DoorFFE13      Door = "ffe13"             // proposed → assigned, by APPI's FFE13
	DoorAcceptance Door = "prison_acceptance" // application → accepted (the governor's assignment)
	DoorTransfer   Door = "transfer"          // a detainee's contracts after a transfer
)

// RuleInfo is a rule's row in the rulebook.
type RuleInfo struct {
	Rule  Rule
	Label string
	// Law is the legal reference the rule applies, or where it comes from
	// when it is not law (the person's declarations, the post's record).
	Law   string
	Scope Scope
	// Overridable: a professional may knowingly propose against the rule,
	// with a reason, recorded and audited (see Overridable).
	Overridable bool
	// Transfer: a transfer re-checks the detainee's contracts against it.
	Transfer bool
}

// Rules lists every hard constraint, in check order: the rulebook.
var Rules = []RuleInfo{
	{Rule: RuleOpen, Label: "Poste ouvert", Law: "fiche du poste ou de l'offre", Scope: ScopeAll},
	{Rule: RulePlaces, Label: "Places disponibles", Law: "fiche du poste ou de l'offre (propositions en attente du juge comprises)", Scope: ScopeAll},
	{Rule: RuleAudience, Label: "Public concerné", Law: "code pénal art. 131-22 (exécution suspendue pendant l'incarcération)", Scope: ScopeAll},
	{Rule: RuleMeasure, Label: "Mesure à placer", Law: "code pénal art. 131-8 (heures prononcées)", Scope: ScopeTIG},
	{Rule: RulePrison, Label: "Établissement pénitentiaire", Law: "code pénitentiaire (travail dans l'établissement)", Scope: ScopeInside, Transfer: true},
	{Rule: RuleWorkClearance, Label: "Classement au travail (CPU)", Law: "code pénitentiaire (classement par la CPU)", Scope: ScopeInside, Transfer: true},
	{Rule: RuleHabilitation, Label: "Habilitation de la structure d'accueil", Law: "code pénal art. 131-8 (structures habilitées à mettre en œuvre des TIG)", Scope: ScopeTIG},
	{Rule: RuleMobility, Label: "Mobilité", Law: "déclaration de la personne (rayon de mobilité)", Scope: ScopeTIG | ScopeRelease, Overridable: true},
	{Rule: RuleTransport, Label: "Transports en commun", Law: "déclaration de la personne (moyen de transport)", Scope: ScopeTIG | ScopeRelease, Overridable: true},
	{Rule: RuleMinorAge, Label: "Âge minimum (16 ans)", Law: "code pénal art. 131-8 ; code de la justice pénale des mineurs", Scope: ScopeTIG},
	{Rule: RuleMinors, Label: "Accueil des mineurs", Law: "habilitation du poste pour les mineurs (PJJ)", Scope: ScopeTIG},
	{Rule: RuleYoungNight, Label: "Travail de nuit des mineurs", Law: "code du travail L3163-1, L3163-2", Scope: ScopeAll},
	{Rule: RuleYoungHours, Label: "Durée du travail des mineurs", Law: "code du travail L3162-1", Scope: ScopeAll},
	{Rule: RuleYoungBreak, Label: "Pause des mineurs", Law: "code du travail L3162-3", Scope: ScopeAll},
	{Rule: RuleMedicalCheck, Label: "Visite médicale", Law: "code pénal art. 131-23 (règles du travail) ; examen médical préalable des mineurs et des postes qui l'exigent", Scope: ScopeAll},
	{Rule: RuleMedicalRestriction, Label: "Restriction médicale", Law: "avis médical", Scope: ScopeAll},
	{Rule: RuleDeadline, Label: "Délai d'exécution", Law: "code pénal art. 131-22 (délai de 18 mois)", Scope: ScopeTIG},
	{Rule: RuleDailyHours, Label: "Durée quotidienne maximale", Law: "code du travail L3121-18 (code pénal art. 131-23)", Scope: ScopeTIG | ScopeRelease},
	{Rule: RuleWorkingWeek, Label: "Durée maximale du travail", Law: "code du travail L3121-20 ; TIG et emploi : durée légale (L3121-27) + 12 h", Scope: ScopeTIG | ScopeRelease},
	{Rule: RuleOfferSchedule, Label: "Horaire de l'offre", Law: "fiche de l'offre (horaire et durée déclarée)", Scope: ScopeOffers},
	{Rule: RuleContracts, Label: "Contrats en cours", Law: "contrats d'emploi pénitentiaire en cours", Scope: ScopeInside},
	{Rule: RulePrisonHours, Label: "Durée du travail en détention", Law: "code pénitentiaire (10 h par jour, 48 h par semaine)", Scope: ScopeWork},
	{Rule: RuleAvailability, Label: "Disponibilités", Law: "déclaration de la personne (disponibilités)", Scope: ScopeAll, Overridable: true},
}

// Overridable reports whether a professional may knowingly propose a pair
// that breaks r. Only the rules that stand for the person's own
// declarations are: the mobility radius, public transport and the
// availability. The person consents to the TIG (code pénal art. 131-8)
// and may accept a longer trip or other hours, so a CPIP may propose
// against them with a reason, recorded in the measure's history and in the
// audit log, and shown to the judge who decides. Every other rule is the
// law (age, young workers, working time, medical check, habilitation,
// deadline, detention) or a fact (post closed, no place left), which
// nobody may waive.
func Overridable(r Rule) bool {
	for _, x := range Rules {
		if x.Rule == r {
			return x.Overridable
		}
	}
	return false
}

// Doors returns the doors that evaluate the rule.
func (x RuleInfo) Doors() []Door {
	out := []Door{DoorRanking, DoorCandidates, DoorJob}
	if x.Scope&ScopeTIG != 0 {
		out = append(out, DoorProposal, DoorDecision, DoorFFE13)
	}
	if x.Scope&ScopeInside != 0 {
		out = append(out, DoorAcceptance)
	}
	if x.Transfer {
		out = append(out, DoorTransfer)
	}
	return out
}

// Info returns the rulebook row of r.
func (r Rule) Info() (RuleInfo, bool) {
	for _, x := range Rules {
		if x.Rule == r {
			return x, true
		}
	}
	return RuleInfo{}, false
}

// Label returns the French label of r.
func (r Rule) Label() string {
	if x, ok := r.Info(); ok {
		return x.Label
	}
	return string(r)
}

// Exclusion is a broken hard constraint, as data and as a French sentence.
type Exclusion struct {
	Rule    Rule   `json:"rule"`
	Label   string `json:"label"`
	Message string `json:"message"`
	// Value and Limit are the figures compared, when the rule compares
	// figures (km, hours, days); the sentence states both.
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

// hm formats minutes as "4 h 30".
func hm(minutes int) string {
	if minutes%60 == 0 {
		return fmt.Sprintf("%d h", minutes/60)
	}
	return fmt.Sprintf("%d h %02d", minutes/60, minutes%60)
}

// rulebook evaluates the rules: the configuration and the date of the
// step. The Engine embeds one; Check builds one per door.
type rulebook struct {
	cfg   Config
	today atigip.Date
}

// violations checks the hard constraints of (p, it) at distance d km, in
// Rules order. With all false it stops at the first broken one (ranking);
// with all true it lists every one (explanations, doors). Rules in skip are
// not checked (knowingly overridden).
func (b *rulebook) violations(p *person, it *item, d float64, all bool, skip ...Rule) []Exclusion {
	var out []Exclusion
	add := func(x Exclusion) bool {
		for _, r := range skip {
			if r == x.Rule {
				return false
			}
		}
		out = append(out, x)
		return !all
	}
	// The ranking only asks whether a pair breaks a rule: the sentence is
	// written when it is read (all), which keeps fmt out of the hot path.
	mk := func(r Rule, value, limit float64, format string, args ...any) Exclusion {
		if !all {
			return Exclusion{Rule: r}
		}
		return excl(r, value, limit, format, args...)
	}
	c := &b.cfg
	pp := &p.p
	kind := it.ref.Kind
	if !it.open && add(mk(RuleOpen, 0, 0, "Le poste n'est pas ouvert aux affectations (statut : %s).", it.status)) {
		return out
	}
	if it.left <= 0 {
		msg := "Le poste n'a plus de place disponible."
		if it.pending() > 0 {
			msg = fmt.Sprintf("Le poste n'a plus de place disponible : %d place(s) tenue(s) par des propositions en attente de la décision du juge.", it.pending())
		}
		if add(mk(RulePlaces, 0, 0, "%s", msg)) {
			return out
		}
	}
	if kind == KindTIG {
		if pp.Detained && add(mk(RuleAudience, 0, 0, "La personne est détenue : l'exécution du TIG est suspendue pendant l'incarcération.")) {
			return out
		}
		if !p.toPlace && add(mk(RuleMeasure, 0, 0, "%s", p.noMeasure())) {
			return out
		}
		if it.orgOK < 0 && add(mk(RuleHabilitation, 0, 0, "La structure d'accueil n'est pas habilitée à accueillir des TIG (%s).", it.orgState)) {
			return out
		}
	} else {
		if !pp.Detained && add(mk(RuleAudience, 0, 0, "Les postes de travail, formations et emplois à la sortie s'adressent aux personnes détenues.")) {
			return out
		}
		inside := kind == KindWork || kind == KindTraining
		if inside && it.prisonID != pp.PrisonID &&
			add(mk(RulePrison, 0, 0, "L'offre relève d'un autre établissement pénitentiaire que celui de la personne.")) {
			return out
		}
		// Work and training alike: the CPU's classement opens both, and
		// the application route asks for it on both.
		if inside && !pp.WorkCleared &&
			add(mk(RuleWorkClearance, 0, 0, "La personne n'est pas classée au travail et en formation par la commission pluridisciplinaire unique (CPU).")) {
			return out
		}
	}
	if kind == KindTIG || kind == KindRelease {
		switch {
		case !it.located || pp.Home.IsZero():
			if add(mk(RuleMobility, 0, p.radius, "La distance ne peut être calculée : le poste ou le domicile n'est pas localisé.")) {
				return out
			}
		case d > p.radius:
			if add(mk(RuleMobility, d, p.radius, "Le poste est à %s km du domicile, au-delà du rayon de mobilité de %s km.", num(d), num(p.radius))) {
				return out
			}
		}
		if pp.PublicTransport && !it.transit &&
			add(mk(RuleTransport, 0, 0, "La personne se déplace en transports en commun et le poste n'est pas desservi.")) {
			return out
		}
	}
	if kind == KindTIG && p.minor {
		if p.age >= 0 && p.age < MinTIGAge && add(mk(RuleMinorAge, float64(p.age), MinTIGAge, "Le TIG n'est possible qu'à partir de %d ans (la personne a %d ans).", MinTIGAge, p.age)) {
			return out
		}
		if !it.minors && add(mk(RuleMinors, 0, 0, "Le poste n'accueille pas de mineurs.")) {
			return out
		}
	}
	if p.minor {
		if it.night && add(mk(RuleYoungNight, 0, 0, "L'horaire comporte du travail entre 22 h et 6 h, interdit aux mineurs (code du travail, art. L3163-2).")) {
			return out
		}
		if it.perDay > YoungMaxHoursPerDay && add(mk(RuleYoungHours, it.perDay, YoungMaxHoursPerDay,
			"L'horaire prévoit %s h sur une journée : un mineur ne peut travailler plus de %d h par jour (code du travail, art. L3162-1).", num(it.perDay), YoungMaxHoursPerDay)) {
			return out
		}
		if week := it.hours + pp.JobHoursPerWeek + p.contractWeek; week > YoungMaxHoursPerWeek {
			detail := ""
			if other := pp.JobHoursPerWeek + p.contractWeek; other > 0 {
				detail = fmt.Sprintf(" (%s h de l'offre et %s h d'emploi ou de contrats en cours)", num(it.hours), num(other))
			}
			if add(mk(RuleYoungHours, week, YoungMaxHoursPerWeek,
				"%s h par semaine%s : un mineur ne peut travailler plus de %d h par semaine (code du travail, art. L3162-1).", num(week), detail, YoungMaxHoursPerWeek)) {
				return out
			}
		}
		if it.stretch > YoungMaxStretchMinutes && add(mk(RuleYoungBreak, float64(it.stretch)/60, YoungMaxStretchMinutes/60.0,
			"L'horaire prévoit %s de travail sans pause de %d minutes : un mineur doit avoir une pause après %s (code du travail, art. L3162-3).",
			hm(it.stretch), YoungBreakMinutes, hm(YoungMaxStretchMinutes))) {
			return out
		}
	}
	if why := medicalReasons(p, it); len(why) > 0 && !pp.Medical.CheckDone &&
		add(mk(RuleMedicalCheck, 0, 0, "Une visite médicale préalable est obligatoire (%s) et n'a pas été faite.", strings.Join(why, ", "))) {
		return out
	}
	if pp.Medical.NoNightWork && it.night && add(mk(RuleMedicalRestriction, 0, 0, "Le poste comporte du travail de nuit, incompatible avec une restriction médicale de la personne.")) {
		return out
	}
	if pp.Medical.NoRiskyWork && it.risky && add(mk(RuleMedicalRestriction, 0, 0, "Le poste est à risques, incompatible avec une restriction médicale de la personne.")) {
		return out
	}
	if kind == KindTIG && p.toPlace && !p.deadline.IsZero() {
		if x, broken := b.deadline(p, it, all); broken && add(x) {
			return out
		}
	}
	if !p.minor && (kind == KindTIG || kind == KindRelease) {
		if it.perDay > AdultMaxHoursPerDay && add(mk(RuleDailyHours, it.perDay, AdultMaxHoursPerDay,
			"L'horaire prévoit %s h sur une journée, au-delà de la durée quotidienne maximale de %d h (code du travail, art. L3121-18).", num(it.perDay), AdultMaxHoursPerDay)) {
			return out
		}
		if pp.JobHoursPerWeek > 0 {
			limit := c.LegalWeekHours + c.ExtraWeekHours
			if total := it.hours + pp.JobHoursPerWeek; total > limit &&
				add(mk(RuleWorkingWeek, total, limit, "Le poste (%s h) et l'emploi déclaré (%s h) font %s h par semaine, au-delà de la durée légale augmentée de 12 heures (%s h).",
					num(it.hours), num(pp.JobHoursPerWeek), num(total), num(limit))) {
				return out
			}
		} else if it.hours > AdultMaxHoursPerWeek && add(mk(RuleWorkingWeek, it.hours, AdultMaxHoursPerWeek,
			"L'horaire prévoit %s h par semaine, au-delà de la durée hebdomadaire maximale de %d h (code du travail, art. L3121-20).", num(it.hours), AdultMaxHoursPerWeek)) {
			return out
		}
	}
	if kind != KindTIG && it.declared > 0 && it.schedHours > 0 && math.Abs(it.schedHours-it.declared) > scheduleTolerance &&
		add(mk(RuleOfferSchedule, it.schedHours, it.declared, "L'horaire de l'offre compte %s h par semaine, mais l'offre en déclare %s : l'horaire et la durée doivent concorder.",
			num(it.schedHours), num(it.declared))) {
		return out
	}
	if (kind == KindWork || kind == KindTraining) && len(p.contracts) > 0 {
		if ov := overlapHours(p.contracts, it.slots); ov > 0 && add(mk(RuleContracts, ov, 0,
			"L'horaire de l'offre chevauche sur %s h par semaine celui des contrats en cours de la personne.", num(ov))) {
			return out
		}
	}
	if kind == KindWork {
		for day := 1; day <= 7; day++ {
			if total := it.days[day] + p.contractDays[day]; total > prisonMaxPerDay {
				msg := fmt.Sprintf("Le travail en détention est limité à %d heures par jour (l'horaire en prévoit %s le %s).", prisonMaxPerDay, num(it.days[day]), dayNames[day])
				if p.contractDays[day] > 0 {
					msg = fmt.Sprintf("Le travail en détention est limité à %d heures par jour : %s h de l'offre et %s h de contrats en cours le %s font %s h.",
						prisonMaxPerDay, num(it.days[day]), num(p.contractDays[day]), dayNames[day], num(total))
				}
				if add(mk(RulePrisonHours, total, prisonMaxPerDay, "%s", msg)) {
					return out
				}
				break
			}
		}
		if total := it.hours + p.contractWeek; total > prisonMaxPerWeek {
			msg := fmt.Sprintf("Le travail en détention est limité à %d heures par semaine (l'offre en prévoit %s).", prisonMaxPerWeek, num(it.hours))
			if p.contractWeek > 0 {
				msg = fmt.Sprintf("Le travail en détention est limité à %d heures par semaine : %s h de l'offre et %s h de contrats en cours font %s h.",
					prisonMaxPerWeek, num(it.hours), num(p.contractWeek), num(total))
			}
			if add(mk(RulePrisonHours, total, prisonMaxPerWeek, "%s", msg)) {
				return out
			}
		}
	}
	if len(p.avail.slots) > 0 && it.hours > 0 {
		need := min(c.MinOverlapHours, it.hours)
		if ov := overlapHours(p.avail.slots, it.slots); ov < need &&
			add(mk(RuleAvailability, ov, need, "Les horaires du poste ne recoupent les disponibilités de la personne que sur %s h par semaine (minimum %s h).", num(ov), num(need))) {
			return out
		}
	}
	return out
}

// scheduleTolerance is how far an offer's schedule may be from its
// declared weekly hours (rounding of slots to the quarter hour).
const scheduleTolerance = 0.5

var dayNames = [8]string{"", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"}

// rate is the weekly hours the person can actually work on the post: the
// post's hours within the declared availability, or the post's hours when
// none is declared.
func rate(p *person, it *item) (h float64, within bool) {
	if len(p.avail.slots) > 0 {
		return overlapHours(p.avail.slots, it.slots), true
	}
	return it.hours, false
}

// deadline checks that the hours left fit between the first possible day
// (today + the start delay) and the deadline, at the rate the person can
// attend. The exclusion's Value is the days the hours need, its Limit the
// days there are; the sentence states both, with the delay.
func (b *rulebook) deadline(p *person, it *item, explain bool) (Exclusion, bool) {
	c := &b.cfg
	avail := int(p.daysAvail)
	h, within := rate(p, it)
	if h <= 0 {
		what := "Le poste n'a pas d'horaire hebdomadaire"
		if within {
			what = "Aucune heure du poste ne tombe pendant les disponibilités de la personne"
		}
		return excl(RuleDeadline, 0, float64(max(0, avail)), "%s : les %s heures restantes ne peuvent être faites avant l'échéance du %s.",
			what, num(p.left), p.deadline.Format("02/01/2006")), true
	}
	need := int(math.Ceil(p.left / h * 7))
	if need <= avail {
		return Exclusion{}, false
	}
	if !explain {
		return Exclusion{Rule: RuleDeadline}, true
	}
	start := b.today.AddDays(c.StartDelayDays)
	pace := fmt.Sprintf("%s h par semaine", num(h))
	if within {
		pace += " (heures du poste pendant les disponibilités de la personne)"
	}
	return excl(RuleDeadline, float64(need), float64(max(0, avail)),
		"Au rythme de %s, les %s heures restantes demandent %d jours ; entre le début possible le %s (délai de mise en place de %d jours) et l'échéance du %s, il en reste %d.",
		pace, num(p.left), need, start.Format("02/01/2006"), c.StartDelayDays, p.deadline.Format("02/01/2006"), max(0, avail)), true
}

// medicalReasons lists why the law asks for a medical check before this
// placement (French, for the sentence); empty when it does not.
func medicalReasons(p *person, it *item) []string {
	var why []string
	m := p.p.Medical
	if p.minor {
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
