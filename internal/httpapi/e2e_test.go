package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed/seedtest"
)

// TestEndToEndSQLite drives the API over the real embedded store with the
// demonstration data: the acceptance checks.
func TestEndToEndSQLite(t *testing.T) {
	db := seedtest.Store(t, 0.02, 7)
	env := newEnv(t, db)
	ctx := t.Context()

	t.Run("posts around Lyon", func(t *testing.T) {
		res := env.do("GET", "/api/posts?departement=69&per_page=200", "", nil)
		var lp ListPage[*atigip.Post]
		res.json(t, &lp)
		if res.status != 200 || lp.Total == 0 || len(lp.Items) == 0 {
			t.Fatalf("status %d total %d", res.status, lp.Total)
		}
		for _, p := range lp.Items {
			stored, err := atigip.Of[*atigip.Post](db).Get(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			org, err := atigip.Of[*atigip.Organisation](db).Get(ctx, stored.OrganisationID)
			if err != nil || p.Address.Departement != "69" || !stored.Listed(org, atigip.AudiencePublic) {
				t.Fatalf("post %d in %s listed=%v (%v)", p.ID, p.Address.Departement, stored.Listed(org, atigip.AudiencePublic), err)
			}
		}
	})

	people, _, err := db.Entities(atigip.KindPerson).List(ctx, atigip.ListFilter{Limit: 1})
	if err != nil || len(people) == 0 {
		t.Fatalf("no person seeded: %v", err)
	}
	personPath := "/api/people/" + strconv.FormatInt(people[0].GetMeta().ID, 10)

	t.Run("people closed to public and business", func(t *testing.T) {
		for tok, want := range map[string]int{
			"": 401,
			env.token(atigip.Principal{Role: atigip.RolePublic}):   403,
			env.token(atigip.Principal{Role: atigip.RoleBusiness}): 403,
			env.token(atigip.Principal{Role: atigip.RoleCPIP}):     200,
		} {
			if res := env.do("GET", personPath, tok, nil); res.status != want {
				t.Errorf("status %d, want %d", res.status, want)
			}
		}
		audits, err := db.Audits(ctx, atigip.AuditFilter{Kind: atigip.KindPerson, EntityID: people[0].GetMeta().ID})
		if err != nil || len(audits) == 0 || audits[0].Role != atigip.RoleCPIP {
			t.Fatalf("read not audited: %+v %v", audits, err)
		}
	})

	ref := env.token(atigip.Principal{Role: atigip.RoleReferent})
	cpipTok := env.token(atigip.Principal{Role: atigip.RoleCPIP})
	orgs, _, _ := db.Entities(atigip.KindOrganisation).List(ctx, atigip.ListFilter{Limit: 1})
	org := orgs[0].(*atigip.Organisation)
	orgPath := "/api/organisations/" + strconv.FormatInt(org.ID, 10)

	badSIRET := *org
	badSIRET.SIRET = "12345678901234"
	measure := &atigip.Measure{PersonID: people[0].GetMeta().ID, HoursOrdered: 10,
		SentenceDate: atigip.NewDate(2025, 1, 10), State: atigip.MeasureToPlace}
	stale := *org
	stale.Version++ // not the stored version
	stale.Name = "Écrasement silencieux"

	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		status                    int
		field                     string
	}{
		{"invalid SIRET", "PUT", orgPath, ref, &badSIRET, 400, "siret"},
		{"measure of 10 hours", "POST", "/api/measures", cpipTok, measure, 400, "hours_ordered"},
		{"malformed JSON", "POST", "/api/organisations", ref, `{"name":`, 400, ""},
		{"unknown field", "PUT", orgPath, ref, strings.Replace(mustJSON(t, org), `"name"`, `"nom":"x","name"`, 1), 400, "nom"},
		{"oversized body", "POST", "/api/organisations", ref, fmt.Sprintf(`{"name":%q}`, strings.Repeat("é", 40<<10)), 413, ""},
		{"stale version", "PUT", orgPath, ref, &stale, 409, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := db.LastSeq(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var res response
			switch s, ok := tc.body.(string); {
			case ok && tc.status == 413:
				res = env.refused(tc.method, tc.path, tc.token, s)
			case ok:
				res = env.real(tc.method, tc.path, tc.token, s)
			default:
				res = env.real(tc.method, tc.path, tc.token, mustJSON(t, tc.body))
			}
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			if p := res.problem(t); tc.field != "" && !hasField(p, tc.field) {
				t.Fatalf("field %s not named: %+v", tc.field, p)
			}
			after, _ := db.LastSeq(ctx)
			if after != before {
				t.Fatalf("change feed moved from %d to %d", before, after)
			}
			cur, _ := db.Entities(atigip.KindOrganisation).Get(ctx, org.ID)
			if cur.(*atigip.Organisation).Name != org.Name || cur.GetMeta().Version != org.Version {
				t.Fatal("organisation changed")
			}
		})
	}

	t.Run("update then stale", func(t *testing.T) {
		upd := *org
		upd.Name = org.Name + " (mise à jour)"
		if res := env.do("PUT", orgPath, ref, &upd); res.status != 200 {
			t.Fatalf("update: %d %s", res.status, res.body)
		}
		if res := env.do("PUT", orgPath, ref, &upd); res.status != http.StatusConflict {
			t.Fatalf("second update with the same version: %d", res.status)
		}
	})
}

// BenchmarkFilteredList measures GET /api/posts?departement=69&status=open
// through Fiber over the seeded SQLite store and reports the p95. Set
// ATIGIP_BENCH_SCALE (default 1, the national set) to size the data.
func BenchmarkFilteredList(b *testing.B) {
	db, _ := benchStore(b)
	env := newEnv(b, db)
	queries := []struct{ name, path string }{
		{"departement", "/api/posts?departement=69&per_page=50"},
		{"departement-status", "/api/posts?departement=69&status=open&per_page=50"},
		{"departement-rome-domain", "/api/posts?departement=13&rome=A&per_page=50"},
		{"commune", "/api/posts?commune=69123&per_page=50"},
		{"rome-code", "/api/posts?rome=K2204&per_page=50"},
		{"offers-departement", "/api/offers?departement=75&per_page=50"},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			reportPercentiles(b, timeRequests(b, b.N, func(int) response { return env.do("GET", q.path, "", nil) }))
		})
	}
}
