package crmsync

import (
	"encoding/json"
	"math"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/atigip/atigip360/crmsync/axelor"
	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// This file is the one place where a CRM Partner becomes an Organisation.
//
// Owned by the CRM (pulled, never pushed):
//
//	Partner.name                          → Organisation.Name
//	Partner.registrationCode (SIRET)      → Organisation.SIRET (dropped when not a valid SIRET)
//	Partner.partnerCategory.code, .name   → Organisation.OrgKind (Config.CategoryKinds by code, else the
//	                                        category name's keywords, else Config.DefaultKind)
//	mainAddress.addressL4                 → Address.Street
//	mainAddress.zip                       → Address.Postcode
//	mainAddress.city.name                 → Address.City
//	mainAddress.inseeCode, else geocoded  → Address.Commune, with Departement and Region of that commune
//	mainAddress.latit/longit              → Location (when the CRM has coordinates)
//	emailAddress.address, fixedPhone      → the contact named "Accueil" with role RoleCRMContact
//	archived                              → Active = !archived (never deleted)
//	id, version                           → CRMID, CRMVersion (CRMID gives the unique ref "crm:<id>")
//
// Owned by ATIGIP 360 (pushed, and pushed only after a local decision):
//
//	Habilitation.Status                   → partnerAttrs.atigipHabilitation
//	Habilitation.DecidedAt (YYYY-MM-DD)   → partnerAttrs.atigipDateHabilitation
//	open posts (status "open") count      → partnerAttrs.atigipPostesOuverts
//	Location geocoded from postcode+city  → mainAddress.latit/longit, only while the CRM has none
//
// Provenance (provenance.go): for each owned field the store keeps what it
// and the CRM held at their last agreement. A field is pushed only when
// its local value changed since then (a local decision after the last
// pull); when only the CRM's changed, the CRM's habilitation is adopted
// here. A store that never agreed on a field (empty, restored) therefore
// adopts and never pushes it.
//
// Other partnerAttrs keys belong to referents and are kept as they are.

// partnerAttrs keys written by this system.
const (
	AttrHabilitation     = "atigipHabilitation"
	AttrHabilitationDate = "atigipDateHabilitation"
	AttrOpenPosts        = "atigipPostesOuverts"
)

// RoleCRMContact marks the contact that mirrors the partner's e-mail and
// phone; other contacts of an organisation are never touched.
const RoleCRMContact = "Contact CRM"

// partnerFields is the field list of pull searches.
var partnerFields = []string{
	"name", "registrationCode", "partnerCategory.code", "partnerCategory.name", "isContact", "archived",
	"createdOn", "updatedOn", "fixedPhone", "emailAddress.address", "partnerAttrs",
	"mainAddress", "mainAddress.addressL4", "mainAddress.zip", "mainAddress.city.name",
	"mainAddress.inseeCode", "mainAddress.latit", "mainAddress.longit",
	// the CRM's own clock: the incremental bound is the latest of these
	"mainAddress.updatedOn", "mainAddress.createdOn", "emailAddress.updatedOn", "emailAddress.createdOn",
}

// Partner is the part of a CRM partner the sync reads.
type Partner struct {
	ID, Version      int64
	Name             string
	RegistrationCode string
	CategoryCode     string
	CategoryName     string
	Archived         bool
	Street, Postcode string
	City, INSEE      string
	AddressID        int64
	AddressVersion   int64
	Lat, Lon         float64
	HasCoords        bool
	Email, Phone     string
	Attrs            map[string]any // partnerAttrs, decoded
	RawAttrs         string
	Modified         time.Time // updatedOn, or createdOn while updatedOn is null
	// Stamp is the latest CRM timestamp of the partner, its main address
	// and its e-mail record: what the incremental criteria compare.
	Stamp time.Time
}

// ParsePartner reads a search row (or fetch answer) of partnerFields.
func ParsePartner(r axelor.Record) (Partner, error) {
	p := Partner{ID: r.ID(), Name: strings.TrimSpace(r.String("name")),
		RegistrationCode: strings.ReplaceAll(r.String("registrationCode"), " ", ""),
		CategoryCode:     r.String("partnerCategory.code"), CategoryName: r.String("partnerCategory.name"),
		Archived: r.Bool("archived"),
		Street:   r.String("mainAddress.addressL4"), Postcode: r.String("mainAddress.zip"),
		City: r.String("mainAddress.city.name"), INSEE: r.String("mainAddress.inseeCode"),
		Email: strings.TrimSpace(r.String("emailAddress.address")), Phone: strings.TrimSpace(r.String("fixedPhone")),
		RawAttrs: r.String("partnerAttrs")}
	p.Version, _ = r.Version()
	if a := r.Ref("mainAddress"); a != nil {
		p.AddressID = a.ID()
		p.AddressVersion, _ = a.Version()
	}
	lat, okLat, err := r.Decimal("mainAddress.latit")
	if err != nil {
		return p, err
	}
	lon, okLon, err := r.Decimal("mainAddress.longit")
	if err != nil {
		return p, err
	}
	// 0,0 is not a French place: treat it as "no coordinates".
	if okLat && okLon && !(lat == 0 && lon == 0) {
		p.Lat, p.Lon, p.HasCoords = lat, lon, true
	}
	if p.RawAttrs != "" {
		if err := json.Unmarshal([]byte(p.RawAttrs), &p.Attrs); err != nil {
			p.Attrs = nil // a referent's malformed JSON is left alone
		}
	}
	var err2 error
	p.Modified, err2 = modified(r, "")
	if err2 != nil {
		return p, err2
	}
	p.Stamp = p.Modified
	for _, rel := range []string{"mainAddress.", "emailAddress."} {
		t, err := modified(r, rel)
		if err != nil {
			return p, err
		}
		if t.After(p.Stamp) {
			p.Stamp = t
		}
	}
	return p, nil
}

// modified is prefix+updatedOn, or prefix+createdOn while updatedOn is
// null (AuditListener sets updatedOn on updates only).
func modified(r axelor.Record, prefix string) (time.Time, error) {
	upd, ok, err := r.Time(prefix + "updatedOn")
	if err != nil || ok {
		return upd, err
	}
	upd, _, err = r.Time(prefix + "createdOn")
	return upd, err
}

// Geocoder finds a commune from a postcode and a city name.
type Geocoder func(postcode, city string) (refdata.Commune, bool)

// mapper applies the CRM-owned fields.
type mapper struct {
	kinds       map[string]atigip.OrganisationKind
	defaultKind atigip.OrganisationKind
	geocode     Geocoder
}

// mapped is the CRM-owned part of an organisation, computed once.
type mapped struct {
	name     string
	kind     atigip.OrganisationKind
	siret    string
	address  atigip.Address
	location atigip.Point
	geocoded bool // location computed here, the CRM has none
	contact  *atigip.Contact
	active   bool
}

func (m mapper) compute(p Partner) mapped {
	out := mapped{name: p.Name, active: !p.Archived, kind: m.defaultKind}
	if len(out.name) > 300 {
		out.name = out.name[:300]
	}
	out.kind = m.kindOf(p.CategoryCode, p.CategoryName)
	if atigip.ValidSIRET(p.RegistrationCode) {
		out.siret = p.RegistrationCode
	}
	out.address = atigip.Address{Street: p.Street, City: p.City}
	if len(p.Postcode) == 5 && strings.Trim(p.Postcode, "0123456789") == "" {
		out.address.Postcode = p.Postcode
	}
	var c refdata.Commune
	found := false
	if p.INSEE != "" {
		c, found = refdata.CommuneByINSEE(p.INSEE)
	}
	if !found && (p.Postcode != "" || p.City != "") && m.geocode != nil {
		c, found = m.geocode(p.Postcode, p.City)
	}
	if found {
		out.address.Commune, out.address.Departement, out.address.Region = c.INSEE, c.Departement, c.Region
	}
	switch {
	case p.HasCoords:
		out.location = atigip.Point{Lon: p.Lon, Lat: p.Lat}
	case found && !(c.Lat == 0 && c.Lon == 0):
		out.location = atigip.Point{Lon: c.Lon, Lat: c.Lat}
		out.geocoded = true
	}
	email := p.Email
	if email != "" {
		if _, err := mail.ParseAddress(email); err != nil {
			email = ""
		}
	}
	if email != "" || p.Phone != "" {
		out.contact = &atigip.Contact{Name: "Accueil", Role: RoleCRMContact, Email: email, Phone: p.Phone}
	}
	return out
}

// apply writes the CRM-owned fields on o and reports whether anything
// changed, with the changed field names (for dry runs and logs).
func (mp mapped) apply(p Partner, o *atigip.Organisation) []string {
	var changed []string
	set := func(name string, differs bool) {
		if differs {
			changed = append(changed, name)
		}
	}
	set("name", o.Name != mp.name)
	o.Name = mp.name
	set("kind", o.OrgKind != mp.kind)
	o.OrgKind = mp.kind
	set("siret", o.SIRET != mp.siret)
	o.SIRET = mp.siret
	set("address", o.Address != mp.address)
	o.Address = mp.address
	set("location", !samePoint(o.Location, mp.location))
	o.Location = mp.location
	set("active", o.Active != mp.active)
	o.Active = mp.active
	set("crm_id", o.CRMID != p.ID)
	o.CRMID = p.ID
	set("crm_version", o.CRMVersion != p.Version)
	o.CRMVersion = p.Version
	contacts := slices.DeleteFunc(slices.Clone(o.Contacts), func(c atigip.Contact) bool { return c.Role == RoleCRMContact })
	if mp.contact != nil {
		contacts = append([]atigip.Contact{*mp.contact}, contacts...)
	}
	set("contacts", !slices.Equal(contacts, o.Contacts))
	o.Contacts = contacts
	if o.Habilitation.Status == "" {
		o.Habilitation.Status = atigip.HabNone
	}
	return changed
}

func samePoint(a, b atigip.Point) bool {
	return math.Abs(a.Lat-b.Lat) < 1e-9 && math.Abs(a.Lon-b.Lon) < 1e-9
}

// kindOf maps a partner category: by code (Config.CategoryKinds), else by
// keywords of the category's name (categories created by each deployment
// have codes nobody can list in advance, but names that say what they
// are), else DefaultKind.
func (m mapper) kindOf(code, name string) atigip.OrganisationKind {
	if k, ok := m.kinds[code]; ok {
		return k
	}
	if k, ok := kindByName(name); ok {
		return k
	}
	return m.defaultKind
}

// nameKinds are tried in order on the normalised category name: health
// before public ("établissement public de santé"), insertion before
// association.
var nameKinds = []struct {
	kind  atigip.OrganisationKind
	words []string
}{
	{atigip.OrgHospital, []string{"hopital", "hopitaux", "hospitalier", "hospitaliere", "sante", "clinique", "ehpad",
		"medico social", "maison de retraite", "soins", "chu", "ch"}},
	{atigip.OrgSocialEconomy, []string{"insertion", "siae", "esat", "ess", "economie sociale", "scop", "scic",
		"entreprise adaptee", "ressourcerie", "recyclerie"}},
	{atigip.OrgAssociation, []string{"association", "associations", "asso", "fondation"}},
	{atigip.OrgCommune, []string{"mairie", "mairies", "commune", "communes", "ccas", "intercommunalite",
		"communaute de communes", "communaute d agglomeration", "metropole", "collectivite", "collectivites"}},
	{atigip.OrgPublicBody, []string{"etablissement public", "administration", "administrations", "ecole", "ecoles",
		"college", "colleges", "lycee", "lycees", "scolaire", "universite", "enseignement", "education",
		"service public", "services publics", "etat", "ministere", "prefecture", "office public"}},
	{atigip.OrgCompany, []string{"entreprise", "entreprises", "societe", "tpe", "pme", "commerce", "artisan"}},
}

func kindByName(name string) (atigip.OrganisationKind, bool) {
	n := " " + refdata.Normalize(name) + " "
	if strings.TrimSpace(n) == "" {
		return "", false
	}
	for _, nk := range nameKinds {
		for _, w := range nk.words {
			if strings.Contains(n, " "+w+" ") {
				return nk.kind, true
			}
		}
	}
	return "", false
}
