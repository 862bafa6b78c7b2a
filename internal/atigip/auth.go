package atigip

import "context"

// Role is what a signed-in user (or machine client) is allowed to be.
type Role string

// Roles of brief.md.
const (
	RolePublic      Role = "public"       // anyone, not signed in
	RoleBusiness    Role = "business"     // business looking for floor space or posting offers
	RoleMagistrate  Role = "magistrate"   // judge, prosecutor
	RoleClerk       Role = "clerk"        // greffier
	RoleLawyer      Role = "lawyer"       // avocat
	RoleReferent    Role = "referent"     // référent territorial TIG (ATIGIP)
	RoleCPIP        Role = "cpip"         // conseiller pénitentiaire d'insertion et de probation
	RolePJJ         Role = "pjj"          // éducateur de la protection judiciaire de la jeunesse
	RoleDSPIP       Role = "dspip"        // directeur du SPIP (or PJJ territorial director)
	RoleHost        Role = "host"         // structure d'accueil, tuteur
	RolePrisonStaff Role = "prison_staff" // personnel pénitentiaire
	RolePerson      Role = "person"       // tigiste or detainee
	RoleCaseSystem  Role = "case_system"  // machine client: APPI/GENESIS flows
)

// Roles lists the roles with their French labels, in display order.
var Roles = []struct {
	Role  Role
	Label string
}{
	{RolePublic, "Public"},
	{RoleBusiness, "Entreprise"},
	{RoleMagistrate, "Magistrat (juge, parquet)"},
	{RoleClerk, "Greffier"},
	{RoleLawyer, "Avocat"},
	{RoleReferent, "Référent territorial TIG"},
	{RoleCPIP, "CPIP"},
	{RolePJJ, "Éducateur PJJ"},
	{RoleDSPIP, "Directeur de SPIP (DSPIP)"},
	{RoleHost, "Structure d'accueil / tuteur"},
	{RolePrisonStaff, "Personnel pénitentiaire"},
	{RolePerson, "Personne suivie (tigiste, détenu)"},
	{RoleCaseSystem, "Système APPI / GENESIS (machine)"},
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x.Role == r {
			return true
		}
	}
	return false
}

// Audience is the class of viewer that public outputs (tiles, search)
// are cut for; caches are keyed by it.
type Audience string

// Audiences.
const (
	AudiencePublic  Audience = "public"
	AudienceJustice Audience = "justice"
)

// Audience returns what a role may see on the map and in search:
// justice professionals see professional-only posts, places left and the
// organisations' professional contacts; everyone else sees the public view.
func (r Role) Audience() Audience {
	switch r {
	case RoleMagistrate, RoleClerk, RoleLawyer, RoleReferent, RoleCPIP, RolePJJ, RoleDSPIP, RolePrisonStaff:
		return AudienceJustice
	}
	return AudiencePublic
}

// Professional reports whether the role is a justice or prison professional
// who may read people's data within their duties.
func (r Role) Professional() bool {
	switch r {
	case RoleReferent, RoleCPIP, RolePJJ, RoleDSPIP, RolePrisonStaff, RoleMagistrate, RoleClerk:
		return true
	}
	return false
}

// Principal is who makes a request.
type Principal struct {
	Subject        string `json:"sub"`
	Role           Role   `json:"role"`
	Name           string `json:"name,omitempty"`
	OrganisationID int64  `json:"organisation_id,omitempty"` // for host roles
	PrisonID       int64  `json:"prison_id,omitempty"`       // for prison staff and detainees
	PersonID       int64  `json:"person_id,omitempty"`       // for the person role: own data only
	Departement    string `json:"departement,omitempty"`     // perimeter of a professional
	SIRET          string `json:"siret,omitempty"`           // for business roles: the company (SIRET, or SIREN for every establishment)
}

// Anonymous is the principal of a request without credentials.
var Anonymous = Principal{Subject: "anonymous", Role: RolePublic}

// Authenticator turns a bearer credential into a principal. Development
// tokens and OpenID Connect (ProConnect, FranceConnect) both implement it.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Principal, error)
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal of ctx, Anonymous when none.
func PrincipalFrom(ctx context.Context) Principal {
	if p, ok := ctx.Value(principalKey{}).(Principal); ok {
		return p
	}
	return Anonymous
}
