package flows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/flows"
	"github.com/atigip/atigip360/internal/workflow"
	"github.com/atigip/atigip360/internal/workflow/wftest"
)

var appi = atigip.Principal{Subject: "client:appi", Role: atigip.RoleCaseSystem, Name: "appi"}
var cpip = atigip.Principal{Subject: "cpip-lyon", Role: atigip.RoleCPIP}

type env struct {
	s  atigip.Store
	w  *wftest.World
	rx *flows.Receiver
	wf *workflow.Service
}

func newEnv(t testing.TB, s atigip.Store) *env {
	wf := &workflow.Service{Store: s, Propose: flows.QueueProposal}
	return &env{s: s, w: wftest.Build(t, s), rx: &flows.Receiver{Store: s, Workflow: wf}, wf: wf}
}

// sentenced is two months ago: the deadline rule checks the measure at
// the real date of the transitions.
var sentenced = atigip.DateOf(time.Now().AddDate(0, -2, 0)).String()

func ffe11(id, caseRef string, seq int64, hours int) []byte {
	return []byte(fmt.Sprintf(`{"message_id":%q,"type":"FFE11","sent_at":"2025-03-01T10:00:00Z","case_ref":%q,"seq":%d,
	 "ffe11":{"person":{"case_ref":"P-%s","pseudonym":"TIG-%s","minor":false,"home_address":{"commune":"69382","departement":"69"},"home":{"lon":4.83,"lat":45.76}},
	          "measure":{"hours_ordered":%d,"sentence_date":%q,"court":"Tribunal judiciaire de Lyon","departement":"69"}}}`,
		id, caseRef, seq, caseRef, caseRef, hours, sentenced))
}

func ffe13(id, caseRef string, seq int64, proposal string, post int64) []byte {
	return []byte(fmt.Sprintf(`{"message_id":%q,"type":"FFE13","sent_at":"2025-03-02T10:00:00Z","case_ref":%q,"seq":%d,
	 "ffe13":{"proposal_id":%q,"post_id":%d}}`, id, caseRef, seq, proposal, post))
}

func ffe15(id, caseRef string, seq int64, proposal, reason string) []byte {
	return []byte(fmt.Sprintf(`{"message_id":%q,"type":"FFE15","sent_at":"2025-03-02T10:00:00Z","case_ref":%q,"seq":%d,
	 "ffe15":{"proposal_id":%q,"reason":%q}}`, id, caseRef, seq, proposal, reason))
}

func (e *env) measure(t testing.TB, caseRef string) *atigip.Measure {
	t.Helper()
	ms, _, err := atigip.Of[*atigip.Measure](e.s).List(context.Background(), atigip.ListFilter{Ref: "APPI:" + caseRef})
	if err != nil || len(ms) != 1 {
		t.Fatalf("measure %s: %d found, %v", caseRef, len(ms), err)
	}
	return ms[0]
}

func count(t testing.TB, s atigip.Store, k atigip.Kind, f atigip.ListFilter) int {
	t.Helper()
	_, n, err := s.Entities(k).List(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) receive(t testing.TB, body []byte, want flows.Outcome) flows.Result {
	t.Helper()
	res, err := e.rx.Receive(context.Background(), appi, body)
	if res.Outcome != want {
		t.Fatalf("outcome %q (%v), want %q", res.Outcome, err, want)
	}
	if (err != nil) != (want == flows.Rejected) {
		t.Fatalf("error %v with outcome %s", err, want)
	}
	return res
}

func (e *env) propose(t testing.TB, caseRef string) *atigip.Measure {
	t.Helper()
	m := e.measure(t, caseRef)
	m, err := e.wf.Transition(context.Background(), cpip, m.ID, m.Version, workflow.Transition{
		To: atigip.MeasureProposed, PostID: e.w.Post.ID, StartDate: atigip.DateOf(time.Now().AddDate(0, 0, 7))})
	if err != nil {
		t.Fatalf("propose: %v", err)
	}
	return m
}

func forEachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for name, open := range wftest.Stores {
		t.Run(name, func(t *testing.T) { fn(t, newEnv(t, open(t))) })
	}
}

func TestPlacementRoundTrip(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.receive(t, ffe11("A-1", "TIG-25-1", 1, 35), flows.Accepted)
		m := e.measure(t, "TIG-25-1")
		if m.State != atigip.MeasureToPlace || m.HoursOrdered != 35 || len(m.History) != 1 || m.History[0].Role != atigip.RoleCaseSystem {
			t.Fatalf("measure after FFE11: %+v", m)
		}
		e.propose(t, "TIG-25-1")
		page, err := flows.Poll(ctx, e.s, -1, 10)
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("outbox: %+v %v", page, err)
		}
		var p flows.FFS12
		if err := json.Unmarshal(page.Items[0].Message, &p); err != nil {
			t.Fatal(err)
		}
		if p.Type != atigip.FFS12 || p.CaseRef != "TIG-25-1" || p.Post.ID != e.w.Post.ID || p.Seq != 1 || p.Person.Pseudonym != "TIG-TIG-25-1" || p.StartDate.IsZero() {
			t.Fatalf("FFS12 %+v", p)
		}
		e.receive(t, ffe13("A-2", "TIG-25-1", 2, p.MessageID, e.w.Post.ID), flows.Accepted)
		m = e.measure(t, "TIG-25-1")
		post, _ := atigip.Of[*atigip.Post](e.s).Get(ctx, e.w.Post.ID)
		if m.State != atigip.MeasureAssigned || post.PlacesTaken != 1 {
			t.Fatalf("after FFE13: state %s, places taken %d", m.State, post.PlacesTaken)
		}
		// At least once until acknowledged, then not again.
		if again, _ := flows.Poll(ctx, e.s, -1, 10); len(again.Items) != 1 {
			t.Fatalf("unacknowledged message not redelivered: %+v", again)
		}
		if n, err := flows.Ack(ctx, e.s, page.Items[0].Position, time.Now()); err != nil || n != 1 {
			t.Fatalf("ack: %d %v", n, err)
		}
		if n, err := flows.Ack(ctx, e.s, page.Items[0].Position, time.Now()); err != nil || n != 0 {
			t.Fatalf("second ack: %d %v", n, err)
		}
		if after, _ := flows.Poll(ctx, e.s, -1, 10); len(after.Items) != 0 {
			t.Fatalf("acknowledged message redelivered: %+v", after)
		}
		if _, err := flows.Ack(ctx, e.s, 1_000_000, time.Now()); atigip.ErrorCode(err) != atigip.EINVALID {
			t.Fatalf("ack beyond the outbox: %v", err)
		}
	})
}

func TestRefusalAndSupersededProposal(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.receive(t, ffe11("B-1", "TIG-25-2", 1, 40), flows.Accepted)
		e.propose(t, "TIG-25-2")
		e.receive(t, ffe15("B-2", "TIG-25-2", 2, "FFS12-"+fmt.Sprint(e.measure(t, "TIG-25-2").ID)+"-1", "Horaires incompatibles avec l'emploi"), flows.Accepted)
		m := e.measure(t, "TIG-25-2")
		if m.State != atigip.MeasureToPlace || m.PostID != 0 || !strings.Contains(m.History[len(m.History)-1].Note, "Horaires incompatibles") {
			t.Fatalf("after FFE15: %+v", m)
		}
		e.propose(t, "TIG-25-2")
		page, _ := flows.Poll(ctx, e.s, 0, 10)
		if len(page.Items) != 2 {
			t.Fatalf("outbox holds %d proposals, want 2", len(page.Items))
		}
		first, second := page.Items[0].Position, page.Items[1].Position
		if first >= second {
			t.Fatalf("outbox out of order: %d then %d", first, second)
		}
		old := fmt.Sprintf("FFS12-%d-1", m.ID)
		res := e.receive(t, ffe13("B-3", "TIG-25-2", 3, old, e.w.Post.ID), flows.Rejected)
		if !strings.Contains(res.Reason, "remplacée") {
			t.Fatalf("reason %q", res.Reason)
		}
		// The rejected answer used up number 3: number 4 applies.
		e.receive(t, ffe13("B-4", "TIG-25-2", 4, fmt.Sprintf("FFS12-%d-2", m.ID), e.w.Post.ID), flows.Accepted)
		if got := e.measure(t, "TIG-25-2").State; got != atigip.MeasureAssigned {
			t.Fatalf("state %s", got)
		}
	})
}

func TestDuplicatesReorderingAndMalformed(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.receive(t, ffe11("C-1", "TIG-25-3", 1, 30), flows.Accepted)
		seq, _ := e.s.LastSeq(ctx)
		dup := e.receive(t, ffe11("C-1", "TIG-25-3", 1, 30), flows.Duplicate)
		if dup.Status != atigip.FlowAccepted {
			t.Fatalf("duplicate status %s", dup.Status)
		}
		if after, _ := e.s.LastSeq(ctx); after != seq {
			t.Fatalf("a duplicate changed the store (change feed %d → %d)", seq, after)
		}

		// Reordered: number 3 before number 2 is held, then released.
		held := e.receive(t, ffe11("C-3", "TIG-25-3", 3, 60), flows.Held)
		if !strings.Contains(held.Reason, "n° 2") {
			t.Fatalf("held reason %q", held.Reason)
		}
		e.receive(t, ffe11("C-3", "TIG-25-3", 3, 60), flows.Duplicate) // a held duplicate stays held
		if got := e.measure(t, "TIG-25-3").HoursOrdered; got != 30 {
			t.Fatalf("held message applied early: %d h", got)
		}
		res := e.receive(t, ffe11("C-2", "TIG-25-3", 2, 45), flows.Accepted)
		if len(res.Released) != 1 || res.Released[0] != "C-3" {
			t.Fatalf("released %v", res.Released)
		}
		if got := e.measure(t, "TIG-25-3").HoursOrdered; got != 60 {
			t.Fatalf("hours %d after release, want 60 (last message wins)", got)
		}
		// A number already used under another id is a replay: rejected.
		stale := e.receive(t, ffe11("C-9", "TIG-25-3", 2, 45), flows.Rejected)
		if !strings.Contains(stale.Reason, "déjà traité") {
			t.Fatalf("stale reason %q", stale.Reason)
		}
		// FFE13 before any FFS12.
		early := e.receive(t, ffe13("C-4", "TIG-25-3", 4, "FFS12-999-1", e.w.Post.ID), flows.Rejected)
		if !strings.Contains(early.Reason, "proposition inconnue") {
			t.Fatalf("early FFE13 reason %q", early.Reason)
		}

		malformed := []struct{ name, body, says string }{
			{"not JSON", `{"message_id": "D-1", "type":`, "incomplet"},
			{"unknown type", `{"message_id":"D-2","type":"FFE99","case_ref":"X","seq":1}`, "FFE99"},
			{"no id", `{"type":"FFE11","case_ref":"X","seq":1,"ffe11":{"person":{"case_ref":"P"},"measure":{}}}`, "message_id"},
			{"unknown field", `{"message_id":"D-3","type":"FFE15","case_ref":"X","seq":1,"nom":"Dupont"}`, "nom"},
			{"missing payload", `{"message_id":"D-4","type":"FFE13","case_ref":"X","seq":1}`, "ffe13"},
			{"bad date", `{"message_id":"D-5","type":"FFE11","case_ref":"X","seq":1,"ffe11":{"person":{"case_ref":"P","birth_date":"15/01/1990"},"measure":{}}}`, "AAAA-MM-JJ"},
			{"invalid measure", string(ffe11("D-6", "TIG-25-4", 1, 1000)), "heures"},
		}
		for _, c := range malformed {
			t.Run(c.name, func(t *testing.T) {
				res, err := e.rx.Receive(ctx, appi, []byte(c.body))
				if res.Outcome != flows.Rejected || err == nil || !strings.Contains(atigip.ErrorMessage(err), c.says) {
					t.Fatalf("outcome %s, error %v; want a rejection saying %q", res.Outcome, err, c.says)
				}
				if res.RecordID == 0 || !strings.Contains(atigip.ErrorMessage(err), fmt.Sprint(res.RecordID)) {
					t.Fatalf("rejection does not name its record: %v", err)
				}
			})
		}
		if _, err := e.rx.Receive(ctx, appi, []byte(`{`)); atigip.ErrorCode(err) != atigip.EINVALID {
			t.Fatalf("malformed code %q", atigip.ErrorCode(err))
		}
		rejected, err := flows.Inspect(ctx, e.s, "", []atigip.FlowStatus{atigip.FlowRejected}, 0, 100)
		if err != nil || len(rejected) != 2+len(malformed)+1 {
			t.Fatalf("%d rejected messages stored (%v), want %d", len(rejected), err, 2+len(malformed)+1)
		}
		for _, r := range rejected {
			if r.Reason == "" || r.Body == "" {
				t.Fatalf("rejected message without reason or body: %+v", r)
			}
		}
		if n := count(t, e.s, atigip.KindMeasure, atigip.ListFilter{Ref: "APPI:TIG-25-4"}); n != 0 {
			t.Fatal("an invalid FFE11 created a measure")
		}
	})
}

// crashStore wraps a store so that its next transaction fails at a chosen
// write, as a process killed mid-transaction would.
type crashStore struct {
	atigip.Store
	cancel func()
	at     atigip.Kind // the kind whose write is interrupted
	armed  bool
}

func (c *crashStore) InTx(ctx context.Context, fn func(atigip.Tx) error) error {
	if !c.armed {
		return c.Store.InTx(ctx, fn)
	}
	return c.Store.InTx(ctx, func(tx atigip.Tx) error { return fn(&crashTx{Tx: tx, c: c}) })
}

type crashTx struct {
	atigip.Tx
	c *crashStore
}

func (t *crashTx) Entities(k atigip.Kind) atigip.Entities {
	es := t.Tx.Entities(k)
	if k != t.c.at {
		return es
	}
	return crashEntities{Entities: es, c: t.c}
}

type crashEntities struct {
	atigip.Entities
	c *crashStore
}

var errKilled = errors.New("process killed")

func (e crashEntities) Create(ctx context.Context, ent atigip.Entity) error {
	e.c.armed = false
	e.c.cancel() // the request's context ends, as when the process dies
	if err := e.Entities.Create(ctx, ent); err != nil {
		return err
	}
	return errKilled
}

func TestKillBetweenReceiveAndAcknowledge(t *testing.T) {
	for name, open := range map[string]func(testing.TB) (atigip.Store, func() atigip.Store){
		"sqlite": func(tb testing.TB) (atigip.Store, func() atigip.Store) {
			path := filepath.Join(tb.TempDir(), "kill.db")
			return wftest.SQLiteAt(tb, path), func() atigip.Store { return wftest.SQLiteAt(tb, path) }
		},
		"postgres": func(tb testing.TB) (atigip.Store, func() atigip.Store) {
			s := wftest.Postgres(tb)
			return s, func() atigip.Store { return s }
		},
	} {
		t.Run(name, func(t *testing.T) {
			s, reopen := open(t)
			e := newEnv(t, s)
			for _, at := range []atigip.Kind{atigip.KindPerson, atigip.KindFlowMessage} {
				ctx, cancel := context.WithCancel(context.Background())
				cs := &crashStore{Store: s, cancel: cancel, at: at, armed: true}
				rx := &flows.Receiver{Store: cs, Workflow: &workflow.Service{Store: cs}}
				res, err := rx.Receive(ctx, appi, ffe11("K-1", "TIG-25-9", 1, 50))
				cancel()
				if err == nil || res.Outcome != "" || atigip.ErrorCode(err) == atigip.EINVALID {
					t.Fatalf("interrupted at %s: outcome %q, error %v", at, res.Outcome, err)
				}
				if n := count(t, s, atigip.KindMeasure, atigip.ListFilter{Ref: "APPI:TIG-25-9"}); n != 0 {
					t.Fatalf("interrupted at %s: the measure was stored without its message record", at)
				}
				if n := count(t, s, atigip.KindFlowMessage, atigip.ListFilter{}); n != 0 {
					t.Fatalf("interrupted at %s: %d message records left", at, n)
				}
			}
			// The process restarts (SQLite: the file is reopened); APPI,
			// never acknowledged, sends the message again, twice.
			s2 := reopen()
			rx := &flows.Receiver{Store: s2, Workflow: &workflow.Service{Store: s2}}
			if res, err := rx.Receive(context.Background(), appi, ffe11("K-1", "TIG-25-9", 1, 50)); err != nil || res.Outcome != flows.Accepted {
				t.Fatalf("replay: %s %v", res.Outcome, err)
			}
			if res, err := rx.Receive(context.Background(), appi, ffe11("K-1", "TIG-25-9", 1, 50)); err != nil || res.Outcome != flows.Duplicate {
				t.Fatalf("second replay: %s %v", res.Outcome, err)
			}
			if n := count(t, s2, atigip.KindMeasure, atigip.ListFilter{Ref: "APPI:TIG-25-9"}); n != 1 {
				t.Fatalf("%d measures after replays, want 1", n)
			}
			if n := count(t, s2, atigip.KindPerson, atigip.ListFilter{Ref: "APPI:P-TIG-25-9"}); n != 1 {
				t.Fatalf("%d people after replays, want 1", n)
			}
			if n := count(t, s2, atigip.KindFlowMessage, atigip.ListFilter{}); n != 1 {
				t.Fatalf("%d message records after replays, want 1", n)
			}
			_ = e
		})
	}
}

func TestConcurrentDuplicates(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		const n = 4
		errs := make(chan error, n)
		outcomes := make(chan flows.Outcome, n)
		for range n {
			go func() {
				res, err := e.rx.Receive(context.Background(), appi, ffe11("E-1", "TIG-25-5", 1, 25))
				errs <- err
				outcomes <- res.Outcome
			}()
		}
		accepted := 0
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("concurrent delivery: %v", err)
			}
			if <-outcomes == flows.Accepted {
				accepted++
			}
		}
		if accepted != 1 || count(t, e.s, atigip.KindMeasure, atigip.ListFilter{Ref: "APPI:TIG-25-5"}) != 1 {
			t.Fatalf("%d deliveries accepted, want exactly 1", accepted)
		}
	})
}

func TestClients(t *testing.T) {
	key := "k3y-0f-APPI-for-tests-0123456789abcdef"
	c, err := flows.ParseClients("appi=" + flows.HashKey(key) + ", genesis=" + flows.HashKey("other"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Authenticate(key)
	if err != nil || p.Role != atigip.RoleCaseSystem || p.Subject != "client:appi" {
		t.Fatalf("principal %+v, %v", p, err)
	}
	for _, bad := range []string{"", "wrong", key + " "} {
		if _, err := c.Authenticate(bad); atigip.ErrorCode(err) != atigip.EUNAUTHORIZED {
			t.Fatalf("key %q: %v", bad, err)
		}
	}
	if _, err := flows.ParseClients("appi=md5:abcd"); err == nil {
		t.Fatal("a non-SHA-256 hash was accepted")
	}
}
