package atigip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ListFilter selects entities of one kind. Zero fields do not filter.
type ListFilter struct {
	Departement string
	Commune     string
	Status      []string // any of
	Parent      int64
	// Owner selects the records about one person (Keys.Owner).
	Owner int64
	// ROME is a ROME code ("A1203") or a domain letter ("A").
	ROME       string
	PublicOnly bool
	Ref        string
	IDs        []int64
	// AfterID gives keyset pagination (ascending id); Offset and Limit give
	// page pagination. Limit 0 means the store's default (50) in List and
	// no limit in Scan.
	AfterID int64
	Offset  int
	Limit   int
}

// Entities is the kind-erased collection that store adapters implement
// once for every kind; Collection gives it back its type.
type Entities interface {
	Get(ctx context.Context, id int64) (Entity, error)
	// Create validates e, then sets its ID, Version 1 and timestamps.
	Create(ctx context.Context, e Entity) error
	// CreateMany is Create for a batch, in one transaction, as fast as the
	// adapter can (seeding, imports).
	CreateMany(ctx context.Context, es []Entity) error
	// Update validates e and stores it if e.Version is the stored version,
	// else fails with ECONFLICT; on success e.Version is incremented.
	Update(ctx context.Context, e Entity) error
	// Delete removes the entity at that version, else ECONFLICT.
	Delete(ctx context.Context, id, version int64) error
	// List returns one page and the total count matching f.
	List(ctx context.Context, f ListFilter) ([]Entity, int, error)
	// Scan calls fn for every match in ascending id, streaming.
	Scan(ctx context.Context, f ListFilter, fn func(Entity) error) error
}

// Tx is what can be done inside one transaction.
type Tx interface {
	Entities(k Kind) Entities
	// Cursor reads a named durable value ("" when unset): CRM sync and
	// flow positions, stored in the same transaction as the data they cover.
	Cursor(ctx context.Context, name string) (string, error)
	SetCursor(ctx context.Context, name, value string) error
	// Audit records an access to personal data.
	Audit(ctx context.Context, a AuditEntry) error
}

// Store is the system of record. Its Tx methods run each in their own
// transaction.
type Store interface {
	Tx
	// InTx runs fn in one transaction: committed if fn returns nil,
	// rolled back otherwise.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Changes returns up to limit changes with Seq > after, in Seq order.
	// Seq values are committed in order: a follower that saw Seq n will
	// never later find a change below n.
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)
	LastSeq(ctx context.Context) (int64, error)
	// Subscribe signals (coalesced) after commits that added changes, from
	// this process or, on PostgreSQL, any instance.
	Subscribe() (signal <-chan struct{}, cancel func())
	Audits(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	Migrate(ctx context.Context) error
	Ping(ctx context.Context) error
	Close() error
}

// AuditBatcher is a store that records many audit entries in one
// transaction faster than one by one (the audit log's group commit).
type AuditBatcher interface {
	AuditMany(ctx context.Context, as []AuditEntry) error
}

// Op is what a change did.
type Op string

// Change operations.
const (
	OpCreate Op = "create"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
)

// Change is one entry of the change feed.
type Change struct {
	Seq     int64     `json:"seq"`
	Kind    Kind      `json:"kind"`
	ID      int64     `json:"id"`
	Op      Op        `json:"op"`
	Version int64     `json:"version"`
	At      time.Time `json:"at"`
}

// AuditEntry records who read or changed a person's data, and why. It holds
// ids, never the data itself.
type AuditEntry struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Subject  string    `json:"subject"`
	Role     Role      `json:"role"`
	Action   string    `json:"action"` // read, list, create, update, delete, match…
	Kind     Kind      `json:"kind"`
	EntityID int64     `json:"entity_id,omitempty"`
	Count    int       `json:"count,omitempty"` // entities returned by a list
	Detail   string    `json:"detail,omitempty"`
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Kind     Kind
	EntityID int64
	Subject  string
	Limit    int
}

// Collection is a typed view of Entities.
type Collection[T Entity] struct{ Entities }

// Of returns the typed collection of T's kind in tx.
func Of[T Entity](tx Tx) Collection[T] {
	var zero T
	return Collection[T]{tx.Entities(kindOf(zero))}
}

func kindOf(e Entity) Kind {
	// Kind methods do not read their receiver, so a nil pointer works.
	return e.Kind()
}

// Get returns the entity id or ENOTFOUND.
func (c Collection[T]) Get(ctx context.Context, id int64) (T, error) {
	e, err := c.Entities.Get(ctx, id)
	if err != nil {
		var zero T
		return zero, err
	}
	return e.(T), nil
}

// List returns one page and the total.
func (c Collection[T]) List(ctx context.Context, f ListFilter) ([]T, int, error) {
	es, total, err := c.Entities.List(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	out := make([]T, len(es))
	for i, e := range es {
		out[i] = e.(T)
	}
	return out, total, nil
}

// Scan streams every match.
func (c Collection[T]) Scan(ctx context.Context, f ListFilter, fn func(T) error) error {
	return c.Entities.Scan(ctx, f, func(e Entity) error { return fn(e.(T)) })
}

// All returns every match (for in-memory engines: tiles, matching).
func (c Collection[T]) All(ctx context.Context, f ListFilter) ([]T, error) {
	var out []T
	err := c.Scan(ctx, f, func(t T) error { out = append(out, t); return nil })
	return out, err
}

// CreateMany creates a typed batch.
func (c Collection[T]) CreateMany(ctx context.Context, ts []T) error {
	es := make([]Entity, len(ts))
	for i, t := range ts {
		es[i] = t
	}
	return c.Entities.CreateMany(ctx, es)
}

// Follow calls fn with every batch of changes after seq from, in order,
// until ctx ends; it returns the first error of fn or of the store. It
// wakes on the store's signal and also polls every poll interval, so a
// lost signal delays a change by at most poll.
func Follow(ctx context.Context, s Store, from int64, batch int, poll time.Duration, fn func([]Change) error) error {
	return follow(ctx, s, from, batch, poll, fn, nil)
}

// follow is Follow, calling caughtUp (when not nil) each time the feed
// has been read to its end.
func follow(ctx context.Context, s Store, from int64, batch int, poll time.Duration, fn func([]Change) error, caughtUp func()) error {
	signal, cancel := s.Subscribe()
	defer cancel()
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		for {
			cs, err := s.Changes(ctx, from, batch)
			if err != nil {
				return fmt.Errorf("atigip: follow changes: %w", err)
			}
			if len(cs) == 0 {
				break
			}
			if err := fn(cs); err != nil {
				return err
			}
			from = cs[len(cs)-1].Seq
		}
		if caughtUp != nil {
			caughtUp()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-signal:
		case <-ticker.C:
		}
	}
}

// Follower retry delays: doubled after each failure in a row, so that a
// database restart is noticed within a second and a long outage costs
// one attempt every few seconds.
const (
	followMinBackoff = 100 * time.Millisecond
	followMaxBackoff = 5 * time.Second
)

// Follower keeps an engine (tiles, search) in step with the change feed
// through database outages: Run retries after any failure, resuming from
// the engine's own position, and never gives up before its context ends.
// Ready tells readiness checks whether the engine has read the feed to its
// end since its last failure.
type Follower struct {
	Name  string // for messages: "tiles", "search"
	Store Store
	Batch int
	Poll  time.Duration
	// Seq returns the last position applied: where a retry resumes.
	Seq func() int64
	// Apply applies one batch. It must leave the engine unchanged, with
	// Seq before the batch, when it fails, so that the retry redoes it.
	Apply func(ctx context.Context, cs []Change) error
	// OnError, when not nil, is told every failure and the delay before
	// the retry (for the logs).
	OnError func(err error, retry time.Duration)
	// Rebuild, when not nil, reloads the engine from the store (Seq then
	// returns the position it stands at): it is called when the feed was
	// pruned past Seq, so that the missing changes cannot be replayed.
	Rebuild func(ctx context.Context) error

	mu       sync.Mutex
	caughtUp bool
	err      error
	reported time.Time
}

// FollowerReportEvery is how often a follower records its position for
// the feed's retention (FeedPruner).
const FollowerReportEvery = 30 * time.Second

// instanceID tells this process's followers from other instances'.
var instanceID = func() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// errPrunedPast says that the feed was pruned past a follower.
var errPrunedPast = errors.New("change feed pruned past the follower: rebuild from the store")

// checkHorizon rebuilds the engine when the feed was pruned past it.
func (f *Follower) checkHorizon(ctx context.Context) error {
	p, ok := f.Store.(FeedPruner)
	if !ok {
		return nil
	}
	h, err := p.PrunedSeq(ctx)
	if err != nil {
		return fmt.Errorf("atigip: %s: pruned seq: %w", f.Name, err)
	}
	if f.Seq() >= h {
		return nil
	}
	if f.Rebuild == nil {
		return fmt.Errorf("atigip: %s at seq %d, pruned up to %d: %w", f.Name, f.Seq(), h, errPrunedPast)
	}
	if err := f.Rebuild(ctx); err != nil {
		return fmt.Errorf("atigip: %s: rebuild after pruning: %w", f.Name, err)
	}
	return nil
}

// report records the follower's position for the feed's retention, at
// most every FollowerReportEvery, and checks the feed was not pruned past
// it meanwhile (a follower silent for longer than the retention).
func (f *Follower) report(ctx context.Context) error {
	p, ok := f.Store.(FeedPruner)
	if !ok || time.Since(f.reported) < FollowerReportEvery {
		return nil
	}
	seq := f.Seq()
	if err := p.ReportPosition(ctx, instanceID+"/"+f.Name, seq); err != nil {
		return fmt.Errorf("atigip: %s: report position: %w", f.Name, err)
	}
	f.reported = time.Now()
	if h, err := p.PrunedSeq(ctx); err != nil {
		return fmt.Errorf("atigip: %s: pruned seq: %w", f.Name, err)
	} else if seq < h {
		return fmt.Errorf("atigip: %s at seq %d, pruned up to %d: %w", f.Name, seq, h, errPrunedPast)
	}
	return nil
}

// Run follows the feed until ctx ends and returns ctx's error.
func (f *Follower) Run(ctx context.Context) error {
	backoff := followMinBackoff
	for {
		err := f.checkHorizon(ctx)
		if err == nil {
			err = follow(ctx, f.Store, f.Seq(), f.Batch, f.Poll, func(cs []Change) error {
				if err := f.Apply(ctx, cs); err != nil {
					return err
				}
				backoff = followMinBackoff // progress: the next failure retries quickly
				return f.report(ctx)
			}, func() {
				f.set(true, nil)
				backoff = followMinBackoff
			})
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f.set(false, err)
		if f.OnError != nil {
			f.OnError(err, backoff)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, followMaxBackoff)
	}
}

func (f *Follower) set(caughtUp bool, err error) {
	f.mu.Lock()
	f.caughtUp, f.err = caughtUp, err
	f.mu.Unlock()
}

// Ready returns nil once the follower has read the feed to its end and has
// not failed since, else an EUNAVAILABLE error saying why.
func (f *Follower) Ready() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.err != nil:
		return &Error{Code: EUNAVAILABLE, Message: "Mise à jour en direct interrompue : reprise en cours.",
			Err: fmt.Errorf("%s: %w", f.Name, f.err)}
	case !f.caughtUp:
		return &Error{Code: EUNAVAILABLE, Message: "Rattrapage des dernières modifications en cours.",
			Err: fmt.Errorf("%s: catching up", f.Name)}
	}
	return nil
}
