package auth_test

import (
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
	"github.com/atigip/atigip360/internal/auth/oidctest"
)

// TestOIDCPrincipals: every role a provider can give reaches the server
// with the attachments of its perimeter, as a development token would
// carry them.
func TestOIDCPrincipals(t *testing.T) {
	idp := oidctest.Start(t)
	o := idp.Authenticator(t)
	siret := atigip.NewSIRET("73282932", "0001")
	for _, pr := range []atigip.Principal{
		{Role: atigip.RoleCPIP, Departement: "69"},
		{Role: atigip.RolePJJ, Departement: "2A"},
		{Role: atigip.RoleDSPIP, Departement: "13"},
		{Role: atigip.RoleDSPIP}, // national (NationalRoles)
		{Role: atigip.RoleMagistrate, Departement: "974"},
		{Role: atigip.RoleClerk, Departement: "01"},
		{Role: atigip.RolePrisonStaff, PrisonID: 7},
		{Role: atigip.RolePrisonStaff, Departement: "75"}, // national prison administration of a département
		{Role: atigip.RoleHost, OrganisationID: 12},
		{Role: atigip.RolePerson, PersonID: 42},
		{Role: atigip.RoleBusiness, SIRET: siret},
		{Role: atigip.RoleBusiness, SIRET: siret[:9]}, // SIREN: every establishment of the company
		{Role: atigip.RoleReferent},
		{Role: atigip.RoleLawyer},
		{Role: atigip.RolePublic},
	} {
		t.Run(string(pr.Role)+" "+pr.Departement+pr.SIRET, func(t *testing.T) {
			pr.Subject, pr.Name = "u-1", "Camille Martin"
			got, err := o.Authenticate(t.Context(), idp.Token(t, pr))
			if err != nil {
				t.Fatal(err)
			}
			want := pr
			want.Subject = "oidctest:u-1"
			if got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

// TestOIDCRefusals: a token that cannot be given its perimeter, or that
// claims the machine role, is refused (403), never widened to national.
func TestOIDCRefusals(t *testing.T) {
	idp := oidctest.Start(t)
	strict := idp.Config()
	strict.NationalRoles = nil
	o, err := auth.NewOIDC(t.Context(), strict)
	if err != nil {
		t.Fatal(err)
	}
	lenient := idp.Authenticator(t)
	role := func(r atigip.Role, kv ...any) map[string]any {
		c := map[string]any{oidctest.RoleClaim: string(r)}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	for _, tc := range []struct {
		name   string
		claims map[string]any
	}{
		{"case_system from an identity provider", role(atigip.RoleCaseSystem)},
		{"case_system among groups", map[string]any{oidctest.RoleClaim: []string{"case_system", "cpip"}, oidctest.DepartementClaim: "69"}},
		{"CPIP without département", role(atigip.RoleCPIP)},
		{"CPIP with an empty département", role(atigip.RoleCPIP, oidctest.DepartementClaim, " ")},
		{"CPIP with a département that is not one", role(atigip.RoleCPIP, oidctest.DepartementClaim, "99")},
		{"CPIP with a numeric département", role(atigip.RoleCPIP, oidctest.DepartementClaim, 69)},
		{"magistrate without département", role(atigip.RoleMagistrate)},
		{"prison staff without establishment", role(atigip.RolePrisonStaff, oidctest.DepartementClaim, "69")},
		{"prison staff with establishment 0", role(atigip.RolePrisonStaff, oidctest.PrisonClaim, 0)},
		{"host without organisation", role(atigip.RoleHost)},
		{"host with a negative organisation", role(atigip.RoleHost, oidctest.OrganisationClaim, -3)},
		{"host with a fractional organisation", role(atigip.RoleHost, oidctest.OrganisationClaim, 1.5)},
		{"host with a huge organisation", role(atigip.RoleHost, oidctest.OrganisationClaim, 1e30)},
		{"host with letters", role(atigip.RoleHost, oidctest.OrganisationClaim, "12a")},
		{"person without record", role(atigip.RolePerson)},
		{"person with the organisation claim only", role(atigip.RolePerson, oidctest.OrganisationClaim, 4)},
		{"business without SIRET", role(atigip.RoleBusiness)},
		{"business with a wrong SIRET key", role(atigip.RoleBusiness, oidctest.SIRETClaim, "73282932000075")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := idp.Sign(t, tc.claims)
			if p, err := o.Authenticate(t.Context(), tok); atigip.ErrorCode(err) != atigip.EFORBIDDEN {
				t.Fatalf("got %+v, %v; want 403", p, err)
			}
			// National roles only spare the département or establishment.
			_, national := map[string]bool{"CPIP without département": true, "magistrate without département": true,
				"prison staff without establishment": true}[tc.name]
			if _, err := lenient.Authenticate(t.Context(), tok); national != (err == nil) {
				t.Fatalf("lenient: %v", err)
			}
		})
	}
}

// TestOIDCCheckPerimeters: production refuses a provider whose roles
// cannot all get their perimeter from the configured claims.
func TestOIDCCheckPerimeters(t *testing.T) {
	idp := oidctest.Start(t)
	roleOnly := auth.OIDCConfig{Name: "proconnect", Issuer: idp.URL, ClientID: oidctest.ClientID, RoleClaim: oidctest.RoleClaim}
	err := roleOnly.CheckPerimeters()
	if err == nil {
		t.Fatal("a role claim alone passes")
	}
	for _, want := range []string{"cpip needs a departement claim", "prison_staff needs a prison_id claim",
		"host needs a organisation_id claim", "person needs a person_id claim", "business needs a siret claim"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v: no %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "referent") || strings.Contains(err.Error(), "lawyer") {
		t.Errorf("roles without a perimeter listed: %v", err)
	}
	if _, _, err := auth.New(t.Context(), auth.Config{Production: true, OIDC: []auth.OIDCConfig{roleOnly}}); err == nil {
		t.Fatal("production starts with a provider that drops perimeters")
	}
	if _, _, err := auth.New(t.Context(), auth.Config{OIDC: []auth.OIDCConfig{roleOnly}}); err != nil {
		t.Fatalf("development: %v", err) // tokens are refused one by one instead
	}

	// Restricting the roles the provider gives, or adding claims, passes.
	mapped := roleOnly
	mapped.RoleMap = map[string]atigip.Role{"GRP_AVOCAT": atigip.RoleLawyer, "GRP_SPIP": atigip.RoleCPIP}
	mapped.DepartementClaim = "departement"
	people := auth.OIDCConfig{Name: "franceconnect", Issuer: idp.URL, ClientID: oidctest.ClientID,
		DefaultRole: atigip.RolePerson, PersonIDClaim: oidctest.PersonClaim}
	national := mapped
	national.DepartementClaim, national.NationalRoles = "", []atigip.Role{atigip.RoleCPIP}
	for name, cfg := range map[string]auth.OIDCConfig{"all claims": idp.Config(), "mapped": mapped, "people": people, "national": national} {
		if err := cfg.CheckPerimeters(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	people.PersonIDClaim = ""
	if err := people.CheckPerimeters(); err == nil {
		t.Error("a default person role without a person claim passes")
	}
}
