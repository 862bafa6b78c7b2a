package httpapi

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/flows"
	"github.com/atigip/atigip360/matching"
	"github.com/atigip/atigip360/matching/rulecases"
)

// doorsOf returns the doors a case goes through: the rule's doors
// (matching.RuleInfo.Doors, from the rulebook itself) that serve the
// case's side.
func doorsOf(c rulecases.Case) []matching.Door {
	info, _ := c.Rule.Info()
	var out []matching.Door
	for _, d := range info.Doors() {
		switch d {
		case matching.DoorProposal, matching.DoorDecision, matching.DoorFFE13:
			if c.Side != rulecases.SideTIG {
				continue
			}
		case matching.DoorAcceptance, matching.DoorTransfer:
			if c.Side != rulecases.SidePrison {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// rulesEnv is a server with matching, workflow and flows over a memory
// store holding the case's world.
type rulesEnv struct {
	*testEnv
	w     *rulecases.World
	apps  []*atigip.Application // accepted applications (contracts)
	today atigip.Date
}

func newRulesEnv(t *testing.T, w *rulecases.World) *rulesEnv {
	t.Helper()
	store := newMemStore()
	clients, err := flows.ParseClients("appi=" + flows.HashKey(appiKey))
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, store, func(o *Options) {
		o.Modules = append(o.Modules, &MatchingModule{MaxAge: -1}, WorkflowModule(nil), FlowsModule(clients, nil))
	})
	e := &rulesEnv{testEnv: env, w: w, today: w.Today}
	seed(t, store, w.Org)
	w.Relink()
	seed(t, store, w.Post)
	seed(t, store, w.Prison)
	seed(t, store, w.Prison2)
	w.Relink()
	seed(t, store, w.Person)
	seed(t, store, w.Rival)
	w.Relink()
	seed(t, store, w.Measure)
	seed(t, store, w.RivalMeasure)
	seed(t, store, w.Offer)
	seed(t, store, w.Detainee)
	for _, c := range w.Contracts {
		seed(t, store, c)
		e.apps = append(e.apps, seed(t, store, &atigip.Application{PersonID: w.Detainee.ID, OfferID: c.ID, State: atigip.AppAccepted}))
	}
	if w.OrgDeleted {
		if err := store.Entities(atigip.KindOrganisation).Delete(t.Context(), w.Org.ID, w.Org.Version); err != nil {
			t.Skipf("the store refuses to delete an organisation with posts (%v): the rule still guards older data", err)
		}
	}
	return e
}

// refusal is what a door said about the pair: refused or not, and the
// sentence of the case's rule when it gave one.
type refusal struct {
	refused  bool
	sentence string
}

var national = atigip.Principal{Subject: "dspip:national", Role: atigip.RoleDSPIP}

// rank asks the ranking door, with excluded pairs.
func (e *rulesEnv) rank(t *testing.T, c rulecases.Case) refusal {
	ref, subject := e.w.Ref(c.Side), e.w.Subject(c.Side)
	r := e.do("GET", fmt.Sprintf("/api/matching/people/%d/offers?kinds=%s&excluded=true", subject.ID, ref.Kind), e.token(national), nil)
	wantStatus(t, r, 200)
	var rk MatchingRanking
	r.json(t, &rk)
	return listed(rk, c.Rule, func(p matching.Proposal) bool { return p.Item == ref })
}

func listed(rk MatchingRanking, rule matching.Rule, is func(matching.Proposal) bool) refusal {
	out := refusal{refused: !slices.ContainsFunc(rk.Proposals, is)}
	for _, p := range rk.Excluded {
		if is(p) {
			for _, x := range p.Exclusions {
				if x.Rule == rule {
					out.sentence = x.Message
				}
			}
		}
	}
	return out
}

// candidates asks the candidates door of the post or offer.
func (e *rulesEnv) candidates(t *testing.T, c rulecases.Case) refusal {
	ref, subject := e.w.Ref(c.Side), e.w.Subject(c.Side)
	path := fmt.Sprintf("/api/matching/posts/%d/candidates?excluded=true", ref.ID)
	if c.Side == rulecases.SidePrison {
		path = fmt.Sprintf("/api/matching/offers/%d/candidates?excluded=true", ref.ID)
	}
	r := e.do("GET", path, e.token(national), nil)
	wantStatus(t, r, 200)
	var rk MatchingRanking
	r.json(t, &rk)
	return listed(rk, c.Rule, func(p matching.Proposal) bool { return p.PersonID == subject.ID })
}

// job runs a global assignment of the subject.
func (e *rulesEnv) job(t *testing.T, c rulecases.Case) refusal {
	ref, subject := e.w.Ref(c.Side), e.w.Subject(c.Side)
	st, r := runJob(t, e.testEnv, e.token(national), map[string]any{"people": []int64{subject.ID}, "kinds": []matching.ItemKind{ref.Kind}})
	wantStatus(t, r, 202)
	if st.State != "done" || st.Result == nil {
		t.Fatalf("job %+v", st)
	}
	placed := slices.ContainsFunc(st.Result.Proposals, func(p matching.Proposal) bool { return p.PersonID == subject.ID && p.Item == ref })
	out := refusal{refused: !placed}
	for _, w := range st.Result.WhyUnplaced {
		if w.PersonID == subject.ID && w.Nearest != nil && w.Nearest.Item == ref {
			for _, x := range w.Nearest.Exclusions {
				if x.Rule == c.Rule {
					out.sentence = x.Message
				}
			}
		}
	}
	return out
}

// conflict reads a 409 of a committing door: the rule's field error.
func conflict(t *testing.T, r response, rule matching.Rule) refusal {
	t.Helper()
	if r.status == 200 {
		return refusal{}
	}
	if r.status != 409 {
		t.Fatalf("status %d, want 200 or 409: %s", r.status, r.body)
	}
	p := r.problem(t)
	out := refusal{refused: true}
	for _, f := range p.Errors {
		if f.Field == "rules."+string(rule) {
			out.sentence = f.Message
		}
	}
	return out
}

func (e *rulesEnv) propose(t *testing.T) response {
	m := e.reload(t)
	return e.do("POST", fmt.Sprintf("/api/measures/%d/transitions", m.ID), e.token(national),
		map[string]any{"to": "proposed", "post_id": e.w.Post.ID, "start_date": e.today.AddDays(7).String(), "version": m.Version})
}

func (e *rulesEnv) reload(t *testing.T) *atigip.Measure {
	m, err := atigip.Of[*atigip.Measure](e.store).Get(t.Context(), e.w.Measure.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// becomes rewrites the stored records as they are in next (the case's
// other side), keeping the measure's state as the doors left it: a change
// between the proposal and the judge's decision.
func (e *rulesEnv) becomes(t *testing.T, next *rulecases.World) {
	t.Helper()
	w := e.w
	next.Org.Meta, next.Post.Meta, next.Person.Meta, next.Rival.Meta = w.Org.Meta, w.Post.Meta, w.Person.Meta, w.Rival.Meta
	next.Prison.Meta, next.Prison2.Meta, next.Offer.Meta, next.Detainee.Meta = w.Prison.Meta, w.Prison2.Meta, w.Offer.Meta, w.Detainee.Meta
	next.RivalMeasure.Meta, next.Measure.Meta = w.RivalMeasure.Meta, w.Measure.Meta
	next.Relink()
	stored := e.reload(t)
	m := *stored
	m.HoursOrdered, m.HoursDone, m.SentenceDate, m.Minor = next.Measure.HoursOrdered, next.Measure.HoursDone, next.Measure.SentenceDate, next.Measure.Minor
	ctx := t.Context()
	for _, x := range []atigip.Entity{next.Post, next.Person, next.Rival, next.RivalMeasure, &m} {
		if err := e.store.Entities(x.Kind()).Update(ctx, x); err != nil {
			t.Fatalf("update %s: %v", x.Kind(), err)
		}
	}
	if next.OrgDeleted {
		if err := e.store.Entities(atigip.KindOrganisation).Delete(ctx, w.Org.ID, w.Org.Version); err != nil {
			t.Skipf("the store refuses to delete an organisation with posts (%v)", err)
		}
	} else if err := e.store.Entities(atigip.KindOrganisation).Update(ctx, next.Org); err != nil {
		t.Fatal(err)
	}
	e.w = next
}

// decide proposes on the lawful world, moves the world to the case's side,
// then asks the judge's decision by the route or by FFE13.
func (e *rulesEnv) decide(t *testing.T, c rulecases.Case, lawful, ffe13 bool) refusal {
	wantStatus(t, e.propose(t), 200)
	e.becomes(t, c.Apply(e.today, lawful))
	m := e.reload(t)
	if !ffe13 {
		r := e.do("POST", fmt.Sprintf("/api/measures/%d/transitions", m.ID), e.token(atigip.Principal{Subject: "jap", Role: atigip.RoleMagistrate}),
			map[string]any{"to": "assigned", "version": m.Version})
		return conflict(t, r, c.Rule)
	}
	_, ffs12 := e.onlyProposal(t)
	msg := fmt.Sprintf(`{"message_id":"J-1","type":"FFE13","sent_at":"2025-03-01T10:00:00Z","case_ref":%q,"seq":1,"ffe13":{"proposal_id":%q,"post_id":%d}}`,
		m.CaseRef, ffs12.MessageID, e.w.Post.ID)
	r := e.machine("POST", "/api/flows/inbound", appiKey, msg)
	if r.status == 200 {
		if got := e.reload(t); got.State != atigip.MeasureAssigned {
			t.Fatalf("FFE13 accepted but the measure is %s", got.State)
		}
		return refusal{}
	}
	if r.status != 409 {
		t.Fatalf("FFE13: status %d: %s", r.status, r.body)
	}
	out := refusal{refused: true}
	if want := expected(t, e.w, c, e.reload(t)); want != "" && strings.Contains(string(r.body), strings.TrimSuffix(want, ".")) {
		out.sentence = want
	}
	return out
}

// accept asks the governor's assignment of an application of the detainee.
func (e *rulesEnv) accept(t *testing.T, c rulecases.Case) refusal {
	app := seed(t, e.store, &atigip.Application{PersonID: e.w.Detainee.ID, OfferID: e.w.Offer.ID, State: atigip.AppSubmitted, Rank: 1})
	staff := e.token(atigip.Principal{Subject: "greffe", Role: atigip.RolePrisonStaff, PrisonID: e.w.Prison.ID})
	r := e.do("POST", fmt.Sprintf("/api/applications/%d/transitions", app.ID), staff, map[string]any{"to": "accepted", "version": app.Version})
	return conflict(t, r, c.Rule)
}

// transfer moves the detainee, holding a contract on the offer, to the
// other establishment: the contract ends with the rules' sentences.
func (e *rulesEnv) transfer(t *testing.T, c rulecases.Case) refusal {
	app := seed(t, e.store, &atigip.Application{PersonID: e.w.Detainee.ID, OfferID: e.w.Offer.ID, State: atigip.AppAccepted})
	staff := e.token(atigip.Principal{Subject: "greffe", Role: atigip.RolePrisonStaff, PrisonID: e.w.Prison.ID})
	r := e.do("POST", fmt.Sprintf("/api/people/%d/transfer", e.w.Detainee.ID), staff, map[string]any{"prison_id": e.w.Prison2.ID, "reason": "Rapprochement familial"})
	wantStatus(t, r, 200)
	got, err := atigip.Of[*atigip.Application](e.store).Get(t.Context(), app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != atigip.AppClosed {
		return refusal{}
	}
	note := got.History[len(got.History)-1].Note
	moved := rulecases.New(e.today)
	moved.Link()
	moved.Detainee.PrisonID, moved.Detainee.WorkCleared, moved.Detainee.WorkClearedAt = moved.Prison2.ID, false, nil
	for _, x := range matching.Check(moved.Pair(rulecases.SidePrison), e.today, nil) {
		if x.Rule == c.Rule && strings.Contains(note, x.Message) {
			return refusal{refused: true, sentence: x.Message}
		}
	}
	return refusal{refused: true}
}

// expected is the rulebook's sentence for the case's rule on the pair as
// stored (m is the measure as the doors left it).
func expected(t *testing.T, w *rulecases.World, c rulecases.Case, m *atigip.Measure) string {
	t.Helper()
	pair := w.Pair(c.Side)
	if m != nil && c.Side == rulecases.SideTIG {
		pair.Measure = m
		if m.State == atigip.MeasureProposed {
			pair.Pending = 0
			if w.RivalPending {
				pair.Pending = 1
			}
		}
	}
	for _, x := range matching.Check(pair, w.Today, nil) {
		if x.Rule == c.Rule {
			return x.Message
		}
	}
	return ""
}

// outside tells whether the case's unlawful side takes the pair out of
// what a ranking door (or the job's reasons) examines, so that it gives
// no sentence about it: work and training are looked for in the person's
// establishment only (not detained, another establishment), and a post's
// candidates are people outside with a measure to place.
func outside(door matching.Door, c rulecases.Case) bool {
	switch door {
	case matching.DoorRanking, matching.DoorCandidates, matching.DoorJob:
		if c.Side == rulecases.SidePrison && (c.Rule == matching.RuleAudience || c.Rule == matching.RulePrison) {
			return true
		}
		return door == matching.DoorCandidates && (c.Rule == matching.RuleAudience || c.Rule == matching.RuleMeasure)
	}
	return false
}

// TestEveryRuleAtEveryDoor drives every boundary case of the rulebook
// (matching/rulecases, which covers every rule) through every door the
// rule guards, on both sides: the lawful side passes, the unlawful side is
// refused, with the rule's sentence where the door speaks.
func TestEveryRuleAtEveryDoor(t *testing.T) {
	today := atigip.DateOf(time.Now())
	for _, c := range rulecases.Cases() {
		for _, door := range doorsOf(c) {
			t.Run(c.Name+"/"+string(door), func(t *testing.T) {
				for _, lawful := range []bool{true, false} {
					if door == matching.DoorTransfer && lawful {
						continue // a transfer always leaves the old establishment
					}
					w := c.Apply(today, lawful)
					if door == matching.DoorDecision || door == matching.DoorFFE13 || door == matching.DoorTransfer {
						w = c.Apply(today, true) // proposed (or working) lawfully, then changed
					}
					e := newRulesEnv(t, w)
					var got refusal
					switch door {
					case matching.DoorRanking:
						got = e.rank(t, c)
					case matching.DoorCandidates:
						got = e.candidates(t, c)
					case matching.DoorJob:
						got = e.job(t, c)
					case matching.DoorProposal:
						got = conflict(t, e.propose(t), c.Rule)
					case matching.DoorDecision, matching.DoorFFE13:
						got = e.decide(t, c, lawful, door == matching.DoorFFE13)
					case matching.DoorAcceptance:
						got = e.accept(t, c)
					case matching.DoorTransfer:
						got = e.transfer(t, c)
					default:
						t.Fatalf("door %s not driven", door)
					}
					if lawful {
						if got.refused {
							t.Fatalf("lawful side refused")
						}
						continue
					}
					if !got.refused {
						t.Fatalf("unlawful side let through")
					}
					if outside(door, c) {
						continue
					}
					var m *atigip.Measure
					if c.Side == rulecases.SideTIG {
						m = e.reload(t)
					}
					if want := expected(t, e.w, c, m); got.sentence == "" || (door != matching.DoorTransfer && got.sentence != want) {
						t.Fatalf("sentence %q, want %q", got.sentence, want)
					}
				}
			})
		}
	}
}

// A CPIP may knowingly set aside the person's own declarations (here the
// mobility radius), with a reason: the proposal passes, the override is in
// the history and the audit log, and the judge's decision is not refused
// for it. A rule of law cannot be set aside, and an override needs a
// reason.
func TestKnowingOverride(t *testing.T) {
	c := rulecases.Case{Name: "beyond the radius", Rule: matching.RuleMobility,
		Unlawful: func(w *rulecases.World) { w.Post.Location = rulecases.East(rulecases.Lyon, 12) }}
	e := newRulesEnv(t, c.Apply(atigip.DateOf(time.Now()), false))
	m := e.reload(t)
	target := fmt.Sprintf("/api/measures/%d/transitions", m.ID)
	body := func(override []string, reason string) map[string]any {
		return map[string]any{"to": "proposed", "post_id": e.w.Post.ID, "start_date": e.today.AddDays(7).String(),
			"version": m.Version, "override": override, "reason": reason}
	}
	tok := e.token(national)
	r := e.do("POST", target, tok, body([]string{"minor_age"}, "Demande de la personne"))
	wantStatus(t, r, 400)
	if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "override" {
		t.Fatalf("overriding the law: %+v", p)
	}
	r = e.do("POST", target, tok, body([]string{"mobility"}, ""))
	wantStatus(t, r, 400)
	r = e.do("POST", target, tok, body([]string{"mobility"}, "La personne a un véhicule prêté par sa famille"))
	wantStatus(t, r, 200)
	m = e.reload(t)
	last := m.History[len(m.History)-1]
	if !slices.Equal(last.Overrides, []string{"mobility"}) || !strings.Contains(last.Note, "véhicule") {
		t.Fatalf("history %+v", last)
	}
	audits, err := e.store.Audits(t.Context(), atigip.AuditFilter{Subject: national.Subject})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(audits, func(a atigip.AuditEntry) bool { return a.Action == "override:mobility" && a.EntityID == m.ID }) {
		t.Fatal("override not audited")
	}
	r = e.do("POST", target, e.token(atigip.Principal{Subject: "jap", Role: atigip.RoleMagistrate}), map[string]any{"to": "assigned", "version": m.Version})
	wantStatus(t, r, 200)
}

// Filing an application applies the rulebook's filing rules with its
// sentences: a detainee not cleared by the CPU cannot apply to a training,
// as the engine does not propose it.
func TestFilingAgreesWithTheEngine(t *testing.T) {
	var c rulecases.Case
	for _, x := range rulecases.Cases() {
		if x.Rule == matching.RuleWorkClearance && strings.Contains(x.Name, "training") {
			c = x
		}
	}
	e := newRulesEnv(t, c.Apply(atigip.DateOf(time.Now()), false))
	staff := e.token(atigip.Principal{Subject: "greffe", Role: atigip.RolePrisonStaff, PrisonID: e.w.Prison.ID})
	r := e.do("POST", fmt.Sprintf("/api/offers/%d/applications", e.w.Offer.ID), staff, map[string]any{"person_id": e.w.Detainee.ID})
	got := conflict(t, r, c.Rule)
	ranked := e.rank(t, c)
	if !got.refused || !ranked.refused || got.sentence == "" || got.sentence != ranked.sentence {
		t.Fatalf("filing %+v, ranking %+v", got, ranked)
	}
}
