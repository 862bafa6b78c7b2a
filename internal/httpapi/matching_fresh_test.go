package httpapi

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	demoseed "github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/internal/workflow/wftest"
	"github.com/atigip/atigip360/matching"
)

// A change that makes a pair unlawful shows in the very next answer, with
// the default MaxAge: the snapshot is patched from the change feed, not
// rebuilt (its build time does not move).
func TestMatchingReflectsChangesAtOnce(t *testing.T) {
	store := newMemStore()
	w := seedMatchingWorld(t, store)
	env := newEnv(t, store, func(o *Options) { o.Modules = append(o.Modules, &MatchingModule{}) })
	dspip := env.token(atigip.Principal{Role: atigip.RoleDSPIP})
	rank := func() MatchingRanking {
		t.Helper()
		r := env.do("GET", fmt.Sprintf("/api/matching/people/%d/offers?excluded=true", w.person), dspip, nil)
		wantStatus(t, r, 200)
		var rk MatchingRanking
		r.json(t, &rk)
		return rk
	}
	first := rank()
	ref := matching.Ref{Kind: matching.KindTIG, ID: w.post}
	if !slices.ContainsFunc(first.Proposals, func(p matching.Proposal) bool { return p.Item == ref }) {
		t.Fatalf("post %d not proposed at first: %+v", w.post, first.Proposals)
	}
	steps := []struct {
		name   string
		change func(ctx context.Context) error
		rule   matching.Rule
	}{
		{"post closed", func(ctx context.Context) error {
			p, err := atigip.Of[*atigip.Post](store).Get(ctx, w.post)
			if err != nil {
				return err
			}
			p.Status = atigip.PostClosed
			return store.Entities(atigip.KindPost).Update(ctx, p)
		}, matching.RuleOpen},
		{"post reopened, partner archived", func(ctx context.Context) error {
			p, err := atigip.Of[*atigip.Post](store).Get(ctx, w.post)
			if err != nil {
				return err
			}
			p.Status = atigip.PostOpen
			if err := store.Entities(atigip.KindPost).Update(ctx, p); err != nil {
				return err
			}
			o, err := atigip.Of[*atigip.Organisation](store).Get(ctx, p.OrganisationID)
			if err != nil {
				return err
			}
			o.Active = false
			return store.Entities(atigip.KindOrganisation).Update(ctx, o)
		}, matching.RuleHabilitation},
		{"person placed", func(ctx context.Context) error {
			ms, err := atigip.Of[*atigip.Measure](store).All(ctx, atigip.ListFilter{Owner: w.person})
			if err != nil || len(ms) == 0 {
				return fmt.Errorf("measures of the person: %v", err)
			}
			ms[0].State, ms[0].PostID, ms[0].StartDate = atigip.MeasureAssigned, w.far, atigip.DateOf(time.Now())
			return store.Entities(atigip.KindMeasure).Update(ctx, ms[0])
		}, matching.RuleMeasure},
	}
	for _, s := range steps {
		if err := s.change(t.Context()); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		rk := rank()
		if slices.ContainsFunc(rk.Proposals, func(p matching.Proposal) bool { return p.Item == ref }) {
			t.Fatalf("%s: still proposed", s.name)
		}
		found := false
		for _, p := range rk.Excluded {
			found = found || (p.Item == ref && slices.ContainsFunc(p.Exclusions, func(x matching.Exclusion) bool { return x.Rule == s.rule }))
		}
		if !found {
			t.Fatalf("%s: no %s exclusion in %+v", s.name, s.rule, rk.Excluded)
		}
		if !rk.Snapshot.BuiltAt.Equal(first.Snapshot.BuiltAt) || rk.Snapshot.Seq <= first.Snapshot.Seq {
			t.Fatalf("%s: snapshot %+v after %+v: rebuilt or not moved", s.name, rk.Snapshot, first.Snapshot)
		}
	}
}

// BenchmarkMatchingFreshness measures, on the national demo set in SQLite,
// the time from a write that makes a pair unlawful (an open post proposed
// to someone is closed) to an answer that no longer proposes it, through
// the snapshot's patch from the change feed (reflect-ms, p50 and p95).
func BenchmarkMatchingFreshness(b *testing.B) {
	ctx := context.Background()
	store := wftest.SQLite(b)
	if _, err := demoseed.Run(ctx, store, demoseed.Options{Scale: 1, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	m := &MatchingModule{}
	env := newEnv(b, store, func(o *Options) { o.Modules = append(o.Modules, m) })
	snap, err := m.snapshot(ctx, env.srv)
	if err != nil {
		b.Fatal(err)
	}
	// People with a proposal, and their first post.
	type pair struct {
		person int64
		post   int64
	}
	var pairs []pair
	for id := int64(1); len(pairs) < 400 && id < 20000; id += 7 {
		rk, err := snap.Engine.OffersForPerson(id, matching.Query{Limit: 1})
		if err == nil && len(rk.Proposals) == 1 {
			pairs = append(pairs, pair{id, rk.Proposals[0].Item.ID})
		}
	}
	if len(pairs) == 0 {
		b.Fatal("no proposal on the demo set")
	}
	var lat []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pr := pairs[i%len(pairs)]
		p, err := atigip.Of[*atigip.Post](store).Get(ctx, pr.post)
		if err != nil {
			b.Fatal(err)
		}
		if p.Status != atigip.PostOpen {
			continue
		}
		start := time.Now()
		p.Status = atigip.PostClosed
		if err := store.Entities(atigip.KindPost).Update(ctx, p); err != nil {
			b.Fatal(err)
		}
		snap, err := m.snapshot(ctx, env.srv)
		if err != nil {
			b.Fatal(err)
		}
		rk, err := snap.Engine.OffersForPerson(pr.person, matching.Query{})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, float64(time.Since(start).Microseconds())/1000)
		if slices.ContainsFunc(rk.Proposals, func(x matching.Proposal) bool { return x.Item.ID == pr.post }) {
			b.Fatalf("closed post %d still proposed", pr.post)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(matching.Percentile(lat, 0.5), "reflect-ms-p50")
		b.ReportMetric(matching.Percentile(lat, 0.95), "reflect-ms-p95")
	}
}
