package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
)

// This file is where the workflow's doors meet the rulebook of matching:
// every step that commits a person evaluates matching.Check on the pair,
// read in the step's own transaction, and refuses (ECONFLICT, 409) with
// the broken rules' sentences, the same the ranking shows.

// lawfulPlacement checks the measure's pair with post before a proposal
// or the judge's assignment. Rules overridden at the proposal (t.Override,
// then recorded on the proposal's history entry) are not checked again at
// the decision: the judge decides knowing them.
func (s *Service) lawfulPlacement(ctx context.Context, tx atigip.Tx, a Actor, m *atigip.Measure, post *atigip.Post, t Transition) error {
	person, err := atigip.Of[*atigip.Person](tx).Get(ctx, m.PersonID)
	if err != nil {
		return fmt.Errorf("workflow: rules: person of the measure: %w", err)
	}
	org, err := atigip.Of[*atigip.Organisation](tx).Get(ctx, post.OrganisationID)
	if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
		return err
	}
	pending, err := pendingOn(ctx, tx, post.ID, m.ID)
	if err != nil {
		return err
	}
	override := t.Override
	if t.To == atigip.MeasureAssigned {
		override = proposedOverrides(m)
	} else if err := checkOverride(t); err != nil {
		return err
	}
	ex := matching.Check(matching.Pair{Person: person, Measure: m, Post: post, Organisation: org, Pending: pending, Override: override},
		a.today(), s.Rules)
	what := "Proposition refusée par les règles de placement"
	if t.To == atigip.MeasureAssigned {
		what = "Affectation refusée par les règles de placement"
	}
	return matching.Refusal(what, ex)
}

// checkOverride validates a knowing override: only rules the law lets a
// professional override, and a reason.
func checkOverride(t Transition) error {
	for _, r := range t.Override {
		if !matching.Overridable(r) {
			return invalid("override", "La règle « %s » ne peut pas être écartée : c'est une règle de droit ou un fait.", r.Label())
		}
	}
	if len(t.Override) > 0 && strings.TrimSpace(t.Reason) == "" {
		return invalid("reason", "Écarter une règle demande un motif.")
	}
	return nil
}

// proposedOverrides are the rules overridden at m's last proposal.
func proposedOverrides(m *atigip.Measure) []matching.Rule {
	for i := len(m.History) - 1; i >= 0; i-- {
		if ev := m.History[i]; ev.To == atigip.MeasureProposed {
			out := make([]matching.Rule, len(ev.Overrides))
			for k, r := range ev.Overrides {
				out[k] = matching.Rule(r)
			}
			return out
		}
	}
	return nil
}

// pendingOn counts the measures other than except proposed to the judge on
// post: they hold their places.
func pendingOn(ctx context.Context, tx atigip.Tx, postID, except int64) (int, error) {
	n := 0
	err := atigip.Of[*atigip.Measure](tx).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.MeasureProposed)}},
		func(x *atigip.Measure) error {
			if x.PostID == postID && x.ID != except {
				n++
			}
			return nil
		})
	if err != nil {
		return 0, fmt.Errorf("workflow: rules: pending proposals: %w", err)
	}
	return n, nil
}

// contractsOf returns the offers of person's accepted applications, but
// the offer except, and those applications.
func contractsOf(ctx context.Context, tx atigip.Tx, personID, except int64) ([]*atigip.Offer, []*atigip.Application, error) {
	apps, err := atigip.Of[*atigip.Application](tx).All(ctx, atigip.ListFilter{Owner: personID, Status: []string{string(atigip.AppAccepted)}})
	if err != nil {
		return nil, nil, fmt.Errorf("workflow: rules: contracts: %w", err)
	}
	var offers []*atigip.Offer
	var kept []*atigip.Application
	for _, x := range apps {
		if x.OfferID == except {
			continue
		}
		o, err := atigip.Of[*atigip.Offer](tx).Get(ctx, x.OfferID)
		if atigip.ErrorCode(err) == atigip.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		offers = append(offers, o)
		kept = append(kept, x)
	}
	return offers, kept, nil
}

// lawfulContract checks a detainee's pair with an offer before the
// governor's assignment (the application accepted).
func (s *Service) lawfulContract(ctx context.Context, tx atigip.Tx, a Actor, app *atigip.Application, o *atigip.Offer) error {
	person, err := atigip.Of[*atigip.Person](tx).Get(ctx, app.PersonID)
	if err != nil {
		return fmt.Errorf("workflow: rules: person of the application: %w", err)
	}
	contracts, _, err := contractsOf(ctx, tx, person.ID, o.ID)
	if err != nil {
		return err
	}
	ex := matching.Check(matching.Pair{Person: person, Offer: o, Contracts: contracts}, a.today(), s.Rules)
	return matching.Refusal("Affectation refusée par les règles du travail en détention", ex)
}

// filingRules are the rules an application must meet when it is filed:
// the rest (places, hours, contracts) are checked when the governor
// assigns, since a detainee may apply while working and wait on the list.
var filingRules = []matching.Rule{matching.RuleOpen, matching.RuleAudience, matching.RulePrison, matching.RuleWorkClearance}

// lawfulFiling checks an application when it is filed, with the same
// rules and sentences as the engine.
func lawfulFiling(p *atigip.Person, o *atigip.Offer, at atigip.Date, cfg *matching.Config) error {
	var keep []matching.Exclusion
	for _, x := range matching.Check(matching.Pair{Person: p, Offer: o}, at, cfg) {
		if slices.Contains(filingRules, x.Rule) {
			keep = append(keep, x)
		}
	}
	return matching.Refusal("Candidature refusée", keep)
}

// endContracts ends, after a transfer, the person's contracts that the
// rulebook no longer allows (another establishment, clearance to decide
// again): each is closed with the rules' sentences and gives its place
// back. It returns the applications and offers changed.
func endContracts(p *atigip.Person, a Actor, apps []*atigip.Application, offers []*atigip.Offer, cfg *matching.Config) ([]*atigip.Application, []*atigip.Offer) {
	var closed []*atigip.Application
	var freed []*atigip.Offer
	for i, app := range apps {
		o := offers[i]
		ex := matching.Check(matching.Pair{Person: p, Offer: o}, a.today(), cfg)
		var why []string
		for _, x := range ex {
			if info, ok := x.Rule.Info(); ok && info.Transfer {
				why = append(why, x.Message)
			}
		}
		if len(why) == 0 {
			continue
		}
		app.History = append(app.History, atigip.ApplicationEvent{At: a.At.UTC(), By: a.Subject, Role: a.Role, To: atigip.AppClosed,
			Note: "Contrat clos par le transfert : " + strings.Join(why, " ")})
		app.State, app.Rank = atigip.AppClosed, 0
		if o.PlacesTaken > 0 {
			o.PlacesTaken--
		}
		if o.Status == atigip.OfferFilled && o.PlacesLeft() > 0 {
			o.Status = atigip.OfferOpen
		}
		closed = append(closed, app)
		freed = append(freed, o)
	}
	return closed, freed
}
