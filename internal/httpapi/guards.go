package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/atigip/atigip360/internal/atigip"
)

// Fields owned by a procedure of internal/workflow are changed only by its
// routes, which check who may act, from which state and with which data,
// and keep the history. The generic CRUD routes refuse to change them: an
// update must send them back as read (409 otherwise, naming each field and
// the route to use), a creation must start where the procedure starts (400
// otherwise). The seed, the CRM sync and the APPI flows write through the
// store, not through these routes, and are not affected.
//
//   - measures: state, history, post_id, start_date, hours_done and
//     suspensions belong to the state machine (POST /api/measures/{id}/
//     transitions, /hours, /hours/{log}/check); a measure is created
//     "to_place", without any of them.
//   - applications: state, rank and history belong to the waiting list
//     (POST /api/applications/{id}/transitions, /rank); person and offer
//     are the application itself. A generic creation is an application
//     filed through the same rules as POST /api/offers/{id}/applications
//     (CPU clearance, open offer, same establishment, no duplicate).
//   - organisations: the habilitation belongs to the procedure (POST
//     /api/procedures, opinions, decision, expiry); an organisation is
//     created "none".
//   - posts: leaving draft is the registration procedure (POST
//     /api/procedures, kind post_registration); a post is created draft;
//     places_taken and the "full" status follow the measures assigned to
//     it. Once registered, its holder opens and closes it freely.
//   - people: the CPU's clearance (work_cleared, work_cleared_at) belongs to
//     POST /api/people/{id}/clearance, a detainee's change of establishment
//     to POST /api/people/{id}/transfer; a person may be created detained
//     in an establishment, never cleared. Entering or leaving detention
//     drops the clearance, as a transfer does.
//   - offers of work and training in prison: places_taken and the "filled"
//     status follow the assignments of the waiting list (POST
//     /api/applications/{id}/transitions); such an offer is created with
//     no place taken, open or closed.

// guardFields collects the refused fields of one write.
type guardFields []atigip.FieldError

func (g *guardFields) check(bad bool, field, format string, args ...any) {
	if bad {
		*g = append(*g, atigip.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
}

// onCreate returns nil or the EINVALID error listing the fields a creation
// may not set.
func (g guardFields) onCreate(what string) error {
	if len(g) == 0 {
		return nil
	}
	return &atigip.Error{Code: atigip.EINVALID, Fields: g,
		Message: fmt.Sprintf("%s : la création part de l'état initial ; les champs suivants sont gérés par la procédure et ses routes dédiées.", what)}
}

// onUpdate returns nil or the ECONFLICT error listing the fields an update
// may not change.
func (g guardFields) onUpdate(what string) error {
	if len(g) == 0 {
		return nil
	}
	return &atigip.Error{Code: atigip.ECONFLICT, Fields: g,
		Message: fmt.Sprintf("%s : ces champs ne se modifient pas par une mise à jour simple ; renvoyez-les tels que lus et utilisez les routes indiquées.", what)}
}

// same reports whether a and b encode to the same JSON, an empty list and
// an absent one being the same (fields tagged omitempty read back absent).
func same(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	norm := func(j []byte) []byte {
		if bytes.Equal(j, []byte("null")) {
			return []byte("[]")
		}
		return j
	}
	return bytes.Equal(norm(ja), norm(jb))
}

const (
	measureTransitions = "POST /api/measures/{id}/transitions"
	measureHours       = "POST /api/measures/{id}/hours puis POST /api/measures/{id}/hours/{log}/check"
	appTransitions     = "POST /api/applications/{id}/transitions"
	appRank            = "POST /api/applications/{id}/rank"
	procedures         = "POST /api/procedures"
)

// guardMeasure keeps the state machine's fields to its routes.
func guardMeasure(p atigip.Principal, old, cur atigip.Entity) error {
	m := cur.(*atigip.Measure)
	var g guardFields
	if old == nil {
		if m.State == "" {
			m.State = atigip.MeasureToPlace
		}
		g.check(m.State != atigip.MeasureToPlace, "state",
			"Une mesure est créée à l'état « %s » ; elle change ensuite d'état par %s.", atigip.MeasureStates[atigip.MeasureToPlace], measureTransitions)
		g.check(len(m.History) > 0, "history", "L'historique est tenu par les transitions : il est vide à la création.")
		g.check(m.PostID != 0, "post_id", "Le poste est proposé au juge par %s (état « proposed »).", measureTransitions)
		g.check(!m.StartDate.IsZero(), "start_date", "La date de début est fixée par %s.", measureTransitions)
		g.check(m.HoursDone != 0, "hours_done", "Les heures effectuées sont déclarées par %s.", measureHours)
		g.check(len(m.Suspensions) > 0, "suspensions", "Les suspensions passent par %s (états « suspended » puis « in_progress »).", measureTransitions)
		return g.onCreate("Mesure de TIG")
	}
	o := old.(*atigip.Measure)
	g.check(m.State != o.State, "state", "L'état d'une mesure change par %s.", measureTransitions)
	g.check(!same(m.History, o.History), "history", "L'historique est tenu par les transitions et ne se modifie pas.")
	g.check(m.PostID != o.PostID, "post_id", "Le poste est proposé puis affecté par %s.", measureTransitions)
	g.check(!same(m.StartDate, o.StartDate), "start_date", "La date de début est fixée par %s.", measureTransitions)
	g.check(m.HoursDone != o.HoursDone, "hours_done", "Les heures effectuées sont déclarées par %s.", measureHours)
	g.check(!same(m.Suspensions, o.Suspensions), "suspensions", "Les suspensions passent par %s (états « suspended » puis « in_progress »).", measureTransitions)
	g.check(m.PersonID != o.PersonID, "person_id", "Une mesure ne change pas de personne : la mesure d'une autre personne se crée (ou arrive d'APPI par FFE11).")
	if sentenceFrozen(p, o) {
		// The sentence sets the legal deadline (18 months from its date):
		// APPI, the system of record, owns it once it sent it, and nobody
		// moves it once the measure is under way.
		g.check(!same(m.SentenceDate, o.SentenceDate), "sentence_date", "La date du jugement vient d'APPI et fixe le délai légal : elle ne se modifie pas ici.")
		g.check(m.HoursOrdered != o.HoursOrdered, "hours_ordered", "Les heures prononcées viennent du jugement (APPI) : elles ne se modifient pas ici.")
		g.check(m.Court != o.Court, "court", "La juridiction vient du jugement (APPI) : elle ne se modifie pas ici.")
		g.check(m.CaseRef != o.CaseRef, "case_ref", "Le numéro APPI de la mesure ne se modifie pas.")
	}
	return g.onUpdate("Mesure de TIG")
}

// sentenceFrozen reports whether the sentence data of measure o are closed
// to p's generic updates: once APPI sent them (a case_ref) or once the
// measure left "to_place"; the case system itself may still correct them.
func sentenceFrozen(p atigip.Principal, o *atigip.Measure) bool {
	return p.Role != atigip.RoleCaseSystem && (o.CaseRef != "" || o.State != atigip.MeasureToPlace)
}

// guardApplication keeps the waiting list's fields to its routes.
func guardApplication(_ atigip.Principal, old, cur atigip.Entity) error {
	a := cur.(*atigip.Application)
	var g guardFields
	if old == nil {
		if a.State == "" {
			a.State = atigip.AppSubmitted
		}
		g.check(a.State != atigip.AppSubmitted, "state",
			"Une candidature est déposée à l'état « %s » ; elle change ensuite d'état par %s.", atigip.ApplicationStates[atigip.AppSubmitted], appTransitions)
		g.check(len(a.History) > 0, "history", "L'historique est tenu par les transitions : il est vide à la création.")
		g.check(a.Rank != 0, "rank", "Le rang est attribué à la fin de la liste d'attente, puis modifié par %s.", appRank)
		return g.onCreate("Candidature")
	}
	o := old.(*atigip.Application)
	g.check(a.State != o.State, "state", "L'état d'une candidature change par %s.", appTransitions)
	g.check(a.Rank != o.Rank, "rank", "Le rang sur la liste d'attente change par %s.", appRank)
	g.check(!same(a.History, o.History), "history", "L'historique est tenu par les transitions et ne se modifie pas.")
	g.check(a.PersonID != o.PersonID, "person_id", "Une candidature ne change pas de personne : déposez-en une nouvelle.")
	g.check(a.OfferID != o.OfferID, "offer_id", "Une candidature ne change pas d'offre : déposez-en une nouvelle par POST /api/offers/{id}/applications.")
	return g.onUpdate("Candidature")
}

// guardOrganisation keeps the habilitation to its procedure.
func guardOrganisation(_ atigip.Principal, old, cur atigip.Entity) error {
	o := cur.(*atigip.Organisation)
	var g guardFields
	if old == nil {
		if o.Habilitation.Status == "" {
			o.Habilitation.Status = atigip.HabNone
		}
		g.check(!same(o.Habilitation, atigip.Habilitation{Status: atigip.HabNone}), "habilitation",
			"Une structure d'accueil est créée « %s » ; l'habilitation se demande par %s, puis suit les avis et la décision du DSPIP.",
			atigip.HabilitationStatuses[atigip.HabNone], procedures)
		return g.onCreate("Structure d'accueil")
	}
	g.check(!same(o.Habilitation, old.(*atigip.Organisation).Habilitation), "habilitation",
		"L'habilitation se demande par %s et résulte des avis et de la décision du DSPIP : elle ne se modifie pas directement.", procedures)
	return g.onUpdate("Structure d'accueil")
}

// guardPost keeps registration to its procedure and the places taken to
// the measures.
func guardPost(_ atigip.Principal, old, cur atigip.Entity) error {
	p := cur.(*atigip.Post)
	var g guardFields
	if old == nil {
		if p.Status == "" {
			p.Status = atigip.PostDraft
		}
		g.check(p.Status != atigip.PostDraft, "status",
			"Un poste est créé à l'état « %s » ; son inscription se demande par %s (type post_registration) et est décidée par le DSPIP.",
			atigip.PostStatuses[atigip.PostDraft], procedures)
		g.check(p.PlacesTaken != 0, "places_taken", "Les places occupées suivent les mesures affectées au poste : 0 à la création.")
		return g.onCreate("Poste de TIG")
	}
	o := old.(*atigip.Post)
	g.check(o.Status == atigip.PostDraft && p.Status != atigip.PostDraft, "status",
		"Un poste quitte l'état « %s » par son inscription : demandez-la par %s (type post_registration).", atigip.PostStatuses[atigip.PostDraft], procedures)
	g.check(p.Status == atigip.PostFull && o.Status != atigip.PostFull, "status",
		"L'état « %s » résulte des mesures affectées au poste ; pour ne plus recevoir de tigiste, fermez le poste (closed).", atigip.PostStatuses[atigip.PostFull])
	g.check(p.PlacesTaken != o.PlacesTaken, "places_taken", "Les places occupées suivent les mesures affectées au poste (%s).", measureTransitions)
	return g.onUpdate("Poste de TIG")
}

const (
	personClearance = "POST /api/people/{id}/clearance"
	personTransfer  = "POST /api/people/{id}/transfer"
)

// guardPerson keeps the CPU's clearance and the transfers of a detainee to
// their routes. A person may arrive detained in an establishment (the
// prison case system, or its staff, registers detainees), but not cleared:
// the CPU's decision is recorded by its route. Entering or leaving
// detention has no procedure of its own; like a transfer it drops the
// clearance, which belongs to one establishment's CPU.
func guardPerson(_ atigip.Principal, old, cur atigip.Entity) error {
	p := cur.(*atigip.Person)
	var g guardFields
	if old == nil {
		g.check(p.WorkCleared, "work_cleared",
			"Le classement au travail est décidé par la CPU de l'établissement pénitentiaire et enregistré par %s : il est absent à la création.", personClearance)
		g.check(p.WorkClearedAt != nil, "work_cleared_at",
			"La date du classement au travail est fixée par %s.", personClearance)
		return g.onCreate("Profil de la personne")
	}
	o := old.(*atigip.Person)
	if p.Detained != o.Detained {
		// Incarceration or release: the clearance may only be sent back as
		// read or dropped, and is dropped.
		g.check(p.WorkCleared && !o.WorkCleared, "work_cleared",
			"Le classement au travail est décidé par la CPU du nouvel établissement et enregistré par %s.", personClearance)
		g.check(p.WorkClearedAt != nil && !same(p.WorkClearedAt, o.WorkClearedAt), "work_cleared_at",
			"La date du classement au travail est fixée par %s.", personClearance)
		if len(g) == 0 {
			p.WorkCleared, p.WorkClearedAt = false, nil
		}
		return g.onUpdate("Profil de la personne")
	}
	g.check(p.WorkCleared != o.WorkCleared, "work_cleared",
		"Le classement au travail est décidé par la CPU et enregistré par %s.", personClearance)
	g.check(!same(p.WorkClearedAt, o.WorkClearedAt), "work_cleared_at",
		"La date du classement au travail est fixée par %s.", personClearance)
	g.check(o.Detained && p.PrisonID != o.PrisonID, "prison_id",
		"Le changement d'établissement pénitentiaire d'une personne détenue est un transfert : utilisez %s (les candidatures ouvertes sont closes, le classement revient à la CPU).", personTransfer)
	return g.onUpdate("Profil de la personne")
}

// prisonOffer reports whether applications, hence the places-taken count,
// are handled by the waiting list for o (work and training in prison; jobs
// at release are not applied to here).
func prisonOffer(o *atigip.Offer) bool {
	return o.OfferKind == atigip.OfferWork || o.OfferKind == atigip.OfferTraining
}

// guardOffer keeps the places taken of work and training offers to the
// assignments of the waiting list.
func guardOffer(_ atigip.Principal, old, cur atigip.Entity) error {
	f := cur.(*atigip.Offer)
	var g guardFields
	if old == nil {
		if !prisonOffer(f) {
			return nil
		}
		g.check(f.PlacesTaken != 0, "places_taken",
			"Les places occupées suivent les affectations des candidats (%s, état « accepted ») : 0 à la création.", appTransitions)
		g.check(f.Status == atigip.OfferFilled, "status",
			"L'état « %s » résulte des affectations des candidats (%s) ; une offre est créée ouverte ou fermée.", atigip.OfferStatuses[atigip.OfferFilled], appTransitions)
		return g.onCreate("Offre")
	}
	o := old.(*atigip.Offer)
	g.check(f.EmployerSIRET != o.EmployerSIRET, "employer_siret", "L'entreprise d'une offre de concessionnaire est fixée à sa création : elle ne change pas.")
	if !prisonOffer(f) && !prisonOffer(o) {
		return g.onUpdate("Offre")
	}
	g.check(f.PlacesTaken != o.PlacesTaken, "places_taken",
		"Les places occupées suivent les affectations des candidats par le chef d'établissement (%s, état « accepted »).", appTransitions)
	g.check(f.Status == atigip.OfferFilled && o.Status != atigip.OfferFilled, "status",
		"L'état « %s » résulte des affectations des candidats (%s) ; pour ne plus recevoir de candidature, fermez l'offre (closed).", atigip.OfferStatuses[atigip.OfferFilled], appTransitions)
	return g.onUpdate("Offre")
}
