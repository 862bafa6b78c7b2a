package crmsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/atigip/atigip360/crmsync/axelor"
	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// cursor is the durable sync position, stored under Config.CursorName in
// the same transaction as the data it covers. Every bound is CRM time:
// the local clock never decides what the CRM changed.
type cursor struct {
	// Since is the lower bound of the running pull (CRM time); zero means full.
	Since time.Time `json:"since"`
	// RunMax is the latest CRM timestamp seen by the running pull.
	RunMax time.Time `json:"run_max"`
	// AfterID is the last partner id applied; > 0 while a pull runs.
	AfterID int64 `json:"after_id"`
	// Running is true between the first and the last page of a pull.
	Running bool `json:"running"`
	Full    bool `json:"full"`
	// Complete is true once a full pull has completed.
	Complete bool `json:"complete"`
	// Bound is the latest CRM timestamp (updatedOn, else createdOn, of a
	// partner, its main address or its e-mail) seen by complete pulls: the
	// next incremental pull reads from Bound - Overlap.
	Bound time.Time `json:"bound"`
	// PulledAt is when (local clock) the last complete pull ended, for lag.
	PulledAt time.Time `json:"pulled_at"`
	// Reconciled is when (local clock) hard deletes were last looked for.
	Reconciled time.Time `json:"reconciled"`
	// Seq is the change-feed position already scanned for local changes.
	Seq int64 `json:"seq"`
	// Pending are CRM ids owed a write-back (a local decision not yet in
	// the CRM, geocoded coordinates the CRM lacks).
	Pending []int64 `json:"pending,omitempty"`
}

// loadCursor reads the committed cursor.
func (s *Syncer) loadCursor(ctx context.Context) (cursor, error) {
	var cur cursor
	err := s.store.InTx(ctx, func(tx atigip.Tx) error {
		var err error
		cur, err = readCursor(ctx, tx, s.cfg.CursorName)
		return err
	})
	if err != nil {
		return cur, fmt.Errorf("crmsync: read cursor: %w", err)
	}
	return cur, nil
}

func readCursor(ctx context.Context, tx atigip.Tx, name string) (cursor, error) {
	var c cursor
	s, err := tx.Cursor(ctx, name)
	if err != nil || s == "" {
		return c, err
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("crmsync: cursor %s: %w", name, err)
	}
	return c, nil
}

func writeCursor(ctx context.Context, tx atigip.Tx, name string, c cursor) error {
	slices.Sort(c.Pending)
	c.Pending = slices.Compact(c.Pending)
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return tx.SetCursor(ctx, name, string(b))
}

// Option customises a Syncer.
type Option func(*Syncer)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Syncer) { s.log = l } }

// WithGeocoder replaces refdata.Geocode.
func WithGeocoder(g Geocoder) Option { return func(s *Syncer) { s.mapper.geocode = g } }

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(s *Syncer) { s.now = now } }

// Syncer runs CRM syncs. Runs never overlap; Status may be called any time.
type Syncer struct {
	cfg    Config
	store  atigip.Store
	client *axelor.Client
	log    *slog.Logger
	mapper mapper
	now    func() time.Time

	runMu   sync.Mutex
	stMu    sync.Mutex
	status  Status
	metrics *metrics
}

// New builds a Syncer.
func New(cfg Config, store atigip.Store, client *axelor.Client, opts ...Option) (*Syncer, error) {
	if store == nil || client == nil {
		return nil, errors.New("crmsync: new: store and client are required")
	}
	if cfg.PageSize <= 0 || cfg.PushWorkers <= 0 || cfg.ConflictRetries <= 0 || cfg.CursorName == "" {
		return nil, atigip.Errorf(atigip.EINVALID, "Configuration de la synchronisation CRM incomplète (utiliser DefaultConfig).")
	}
	s := &Syncer{cfg: cfg, store: store, client: client, log: slog.New(slog.DiscardHandler),
		mapper: mapper{kinds: cfg.CategoryKinds, defaultKind: cfg.DefaultKind, geocode: refdata.Geocode},
		now:    time.Now}
	for _, o := range opts {
		o(s)
	}
	s.metrics = newMetrics(s)
	return s, nil
}

// RunOptions tune one run.
type RunOptions struct {
	// Full re-reads every partner instead of the changes since the cursor.
	Full bool
	// DryRun reads the CRM and the store, writes nothing anywhere and
	// lists what would change in Report.Planned.
	DryRun bool
	// NoPush skips the write-back phase.
	NoPush bool
	// Progress is called after each page and each write-back.
	Progress func(Progress)
}

// Progress reports advancement; Total is the CRM's count for the pull
// phase and the queue length for the push phase.
type Progress struct {
	Phase       string // "pull" or "push"
	Done, Total int64
}

// Planned is one change a dry run would make. It holds ids and field
// names only.
type Planned struct {
	CRMID  int64    `json:"crm_id"`
	Action string   `json:"action"` // create, update, deactivate, deactivate_deleted, push_attrs, push_coordinates
	Fields []string `json:"fields,omitempty"`
}

// Report is the outcome of a run.
type Report struct {
	Full        bool          `json:"full"`
	DryRun      bool          `json:"dry_run"`
	Resumed     bool          `json:"resumed"`
	StartedAt   time.Time     `json:"started_at"`
	Duration    time.Duration `json:"duration"`
	Seen        int           `json:"seen"`
	Created     int           `json:"created"`
	Updated     int           `json:"updated"`
	Deactivated int           `json:"deactivated"`
	Unchanged   int           `json:"unchanged"`
	Rejected    int           `json:"rejected"`
	Geocoded    int           `json:"geocoded"`
	Pushed      int           `json:"pushed"`
	Conflicts   int           `json:"conflicts"`
	PushFailed  int           `json:"push_failed"`
	Adopted     int           `json:"adopted"`    // habilitations taken from the CRM
	Deleted     int           `json:"deleted"`    // hard-deleted partners deactivated
	Reconciled  bool          `json:"reconciled"` // the id reconciliation ran
	Pending     int           `json:"pending"`    // write-backs still owed after the run
	PendingIDs  []int64       `json:"pending_crm_ids,omitempty"`
	Errors      []string      `json:"errors,omitempty"` // French, no personal data
	Planned     []Planned     `json:"planned,omitempty"`
}

func (r *Report) addError(msg string) {
	if len(r.Errors) < 50 {
		r.Errors = append(r.Errors, msg)
	}
}

// Run pulls then pushes once. It resumes an interrupted pull from the
// durable cursor. A cancelled context stops it between two committed
// pages; nothing is lost. A run that leaves write-backs owed returns an
// *IncompleteError listing them (after a dry run or with NoPush, the
// report only counts them). The session, if any, is closed at the end.
func (s *Syncer) Run(ctx context.Context, opt RunOptions) (rep Report, err error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	rep = Report{StartedAt: s.now().UTC(), DryRun: opt.DryRun}
	s.setRunning(true)
	defer func() {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if lerr := s.client.Logout(lctx); lerr != nil {
			s.log.Info("axelor logout failed", "error", lerr)
		}
		cancel()
		rep.Duration = s.now().Sub(rep.StartedAt)
		err = s.finish(&rep, opt, err)
	}()
	openPosts, err := s.openPosts(ctx)
	if err != nil {
		return rep, err
	}
	if err = s.pull(ctx, opt, &rep, openPosts); err != nil {
		return rep, err
	}
	if err = s.reconcile(ctx, opt, &rep); err != nil {
		return rep, err
	}
	if !opt.NoPush {
		err = s.push(ctx, opt, &rep, openPosts)
	}
	return rep, err
}

// openPosts counts the open posts of each organisation.
func (s *Syncer) openPosts(ctx context.Context) (map[int64]int, error) {
	n := map[int64]int{}
	err := atigip.Of[*atigip.Post](s.store).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.PostOpen)}},
		func(p *atigip.Post) error { n[p.OrganisationID]++; return nil })
	if err != nil {
		return nil, fmt.Errorf("crmsync: count open posts: %w", err)
	}
	return n, nil
}

// page reads one page with a few extra attempts on temporary errors: the
// client already retried each request, this covers longer outages
// without ever retrying through an open breaker.
func (s *Syncer) page(ctx context.Context, req axelor.SearchRequest) (*axelor.Page, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var p *axelor.Page
		p, err = s.client.Search(ctx, axelor.ModelPartner, req)
		if err == nil {
			return p, nil
		}
		if !axelor.Temporary(err) || errors.Is(err, axelor.ErrCircuitOpen) || ctx.Err() != nil {
			return nil, err
		}
	}
	return nil, err
}

func (s *Syncer) pull(ctx context.Context, opt RunOptions, rep *Report, openPosts map[int64]int) error {
	cur, err := s.loadCursor(ctx)
	if err != nil {
		return err
	}
	switch {
	case cur.Running && (!opt.Full || cur.Full):
		rep.Resumed = true // an interrupted pull resumes where it stopped
	case opt.Full || !cur.Complete:
		cur.Since, cur.Full = time.Time{}, true
		cur.RunMax, cur.AfterID, cur.Running = time.Time{}, 0, true
	default:
		// The bound is the CRM's own latest timestamp, never our clock: a
		// CRM whose clock is behind ours stamps changes "in our past".
		cur.Since, cur.Full = time.Time{}, false
		if !cur.Bound.IsZero() {
			cur.Since = cur.Bound.Add(-s.cfg.Overlap)
		}
		cur.RunMax, cur.AfterID, cur.Running = time.Time{}, 0, true
	}
	rep.Full = cur.Full
	s.log.Info("crm pull start", "full", cur.Full, "resumed", rep.Resumed, "after_id", cur.AfterID)
	var done int64
	for {
		crit := axelor.And(axelor.Gt("id", cur.AfterID), axelor.Eq("isContact", false))
		if !cur.Since.IsZero() {
			// A partner counts as changed when it, its main address or its
			// e-mail record changed: Hibernate does not bump the partner for
			// an edit of the address alone.
			crit.Children = append(crit.Children, axelor.Or(
				axelor.ChangedSince(cur.Since),
				axelor.ChangedSinceOn("mainAddress", cur.Since),
				axelor.ChangedSinceOn("emailAddress", cur.Since)))
		}
		pg, err := s.page(ctx, axelor.SearchRequest{Limit: s.cfg.PageSize, Criteria: &crit,
			Fields: partnerFields, SortBy: []string{"id"}, Archived: true})
		if err != nil {
			return fmt.Errorf("crmsync: pull: %w", err)
		}
		last := int64(len(pg.Records)) >= pg.Total
		next := cur
		if len(pg.Records) > 0 {
			next.AfterID = pg.Records[len(pg.Records)-1].ID()
		}
		if err := s.applyPage(ctx, opt, rep, pg.Records, &next, last, openPosts); err != nil {
			return err
		}
		cur = next
		done += int64(len(pg.Records))
		if opt.Progress != nil {
			opt.Progress(Progress{Phase: "pull", Done: done, Total: done + pg.Total - int64(len(pg.Records))})
		}
		if last {
			break
		}
	}
	s.log.Info("crm pull done", "seen", rep.Seen, "created", rep.Created, "updated", rep.Updated,
		"deactivated", rep.Deactivated, "rejected", rep.Rejected, "adopted", rep.Adopted)
	return nil
}

// completePull moves a cursor whose last page is applied to "done".
func completePull(c *cursor, now time.Time) {
	if c.Full {
		c.Complete = true
	}
	if c.RunMax.After(c.Bound) {
		c.Bound = c.RunMax
	}
	c.Running, c.AfterID, c.Since, c.RunMax = false, 0, time.Time{}, time.Time{}
	c.PulledAt = now
}

// applyPage upserts one page and moves the cursor in one transaction;
// when last, the pull completes with it.
func (s *Syncer) applyPage(ctx context.Context, opt RunOptions, rep *Report, recs []axelor.Record, next *cursor, last bool, openPosts map[int64]int) error {
	type outcome struct {
		created, updated, deactivated, unchanged, rejected, geocoded, adopted int
		planned                                                               []Planned
		errors                                                                []string
		pending                                                               []int64
		max                                                                   time.Time
	}
	var out outcome
	fn := func(tx atigip.Tx) error {
		out = outcome{}
		orgs := atigip.Of[*atigip.Organisation](tx)
		for _, r := range recs {
			p, err := ParsePartner(r)
			if err != nil {
				out.rejected++
				out.errors = append(out.errors, fmt.Sprintf("partenaire CRM %d illisible : %v", r.ID(), err))
				continue
			}
			if p.Stamp.After(out.max) {
				out.max = p.Stamp
			}
			mp := s.mapper.compute(p)
			found, _, err := orgs.List(ctx, atigip.ListFilter{Ref: "crm:" + strconv.FormatInt(p.ID, 10), Limit: 1})
			if err != nil {
				return fmt.Errorf("crmsync: find organisation: %w", err)
			}
			var o *atigip.Organisation
			isNew := len(found) == 0
			if isNew {
				o = &atigip.Organisation{Habilitation: atigip.Habilitation{Status: atigip.HabNone}}
			} else {
				o = found[0]
			}
			wasActive := o.Active
			changed := mp.apply(p, o)
			// Our fields: pushed only when decided here since the last
			// agreement, otherwise the CRM's habilitation is adopted.
			base, err := readProvenance(ctx, tx, s.cfg.CursorName, p.ID)
			if err != nil {
				return err
			}
			local := localOwned(o, openPosts[o.ID])
			want, adopt, agreed := merge(base, local, crmOwned(p.Attrs))
			owed := want != crmOwned(p.Attrs)
			if adopt {
				crmOwned(p.Attrs).adopt(o)
				changed = append(changed, "habilitation")
				out.adopted++
			}
			if owed {
				agreed = base // the agreement moves once the push lands
			}
			if mp.geocoded {
				out.geocoded++
			}
			action := "update"
			switch {
			case isNew:
				action = "create"
			case len(changed) == 0:
				out.unchanged++
			case wasActive && !o.Active:
				action = "deactivate"
			}
			switch {
			case !isNew && len(changed) == 0:
				// nothing to write; still check what we owe the CRM
			case opt.DryRun:
				out.planned = append(out.planned, Planned{CRMID: p.ID, Action: action, Fields: changed})
			default:
				var werr error
				if isNew {
					werr = orgs.Create(ctx, o)
				} else {
					werr = orgs.Update(ctx, o)
				}
				if werr != nil {
					if atigip.ErrorCode(werr) == atigip.EINVALID {
						out.rejected++
						out.errors = append(out.errors, fmt.Sprintf("partenaire CRM %d refusé : %s", p.ID, atigip.ErrorMessage(werr)))
						continue
					}
					return fmt.Errorf("crmsync: store organisation: %w", werr)
				}
			}
			if !opt.DryRun && agreed != base {
				if err := writeProvenance(ctx, tx, s.cfg.CursorName, p.ID, agreed); err != nil {
					return err
				}
			}
			if len(changed) > 0 || isNew {
				switch action {
				case "create":
					out.created++
				case "deactivate":
					out.deactivated++
				default:
					out.updated++
				}
			}
			if owed || mp.geocoded {
				out.pending = append(out.pending, p.ID)
			}
		}
		if opt.DryRun {
			return nil
		}
		c := *next
		c.Pending = append(slices.Clone(c.Pending), out.pending...)
		if out.max.After(c.RunMax) {
			c.RunMax = out.max
		}
		if last {
			completePull(&c, s.now().UTC())
		}
		if err := writeCursor(ctx, tx, s.cfg.CursorName, c); err != nil {
			return err
		}
		*next = c
		return nil
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if opt.DryRun {
			err = fn(s.store)
		} else {
			err = s.store.InTx(ctx, fn)
		}
		// a concurrent local edit of the same organisation: redo the page
		if atigip.ErrorCode(err) != atigip.ECONFLICT {
			break
		}
	}
	if err != nil {
		return err
	}
	if opt.DryRun {
		next.Pending = append(next.Pending, out.pending...)
		if last {
			completePull(next, s.now().UTC())
		}
	}
	rep.Seen += len(recs)
	rep.Created += out.created
	rep.Updated += out.updated
	rep.Deactivated += out.deactivated
	rep.Unchanged += out.unchanged
	rep.Rejected += out.rejected
	rep.Geocoded += out.geocoded
	rep.Adopted += out.adopted
	rep.Planned = append(rep.Planned, out.planned...)
	for _, e := range out.errors {
		rep.addError(e)
	}
	s.metrics.pulled(out.created, out.updated, out.deactivated, out.unchanged, out.rejected)
	return nil
}

// localChanges adds to the queue the organisations whose fields of ours
// changed here since the last agreement (habilitation decided, posts
// opened or closed), found through the change feed since the last scan,
// then records the new feed position with the queue.
func (s *Syncer) localChanges(ctx context.Context, tx atigip.Tx, cur *cursor, openPosts map[int64]int) error {
	orgIDs := map[int64]bool{}
	postIDs := map[int64]bool{}
	seq := cur.Seq
	for {
		cs, err := s.store.Changes(ctx, seq, 1000)
		if err != nil {
			return fmt.Errorf("crmsync: change feed: %w", err)
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			switch c.Kind {
			case atigip.KindOrganisation:
				orgIDs[c.ID] = true
			case atigip.KindPost:
				postIDs[c.ID] = true
			}
		}
		seq = cs[len(cs)-1].Seq
	}
	if len(postIDs) > 0 {
		if err := atigip.Of[*atigip.Post](tx).Scan(ctx, atigip.ListFilter{IDs: mapKeys(postIDs)}, func(p *atigip.Post) error {
			orgIDs[p.OrganisationID] = true
			return nil
		}); err != nil {
			return fmt.Errorf("crmsync: scan posts: %w", err)
		}
	}
	if len(orgIDs) > 0 {
		var changed []*atigip.Organisation
		if err := atigip.Of[*atigip.Organisation](tx).Scan(ctx, atigip.ListFilter{IDs: mapKeys(orgIDs)}, func(o *atigip.Organisation) error {
			if o.CRMID > 0 {
				changed = append(changed, o)
			}
			return nil
		}); err != nil {
			return fmt.Errorf("crmsync: scan organisations: %w", err)
		}
		for _, o := range changed {
			base, err := readProvenance(ctx, tx, s.cfg.CursorName, o.CRMID)
			if err != nil {
				return err
			}
			if local := localOwned(o, openPosts[o.ID]); !local.sameHab(base.Local) || local.Posts != base.Local.Posts {
				cur.Pending = append(cur.Pending, o.CRMID)
			}
		}
	}
	cur.Seq = seq
	return nil
}

func mapKeys[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
