package atigip

import (
	"net/mail"
	"strings"
)

// KindContactRequest is the kind of a business's contact request to a
// penitentiary establishment (site form of the floor-space search).
const KindContactRequest Kind = "contact_requests"

// ContactRequest is a business asking a penitentiary establishment about
// setting up a workshop. It holds the company's professional contact, is
// read only by the establishment's staff, and is never public.
type ContactRequest struct {
	Meta
	PrisonID     int64  `json:"prison_id"`
	FloorSpaceID int64  `json:"floor_space_id,omitempty"`
	Company      string `json:"company"`
	SIRET        string `json:"siret,omitempty"` // of the signed-in business
	Email        string `json:"email"`
	Phone        string `json:"phone,omitempty"`
	Message      string `json:"message"`
	// Subject is who sent it (the principal's subject).
	Subject     string `json:"subject"`
	Departement string `json:"departement,omitempty"` // the establishment's
}

// Kind implements Entity.
func (*ContactRequest) Kind() Kind { return KindContactRequest }

// Keys implements Entity.
func (r *ContactRequest) Keys() Keys {
	return Keys{Departement: r.Departement, Parent: r.PrisonID, Status: "received"}
}

// Validate implements Entity.
func (r *ContactRequest) Validate() error {
	var p Problems
	p.Check(r.PrisonID <= 0, "prison_id", "L'établissement pénitentiaire est obligatoire.")
	p.Check(strings.TrimSpace(r.Company) == "", "company", "Indiquez le nom de l'entreprise.")
	p.Check(len(r.Company) > 200, "company", "Le nom de l'entreprise dépasse 200 caractères.")
	if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email || len(r.Email) > 200 {
		p.Add("email", "Indiquez un courriel valide, par exemple contact@entreprise.fr.")
	}
	p.Check(len(r.Phone) > 30 || strings.Trim(r.Phone, "0123456789 +.()-") != "", "phone", "Le téléphone ne peut contenir que des chiffres, espaces et les signes + . ( ) -.")
	p.Check(strings.TrimSpace(r.Message) == "", "message", "Décrivez votre projet en quelques lignes.")
	p.Check(len([]rune(r.Message)) > 2000, "message", "Le message dépasse 2 000 caractères.")
	p.Check(r.Subject == "", "subject", "L'auteur de la demande est inconnu.")
	return p.Err("Demande de contact")
}
