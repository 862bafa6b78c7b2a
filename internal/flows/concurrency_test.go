package flows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/flows"
	"github.com/atigip/atigip360/internal/store/postgres"
	"github.com/atigip/atigip360/internal/store/postgres/pgtest"
	"github.com/atigip/atigip360/internal/workflow"
	"github.com/atigip/atigip360/internal/workflow/wftest"
)

// ffe11For is an FFE11 of measure caseRef for person personRef: APPI sends
// several measures of one person, each carrying the same person. The
// sentence is a month old, so that its legal deadline (18 months) leaves
// room for the proposals the test makes.
func ffe11For(id, caseRef, personRef string, seq int64, hours int) []byte {
	sentenced := time.Now().AddDate(0, -1, 0)
	return []byte(fmt.Sprintf(`{"message_id":%q,"type":"FFE11","sent_at":%q,"case_ref":%q,"seq":%d,
	 "ffe11":{"person":{"case_ref":%q,"pseudonym":"TIG-%s","minor":false,"home_address":{"commune":"69382","departement":"69"},"home":{"lon":4.83,"lat":45.76}},
	          "measure":{"hours_ordered":%d,"sentence_date":%q,"court":"Tribunal judiciaire de Lyon","departement":"69"}}}`,
		id, sentenced.Add(time.Hour).UTC().Format(time.RFC3339), caseRef, seq, personRef, personRef, hours, sentenced.Format(time.DateOnly)))
}

// instances opens two stores on one database, as two servers would.
type instances func(t *testing.T) (a, b atigip.Store)

var twoInstances = map[string]instances{
	"sqlite": func(t *testing.T) (atigip.Store, atigip.Store) {
		path := filepath.Join(t.TempDir(), "atigip.db")
		return wftest.SQLiteAt(t, path), wftest.SQLiteAt(t, path)
	},
	"postgres": func(t *testing.T) (atigip.Store, atigip.Store) {
		url := pgtest.URL(t)
		open := func() atigip.Store {
			s, err := postgres.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		return open(), open()
	},
}

// flowCase is one measure of the scenario: its FFE11 (and perhaps an
// update), then the judge's answer to our proposal.
type flowCase struct {
	ref, person string
	hours       []int // one FFE11 per entry, seq 1, 2…
	assign      bool  // FFE13, else FFE15
}

func scenario(r *rand.Rand) []flowCase {
	var cs []flowCase
	for p := range 2 {
		person := fmt.Sprintf("P-%d", p)
		// Two measures per person: their FFE11 update the same profile.
		first := r.IntN(2) == 0
		for m := range 2 {
			c := flowCase{ref: fmt.Sprintf("TIG-%d-%d", p, m), person: person, assign: (m == 0) == first}
			for range 1 + r.IntN(2) {
				c.hours = append(c.hours, 20+r.IntN(100))
			}
			cs = append(cs, c)
		}
	}
	return cs
}

type delivery struct {
	id   string
	body []byte
}

// runScenario applies cs through the given receivers: phase one the FFE11,
// then our proposals, then the answers. With concurrent set, each message
// is delivered one to three times, shuffled, by four senders at once to
// either instance, retried while the answer says to (EUNAVAILABLE), as
// APPI does; else each once, in order, to the first receiver.
func runScenario(t *testing.T, r *rand.Rand, stores []atigip.Store, cs []flowCase, concurrent bool) {
	ctx := context.Background()
	w := wftest.Build(t, stores[0])
	rxs := make([]*flows.Receiver, len(stores))
	for i, s := range stores {
		rxs[i] = &flows.Receiver{Store: s, Workflow: &workflow.Service{Store: s, Propose: flows.QueueProposal}}
	}
	send := func(ds []delivery) {
		if !concurrent {
			for _, d := range ds {
				if res, err := rxs[0].Receive(ctx, appi, d.body); err != nil || res.Outcome != flows.Accepted {
					t.Fatalf("sequential %s: %s %v", d.id, res.Outcome, err)
				}
			}
			return
		}
		var all []delivery
		for _, d := range ds {
			for range 1 + r.IntN(3) {
				all = append(all, d)
			}
		}
		r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		ch := make(chan delivery)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for d := range ch {
					for try := 0; ; try++ {
						res, err := rxs[(g+try)%len(rxs)].Receive(ctx, appi, d.body)
						if atigip.ErrorCode(err) == atigip.EUNAVAILABLE && try < 20 {
							continue // not processed: APPI sends it again
						}
						if err != nil || res.Outcome == flows.Rejected {
							t.Errorf("concurrent %s: %s %v", d.id, res.Outcome, err)
						}
						break
					}
				}
			}()
		}
		for _, d := range all {
			ch <- d
		}
		close(ch)
		wg.Wait()
	}

	var phase1 []delivery
	for _, c := range cs {
		for i, h := range c.hours {
			id := fmt.Sprintf("%s-ffe11-%d", c.ref, i+1)
			phase1 = append(phase1, delivery{id, ffe11For(id, c.ref, c.person, int64(i+1), h)})
		}
	}
	send(phase1)
	if t.Failed() {
		t.FailNow()
	}
	// The CPIP proposes each measure a post of its own.
	wf := &workflow.Service{Store: stores[0], Propose: flows.QueueProposal}
	posts := map[string]int64{}
	for _, c := range cs {
		p := *w.Post
		p.ID, p.Version, p.Title = 0, 0, "Poste pour "+c.ref
		if err := atigip.Of[*atigip.Post](stores[0]).Entities.Create(ctx, &p); err != nil {
			t.Fatal(err)
		}
		posts[c.ref] = p.ID
		ms, _, err := atigip.Of[*atigip.Measure](stores[0]).List(ctx, atigip.ListFilter{Ref: "APPI:" + c.ref})
		if err != nil || len(ms) != 1 {
			t.Fatalf("measure %s: %d, %v", c.ref, len(ms), err)
		}
		if _, err := wf.Transition(ctx, cpip, ms[0].ID, ms[0].Version, workflow.Transition{
			To: atigip.MeasureProposed, PostID: p.ID, StartDate: atigip.DateOf(time.Now().AddDate(0, 0, 7))}); err != nil {
			t.Fatalf("propose %s: %v", c.ref, err)
		}
	}
	page, err := flows.Poll(ctx, stores[0], -1, 100)
	if err != nil {
		t.Fatal(err)
	}
	proposal := map[string]string{}
	for _, it := range page.Items {
		var p flows.FFS12
		if err := json.Unmarshal(it.Message, &p); err != nil {
			t.Fatal(err)
		}
		proposal[p.CaseRef] = p.MessageID
	}
	var phase2 []delivery
	for _, c := range cs {
		id, seq := c.ref+"-answer", int64(len(c.hours)+1)
		if c.assign {
			phase2 = append(phase2, delivery{id, ffe13(id, c.ref, seq, proposal[c.ref], posts[c.ref])})
		} else {
			phase2 = append(phase2, delivery{id, ffe15(id, c.ref, seq, proposal[c.ref], "Poste inadapté")})
		}
	}
	send(phase2)
}

// flowState is what the inbound flows leave, without ids and times.
func flowState(t *testing.T, s atigip.Store, cs []flowCase) string {
	ctx := context.Background()
	var b strings.Builder
	for _, c := range cs {
		ms, _, err := atigip.Of[*atigip.Measure](s).List(ctx, atigip.ListFilter{Ref: "APPI:" + c.ref})
		if err != nil || len(ms) != 1 {
			t.Fatalf("measure %s: %d, %v", c.ref, len(ms), err)
		}
		m := ms[0]
		p, err := atigip.Of[*atigip.Person](s).Get(ctx, m.PersonID)
		if err != nil {
			t.Fatal(err)
		}
		var notes []string
		for _, h := range m.History {
			notes = append(notes, fmt.Sprintf("%s>%s %s", h.From, h.To, h.Note))
		}
		cur, err := s.Cursor(ctx, "flows:in:"+c.ref)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %s, %d h, sentence %s, person %s (%s), post set %t, cursor %s\n  %s\n",
			c.ref, m.State, m.HoursOrdered, m.SentenceDate.Format(time.DateOnly), p.CaseRef, p.Pseudonym, m.PostID != 0, cur,
			strings.Join(notes, "\n  "))
	}
	var msgs []string
	err := atigip.Of[*atigip.FlowMessage](s).Scan(ctx, atigip.ListFilter{}, func(f *atigip.FlowMessage) error {
		if f.Direction == atigip.FlowIn {
			msgs = append(msgs, fmt.Sprintf("%s %s seq %d: %s", f.MessageID, f.Type, f.Seq, f.Status))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(msgs)
	_, people, err := atigip.Of[*atigip.Person](s).List(ctx, atigip.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "people: %d\n%s\n", people, strings.Join(msgs, "\n"))
	return b.String()
}

// TestFlowsExactlyOnceUnderConcurrency is a property test: random
// scenarios of FFE11 (two measures per person, some updated), FFE13 and
// FFE15, each message delivered one to three times, shuffled, by four
// senders to two instances of one database, end in the state of the same
// messages delivered once each, in order, to one instance.
func TestFlowsExactlyOnceUnderConcurrency(t *testing.T) {
	for name, open := range twoInstances {
		t.Run(name, func(t *testing.T) {
			for trial := range 4 {
				seed := uint64(trial + 1)
				t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
					cs := scenario(rand.New(rand.NewPCG(seed, 0)))
					a, b := open(t)
					runScenario(t, rand.New(rand.NewPCG(seed, 1)), []atigip.Store{a, b}, cs, true)
					got := flowState(t, a, cs)
					ref, _ := open(t)
					runScenario(t, nil, []atigip.Store{ref}, cs, false)
					if want := flowState(t, ref, cs); got != want {
						t.Errorf("concurrent deliveries left\n%s\nsequential ones\n%s", got, want)
					}
				})
			}
		})
	}
}

// conflictStore makes every update of one kind fail as a concurrent
// writer's would (stale version), until healed.
type conflictStore struct {
	atigip.Store
	kind    atigip.Kind
	mu      sync.Mutex
	healed  bool
	refused int
}

func (c *conflictStore) InTx(ctx context.Context, fn func(atigip.Tx) error) error {
	return c.Store.InTx(ctx, func(tx atigip.Tx) error { return fn(conflictTx{tx, c}) })
}

type conflictTx struct {
	atigip.Tx
	c *conflictStore
}

func (t conflictTx) Entities(k atigip.Kind) atigip.Entities {
	if k != t.c.kind {
		return t.Tx.Entities(k)
	}
	return conflictEntities{t.Tx.Entities(k), t.c}
}

type conflictEntities struct {
	atigip.Entities
	c *conflictStore
}

func (e conflictEntities) Update(ctx context.Context, ent atigip.Entity) error {
	e.c.mu.Lock()
	defer e.c.mu.Unlock()
	if !e.c.healed {
		e.c.refused++
		return &atigip.Error{Code: atigip.ECONFLICT, Message: "Profil modifié entre-temps.", Err: atigip.ErrConcurrent}
	}
	return e.Entities.Update(ctx, ent)
}

// TestTransientConflictNotProcessed: a message that keeps conflicting
// with concurrent writers is answered EUNAVAILABLE (503, retry later) after
// several attempts, is not recorded and does not use up its number; its
// retry is accepted.
func TestTransientConflictNotProcessed(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.receive(t, ffe11("T-1", "TIG-25-9", 1, 30), flows.Accepted)
		cs := &conflictStore{Store: e.s, kind: atigip.KindPerson}
		rx := &flows.Receiver{Store: cs, Workflow: e.wf}
		res, err := rx.Receive(ctx, appi, ffe11("T-2", "TIG-25-9", 2, 40))
		if atigip.ErrorCode(err) != atigip.EUNAVAILABLE || res.Outcome == flows.Rejected {
			t.Fatalf("lasting concurrent conflict: %s %v, want EUNAVAILABLE and no outcome", res.Outcome, err)
		}
		if cs.refused < 2 {
			t.Errorf("the conflict was tried %d times, want retries", cs.refused)
		}
		if n := count(t, e.s, atigip.KindFlowMessage, atigip.ListFilter{Ref: "in:T-1"}); n != 1 {
			t.Fatalf("processed message: %d records, want 1", n)
		}
		if n := count(t, e.s, atigip.KindFlowMessage, atigip.ListFilter{Ref: "in:T-2"}); n != 0 {
			t.Fatalf("the unprocessed message was recorded (%d records)", n)
		}
		if cur, _ := e.s.Cursor(ctx, "flows:in:TIG-25-9"); cur != "1" {
			t.Fatalf("sequence cursor %q after an unprocessed message, want 1", cur)
		}
		cs.mu.Lock()
		cs.healed = true
		cs.mu.Unlock()
		if res, err := rx.Receive(ctx, appi, ffe11("T-2", "TIG-25-9", 2, 40)); err != nil || res.Outcome != flows.Accepted {
			t.Fatalf("retry: %s %v, want accepted", res.Outcome, err)
		}
		if m := e.measure(t, "TIG-25-9"); m.HoursOrdered != 40 {
			t.Fatalf("retry not applied: %d hours", m.HoursOrdered)
		}
	})
}
