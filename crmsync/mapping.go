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
//	Partner.partnerCategory.code          → Organisation.OrgKind (Config.CategoryKinds, else DefaultKind)
//	mainAddress.addressL4                 → Address.Street
//	mainAddress.zip                       → Address.Postcode
//	mainAddress.city.name                 → Address.City
//	mainAddress.inseeCode, else geocoded  → Address.Commune, with Departement and Region of that commune
//	mainAddress.latit/longit              → Location (when the CRM has coordinates)
//	emailAddress.address, fixedPhone      → the contact named "Accueil" with role RoleCRMContact
//	archived                              → Active = !archived (never deleted)
//	id, version                           → CRMID, CRMVersion (CRMID gives the unique ref "crm:<id>")
//
// Owned by ATIGIP 360 (pushed, never pulled over):
//
//	Habilitation.Status                   → partnerAttrs.atigipHabilitation
//	Habilitation.DecidedAt (YYYY-MM-DD)   → partnerAttrs.atigipDateHabilitation
//	open posts (status "open") count      → partnerAttrs.atigipPostesOuverts
//	Location geocoded from postcode+city  → mainAddress.latit/longit, only while the CRM has none
//
// Other partnerAttrs keys belong to referents and are kept as they are.

// partnerAttrs keys written by this system.
const (
	AttrHabilitation     = "atigipHabilitation"
	AttrHabilitationDate = "atigipDateHabilitation"
	AttrOpenPosts        = "atigipPostesOuverts"
)

var ownedAttrs = []string{AttrHabilitation, AttrHabilitationDate, AttrOpenPosts}

// RoleCRMContact marks the contact that mirrors the partner's e-mail and
// phone; other contacts of an organisation are never touched.
const RoleCRMContact = "Contact CRM"

// partnerFields is the field list of pull searches.
var partnerFields = []string{
	"name", "registrationCode", "partnerCategory.code", "isContact", "archived",
	"createdOn", "updatedOn", "fixedPhone", "emailAddress.address", "partnerAttrs",
	"mainAddress", "mainAddress.addressL4", "mainAddress.zip", "mainAddress.city.name",
	"mainAddress.inseeCode", "mainAddress.latit", "mainAddress.longit",
}

// Partner is the part of a CRM partner the sync reads.
type Partner struct {
	ID, Version      int64
	Name             string
	RegistrationCode string
	CategoryCode     string
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
}

// ParsePartner reads a search row (or fetch answer) of partnerFields.
func ParsePartner(r axelor.Record) (Partner, error) {
	p := Partner{ID: r.ID(), Name: strings.TrimSpace(r.String("name")),
		RegistrationCode: strings.ReplaceAll(r.String("registrationCode"), " ", ""),
		CategoryCode:     r.String("partnerCategory.code"), Archived: r.Bool("archived"),
		Street: r.String("mainAddress.addressL4"), Postcode: r.String("mainAddress.zip"),
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
	upd, ok, err := r.Time("updatedOn")
	if err != nil {
		return p, err
	}
	if !ok {
		if upd, _, err = r.Time("createdOn"); err != nil {
			return p, err
		}
	}
	p.Modified = upd
	return p, nil
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
	if k, ok := m.kinds[p.CategoryCode]; ok {
		out.kind = k
	}
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

// desiredAttrs are the values of our partnerAttrs keys for o; nil when
// the organisation has nothing of ours to show (no habilitation, no open
// post), so that a full sync does not write every partner of the CRM.
func desiredAttrs(o *atigip.Organisation, openPosts int) map[string]any {
	if (o.Habilitation.Status == "" || o.Habilitation.Status == atigip.HabNone) && openPosts == 0 {
		return nil
	}
	var date any
	if o.Habilitation.DecidedAt != nil {
		date = o.Habilitation.DecidedAt.UTC().Format("2006-01-02")
	}
	return map[string]any{
		AttrHabilitation:     string(o.Habilitation.Status),
		AttrHabilitationDate: date,
		AttrOpenPosts:        openPosts,
	}
}

// attrsDiffer reports whether the CRM's attrs lack our desired values.
// With desired == nil, only stale keys of ours left in the CRM differ.
func attrsDiffer(crm map[string]any, desired map[string]any) bool {
	if desired == nil {
		for _, k := range ownedAttrs {
			if v, ok := crm[k]; ok && v != nil && !isDefaultAttr(k, v) {
				return true
			}
		}
		return false
	}
	for k, want := range desired {
		got, ok := crm[k]
		if !ok || !sameJSON(got, want) {
			return true
		}
	}
	return false
}

func isDefaultAttr(k string, v any) bool {
	switch k {
	case AttrHabilitation:
		return v == string(atigip.HabNone)
	case AttrOpenPosts:
		f, ok := v.(float64)
		return ok && f == 0
	}
	return false
}

func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// mergeAttrs puts our keys into the referent's attrs, keeping theirs.
func mergeAttrs(crm map[string]any, desired map[string]any) string {
	out := make(map[string]any, len(crm)+len(ownedAttrs))
	for k, v := range crm {
		out[k] = v
	}
	if desired == nil {
		out[AttrHabilitation] = string(atigip.HabNone)
		out[AttrHabilitationDate] = nil
		out[AttrOpenPosts] = 0
	} else {
		for k, v := range desired {
			out[k] = v
		}
	}
	b, _ := json.Marshal(out) // keys sorted: a stable string
	return string(b)
}
