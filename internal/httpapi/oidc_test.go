package httpapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
	"github.com/atigip/atigip360/internal/auth/oidctest"
)

// TestOIDCKeepsPerimeters reproduces issue 10's first observation with an
// OpenID Connect provider configured as production requires (every
// perimeter claim, no national role): each signed-in user stays in their
// perimeter, and the machine role cannot come from an identity provider.
func TestOIDCKeepsPerimeters(t *testing.T) {
	idp := oidctest.Start(t)
	cfg := idp.Config()
	cfg.NationalRoles = nil
	o, err := auth.NewOIDC(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := newMemStore()
	env := newEnv(t, store, func(opts *Options) { opts.Auth = o })
	env.mint = func(p atigip.Principal) string { return idp.Token(t, p) }
	w := newPerimeterWorld(t, store)
	archived := sample[*atigip.Organisation](atigip.KindOrganisation, 1)
	archived.Active = false
	archived = seed(t, store, archived)
	if len(archived.Contacts) == 0 {
		t.Fatal("the sample organisation has no contact to check")
	}

	cpip69 := env.token(atigip.Principal{Role: atigip.RoleCPIP, Departement: "69"})
	staffA := env.token(atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.prisonA.ID})
	person := env.token(atigip.Principal{Role: atigip.RolePerson, PersonID: w.adult13.ID})
	host := env.token(atigip.Principal{Role: atigip.RoleHost, OrganisationID: archived.ID})
	for _, tc := range []struct {
		name, tok, path string
		want            int
		has, hasNot     string // in the body
	}{
		{"CPIP of the 69 lists people", cpip69, "/api/people", 200, w.adult69.CaseRef, w.adult13.CaseRef},
		{"CPIP of the 69 asks for the 13", cpip69, "/api/people?departement=13", 200, `"total":0`, w.adult13.CaseRef},
		{"CPIP of the 69 reads a person of the 13", cpip69, fmt.Sprintf("/api/people/%d", w.adult13.ID), 404, "", w.adult13.CaseRef},
		{"prison staff read another establishment's detainee", staffA, fmt.Sprintf("/api/people/%d", w.detB.ID), 404, "", w.detB.CaseRef},
		{"prison staff list detainees", staffA, "/api/people", 200, w.detA.CaseRef, w.detB.CaseRef},
		{"person reads own profile", person, fmt.Sprintf("/api/people/%d", w.adult13.ID), 200, w.adult13.CaseRef, ""},
		{"person reads another", person, fmt.Sprintf("/api/people/%d", w.adult69.ID), 404, "", w.adult69.CaseRef},
		{"host sees its own archived organisation", host, fmt.Sprintf("/api/organisations/%d", archived.ID), 200, archived.Contacts[0].Email, ""},
		{"case_system from an identity provider", idp.Sign(t, map[string]any{oidctest.RoleClaim: "case_system"}), "/api/people", 403, "", w.adult13.CaseRef},
		{"CPIP without département", idp.Sign(t, map[string]any{oidctest.RoleClaim: "cpip"}), "/api/people", 403, "", w.adult13.CaseRef},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := env.do("GET", tc.path, tc.tok, nil)
			if res.status != tc.want {
				t.Fatalf("status %d, want %d: %s", res.status, tc.want, res.body)
			}
			if tc.has != "" && !strings.Contains(string(res.body), tc.has) {
				t.Errorf("%s missing from %s", tc.has, res.body)
			}
			if tc.hasNot != "" && strings.Contains(string(res.body), tc.hasNot) {
				t.Errorf("%s shown: %s", tc.hasNot, res.body)
			}
		})
	}
}
