package httpapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/web/frfmt"
	"github.com/atigip/atigip360/internal/workflow/wftest"
)

// TestReferentFiguresWarm checks through the pages that the warm-up
// leaves nothing for the first requests to compute, and that a write is
// in the figures once the bound has passed, computed behind the previous
// ones.
func TestReferentFiguresWarm(t *testing.T) {
	clock := newTestClock()
	m := &ReferentModule{Now: clock.now, MaxAge: time.Minute}
	env, w := referentWorldWith(t, m)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); m.Close() })
	m.Start(ctx, env.srv)
	<-m.warm.warmed

	ref := env.token(atigip.Principal{Subject: "r", Role: atigip.RoleReferent})
	dspip := env.token(atigip.Principal{Subject: "d", Role: atigip.RoleDSPIP, Departement: "05"})
	gapFar := "/referent/prospection?departement=05&loin=1"
	for _, tc := range []struct{ path, tok, want string }{
		{"/espace", ref, "Prospection"},
		{"/espace", dspip, "1\u00a0mesure en attente faute de poste proche"},
		{"/indicateurs", ref, "hiffres au " + frfmt.DateTime(clock.now())},
		{"/indicateurs?region=84", ref, "69 — Rhône"},
		{"/indicateurs/cibles.csv", ref, "postes_tig"},
		{gapFar, ref, "hiffres au " + frfmt.DateTime(clock.now())},
		{gapFar, dspip, "Gap"},
	} {
		res := env.page(tc.path, tc.tok)
		if res.status != 200 || !strings.Contains(string(res.body), tc.want) {
			t.Fatalf("%s: %d, lacks %q: %.300s", tc.path, res.status, tc.want, res.body)
		}
	}
	if ni, np := m.ind.computed.Load(), m.prosp.computed.Load(); ni != 1 || np != 1 {
		t.Fatalf("%d indicators and %d prospection computations, want the warm-up's only", ni, np)
	}

	// An open post in Gap: the commune is no longer far from one.
	post := *w.Post
	post.ID, post.Address, post.Location = 0, atigip.Address{Postcode: "05000", City: "Gap", Commune: "05061", Departement: "05"},
		atigip.Point{Lon: 6.08, Lat: 44.56}
	if err := env.store.Entities(atigip.KindPost).Create(context.Background(), &post); err != nil {
		t.Fatal(err)
	}
	if res := env.page(gapFar, ref); !strings.Contains(string(res.body), "Gap") {
		t.Fatalf("within the bound the figures changed: %.300s", res.body)
	}
	clock.add(time.Minute)
	if res := env.page(gapFar, ref); !strings.Contains(string(res.body), "Gap") {
		t.Fatalf("the request past the bound waited for the recomputation: %.300s", res.body)
	}
	settle(m.prosp)
	if res := env.page(gapFar, ref); strings.Contains(string(res.body), "Gap") {
		t.Fatalf("Gap still far once recomputed: %.300s", res.body)
	}
	if np := m.prosp.computed.Load(); np != 2 {
		t.Fatalf("%d prospection computations, want 2", np)
	}
}

// TestIndicatorsAPIWarm checks that the API serves the pages' warm report
// for the current year, and computes another year apart.
func TestIndicatorsAPIWarm(t *testing.T) {
	m := &ReferentModule{}
	store := wftest.SQLite(t)
	wftest.Build(t, store)
	env := newEnv(t, store, func(o *Options) { o.Modules = []Module{m, IndicatorsModule(nil, m)} })
	tok := env.token(atigip.Principal{Subject: "d", Role: atigip.RoleDSPIP})
	for _, path := range []string{"/api/indicators", "/api/indicators?format=csv", "/api/indicators?year=2020", "/indicateurs"} {
		if res := env.page(path, tok); res.status != 200 {
			t.Fatalf("%s: %d %.300s", path, res.status, res.body)
		}
		if n := m.ind.computed.Load(); n != 1 {
			t.Fatalf("after %s: %d computations of the warm report, want 1", path, n)
		}
	}
}
