package httpapi

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// BenchmarkIPROLists serves the IPRO workspaces' list pages over the
// national demo set (ATIGIP_BENCH_SCALE, default 1) in process and
// reports each page's p50 and p95 server time (target: p95 < 50 ms):
// « Mon établissement » of the largest establishment, the offer with the
// longest waiting list, the kiosk of a detainee there, the business's
// space (a company with 40 offers) and a profile with its experience.
// The first request of each page, which fills the server's caches, is
// reported apart (first-ms).
func BenchmarkIPROLists(b *testing.B) {
	db, scale := benchStore(b)
	env := newEnv(b, db, func(o *Options) { o.Modules = []Module{IPROModule{}} })
	ctx := context.Background()
	// The largest establishment, its detainee with most applications, and
	// the offer with the longest waiting list.
	count := map[int64]int{}
	var people []*atigip.Person
	if err := atigip.Of[*atigip.Person](db).Scan(ctx, atigip.ListFilter{Status: []string{"detained"}}, func(p *atigip.Person) error {
		count[p.PrisonID]++
		people = append(people, p)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	var prison int64
	for id, n := range count {
		if n > count[prison] || (n == count[prison] && id < prison) {
			prison = id
		}
	}
	apps := map[int64]int{}
	byPerson := map[int64]int{}
	if err := atigip.Of[*atigip.Application](db).Scan(ctx, atigip.ListFilter{}, func(a *atigip.Application) error {
		apps[a.OfferID]++
		byPerson[a.PersonID]++
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	offers, err := atigip.Of[*atigip.Offer](db).All(ctx, atigip.ListFilter{Parent: prison})
	if err != nil || len(offers) == 0 {
		b.Fatalf("offers of %d: %v %d", prison, err, len(offers))
	}
	offer := slices.MaxFunc(offers, func(x, y *atigip.Offer) int { return apps[x.ID] - apps[y.ID] })
	people = slices.DeleteFunc(people, func(p *atigip.Person) bool { return p.PrisonID != prison })
	person := slices.MaxFunc(people, func(x, y *atigip.Person) int { return byPerson[x.ID] - byPerson[y.ID] })
	// The demo set has no concessionnaire's company on its offers: one
	// company gets 40 offers across the country, as a large one would.
	const siret = "12345678200010"
	all, err := atigip.Of[*atigip.Offer](db).All(ctx, atigip.ListFilter{Limit: 40 * 50})
	if err != nil {
		b.Fatal(err)
	}
	for i, o := range all {
		if i%50 != 0 || o.PrisonID == 0 {
			continue
		}
		o.EmployerKind, o.EmployerSIRET = atigip.EmployerConcession, siret
		if err := atigip.Of[*atigip.Offer](db).Update(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	staff := env.token(atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: prison})
	pages := []struct{ name, path, token string }{
		{"etablissement", "/ipro/etablissement", staff},
		{"offre", "/ipro/offres/" + id(offer.ID), staff},
		{"kiosque", "/ipro/kiosque", env.token(atigip.Principal{Role: atigip.RolePerson, PersonID: person.ID, PrisonID: prison})},
		{"entreprise", "/ipro/entreprise", env.token(atigip.Principal{Role: atigip.RoleBusiness, SIRET: siret})},
		{"profil", "/ipro/profil/" + id(person.ID), staff},
	}
	b.Logf("national set ×%g: establishment %d (%d detainees, %d offers), offer %d (%d applications), person %d, SIRET %q",
		scale, prison, count[prison], len(offers), offer.ID, apps[offer.ID], person.ID, siret)
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			// The first request fills the per-server caches (names of the
			// establishments, companies' offers): reported apart.
			t0 := time.Now()
			if r := env.page(pg.path, pg.token); r.status != 200 {
				b.Fatalf("%s: %d %s", pg.path, r.status, r.body)
			}
			cold := time.Since(t0)
			durs := timeRequests(b, b.N, func(int) response { return env.page(pg.path, pg.token) })
			reportQuantiles(b, "", durs, 50, 95)
			b.ReportMetric(float64(cold.Microseconds())/1000, "first-ms")
		})
	}
}
