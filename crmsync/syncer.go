package crmsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/atigip/atigip360/crmsync/axelor"
	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
)

// cursor is the durable sync position, stored under Config.CursorName in
// the same transaction as the data it covers.
type cursor struct {
	// Since is the lower bound of the running pull; zero means full.
	Since time.Time `json:"since"`
	// RunStart becomes the next Since once the pull completes.
	RunStart time.Time `json:"run_start"`
	// AfterID is the last partner id applied; > 0 while a pull runs.
	AfterID int64 `json:"after_id"`
	// Running is true between the first and the last page of a pull.
	Running bool `json:"running"`
	Full    bool `json:"full"`
	// Done is the RunStart of the last complete pull (zero: never).
	Done time.Time `json:"done"`
	// Seq is the change-feed position already scanned for local changes.
	Seq int64 `json:"seq"`
	// Pending are CRM ids whose owned fields must be written back.
	Pending []int64 `json:"pending,omitempty"`
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
	Action string   `json:"action"` // create, update, deactivate, push_attrs, push_coordinates
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
// pages; nothing is lost.
func (s *Syncer) Run(ctx context.Context, opt RunOptions) (rep Report, err error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	rep = Report{StartedAt: s.now().UTC(), DryRun: opt.DryRun}
	s.setRunning(true)
	defer func() {
		rep.Duration = s.now().Sub(rep.StartedAt)
		s.finish(rep, err)
	}()
	if err = s.pull(ctx, opt, &rep); err != nil {
		return rep, err
	}
	if !opt.NoPush {
		err = s.push(ctx, opt, &rep)
	}
	return rep, err
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

func (s *Syncer) pull(ctx context.Context, opt RunOptions, rep *Report) error {
	var cur cursor
	if err := s.store.InTx(ctx, func(tx atigip.Tx) error {
		var err error
		cur, err = readCursor(ctx, tx, s.cfg.CursorName)
		return err
	}); err != nil {
		return fmt.Errorf("crmsync: read cursor: %w", err)
	}
	switch {
	case cur.Running && (!opt.Full || cur.Full):
		rep.Resumed = true // an interrupted pull resumes where it stopped
	case opt.Full || cur.Done.IsZero():
		cur.Since, cur.Full = time.Time{}, true
		cur.RunStart, cur.AfterID, cur.Running = s.now().UTC(), 0, true
	default:
		cur.Since, cur.Full = cur.Done.Add(-s.cfg.Overlap), false
		cur.RunStart, cur.AfterID, cur.Running = s.now().UTC(), 0, true
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
		if last {
			next.Running, next.AfterID, next.Done, next.Since = false, 0, cur.RunStart, time.Time{}
		}
		if err := s.applyPage(ctx, opt, rep, pg.Records, &next); err != nil {
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
		"deactivated", rep.Deactivated, "rejected", rep.Rejected)
	return nil
}

// applyPage upserts one page and moves the cursor in one transaction.
func (s *Syncer) applyPage(ctx context.Context, opt RunOptions, rep *Report, recs []axelor.Record, next *cursor) error {
	type outcome struct {
		created, updated, deactivated, unchanged, rejected, geocoded int
		planned                                                      []Planned
		errors                                                       []string
		pending                                                      []int64
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
			if !isNew && len(changed) == 0 {
				// nothing to write; still check what we owe the CRM
			} else if opt.DryRun {
				out.planned = append(out.planned, Planned{CRMID: p.ID, Action: action, Fields: changed})
			} else {
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
			// What the CRM lacks of ours: decided here, while its values
			// are at hand; open posts are checked in the push phase.
			if mp.geocoded || attrsDiffer(p.Attrs, desiredAttrs(o, 0)) || o.Habilitation.Status != atigip.HabNone {
				out.pending = append(out.pending, p.ID)
			}
		}
		if opt.DryRun {
			return nil
		}
		next.Pending = append(next.Pending, out.pending...)
		return writeCursor(ctx, tx, s.cfg.CursorName, *next)
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
	}
	rep.Seen += len(recs)
	rep.Created += out.created
	rep.Updated += out.updated
	rep.Deactivated += out.deactivated
	rep.Unchanged += out.unchanged
	rep.Rejected += out.rejected
	rep.Geocoded += out.geocoded
	rep.Planned = append(rep.Planned, out.planned...)
	for _, e := range out.errors {
		rep.addError(e)
	}
	s.metrics.pulled(out.created, out.updated, out.deactivated, out.unchanged, out.rejected)
	return nil
}

// localChanges adds to the queue the organisations changed here since the
// last scan (habilitation decided, posts opened or closed), then records
// the new feed position with the queue.
func (s *Syncer) localChanges(ctx context.Context, cur *cursor) error {
	orgIDs := map[int64]bool{}
	postIDs := map[int64]bool{}
	postOrgs := map[int64]bool{}
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
		posts := atigip.Of[*atigip.Post](s.store)
		ids := mapKeys(postIDs)
		if err := posts.Scan(ctx, atigip.ListFilter{IDs: ids}, func(p *atigip.Post) error {
			orgIDs[p.OrganisationID] = true
			postOrgs[p.OrganisationID] = true
			return nil
		}); err != nil {
			return fmt.Errorf("crmsync: scan posts: %w", err)
		}
	}
	if len(orgIDs) > 0 {
		orgs := atigip.Of[*atigip.Organisation](s.store)
		if err := orgs.Scan(ctx, atigip.ListFilter{IDs: mapKeys(orgIDs)}, func(o *atigip.Organisation) error {
			// Organisations with nothing of ours (no habilitation, no open
			// post) were handled by the pull; the others are checked.
			if o.CRMID > 0 && (o.Habilitation.Status != atigip.HabNone && o.Habilitation.Status != "" || postOrgs[o.ID]) {
				cur.Pending = append(cur.Pending, o.CRMID)
			}
			return nil
		}); err != nil {
			return fmt.Errorf("crmsync: scan organisations: %w", err)
		}
	}
	cur.Seq = seq
	return nil
}

func mapKeys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
