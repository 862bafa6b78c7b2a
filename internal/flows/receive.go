package flows

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/workflow"
)

// Outcome is what became of an inbound message.
type Outcome string

// Outcomes.
const (
	Accepted  Outcome = "accepted"  // applied now
	Duplicate Outcome = "duplicate" // already received: nothing changed
	Held      Outcome = "held"      // waits for an earlier message of its measure
	Rejected  Outcome = "rejected"  // malformed or impossible: stored for inspection
)

// Result is the acknowledgement of an inbound message.
type Result struct {
	MessageID string  `json:"message_id"`
	Outcome   Outcome `json:"outcome"`
	// Status is the stored status of the message (for a duplicate, that of
	// the first delivery).
	Status    atigip.FlowStatus `json:"status"`
	Reason    string            `json:"reason,omitempty"`
	RecordID  int64             `json:"record_id,omitempty"`
	MeasureID int64             `json:"measure_id,omitempty"`
	// Released lists held messages of the same measure applied after this
	// one filled their gap.
	Released []string `json:"released,omitempty"`
}

// Receiver applies inbound messages. Each message is applied in one store
// transaction together with its record (which makes it idempotent) and
// the measure's sequence cursor: a process killed before the commit leaves
// nothing, so APPI's retry applies it once; killed after, the retry is a
// duplicate and changes nothing.
type Receiver struct {
	Store atigip.Store
	// Workflow applies the judge's answers to measures (Propose may be nil
	// here: inbound messages never propose).
	Workflow *workflow.Service
	Now      func() time.Time
}

func (r *Receiver) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// seqCursor names the cursor of the last inbound sequence number applied
// for an APPI measure number.
func seqCursor(caseRef string) string { return "flows:in:" + caseRef }

// domain reports whether err is the message's fault (to reject) rather
// than the system's (to retry).
func domain(err error) bool {
	if atigip.Concurrent(err) {
		return false // a concurrent writer's doing: retried, never rejected
	}
	switch atigip.ErrorCode(err) {
	case atigip.EINVALID, atigip.ECONFLICT, atigip.ENOTFOUND, atigip.EFORBIDDEN:
		return true
	}
	return false
}

// Receive applies one inbound message from client and says what became
// of it. A rejected message is stored and returned with a coded error
// (EINVALID when malformed, ECONFLICT when impossible now) whose message
// gives the reason and the record number; any other error is the
// system's, nothing was acknowledged, and the sender should retry.
func (r *Receiver) Receive(ctx context.Context, client atigip.Principal, body []byte) (Result, error) {
	msg, perr := Parse(body)
	if perr != nil {
		rec := &atigip.FlowMessage{Direction: atigip.FlowIn, Status: atigip.FlowRejected, Body: clip(body),
			Reason: atigip.ErrorMessage(perr), At: r.now()}
		if msg != nil {
			rec.MessageID, rec.CaseRef = clipID(msg.MessageID), clipID(msg.CaseRef)
			if _, ok := atigip.FlowTypes[msg.Type]; ok {
				rec.Type = msg.Type
			}
			if msg.FFE11 != nil && len(msg.FFE11.Measure.Departement) <= 3 {
				rec.Departement = msg.FFE11.Measure.Departement
			}
		}
		return r.reject(ctx, rec, 0)
	}
	res, err := r.receiveParsed(ctx, client, msg, body)
	if err != nil {
		return res, err
	}
	// Held messages that this one (or an earlier, interrupted delivery)
	// unblocked are applied now, each in its own transaction.
	released, rerr := r.release(ctx, client, msg.CaseRef)
	res.Released = released
	if rerr != nil && res.Outcome != Rejected {
		return res, fmt.Errorf("flows: release held messages: %w", rerr)
	}
	return res, resErr(res)
}

// resErr is the coded error of a rejected result.
func resErr(res Result) error {
	if res.Outcome != Rejected {
		return nil
	}
	code := atigip.ECONFLICT
	if res.Status == atigip.FlowRejected && strings.HasPrefix(res.Reason, "Message mal formé") {
		code = atigip.EINVALID
	}
	return atigip.Errorf(code, "Message %s rejeté : %s (conservé pour examen sous le n° %d).", res.MessageID, res.Reason, res.RecordID)
}

func clip(b []byte) string {
	if len(b) > atigip.MaxFlowBody {
		b = b[:atigip.MaxFlowBody]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func clipID(s string) string {
	if len(s) > 100 {
		return s[:100]
	}
	return s
}

// reject stores rec (a rejected message) and, when advance is set, moves
// the measure's sequence to it, in one transaction.
func (r *Receiver) reject(ctx context.Context, rec *atigip.FlowMessage, advance int64) (Result, error) {
	// A message with a NUL (which PostgreSQL cannot store) is kept with
	// U+FFFD in its place, so that it is stored for inspection and answered
	// 4xx like any malformed one, not 500 and retried for ever.
	rec.Body, rec.Reason = atigip.SafeText(rec.Body), atigip.SafeText(rec.Reason)
	rec.MessageID, rec.CaseRef = atigip.SafeText(rec.MessageID), atigip.SafeText(rec.CaseRef)
	rec.Departement = atigip.SafeText(rec.Departement)
	err := r.Store.InTx(ctx, func(tx atigip.Tx) error {
		if rec.Departement == "" {
			rec.Departement = departementOf(ctx, tx, &Inbound{CaseRef: rec.CaseRef})
		}
		if advance > 0 {
			if err := moveSeq(ctx, tx, rec.CaseRef, advance); err != nil {
				return err
			}
		}
		return tx.Entities(atigip.KindFlowMessage).Create(ctx, rec)
	})
	if err != nil {
		return Result{}, fmt.Errorf("flows: store rejected message: %w", err)
	}
	res := Result{MessageID: rec.MessageID, Outcome: Rejected, Status: atigip.FlowRejected, Reason: rec.Reason,
		RecordID: rec.ID, MeasureID: rec.MeasureID}
	return res, resErr(res)
}

// departementOf is the département of the probation service in charge of
// msg's measure, so that the messages kept for inspection reach the DSPIP
// of that département only: the measure's when it exists, else the one an
// FFE11 gives; "" when neither is known (then only national staff see it).
func departementOf(ctx context.Context, tx atigip.Tx, msg *Inbound) string {
	if msg.CaseRef != "" {
		ms, _, err := atigip.Of[*atigip.Measure](tx).List(ctx, atigip.ListFilter{Ref: "APPI:" + msg.CaseRef, Limit: 1})
		if err == nil && len(ms) == 1 {
			return ms[0].Departement
		}
	}
	if msg.FFE11 != nil && atigip.CheckText(msg.FFE11.Measure.Departement) == nil {
		return msg.FFE11.Measure.Departement
	}
	return ""
}

// moveSeq sets the measure's sequence cursor to seq if it is the next one.
func moveSeq(ctx context.Context, tx atigip.Tx, caseRef string, seq int64) error {
	last, err := lastSeq(ctx, tx, caseRef)
	if err != nil {
		return err
	}
	if seq != last+1 {
		return nil // already moved by a concurrent delivery
	}
	return tx.SetCursor(ctx, seqCursor(caseRef), strconv.FormatInt(seq, 10))
}

func lastSeq(ctx context.Context, tx atigip.Tx, caseRef string) (int64, error) {
	v, err := tx.Cursor(ctx, seqCursor(caseRef))
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("flows: sequence cursor %q: %w", v, err)
	}
	return n, nil
}

// findIn returns the stored inbound message with that id, or nil.
func findIn(ctx context.Context, tx atigip.Tx, id string) (*atigip.FlowMessage, error) {
	return findRef(ctx, tx, string(atigip.FlowIn)+":"+id)
}

func findRef(ctx context.Context, tx atigip.Tx, ref string) (*atigip.FlowMessage, error) {
	ms, _, err := atigip.Of[*atigip.FlowMessage](tx).List(ctx, atigip.ListFilter{Ref: ref, Limit: 1})
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	return ms[0], nil
}

// concurrentAttempts bounds the runs of one transaction that conflict
// with concurrent writers (two deliveries for the same person or measure
// at once, on one instance or several).
const concurrentAttempts = 8

// inTx runs fn in a transaction, and again on fresh data while it
// conflicts with a concurrent writer (a stale version, a reference created
// at the same moment, a serialization failure), after a short random
// pause. A conflict that outlasts the attempts is EUNAVAILABLE: the
// message was not processed, and the sender's retry will be.
func (r *Receiver) inTx(ctx context.Context, fn func(tx atigip.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := r.Store.InTx(ctx, fn)
		if err == nil || !atigip.Concurrent(err) {
			return err
		}
		if attempt == concurrentAttempts {
			return &atigip.Error{Code: atigip.EUNAVAILABLE,
				Message: "Modifications concurrentes persistantes : message non traité, renvoyez-le.", Err: err}
		}
		pause := time.Duration(1+rand.IntN(5*attempt)) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// receiveParsed runs the transaction of one well-formed message, once
// more after a conflict (a concurrent delivery of the same message, or a
// concurrent edit of the measure).
func (r *Receiver) receiveParsed(ctx context.Context, client atigip.Principal, msg *Inbound, body []byte) (Result, error) {
	var res Result
	var rej error
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		err = r.inTx(ctx, func(tx atigip.Tx) error {
			rej = nil
			var e error
			res, e = r.applyTx(ctx, tx, client, msg, body)
			if e != nil && domain(e) {
				rej = e
			}
			return e
		})
		if err == nil || rej == nil || atigip.ErrorCode(err) != atigip.ECONFLICT {
			break
		}
	}
	if err == nil {
		return res, nil
	}
	if rej == nil {
		return Result{}, fmt.Errorf("flows: receive %s: %w", msg.Type, err)
	}
	// The message is well formed but impossible: it is recorded as
	// rejected; in sequence, it still uses up its number so that the
	// measure's later messages are not blocked behind it.
	rec := &atigip.FlowMessage{MessageID: msg.MessageID, Direction: atigip.FlowIn, Type: msg.Type, Status: atigip.FlowRejected,
		CaseRef: msg.CaseRef, Seq: msg.Seq, Body: clip(body), Reason: atigip.ErrorMessage(rej), At: r.now()}
	var advance int64
	var stale *staleSeq
	if !errors.As(rej, &stale) {
		advance = msg.Seq
	}
	return r.reject(ctx, rec, advance)
}

// staleSeq is the rejection of a sequence number already used: it does
// not use up the number again.
type staleSeq struct{ err *atigip.Error }

func (s *staleSeq) Error() string { return s.err.Error() }
func (s *staleSeq) Unwrap() error { return s.err }

// applyTx applies msg in tx: duplicate check, sequence check (hold when
// early), effects, record and cursor.
func (r *Receiver) applyTx(ctx context.Context, tx atigip.Tx, client atigip.Principal, msg *Inbound, body []byte) (Result, error) {
	res := Result{MessageID: msg.MessageID}
	prev, err := findIn(ctx, tx, msg.MessageID)
	if err != nil {
		return res, err
	}
	if prev != nil {
		res.Outcome, res.Status, res.Reason, res.RecordID, res.MeasureID = Duplicate, prev.Status, prev.Reason, prev.ID, prev.MeasureID
		return res, nil
	}
	last, err := lastSeq(ctx, tx, msg.CaseRef)
	if err != nil {
		return res, err
	}
	rec := &atigip.FlowMessage{MessageID: msg.MessageID, Direction: atigip.FlowIn, Type: msg.Type, CaseRef: msg.CaseRef,
		Seq: msg.Seq, Body: clip(body), At: r.now()}
	switch {
	case msg.Seq <= last:
		return res, &staleSeq{atigip.Errorf(atigip.ECONFLICT, "numéro de séquence %d déjà traité pour la mesure %s (dernier : %d)", msg.Seq, msg.CaseRef, last)}
	case msg.Seq > last+1:
		rec.Status = atigip.FlowHeld
		rec.Departement = departementOf(ctx, tx, msg)
		rec.Reason = fmt.Sprintf("En attente du message n° %d de la mesure %s (reçu : n° %d).", last+1, msg.CaseRef, msg.Seq)
		if err := tx.Entities(atigip.KindFlowMessage).Create(ctx, rec); err != nil {
			return res, err
		}
		res.Outcome, res.Status, res.Reason, res.RecordID = Held, atigip.FlowHeld, rec.Reason, rec.ID
		return res, nil
	}
	mid, err := r.effects(ctx, tx, client, msg)
	if err != nil {
		return res, err
	}
	rec.Status, rec.MeasureID = atigip.FlowAccepted, mid
	if m, err := atigip.Of[*atigip.Measure](tx).Get(ctx, mid); err == nil {
		rec.Departement = m.Departement
	}
	if err := tx.Entities(atigip.KindFlowMessage).Create(ctx, rec); err != nil {
		return res, err
	}
	if err := tx.SetCursor(ctx, seqCursor(msg.CaseRef), strconv.FormatInt(msg.Seq, 10)); err != nil {
		return res, err
	}
	res.Outcome, res.Status, res.RecordID, res.MeasureID = Accepted, atigip.FlowAccepted, rec.ID, mid
	return res, nil
}

// effects applies the message's content and returns the measure's id.
func (r *Receiver) effects(ctx context.Context, tx atigip.Tx, client atigip.Principal, msg *Inbound) (int64, error) {
	if msg.Type == atigip.FFE11 {
		return r.placeFFE11(ctx, tx, client, msg)
	}
	ms, _, err := atigip.Of[*atigip.Measure](tx).List(ctx, atigip.ListFilter{Ref: "APPI:" + msg.CaseRef, Limit: 1})
	if err != nil {
		return 0, err
	}
	if len(ms) == 0 {
		return 0, atigip.Errorf(atigip.ENOTFOUND, "mesure %s inconnue : aucun FFE11 reçu pour elle", msg.CaseRef)
	}
	m := ms[0]
	proposalID := ""
	if msg.FFE13 != nil {
		proposalID = msg.FFE13.ProposalID
	} else {
		proposalID = msg.FFE15.ProposalID
	}
	prop, err := findRef(ctx, tx, string(atigip.FlowOut)+":"+proposalID)
	if err != nil {
		return 0, err
	}
	switch {
	case prop == nil || prop.Type != atigip.FFS12:
		return 0, atigip.Errorf(atigip.ECONFLICT, "réponse à une proposition inconnue : aucun FFS12 %q n'a été émis (message reçu avant la proposition ?)", proposalID)
	case prop.MeasureID != m.ID:
		return 0, atigip.Errorf(atigip.ECONFLICT, "la proposition %s concerne une autre mesure", proposalID)
	}
	latest, err := lastOutSeq(ctx, tx, m.ID)
	if err != nil {
		return 0, err
	}
	if prop.Seq != latest {
		return 0, atigip.Errorf(atigip.ECONFLICT, "la proposition %s a été remplacée par une proposition plus récente", proposalID)
	}
	if m.State != atigip.MeasureProposed {
		return 0, atigip.Errorf(atigip.ECONFLICT, "la mesure n'attend pas de réponse du juge (état « %s »)", atigip.MeasureStates[m.State])
	}
	t := workflow.Transition{To: atigip.MeasureToPlace}
	if msg.FFE13 != nil {
		if msg.FFE13.PostID != m.PostID {
			return 0, atigip.Errorf(atigip.ECONFLICT, "le poste affecté (%d) n'est pas le poste proposé (%d)", msg.FFE13.PostID, m.PostID)
		}
		t = workflow.Transition{To: atigip.MeasureAssigned, StartDate: msg.FFE13.StartDate}
	} else {
		t.Reason = "Refus du juge (FFE15) : " + strings.TrimSpace(msg.FFE15.Reason)
	}
	if _, err := r.Workflow.TransitionTx(ctx, tx, client, m.ID, 0, t); err != nil {
		return 0, err
	}
	return m.ID, nil
}

// placeFFE11 creates or updates the person and the measure.
func (r *Receiver) placeFFE11(ctx context.Context, tx atigip.Tx, client atigip.Principal, msg *Inbound) (int64, error) {
	in := msg.FFE11
	people := atigip.Of[*atigip.Person](tx)
	ps, _, err := people.List(ctx, atigip.ListFilter{Ref: "APPI:" + in.Person.CaseRef, Limit: 1})
	if err != nil {
		return 0, err
	}
	person := &atigip.Person{CaseSystem: "APPI", CaseRef: in.Person.CaseRef}
	if len(ps) > 0 {
		person = ps[0]
	}
	person.Pseudonym, person.BirthDate, person.Minor = in.Person.Pseudonym, in.Person.BirthDate, in.Person.Minor
	person.HomeAddress, person.Home = in.Person.HomeAddress, in.Person.Home
	if in.Person.Mobility != nil {
		person.Mobility = *in.Person.Mobility
	}
	if person.ID == 0 {
		err = tx.Entities(atigip.KindPerson).Create(ctx, person)
	} else {
		err = tx.Entities(atigip.KindPerson).Update(ctx, person)
	}
	if err != nil {
		return 0, prefixed("personne", err)
	}
	measures := atigip.Of[*atigip.Measure](tx)
	ms, _, err := measures.List(ctx, atigip.ListFilter{Ref: "APPI:" + msg.CaseRef, Limit: 1})
	if err != nil {
		return 0, err
	}
	at := r.now()
	if len(ms) == 0 {
		m := &atigip.Measure{PersonID: person.ID, CaseRef: msg.CaseRef, HoursOrdered: in.Measure.HoursOrdered,
			SentenceDate: in.Measure.SentenceDate, State: atigip.MeasureToPlace, Court: in.Measure.Court,
			Departement: in.Measure.Departement, Minor: in.Person.Minor,
			History: []atigip.MeasureEvent{{At: at, By: client.Subject, Role: client.Role, To: atigip.MeasureToPlace,
				Note: "FFE11 : mesure à placer reçue d'APPI (message " + msg.MessageID + ")"}}}
		if err := tx.Entities(atigip.KindMeasure).Create(ctx, m); err != nil {
			return 0, prefixed("mesure", err)
		}
		return m.ID, nil
	}
	// An update from APPI corrects the sentence; the execution (state,
	// post, hours done) stays ours.
	m := ms[0]
	if m.PersonID != person.ID {
		return 0, atigip.Errorf(atigip.ECONFLICT, "la mesure %s est rattachée à une autre personne", msg.CaseRef)
	}
	m.HoursOrdered, m.SentenceDate, m.Court, m.Departement, m.Minor =
		in.Measure.HoursOrdered, in.Measure.SentenceDate, in.Measure.Court, in.Measure.Departement, in.Person.Minor
	m.History = append(m.History, atigip.MeasureEvent{At: at, By: client.Subject, Role: client.Role, From: m.State, To: m.State,
		Note: "FFE11 : mise à jour de la condamnation par APPI (message " + msg.MessageID + ")", PostID: m.PostID})
	if err := tx.Entities(atigip.KindMeasure).Update(ctx, m); err != nil {
		return 0, prefixed("mesure", err)
	}
	return m.ID, nil
}

// prefixed adds the field errors of an invalid entity to its message, so
// the stored reason says what is wrong.
func prefixed(what string, err error) error {
	if atigip.ErrorCode(err) != atigip.EINVALID {
		return err
	}
	fs := atigip.ErrorFields(err)
	if len(fs) == 0 {
		return err
	}
	return &atigip.Error{Code: atigip.EINVALID, Message: what + " invalide : " + reasons(fs), Fields: fs, Err: err}
}

// release applies, in order, the held messages of caseRef whose turn has
// come, each in its own transaction; a released message that turns out
// impossible is rejected and uses up its number.
func (r *Receiver) release(ctx context.Context, client atigip.Principal, caseRef string) ([]string, error) {
	var done []string
	for {
		var held *atigip.FlowMessage
		var last int64
		err := atigip.Of[*atigip.FlowMessage](r.Store).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.FlowHeld)}},
			func(f *atigip.FlowMessage) error {
				if f.CaseRef == caseRef && (held == nil || f.Seq < held.Seq) {
					held = f
				}
				return nil
			})
		if err != nil {
			return done, err
		}
		if held == nil {
			return done, nil
		}
		if last, err = lastSeq(ctx, r.Store, caseRef); err != nil {
			return done, err
		}
		if held.Seq > last+1 {
			return done, nil // still a gap
		}
		msg, perr := Parse([]byte(held.Body))
		var rej error
		err = r.inTx(ctx, func(tx atigip.Tx) error {
			rej = nil
			cur, err := atigip.Of[*atigip.FlowMessage](tx).Get(ctx, held.ID)
			if err != nil {
				return err
			}
			if cur.Status != atigip.FlowHeld {
				return nil // released by a concurrent delivery
			}
			if perr != nil {
				rej = perr
				return perr
			}
			if held.Seq <= last {
				rej = atigip.Errorf(atigip.ECONFLICT, "numéro de séquence %d déjà traité pour la mesure %s", held.Seq, caseRef)
				return rej
			}
			mid, err := r.effects(ctx, tx, client, msg)
			if err != nil {
				if domain(err) {
					rej = err
				}
				return err
			}
			cur.Status, cur.Reason, cur.MeasureID = atigip.FlowAccepted, "", mid
			if err := tx.Entities(atigip.KindFlowMessage).Update(ctx, cur); err != nil {
				return err
			}
			return tx.SetCursor(ctx, seqCursor(caseRef), strconv.FormatInt(held.Seq, 10))
		})
		if err != nil && rej == nil {
			return done, err
		}
		if rej != nil {
			err = r.inTx(ctx, func(tx atigip.Tx) error {
				cur, err := atigip.Of[*atigip.FlowMessage](tx).Get(ctx, held.ID)
				if err != nil || cur.Status != atigip.FlowHeld {
					return err
				}
				cur.Status, cur.Reason = atigip.FlowRejected, atigip.ErrorMessage(rej)
				if err := tx.Entities(atigip.KindFlowMessage).Update(ctx, cur); err != nil {
					return err
				}
				if held.Seq == last+1 {
					return moveSeq(ctx, tx, caseRef, held.Seq)
				}
				return nil
			})
			if err != nil {
				return done, err
			}
			continue
		}
		done = append(done, held.MessageID)
	}
}

// Inspect lists stored messages (newest last) for the people who watch
// the flows: rejected ones with their reason, held ones with what they
// wait for; of département dep only, unless dep is "" (every message,
// those whose département is unknown included).
func Inspect(ctx context.Context, s atigip.Store, dep string, statuses []atigip.FlowStatus, after int64, limit int) ([]*atigip.FlowMessage, error) {
	f := atigip.ListFilter{AfterID: after, Limit: limit, Departement: dep}
	for _, st := range statuses {
		if _, ok := atigip.FlowStatuses[st]; !ok {
			return nil, atigip.Errorf(atigip.EINVALID, "Statut de message inconnu : %q.", st)
		}
		f.Status = append(f.Status, string(st))
	}
	slices.Sort(f.Status)
	ms, _, err := atigip.Of[*atigip.FlowMessage](s).List(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("flows: inspect: %w", err)
	}
	if ms == nil {
		ms = []*atigip.FlowMessage{}
	}
	return ms, nil
}
