package matching

import (
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
)

// Pair is what a door knows of the pair it is about to commit, read from
// the store in the door's own transaction.
type Pair struct {
	Person *atigip.Person
	// Measure is the TIG measure being placed (TIG posts).
	Measure *atigip.Measure
	// Post and Organisation (nil: deleted) for a TIG post; Offer for an
	// IPRO offer.
	Post         *atigip.Post
	Organisation *atigip.Organisation
	Offer        *atigip.Offer
	// Pending is the number of other measures proposed to the judge on the
	// post: they hold their places.
	Pending int
	// Contracts are the offers of the person's current contracts (accepted
	// applications), this offer excluded.
	Contracts []*atigip.Offer
	// Override lists the rules knowingly overridden (Overridable only).
	Override []Rule
}

// Check evaluates every rule on the pair at the date of the step, with the
// configuration cfg (nil: DefaultConfig), and returns every broken rule
// with the same sentences as the ranking. The code is the engine's: the
// pair is flattened by the same functions and checked by the same
// rulebook.
func Check(pr Pair, at atigip.Date, cfg *Config) []Exclusion {
	c := DefaultConfig()
	if cfg != nil {
		c = *cfg
	}
	b := rulebook{cfg: c, today: at}
	var m, open *measureFacts
	if pr.Measure != nil {
		f := measureFactsOf(pr.Measure, at)
		if f.hoursLeft > 0 && (f.state == atigip.MeasureToPlace || f.state == atigip.MeasureProposed) {
			m = &f
		} else {
			open = &f
		}
	}
	contracts := make([]*item, len(pr.Contracts))
	for i, o := range pr.Contracts {
		it := offerItem(o, nil)
		contracts[i] = &it
	}
	p := newPerson(pr.Person, m, open, contracts, at, &c, nil)
	var it item
	switch {
	case pr.Post != nil:
		it = postItem(pr.Post, pr.Pending, nil)
		v := verdictOf(pr.Organisation, at)
		it.orgOK, it.orgState = v.ok, v.state
	case pr.Offer != nil:
		it = offerItem(pr.Offer, nil)
	default:
		return nil
	}
	var d float64
	if (it.ref.Kind == KindTIG || it.ref.Kind == KindRelease) && it.located && !p.p.Home.IsZero() {
		d = atigip.DistanceKm(p.p.Home, it.loc)
	}
	return b.violations(&p, &it, d, true, pr.Override...)
}

// Refusal is the coded error of a door that refuses a pair: 409, the
// broken rules' sentences as the message, one field error per rule (the
// field is the rule's name).
func Refusal(what string, ex []Exclusion) error {
	if len(ex) == 0 {
		return nil
	}
	msgs := make([]string, len(ex))
	fields := make([]atigip.FieldError, len(ex))
	for i, x := range ex {
		msgs[i] = x.Message
		fields[i] = atigip.FieldError{Field: "rules." + string(x.Rule), Message: x.Message}
	}
	return &atigip.Error{Code: atigip.ECONFLICT, Message: what + " : " + strings.Join(msgs, " "), Fields: fields}
}
