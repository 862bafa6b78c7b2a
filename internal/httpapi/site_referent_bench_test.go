package httpapi

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// BenchmarkReferentPages measures the referent's pages through Fiber over
// the seeded SQLite store (ATIGIP_BENCH_SCALE, default 1: the national
// set) and reports p50/p95/p99 server time per page. The prospection and
// the indicators are computed once per 5 minutes (the module's TTL): the
// first request of each, which computes them, is reported apart as
// cold-ms; the percentiles are the pages served afterwards.
func BenchmarkReferentPages(b *testing.B) {
	db, _ := benchStore(b)
	env := newEnv(b, db, func(o *Options) { o.Modules = []Module{HomeModule{}, &ReferentModule{}} })
	tok := env.token(atigip.Principal{Role: atigip.RoleReferent})
	var partner int64
	err := atigip.Of[*atigip.Post](db).Scan(context.Background(), atigip.ListFilter{Limit: 1}, func(p *atigip.Post) error {
		partner = p.OrganisationID
		return nil
	})
	if err != nil || partner == 0 {
		b.Fatalf("no partner: %v", err)
	}
	cold := map[string]float64{}
	for _, path := range []string{"/indicateurs", "/referent/prospection"} {
		start := time.Now()
		if res := env.page(path, tok); res.status != 200 {
			b.Fatalf("%s: %d %.300s", path, res.status, res.body)
		}
		cold[path] = float64(time.Since(start).Microseconds()) / 1000
	}
	pages := []struct{ name, path, cold string }{
		{"indicateurs", "/indicateurs", "/indicateurs"},
		{"indicateurs-region", "/indicateurs?region=84", ""},
		{"indicateurs-csv", "/indicateurs/postes-territoire.csv", ""},
		{"prospection", "/referent/prospection", "/referent/prospection"},
		{"prospection-departement-loin", "/referent/prospection?departement=69&loin=1&page=2", ""},
		{"prospection-departements", "/referent/prospection?vue=departements", ""},
		{"prospection-csv-departement", "/referent/prospection?departement=13&format=csv", ""},
		{"partenaires", "/referent/partenaires?page=3", ""},
		{"partenaire", "/referent/partenaires/" + strconv.FormatInt(partner, 10), ""},
		{"espace", "/espace", ""},
	}
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			reportPercentiles(b, timeRequests(b, b.N, func(int) response { return env.page(pg.path, tok) }))
			if pg.cold != "" {
				b.ReportMetric(cold[pg.cold], "cold-ms")
			}
		})
	}
}
