package ipro

import (
	"slices"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
)

// FilingRules are the rules an application must meet when it is filed,
// as the workflow checks them (workflow.lawfulFiling): the others (places,
// hours, current contracts) are checked when the governor assigns.
var FilingRules = []matching.Rule{matching.RuleOpen, matching.RuleAudience, matching.RulePrison, matching.RuleWorkClearance}

// Verdict says whether a person may apply to an offer, and why, in the
// rulebook's French sentences.
type Verdict struct {
	// CanApply: no filing rule is broken.
	CanApply bool
	// Blocking are the broken filing rules' sentences.
	Blocking []string
	// Later are the other broken rules (hours, contracts, places): the
	// person may apply and wait, the governor's assignment checks them.
	Later []string
	// Met are the filing rules the person meets, as plain labels.
	Met []string
}

// Judge evaluates person p on offer o at day at with the rulebook, the
// person's current contracts given (the offers of their accepted
// applications, o excluded).
func Judge(p *atigip.Person, o *atigip.Offer, contracts []*atigip.Offer, at atigip.Date, cfg *matching.Config) Verdict {
	ex := matching.Check(matching.Pair{Person: p, Offer: o, Contracts: contracts}, at, cfg)
	var v Verdict
	broken := map[matching.Rule]bool{}
	for _, x := range ex {
		broken[x.Rule] = true
		if slices.Contains(FilingRules, x.Rule) {
			v.Blocking = append(v.Blocking, x.Message)
		} else {
			v.Later = append(v.Later, x.Message)
		}
	}
	for _, r := range FilingRules {
		if !broken[r] {
			v.Met = append(v.Met, metLabel(r, o))
		}
	}
	v.CanApply = len(v.Blocking) == 0
	return v
}

// metLabel says a met filing rule in plain French.
func metLabel(r matching.Rule, o *atigip.Offer) string {
	switch r {
	case matching.RuleOpen:
		return "L'offre est ouverte."
	case matching.RuleAudience:
		return "Cette offre est pour les personnes détenues."
	case matching.RulePrison:
		return "L'offre est dans votre établissement."
	case matching.RuleWorkClearance:
		if o.OfferKind == atigip.OfferTraining {
			return "La commission (CPU) vous a classé pour la formation et le travail."
		}
		return "La commission (CPU) vous a classé au travail."
	}
	return r.Label()
}

// Requirements lists, in plain French, what an offer asks of a person.
func Requirements(o *atigip.Offer) []string {
	out := []string{"Être classé au travail par la commission (CPU) de l'établissement."}
	if o.HoursPerWeek > 0 {
		out = append(out, "Travailler "+hoursFR(o.HoursPerWeek)+" par semaine.")
	}
	if d := o.Schedule.MaxHoursPerDay(); d > 0 {
		out = append(out, "Au plus "+hoursFR(d)+" par jour.")
	}
	out = append(out, "Avec vos autres contrats : pas plus de 10 heures par jour et 48 heures par semaine.")
	return out
}

func hoursFR(h float64) string {
	s := matchingNum(h)
	if h < 2 {
		return s + " heure"
	}
	return s + " heures"
}
