package flows

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// outCursor names the cursor of the last outbound sequence number of a
// measure; ackCursor the outbox position APPI acknowledged.
func outCursor(measureID int64) string { return "flows:out:" + strconv.FormatInt(measureID, 10) }

const ackCursor = "flows:outbox:acked"

func lastOutSeq(ctx context.Context, tx atigip.Tx, measureID int64) (int64, error) {
	v, err := tx.Cursor(ctx, outCursor(measureID))
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("flows: outbound cursor %q: %w", v, err)
	}
	return n, nil
}

// QueueProposal queues the FFS12 proposal of m inside tx, the transaction
// of the transition to proposed: the proposal is sent if and only if the
// transition is stored. It implements workflow.ProposalQueue.
func QueueProposal(ctx context.Context, tx atigip.Tx, m *atigip.Measure, post *atigip.Post, at time.Time) error {
	if m.CaseRef == "" {
		return atigip.Errorf(atigip.ECONFLICT, "La mesure n'a pas de numéro APPI : la proposition ne peut pas être transmise au juge.")
	}
	person, err := atigip.Of[*atigip.Person](tx).Get(ctx, m.PersonID)
	if err != nil {
		return fmt.Errorf("flows: queue proposal: %w", err)
	}
	org, err := atigip.Of[*atigip.Organisation](tx).Get(ctx, post.OrganisationID)
	if err != nil {
		return fmt.Errorf("flows: queue proposal: %w", err)
	}
	last, err := lastOutSeq(ctx, tx, m.ID)
	if err != nil {
		return err
	}
	seq := last + 1
	proposedBy := ""
	if n := len(m.History); n > 0 {
		proposedBy = m.History[n-1].By
	}
	msg := FFS12{MessageID: fmt.Sprintf("FFS12-%d-%d", m.ID, seq), Type: atigip.FFS12, CaseRef: m.CaseRef, Seq: seq,
		MeasureID: m.ID, Person: FFS12Person{CaseRef: person.CaseRef, Pseudonym: person.Pseudonym},
		Post: FFS12Post{ID: post.ID, Title: post.Title, Organisation: org.Name,
			Address: atigip.Address{Postcode: post.Address.Postcode, City: post.Address.City, Commune: post.Address.Commune,
				Departement: post.Address.Departement},
			HoursPerWeek: post.Schedule.HoursPerWeek()},
		StartDate: m.StartDate, ProposedBy: proposedBy, ProposedAt: at.UTC()}
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("flows: queue proposal: %w", err)
	}
	rec := &atigip.FlowMessage{MessageID: msg.MessageID, Direction: atigip.FlowOut, Type: atigip.FFS12, Status: atigip.FlowPending,
		CaseRef: m.CaseRef, MeasureID: m.ID, Seq: seq, Body: string(body), Departement: m.Departement, At: at.UTC()}
	if err := tx.Entities(atigip.KindFlowMessage).Create(ctx, rec); err != nil {
		return fmt.Errorf("flows: queue proposal: %w", err)
	}
	return tx.SetCursor(ctx, outCursor(m.ID), strconv.FormatInt(seq, 10))
}

// OutMessage is one outbox entry as polled.
type OutMessage struct {
	// Position orders the outbox: poll with after=Position of the last one
	// processed, acknowledge with up_to=Position.
	Position int64             `json:"position"`
	Status   atigip.FlowStatus `json:"status"`
	Message  json.RawMessage   `json:"message"`
}

// OutPage is one poll of the outbox.
type OutPage struct {
	Items []OutMessage `json:"items"`
	// Acked is the position APPI last acknowledged; Next is the after= of
	// the next poll.
	Acked int64 `json:"acked"`
	Next  int64 `json:"next"`
}

// Poll returns up to limit outbound messages after position after (after
// < 0: after the last acknowledged one), in order. Positions follow commit
// order on both stores, so in particular the proposals of one measure come
// in their order; a message is returned until acknowledged (at least once).
func Poll(ctx context.Context, s atigip.Store, after int64, limit int) (OutPage, error) {
	acked, err := ackedPos(ctx, s)
	if err != nil {
		return OutPage{}, err
	}
	if after < 0 {
		after = acked
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	ms, _, err := atigip.Of[*atigip.FlowMessage](s).List(ctx, atigip.ListFilter{
		Status: []string{string(atigip.FlowAcked), string(atigip.FlowPending)}, AfterID: after, Limit: limit})
	if err != nil {
		return OutPage{}, fmt.Errorf("flows: poll: %w", err)
	}
	page := OutPage{Items: []OutMessage{}, Acked: acked, Next: after}
	for _, m := range ms {
		page.Items = append(page.Items, OutMessage{Position: m.ID, Status: m.Status, Message: json.RawMessage(m.Body)})
		page.Next = m.ID
	}
	return page, nil
}

func ackedPos(ctx context.Context, tx atigip.Tx) (int64, error) {
	v, err := tx.Cursor(ctx, ackCursor)
	if err != nil {
		return 0, fmt.Errorf("flows: outbox cursor: %w", err)
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("flows: outbox cursor %q: %w", v, err)
	}
	return n, nil
}

// Ack acknowledges every outbound message up to position upTo
// (cumulative, which keeps the order per measure) and returns how many
// were newly acknowledged. Acknowledging again is harmless.
func Ack(ctx context.Context, s atigip.Store, upTo int64, at time.Time) (int, error) {
	n := 0
	err := s.InTx(ctx, func(tx atigip.Tx) error {
		acked, err := ackedPos(ctx, tx)
		if err != nil {
			return err
		}
		if upTo <= acked {
			return nil
		}
		out := atigip.Of[*atigip.FlowMessage](tx)
		pending, err := out.All(ctx, atigip.ListFilter{Status: []string{string(atigip.FlowPending)}, AfterID: acked})
		if err != nil {
			return err
		}
		last := acked
		for _, m := range pending {
			if m.ID > upTo {
				break
			}
			t := at.UTC()
			m.Status, m.AckedAt = atigip.FlowAcked, &t
			if err := tx.Entities(atigip.KindFlowMessage).Update(ctx, m); err != nil {
				return err
			}
			last, n = m.ID, n+1
		}
		if n == 0 || last != upTo {
			// Only positions of the outbox may be acknowledged: a position
			// beyond it would skip messages not yet read.
			if exists, err := isOut(ctx, tx, upTo); err != nil || !exists {
				if err != nil {
					return err
				}
				return atigip.Errorf(atigip.EINVALID, "Position %d inconnue dans la file des messages sortants.", upTo)
			}
		}
		return tx.SetCursor(ctx, ackCursor, strconv.FormatInt(upTo, 10))
	})
	if err != nil {
		return 0, fmt.Errorf("flows: ack: %w", err)
	}
	return n, nil
}

func isOut(ctx context.Context, tx atigip.Tx, id int64) (bool, error) {
	m, err := atigip.Of[*atigip.FlowMessage](tx).Get(ctx, id)
	if atigip.ErrorCode(err) == atigip.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return m.Direction == atigip.FlowOut, nil
}

// HashKey returns the form in which a machine client's API key is kept in
// configuration: "sha256:" and the hex digest. Keys are long random
// values, so a plain digest suffices (no password stretching).
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Clients are the machine clients allowed on the flows, by name, with the
// hash of their API key (HashKey). They are authenticated apart from
// people: a person's token, whatever its role, is not a flows credential.
type Clients map[string]string

// ParseClients reads "name=sha256:hex,name2=sha256:hex" (configuration).
func ParseClients(s string) (Clients, error) {
	c := Clients{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, hash, ok := strings.Cut(part, "=")
		digest, isSHA := strings.CutPrefix(hash, "sha256:")
		if b, err := hex.DecodeString(digest); !ok || name == "" || !isSHA || err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("flows: client %q: want name=sha256:<64 hex digits>", name)
		}
		c[name] = hash
	}
	return c, nil
}

// Authenticate returns the case-system principal of the client whose key
// this is. Every client is compared in constant time.
func (c Clients) Authenticate(key string) (atigip.Principal, error) {
	if key == "" {
		return atigip.Principal{}, atigip.Errorf(atigip.EUNAUTHORIZED, "Clé d'API du client machine absente (en-tête X-API-Key).")
	}
	got := []byte(HashKey(key))
	found := ""
	for name, want := range c {
		if subtle.ConstantTimeCompare(got, []byte(want)) == 1 {
			found = name
		}
	}
	if found == "" {
		return atigip.Principal{}, atigip.Errorf(atigip.EUNAUTHORIZED, "Clé d'API du client machine inconnue.")
	}
	return atigip.Principal{Subject: "client:" + found, Role: atigip.RoleCaseSystem, Name: found}, nil
}
