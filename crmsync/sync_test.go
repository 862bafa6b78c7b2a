package crmsync_test

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/atigip/atigip360/crmsync"
	"github.com/atigip/atigip360/crmsync/axelor"
	"github.com/atigip/atigip360/crmsync/axelorfake"
	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed/seedtest"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

type env struct {
	fake   *axelorfake.Server
	srv    *httptest.Server
	store  *sqlite.DB
	cfg    crmsync.Config
	tb     testing.TB
	client *axelor.Client
}

func newEnv(tb testing.TB, n int, seed uint64) *env {
	tb.Helper()
	fake := axelorfake.New(axelorfake.Options{})
	fake.Seed(n, seed)
	srv := httptest.NewServer(fake)
	tb.Cleanup(srv.Close)
	db := seedtest.Empty(tb)
	cfg := crmsync.DefaultConfig()
	cfg.AxelorURL, cfg.User, cfg.Password = srv.URL, "admin", "admin"
	cfg.RequestTimeout = 250 * time.Millisecond
	cfg.RetryMax = 10
	cfg.RetryWaitMin, cfg.RetryWaitMax, cfg.RetryAfterMax = time.Millisecond, 20*time.Millisecond, 20*time.Millisecond
	cfg.BreakerThreshold = 25
	cfg.BreakerCooldown = 50 * time.Millisecond
	cfg.PushWorkers = 4
	e := &env{fake: fake, srv: srv, store: db, cfg: cfg, tb: tb}
	return e
}

// syncer returns a fresh Syncer and client, as a new process would have.
func (e *env) syncer() *crmsync.Syncer {
	e.tb.Helper()
	c, err := e.cfg.NewClient()
	if err != nil {
		e.tb.Fatal(err)
	}
	e.client = c
	s, err := crmsync.New(e.cfg, e.store, c)
	if err != nil {
		e.tb.Fatal(err)
	}
	return s
}

func (e *env) faults(rate float64, kinds ...axelorfake.Fault) {
	e.fake.SetFaults(axelorfake.FaultPlan{Rate: rate, Kinds: kinds, SlowDelay: 350 * time.Millisecond, Seed: 7})
}

func orgsByCRM(tb testing.TB, db atigip.Store) map[int64]*atigip.Organisation {
	tb.Helper()
	out := map[int64]*atigip.Organisation{}
	err := atigip.Of[*atigip.Organisation](db).Scan(context.Background(), atigip.ListFilter{}, func(o *atigip.Organisation) error {
		if _, dup := out[o.CRMID]; dup {
			tb.Fatalf("duplicate organisation for CRM partner %d", o.CRMID)
		}
		out[o.CRMID] = o
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// wantKind is what each category of the fake must become, written from
// the categories' meaning rather than from the mapping under test: the
// codes Axelor installs, then a deployment's own codes that only the
// category name explains.
var wantKind = map[string]atigip.OrganisationKind{
	"ASSOC": atigip.OrgAssociation, "ADMIN": atigip.OrgPublicBody, "SMB": atigip.OrgCompany,
	"SME": atigip.OrgCompany, "KA": atigip.OrgCompany, "MAIRIES": atigip.OrgCommune,
	"CH": atigip.OrgHospital, "EHPAD-MR": atigip.OrgHospital, "ETAB-SCO": atigip.OrgPublicBody,
	"IAE": atigip.OrgSocialEconomy, "PROS": atigip.OrgCompany, "": atigip.OrgCompany,
}

// assertEqual compares the store with the CRM, field by field, and checks
// that every partner the CRM could not place now has our coordinates.
func assertEqual(tb testing.TB, fake *axelorfake.Server, db atigip.Store) {
	tb.Helper()
	orgs := orgsByCRM(tb, db)
	want := 0
	for _, p := range fake.Partners() {
		if p.IsContact {
			if _, ok := orgs[p.ID]; ok {
				tb.Fatalf("contact person %d synced as an organisation", p.ID)
			}
			continue
		}
		want++
		o, ok := orgs[p.ID]
		if !ok {
			tb.Fatalf("partner %d missing", p.ID)
		}
		kind, ok := wantKind[p.CategoryCode]
		if !ok {
			tb.Fatalf("category %q not in the test's table", p.CategoryCode)
		}
		email := ""
		for _, c := range o.Contacts {
			if c.Role == crmsync.RoleCRMContact {
				email = c.Email
			}
		}
		checks := []struct {
			field     string
			got, want any
		}{
			{"name", o.Name, p.Name}, {"siret", o.SIRET, p.RegistrationCode}, {"kind", o.OrgKind, kind},
			{"street", o.Address.Street, p.Street}, {"postcode", o.Address.Postcode, p.Zip},
			{"city", o.Address.City, p.City}, {"active", o.Active, !p.Archived},
			{"crm_version", o.CRMVersion, p.Version}, {"email", email, p.Email},
		}
		for _, c := range checks {
			if c.got != c.want {
				tb.Fatalf("partner %d %s: store %v, CRM %v", p.ID, c.field, c.got, c.want)
			}
		}
		if p.Lat == nil {
			tb.Fatalf("partner %d still without coordinates in the CRM", p.ID)
		}
		if math.Abs(o.Location.Lat-*p.Lat) > 1e-6 || math.Abs(o.Location.Lon-*p.Lng) > 1e-6 {
			tb.Fatalf("partner %d location: store %v, CRM %v,%v", p.ID, o.Location, *p.Lat, *p.Lng)
		}
		if o.Address.Commune == "" || o.Address.Departement == "" {
			tb.Fatalf("partner %d not placed in a commune", p.ID)
		}
	}
	if len(orgs) != want {
		tb.Fatalf("store has %d organisations, CRM %d partners", len(orgs), want)
	}
}

func TestFullThenIncremental(t *testing.T) {
	e := newEnv(t, 1500, 1)
	ctx := context.Background()
	s := e.syncer()
	rep, err := s.Run(ctx, crmsync.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Full || rep.Created == 0 || rep.Pushed == 0 || rep.Geocoded == 0 {
		t.Fatalf("full run: %+v", rep)
	}
	assertEqual(t, e.fake, e.store)

	// a second run sees only our own coordinate write-backs, changes nothing
	rep, err = s.Run(ctx, crmsync.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Full || rep.Created != 0 || rep.Updated != 0 || rep.Pushed != 0 {
		t.Fatalf("idle incremental run: %+v", rep)
	}

	// referents edit, archive, move and create partners
	ps := e.fake.Partners()
	edited := 0
	for i, p := range ps {
		if p.IsContact || p.Archived {
			continue
		}
		switch edited % 4 {
		case 0:
			must(t, e.fake.Modify(p.ID, map[string]any{"name": p.Name + " (antenne)"}))
		case 1:
			must(t, e.fake.Modify(p.ID, map[string]any{"archived": true}))
		case 2:
			must(t, e.fake.ModifyAddress(p.AddressID, map[string]any{"addressL4": strconv.Itoa(i) + " rue Nouvelle", "latit": nil, "longit": nil}))
		case 3:
			must(t, e.fake.Modify(p.ID, map[string]any{"registrationCode": "44306184100047"}))
		}
		edited++
		if edited == 40 {
			break
		}
	}
	cityID := e.fake.CityID("69003")
	newID, err := e.fake.Create(map[string]any{"name": "Association Nouvelle", "partnerCategory": map[string]any{"id": 1},
		"partnerAddressList": []any{map[string]any{"isDefaultAddr": true, "isInvoicingAddr": true,
			"address": map[string]any{"addressL4": "3 place Bellecour", "zip": "69003", "city": map[string]any{"id": cityID}}}}})
	must(t, err)
	rep, err = s.Run(ctx, crmsync.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Full || rep.Created != 1 || rep.Deactivated != 10 || rep.Updated < 30 {
		t.Fatalf("incremental run: %+v", rep)
	}
	assertEqual(t, e.fake, e.store)
	if o := orgsByCRM(t, e.store)[newID]; o == nil || o.Active != true || o.Address.Departement != "69" {
		t.Fatalf("new partner: %+v", o)
	}
	st := s.Status()
	if st.LastRun == nil || !st.LastRun.OK || st.SyncedUpTo.IsZero() || st.PendingPushes != 0 {
		t.Fatalf("status %+v", st)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// 10,000 partners through 10 % faults of every kind end equal.
func TestSyncThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	e := newEnv(t, 10000, 2)
	e.faults(0.10)
	ctx := context.Background()
	s := e.syncer()
	rep, err := s.Run(ctx, crmsync.RunOptions{})
	if err != nil {
		t.Fatalf("%v\n%+v", err, rep)
	}
	if rep.PushFailed > 0 || len(rep.Errors) > 0 {
		t.Fatalf("push failed %d: %v", rep.PushFailed, rep.Errors)
	}
	e.faults(0)
	assertEqual(t, e.fake, e.store)
	st := e.fake.Stats()
	for _, f := range axelorfake.AllFaults() {
		if f == axelorfake.FaultConcurrentEdit && len(e.fake.ConcurrentEdits()) == 0 {
			t.Errorf("no concurrent edit happened")
		}
		if st.Faults[f] == 0 && f != axelorfake.FaultConcurrentEdit {
			t.Errorf("fault %s never injected", f)
		}
	}
	t.Logf("faults %v, client %+v, report pushed %d conflicts %d", st.Faults, e.client.Stats(), rep.Pushed, rep.Conflicts)
}

// Killed at random points (cancelled context, then a new process), the
// sync ends equal, without duplicates.
func TestKillAndResume(t *testing.T) {
	e := newEnv(t, 3000, 3)
	e.faults(0.05)
	rng := rand.New(rand.NewPCG(5, 6))
	kills := 0
	for attempt := 0; ; attempt++ {
		if attempt > 300 {
			t.Fatal("never completed")
		}
		// the kill lands after a random number of pages or write-backs,
		// or after a random delay (in the middle of a request)
		ctx, cancel := context.WithCancel(context.Background())
		killAt := rng.IntN(20) // 0: no kill by progress
		events := 0
		timer := time.AfterFunc(time.Hour, cancel)
		if rng.IntN(2) == 0 {
			timer.Reset(time.Duration(20+rng.IntN(300)) * time.Millisecond)
		}
		_, err := e.syncer().Run(ctx, crmsync.RunOptions{Progress: func(p crmsync.Progress) {
			events++
			if events == killAt {
				cancel()
			}
		}})
		timer.Stop()
		cancel()
		if err == nil {
			break
		}
		kills++
		// between kills the CRM keeps living
		if attempt%3 == 0 {
			p := e.fake.Partners()[rng.IntN(3000)]
			must(t, e.fake.Modify(p.ID, map[string]any{"name": "Structure renommée " + strconv.Itoa(attempt)}))
		}
	}
	if kills < 5 {
		t.Fatalf("only %d kills", kills)
	}
	// one last run catches the renames made during the last attempt
	e.faults(0)
	if _, err := e.syncer().Run(context.Background(), crmsync.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, e.fake, e.store)
	t.Logf("%d kills", kills)
}

// Referents edit the CRM while we write back: their values survive and
// ours land.
func TestConcurrentEditsKeepReferentValues(t *testing.T) {
	e := newEnv(t, 400, 4)
	ctx := context.Background()
	s := e.syncer()
	_, err := s.Run(ctx, crmsync.RunOptions{})
	must(t, err)
	// habilitate organisations here: their status must reach the CRM
	orgs := atigip.Of[*atigip.Organisation](e.store)
	decided := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	n := 0
	for _, o := range orgsByCRM(t, e.store) {
		if n == 120 {
			break
		}
		o.Habilitation = atigip.Habilitation{Status: atigip.HabHabilitated, DecidedAt: &decided, Authority: "DSPIP"}
		must(t, orgs.Update(ctx, o))
		n++
	}
	// and some partners lose their coordinates, to be geocoded again
	for i, p := range e.fake.Partners() {
		if i%10 == 0 && !p.IsContact {
			must(t, e.fake.ModifyAddress(p.AddressID, map[string]any{"latit": nil, "longit": nil}))
		}
	}
	e.faults(0.5, axelorfake.FaultConcurrentEdit)
	rep, err := s.Run(ctx, crmsync.RunOptions{})
	must(t, err)
	edits := e.fake.ConcurrentEdits()
	if len(edits) < 20 || rep.Conflicts < 20 {
		t.Fatalf("%d edits, %d conflicts", len(edits), rep.Conflicts)
	}
	// write-backs that hit the conflict bound stay queued for the next run
	if st := s.Status(); st.PendingPushes != rep.PushFailed {
		t.Fatalf("pending %d, failed %d", st.PendingPushes, rep.PushFailed)
	}
	e.faults(0)
	_, err = s.Run(ctx, crmsync.RunOptions{})
	must(t, err)
	if st := s.Status(); st.PendingPushes != 0 {
		t.Fatalf("pending %d after a calm run", st.PendingPushes)
	}
	edits = e.fake.ConcurrentEdits()
	last := map[string]string{}
	for _, ed := range edits {
		last[ed.Model+"/"+strconv.FormatInt(ed.ID, 10)+"/"+ed.Field] = ed.Value
	}
	views := map[int64]axelorfake.PartnerView{}
	for _, p := range e.fake.Partners() {
		views[p.ID] = p
		if p.AddressID != 0 {
			views[-p.AddressID] = p
		}
	}
	for _, ed := range edits {
		if last[ed.Model+"/"+strconv.FormatInt(ed.ID, 10)+"/"+ed.Field] != ed.Value {
			continue // overwritten by a later edit of the same user
		}
		var got string
		switch ed.Field {
		case "fixedPhone":
			got = views[ed.ID].FixedPhone
		case "partnerAttrs.suiviReferent":
			var m map[string]any
			_ = json.Unmarshal([]byte(views[ed.ID].PartnerAttrs), &m)
			got, _ = m["suiviReferent"].(string)
		case "addressL3":
			got = views[-ed.ID].L3
		}
		if got != ed.Value {
			t.Fatalf("referent's %s of %s %d lost: %q, want %q", ed.Field, ed.Model, ed.ID, got, ed.Value)
		}
	}
	// our values reached the CRM
	for _, o := range orgsByCRM(t, e.store) {
		if o.Habilitation.Status != atigip.HabHabilitated {
			continue
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(views[o.CRMID].PartnerAttrs), &m)
		if m[crmsync.AttrHabilitation] != "habilitated" || m[crmsync.AttrHabilitationDate] != "2026-02-10" {
			t.Fatalf("partner %d attrs %v", o.CRMID, m)
		}
	}
	assertEqual(t, e.fake, e.store)
}

func TestDryRunWritesNothing(t *testing.T) {
	e := newEnv(t, 200, 5)
	ctx := context.Background()
	before := e.fake.Partners()
	rep, err := e.syncer().Run(ctx, crmsync.RunOptions{DryRun: true})
	must(t, err)
	creates, coords := 0, 0
	for _, p := range rep.Planned {
		switch p.Action {
		case "create":
			creates++
		case "push_coordinates":
			coords++
		}
	}
	if creates != rep.Created || creates == 0 || coords == 0 {
		t.Fatalf("planned %d creates (%d counted), %d coordinate pushes", creates, rep.Created, coords)
	}
	if len(orgsByCRM(t, e.store)) != 0 {
		t.Fatal("dry run stored organisations")
	}
	after := e.fake.Partners()
	for i := range before {
		if before[i].Version != after[i].Version || before[i].AddressVersion != after[i].AddressVersion {
			t.Fatalf("dry run wrote partner %d", before[i].ID)
		}
	}
	if c, _ := e.store.Cursor(ctx, e.cfg.CursorName); c != "" {
		t.Fatalf("dry run moved the cursor: %s", c)
	}
}

func TestDeadCRMFailsFast(t *testing.T) {
	e := newEnv(t, 50, 6)
	e.cfg.BreakerThreshold = 3
	e.cfg.BreakerCooldown = time.Hour
	e.fake.SetMaintenance(true)
	s := e.syncer()
	_, err := s.Run(context.Background(), crmsync.RunOptions{})
	if axelor.CodeOf(err) != axelor.CodeCircuitOpen {
		t.Fatalf("got %v", err)
	}
	if n := e.fake.Stats().Requests; n > 3 {
		t.Fatalf("dead CRM got %d requests", n)
	}
	st := s.Status()
	if st.CRM != "circuit_open" || st.LastRun == nil || st.LastRun.OK || st.LastRun.Error == "" {
		t.Fatalf("status %+v", st)
	}
}
