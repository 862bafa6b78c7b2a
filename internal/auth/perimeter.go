package auth

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
)

// Attachment is what binds a principal to its perimeter.
type Attachment string

// Attachments, one per principal field.
const (
	AttachNone         Attachment = ""
	AttachDepartement  Attachment = "departement"     // Principal.Departement
	AttachPrison       Attachment = "prison_id"       // Principal.PrisonID
	AttachOrganisation Attachment = "organisation_id" // Principal.OrganisationID
	AttachSIRET        Attachment = "siret"           // Principal.SIRET
	AttachPerson       Attachment = "person_id"       // Principal.PersonID
)

// Needs is the attachment a role's perimeter is built on (see the
// perimeters in internal/httpapi/policy.go): professionals who read people
// their département, prison staff their establishment, a host its
// organisation, a business its company, a person their own record. The
// other roles read nothing personal. The machine role is never given by
// a token of a provider, so it needs nothing here.
func Needs(r atigip.Role) Attachment {
	switch r {
	case atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP, atigip.RoleMagistrate, atigip.RoleClerk:
		return AttachDepartement
	case atigip.RolePrisonStaff:
		return AttachPrison
	case atigip.RoleHost:
		return AttachOrganisation
	case atigip.RoleBusiness:
		return AttachSIRET
	case atigip.RolePerson:
		return AttachPerson
	}
	return AttachNone
}

// claim is the name of the claim carrying a.
func (cfg OIDCConfig) claim(a Attachment) string {
	switch a {
	case AttachDepartement:
		return cfg.DepartementClaim
	case AttachPrison:
		return cfg.PrisonIDClaim
	case AttachOrganisation:
		return cfg.OrganisationIDClaim
	case AttachSIRET:
		return cfg.SIRETClaim
	case AttachPerson:
		return cfg.PersonIDClaim
	}
	return ""
}

// Roles lists the roles a token of this provider can carry: the values of
// RoleMap, or every role but the machine one when the claim holds role
// names, and DefaultRole.
func (cfg OIDCConfig) Roles() []atigip.Role {
	var out []atigip.Role
	add := func(r atigip.Role) {
		for _, x := range out {
			if x == r {
				return
			}
		}
		out = append(out, r)
	}
	if cfg.RoleClaim != "" {
		if len(cfg.RoleMap) == 0 {
			for _, r := range atigip.Roles {
				if r.Role != atigip.RoleCaseSystem {
					add(r.Role)
				}
			}
		}
		for _, r := range atigip.Roles { // in display order
			for _, m := range cfg.RoleMap {
				if m == r.Role {
					add(r.Role)
				}
			}
		}
	}
	if cfg.DefaultRole != "" {
		add(cfg.DefaultRole)
	}
	return out
}

// national reports whether r may sign in without its attachment.
func (cfg OIDCConfig) national(r atigip.Role) bool {
	for _, x := range cfg.NationalRoles {
		if x == r {
			return true
		}
	}
	return false
}

// ErrNoPerimeter: some role of a provider cannot get its perimeter.
var ErrNoPerimeter = errors.New("no claim gives these roles their perimeter")

// CheckPerimeters reports the roles this provider can give whose
// perimeter no configured claim carries: every token of such a role would
// be refused. Production refuses to start with such a configuration.
func (cfg OIDCConfig) CheckPerimeters() error {
	var missing []string
	for _, r := range cfg.Roles() {
		a := Needs(r)
		if a == AttachNone || cfg.claim(a) != "" || cfg.national(r) {
			continue
		}
		missing = append(missing, fmt.Sprintf("%s needs a %s claim", r, a))
	}
	if len(missing) > 0 {
		return fmt.Errorf("auth: oidc %s: %w: %s", cfg.Name, ErrNoPerimeter, strings.Join(missing, ", "))
	}
	return nil
}

// attach copies to p the attachments of its role read from claims, and
// refuses (403) a token lacking the one its role needs. A claim present
// but unreadable is refused even for a national role: only its absence
// means national. Attachments the role does not use are not copied, so
// that no rule can read a stray claim.
func (o *OIDC) attach(p *atigip.Principal, claims map[string]any) error {
	refuse := func(what string) error {
		return atigip.Errorf(atigip.EFORBIDDEN,
			"Votre compte n'indique pas %s valide : ATIGIP 360 ne peut pas fixer votre périmètre. Demandez à votre administrateur de compléter votre habilitation.", what)
	}
	national := o.cfg.national(p.Role)
	switch Needs(p.Role) {
	case AttachDepartement:
		d, present, ok := o.departement(claims)
		if !ok || (!present && !national) {
			return refuse("de département de rattachement")
		}
		p.Departement = d
	case AttachPrison:
		id, present, ok := o.id(claims, AttachPrison)
		if !ok || (!present && !national) {
			return refuse("d'établissement pénitentiaire de rattachement")
		}
		// National prison staff are bound by a département when they
		// carry one (httpapi's perimeter rules).
		d, _, dok := o.departement(claims)
		if !dok {
			return refuse("de département de rattachement")
		}
		p.PrisonID, p.Departement = id, d
	case AttachOrganisation:
		id, present, ok := o.id(claims, AttachOrganisation)
		if !ok || !present {
			return refuse("de structure d'accueil")
		}
		p.OrganisationID = id
	case AttachSIRET:
		s, present := o.str(claims, AttachSIRET)
		if !present || !validCompany(s) {
			return refuse("de SIRET ou de SIREN d'entreprise")
		}
		p.SIRET = s
	case AttachPerson:
		id, present, ok := o.id(claims, AttachPerson)
		if !ok || !present {
			return refuse("de dossier de personne suivie")
		}
		p.PersonID = id
	}
	return nil
}

// str reads claim a: present is false when it is not configured or not in
// the token; a present claim that is not a string reads as "".
func (o *OIDC) str(claims map[string]any, a Attachment) (s string, present bool) {
	name := o.cfg.claim(a)
	if name == "" {
		return "", false
	}
	v, present := claims[name]
	s, _ = v.(string)
	return strings.TrimSpace(s), present
}

// departement reads the département claim; ok is false when it is present
// but not a département code.
func (o *OIDC) departement(claims map[string]any) (d string, present, ok bool) {
	d, present = o.str(claims, AttachDepartement)
	return d, present, !present || atigip.ValidDepartement(d)
}

// id reads a positive record id, given as a JSON number or a string of
// digits; ok is false when the claim is present but anything else (0,
// negative, fractional, too large, letters).
func (o *OIDC) id(claims map[string]any, a Attachment) (id int64, present, ok bool) {
	name := o.cfg.claim(a)
	if name == "" {
		return 0, false, true
	}
	v, present := claims[name]
	if !present {
		return 0, false, true
	}
	switch v := v.(type) {
	case float64:
		if v >= 1 && v <= 1<<53 && v == math.Trunc(v) {
			return int64(v), true, true
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n > 0 {
			return n, true, true
		}
	}
	return 0, true, false
}

// validCompany accepts a SIRET (one establishment) or a SIREN (the whole
// company: 9 digits, Luhn key).
func validCompany(s string) bool {
	if len(s) == 9 {
		for i := 0; i < 9; i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return atigip.LuhnKey(s[:8]) == s[8]
	}
	return atigip.ValidSIRET(s)
}
