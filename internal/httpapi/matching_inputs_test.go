package httpapi

import (
	"fmt"
	"slices"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
)

// Unknown query parameters and kinds are refused on every matching route,
// with a problem naming the parameter, as on the lists.
func TestMatchingRefusesUnknownInputs(t *testing.T) {
	env, w := matchingEnv(t)
	dspip := env.token(atigip.Principal{Role: atigip.RoleDSPIP})
	tests := []struct {
		name, method, target string
		body                 any
		field                string
	}{
		{"misspelt limit", "GET", fmt.Sprintf("/api/matching/people/%d/offers?limt=5", w.person), nil, "limt"},
		{"a list filter on a ranking", "GET", fmt.Sprintf("/api/matching/posts/%d/candidates?departement=13", w.post), nil, "departement"},
		{"kinds on a post's candidates", "GET", fmt.Sprintf("/api/matching/posts/%d/candidates?kinds=work", w.post), nil, "kinds"},
		{"unknown kind on a ranking", "GET", fmt.Sprintf("/api/matching/people/%d/offers?kinds=tig", w.person), nil, "kinds"},
		{"unknown kind of a job", "POST", "/api/matching/assignments", map[string]any{"kinds": []string{"travail"}}, "kinds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(tt.method, tt.target, dspip, tt.body)
			wantStatus(t, r, 400)
			if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
				t.Fatalf("problem %+v, want the field %s", p, tt.field)
			}
		})
	}
}

// Reading a job's result audits every person it discloses, and applies
// the reader's perimeter as it is at read time.
func TestMatchingJobReadAuditsAndRechecksPerimeter(t *testing.T) {
	env, w := matchingEnv(t)
	start := atigip.Principal{Role: atigip.RoleDSPIP, Subject: "dspip:9", Departement: "69"}
	st, r := runJob(t, env, env.token(start), map[string]any{})
	wantStatus(t, r, 202)
	if st.Result == nil || len(st.Result.Proposals)+len(st.Result.Unplaced) < 2 {
		t.Fatalf("job %+v", st)
	}
	var disclosed []int64
	for _, p := range st.Result.Proposals {
		disclosed = append(disclosed, p.PersonID)
	}
	disclosed = append(disclosed, st.Result.Unplaced...)
	audits, err := env.store.Audits(t.Context(), atigip.AuditFilter{Subject: start.Subject})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range disclosed {
		if !slices.ContainsFunc(audits, func(a atigip.AuditEntry) bool {
			return a.Action == "match_assignment" && a.Kind == atigip.KindPerson && a.EntityID == id
		}) {
			t.Errorf("person %d disclosed by the job's result without an audit entry", id)
		}
	}
	// The same professional, now attached to the Ain, reads the job: the
	// people of the Rhône are no longer shown.
	moved := start
	moved.Departement = "01"
	r = env.do("GET", "/api/matching/assignments/"+st.ID, env.token(moved), nil)
	wantStatus(t, r, 200)
	var again MatchingJobStatus
	r.json(t, &again)
	for _, p := range again.Result.Proposals {
		if p.PersonID == w.person || p.PersonID == w.minor {
			t.Fatalf("person %d of the Rhône shown to a reader of the Ain", p.PersonID)
		}
	}
	if slices.Contains(again.Result.Unplaced, w.person) || slices.Contains(again.Result.Unplaced, w.minor) {
		t.Fatal("unplaced people of the Rhône shown to a reader of the Ain")
	}
}

// A post's near misses are people with a measure to place, not everyone
// in range.
func TestExcludedCandidatesHaveAMeasureToPlace(t *testing.T) {
	env, w := matchingEnv(t)
	// A person in range without any measure.
	seed(t, env.store, &atigip.Person{Pseudonym: "TIG-0099", CaseSystem: "APPI", CaseRef: "A99",
		Home: atigip.Point{Lon: 4.85, Lat: 45.76}, HomeAddress: atigip.Address{City: "Lyon", Postcode: "69001", Commune: "69381", Departement: "69"}})
	r := env.do("GET", fmt.Sprintf("/api/matching/posts/%d/candidates?excluded=true", w.post), env.token(atigip.Principal{Role: atigip.RoleDSPIP}), nil)
	wantStatus(t, r, 200)
	var rk MatchingRanking
	r.json(t, &rk)
	for _, p := range rk.Excluded {
		for _, x := range p.Exclusions {
			if x.Rule == matching.RuleMeasure {
				t.Fatalf("person %d without a measure listed as a near miss: %+v", p.PersonID, p)
			}
		}
	}
}
