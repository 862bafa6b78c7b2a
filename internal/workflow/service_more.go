package workflow

import (
	"context"
	"fmt"

	"github.com/atigip/atigip360/internal/atigip"
)

// RequestProcedure opens a habilitation or post registration procedure.
func (s *Service) RequestProcedure(ctx context.Context, p atigip.Principal, r ProcedureRequest) (*atigip.Procedure, error) {
	var out *atigip.Procedure
	err := s.Store.InTx(ctx, func(tx atigip.Tx) error {
		a := s.actor(p)
		o, err := atigip.Of[*atigip.Organisation](tx).Get(ctx, r.OrganisationID)
		if err != nil {
			return err
		}
		var post *atigip.Post
		if r.Kind == atigip.ProcPostRegistration {
			if post, err = atigip.Of[*atigip.Post](tx).Get(ctx, r.PostID); err != nil {
				return err
			}
		}
		open := false
		err = atigip.Of[*atigip.Procedure](tx).Scan(ctx, atigip.ListFilter{Parent: o.ID, Status: []string{string(atigip.ProcAwaiting)}},
			func(x *atigip.Procedure) error {
				if x.ProcKind == r.Kind && (r.Kind == atigip.ProcHabilitation || x.PostID == r.PostID) {
					open = true
				}
				return nil
			})
		if err != nil {
			return err
		}
		before := o.Habilitation
		proc, err := Request(o, post, a, r, open)
		if err != nil {
			return err
		}
		if err := tx.Entities(atigip.KindProcedure).Create(ctx, proc); err != nil {
			return err
		}
		if o.Habilitation != before {
			if err := tx.Entities(atigip.KindOrganisation).Update(ctx, o); err != nil {
				return err
			}
		}
		out = proc
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: request procedure: %w", err)
	}
	return out, nil
}

// GiveOpinion records an opinion on procedure id.
func (s *Service) GiveOpinion(ctx context.Context, p atigip.Principal, id int64, r OpinionRequest) (*atigip.Procedure, error) {
	var out *atigip.Procedure
	err := s.Store.InTx(ctx, func(tx atigip.Tx) error {
		proc, err := atigip.Of[*atigip.Procedure](tx).Get(ctx, id)
		if err != nil {
			return err
		}
		if err := GiveOpinion(proc, s.actor(p), r); err != nil {
			return err
		}
		out = proc
		return tx.Entities(atigip.KindProcedure).Update(ctx, proc)
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: opinion: %w", err)
	}
	return out, nil
}

// Decide records the decision on procedure id and carries it onto the
// organisation or the post, in one transaction.
func (s *Service) Decide(ctx context.Context, p atigip.Principal, id int64, r DecisionRequest) (*atigip.Procedure, error) {
	var out *atigip.Procedure
	err := s.Store.InTx(ctx, func(tx atigip.Tx) error {
		proc, err := atigip.Of[*atigip.Procedure](tx).Get(ctx, id)
		if err != nil {
			return err
		}
		if err := Decide(proc, s.actor(p), r); err != nil {
			return err
		}
		if err := tx.Entities(atigip.KindProcedure).Update(ctx, proc); err != nil {
			return err
		}
		o, err := atigip.Of[*atigip.Organisation](tx).Get(ctx, proc.OrganisationID)
		if err != nil {
			return err
		}
		var post *atigip.Post
		if proc.ProcKind == atigip.ProcPostRegistration {
			if post, err = atigip.Of[*atigip.Post](tx).Get(ctx, proc.PostID); err != nil {
				return err
			}
		}
		before, postBefore := o.Habilitation, atigip.PostStatus("")
		if post != nil {
			postBefore = post.Status
		}
		Enact(proc, o, post)
		if o.Habilitation != before {
			if err := tx.Entities(atigip.KindOrganisation).Update(ctx, o); err != nil {
				return err
			}
		}
		if post != nil && post.Status != postBefore {
			if err := tx.Entities(atigip.KindPost).Update(ctx, post); err != nil {
				return err
			}
		}
		out = proc
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: decide: %w", err)
	}
	return out, nil
}

// ExpireHabilitations marks expired every habilitation that ended before
// today (and its granted procedure), and returns how many.
func (s *Service) ExpireHabilitations(ctx context.Context, today atigip.Date) (int, error) {
	n := 0
	err := s.Store.InTx(ctx, func(tx atigip.Tx) error {
		orgs, err := atigip.Of[*atigip.Organisation](tx).All(ctx, atigip.ListFilter{Status: []string{string(atigip.HabHabilitated)}})
		if err != nil {
			return err
		}
		for _, o := range orgs {
			if !Expire(o, today) {
				continue
			}
			if err := tx.Entities(atigip.KindOrganisation).Update(ctx, o); err != nil {
				return err
			}
			n++
			procs, err := atigip.Of[*atigip.Procedure](tx).All(ctx, atigip.ListFilter{Parent: o.ID, Status: []string{string(atigip.ProcGranted)}})
			if err != nil {
				return err
			}
			for _, pr := range procs {
				if pr.ProcKind == atigip.ProcHabilitation && !pr.ValidUntil.IsZero() && pr.ValidUntil.Before(today.Time) {
					pr.Status = atigip.ProcExpired
					if err := tx.Entities(atigip.KindProcedure).Update(ctx, pr); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("workflow: expire habilitations: %w", err)
	}
	return n, nil
}

// Clear records the CPU's clearance of detainee id.
func (s *Service) Clear(ctx context.Context, p atigip.Principal, id int64, cleared bool) (*atigip.Person, error) {
	var out *atigip.Person
	err := s.Store.InTx(ctx, func(tx atigip.Tx) error {
		a := s.actor(p)
		pe, err := atigip.Of[*atigip.Person](tx).Get(ctx, id)
		if err != nil {
			return err
		}
		if err := Clear(pe, a, cleared); err != nil {
			return err
		}
		if err := tx.Entities(atigip.KindPerson).Update(ctx, pe); err != nil {
			return err
		}
		out = pe
		return audit(ctx, tx, a, "cpu_clearance", atigip.KindPerson, pe.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: clearance: %w", err)
	}
	return out, nil
}

// offerApps returns the applications of an offer.
func offerApps(ctx context.Context, tx atigip.Tx, offerID int64) ([]*atigip.Application, error) {
	return atigip.Of[*atigip.Application](tx).All(ctx, atigip.ListFilter{Parent: offerID})
}

func updateApps(ctx context.Context, tx atigip.Tx, apps []*atigip.Application, skip int64) error {
	for _, x := range apps {
		if x.ID == skip {
			continue
		}
		if err := tx.Entities(atigip.KindApplication).Update(ctx, x); err != nil {
			return err
		}
	}
	return nil
}

// ApplyTo files person's application to offer, last on its waiting list.
func (s *Service) ApplyTo(ctx context.Context, p atigip.Principal, offerID, personID int64, note string) (*atigip.Application, error) {
	var out *atigip.Application
	err := s.Store.InTx(ctx, func(tx atigip.Tx) error {
		a := s.actor(p)
		o, err := atigip.Of[*atigip.Offer](tx).Get(ctx, offerID)
		if err != nil {
			return err
		}
		pe, err := atigip.Of[*atigip.Person](tx).Get(ctx, personID)
		if err != nil {
			return err
		}
		app, err := Apply(pe, o, a, note)
		if err != nil {
			return err
		}
		apps, err := offerApps(ctx, tx, offerID)
		if err != nil {
			return err
		}
		last := 0
		for _, x := range apps {
			if Waiting(x.State) {
				if x.PersonID == personID {
					return atigip.Errorf(atigip.ECONFLICT, "Une candidature de cette personne est déjà en cours pour cette offre.")
				}
				last = max(last, x.Rank)
			}
		}
		app.Rank = last + 1
		if err := tx.Entities(atigip.KindApplication).Create(ctx, app); err != nil {
			return err
		}
		out = app
		return audit(ctx, tx, a, "apply", atigip.KindApplication, app.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: apply: %w", err)
	}
	return out, nil
}

// AppTransitionTo moves application id (read at version) and keeps its
// offer's places and waiting list consistent, in one transaction.
func (s *Service) AppTransitionTo(ctx context.Context, p atigip.Principal, id, version int64, t AppTransition) (*atigip.Application, error) {
	var out *atigip.Application
	err := s.Store.InTx(ctx, func(tx atigip.Tx) error {
		a := s.actor(p)
		app, err := atigip.Of[*atigip.Application](tx).Get(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && version != app.Version {
			return stale(app.Version)
		}
		o, err := atigip.Of[*atigip.Offer](tx).Get(ctx, app.OfferID)
		if err != nil {
			return err
		}
		places := o.PlacesTaken
		if t.To == atigip.AppAccepted && Waiting(app.State) {
			if err := s.lawfulContract(ctx, tx, a, app, o); err != nil {
				return err
			}
		}
		if err := ApplyApplication(app, o, a, t); err != nil {
			return err
		}
		if err := tx.Entities(atigip.KindApplication).Update(ctx, app); err != nil {
			return err
		}
		if o.PlacesTaken != places {
			if err := tx.Entities(atigip.KindOffer).Update(ctx, o); err != nil {
				return err
			}
		}
		if !Waiting(app.State) {
			apps, err := offerApps(ctx, tx, o.ID)
			if err != nil {
				return err
			}
			if err := updateApps(ctx, tx, Renumber(apps), app.ID); err != nil {
				return err
			}
		}
		out = app
		return audit(ctx, tx, a, "application:"+string(t.To), atigip.KindApplication, app.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: application: %w", err)
	}
	return out, nil
}

// WaitingList returns the waiting applications of an offer, first first.
func (s *Service) WaitingList(ctx context.Context, offerID int64) ([]*atigip.Application, error) {
	if _, err := atigip.Of[*atigip.Offer](s.Store).Get(ctx, offerID); err != nil {
		return nil, fmt.Errorf("workflow: waiting list: %w", err)
	}
	apps, err := offerApps(ctx, s.Store, offerID)
	if err != nil {
		return nil, fmt.Errorf("workflow: waiting list: %w", err)
	}
	Renumber(apps) // in memory only: a list stored unnumbered still reads in order
	out := []*atigip.Application{}
	for _, x := range apps {
		if Waiting(x.State) {
			out = append(out, x)
		}
	}
	sortByRank(out)
	return out, nil
}

func sortByRank(apps []*atigip.Application) {
	for i := 1; i < len(apps); i++ {
		for j := i; j > 0 && apps[j].Rank < apps[j-1].Rank; j-- {
			apps[j], apps[j-1] = apps[j-1], apps[j]
		}
	}
}

// MoveApplication puts application id at rank on its offer's list.
func (s *Service) MoveApplication(ctx context.Context, p atigip.Principal, id int64, rank int) ([]*atigip.Application, error) {
	var out []*atigip.Application
	err := s.Store.InTx(ctx, func(tx atigip.Tx) error {
		a := s.actor(p)
		app, err := atigip.Of[*atigip.Application](tx).Get(ctx, id)
		if err != nil {
			return err
		}
		o, err := atigip.Of[*atigip.Offer](tx).Get(ctx, app.OfferID)
		if err != nil {
			return err
		}
		apps, err := offerApps(ctx, tx, o.ID)
		if err != nil {
			return err
		}
		before := map[int64]int{}
		for _, x := range apps {
			before[x.ID] = x.Rank
		}
		if _, err := Move(apps, o, a, id, rank); err != nil {
			return err
		}
		for _, x := range apps {
			if x.Rank != before[x.ID] {
				if err := tx.Entities(atigip.KindApplication).Update(ctx, x); err != nil {
					return err
				}
			}
			if Waiting(x.State) {
				out = append(out, x)
			}
		}
		sortByRank(out)
		return audit(ctx, tx, a, "rank", atigip.KindApplication, id)
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: move application: %w", err)
	}
	return out, nil
}

// TransferRequest moves a detainee.
type TransferRequest struct {
	PrisonID int64  `json:"prison_id"`
	Reason   string `json:"reason,omitempty"`
}

// Transfer moves detainee id to another establishment, closing the open
// applications and renumbering the waiting lists they leave.
func (s *Service) Transfer(ctx context.Context, p atigip.Principal, id int64, r TransferRequest) (*atigip.Person, []*atigip.Application, error) {
	var person *atigip.Person
	var closed []*atigip.Application
	err := s.Store.InTx(ctx, func(tx atigip.Tx) error {
		a := s.actor(p)
		pe, err := atigip.Of[*atigip.Person](tx).Get(ctx, id)
		if err != nil {
			return err
		}
		if _, err := atigip.Of[*atigip.Prison](tx).Get(ctx, r.PrisonID); err != nil {
			if atigip.ErrorCode(err) == atigip.ENOTFOUND {
				return invalid("prison_id", "L'établissement pénitentiaire n° %d n'existe pas.", r.PrisonID)
			}
			return err
		}
		// Applications are keyed by offer and indexed by person (Owner).
		mine, err := atigip.Of[*atigip.Application](tx).All(ctx, atigip.ListFilter{Owner: id,
			Status: []string{string(atigip.AppSubmitted), string(atigip.AppInterview)}})
		if err != nil {
			return err
		}
		if closed, err = Transfer(pe, r.PrisonID, a, r.Reason, mine); err != nil {
			return err
		}
		// The contracts of the old establishment end by the rulebook: the
		// transfer cannot be refused for them (it is the administration's
		// decision), so the contracts it makes unlawful are closed.
		held, contracts, err := contractsOf(ctx, tx, pe.ID, 0)
		if err != nil {
			return err
		}
		ended, freed := endContracts(pe, a, contracts, held, s.Rules)
		for _, o := range freed {
			if err := tx.Entities(atigip.KindOffer).Update(ctx, o); err != nil {
				return err
			}
		}
		closed = append(closed, ended...)
		if err := tx.Entities(atigip.KindPerson).Update(ctx, pe); err != nil {
			return err
		}
		offers := map[int64]bool{}
		for _, x := range closed {
			if err := tx.Entities(atigip.KindApplication).Update(ctx, x); err != nil {
				return err
			}
			offers[x.OfferID] = true
		}
		for oid := range offers {
			apps, err := offerApps(ctx, tx, oid)
			if err != nil {
				return err
			}
			if err := updateApps(ctx, tx, Renumber(apps), 0); err != nil {
				return err
			}
		}
		person = pe
		return audit(ctx, tx, a, "transfer", atigip.KindPerson, pe.ID)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("workflow: transfer: %w", err)
	}
	return person, closed, nil
}
