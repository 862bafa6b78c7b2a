package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// BenchmarkCaseloadPage serves « Mes mesures » (GET /mesures, the whole
// page rendered) over the national demo set (ATIGIP_BENCH_SCALE, default
// 1) and reports the p50 and p95 server time per page, in process (no
// network): a CPIP of the département with the most measures, through the
// query shapes a CPIP uses (default, a state, a flag, a sort, the last
// page), and a national DSPIP (every measure of the country) for
// comparison. The first page (which builds the module's in-memory index
// of the measures) is left out: the server builds it once. Each page
// still waits for its audit entries to be durable. Target: p95 under
// 50 ms for the CPIP.
func BenchmarkCaseloadPage(b *testing.B) {
	db, _ := benchStore(b)
	count := map[string]int{}
	total := 0
	err := atigip.Of[*atigip.Measure](db).Scan(b.Context(), atigip.ListFilter{}, func(m *atigip.Measure) error {
		if !m.Minor {
			count[m.Departement]++
		}
		total++
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	dep := ""
	for d, n := range count {
		if dep == "" || n > count[dep] || (n == count[dep] && d < dep) {
			dep = d
		}
	}
	env := newEnv(b, db, func(o *Options) { o.Modules = []Module{&CaseworkModule{}} })
	queries := []string{"/mesures", "/mesures?etat=to_place", "/mesures?alerte=echeance", "/mesures?tri=heures&ordre=desc",
		"/mesures?etat=in_progress&tri=personne&page=2", "/mesures?q=P-00"}
	for _, c := range []struct {
		name string
		p    atigip.Principal
	}{
		{"cpip-" + dep, atigip.Principal{Role: atigip.RoleCPIP, Departement: dep}},
		{"dspip-national", atigip.Principal{Role: atigip.RoleDSPIP}},
	} {
		b.Run(c.name, func(b *testing.B) {
			tok := env.token(c.p)
			warm := httptest.NewRequest(http.MethodGet, "/mesures", nil) // builds the module's index
			setToken(warm, tok)
			if res := env.send(warm); res.status != http.StatusOK {
				b.Fatalf("warm-up: %d %s", res.status, res.body)
			}
			durs := timeRequests(b, b.N, func(i int) response {
				req := httptest.NewRequest(http.MethodGet, queries[i%len(queries)], nil)
				setToken(req, tok)
				return env.send(req)
			})
			reportQuantiles(b, "", durs, 50, 95)
			b.ReportMetric(float64(count[dep]), "dep-adult-measures")
			b.ReportMetric(float64(total), "national-measures")
		})
	}
}
