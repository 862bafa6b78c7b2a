package atigip

import (
	"strings"
	"time"
)

// MeasureState is where a TIG measure stands, from sentence to closure.
type MeasureState string

// Measure states.
const (
	MeasureToPlace      MeasureState = "to_place"
	MeasureProposed     MeasureState = "proposed"
	MeasureAssigned     MeasureState = "assigned"
	MeasureInProgress   MeasureState = "in_progress"
	MeasureSuspended    MeasureState = "suspended"
	MeasureCompleted    MeasureState = "completed"
	MeasureClosedFailed MeasureState = "closed_failed"
)

// MeasureStates lists the valid states with their French labels.
var MeasureStates = map[MeasureState]string{
	MeasureToPlace:      "À placer",
	MeasureProposed:     "Proposée au juge",
	MeasureAssigned:     "Affectée",
	MeasureInProgress:   "En cours d'exécution",
	MeasureSuspended:    "Suspendue",
	MeasureCompleted:    "Exécutée",
	MeasureClosedFailed: "Clôturée sans exécution",
}

// TIG limits (code pénal, art. 131-8): 20 to 400 hours within 18 months.
const (
	MinTIGHours    = 20
	MaxTIGHours    = 400
	TIGDelayMonths = 18
)

// Suspension is a period during which the 18-month delay stops running
// (incarceration, medical reasons…). To is zero while it lasts.
type Suspension struct {
	From   Date   `json:"from"`
	To     Date   `json:"to"`
	Reason string `json:"reason,omitempty"`
}

// MeasureEvent is one entry of a measure's history.
type MeasureEvent struct {
	At     time.Time    `json:"at"`
	By     string       `json:"by"` // subject of the professional, never a person under supervision
	Role   Role         `json:"role"`
	From   MeasureState `json:"from,omitempty"`
	To     MeasureState `json:"to"`
	Note   string       `json:"note,omitempty"`
	PostID int64        `json:"post_id,omitempty"`
	// Overrides names the placement rules a professional knowingly set
	// aside at a proposal, with the reason in Note (matching.Overridable).
	Overrides []string `json:"overrides,omitempty"`
}

// Measure is a TIG sentence to execute. Sensitive.
type Measure struct {
	Meta
	PersonID     int64          `json:"person_id"`
	CaseRef      string         `json:"case_ref,omitempty"` // the measure's number in APPI
	HoursOrdered int            `json:"hours_ordered"`
	HoursDone    float64        `json:"hours_done"`
	SentenceDate Date           `json:"sentence_date"`
	Suspensions  []Suspension   `json:"suspensions,omitempty"`
	State        MeasureState   `json:"state"`
	PostID       int64          `json:"post_id,omitempty"`
	StartDate    Date           `json:"start_date"` // first day of work
	Court        string         `json:"court,omitempty"`
	Departement  string         `json:"departement,omitempty"` // of the probation service in charge
	Minor        bool           `json:"minor,omitempty"`       // followed by the PJJ
	History      []MeasureEvent `json:"history,omitempty"`
}

// Kind implements Entity.
func (*Measure) Kind() Kind { return KindMeasure }

// Keys implements Entity. Measures are never public.
func (m *Measure) Keys() Keys {
	k := Keys{Departement: m.Departement, Status: string(m.State), Parent: m.PersonID, Owner: m.PersonID}
	if m.CaseRef != "" {
		k.Ref = "APPI:" + m.CaseRef
	}
	return k
}

// SuspendedDays counts the days of suspension up to today (an open
// suspension runs until today).
func (m *Measure) SuspendedDays(today Date) int {
	n := 0
	for _, s := range m.Suspensions {
		end := s.To
		if end.IsZero() || end.After(today.Time) {
			end = today
		}
		if d := s.From.DaysUntil(end); d > 0 {
			n += d
		}
	}
	return n
}

// Deadline is the date by which the hours must be done: 18 months after
// the sentence, pushed back by the days of suspension.
func (m *Measure) Deadline(today Date) Date {
	if m.SentenceDate.IsZero() {
		return Date{}
	}
	return Date{m.SentenceDate.AddDate(0, TIGDelayMonths, 0)}.AddDays(m.SuspendedDays(today))
}

// HoursLeft is what remains to be done.
func (m *Measure) HoursLeft() float64 { return max(0, float64(m.HoursOrdered)-m.HoursDone) }

// Validate implements Entity.
func (m *Measure) Validate() error {
	var p Problems
	p.Check(m.PersonID <= 0, "person_id", "La personne est obligatoire.")
	p.Check(m.HoursOrdered < MinTIGHours || m.HoursOrdered > MaxTIGHours, "hours_ordered",
		"La durée du TIG doit être comprise entre %d et %d heures.", MinTIGHours, MaxTIGHours)
	p.Check(m.HoursDone < 0 || m.HoursDone > float64(m.HoursOrdered), "hours_done",
		"Les heures effectuées doivent être comprises entre 0 et les heures prononcées.")
	p.Check(m.SentenceDate.IsZero(), "sentence_date", "La date de la condamnation est obligatoire.")
	p.Check(!m.SentenceDate.IsZero() && m.SentenceDate.After(time.Now().AddDate(0, 0, 1)), "sentence_date", "La date de la condamnation est dans le futur.")
	if _, ok := MeasureStates[m.State]; !ok {
		p.Add("state", "État de mesure inconnu : %q.", m.State)
	}
	needsPost := m.State != MeasureToPlace && m.State != MeasureClosedFailed
	p.Check(needsPost && m.PostID <= 0, "post_id", "Un poste est obligatoire dans l'état « %s ».", MeasureStates[m.State])
	for i, s := range m.Suspensions {
		p.Check(s.From.IsZero(), fieldIndex("suspensions", i, "from"), "La date de début de suspension est obligatoire.")
		p.Check(!s.To.IsZero() && s.To.Before(s.From.Time), fieldIndex("suspensions", i, "to"), "La fin de suspension précède son début.")
	}
	p.Check(len(m.Court) > 200, "court", "Le nom de la juridiction dépasse 200 caractères.")
	return p.Err("Mesure de TIG")
}

// ApplicationState is where a detainee's application to an offer stands.
type ApplicationState string

// Application states.
const (
	AppSubmitted ApplicationState = "submitted"
	AppInterview ApplicationState = "interview"
	AppAccepted  ApplicationState = "accepted" // assigned by the governor: contract (CEP)
	AppRefused   ApplicationState = "refused"
	AppWithdrawn ApplicationState = "withdrawn"
	AppClosed    ApplicationState = "closed" // e.g. transfer to another establishment
)

// ApplicationStates lists the valid states with their French labels.
var ApplicationStates = map[ApplicationState]string{
	AppSubmitted: "Déposée",
	AppInterview: "Entretien",
	AppAccepted:  "Classée – affectée",
	AppRefused:   "Refusée",
	AppWithdrawn: "Retirée",
	AppClosed:    "Close",
}

// ApplicationEvent is one entry of an application's history.
type ApplicationEvent struct {
	At   time.Time        `json:"at"`
	By   string           `json:"by"`
	Role Role             `json:"role"`
	To   ApplicationState `json:"to"`
	Note string           `json:"note,omitempty"`
}

// Application is a person's request for an offer. Sensitive.
type Application struct {
	Meta
	PersonID int64              `json:"person_id"`
	OfferID  int64              `json:"offer_id"`
	State    ApplicationState   `json:"state"`
	Rank     int                `json:"rank"` // position on the offer's waiting list, 1 first
	Note     string             `json:"note,omitempty"`
	History  []ApplicationEvent `json:"history,omitempty"`
}

// Kind implements Entity.
func (*Application) Kind() Kind { return KindApplication }

// Keys implements Entity. Parent is the offer: waiting lists are per
// offer; Owner is the person: their applications across offers.
func (a *Application) Keys() Keys {
	return Keys{Status: string(a.State), Parent: a.OfferID, Owner: a.PersonID}
}

// Validate implements Entity.
func (a *Application) Validate() error {
	var p Problems
	p.Check(a.PersonID <= 0, "person_id", "La personne est obligatoire.")
	p.Check(a.OfferID <= 0, "offer_id", "L'offre est obligatoire.")
	if _, ok := ApplicationStates[a.State]; !ok {
		p.Add("state", "État de candidature inconnu : %q.", a.State)
	}
	p.Check(a.Rank < 0, "rank", "Le rang doit être positif.")
	p.Check(len(strings.TrimSpace(a.Note)) > 2000, "note", "La note dépasse 2 000 caractères.")
	return p.Err("Candidature")
}
