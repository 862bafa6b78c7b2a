package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// Inbound is every message APPI sends: an envelope and the payload of its
// type.
type Inbound struct {
	// MessageID is APPI's identifier of the message: a message received
	// twice (retry after a lost acknowledgement) is applied once.
	MessageID string          `json:"message_id"`
	Type      atigip.FlowType `json:"type"`
	SentAt    time.Time       `json:"sent_at"`
	// CaseRef is the measure's number in APPI.
	CaseRef string `json:"case_ref"`
	// Seq is the message's rank among the messages APPI sent about this
	// measure, from 1: a gap holds the message until the missing one comes.
	Seq   int64  `json:"seq"`
	FFE11 *FFE11 `json:"ffe11,omitempty"`
	FFE13 *FFE13 `json:"ffe13,omitempty"`
	FFE15 *FFE15 `json:"ffe15,omitempty"`
}

// FFE11 says that a person sentenced to TIG must be placed: it creates or
// updates the person's reference and the measure.
type FFE11 struct {
	Person  FFE11Person  `json:"person"`
	Measure FFE11Measure `json:"measure"`
}

// FFE11Person is the least the placement needs: a pseudonym, never a name.
type FFE11Person struct {
	CaseRef     string           `json:"case_ref"` // the person's number in APPI
	Pseudonym   string           `json:"pseudonym"`
	BirthDate   atigip.Date      `json:"birth_date"`
	Minor       bool             `json:"minor"`
	HomeAddress atigip.Address   `json:"home_address"`
	Home        atigip.Point     `json:"home"`
	Mobility    *atigip.Mobility `json:"mobility,omitempty"`
}

// FFE11Measure is the sentence.
type FFE11Measure struct {
	HoursOrdered int         `json:"hours_ordered"`
	SentenceDate atigip.Date `json:"sentence_date"`
	Court        string      `json:"court,omitempty"`
	Departement  string      `json:"departement"` // of the probation service in charge
}

// FFE13 is the judge's assignment of the proposed post.
type FFE13 struct {
	ProposalID string      `json:"proposal_id"` // the FFS12 message answered
	PostID     int64       `json:"post_id"`
	StartDate  atigip.Date `json:"start_date"` // may differ from the proposal
}

// FFE15 is the judge's refusal of a proposal.
type FFE15 struct {
	ProposalID string `json:"proposal_id"`
	Reason     string `json:"reason"`
}

// FFS12 is the CPIP's proposal to the judge, as APPI receives it.
type FFS12 struct {
	MessageID string          `json:"message_id"`
	Type      atigip.FlowType `json:"type"`
	CaseRef   string          `json:"case_ref"`
	// Seq is the proposal's rank among the messages sent about this
	// measure, from 1.
	Seq        int64       `json:"seq"`
	MeasureID  int64       `json:"measure_id"`
	Person     FFS12Person `json:"person"`
	Post       FFS12Post   `json:"post"`
	StartDate  atigip.Date `json:"start_date"`
	ProposedBy string      `json:"proposed_by"`
	ProposedAt time.Time   `json:"proposed_at"`
}

// FFS12Person names the person by references only.
type FFS12Person struct {
	CaseRef   string `json:"case_ref"`
	Pseudonym string `json:"pseudonym"`
}

// FFS12Post describes the proposed post for the judge.
type FFS12Post struct {
	ID           int64          `json:"id"`
	Title        string         `json:"title"`
	Organisation string         `json:"organisation"`
	Address      atigip.Address `json:"address"`
	HoursPerWeek float64        `json:"hours_per_week"`
}

// malformed is a message that cannot be read or lacks what every message
// needs: it is rejected and kept for inspection.
func malformed(format string, args ...any) error {
	return atigip.Errorf(atigip.EINVALID, "Message mal formé : "+format, args...)
}

// Parse reads an inbound message strictly: unknown fields, trailing data,
// a missing envelope field or a payload that does not match the type are
// errors with a French reason.
func Parse(body []byte) (*Inbound, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, malformed("corps vide, un document JSON est attendu.")
	}
	if len(body) > atigip.MaxFlowBody {
		return nil, malformed("le message dépasse %d octets.", atigip.MaxFlowBody)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var m Inbound
	if err := dec.Decode(&m); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, malformed("JSON illisible (position %d).", syn.Offset)
		case errors.As(err, &typ):
			return nil, malformed("type incorrect pour le champ %q.", typ.Field)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return nil, malformed("champ inconnu %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, malformed("document JSON incomplet.")
		}
		// Custom decoders (dates, instants) fail with technical texts.
		return nil, malformed("valeur illisible : les dates s'écrivent AAAA-MM-JJ et les instants au format RFC 3339.")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, malformed("données en trop après le document JSON.")
	}
	var p atigip.Problems
	if err := atigip.CheckText(&m); err != nil {
		p = append(p, atigip.ErrorFields(err)...) // a NUL would be a 500 on PostgreSQL
	}
	p.Check(strings.TrimSpace(m.MessageID) == "" || len(m.MessageID) > 100, "message_id", "Identifiant de message obligatoire (100 caractères au plus).")
	p.Check(strings.TrimSpace(m.CaseRef) == "" || len(m.CaseRef) > 40, "case_ref", "Numéro de la mesure dans APPI obligatoire (40 caractères au plus).")
	p.Check(m.Seq < 1, "seq", "Numéro de séquence obligatoire, à partir de 1.")
	payloads := 0
	for _, set := range []bool{m.FFE11 != nil, m.FFE13 != nil, m.FFE15 != nil} {
		if set {
			payloads++
		}
	}
	switch m.Type {
	case atigip.FFE11:
		p.Check(m.FFE11 == nil, "ffe11", "Le contenu ffe11 est obligatoire pour un message FFE11.")
		if m.FFE11 != nil {
			p.Check(strings.TrimSpace(m.FFE11.Person.CaseRef) == "", "ffe11.person.case_ref", "Le numéro APPI de la personne est obligatoire.")
		}
	case atigip.FFE13:
		p.Check(m.FFE13 == nil, "ffe13", "Le contenu ffe13 est obligatoire pour un message FFE13.")
		if m.FFE13 != nil {
			p.Check(m.FFE13.ProposalID == "", "ffe13.proposal_id", "L'identifiant de la proposition (FFS12) est obligatoire.")
			p.Check(m.FFE13.PostID <= 0, "ffe13.post_id", "Le poste affecté est obligatoire.")
		}
	case atigip.FFE15:
		p.Check(m.FFE15 == nil, "ffe15", "Le contenu ffe15 est obligatoire pour un message FFE15.")
		if m.FFE15 != nil {
			p.Check(m.FFE15.ProposalID == "", "ffe15.proposal_id", "L'identifiant de la proposition (FFS12) est obligatoire.")
			p.Check(strings.TrimSpace(m.FFE15.Reason) == "", "ffe15.reason", "Le motif du refus est obligatoire.")
		}
	default:
		p.Add("type", "Type de message inconnu : %q (FFE11, FFE13 ou FFE15 attendu).", m.Type)
	}
	p.Check(payloads > 1, "type", "Un message ne porte qu'un seul contenu, celui de son type.")
	if err := p.Err("Message"); err != nil {
		e := err.(*atigip.Error)
		e.Message = "Message mal formé : " + reasons(e.Fields)
		return &m, e
	}
	return &m, nil
}

func reasons(fs []atigip.FieldError) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Field + " : " + f.Message
	}
	return strings.Join(parts, " ; ")
}
