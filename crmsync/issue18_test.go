package crmsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/crmsync"
	"github.com/atigip/atigip360/crmsync/axelorfake"
	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed/seedtest"
)

// Tests of issue 18, each against the fake as corrected from Axelor's
// source (see axelorfake/axelor_test.go for the behaviours and their
// classes).

func attrsOf(tb testing.TB, v axelorfake.PartnerView) map[string]any {
	tb.Helper()
	m := map[string]any{}
	if v.PartnerAttrs != "" {
		if err := json.Unmarshal([]byte(v.PartnerAttrs), &m); err != nil {
			tb.Fatalf("partner %d attrs %q: %v", v.ID, v.PartnerAttrs, err)
		}
	}
	return m
}

// habilitateInCRM writes our attrs on partner id as another ATIGIP store
// would have.
func habilitateInCRM(tb testing.TB, fake *axelorfake.Server, id int64, status, date string) {
	tb.Helper()
	p, _ := fake.Partner(id)
	m := attrsOf(tb, p)
	m[crmsync.AttrHabilitation], m[crmsync.AttrHabilitationDate] = status, date
	b, _ := json.Marshal(m)
	must(tb, fake.Modify(id, map[string]any{"partnerAttrs": string(b)}))
}

func organisations(tb testing.TB, e *env) []*atigip.Organisation {
	tb.Helper()
	var out []*atigip.Organisation
	for _, o := range orgsByCRM(tb, e.store) {
		out = append(out, o)
	}
	return out
}

// Observation 1: session login (200 "{}" without Content-Type,
// AxelorCallbackLogic) succeeds, and the session is closed at the end of
// every run.
func TestRunLogsInAndOut(t *testing.T) {
	e := newEnv(t, 80, 21)
	s := e.syncer()
	for i := 0; i < 2; i++ {
		if _, err := s.Run(context.Background(), crmsync.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		st := e.fake.Stats()
		if st.Logins != int64(i+1) || st.Logouts != int64(i+1) || st.Sessions != 0 {
			t.Fatalf("run %d: fake %+v", i+1, st)
		}
	}
}

// Observation 2: a write-back reads the nested fetch answer
// (Resource#fetch) and leaves the organisation as the CRM has it:
// address, commune, département, location, kind and e-mail.
func TestWriteBackKeepsTheOrganisation(t *testing.T) {
	e := newEnv(t, 300, 22)
	ctx := context.Background()
	s := e.syncer()
	rep, err := s.Run(ctx, crmsync.RunOptions{})
	must(t, err)
	// geocoded coordinates are a field we own while the CRM has none:
	// every one of them was written back, and nothing is left pending
	if rep.Geocoded == 0 || rep.Pushed < rep.Geocoded || rep.Pending != 0 {
		t.Fatalf("first run %+v", rep)
	}
	assertEqual(t, e.fake, e.store)
	before := orgsByCRM(t, e.store)
	decided := time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)
	orgs := atigip.Of[*atigip.Organisation](e.store)
	n := 0
	for _, o := range before {
		if n == 40 || !o.Active {
			continue
		}
		o.Habilitation = atigip.Habilitation{Status: atigip.HabHabilitated, DecidedAt: &decided, Authority: "DSPIP"}
		must(t, orgs.Update(ctx, o))
		n++
	}
	before = orgsByCRM(t, e.store)
	rep, err = s.Run(ctx, crmsync.RunOptions{})
	must(t, err)
	if rep.Pushed != 40 || rep.Pending != 0 {
		t.Fatalf("pushed %d, pending %d", rep.Pushed, rep.Pending)
	}
	after := orgsByCRM(t, e.store)
	for id, b := range before {
		a := after[id]
		if a.Address != b.Address || a.Location != b.Location || a.OrgKind != b.OrgKind ||
			len(a.Contacts) != len(b.Contacts) || (len(a.Contacts) > 0 && a.Contacts[0] != b.Contacts[0]) {
			t.Fatalf("partner %d changed by its write-back:\n%+v\n%+v", id, b, a)
		}
	}
	assertEqual(t, e.fake, e.store)
	for _, o := range after {
		if o.Habilitation.Status != atigip.HabHabilitated {
			continue
		}
		p, _ := e.fake.Partner(o.CRMID)
		if a := attrsOf(t, p); a[crmsync.AttrHabilitation] != "habilitated" || a[crmsync.AttrHabilitationDate] != "2026-04-02" {
			t.Fatalf("partner %d attrs %v", o.CRMID, a)
		}
	}
}

// Observation 3: a first sync from an empty store pulls before it pushes
// and adopts what another store decided; a restored (stale) store adopts
// the CRM's newer value; only a decision taken here afterwards is pushed.
func TestNewOrRestoredStoreNeverResetsHabilitation(t *testing.T) {
	e := newEnv(t, 400, 23)
	ctx := context.Background()
	// store A syncs first, then the other store habilitates partners
	_, err := e.syncer().Run(ctx, crmsync.RunOptions{})
	must(t, err)
	var habilitated []int64
	for _, p := range e.fake.Partners() {
		if !p.IsContact && !p.Archived && len(habilitated) < 60 {
			habilitateInCRM(t, e.fake, p.ID, "habilitated", "2025-11-20")
			habilitated = append(habilitated, p.ID)
		}
	}
	versions := map[int64]int64{}
	for _, id := range habilitated {
		p, _ := e.fake.Partner(id)
		versions[id] = p.Version
	}

	// a brand-new store B
	b := *e
	b.store = seedtest.Empty(t)
	rep, err := b.syncer().Run(ctx, crmsync.RunOptions{})
	must(t, err)
	if rep.Adopted != len(habilitated) {
		t.Fatalf("store B adopted %d, want %d", rep.Adopted, len(habilitated))
	}
	orgsB := orgsByCRM(t, b.store)
	for _, id := range habilitated {
		p, _ := e.fake.Partner(id)
		if p.Version != versions[id] || attrsOf(t, p)[crmsync.AttrHabilitation] != "habilitated" {
			t.Fatalf("store B wrote partner %d: version %d→%d, attrs %s", id, versions[id], p.Version, p.PartnerAttrs)
		}
		o := orgsB[id]
		if o.Habilitation.Status != atigip.HabHabilitated || o.Habilitation.DecidedAt == nil ||
			o.Habilitation.DecidedAt.Format(time.DateOnly) != "2025-11-20" {
			t.Fatalf("store B organisation %d: %+v", id, o.Habilitation)
		}
	}

	// store A is stale (as a restored backup is): it adopts, never pushes
	rep, err = e.syncer().Run(ctx, crmsync.RunOptions{})
	must(t, err)
	if rep.Adopted != len(habilitated) || rep.Pushed != 0 {
		t.Fatalf("store A: adopted %d pushed %d", rep.Adopted, rep.Pushed)
	}
	for _, id := range habilitated {
		if p, _ := e.fake.Partner(id); p.Version != versions[id] {
			t.Fatalf("store A wrote partner %d", id)
		}
	}

	// a decision taken in store B after its pull is pushed, alone
	o := orgsB[habilitated[0]]
	refused := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	o.Habilitation = atigip.Habilitation{Status: atigip.HabRefused, DecidedAt: &refused, Authority: "DSPIP"}
	must(t, atigip.Of[*atigip.Organisation](b.store).Update(ctx, o))
	rep, err = b.syncer().Run(ctx, crmsync.RunOptions{})
	must(t, err)
	if rep.Pushed != 1 {
		t.Fatalf("store B pushed %d", rep.Pushed)
	}
	for i, id := range habilitated {
		p, _ := e.fake.Partner(id)
		want := "habilitated"
		if i == 0 {
			want = "refused"
		}
		if got := attrsOf(t, p)[crmsync.AttrHabilitation]; got != want {
			t.Fatalf("partner %d: %v, want %s", id, got, want)
		}
	}
}

// Observation 4: transient {"status":-1} answers (ResponseInterceptor) are
// retried per request; 10 % of them do not stop a first sync.
func TestTransientStatusFailuresDoNotAbortTheRun(t *testing.T) {
	e := newEnv(t, 2000, 24)
	e.fake.SetFaults(axelorfake.FaultPlan{Rates: map[axelorfake.Fault]float64{axelorfake.FaultStatusFailure: 0.10}, Seed: 3})
	rep, err := e.syncer().Run(context.Background(), crmsync.RunOptions{})
	if err != nil {
		t.Fatalf("%v\n%+v", err, rep)
	}
	if n := e.fake.Stats().Faults[axelorfake.FaultStatusFailure]; n < 50 {
		t.Fatalf("only %d status -1 answers", n)
	}
	e.faults(0)
	assertEqual(t, e.fake, e.store)
}

// failAddressWrites answers every write to an Address with status -1, as
// a CRM whose address table is locked would.
func failAddressWrites(fake http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/ws/rest/com.axelor.apps.base.db.Address/") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":-1,"data":{"title":"SQL error","message":"Unexpected database error occurred on the server."}}`))
			return
		}
		fake.ServeHTTP(w, r)
	})
}

// Observations 4 and 7: a run whose write-backs fail ends in error, not
// "ok", says what is pending, and the status shows it; the queue survives
// for the next run, which clears it.
func TestIncompleteRunFailsAndReportsPending(t *testing.T) {
	e := newEnv(t, 200, 25)
	e.cfg.AppRetryMax = 1
	proxy := httptest.NewServer(failAddressWrites(e.fake))
	defer proxy.Close()
	e.cfg.AxelorURL = proxy.URL
	s := e.syncer()
	rep, err := s.Run(context.Background(), crmsync.RunOptions{})
	var inc *crmsync.IncompleteError
	if !errors.As(err, &inc) || inc.Pending == 0 || inc.Pending != rep.Pending || rep.PushFailed != rep.Pending {
		t.Fatalf("err %v, report pending %d failed %d", err, rep.Pending, rep.PushFailed)
	}
	if len(rep.PendingIDs) == 0 || len(rep.Errors) == 0 {
		t.Fatalf("report says nothing of what is pending: %+v", rep)
	}
	st := s.Status()
	if st.LastRun == nil || st.LastRun.OK || st.PendingPushes != rep.Pending || len(st.PendingIDs) == 0 ||
		!strings.Contains(st.LastRun.Error, "en attente") {
		t.Fatalf("status %+v", st)
	}
	// the CRM recovers: the next run clears the queue
	e.cfg.AxelorURL = e.srv.URL
	s = e.syncer()
	rep, err = s.Run(context.Background(), crmsync.RunOptions{})
	must(t, err)
	if st := s.Status(); rep.Pending != 0 || st.PendingPushes != 0 || !st.LastRun.OK {
		t.Fatalf("after recovery: %+v %+v", rep, st)
	}
	assertEqual(t, e.fake, e.store)
}

// Observation 4: in serve, a failed run is retried after a short backoff,
// not after the full interval.
func TestLoopRetriesFailedRunSooner(t *testing.T) {
	e := newEnv(t, 50, 26)
	e.cfg.Interval = time.Hour
	e.cfg.RetryBackoff = 30 * time.Millisecond
	e.cfg.BreakerThreshold = -1
	e.cfg.RetryMax = 0
	e.fake.SetMaintenance(true)
	s := e.syncer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Loop(ctx, nil) }()
	deadline := time.Now().Add(5 * time.Second)
	for s.Status().LastRun == nil || s.Status().LastRun.OK {
		if time.Now().After(deadline) {
			t.Fatal("no failed run")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if next := s.Status().NextRunAt; next.IsZero() || time.Until(next) > time.Minute {
		t.Fatalf("next run at %v", next)
	}
	e.fake.SetMaintenance(false)
	for st := s.Status(); st.LastRun == nil || !st.LastRun.OK; st = s.Status() {
		if time.Now().After(deadline) {
			t.Fatalf("no retry before the deadline: %+v", st.LastRun)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.Status(); time.Until(st.NextRunAt) < 50*time.Minute {
		t.Fatalf("after a success the next run should wait the interval: %v", st.NextRunAt)
	}
}

// Observation 5: the incremental bound comes from the CRM's own updatedOn
// (AuditUpdateListener stamps it with the server clock): a CRM clock 30
// minutes behind ours loses no change.
func TestCRMClockBehind(t *testing.T) {
	fake := axelorfake.New(axelorfake.Options{Now: func() time.Time { return time.Now().Add(-30 * time.Minute) }})
	fake.Seed(300, 27)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	e := newEnv(t, 0, 27)
	e.fake, e.srv = fake, srv
	e.cfg.AxelorURL = srv.URL
	ctx := context.Background()
	s := e.syncer()
	_, err := s.Run(ctx, crmsync.RunOptions{})
	must(t, err)
	var p axelorfake.PartnerView
	for _, v := range fake.Partners() {
		if !v.IsContact {
			p = v
			break
		}
	}
	must(t, fake.Modify(p.ID, map[string]any{"name": "Mairie renommée"}))
	rep, err := s.Run(ctx, crmsync.RunOptions{})
	must(t, err)
	if rep.Full || orgsByCRM(t, e.store)[p.ID].Name != "Mairie renommée" {
		t.Fatalf("rename not pulled: %+v", rep)
	}
	if st := s.Status(); st.SyncedUpTo.After(time.Now().Add(-29*time.Minute)) || st.LagSeconds > 60 {
		t.Fatalf("synced up to %v (CRM time), lag %v", st.SyncedUpTo, st.LagSeconds)
	}
}

// Observation 6: kinds from Axelor's installed codes, a deployment's own
// codes by category name, and the configuration.
func TestCategoryKindsConfigurable(t *testing.T) {
	e := newEnv(t, 600, 28)
	e.cfg.CategoryKinds["PROS"] = atigip.OrgAssociation
	_, err := e.syncer().Run(context.Background(), crmsync.RunOptions{})
	must(t, err)
	counts := map[atigip.OrganisationKind]int{}
	orgs := orgsByCRM(t, e.store)
	for _, p := range e.fake.Partners() {
		o := orgs[p.ID]
		if p.IsContact {
			continue
		}
		want := wantKind[p.CategoryCode]
		if p.CategoryCode == "PROS" {
			want = atigip.OrgAssociation
		}
		if o.OrgKind != want {
			t.Fatalf("partner %d (%s): %s, want %s", p.ID, p.CategoryCode, o.OrgKind, want)
		}
		counts[o.OrgKind]++
	}
	if len(counts) != len(atigip.OrganisationKinds) {
		t.Fatalf("kinds %v", counts)
	}
}

// Observation 7: hard-deleted partners are found by id reconciliation and
// deactivated; a CRM answer missing most partners is refused.
func TestHardDeletesDeactivated(t *testing.T) {
	e := newEnv(t, 300, 29)
	e.cfg.ReconcileEvery = time.Nanosecond
	ctx := context.Background()
	_, err := e.syncer().Run(ctx, crmsync.RunOptions{})
	must(t, err)
	var deleted []int64
	for _, p := range e.fake.Partners() {
		if !p.IsContact && !p.Archived && len(deleted) < 7 {
			must(t, e.fake.Delete(p.ID))
			deleted = append(deleted, p.ID)
		}
	}
	rep, err := e.syncer().Run(ctx, crmsync.RunOptions{})
	must(t, err)
	if !rep.Reconciled || rep.Deleted != len(deleted) {
		t.Fatalf("report %+v", rep)
	}
	orgs := orgsByCRM(t, e.store)
	for _, id := range deleted {
		if orgs[id].Active {
			t.Fatalf("deleted partner %d still active", id)
		}
	}
	// not due: no listing
	e.cfg.ReconcileEvery = time.Hour
	if rep, err = e.syncer().Run(ctx, crmsync.RunOptions{}); err != nil || rep.Reconciled {
		t.Fatalf("%v %+v", err, rep)
	}
	// most partners gone at once: refused, nothing deactivated
	e.cfg.ReconcileEvery = time.Nanosecond
	for i, p := range e.fake.Partners() {
		if i%5 != 0 {
			must(t, e.fake.Delete(p.ID))
		}
	}
	if _, err = e.syncer().Run(ctx, crmsync.RunOptions{}); atigip.ErrorCode(err) != atigip.ECONFLICT {
		t.Fatalf("got %v", err)
	}
	active := 0
	for _, o := range organisations(t, e) {
		if o.Active {
			active++
		}
	}
	if active < 200 {
		t.Fatalf("%d active left", active)
	}
}

// sameOrganisation compares what a sync decides, leaving out the CRM
// version (concurrent edits bump it) and the phone of partners another
// user edited during the faulted run.
func sameOrganisation(a, b *atigip.Organisation, phoneEdited bool) bool {
	if a.Name != b.Name || a.OrgKind != b.OrgKind || a.SIRET != b.SIRET || a.Address != b.Address ||
		a.Active != b.Active || a.Habilitation.Status != b.Habilitation.Status || len(a.Contacts) != len(b.Contacts) {
		return false
	}
	if math.Abs(a.Location.Lat-b.Location.Lat) > 1e-6 || math.Abs(a.Location.Lon-b.Location.Lon) > 1e-6 {
		return false
	}
	for i := range a.Contacts {
		ca, cb := a.Contacts[i], b.Contacts[i]
		if phoneEdited {
			ca.Phone, cb.Phone = "", ""
		}
		if ca != cb {
			return false
		}
	}
	return true
}

// everyFault is 10 % of requests for each fault kind of the issue: 503
// with Retry-After, {"status":-1}, slow answers (past the attempt
// timeout), expired session, CSRF refusal, version conflict (another user
// saves first) and connection reset (before or after the write commits).
var everyFault = map[axelorfake.Fault]float64{
	axelorfake.Fault503: 0.10, axelorfake.FaultStatusFailure: 0.10, axelorfake.FaultSlow: 0.10,
	axelorfake.FaultSessionExpiry: 0.10, axelorfake.FaultCSRF: 0.10, axelorfake.FaultConcurrentEdit: 0.10,
	axelorfake.FaultResetBefore: 0.05, axelorfake.FaultResetAfter: 0.05,
}

// The done criterion: a first sync of 20,000 partners (some
// habilitated by another store, some without coordinates) through 10 % of
// each fault kind ends, in one run, in the state of the fault-free run.
func TestFirstSync20kThroughEveryFaultInOneRun(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	const n = 20000
	prepare := func() *env {
		e := newEnv(t, n, 30)
		// Attempts time out after 300 ms, so the slow answers (450 ms) are
		// lost and retried; pages of 100 partners stay well under that,
		// even on a loaded machine (at 100 ms, a busy CI machine timed out
		// ordinary answers eleven times in a row).
		e.cfg.RequestTimeout = 300 * time.Millisecond
		// Twenty attempts with waits growing to a second ride out ten
		// seconds or more of a CI machine too busy to answer in time
		// (ten with waits of 20 ms gave up after 3.5 s, once); a fault
		// is still retried after a millisecond.
		e.cfg.RetryMax, e.cfg.RetryWaitMax = 20, time.Second
		e.cfg.PageSize = 100
		e.cfg.PushWorkers = 16
		for i, p := range e.fake.Partners() {
			if !p.IsContact && i%50 == 0 {
				habilitateInCRM(t, e.fake, p.ID, "habilitated", "2025-06-30")
			}
		}
		return e
	}
	clean := prepare()
	rep, err := clean.syncer().Run(context.Background(), crmsync.RunOptions{})
	if err != nil {
		t.Fatalf("fault-free run: %v", err)
	}
	assertEqual(t, clean.fake, clean.store)

	e := prepare()
	e.fake.SetFaults(axelorfake.FaultPlan{Rates: everyFault, SlowDelay: 450 * time.Millisecond, RetryAfter: "1", Seed: 18})
	start := time.Now()
	frep, err := e.syncer().Run(context.Background(), crmsync.RunOptions{})
	if err != nil {
		t.Fatalf("faulted run: %v\n%q", err, frep.Errors)
	}
	elapsed := time.Since(start)
	e.faults(0)
	assertEqual(t, e.fake, e.store)
	st := e.fake.Stats()
	for f := range everyFault {
		if st.Faults[f] == 0 {
			t.Errorf("fault %s never injected", f)
		}
	}
	// the session held at the end is closed (logins whose answer was lost
	// to a reset or a timeout leave sessions the client never saw: those
	// expire on the server, as on a real Axelor)
	if cs := e.client.Stats(); cs.Logouts != 1 || st.Logouts != 1 {
		t.Errorf("logouts: client %d, CRM %d", cs.Logouts, st.Logouts)
	}
	edited := map[int64]bool{}
	for _, ed := range e.fake.ConcurrentEdits() {
		edited[ed.ID] = true
	}
	want, got := orgsByCRM(t, clean.store), orgsByCRM(t, e.store)
	if len(want) != len(got) {
		t.Fatalf("%d organisations, fault-free %d", len(got), len(want))
	}
	for id, w := range want {
		if !sameOrganisation(w, got[id], edited[id]) {
			t.Fatalf("partner %d differs from the fault-free run:\n%+v\n%+v", id, w, got[id])
		}
	}
	if frep.Adopted != rep.Adopted || frep.Pending != 0 {
		t.Fatalf("adopted %d (fault-free %d), pending %d", frep.Adopted, rep.Adopted, frep.Pending)
	}
	t.Logf("%s; faults %v; client %+v; pushed %d, conflicts %d", elapsed.Round(time.Second), st.Faults, e.client.Stats(), frep.Pushed, frep.Conflicts)
}
