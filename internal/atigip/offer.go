package atigip

import "strings"

// OfferKind distinguishes the three kinds of IPRO offers.
type OfferKind string

// Offer kinds.
const (
	OfferWork     OfferKind = "work"           // work post in prison
	OfferTraining OfferKind = "training"       // vocational training in prison
	OfferRelease  OfferKind = "job_at_release" // job outside, at release
)

// OfferKinds lists the valid kinds with their French labels.
var OfferKinds = map[OfferKind]string{
	OfferWork:     "Poste de travail en détention",
	OfferTraining: "Formation professionnelle",
	OfferRelease:  "Emploi à la sortie",
}

// EmployerKind is who employs on an offer.
type EmployerKind string

// Employer kinds.
const (
	EmployerConcession EmployerKind = "concessionnaire"
	EmployerSEP        EmployerKind = "prison_employment_service" // service de l'emploi pénitentiaire (RIEP)
	EmployerPublic     EmployerKind = "public"                    // service général
)

// EmployerKinds lists the valid kinds with their French labels.
var EmployerKinds = map[EmployerKind]string{
	EmployerConcession: "Concessionnaire",
	EmployerSEP:        "Service de l'emploi pénitentiaire",
	EmployerPublic:     "Service général",
}

// OfferStatus is whether an offer takes applications.
type OfferStatus string

// Offer statuses.
const (
	OfferOpen   OfferStatus = "open"
	OfferFilled OfferStatus = "filled"
	OfferClosed OfferStatus = "closed"
)

// OfferStatuses lists the valid statuses with their French labels.
var OfferStatuses = map[OfferStatus]string{
	OfferOpen:   "Ouverte",
	OfferFilled: "Pourvue",
	OfferClosed: "Fermée",
}

// Offer is a work post, a training or a job at release (IPRO 360).
type Offer struct {
	Meta
	OfferKind    OfferKind    `json:"kind"`
	Title        string       `json:"title"`
	Description  string       `json:"description,omitempty"`
	PrisonID     int64        `json:"prison_id,omitempty"` // set for work and training in prison
	Address      Address      `json:"address"`             // commune of a job at release
	Location     Point        `json:"location"`
	ROMECodes    []string     `json:"rome_codes"`
	Skills       []string     `json:"skills,omitempty"`
	Places       int          `json:"places"`
	PlacesTaken  int          `json:"places_taken"`
	HoursPerWeek float64      `json:"hours_per_week"`
	Schedule     Schedule     `json:"schedule"`
	EmployerKind EmployerKind `json:"employer_kind"`
	EmployerName string       `json:"employer_name,omitempty"`
	// EmployerSIRET is the company of a concessionnaire's offer (SIRET, or
	// SIREN for the whole company): set by the server from the business's
	// principal, never changed afterwards.
	EmployerSIRET string      `json:"employer_siret,omitempty"`
	Status        OfferStatus `json:"status"`
}

// Kind implements Entity.
func (*Offer) Kind() Kind { return KindOffer }

// Keys implements Entity.
func (o *Offer) Keys() Keys {
	return Keys{Departement: o.Address.Departement, Commune: o.Address.Commune,
		Status: string(o.Status), Parent: o.PrisonID, ROME: o.ROMECodes, Public: true}
}

// PlacesLeft is the number of places still available.
func (o *Offer) PlacesLeft() int { return max(0, o.Places-o.PlacesTaken) }

// Listed reports whether o is shown to audience a in search: the public
// sees only the offers a person could apply to or a business act on (open,
// with a place left); justice professionals also see filled offers, whose
// waiting lists they follow. Neither sees a closed offer nor one without a
// valid place. It is the one rule of what the public finds of offers, as
// Post.Listed is for posts.
func (o *Offer) Listed(a Audience) bool {
	if o.Location.IsZero() || !o.Location.Valid() {
		return false
	}
	switch o.Status {
	case OfferOpen:
		return o.PlacesLeft() > 0 || a == AudienceJustice
	case OfferFilled:
		return a == AudienceJustice
	}
	return false
}

// Prison work limits (code pénitentiaire): at most 10 h a day and 48 h a
// week; part time at least 10 h a week.
const (
	PrisonMaxHoursPerDay  = 10
	PrisonMaxHoursPerWeek = 48
	PrisonMinHoursPerWeek = 10
)

// Validate implements Entity.
func (o *Offer) Validate() error {
	var p Problems
	if _, ok := OfferKinds[o.OfferKind]; !ok {
		p.Add("kind", "Type d'offre inconnu : %q.", o.OfferKind)
	}
	p.Check(strings.TrimSpace(o.Title) == "", "title", "L'intitulé de l'offre est obligatoire.")
	p.Check((o.OfferKind == OfferWork || o.OfferKind == OfferTraining) && o.PrisonID <= 0,
		"prison_id", "Un poste ou une formation en détention doit être rattaché à un établissement pénitentiaire.")
	p.checkROME("rome_codes", o.ROMECodes)
	p.Check(o.Places < 1 || o.Places > 1000, "places", "Le nombre de places doit être compris entre 1 et 1000.")
	p.Check(o.PlacesTaken < 0 || o.PlacesTaken > o.Places, "places_taken", "Les places occupées doivent être comprises entre 0 et le nombre de places.")
	if o.OfferKind == OfferWork {
		p.Check(o.HoursPerWeek < PrisonMinHoursPerWeek || o.HoursPerWeek > PrisonMaxHoursPerWeek,
			"hours_per_week", "Le travail en détention compte de %d à %d heures par semaine.", PrisonMinHoursPerWeek, PrisonMaxHoursPerWeek)
		p.Check(o.Schedule.MaxHoursPerDay() > PrisonMaxHoursPerDay,
			"schedule", "Le travail en détention ne peut dépasser %d heures par jour.", PrisonMaxHoursPerDay)
	} else {
		p.Check(o.HoursPerWeek < 0 || o.HoursPerWeek > 48, "hours_per_week", "Les heures hebdomadaires doivent être comprises entre 0 et 48.")
	}
	p.checkSchedule("schedule", o.Schedule)
	if _, ok := EmployerKinds[o.EmployerKind]; !ok {
		p.Add("employer_kind", "Type d'employeur inconnu : %q.", o.EmployerKind)
	}
	p.Check(o.EmployerSIRET != "" && !ValidSIRET(o.EmployerSIRET) && !ValidSIREN(o.EmployerSIRET),
		"employer_siret", "SIRET (14 chiffres) ou SIREN (9 chiffres) invalide : clé de contrôle (Luhn) fausse ou absente.")
	if _, ok := OfferStatuses[o.Status]; !ok {
		p.Add("status", "Statut d'offre inconnu : %q.", o.Status)
	}
	p.checkAddress("address", o.Address)
	p.checkPoint("location", o.Location, true)
	return p.Err("Offre")
}
