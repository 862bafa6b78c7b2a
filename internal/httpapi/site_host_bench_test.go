package httpapi

import (
	"context"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/workflow"
)

// BenchmarkHostLists serves the host's list pages and the CPIP's list of
// hours to confirm over the national demo set (ATIGIP_BENCH_SCALE, default
// 1), for the organisation hosting the most tigistes, and reports each page's
// p50 and p95 server time (in-process, no network): « Ma structure » (its
// first page of posts, procedures, tigistes hosted), its second page of
// posts, the week grid, the CPIP's list in the busiest département, and
// « Ma mesure ». Target: p95 under 50 ms. Run with -benchtime 200x.
func BenchmarkHostLists(b *testing.B) {
	db, _ := benchStore(b)
	ctx := context.Background()
	env := newEnv(b, db, func(o *Options) { o.Modules = []Module{WorkflowModule(nil), HostModule{}} })
	// The organisation hosting the most tigistes in progress since before
	// last week: the largest week grid and list of reports.
	mon := lastMonday()
	postOrg := map[int64]int64{}
	err := atigip.Of[*atigip.Post](db).Scan(ctx, atigip.ListFilter{}, func(p *atigip.Post) error { postOrg[p.ID] = p.OrganisationID; return nil })
	if err != nil {
		b.Fatal(err)
	}
	perOrg := map[int64]int{}
	err = atigip.Of[*atigip.Measure](db).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.MeasureInProgress)}}, func(m *atigip.Measure) error {
		if !m.StartDate.After(mon.Time) {
			perOrg[postOrg[m.PostID]]++
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var org int64
	for id, n := range perOrg {
		if id != 0 && (n > perOrg[org] || (n == perOrg[org] && id < org)) {
			org = id
		}
	}
	posts, err := orgPosts(ctx, db, org)
	if err != nil {
		b.Fatal(err)
	}
	hosted, err := workflow.HostedOn(ctx, db, posts)
	if err != nil || len(hosted) == 0 {
		b.Fatalf("organisation %d hosts %d tigistes (%v)", org, len(hosted), err)
	}
	// Hours reported last week on every hosted measure in progress, for
	// the grid and the CPIP's list.
	deps := map[string]int{}
	for _, h := range hosted {
		m := h.Measure
		if m.State != atigip.MeasureInProgress || m.StartDate.After(mon.Time) {
			continue
		}
		for d := range 3 {
			l := &atigip.MeasureLog{MeasureID: m.ID, LogType: atigip.LogHours, Date: mon.AddDays(d), Hours: 3, Status: atigip.LogReported,
				ReportedBy: "bench", ReportedRole: atigip.RoleHost, ReportedAt: time.Now().UTC(), Departement: m.Departement}
			if err := db.Entities(atigip.KindMeasureLog).Create(ctx, l); err != nil {
				b.Fatal(err)
			}
			deps[m.Departement]++
		}
	}
	dep := ""
	for d, n := range deps {
		if n > deps[dep] {
			dep = d
		}
	}
	host := env.token(atigip.Principal{Role: atigip.RoleHost, OrganisationID: org})
	cpip := env.token(atigip.Principal{Role: atigip.RoleCPIP, Departement: dep})
	person := env.token(atigip.Principal{Role: atigip.RolePerson, PersonID: hosted[0].Measure.PersonID})
	pages := []struct{ name, path, tok string }{
		{"structure", "/structure", host},
		{"structure-page2", "/structure?page=2", host},
		{"heures", "/structure/heures?semaine=" + mon.String(), host},
		{"a-confirmer", "/heures-a-confirmer", cpip},
		{"ma-mesure", "/ma-mesure", person},
	}
	for _, p := range pages { // warm-up, and every page answers
		if res := env.page(p.path, p.tok); res.status != 200 {
			b.Fatalf("%s: %d", p.path, res.status)
		}
	}
	// One iteration serves every page in turn.
	durs := timeRequests(b, b.N*len(pages), func(i int) response {
		p := pages[i%len(pages)]
		return env.page(p.path, p.tok)
	})
	for i, p := range pages {
		var ds []time.Duration
		for j := i; j < len(durs); j += len(pages) {
			ds = append(ds, durs[j])
		}
		reportQuantiles(b, p.name+"-", ds, 50, 95)
	}
	b.Logf("organisation %d: %d posts, %d tigistes hosted; CPIP of the %s: %d reports waiting", org, len(posts), len(hosted), dep, deps[dep])
}
