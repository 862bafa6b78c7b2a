package storetest

import (
	"slices"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// The suite is only as good as its samples: they must be valid, their keys
// must vary, and Invalid must fail on the field it names.
func TestSamples(t *testing.T) {
	for _, k := range atigip.Kinds {
		t.Run(string(k), func(t *testing.T) {
			refs := map[string]bool{}
			statuses := map[string]bool{}
			deps := map[string]bool{}
			for i := range 60 {
				e := Sample(k, i)
				if e.Kind() != k {
					t.Fatalf("sample %d has kind %q", i, e.Kind())
				}
				if err := e.Validate(); err != nil {
					t.Fatalf("sample %d invalid: %v", i, err)
				}
				keys := e.Keys()
				if keys.Ref != "" {
					if refs[keys.Ref] {
						t.Fatalf("sample %d repeats ref %q", i, keys.Ref)
					}
					refs[keys.Ref] = true
				}
				statuses[keys.Status] = true
				deps[keys.Departement] = true
			}
			if len(statuses) < 2 {
				t.Errorf("statuses do not vary: %v", statuses)
			}
			if k != atigip.KindApplication && len(deps) < 3 {
				t.Errorf("départements do not vary: %v", deps)
			}
			bad, field := Invalid(k)
			fields := atigip.ErrorFields(bad.Validate())
			if !slices.ContainsFunc(fields, func(f atigip.FieldError) bool { return f.Field == field }) {
				t.Errorf("Invalid(%s) fails on %v, want %q", k, fields, field)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	k := atigip.Keys{Departement: "69", Commune: "69123", Status: "open", Parent: 3,
		ROME: []string{"A1203", "K2204"}, Public: true, Ref: "crm:1"}
	cases := []struct {
		name string
		f    atigip.ListFilter
		want bool
	}{
		{"empty", atigip.ListFilter{}, true},
		{"departement", atigip.ListFilter{Departement: "69"}, true},
		{"other departement", atigip.ListFilter{Departement: "75"}, false},
		{"commune", atigip.ListFilter{Commune: "69266"}, false},
		{"status any", atigip.ListFilter{Status: []string{"full", "open"}}, true},
		{"status none", atigip.ListFilter{Status: []string{"full"}}, false},
		{"parent", atigip.ListFilter{Parent: 4}, false},
		{"rome code", atigip.ListFilter{ROME: "K2204"}, true},
		{"rome domain", atigip.ListFilter{ROME: "A"}, true},
		{"rome other domain", atigip.ListFilter{ROME: "N"}, false},
		{"public", atigip.ListFilter{PublicOnly: true}, true},
		{"ref", atigip.ListFilter{Ref: "crm:2"}, false},
		{"ids", atigip.ListFilter{IDs: []int64{1, 5}}, true},
		{"ids without", atigip.ListFilter{IDs: []int64{2}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Matches(5, k, c.f); got != c.want {
				t.Errorf("Matches = %v, want %v", got, c.want)
			}
		})
	}
	if Matches(5, atigip.Keys{Public: false}, atigip.ListFilter{PublicOnly: true}) {
		t.Error("a non-public entity matched PublicOnly")
	}
}
