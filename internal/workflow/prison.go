package workflow

import (
	"slices"
	"sort"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
)

// Waiting reports whether an application is on its offer's waiting list.
func Waiting(s atigip.ApplicationState) bool {
	return s == atigip.AppSubmitted || s == atigip.AppInterview
}

func appStateLabel(s atigip.ApplicationState) string {
	if l, ok := atigip.ApplicationStates[s]; ok {
		return l
	}
	return string(s)
}

// staffOf checks that a is prison staff of the establishment (national
// staff, PrisonID 0, act everywhere).
func staffOf(a Actor, prisonID int64, what string) error {
	if a.Role != atigip.RolePrisonStaff {
		return atigip.Errorf(atigip.EFORBIDDEN, "Votre rôle (%s) ne permet pas de %s : c'est le rôle du personnel pénitentiaire.", roleLabel(a.Role), what)
	}
	if a.PrisonID != 0 && a.PrisonID != prisonID {
		return atigip.Errorf(atigip.EFORBIDDEN, "Vous ne pouvez %s que dans votre établissement pénitentiaire.", what)
	}
	return nil
}

// Clear records the CPU's decision on a detainee's clearance for work and
// training (classement).
func Clear(p *atigip.Person, a Actor, cleared bool) error {
	if err := staffOf(a, p.PrisonID, "enregistrer la décision de la CPU"); err != nil {
		return err
	}
	if !p.Detained {
		return atigip.Errorf(atigip.ECONFLICT, "Seule une personne détenue peut être classée au travail par la CPU.")
	}
	p.WorkCleared = cleared
	p.WorkClearedAt = nil
	if cleared {
		at := a.At.UTC()
		p.WorkClearedAt = &at
	}
	return nil
}

// Apply builds a person's application to a work or training offer in
// prison. The caller gives it the next rank on the offer's waiting list.
func Apply(p *atigip.Person, o *atigip.Offer, a Actor, note string) (*atigip.Application, error) {
	switch a.Role {
	case atigip.RolePerson:
		if a.PersonID == 0 || a.PersonID != p.ID {
			return nil, atigip.Errorf(atigip.EFORBIDDEN, "Vous ne pouvez candidater que pour vous-même.")
		}
	case atigip.RolePrisonStaff:
		if err := staffOf(a, p.PrisonID, "déposer une candidature"); err != nil {
			return nil, err
		}
	case atigip.RoleCPIP:
	default:
		return nil, atigip.Errorf(atigip.EFORBIDDEN, "Votre rôle (%s) ne permet pas de déposer une candidature.", roleLabel(a.Role))
	}
	if o.OfferKind != atigip.OfferWork && o.OfferKind != atigip.OfferTraining {
		return nil, atigip.Errorf(atigip.ECONFLICT, "Seuls les postes de travail et les formations en détention reçoivent des candidatures ici.")
	}
	// The offer open, the person detained in its establishment and cleared
	// by the CPU (for work and training alike): the rulebook's rules and
	// sentences, as the engine ranks them.
	if err := lawfulFiling(p, o, a.today(), nil); err != nil {
		return nil, err
	}
	app := &atigip.Application{PersonID: p.ID, OfferID: o.ID, State: atigip.AppSubmitted, Note: strings.TrimSpace(note),
		History: []atigip.ApplicationEvent{{At: a.At.UTC(), By: a.Subject, Role: a.Role, To: atigip.AppSubmitted, Note: "Candidature déposée"}}}
	return app, nil
}

// AppTransition is a request to move an application.
type AppTransition struct {
	To     atigip.ApplicationState `json:"to"`
	Reason string                  `json:"reason,omitempty"`
}

// ApplyApplication checks t and applies it to app; entering accepted takes
// a place on the offer (the caller stores o too). Leaving the waiting list
// sets the rank to 0: the caller renumbers the others (Renumber).
func ApplyApplication(app *atigip.Application, o *atigip.Offer, a Actor, t AppTransition) error {
	if _, ok := atigip.ApplicationStates[t.To]; !ok {
		return invalid("to", "État cible inconnu : %q.", t.To)
	}
	if !Waiting(app.State) {
		return atigip.Errorf(atigip.ECONFLICT, "La candidature est close (« %s ») : elle ne peut plus changer.", appStateLabel(app.State))
	}
	reason := strings.TrimSpace(t.Reason)
	switch t.To {
	case atigip.AppInterview:
		if app.State != atigip.AppSubmitted {
			return atigip.Errorf(atigip.ECONFLICT, "L'entretien est déjà prévu.")
		}
		if err := staffOf(a, o.PrisonID, "organiser l'entretien"); err != nil {
			return err
		}
	case atigip.AppAccepted:
		if err := staffOf(a, o.PrisonID, "classer un candidat (affectation par le chef d'établissement)"); err != nil {
			return err
		}
		if o.PlacesLeft() == 0 {
			return atigip.Errorf(atigip.ECONFLICT, "L'offre n'a plus de place : le candidat reste sur la liste d'attente.")
		}
		o.PlacesTaken++
		if o.PlacesLeft() == 0 {
			o.Status = atigip.OfferFilled
		}
	case atigip.AppRefused:
		if err := staffOf(a, o.PrisonID, "refuser une candidature"); err != nil {
			return err
		}
		if reason == "" {
			return invalid("reason", "Le motif du refus est obligatoire.")
		}
	case atigip.AppWithdrawn:
		own := a.Role == atigip.RolePerson && a.PersonID != 0 && a.PersonID == app.PersonID
		if !own && a.Role != atigip.RoleCPIP && staffOf(a, o.PrisonID, "retirer une candidature") != nil {
			return atigip.Errorf(atigip.EFORBIDDEN, "Seuls la personne elle-même, son CPIP ou le personnel de l'établissement peuvent retirer la candidature.")
		}
	case atigip.AppClosed:
		if err := staffOf(a, o.PrisonID, "clore une candidature"); err != nil {
			return err
		}
		if reason == "" {
			return invalid("reason", "Le motif de la clôture est obligatoire.")
		}
	default:
		return atigip.Errorf(atigip.ECONFLICT, "Transition interdite vers « %s ».", appStateLabel(t.To))
	}
	app.History = append(app.History, atigip.ApplicationEvent{At: a.At.UTC(), By: a.Subject, Role: a.Role, To: t.To, Note: reason})
	app.State = t.To
	if !Waiting(t.To) {
		app.Rank = 0
	}
	return nil
}

// Renumber gives the waiting applications of one offer ranks 1..n, keeping
// their order (rank, then id: first come, first served), and returns those
// whose rank changed.
func Renumber(apps []*atigip.Application) []*atigip.Application {
	var waiting []*atigip.Application
	for _, a := range apps {
		if Waiting(a.State) {
			waiting = append(waiting, a)
		}
	}
	sort.SliceStable(waiting, func(i, j int) bool {
		ri, rj := waiting[i].Rank, waiting[j].Rank
		if ri == 0 { // not ranked yet: after the ranked ones
			ri = 1 << 30
		}
		if rj == 0 {
			rj = 1 << 30
		}
		if ri != rj {
			return ri < rj
		}
		return waiting[i].ID < waiting[j].ID
	})
	var changed []*atigip.Application
	for i, a := range waiting {
		if a.Rank != i+1 {
			a.Rank = i + 1
			changed = append(changed, a)
		}
	}
	return changed
}

// Move puts the waiting application id at rank (1 first) and renumbers
// the others; staff of the offer's establishment order the list.
func Move(apps []*atigip.Application, o *atigip.Offer, a Actor, id int64, rank int) ([]*atigip.Application, error) {
	if err := staffOf(a, o.PrisonID, "ordonner la liste d'attente"); err != nil {
		return nil, err
	}
	Renumber(apps)
	var waiting []*atigip.Application
	var moved *atigip.Application
	for _, x := range apps {
		if Waiting(x.State) {
			if x.ID == id {
				moved = x
				continue
			}
			waiting = append(waiting, x)
		}
	}
	if moved == nil {
		return nil, atigip.Errorf(atigip.ECONFLICT, "Cette candidature n'est pas sur la liste d'attente de l'offre.")
	}
	if rank < 1 || rank > len(waiting)+1 {
		return nil, invalid("rank", "Le rang doit être compris entre 1 et %d.", len(waiting)+1)
	}
	sort.Slice(waiting, func(i, j int) bool { return waiting[i].Rank < waiting[j].Rank })
	waiting = slices.Insert(waiting, rank-1, moved)
	var changed []*atigip.Application
	for i, x := range waiting {
		if x.Rank != i+1 {
			x.Rank = i + 1
			changed = append(changed, x)
		}
	}
	return changed, nil
}

// Transfer moves a detainee to another establishment: the professional
// profile is the same record and follows; the open applications, which
// belong to the old establishment, are closed with the reason, and the
// clearance for work awaits the new establishment's CPU.
func Transfer(p *atigip.Person, toPrison int64, a Actor, reason string, apps []*atigip.Application) ([]*atigip.Application, error) {
	if err := staffOf(a, p.PrisonID, "transférer une personne"); err != nil {
		return nil, err
	}
	if !p.Detained {
		return nil, atigip.Errorf(atigip.ECONFLICT, "Seule une personne détenue peut être transférée.")
	}
	if toPrison <= 0 || toPrison == p.PrisonID {
		return nil, invalid("prison_id", "L'établissement de destination doit être différent de l'établissement actuel.")
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = "Transfert"
	}
	var closed []*atigip.Application
	for _, app := range apps {
		if app.PersonID != p.ID || !Waiting(app.State) {
			continue
		}
		app.History = append(app.History, atigip.ApplicationEvent{At: a.At.UTC(), By: a.Subject, Role: a.Role,
			To: atigip.AppClosed, Note: "Transfert vers un autre établissement : " + reason})
		app.State, app.Rank = atigip.AppClosed, 0
		closed = append(closed, app)
	}
	p.PrisonID = toPrison
	// Clearance (classement) is decided by the CPU of each establishment:
	// the new one decides again; skills, diplomas and wishes stay.
	p.WorkCleared, p.WorkClearedAt = false, nil
	return closed, nil
}
