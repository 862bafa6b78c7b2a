package crmsync

import (
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// Category names a deployment may create, with the kind a referent means.
func TestKindByName(t *testing.T) {
	tests := []struct {
		name string
		want atigip.OrganisationKind
		ok   bool
	}{
		{"Centre hospitalier", atigip.OrgHospital, true},
		{"Établissement public de santé", atigip.OrgHospital, true},
		{"EHPAD / maison de retraite", atigip.OrgHospital, true},
		{"Mairies et CCAS", atigip.OrgCommune, true},
		{"Communauté d'agglomération", atigip.OrgCommune, true},
		{"Établissement scolaire", atigip.OrgPublicBody, true},
		{"Lycées", atigip.OrgPublicBody, true},
		{"Structure d'insertion par l'activité économique", atigip.OrgSocialEconomy, true},
		{"Associations sportives", atigip.OrgAssociation, true},
		{"TPE", atigip.OrgCompany, true},
		{"Grand compte", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := kindByName(tt.name)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("%q: %q %v, want %q %v", tt.name, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// Property: a three-way merge pushes exactly the fields decided here since
// the last agreement, adopts the CRM's habilitation otherwise, and the
// agreement it returns makes a second merge a no-op once applied.
func TestMergeProperties(t *testing.T) {
	vals := []owned{{}, {Hab: "habilitated", Date: "2026-01-02"}, {Hab: "refused", Date: "2026-03-04", Posts: 2}, {Posts: 5}}
	for _, base := range vals {
		for _, baseCRM := range vals {
			for _, local := range vals {
				for _, crm := range vals {
					b := provenance{Local: base, CRM: baseCRM}
					want, adopt, next := merge(b, local, crm)
					localHab := !local.sameHab(base)
					if localHab && (want.Hab != local.Hab || want.Date != local.Date || adopt) {
						t.Fatalf("local decision not pushed: %+v %+v %+v → %+v", b, local, crm, want)
					}
					if !localHab && (want.Hab != crm.Hab || want.Date != crm.Date) {
						t.Fatalf("habilitation pushed without a local decision: %+v %+v %+v → %+v", b, local, crm, want)
					}
					if local.Posts != base.Posts && want.Posts != local.Posts || local.Posts == base.Posts && want.Posts != crm.Posts {
						t.Fatalf("posts: %+v %+v %+v → %+v", b, local, crm, want)
					}
					after := local
					if adopt {
						after.Hab, after.Date = crm.Hab, crm.Date
					}
					if w2, a2, _ := merge(next, after, want); w2 != want || a2 {
						t.Fatalf("not settled: %+v %+v %+v → next %+v, then %+v %v", b, local, crm, next, w2, a2)
					}
				}
			}
		}
	}
}
