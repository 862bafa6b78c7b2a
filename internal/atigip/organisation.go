package atigip

import (
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// OrganisationKind is the legal nature of a host organisation or business.
type OrganisationKind string

// Organisation kinds.
const (
	OrgCommune       OrganisationKind = "commune"
	OrgAssociation   OrganisationKind = "association"
	OrgPublicBody    OrganisationKind = "public_body"
	OrgHospital      OrganisationKind = "hospital"
	OrgSocialEconomy OrganisationKind = "social_economy"
	OrgCompany       OrganisationKind = "company"
)

// OrganisationKinds lists the valid kinds with their French labels.
var OrganisationKinds = map[OrganisationKind]string{
	OrgCommune:       "Commune",
	OrgAssociation:   "Association",
	OrgPublicBody:    "Établissement public",
	OrgHospital:      "Établissement de santé",
	OrgSocialEconomy: "Entreprise de l'économie sociale et solidaire",
	OrgCompany:       "Entreprise",
}

// HabilitationStatus is where an organisation stands in the habilitation
// procedure that allows it to host TIG posts.
type HabilitationStatus string

// Habilitation statuses.
const (
	HabNone        HabilitationStatus = "none"
	HabRequested   HabilitationStatus = "requested"
	HabAwaiting    HabilitationStatus = "awaiting_opinions"
	HabHabilitated HabilitationStatus = "habilitated"
	HabRefused     HabilitationStatus = "refused"
	HabExpired     HabilitationStatus = "expired"
)

// HabilitationStatuses lists the valid statuses with their French labels.
var HabilitationStatuses = map[HabilitationStatus]string{
	HabNone:        "Non habilitée",
	HabRequested:   "Habilitation demandée",
	HabAwaiting:    "En attente des avis",
	HabHabilitated: "Habilitée",
	HabRefused:     "Habilitation refusée",
	HabExpired:     "Habilitation expirée",
}

// Habilitation records the decision that lets an organisation host TIG.
type Habilitation struct {
	Status      HabilitationStatus `json:"status"`
	RequestedAt *time.Time         `json:"requested_at,omitempty"`
	DecidedAt   *time.Time         `json:"decided_at,omitempty"`
	ExpiresAt   *time.Time         `json:"expires_at,omitempty"`
	// Authority is who decided: the DSPIP, or the PJJ territorial director for minors' posts.
	Authority string `json:"authority,omitempty"`
}

// Address is a French postal address with the INSEE codes that locate it.
type Address struct {
	Street      string `json:"street,omitempty"`
	Postcode    string `json:"postcode,omitempty"`
	City        string `json:"city,omitempty"`
	Commune     string `json:"commune,omitempty"`     // INSEE code
	Departement string `json:"departement,omitempty"` // INSEE code
	Region      string `json:"region,omitempty"`      // INSEE code
}

// Contact is a professional contact of an organisation (a tutor, a
// director): professional data, shown to justice professionals only.
type Contact struct {
	Name  string `json:"name"`
	Role  string `json:"role,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Organisation is a host organisation (structure d'accueil), a business or
// any partner managed by TIG referents in the CRM.
type Organisation struct {
	Meta
	CRMID        int64            `json:"crm_id,omitempty"`
	CRMVersion   int64            `json:"crm_version,omitempty"`
	Name         string           `json:"name"`
	OrgKind      OrganisationKind `json:"kind"`
	SIRET        string           `json:"siret,omitempty"`
	Address      Address          `json:"address"`
	Location     Point            `json:"location"`
	Habilitation Habilitation     `json:"habilitation"`
	Contacts     []Contact        `json:"contacts,omitempty"`
	// Active is false for partners archived in the CRM: kept, never deleted.
	Active bool `json:"active"`
}

// Kind implements Entity.
func (*Organisation) Kind() Kind { return KindOrganisation }

// Keys implements Entity.
func (o *Organisation) Keys() Keys {
	k := Keys{Departement: o.Address.Departement, Commune: o.Address.Commune,
		Status: string(o.Habilitation.Status), Public: o.Active}
	if o.CRMID > 0 {
		k.Ref = "crm:" + strconv.FormatInt(o.CRMID, 10)
	}
	return k
}

// Validate implements Entity.
func (o *Organisation) Validate() error {
	var p Problems
	p.Check(strings.TrimSpace(o.Name) == "", "name", "Le nom est obligatoire.")
	p.Check(len(o.Name) > 300, "name", "Le nom dépasse 300 caractères.")
	if _, ok := OrganisationKinds[o.OrgKind]; !ok {
		p.Add("kind", "Type de structure inconnu : %q.", o.OrgKind)
	}
	if o.SIRET != "" && !ValidSIRET(o.SIRET) {
		p.Add("siret", "SIRET invalide : 14 chiffres attendus, clé de contrôle (Luhn) fausse ou absente.")
	}
	if _, ok := HabilitationStatuses[o.Habilitation.Status]; !ok {
		p.Add("habilitation.status", "Statut d'habilitation inconnu : %q.", o.Habilitation.Status)
	}
	p.checkAddress("address", o.Address)
	p.checkPoint("location", o.Location, false)
	for i, c := range o.Contacts {
		p.Check(strings.TrimSpace(c.Name) == "", fieldIndex("contacts", i, "name"), "Le nom du contact est obligatoire.")
		if c.Email != "" {
			if _, err := mail.ParseAddress(c.Email); err != nil {
				p.Add(fieldIndex("contacts", i, "email"), "Adresse électronique invalide.")
			}
		}
	}
	return p.Err("Structure")
}

func (p *Problems) checkAddress(field string, a Address) {
	if a.Postcode != "" && !isDigits(a.Postcode, 5) {
		p.Add(field+".postcode", "Le code postal doit compter 5 chiffres.")
	}
	if a.Commune != "" && !validINSEE(a.Commune) {
		p.Add(field+".commune", "Code INSEE de commune invalide.")
	}
	if a.Departement != "" && !validDepartement(a.Departement) {
		p.Add(field+".departement", "Code de département invalide.")
	}
}
