package atigip

import (
	"strings"
	"time"
)

// The kinds persisted by the workflows: messages exchanged with the case
// system (APPI), hour reports and incidents of TIG measures, and
// habilitation or post registration procedures. They are stored like every
// kind (one generic table each, the change feed for free) but are served by
// their own routes (internal/httpapi workflow and flows modules), not by the
// generic CRUD, and are not seeded: hence a list apart from Kinds.
const (
	KindFlowMessage Kind = "flow_messages"
	KindMeasureLog  Kind = "measure_logs"
	KindProcedure   Kind = "procedures"
)

// WorkflowKinds lists the kinds of the workflows.
var WorkflowKinds = []Kind{KindFlowMessage, KindMeasureLog, KindProcedure}

// AllKinds returns Kinds, WorkflowKinds then SiteKinds: every kind a store keeps.
func AllKinds() []Kind {
	out := make([]Kind, 0, len(Kinds)+len(WorkflowKinds)+len(SiteKinds))
	return append(append(append(out, Kinds...), WorkflowKinds...), SiteKinds...)
}

// SiteKinds lists the kinds the website's forms create (no CRUD route).
var SiteKinds = []Kind{KindContactRequest}

// newWorkflowEntity is New for the workflow kinds (nil for any other).
func newWorkflowEntity(k Kind) Entity {
	switch k {
	case KindFlowMessage:
		return &FlowMessage{}
	case KindMeasureLog:
		return &MeasureLog{}
	case KindProcedure:
		return &Procedure{}
	case KindContactRequest:
		return &ContactRequest{}
	}
	return nil
}

// FlowType names a message exchanged with APPI.
type FlowType string

// Flow types.
const (
	FFE11 FlowType = "FFE11" // in: a person sentenced to TIG must be placed
	FFS12 FlowType = "FFS12" // out: the CPIP's proposal (person, post, start date) to the judge
	FFE13 FlowType = "FFE13" // in: the judge confirms the assignment
	FFE15 FlowType = "FFE15" // in: the judge refuses the proposal, with a reason
)

// FlowTypes lists the flow types with their French labels.
var FlowTypes = map[FlowType]string{
	FFE11: "Mesure de TIG à placer (APPI vers ATIGIP)",
	FFS12: "Proposition de poste au juge (ATIGIP vers APPI)",
	FFE13: "Affectation ordonnée par le juge (APPI vers ATIGIP)",
	FFE15: "Refus de la proposition par le juge (APPI vers ATIGIP)",
}

// FlowDirection says whether a message was received or is to be sent.
type FlowDirection string

// Flow directions.
const (
	FlowIn  FlowDirection = "in"
	FlowOut FlowDirection = "out"
)

// FlowStatus is where a message stands.
type FlowStatus string

// Flow statuses: accepted, held and rejected for inbound messages, pending
// and acked for outbound ones.
const (
	FlowAccepted FlowStatus = "accepted" // applied to the measure
	FlowHeld     FlowStatus = "held"     // waits for an earlier message of the same measure
	FlowRejected FlowStatus = "rejected" // malformed or impossible; kept for inspection
	FlowPending  FlowStatus = "pending"  // outbound, not yet acknowledged by APPI
	FlowAcked    FlowStatus = "acked"    // outbound, acknowledged
)

// FlowStatuses lists the statuses with their French labels.
var FlowStatuses = map[FlowStatus]string{
	FlowAccepted: "Intégré",
	FlowHeld:     "En attente d'un message antérieur",
	FlowRejected: "Rejeté",
	FlowPending:  "À transmettre",
	FlowAcked:    "Acquitté",
}

// MaxFlowBody caps the stored text of a message.
const MaxFlowBody = 64 << 10

// FlowMessage is one message received from or to be sent to APPI. It holds
// case references and, for FFE11, a person's profile: sensitive.
type FlowMessage struct {
	Meta
	// MessageID is the sender's identifier: inbound messages are idempotent
	// by it; outbound ones carry ours.
	MessageID string        `json:"message_id,omitempty"`
	Direction FlowDirection `json:"direction"`
	Type      FlowType      `json:"type,omitempty"`
	Status    FlowStatus    `json:"status"`
	CaseRef   string        `json:"case_ref,omitempty"` // the measure's number in APPI
	MeasureID int64         `json:"measure_id,omitempty"`
	// Seq is the message's rank among the messages of its measure in its
	// direction, from 1.
	Seq int64 `json:"seq,omitempty"`
	// Body is the message as received (even malformed) or as sent.
	Body        string     `json:"body"`
	Reason      string     `json:"reason,omitempty"` // why held or rejected (French)
	Departement string     `json:"departement,omitempty"`
	At          time.Time  `json:"at"` // received or queued
	AckedAt     *time.Time `json:"acked_at,omitempty"`
}

// Kind implements Entity.
func (*FlowMessage) Kind() Kind { return KindFlowMessage }

// Keys implements Entity. The reference makes a message id unique per
// direction, which makes inbound messages idempotent even under concurrent
// deliveries; rejected messages have none, so a corrected message may reuse
// the id of a malformed one.
func (f *FlowMessage) Keys() Keys {
	k := Keys{Departement: f.Departement, Status: string(f.Status), Parent: f.MeasureID}
	if f.MessageID != "" && f.Status != FlowRejected {
		k.Ref = string(f.Direction) + ":" + f.MessageID
	}
	return k
}

// Validate implements Entity.
func (f *FlowMessage) Validate() error {
	var p Problems
	p.Check(f.Direction != FlowIn && f.Direction != FlowOut, "direction", "Sens du message inconnu : %q.", f.Direction)
	if _, ok := FlowStatuses[f.Status]; !ok {
		p.Add("status", "Statut de message inconnu : %q.", f.Status)
	}
	if _, ok := FlowTypes[f.Type]; !ok && f.Status != FlowRejected {
		p.Add("type", "Type de message inconnu : %q.", f.Type)
	}
	p.Check(len(f.MessageID) > 100, "message_id", "L'identifiant du message dépasse 100 caractères.")
	p.Check(f.MessageID == "" && f.Status != FlowRejected, "message_id", "L'identifiant du message est obligatoire.")
	p.Check(len(f.Body) > MaxFlowBody, "body", "Le message dépasse %d octets.", MaxFlowBody)
	p.Check((f.Status == FlowRejected || f.Status == FlowHeld) && strings.TrimSpace(f.Reason) == "",
		"reason", "Le motif du rejet ou de la mise en attente est obligatoire.")
	p.Check(f.At.IsZero(), "at", "La date du message est obligatoire.")
	return p.Err("Message de flux")
}

// MeasureLogType distinguishes hour reports from incidents.
type MeasureLogType string

// Measure log types.
const (
	LogHours    MeasureLogType = "hours"
	LogIncident MeasureLogType = "incident"
)

// IncidentKind is what happened during a TIG.
type IncidentKind string

// Incident kinds.
const (
	IncidentAbsence   IncidentKind = "absence"
	IncidentBehaviour IncidentKind = "behaviour"
	IncidentAccident  IncidentKind = "accident"
)

// IncidentKinds lists the incident kinds with their French labels.
var IncidentKinds = map[IncidentKind]string{
	IncidentAbsence:   "Absence",
	IncidentBehaviour: "Comportement",
	IncidentAccident:  "Accident",
}

// MeasureLogStatus is where an entry stands: hours are reported by the
// tutor, then confirmed (or rejected) by the CPIP; incidents are recorded.
type MeasureLogStatus string

// Measure log statuses.
const (
	LogReported  MeasureLogStatus = "reported"
	LogConfirmed MeasureLogStatus = "confirmed"
	LogRejected  MeasureLogStatus = "rejected"
	LogRecorded  MeasureLogStatus = "recorded"
)

// MeasureLogStatuses lists the statuses with their French labels.
var MeasureLogStatuses = map[MeasureLogStatus]string{
	LogReported:  "Déclarées par le tuteur",
	LogConfirmed: "Confirmées par le CPIP",
	LogRejected:  "Refusées par le CPIP",
	LogRecorded:  "Enregistré",
}

// MeasureLog is an hour report or an incident of a TIG measure. Sensitive.
type MeasureLog struct {
	Meta
	MeasureID    int64            `json:"measure_id"`
	LogType      MeasureLogType   `json:"type"`
	Date         Date             `json:"date"` // day worked, or day of the incident
	Hours        float64          `json:"hours,omitempty"`
	Incident     IncidentKind     `json:"incident,omitempty"`
	Note         string           `json:"note,omitempty"`
	Status       MeasureLogStatus `json:"status"`
	ReportedBy   string           `json:"reported_by"`
	ReportedRole Role             `json:"reported_role"`
	ReportedAt   time.Time        `json:"reported_at"`
	CheckedBy    string           `json:"checked_by,omitempty"` // the CPIP who confirmed or rejected
	CheckedAt    *time.Time       `json:"checked_at,omitempty"`
	Departement  string           `json:"departement,omitempty"`
}

// Kind implements Entity.
func (*MeasureLog) Kind() Kind { return KindMeasureLog }

// Keys implements Entity.
func (l *MeasureLog) Keys() Keys {
	return Keys{Departement: l.Departement, Status: string(l.Status), Parent: l.MeasureID}
}

// Validate implements Entity.
func (l *MeasureLog) Validate() error {
	var p Problems
	p.Check(l.MeasureID <= 0, "measure_id", "La mesure est obligatoire.")
	p.Check(l.Date.IsZero(), "date", "La date est obligatoire.")
	if _, ok := MeasureLogStatuses[l.Status]; !ok {
		p.Add("status", "Statut inconnu : %q.", l.Status)
	}
	switch l.LogType {
	case LogHours:
		p.Check(l.Hours <= 0 || l.Hours > 12, "hours", "Les heures d'une journée doivent être comprises entre 0 et 12.")
		p.Check(l.Status == LogRecorded, "status", "Des heures sont déclarées, confirmées ou refusées.")
	case LogIncident:
		if _, ok := IncidentKinds[l.Incident]; !ok {
			p.Add("incident", "Type d'incident inconnu : %q (absence, behaviour, accident).", l.Incident)
		}
		p.Check(l.Status != LogRecorded, "status", "Un incident est enregistré.")
	default:
		p.Add("type", "Type d'entrée inconnu : %q (hours ou incident).", l.LogType)
	}
	p.Check(len(l.Note) > 2000, "note", "La note dépasse 2 000 caractères.")
	p.Check(l.ReportedBy == "", "reported_by", "L'auteur de la déclaration est obligatoire.")
	return p.Err("Suivi de mesure")
}

// ProcedureKind distinguishes habilitation of an organisation from the
// registration of one of its posts.
type ProcedureKind string

// Procedure kinds.
const (
	ProcHabilitation     ProcedureKind = "habilitation"
	ProcPostRegistration ProcedureKind = "post_registration"
)

// ProcedureKinds lists the kinds with their French labels.
var ProcedureKinds = map[ProcedureKind]string{
	ProcHabilitation:     "Habilitation de la structure d'accueil",
	ProcPostRegistration: "Inscription d'un poste de TIG",
}

// ProcedureStatus is where a procedure stands.
type ProcedureStatus string

// Procedure statuses.
const (
	ProcAwaiting ProcedureStatus = "awaiting_opinions"
	ProcGranted  ProcedureStatus = "granted"
	ProcRefused  ProcedureStatus = "refused"
	ProcExpired  ProcedureStatus = "expired"
)

// ProcedureStatuses lists the statuses with their French labels.
var ProcedureStatuses = map[ProcedureStatus]string{
	ProcAwaiting: "En attente des avis et de la décision",
	ProcGranted:  "Accordée",
	ProcRefused:  "Refusée",
	ProcExpired:  "Expirée",
}

// OpinionAuthority is who gives an opinion before the decision.
type OpinionAuthority string

// Opinion authorities.
const (
	OpinionProsecutor OpinionAuthority = "prosecutor" // procureur de la République
	OpinionJAP        OpinionAuthority = "jap"        // juge de l'application des peines
	OpinionPrefect    OpinionAuthority = "prefect"    // préfet, where needed
)

// OpinionAuthorities lists the authorities with their French labels.
var OpinionAuthorities = map[OpinionAuthority]string{
	OpinionProsecutor: "Procureur de la République",
	OpinionJAP:        "Juge de l'application des peines",
	OpinionPrefect:    "Préfet",
}

// Opinion is one authority's opinion, with who gave it and when.
type Opinion struct {
	Authority  OpinionAuthority `json:"authority"`
	Favourable bool             `json:"favourable"`
	Comment    string           `json:"comment,omitempty"`
	By         string           `json:"by"`
	Role       Role             `json:"role"`
	At         time.Time        `json:"at"`
}

// Procedure is a request for habilitation of a host organisation, or for
// registration of one of its posts, with the opinions and the decision.
type Procedure struct {
	Meta
	ProcKind       ProcedureKind `json:"kind"`
	OrganisationID int64         `json:"organisation_id"`
	PostID         int64         `json:"post_id,omitempty"` // post registration only
	// Minors marks a procedure decided by the PJJ territorial director
	// (posts for minors) rather than the DSPIP.
	Minors          bool            `json:"minors,omitempty"`
	PrefectRequired bool            `json:"prefect_required,omitempty"`
	Status          ProcedureStatus `json:"status"`
	RequestedBy     string          `json:"requested_by"`
	RequestedRole   Role            `json:"requested_role"`
	RequestedAt     time.Time       `json:"requested_at"`
	// OpinionDeadline is the last day for opinions; after it, the
	// director may decide without the missing ones.
	OpinionDeadline Date       `json:"opinion_deadline"`
	Opinions        []Opinion  `json:"opinions,omitempty"`
	DecidedBy       string     `json:"decided_by,omitempty"`
	DecidedRole     Role       `json:"decided_role,omitempty"`
	DecidedAt       *time.Time `json:"decided_at,omitempty"`
	Authority       string     `json:"authority,omitempty"` // who decided, in words
	Reason          string     `json:"reason,omitempty"`
	ValidUntil      Date       `json:"valid_until"` // granted habilitations expire
	RenewalOf       int64      `json:"renewal_of,omitempty"`
	Departement     string     `json:"departement,omitempty"`
}

// Kind implements Entity.
func (*Procedure) Kind() Kind { return KindProcedure }

// Keys implements Entity. Procedures hold no personal data but are not
// public either.
func (p *Procedure) Keys() Keys {
	return Keys{Departement: p.Departement, Status: string(p.Status), Parent: p.OrganisationID}
}

// Validate implements Entity.
func (p *Procedure) Validate() error {
	var pr Problems
	if _, ok := ProcedureKinds[p.ProcKind]; !ok {
		pr.Add("kind", "Type de procédure inconnu : %q.", p.ProcKind)
	}
	pr.Check(p.OrganisationID <= 0, "organisation_id", "La structure d'accueil est obligatoire.")
	pr.Check(p.ProcKind == ProcPostRegistration && p.PostID <= 0, "post_id", "Le poste à inscrire est obligatoire.")
	if _, ok := ProcedureStatuses[p.Status]; !ok {
		pr.Add("status", "Statut de procédure inconnu : %q.", p.Status)
	}
	pr.Check(p.RequestedBy == "" || p.RequestedAt.IsZero(), "requested_by", "L'auteur et la date de la demande sont obligatoires.")
	pr.Check(p.OpinionDeadline.IsZero(), "opinion_deadline", "La date limite des avis est obligatoire.")
	for i, o := range p.Opinions {
		if _, ok := OpinionAuthorities[o.Authority]; !ok {
			pr.Add(fieldIndex("opinions", i, "authority"), "Autorité inconnue : %q.", o.Authority)
		}
		pr.Check(o.By == "" || o.At.IsZero(), fieldIndex("opinions", i, "by"), "L'auteur et la date de l'avis sont obligatoires.")
	}
	decided := p.Status != ProcAwaiting
	pr.Check(decided && (p.DecidedBy == "" || p.DecidedAt == nil), "decided_by", "L'auteur et la date de la décision sont obligatoires.")
	pr.Check(p.Status == ProcRefused && strings.TrimSpace(p.Reason) == "", "reason", "Le motif du refus est obligatoire.")
	pr.Check(len(p.Reason) > 2000, "reason", "Le motif dépasse 2 000 caractères.")
	return pr.Err("Procédure")
}
