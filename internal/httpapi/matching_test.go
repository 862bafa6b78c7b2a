package httpapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
)

func matchingEnv(t *testing.T) (*testEnv, map[string]int64) {
	t.Helper()
	store := newMemStore()
	addr := atigip.Address{City: "Lyon", Postcode: "69001", Commune: "69381", Departement: "69"}
	org := seed(t, store, &atigip.Organisation{Name: "Mairie de Lyon", OrgKind: atigip.OrgCommune, Address: addr, Active: true,
		Habilitation: atigip.Habilitation{Status: atigip.HabHabilitated}})
	week := atigip.Schedule{Slots: []atigip.Slot{{Day: 2, Start: "09:00", End: "12:00"}, {Day: 4, Start: "09:00", End: "12:00"}}}
	post := seed(t, store, &atigip.Post{OrganisationID: org.ID, Title: "Entretien des espaces verts", ROMECodes: []string{"A1203"},
		Places: 2, Schedule: week, Address: addr, Location: atigip.Point{Lon: 4.87, Lat: 45.76},
		Status: atigip.PostOpen, Visibility: atigip.VisibilityPublic})
	far := seed(t, store, &atigip.Post{OrganisationID: org.ID, Title: "Peinture", ROMECodes: []string{"F1606"},
		Places: 1, Schedule: week, Address: addr, Location: atigip.Point{Lon: 5.03, Lat: 45.72},
		Status: atigip.PostOpen, Visibility: atigip.VisibilityPublic})
	person := seed(t, store, &atigip.Person{Pseudonym: "TIG-LYON-1", CaseSystem: "APPI", CaseRef: "APPI-69-1",
		Home: atigip.Point{Lon: 4.8357, Lat: 45.764}, HomeAddress: addr, ROMECodes: []string{"A1203"},
		Mobility: atigip.Mobility{RadiusKm: 10, Transport: atigip.TransportCar}, Experience: "tonte et taille de haies"})
	seed(t, store, &atigip.Measure{PersonID: person.ID, HoursOrdered: 70, State: atigip.MeasureToPlace,
		SentenceDate: atigip.DateOf(time.Now().AddDate(0, -1, 0))})
	env := newEnv(t, store, func(o *Options) { o.Modules = append(o.Modules, &MatchingModule{MaxAge: -1}) })
	return env, map[string]int64{"post": post.ID, "far": far.ID, "person": person.ID}
}

func TestMatchingRoutes(t *testing.T) {
	env, ids := matchingEnv(t)
	cpip := env.token(atigip.Principal{Role: atigip.RoleCPIP, Subject: "cpip:1"})
	offers := fmt.Sprintf("/api/matching/people/%d/offers?excluded=true", ids["person"])

	r := env.do("GET", offers, cpip, nil)
	if r.status != 200 {
		t.Fatalf("offers: %d %s", r.status, r.body)
	}
	var rk MatchingRanking
	r.json(t, &rk)
	if len(rk.Proposals) != 1 || rk.Proposals[0].Item.ID != ids["post"] || len(rk.Proposals[0].Terms) == 0 || rk.Notice == "" {
		t.Fatalf("ranking %+v", rk)
	}
	if len(rk.Excluded) != 1 || rk.Excluded[0].Exclusions[0].Rule != matching.RuleMobility {
		t.Fatalf("excluded %+v", rk.Excluded)
	}
	audits, err := env.store.Audits(t.Context(), atigip.AuditFilter{Kind: atigip.KindPerson, EntityID: ids["person"]})
	if err != nil || len(audits) != 1 || audits[0].Action != "match" || audits[0].Subject != "cpip:1" {
		t.Fatalf("audit %+v %v", audits, err)
	}

	r = env.do("GET", fmt.Sprintf("/api/matching/posts/%d/candidates", ids["post"]), cpip, nil)
	r.json(t, &rk)
	if r.status != 200 || len(rk.Proposals) != 1 || rk.Proposals[0].PersonID != ids["person"] {
		t.Fatalf("candidates: %d %s", r.status, r.body)
	}

	tests := []struct {
		name   string
		target string
		p      *atigip.Principal
		status int
	}{
		{"anonymous", offers, nil, 401},
		{"host", offers, &atigip.Principal{Role: atigip.RoleHost}, 403},
		{"referent reads no people", offers, &atigip.Principal{Role: atigip.RoleReferent}, 403},
		{"prison staff, person not detained", offers, &atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: 3}, 404},
		{"cpip of another département", offers, &atigip.Principal{Role: atigip.RoleCPIP, Departement: "75"}, 404},
		{"unknown person", "/api/matching/people/999/offers", &atigip.Principal{Role: atigip.RoleCPIP}, 404},
		{"bad limit", offers + "&limit=0", &atigip.Principal{Role: atigip.RoleCPIP}, 400},
		{"bad kind", offers + "&kinds=boat", &atigip.Principal{Role: atigip.RoleCPIP}, 400},
		{"unknown offer", "/api/matching/offers/5/candidates", &atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: 3}, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := ""
			if tt.p != nil {
				tok = env.token(*tt.p)
			}
			if r := env.do("GET", tt.target, tok, nil); r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
		})
	}
}

func TestMatchingAssignmentJob(t *testing.T) {
	env, ids := matchingEnv(t)
	cpip := env.token(atigip.Principal{Role: atigip.RoleCPIP, Subject: "cpip:2"})
	r := env.do("POST", "/api/matching/assignments", cpip, map[string]any{})
	if r.status != 202 {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	var st MatchingJobStatus
	r.json(t, &st)
	loc := r.header.Get("Location")
	deadline := time.Now().Add(10 * time.Second)
	for st.State == "running" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		env.do("GET", loc, cpip, nil).json(t, &st)
	}
	if st.State != "done" || st.Result == nil || len(st.Result.Proposals) != 1 || st.Progress != 1 || st.Baseline == nil {
		t.Fatalf("job %+v", st)
	}
	if p := st.Result.Proposals[0]; p.PersonID != ids["person"] || p.Item.ID != ids["post"] {
		t.Fatalf("proposal %+v", p)
	}
	other := env.token(atigip.Principal{Role: atigip.RoleCPIP, Subject: "cpip:3"})
	if r := env.do("GET", loc, other, nil); r.status != 404 {
		t.Fatalf("another CPIP reads the job: %d", r.status)
	}
	if r := env.do("POST", "/api/matching/assignments", cpip, map[string]any{"people": []int64{999}}); r.status != 404 {
		t.Fatalf("unknown person in batch: %d %s", r.status, r.body)
	}
	if r := env.do("POST", "/api/matching/assignments", cpip, `{"bogus":1}`); r.status != 400 {
		t.Fatalf("unknown field: %d %s", r.status, r.body)
	}
}
