package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// Run is the conformance suite every atigip.Store adapter passes. Each call
// of open must return a fresh, empty, migrated store and register its Close
// with t.Cleanup.
//
// Beyond the doc comments of package atigip, the suite pins down:
//   - timestamps are UTC with microsecond precision; Update keeps the
//     stored created_at whatever the client sends and writes it back into
//     the entity;
//   - the total returned by List counts every match, whatever AfterID,
//     Offset and Limit;
//   - a delete's change carries the version that was deleted;
//   - audits come newest first (At, then ID, descending).
func Run(t *testing.T, open func(t *testing.T) atigip.Store) {
	for _, k := range atigip.Kinds {
		t.Run(string(k), func(t *testing.T) {
			t.Run("CreateGet", func(t *testing.T) { testCreateGet(t, open(t), k) })
			t.Run("Invalid", func(t *testing.T) { testInvalid(t, open(t), k) })
			t.Run("UpdateDelete", func(t *testing.T) { testUpdateDelete(t, open(t), k) })
			t.Run("Filters", func(t *testing.T) { testFilters(t, open(t), k) })
			t.Run("Text", func(t *testing.T) { testText(t, open(t), k) })
			if Sample(k, 0).Keys().Ref != "" {
				t.Run("RefUnique", func(t *testing.T) { testRefUnique(t, open(t), k) })
			}
		})
	}
	t.Run("Pagination", func(t *testing.T) { testPagination(t, open(t)) })
	t.Run("CreateMany", func(t *testing.T) { testCreateMany(t, open(t)) })
	t.Run("Tx", func(t *testing.T) { testTx(t, open(t)) })
	t.Run("Cursor", func(t *testing.T) { testCursor(t, open(t)) })
	t.Run("ChangeFeed", func(t *testing.T) { testChangeFeed(t, open(t)) })
	t.Run("Subscribe", func(t *testing.T) { testSubscribe(t, open(t)) })
	t.Run("Follow", func(t *testing.T) { testFollow(t, open(t)) })
	t.Run("Retention", func(t *testing.T) { testRetention(t, open(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("Audits", func(t *testing.T) { testAudits(t, open(t)) })
	t.Run("Migrate", func(t *testing.T) { testMigrate(t, open(t)) })
	t.Run("Timestamps", func(t *testing.T) { testTimestamps(t, open(t)) })
}

// --- helpers -------------------------------------------------------------

func mustJSON(t testing.TB, e any) string {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("marshal %T: %v", e, err)
	}
	return string(b)
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := atigip.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
	if code != "" && atigip.ErrorMessage(err) == "Erreur interne du serveur." {
		t.Fatalf("coded error %q has no user message: %v", code, err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func create(t testing.TB, s atigip.Store, e atigip.Entity) atigip.Entity {
	t.Helper()
	if err := s.Entities(e.Kind()).Create(t.Context(), e); err != nil {
		t.Fatalf("create %s: %v", e.Kind(), err)
	}
	return e
}

func samples(k atigip.Kind, from, n int) []atigip.Entity {
	es := make([]atigip.Entity, n)
	for i := range es {
		es[i] = Sample(k, from+i)
	}
	return es
}

func ids(es []atigip.Entity) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.GetMeta().ID
	}
	return out
}

func changes(t testing.TB, s atigip.Store, after int64) []atigip.Change {
	t.Helper()
	cs, err := s.Changes(t.Context(), after, 100000)
	must(t, err)
	return cs
}

func lastSeq(t testing.TB, s atigip.Store) int64 {
	t.Helper()
	n, err := s.LastSeq(t.Context())
	must(t, err)
	return n
}

func listIDs(t testing.TB, es atigip.Entities, f atigip.ListFilter) ([]int64, int) {
	t.Helper()
	got, total, err := es.List(t.Context(), f)
	if err != nil {
		t.Fatalf("list %+v: %v", f, err)
	}
	return ids(got), total
}

func scanIDs(t testing.TB, es atigip.Entities, f atigip.ListFilter) []int64 {
	t.Helper()
	var out []int64
	err := es.Scan(t.Context(), f, func(e atigip.Entity) error {
		out = append(out, e.GetMeta().ID)
		return nil
	})
	if err != nil {
		t.Fatalf("scan %+v: %v", f, err)
	}
	return out
}

func checkStamp(t testing.TB, what string, ts time.Time, notBefore, notAfter time.Time) {
	t.Helper()
	if ts.IsZero() {
		t.Fatalf("%s is zero", what)
	}
	if ts.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", what, ts.Location())
	}
	if ts.Nanosecond()%1000 != 0 {
		t.Errorf("%s = %v has sub-microsecond digits", what, ts)
	}
	// One second of slack each side: the store's clock may be another host's.
	if ts.Before(notBefore.Add(-time.Second)) || ts.After(notAfter.Add(time.Second)) {
		t.Errorf("%s = %v, want between %v and %v", what, ts, notBefore, notAfter)
	}
}

// withMeta returns e carrying m's bookkeeping, as a client sends back an
// edited entity.
func withMeta(e atigip.Entity, m atigip.Meta) atigip.Entity {
	*e.GetMeta() = m
	return e
}

// drain consumes pending signals until none comes for a while, so that a
// late signal of an earlier commit (NOTIFY on PostgreSQL) is not taken for
// a signal of what follows.
func drain(sig <-chan struct{}) {
	for waitSignal(sig, 150*time.Millisecond) {
	}
}

func waitSignal(sig <-chan struct{}, d time.Duration) bool {
	select {
	case <-sig:
		return true
	case <-time.After(d):
		return false
	}
}

// --- per kind --------------------------------------------------------------

func testCreateGet(t *testing.T, s atigip.Store, k atigip.Kind) {
	ctx := t.Context()
	es := s.Entities(k)
	before := time.Now()
	e := create(t, s, Sample(k, 0))
	after := time.Now()
	m := *e.GetMeta()
	if m.ID <= 0 || m.Version != 1 {
		t.Fatalf("after create: id %d version %d, want id > 0 and version 1", m.ID, m.Version)
	}
	checkStamp(t, "created_at", m.CreatedAt, before, after)
	checkStamp(t, "updated_at", m.UpdatedAt, before, after)
	if !m.CreatedAt.Equal(m.UpdatedAt) {
		t.Errorf("created_at %v != updated_at %v on create", m.CreatedAt, m.UpdatedAt)
	}

	got, err := es.Get(ctx, m.ID)
	must(t, err)
	if got.Kind() != k {
		t.Fatalf("got kind %q, want %q", got.Kind(), k)
	}
	if g, w := mustJSON(t, got), mustJSON(t, e); g != w {
		t.Fatalf("get differs from created entity:\n got %s\nwant %s", g, w)
	}
	if got.GetMeta().CreatedAt.Location() != time.UTC {
		t.Errorf("read created_at location = %v, want UTC", got.GetMeta().CreatedAt.Location())
	}

	e2 := create(t, s, Sample(k, 1))
	if e2.GetMeta().ID <= m.ID {
		t.Errorf("second id %d not above first %d", e2.GetMeta().ID, m.ID)
	}
	for _, id := range []int64{e2.GetMeta().ID + 1000, -1} {
		_, err = es.Get(ctx, id)
		wantCode(t, err, atigip.ENOTFOUND)
	}
	// Kinds are separate collections: another kind's id space does not leak.
	for _, other := range atigip.Kinds {
		if other != k {
			_, err = s.Entities(other).Get(ctx, m.ID)
			wantCode(t, err, atigip.ENOTFOUND)
		}
	}
}

func testInvalid(t *testing.T, s atigip.Store, k atigip.Kind) {
	ctx := t.Context()
	es := s.Entities(k)
	bad, field := Invalid(k)
	err := es.Create(ctx, bad)
	wantCode(t, err, atigip.EINVALID)
	if !slices.ContainsFunc(atigip.ErrorFields(err), func(f atigip.FieldError) bool { return f.Field == field }) {
		t.Errorf("field errors %v lack %q", atigip.ErrorFields(err), field)
	}
	if _, total := listIDs(t, es, atigip.ListFilter{}); total != 0 {
		t.Errorf("invalid create stored something: total %d", total)
	}
	if n := lastSeq(t, s); n != 0 {
		t.Errorf("invalid create appended changes: last seq %d", n)
	}

	// An invalid update changes nothing either.
	good := create(t, s, Sample(k, 0))
	want := mustJSON(t, good)
	seq := lastSeq(t, s)
	bad, _ = Invalid(k)
	withMeta(bad, *good.GetMeta())
	wantCode(t, es.Update(ctx, bad), atigip.EINVALID)
	got, err := es.Get(ctx, good.GetMeta().ID)
	must(t, err)
	if g := mustJSON(t, got); g != want {
		t.Errorf("invalid update changed the entity:\n got %s\nwant %s", g, want)
	}
	if n := lastSeq(t, s); n != seq {
		t.Errorf("invalid update appended changes: last seq %d, want %d", n, seq)
	}
}

func testUpdateDelete(t *testing.T, s atigip.Store, k atigip.Kind) {
	ctx := t.Context()
	es := s.Entities(k)
	e := create(t, s, Sample(k, 0))
	orig := *e.GetMeta()
	id := orig.ID
	time.Sleep(2 * time.Millisecond) // so that updated_at can move

	// Sample 7 differs in every key (place, status, ROME…); the client does
	// not send created_at back.
	upd := withMeta(Sample(k, 7), atigip.Meta{ID: id, Version: 1})
	must(t, es.Update(ctx, upd))
	um := *upd.GetMeta()
	if um.Version != 2 {
		t.Fatalf("version after update = %d, want 2", um.Version)
	}
	if !um.CreatedAt.Equal(orig.CreatedAt) {
		t.Errorf("update created_at = %v, want the stored %v", um.CreatedAt, orig.CreatedAt)
	}
	if !um.UpdatedAt.After(orig.UpdatedAt) {
		t.Errorf("updated_at %v not after %v", um.UpdatedAt, orig.UpdatedAt)
	}
	got, err := es.Get(ctx, id)
	must(t, err)
	want := mustJSON(t, upd)
	if g := mustJSON(t, got); g != want {
		t.Fatalf("get after update:\n got %s\nwant %s", g, want)
	}
	// The indexed keys follow the update.
	nk, ok := upd.Keys(), e.Keys()
	if nk.Owner != ok.Owner {
		if l, _ := listIDs(t, es, atigip.ListFilter{Owner: ok.Owner}); len(l) != 0 {
			t.Errorf("still listed under old owner %d", ok.Owner)
		}
		if l, _ := listIDs(t, es, atigip.ListFilter{Owner: nk.Owner}); !slices.Equal(l, []int64{id}) {
			t.Errorf("not listed under new owner %d: %v", nk.Owner, l)
		}
	}
	if nk.Departement != "" && nk.Departement != ok.Departement {
		if l, _ := listIDs(t, es, atigip.ListFilter{Departement: ok.Departement}); len(l) != 0 {
			t.Errorf("still listed under old département %q", ok.Departement)
		}
		if l, _ := listIDs(t, es, atigip.ListFilter{Departement: nk.Departement}); !slices.Equal(l, []int64{id}) {
			t.Errorf("not listed under new département %q: %v", nk.Departement, l)
		}
	}
	for _, c := range ok.ROME {
		if !slices.Contains(nk.ROME, c) {
			if l, _ := listIDs(t, es, atigip.ListFilter{ROME: c}); len(l) != 0 {
				t.Errorf("still listed under old ROME code %s", c)
			}
		}
	}
	for _, c := range nk.ROME {
		if l, _ := listIDs(t, es, atigip.ListFilter{ROME: c}); !slices.Equal(l, []int64{id}) {
			t.Errorf("not listed under new ROME code %s: %v", c, l)
		}
	}

	// A stale version conflicts and changes nothing.
	seq := lastSeq(t, s)
	stale := withMeta(Sample(k, 3), atigip.Meta{ID: id, Version: 1})
	err = es.Update(ctx, stale)
	wantCode(t, err, atigip.ECONFLICT)
	if !atigip.Concurrent(err) {
		t.Errorf("a stale version is a concurrent writer's doing, worth a retry on fresh data: %v", err)
	}
	if stale.GetMeta().Version != 1 {
		t.Errorf("failed update changed the entity's version to %d", stale.GetMeta().Version)
	}
	got, err = es.Get(ctx, id)
	must(t, err)
	if g := mustJSON(t, got); g != want {
		t.Errorf("stale update changed the entity:\n got %s\nwant %s", g, want)
	}
	if n := lastSeq(t, s); n != seq {
		t.Errorf("stale update appended a change")
	}
	wantCode(t, es.Update(ctx, withMeta(Sample(k, 3), atigip.Meta{ID: id + 1000, Version: 1})), atigip.ENOTFOUND)

	// Delete needs the current version too.
	wantCode(t, es.Delete(ctx, id, 1), atigip.ECONFLICT)
	if _, err := es.Get(ctx, id); err != nil {
		t.Fatalf("stale delete removed the entity: %v", err)
	}
	must(t, es.Delete(ctx, id, 2))
	_, err = es.Get(ctx, id)
	wantCode(t, err, atigip.ENOTFOUND)
	wantCode(t, es.Delete(ctx, id, 2), atigip.ENOTFOUND)
	if l, total := listIDs(t, es, atigip.ListFilter{}); len(l) != 0 || total != 0 {
		t.Errorf("deleted entity still listed: %v (total %d)", l, total)
	}
	for _, c := range nk.ROME {
		if l, _ := listIDs(t, es, atigip.ListFilter{ROME: c}); len(l) != 0 {
			t.Errorf("deleted entity still listed under ROME %s", c)
		}
	}

	// Ids are never reused: a follower must not mistake a new entity for
	// the deleted one.
	if n := create(t, s, Sample(k, 9)); n.GetMeta().ID <= id {
		t.Errorf("id %d reused or lower after deleting %d", n.GetMeta().ID, id)
	}

	cs := changes(t, s, 0)
	if len(cs) != 4 {
		t.Fatalf("%d changes after create, update, delete, create; want 4: %+v", len(cs), cs)
	}
	cs = cs[:3]
	type op struct {
		op      atigip.Op
		version int64
	}
	var gotOps []op
	for _, c := range cs {
		if c.Kind != k || c.ID != id {
			t.Errorf("change %+v is not about %s %d", c, k, id)
		}
		gotOps = append(gotOps, op{c.Op, c.Version})
	}
	wantOps := []op{{atigip.OpCreate, 1}, {atigip.OpUpdate, 2}, {atigip.OpDelete, 2}}
	if !slices.Equal(gotOps, wantOps) {
		t.Errorf("changes = %v, want %v", gotOps, wantOps)
	}
}

func testFilters(t *testing.T, s atigip.Store, k atigip.Kind) {
	ctx := t.Context()
	es := s.Entities(k)
	const n = 42
	all := samples(k, 0, n)
	must(t, es.CreateMany(ctx, all))
	byID := map[int64]atigip.Keys{}
	for _, e := range all {
		byID[e.GetMeta().ID] = e.Keys()
	}

	k0, k1 := all[0].Keys(), all[1].Keys()
	var ref string
	for _, e := range all[1:] {
		if r := e.Keys().Ref; r != "" {
			ref = r
			break
		}
	}
	var code string
	for _, e := range all {
		if len(e.Keys().ROME) > 0 {
			code = e.Keys().ROME[0]
			break
		}
	}
	cases := []struct {
		name string
		f    atigip.ListFilter
		skip bool
	}{
		{"all", atigip.ListFilter{}, false},
		{"departement", atigip.ListFilter{Departement: k0.Departement}, k0.Departement == ""},
		{"departement Corse", atigip.ListFilter{Departement: "2A"}, k0.Departement == ""},
		{"departement unknown", atigip.ListFilter{Departement: "48"}, false},
		{"commune", atigip.ListFilter{Commune: k1.Commune}, k1.Commune == ""},
		{"status", atigip.ListFilter{Status: []string{k0.Status}}, k0.Status == ""},
		{"status any of", atigip.ListFilter{Status: []string{k0.Status, k1.Status}}, k0.Status == ""},
		{"parent", atigip.ListFilter{Parent: k1.Parent}, k1.Parent == 0},
		{"owner", atigip.ListFilter{Owner: k1.Owner}, k1.Owner == 0},
		{"owner unknown", atigip.ListFilter{Owner: 1 << 40}, false},
		{"owner and status", atigip.ListFilter{Owner: k0.Owner, Status: []string{k0.Status}}, k0.Owner == 0},
		{"rome code", atigip.ListFilter{ROME: code}, code == ""},
		{"rome domain", atigip.ListFilter{ROME: "A"}, code == ""},
		{"rome domain none", atigip.ListFilter{ROME: "M"}, code == ""},
		{"public only", atigip.ListFilter{PublicOnly: true}, false},
		{"ref", atigip.ListFilter{Ref: ref}, ref == ""},
		{"ref unknown", atigip.ListFilter{Ref: "crm:0"}, false},
		{"ids", atigip.ListFilter{IDs: []int64{all[30].GetMeta().ID, all[3].GetMeta().ID, all[5].GetMeta().ID, 1 << 40}}, false},
		{"departement and status", atigip.ListFilter{Departement: k0.Departement, Status: []string{k0.Status, k1.Status}}, k0.Departement == ""},
		{"departement public rome", atigip.ListFilter{Departement: k0.Departement, PublicOnly: true, ROME: "A"}, code == "" || k0.Departement == ""},
		{"parent status ids", atigip.ListFilter{Parent: k0.Parent, Status: []string{k1.Status, k0.Status},
			IDs: ids(all[:20])}, k0.Parent == 0},
	}
	for _, c := range cases {
		if c.skip {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			var want []int64
			for _, e := range all {
				if Matches(e.GetMeta().ID, byID[e.GetMeta().ID], c.f) {
					want = append(want, e.GetMeta().ID)
				}
			}
			f := c.f
			f.Limit = 1000
			got, total := listIDs(t, es, f)
			if !slices.Equal(got, want) {
				t.Errorf("list ids = %v, want %v", got, want)
			}
			if total != len(want) {
				t.Errorf("total = %d, want %d", total, len(want))
			}
			if got := scanIDs(t, es, c.f); !slices.Equal(got, want) {
				t.Errorf("scan ids = %v, want %v", got, want)
			}
		})
	}
}

func testRefUnique(t *testing.T, s atigip.Store, k atigip.Kind) {
	ctx := t.Context()
	es := s.Entities(k)
	a := create(t, s, Sample(k, 0))
	seq := lastSeq(t, s)
	err := es.Create(ctx, Sample(k, 0))
	wantCode(t, err, atigip.ECONFLICT)
	if !atigip.Concurrent(err) {
		t.Errorf("a duplicate ref may be a concurrent writer's, worth a retry on fresh data: %v", err)
	}
	if _, total := listIDs(t, es, atigip.ListFilter{}); total != 1 {
		t.Fatalf("duplicate ref stored: total %d", total)
	}
	if lastSeq(t, s) != seq {
		t.Errorf("rejected duplicate appended a change")
	}
	got, _ := listIDs(t, es, atigip.ListFilter{Ref: a.Keys().Ref})
	if !slices.Equal(got, []int64{a.GetMeta().ID}) {
		t.Errorf("ref filter = %v, want [%d]", got, a.GetMeta().ID)
	}

	// Taking another entity's ref by update conflicts too.
	b := create(t, s, Sample(k, 2))
	bJSON := mustJSON(t, b)
	wantCode(t, es.Update(ctx, withMeta(Sample(k, 0), *b.GetMeta())), atigip.ECONFLICT)
	cur, err := es.Get(ctx, b.GetMeta().ID)
	must(t, err)
	if mustJSON(t, cur) != bJSON {
		t.Errorf("conflicting update changed the entity")
	}

	// A batch with a duplicate inside creates nothing.
	wantCode(t, es.CreateMany(ctx, []atigip.Entity{Sample(k, 4), Sample(k, 6), Sample(k, 4)}), atigip.ECONFLICT)
	if _, total := listIDs(t, es, atigip.ListFilter{}); total != 2 {
		t.Errorf("batch with a duplicate ref stored something: total %d", total)
	}

	// Entities without a ref never collide.
	var noRef []atigip.Entity
	for i := 1; i < 40 && len(noRef) < 3; i++ {
		if e := Sample(k, i); e.Keys().Ref == "" {
			noRef = append(noRef, e)
		}
	}
	if len(noRef) > 0 {
		must(t, es.CreateMany(ctx, noRef))
	}
}

// --- store-wide --------------------------------------------------------------

func testPagination(t *testing.T, s atigip.Store) {
	ctx := t.Context()
	posts := atigip.Of[*atigip.Post](s)
	ps := make([]*atigip.Post, 60)
	for i := range ps {
		ps[i] = Sample(atigip.KindPost, i).(*atigip.Post)
	}
	must(t, posts.CreateMany(ctx, ps))
	all := make([]int64, len(ps))
	for i, p := range ps {
		all[i] = p.ID
	}
	if !slices.IsSorted(all) {
		t.Fatalf("CreateMany ids not ascending in batch order: %v", all)
	}
	es := s.Entities(atigip.KindPost)

	cases := []struct {
		name  string
		f     atigip.ListFilter
		want  []int64
		total int
	}{
		{"default limit 50", atigip.ListFilter{}, all[:50], 60},
		{"offset limit", atigip.ListFilter{Offset: 20, Limit: 10}, all[20:30], 60},
		{"last partial page", atigip.ListFilter{Offset: 55, Limit: 10}, all[55:], 60},
		{"offset past end", atigip.ListFilter{Offset: 100, Limit: 10}, nil, 60},
		{"after id", atigip.ListFilter{AfterID: all[9], Limit: 5}, all[10:15], 60},
		{"after id default limit", atigip.ListFilter{AfterID: all[2]}, all[3:53], 60},
		{"after last", atigip.ListFilter{AfterID: all[59]}, nil, 60},
		{"many ids", atigip.ListFilter{IDs: manyIDs(all[5], all[40]), Limit: 100}, []int64{all[5], all[40]}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, total := listIDs(t, es, c.f)
			if !slices.Equal(got, c.want) {
				t.Errorf("ids = %v, want %v", got, c.want)
			}
			if total != c.total {
				t.Errorf("total = %d, want %d", total, c.total)
			}
		})
	}

	t.Run("keyset walk", func(t *testing.T) {
		var walked []int64
		f := atigip.ListFilter{Departement: "69", Limit: 4}
		var want []int64
		for _, p := range ps {
			if p.Address.Departement == "69" {
				want = append(want, p.ID)
			}
		}
		for range 100 {
			page, total, err := posts.List(ctx, f)
			must(t, err)
			if total != len(want) {
				t.Fatalf("total = %d, want %d", total, len(want))
			}
			if len(page) == 0 {
				break
			}
			for _, p := range page {
				walked = append(walked, p.ID)
			}
			f.AfterID = page[len(page)-1].ID
		}
		if !slices.Equal(walked, want) {
			t.Errorf("walked %v, want %v", walked, want)
		}
	})

	t.Run("scan", func(t *testing.T) {
		if got := scanIDs(t, es, atigip.ListFilter{}); !slices.Equal(got, all) {
			t.Errorf("scan without limit = %v, want all 60", got)
		}
		if got := scanIDs(t, es, atigip.ListFilter{AfterID: all[10], Limit: 7}); !slices.Equal(got, all[11:18]) {
			t.Errorf("scan after/limit = %v, want %v", got, all[11:18])
		}
		stop := errors.New("stop")
		calls := 0
		err := es.Scan(ctx, atigip.ListFilter{}, func(atigip.Entity) error {
			calls++
			if calls == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 3 {
			t.Errorf("scan stopped with %v after %d calls, want stop after 3", err, calls)
		}
		typed, err := posts.All(ctx, atigip.ListFilter{Status: []string{string(atigip.PostOpen)}})
		must(t, err)
		for _, p := range typed {
			if p.Status != atigip.PostOpen {
				t.Errorf("All returned post %d with status %s", p.ID, p.Status)
			}
		}
		if len(typed) != 12 {
			t.Errorf("All(open) = %d posts, want 12", len(typed))
		}
		one, err := posts.Get(ctx, all[4])
		must(t, err)
		if one.Title != ps[4].Title {
			t.Errorf("typed get title %q, want %q", one.Title, ps[4].Title)
		}
	})
}

// manyIDs is a long IDs filter (past SQLite's old limit of 999 bound
// parameters) holding want among ids that do not exist.
func manyIDs(want ...int64) []int64 {
	out := slices.Clone(want)
	for i := range int64(5000) {
		out = append(out, 1<<40+i)
	}
	return out
}

func testCreateMany(t *testing.T, s atigip.Store) {
	ctx := t.Context()
	es := s.Entities(atigip.KindPost)
	must(t, es.CreateMany(ctx, nil))
	batch := samples(atigip.KindPost, 0, 5)
	must(t, es.CreateMany(ctx, batch))
	got := ids(batch)
	for i, e := range batch {
		m := e.GetMeta()
		if m.ID <= 0 || m.Version != 1 || m.CreatedAt.IsZero() || m.UpdatedAt.IsZero() {
			t.Errorf("batch[%d] meta %+v not set", i, m)
		}
		if i > 0 && got[i] <= got[i-1] {
			t.Errorf("batch ids not ascending: %v", got)
		}
	}
	cs := changes(t, s, 0)
	if len(cs) != 5 {
		t.Fatalf("%d changes for a batch of 5", len(cs))
	}
	for i, c := range cs {
		if c.Op != atigip.OpCreate || c.ID != got[i] || c.Version != 1 || c.Kind != atigip.KindPost {
			t.Errorf("change %d = %+v, want create of post %d", i, c, got[i])
		}
	}

	seq := lastSeq(t, s)
	bad := samples(atigip.KindPost, 10, 5)
	bad[3], _ = Invalid(atigip.KindPost)
	wantCode(t, es.CreateMany(ctx, bad), atigip.EINVALID)
	if _, total := listIDs(t, es, atigip.ListFilter{}); total != 5 {
		t.Errorf("failed batch left entities: total %d, want 5", total)
	}
	if lastSeq(t, s) != seq {
		t.Errorf("failed batch appended changes")
	}
}

func testTx(t *testing.T, s atigip.Store) {
	ctx := t.Context()
	var orgID, postID int64
	err := s.InTx(ctx, func(tx atigip.Tx) error {
		o := Sample(atigip.KindOrganisation, 0).(*atigip.Organisation)
		if err := atigip.Of[*atigip.Organisation](tx).Create(ctx, o); err != nil {
			return err
		}
		p := Sample(atigip.KindPost, 0).(*atigip.Post)
		p.OrganisationID = o.ID
		if err := tx.Entities(atigip.KindPost).Create(ctx, p); err != nil {
			return err
		}
		orgID, postID = o.ID, p.ID
		// The transaction reads its own writes…
		got, err := atigip.Of[*atigip.Post](tx).Get(ctx, p.ID)
		if err != nil {
			return fmt.Errorf("read own write: %w", err)
		}
		if got.OrganisationID != o.ID {
			return fmt.Errorf("read own write: organisation %d, want %d", got.OrganisationID, o.ID)
		}
		if _, total, err := tx.Entities(atigip.KindPost).List(ctx, atigip.ListFilter{}); err != nil || total != 1 {
			return fmt.Errorf("list own write: total %d, err %v", total, err)
		}
		// …which others do not see before commit.
		if _, err := s.Entities(atigip.KindPost).Get(ctx, p.ID); atigip.ErrorCode(err) != atigip.ENOTFOUND {
			return fmt.Errorf("uncommitted post visible outside the transaction (err %v)", err)
		}
		return nil
	})
	must(t, err)
	if _, err := s.Entities(atigip.KindPost).Get(ctx, postID); err != nil {
		t.Fatalf("committed post: %v", err)
	}
	if _, err := s.Entities(atigip.KindOrganisation).Get(ctx, orgID); err != nil {
		t.Fatalf("committed organisation: %v", err)
	}
	if n := len(changes(t, s, 0)); n != 2 {
		t.Errorf("%d changes after a committed tx of 2 creates", n)
	}

	seq := lastSeq(t, s)
	sig, cancel := s.Subscribe()
	defer cancel()
	drain(sig)
	boom := errors.New("boom")
	var lost int64
	err = s.InTx(ctx, func(tx atigip.Tx) error {
		p := Sample(atigip.KindPost, 1)
		if err := tx.Entities(atigip.KindPost).Create(ctx, p); err != nil {
			return err
		}
		lost = p.GetMeta().ID
		upd := withMeta(Sample(atigip.KindPost, 2), atigip.Meta{ID: postID, Version: 1})
		if err := tx.Entities(atigip.KindPost).Update(ctx, upd); err != nil {
			return err
		}
		if err := tx.Entities(atigip.KindOrganisation).Delete(ctx, orgID, 1); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v, want the function's error", err)
	}
	_, err = s.Entities(atigip.KindPost).Get(ctx, lost)
	wantCode(t, err, atigip.ENOTFOUND)
	p, err := s.Entities(atigip.KindPost).Get(ctx, postID)
	must(t, err)
	if p.GetMeta().Version != 1 {
		t.Errorf("rolled-back update kept: version %d", p.GetMeta().Version)
	}
	if _, err := s.Entities(atigip.KindOrganisation).Get(ctx, orgID); err != nil {
		t.Errorf("rolled-back delete kept: %v", err)
	}
	if lastSeq(t, s) != seq {
		t.Errorf("rolled-back tx appended changes")
	}
	if waitSignal(sig, 100*time.Millisecond) {
		t.Errorf("rolled-back tx signalled subscribers")
	}

	// A coded error from inside keeps its code through InTx.
	err = s.InTx(ctx, func(tx atigip.Tx) error {
		return tx.Entities(atigip.KindPost).Update(ctx, withMeta(Sample(atigip.KindPost, 3), atigip.Meta{ID: postID, Version: 9}))
	})
	wantCode(t, err, atigip.ECONFLICT)
}

func testCursor(t *testing.T, s atigip.Store) {
	ctx := t.Context()
	get := func() string {
		t.Helper()
		v, err := s.Cursor(ctx, "crm.organisations")
		must(t, err)
		return v
	}
	if v := get(); v != "" {
		t.Fatalf("unset cursor = %q, want empty", v)
	}
	must(t, s.SetCursor(ctx, "crm.organisations", "2024-03-01T10:00:00Z#42"))
	must(t, s.SetCursor(ctx, "appi.ffe11", "7"))
	if v := get(); v != "2024-03-01T10:00:00Z#42" {
		t.Fatalf("cursor = %q", v)
	}
	must(t, s.SetCursor(ctx, "crm.organisations", "43"))
	if v := get(); v != "43" {
		t.Fatalf("overwritten cursor = %q, want 43", v)
	}

	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx atigip.Tx) error {
		if err := tx.Entities(atigip.KindOrganisation).Create(ctx, Sample(atigip.KindOrganisation, 0)); err != nil {
			return err
		}
		if err := tx.SetCursor(ctx, "crm.organisations", "99"); err != nil {
			return err
		}
		if v, err := tx.Cursor(ctx, "crm.organisations"); err != nil || v != "99" {
			return fmt.Errorf("cursor inside tx = %q, %v", v, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	if v := get(); v != "43" {
		t.Errorf("cursor after rollback = %q, want 43", v)
	}
	if _, total := listIDs(t, s.Entities(atigip.KindOrganisation), atigip.ListFilter{}); total != 0 {
		t.Errorf("data of the rolled-back tx kept")
	}

	must(t, s.InTx(ctx, func(tx atigip.Tx) error {
		if err := tx.Entities(atigip.KindOrganisation).Create(ctx, Sample(atigip.KindOrganisation, 0)); err != nil {
			return err
		}
		return tx.SetCursor(ctx, "crm.organisations", "100")
	}))
	if v := get(); v != "100" {
		t.Errorf("cursor after commit = %q, want 100", v)
	}
	if _, total := listIDs(t, s.Entities(atigip.KindOrganisation), atigip.ListFilter{}); total != 1 {
		t.Errorf("data of the committed tx: total %d, want 1", total)
	}
	if v, err := s.Cursor(ctx, "appi.ffe11"); err != nil || v != "7" {
		t.Errorf("other cursor = %q, %v; want 7", v, err)
	}
}

func testChangeFeed(t *testing.T, s atigip.Store) {
	ctx := t.Context()
	if n := lastSeq(t, s); n != 0 {
		t.Fatalf("fresh store last seq = %d", n)
	}
	if cs := changes(t, s, 0); len(cs) != 0 {
		t.Fatalf("fresh store has changes: %v", cs)
	}
	before := time.Now()
	type want struct {
		kind    atigip.Kind
		id      int64
		op      atigip.Op
		version int64
	}
	var wants []want
	o := create(t, s, Sample(atigip.KindOrganisation, 0))
	wants = append(wants, want{atigip.KindOrganisation, o.GetMeta().ID, atigip.OpCreate, 1})
	p := create(t, s, Sample(atigip.KindPost, 0))
	wants = append(wants, want{atigip.KindPost, p.GetMeta().ID, atigip.OpCreate, 1})
	must(t, s.Entities(atigip.KindPost).Update(ctx, p))
	wants = append(wants, want{atigip.KindPost, p.GetMeta().ID, atigip.OpUpdate, 2})
	batch := samples(atigip.KindPrison, 0, 3)
	must(t, s.Entities(atigip.KindPrison).CreateMany(ctx, batch))
	for _, b := range batch {
		wants = append(wants, want{atigip.KindPrison, b.GetMeta().ID, atigip.OpCreate, 1})
	}
	must(t, s.Entities(atigip.KindOrganisation).Delete(ctx, o.GetMeta().ID, 1))
	wants = append(wants, want{atigip.KindOrganisation, o.GetMeta().ID, atigip.OpDelete, 1})
	must(t, s.Entities(atigip.KindPost).Update(ctx, p))
	wants = append(wants, want{atigip.KindPost, p.GetMeta().ID, atigip.OpUpdate, 3})
	after := time.Now()

	cs := changes(t, s, 0)
	if len(cs) != len(wants) {
		t.Fatalf("%d changes, want %d: %+v", len(cs), len(wants), cs)
	}
	for i, c := range cs {
		if w := (want{c.Kind, c.ID, c.Op, c.Version}); w != wants[i] {
			t.Errorf("change %d = %+v, want %+v", i, w, wants[i])
		}
		if i > 0 && c.Seq <= cs[i-1].Seq {
			t.Errorf("seq not increasing: %d after %d", c.Seq, cs[i-1].Seq)
		}
		checkStamp(t, fmt.Sprintf("change %d at", i), c.At, before, after)
	}
	if n := lastSeq(t, s); n != cs[len(cs)-1].Seq {
		t.Errorf("last seq = %d, want %d", n, cs[len(cs)-1].Seq)
	}
	// Paging with after/limit gives the same feed.
	var paged []atigip.Change
	for from := int64(0); ; {
		page, err := s.Changes(ctx, from, 3)
		must(t, err)
		if len(page) > 3 {
			t.Fatalf("page of %d changes, limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		from = page[len(page)-1].Seq
	}
	if mustJSON(t, paged) != mustJSON(t, cs) {
		t.Errorf("paged feed differs:\n got %+v\nwant %+v", paged, cs)
	}
	mid, err := s.Changes(ctx, cs[3].Seq, 2)
	must(t, err)
	if mustJSON(t, mid) != mustJSON(t, cs[4:6]) {
		t.Errorf("Changes(after %d, 2) = %+v, want %+v", cs[3].Seq, mid, cs[4:6])
	}
}

func testSubscribe(t *testing.T, s atigip.Store) {
	ctx := t.Context()
	sig1, cancel1 := s.Subscribe()
	defer cancel1()
	sig2, cancel2 := s.Subscribe()
	create(t, s, Sample(atigip.KindPost, 0))
	if !waitSignal(sig1, 5*time.Second) || !waitSignal(sig2, 5*time.Second) {
		t.Fatal("no signal after a committed create")
	}
	cancel2()
	drain(sig1)

	// Nothing committed, nothing signalled.
	bad, _ := Invalid(atigip.KindPost)
	wantCode(t, s.Entities(atigip.KindPost).Create(ctx, bad), atigip.EINVALID)
	_ = s.InTx(ctx, func(tx atigip.Tx) error {
		if err := tx.Entities(atigip.KindPost).Create(ctx, Sample(atigip.KindPost, 1)); err != nil {
			return err
		}
		return errors.New("rollback")
	})
	if waitSignal(sig1, 100*time.Millisecond) {
		t.Error("signal without a committed change")
	}

	// Signals coalesce: many commits while nobody reads leave at least one.
	for i := range 5 {
		create(t, s, Sample(atigip.KindPost, 2+i))
	}
	if !waitSignal(sig1, 5*time.Second) {
		t.Fatal("no signal after several commits")
	}
	must(t, s.InTx(ctx, func(tx atigip.Tx) error { return tx.SetCursor(ctx, "x", "1") }))
	create(t, s, Sample(atigip.KindPrison, 0))
	if !waitSignal(sig1, 5*time.Second) {
		t.Fatal("no signal after a commit following a cancelled subscriber")
	}
}

// follower runs atigip.Follow in the background and records what it sees.
type follower struct {
	mu   sync.Mutex
	seen []atigip.Change
	done chan error
	stop context.CancelFunc
}

func follow(t testing.TB, s atigip.Store, batch int, poll time.Duration) *follower {
	ctx, cancel := context.WithCancel(t.Context())
	f := &follower{done: make(chan error, 1), stop: cancel}
	go func() {
		f.done <- atigip.Follow(ctx, s, 0, batch, poll, func(cs []atigip.Change) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.seen = append(f.seen, cs...)
			return nil
		})
	}()
	t.Cleanup(cancel)
	return f
}

// waitFor waits until the follower has seen seq, and returns what it saw.
func (f *follower) waitFor(t testing.TB, seq int64, d time.Duration) []atigip.Change {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		f.mu.Lock()
		seen := slices.Clone(f.seen)
		f.mu.Unlock()
		if seq == 0 || (len(seen) > 0 && seen[len(seen)-1].Seq >= seq) {
			return seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("follower saw %d changes, not up to seq %d, within %v", len(seen), seq, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func testFollow(t *testing.T, s atigip.Store) {
	ctx := t.Context()
	must(t, s.Entities(atigip.KindPost).CreateMany(ctx, samples(atigip.KindPost, 0, 5)))
	// A poll of an hour: after catching up, only the signal wakes it.
	f := follow(t, s, 2, time.Hour)
	f.waitFor(t, lastSeq(t, s), 5*time.Second)
	for i := range 5 {
		create(t, s, Sample(atigip.KindOrganisation, i))
	}
	seen := f.waitFor(t, lastSeq(t, s), 5*time.Second)
	if g, w := mustJSON(t, seen), mustJSON(t, changes(t, s, 0)); g != w {
		t.Errorf("follower saw\n %s\nwant\n %s", g, w)
	}
	f.stop()
	if err := <-f.done; !errors.Is(err, context.Canceled) {
		t.Errorf("Follow returned %v after cancel, want context.Canceled", err)
	}
}

func testConcurrent(t *testing.T, s atigip.Store) {
	ctx := t.Context()
	es := s.Entities(atigip.KindPost)
	target := create(t, s, Sample(atigip.KindPost, 0))
	id := target.GetMeta().ID
	f := follow(t, s, 7, 5*time.Millisecond)

	const writers, rounds, creates = 4, 15, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*(rounds+creates)+1)

	// Creators run beside the contended updates, so that commits interleave.
	for w := range writers {
		wg.Go(func() {
			for i := range creates {
				if err := es.Create(ctx, Sample(atigip.KindPost, 100+w*creates+i)); err != nil {
					errs <- fmt.Errorf("create: %w", err)
				}
			}
		})
	}

	wins := make([]int, rounds)
	for r := range rounds {
		version := int64(1 + r)
		var mu sync.Mutex
		start := make(chan struct{})
		var round sync.WaitGroup
		for w := range writers {
			round.Go(func() {
				<-start
				e := withMeta(Sample(atigip.KindPost, 1+w), atigip.Meta{ID: id, Version: version})
				err := es.Update(ctx, e)
				switch atigip.ErrorCode(err) {
				case "":
					mu.Lock()
					wins[r]++
					mu.Unlock()
				case atigip.ECONFLICT:
				default:
					errs <- fmt.Errorf("round %d: %w", r, err)
				}
			})
		}
		close(start)
		round.Wait()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for r, n := range wins {
		if n != 1 {
			t.Errorf("round %d: %d winners, want exactly 1", r, n)
		}
	}
	got, err := es.Get(ctx, id)
	must(t, err)
	if v := got.GetMeta().Version; v != 1+rounds {
		t.Errorf("final version = %d, want %d", v, 1+rounds)
	}

	all := changes(t, s, 0)
	if want := 1 + writers*creates + rounds; len(all) != want {
		t.Errorf("%d changes, want %d", len(all), want)
	}
	seen := f.waitFor(t, lastSeq(t, s), 10*time.Second)
	for i := 1; i < len(seen); i++ {
		if seen[i].Seq <= seen[i-1].Seq {
			t.Fatalf("follower saw seq %d after %d", seen[i].Seq, seen[i-1].Seq)
		}
	}
	if g, w := mustJSON(t, seen), mustJSON(t, all); g != w {
		t.Errorf("the concurrent follower missed or reordered changes: saw %d, feed has %d", len(seen), len(all))
	}
	var versions []int64
	for _, c := range all {
		if c.ID == id && c.Op == atigip.OpUpdate {
			versions = append(versions, c.Version)
		}
	}
	for i, v := range versions {
		if v != int64(i+2) {
			t.Fatalf("update versions in feed order = %v, want 2..%d", versions, rounds+1)
		}
	}
}

func testAudits(t *testing.T, s atigip.Store) {
	ctx := t.Context()
	before := time.Now()
	entries := []atigip.AuditEntry{
		{Subject: "cpip-12", Role: atigip.RoleCPIP, Action: "read", Kind: atigip.KindPerson, EntityID: 7},
		{Subject: "cpip-12", Role: atigip.RoleCPIP, Action: "list", Kind: atigip.KindPerson, Count: 25, Detail: "departement=69"},
		{Subject: "jap-3", Role: atigip.RoleMagistrate, Action: "read", Kind: atigip.KindMeasure, EntityID: 7},
		{Subject: "cpip-12", Role: atigip.RoleCPIP, Action: "update", Kind: atigip.KindPerson, EntityID: 8},
	}
	for _, a := range entries {
		must(t, s.Audit(ctx, a))
	}
	// Audits may be written with the data they cover.
	must(t, s.InTx(ctx, func(tx atigip.Tx) error {
		return tx.Audit(ctx, atigip.AuditEntry{Subject: "dspip-1", Role: atigip.RoleDSPIP, Action: "match", Kind: atigip.KindMeasure, EntityID: 9})
	}))
	entries = append(entries, atigip.AuditEntry{Subject: "dspip-1", Role: atigip.RoleDSPIP, Action: "match", Kind: atigip.KindMeasure, EntityID: 9})
	// An entry with its own, older time sorts last.
	old := time.Date(2023, 1, 2, 3, 4, 5, 6000, time.UTC)
	must(t, s.Audit(ctx, atigip.AuditEntry{At: old, Subject: "cpip-12", Role: atigip.RoleCPIP, Action: "read", Kind: atigip.KindPerson, EntityID: 7}))
	after := time.Now()

	all, err := s.Audits(ctx, atigip.AuditFilter{})
	must(t, err)
	if len(all) != 6 {
		t.Fatalf("%d audits, want 6", len(all))
	}
	for i, a := range all[:5] {
		w := entries[4-i]
		if a.Subject != w.Subject || a.Role != w.Role || a.Action != w.Action || a.Kind != w.Kind ||
			a.EntityID != w.EntityID || a.Count != w.Count || a.Detail != w.Detail {
			t.Errorf("audit %d = %+v, want %+v (newest first)", i, a, w)
		}
		if a.ID <= 0 {
			t.Errorf("audit %d has no id", i)
		}
		checkStamp(t, "audit at", a.At, before, after)
	}
	if !all[5].At.Equal(old) || all[5].At.Location() != time.UTC {
		t.Errorf("explicit audit time = %v, want %v", all[5].At, old)
	}

	cases := []struct {
		name string
		f    atigip.AuditFilter
		want []int64 // entity ids, newest first
	}{
		{"kind", atigip.AuditFilter{Kind: atigip.KindMeasure}, []int64{9, 7}},
		{"entity", atigip.AuditFilter{Kind: atigip.KindPerson, EntityID: 7}, []int64{7, 7}},
		{"subject", atigip.AuditFilter{Subject: "cpip-12"}, []int64{8, 0, 7, 7}},
		{"limit", atigip.AuditFilter{Subject: "cpip-12", Limit: 2}, []int64{8, 0}},
		{"none", atigip.AuditFilter{Subject: "nobody"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Audits(ctx, c.f)
			must(t, err)
			var gotIDs []int64
			for _, a := range got {
				gotIDs = append(gotIDs, a.EntityID)
			}
			if !slices.Equal(gotIDs, c.want) {
				t.Errorf("entity ids = %v, want %v", gotIDs, c.want)
			}
		})
	}
	// A store that writes audit batches writes them whole, in order.
	if b, ok := s.(atigip.AuditBatcher); ok {
		batch := []atigip.AuditEntry{
			{Subject: "cpip-99", Role: atigip.RoleCPIP, Action: "match", Kind: atigip.KindPerson, EntityID: 101, Count: 1},
			{Subject: "cpip-99", Role: atigip.RoleCPIP, Action: "match", Kind: atigip.KindPerson, EntityID: 102, Count: 1},
			{Subject: "cpip-99", Role: atigip.RoleCPIP, Action: "match", Kind: atigip.KindPerson, EntityID: 103, Count: 1, Detail: "lot"},
		}
		must(t, b.AuditMany(ctx, batch))
		got, err := s.Audits(ctx, atigip.AuditFilter{Subject: "cpip-99"})
		must(t, err)
		if len(got) != 3 {
			t.Fatalf("AuditMany: %d entries read back, want 3", len(got))
		}
		for i, a := range got {
			w := batch[2-i]
			if a.EntityID != w.EntityID || a.Action != w.Action || a.Role != w.Role || a.Detail != w.Detail || a.At.IsZero() {
				t.Errorf("AuditMany entry %d = %+v, want %+v", i, a, w)
			}
		}
	}
}

func testMigrate(t *testing.T, s atigip.Store) {
	ctx := t.Context()
	p := create(t, s, Sample(atigip.KindPost, 0))
	must(t, s.SetCursor(ctx, "c", "v"))
	for range 2 {
		must(t, s.Migrate(ctx))
	}
	must(t, s.Ping(ctx))
	got, err := s.Entities(atigip.KindPost).Get(ctx, p.GetMeta().ID)
	must(t, err)
	if mustJSON(t, got) != mustJSON(t, p) {
		t.Error("migrate changed stored data")
	}
	if v, _ := s.Cursor(ctx, "c"); v != "v" {
		t.Errorf("migrate lost a cursor: %q", v)
	}
	create(t, s, Sample(atigip.KindPost, 1))
	if n := len(changes(t, s, 0)); n != 2 {
		t.Errorf("%d changes after migrate, want 2", n)
	}
}

func testTimestamps(t *testing.T, s atigip.Store) {
	ctx := t.Context()
	es := s.Entities(atigip.KindMeasure)
	m := create(t, s, Sample(atigip.KindMeasure, 0)).(*atigip.Measure)
	created := m.CreatedAt
	// A client clock with nanoseconds and another zone must not leak in.
	m.CreatedAt = time.Date(2001, 1, 1, 0, 0, 0, 123456789, time.FixedZone("CET", 3600))
	m.UpdatedAt = m.CreatedAt
	m.History = []atigip.MeasureEvent{{At: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), By: "cpip-12",
		Role: atigip.RoleCPIP, From: atigip.MeasureToPlace, To: atigip.MeasureToPlace, Note: "premier entretien"}}
	time.Sleep(2 * time.Millisecond)
	must(t, es.Update(ctx, m))
	if !m.CreatedAt.Equal(created) || m.CreatedAt.Location() != time.UTC {
		t.Errorf("created_at after update = %v, want %v UTC", m.CreatedAt, created)
	}
	got, err := es.Get(ctx, m.ID)
	must(t, err)
	gm := got.GetMeta()
	if !gm.CreatedAt.Equal(created) {
		t.Errorf("stored created_at = %v, want %v", gm.CreatedAt, created)
	}
	if !gm.UpdatedAt.After(created) || gm.UpdatedAt.Nanosecond()%1000 != 0 || gm.UpdatedAt.Location() != time.UTC {
		t.Errorf("updated_at = %v, want a UTC µs time after %v", gm.UpdatedAt, created)
	}
	if mustJSON(t, got) != mustJSON(t, m) {
		t.Errorf("get after update:\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, m))
	}
}

// testText checks that text a store cannot keep alike everywhere (NUL,
// bytes that are not UTF-8) is refused by both stores with EINVALID
// naming the field, on create, update and in list filters, and changes
// nothing.
func testText(t *testing.T, s atigip.Store, k atigip.Kind) {
	ctx := t.Context()
	es := s.Entities(k)
	for i, bad := range []string{"a\x00b", "a\xffb"} {
		e := Sample(k, 0)
		field := spoilText(e, bad)
		if field == "" {
			t.Fatalf("%s has no text field", k)
		}
		err := es.Create(ctx, e)
		wantCode(t, err, atigip.EINVALID)
		if !slices.ContainsFunc(atigip.ErrorFields(err), func(f atigip.FieldError) bool { return f.Field == field }) {
			t.Errorf("create %q: field errors %v lack %q", bad, atigip.ErrorFields(err), field)
		}
		good := create(t, s, Sample(k, 1+i))
		want, seq := mustJSON(t, good), lastSeq(t, s)
		upd := Sample(k, 1+i)
		withMeta(upd, *good.GetMeta())
		spoilText(upd, bad)
		wantCode(t, es.Update(ctx, upd), atigip.EINVALID)
		got, err := es.Get(ctx, good.GetMeta().ID)
		must(t, err)
		if g := mustJSON(t, got); g != want || lastSeq(t, s) != seq {
			t.Errorf("refused update changed something:\n got %s\nwant %s", g, want)
		}
		_, _, err = es.List(ctx, atigip.ListFilter{Departement: "6" + bad})
		wantCode(t, err, atigip.EINVALID)
		wantCode(t, es.Scan(ctx, atigip.ListFilter{Ref: bad}, func(atigip.Entity) error { return nil }), atigip.EINVALID)
	}
}

// spoilText puts bad into the first text field of e's own struct and
// returns its JSON name.
func spoilText(e atigip.Entity, bad string) string {
	v := reflect.ValueOf(e).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous || name == "" || name == "-" || v.Field(i).Kind() != reflect.String {
			continue
		}
		v.Field(i).SetString(v.Field(i).String() + bad)
		return name
	}
	return ""
}

// testRetention: the feed is pruned up to the slowest live follower and
// the age limit, never its newest change; followers not heard of lately
// stop holding it back and are forgotten.
func testRetention(t *testing.T, s atigip.Store) {
	p, ok := s.(atigip.FeedPruner)
	if !ok {
		t.Skip("store without feed retention")
	}
	ctx := t.Context()
	for i := range 10 {
		create(t, s, Sample(atigip.KindOrganisation, i))
	}
	all := changes(t, s, 0)
	last := lastSeq(t, s)
	slow := all[3].Seq
	must(t, p.ReportPosition(ctx, "instance-a/tiles", last))
	must(t, p.ReportPosition(ctx, "instance-b/search", slow))
	now := time.Now()

	// Too recent: nothing goes.
	n, err := p.PruneChanges(ctx, now.Add(-time.Hour), now.Add(-time.Hour))
	must(t, err)
	if n != 0 || len(changes(t, s, 0)) != len(all) {
		t.Fatalf("pruned %d changes younger than the age limit", n)
	}
	// Old enough: up to the slowest live follower.
	n, err = p.PruneChanges(ctx, now.Add(time.Hour), now.Add(-time.Hour))
	must(t, err)
	if n != 4 {
		t.Fatalf("pruned %d changes, want the 4 the slowest follower consumed", n)
	}
	if got := changes(t, s, 0); len(got) != len(all)-4 || got[0].Seq != all[4].Seq {
		t.Fatalf("after pruning the feed starts at %+v, want seq %d", got[0], all[4].Seq)
	}
	if h, err := p.PrunedSeq(ctx); err != nil || h != slow {
		t.Fatalf("PrunedSeq = %d, %v; want %d", h, err, slow)
	}
	// Followers not heard of since aliveSince hold nothing back: all but
	// the newest change goes, and they are forgotten.
	_, err = p.PruneChanges(ctx, now.Add(time.Hour), now.Add(time.Hour))
	must(t, err)
	if got := changes(t, s, 0); len(got) != 1 || got[0].Seq != last || lastSeq(t, s) != last {
		t.Fatalf("feed after pruning every gone follower: %+v, want only seq %d", got, last)
	}
	if h, _ := p.PrunedSeq(ctx); h != last-1 {
		t.Errorf("PrunedSeq = %d, want %d", h, last-1)
	}
	if v, _ := s.Cursor(ctx, atigip.FeedPositionPrefix+"instance-b/search"); v != "" {
		t.Errorf("a gone follower's position is kept: %q", v)
	}
	// Seqs go on after pruning.
	create(t, s, Sample(atigip.KindOrganisation, 20))
	if lastSeq(t, s) <= last {
		t.Errorf("seq reused after pruning")
	}
}
