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
// the indicators are computed in the background once the server is ready,
// as serve does (ReferentModule.Start): the warm-up's duration is reported
// as warmup-ms, and the first request of each page after it as first-ms
// (what the first referent of a restarted instance waits, « Mon espace »
// included); the percentiles are the pages served afterwards.
func BenchmarkReferentPages(b *testing.B) {
	db, _ := benchStore(b)
	m := &ReferentModule{}
	env := newEnv(b, db, func(o *Options) { o.Modules = []Module{HomeModule{}, m} })
	tok := env.token(atigip.Principal{Role: atigip.RoleReferent})
	var partner int64
	err := atigip.Of[*atigip.Post](db).Scan(context.Background(), atigip.ListFilter{Limit: 1}, func(p *atigip.Post) error {
		partner = p.OrganisationID
		return nil
	})
	if err != nil || partner == 0 {
		b.Fatalf("no partner: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(func() { cancel(); m.Close() })
	start := time.Now()
	m.Start(ctx, env.srv)
	<-m.warm.warmed
	warmup := float64(time.Since(start).Microseconds()) / 1000
	first := map[string]float64{}
	for _, path := range []string{"/espace", "/indicateurs", "/referent/prospection"} {
		start := time.Now()
		if res := env.page(path, tok); res.status != 200 {
			b.Fatalf("%s: %d %.300s", path, res.status, res.body)
		}
		first[path] = float64(time.Since(start).Microseconds()) / 1000
	}
	if n := m.ind.computed.Load() + m.prosp.computed.Load(); n != 2 {
		b.Fatalf("%d computations, want the warm-up's 2", n)
	}
	pages := []struct{ name, path, first string }{
		{"indicateurs", "/indicateurs", "/indicateurs"},
		{"indicateurs-region", "/indicateurs?region=84", ""},
		{"indicateurs-csv", "/indicateurs/postes-territoire.csv", ""},
		{"prospection", "/referent/prospection", "/referent/prospection"},
		{"prospection-departement-loin", "/referent/prospection?departement=69&loin=1&page=2", ""},
		{"prospection-departements", "/referent/prospection?vue=departements", ""},
		{"prospection-csv-departement", "/referent/prospection?departement=13&format=csv", ""},
		{"partenaires", "/referent/partenaires?page=3", ""},
		{"partenaire", "/referent/partenaires/" + strconv.FormatInt(partner, 10), ""},
		{"espace", "/espace", "/espace"},
	}
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			reportPercentiles(b, timeRequests(b, b.N, func(int) response { return env.page(pg.path, tok) }))
			if pg.first != "" {
				b.ReportMetric(first[pg.first], "first-ms")
				b.ReportMetric(warmup, "warmup-ms")
			}
		})
	}
}
