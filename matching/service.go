package matching

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// Source is what a Service reads of the store: atigip.Store has it.
type Source interface {
	atigip.Tx
	LastSeq(ctx context.Context) (int64, error)
	Changes(ctx context.Context, after int64, limit int) ([]atigip.Change, error)
}

// Load reads everything an engine needs from the store.
func Load(ctx context.Context, tx atigip.Tx) (Data, error) {
	d := Data{AllOrganisations: true}
	err := scanSources(ctx, tx, func(x atigip.Entity) error {
		switch r := x.(type) {
		case *atigip.Organisation:
			d.Organisations = append(d.Organisations, r)
		case *atigip.Measure:
			d.Measures = append(d.Measures, r)
		case *atigip.Post:
			d.Posts = append(d.Posts, r)
		case *atigip.Offer:
			d.Offers = append(d.Offers, r)
		case *atigip.Application:
			d.Applications = append(d.Applications, r)
		case *atigip.Person:
			d.People = append(d.People, r)
		}
		return nil
	})
	return d, err
}

// Build builds an engine while it scans the store, holding one record at
// a time rather than all of them (Load then New): at ten times the
// country the records weigh twice the engine. Each is also given every
// person read (nil: none), for what a caller keeps beside the engine.
func Build(ctx context.Context, tx atigip.Tx, o Options, each func(*atigip.Person)) (*Engine, error) {
	b, err := NewBuilder(o, true)
	if err != nil {
		return nil, err
	}
	err = scanSources(ctx, tx, func(x atigip.Entity) error {
		if p, ok := x.(*atigip.Person); ok && each != nil {
			each(p)
		}
		return b.Add(x)
	})
	if err != nil {
		return nil, err
	}
	return b.Engine(), nil
}

// scanSources calls fn for every record an engine reads, kind after kind
// in the order a Builder takes them, each kind in ascending id.
func scanSources(ctx context.Context, tx atigip.Tx, fn func(atigip.Entity) error) error {
	sources := []struct {
		kind atigip.Kind
		f    atigip.ListFilter
		name string
	}{
		{atigip.KindOrganisation, atigip.ListFilter{}, "organisations"},
		{atigip.KindMeasure, atigip.ListFilter{}, "measures"},
		{atigip.KindPost, atigip.ListFilter{}, "posts"},
		{atigip.KindOffer, atigip.ListFilter{}, "offers"},
		// Accepted applications are the detainees' current contracts.
		{atigip.KindApplication, atigip.ListFilter{Status: []string{string(atigip.AppAccepted)}}, "contracts"},
		{atigip.KindPerson, atigip.ListFilter{}, "people"},
	}
	for _, src := range sources {
		if err := tx.Entities(src.kind).Scan(ctx, src.f, fn); err != nil {
			return fmt.Errorf("matching: load %s: %w", src.name, err)
		}
	}
	return nil
}

// ErrClosed is returned by a Service after Close (or the end of the
// context given to Start): the process is stopping.
var ErrClosed = errors.New("matching: service closed")

// ServiceOptions configure a Service.
type ServiceOptions[S any] struct {
	// Config and Text are those of every engine built (Options).
	Config *Config
	Text   TextScorer
	// MaxAge is the least age of a snapshot before a change triggers a
	// rebuild (default 30 s; negative: rebuild on every change, for tests).
	MaxAge time.Duration
	// Scope keeps, of each person, what the caller reads next to the
	// engine (the facts its perimeter rules read), so that no person
	// record is held; nil keeps nothing.
	Scope func(*atigip.Person) S
	// Logger receives the failures of background builds and jobs (nil:
	// slog.Default).
	Logger *slog.Logger
	// AfterBuild, when set, runs after each full build: a server that
	// governs its memory gives the build's garbage back there (it is as
	// large as the engine: every record read).
	AfterBuild func()
}

// Snapshot is an immutable engine over one state of the store.
type Snapshot[S any] struct {
	Engine *Engine
	// Facts holds ServiceOptions.Scope of each person, by id.
	Facts   map[int64]S
	Seq     int64     // the last change reflected (built or patched)
	BuiltAt time.Time // of the last full build
}

// Service keeps a matching snapshot following the store's change feed and
// runs global assignment jobs over it, in goroutines that Close (or the
// end of the context given to Start) cancels and waits for.
//
// Freshness: a caller that finds the change feed ahead of the snapshot
// patches it first (Engine.Patch over the changed records, milliseconds at
// national size), so a change that makes a pair unlawful is reflected in
// that very answer. What only the scores read follows at the next full
// build, started in the background once the build is older than MaxAge,
// or at once when the changes cannot be patched. At most one build runs at
// a time; a caller that comes before the first one is ready waits for it,
// never starts another.
type Service[S any] struct {
	src Source
	o   ServiceOptions[S]
	log *slog.Logger
	// assign runs the optimal assignment of a job and its baseline:
	// Engine.AssignWithBaseline, but for tests of the job lifecycle.
	assign func(e *Engine, ctx context.Context, req AssignRequest, progress Progress) (*Result, *Stats, error)

	ctx    context.Context // cancelled at Close: every build and job derives from it
	cancel context.CancelFunc
	lifeMu sync.Mutex // guards closed and the wg.Add that follow it
	closed bool
	wg     sync.WaitGroup

	mu      sync.Mutex
	snap    *Snapshot[S]
	pending *snapshotBuild[S] // the build in flight, nil when none

	jobsMu  sync.Mutex
	jobs    map[string]*job
	order   []string
	nextJob int
}

// NewService returns a service reading src; nothing runs until the first
// Snapshot or Start.
func NewService[S any](src Source, o ServiceOptions[S]) *Service[S] {
	s := &Service[S]{src: src, o: o, log: o.Logger, assign: (*Engine).AssignWithBaseline, jobs: map[string]*job{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Start ties the service to ctx (the server's lifetime: its end closes
// the service) and starts building the first snapshot in the background,
// so that the first request does not wait for a national build (about ten
// seconds). It returns at once; calling it after a snapshot exists only
// ties the lifetime.
func (s *Service[S]) Start(ctx context.Context) {
	context.AfterFunc(ctx, s.shutdown)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snap == nil {
		s.startBuild()
	}
}

// Close cancels the build and the jobs running and returns once their
// goroutines have ended. Snapshot and StartJob then fail with ErrClosed.
func (s *Service[S]) Close() {
	s.shutdown()
	s.wg.Wait()
}

func (s *Service[S]) shutdown() {
	s.lifeMu.Lock()
	s.closed = true
	s.lifeMu.Unlock()
	s.cancel()
}

// spawn runs fn in a goroutine that Close waits for, unless the service
// is closed.
func (s *Service[S]) spawn(fn func()) bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

// NewSnapshot builds the engine over d (today when the date is zero) at
// feed position seq and keeps, of d, only what Scope returns.
func (s *Service[S]) NewSnapshot(d Data, today atigip.Date, seq int64) (*Snapshot[S], error) {
	e, err := New(d, Options{Config: s.o.Config, Text: s.o.Text, Today: today})
	if err != nil {
		return nil, err
	}
	facts := make(map[int64]S, len(d.People))
	if s.o.Scope != nil {
		for _, p := range d.People {
			facts[p.ID] = s.o.Scope(p)
		}
	}
	return &Snapshot[S]{Engine: e, Facts: facts, Seq: seq, BuiltAt: time.Now().UTC()}, nil
}

func (s *Service[S]) build(ctx context.Context) (*Snapshot[S], error) {
	// The sequence is read first: a change committed during the load is
	// then seen as newer and triggers the next rebuild.
	seq, err := s.src.LastSeq(ctx)
	if err != nil {
		return nil, fmt.Errorf("matching: build: %w", err)
	}
	facts := map[int64]S{}
	var each func(*atigip.Person)
	if s.o.Scope != nil {
		each = func(p *atigip.Person) { facts[p.ID] = s.o.Scope(p) }
	}
	e, err := Build(ctx, s.src, Options{Config: s.o.Config, Text: s.o.Text}, each)
	if err != nil {
		return nil, err
	}
	if s.o.AfterBuild != nil {
		s.o.AfterBuild()
	}
	return &Snapshot[S]{Engine: e, Facts: facts, Seq: seq, BuiltAt: time.Now().UTC()}, nil
}

// snapshotBuild is one build of a snapshot; snap and err are set before
// done is closed.
type snapshotBuild[S any] struct {
	done chan struct{}
	snap *Snapshot[S]
	err  error
}

// buildTimeout bounds one build (a national build takes about ten
// seconds).
const buildTimeout = 5 * time.Minute

// startBuild returns the build in flight, starting one when none is; s.mu
// must be held. The build is bound by the service's lifetime, not by any
// one request: it is shared by every request that waits for it.
func (s *Service[S]) startBuild() *snapshotBuild[S] {
	if s.pending != nil {
		return s.pending
	}
	b := &snapshotBuild[S]{done: make(chan struct{})}
	run := func() {
		ctx, cancel := context.WithTimeout(s.ctx, buildTimeout)
		defer cancel()
		snap, err := s.build(ctx)
		if err != nil && s.ctx.Err() == nil {
			s.log.Error("matching: build snapshot", "err", err.Error())
		}
		s.mu.Lock()
		s.pending = nil
		if err == nil {
			s.snap = snap // builds run one at a time: each is the newest
		}
		b.snap, b.err = snap, err
		s.mu.Unlock()
		close(b.done)
	}
	if !s.spawn(run) {
		b.err = ErrClosed
		close(b.done)
		return b
	}
	s.pending = b
	return b
}

// Snapshot returns the snapshot to answer from: the current one when it
// is of today, patched up to the change feed (a rebuild starts in the
// background when the changes cannot be patched, or when it is older than
// MaxAge), else the one build in flight or a new one, waited for.
func (s *Service[S]) Snapshot(ctx context.Context) (*Snapshot[S], error) {
	seq, err := s.src.LastSeq(ctx)
	if err != nil {
		return nil, fmt.Errorf("matching: read the feed position: %w", err)
	}
	maxAge := s.o.MaxAge
	if maxAge == 0 {
		maxAge = 30 * time.Second
	}
	for {
		today := atigip.DateOf(time.Now())
		s.mu.Lock()
		cur := s.snap
		if cur != nil && cur.Engine.Today().Equal(today.Time) && (maxAge >= 0 || seq <= cur.Seq) {
			if seq > cur.Seq {
				cur = s.refresh(ctx, cur, maxAge)
			}
			s.mu.Unlock()
			return cur, nil
		}
		// No snapshot yet, one of another day (ages and deadlines have
		// moved), or a test asking for every change: wait for a build.
		b := s.startBuild()
		s.mu.Unlock()
		select {
		case <-b.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("matching: wait for snapshot: %w", ctx.Err())
		}
		if b.err != nil {
			return nil, b.err
		}
		// The loop checks the new snapshot: a build started before seq
		// was read may not hold it yet.
	}
}

// refresh patches cur with the changes of the feed, so that a change that
// makes a pair unlawful is reflected in this very answer, and starts a
// rebuild when the changes cannot be patched, or for the scores' sake once
// the build is older than maxAge; s.mu must be held.
func (s *Service[S]) refresh(ctx context.Context, cur *Snapshot[S], maxAge time.Duration) *Snapshot[S] {
	next, err := s.patch(ctx, cur)
	switch {
	case err == nil:
		s.snap, cur = next, next
		if next.Engine.Incomplete() { // new records: in the next build
			s.startBuild()
		}
	case errors.Is(err, ErrRebuild):
		s.startBuild()
	default:
		s.log.Warn("matching: patch snapshot", "err", err.Error())
		s.startBuild()
	}
	if time.Since(cur.BuiltAt) >= maxAge {
		s.startBuild()
	}
	return cur
}

// maxPatch is the most changes a patch reads; beyond, a build is cheaper.
const maxPatch = 5000

// patch reads the changes after cur from the feed and applies them to a
// copy of cur (Engine.Patch): milliseconds where a national build takes
// seconds. ErrRebuild when they cannot be patched.
func (s *Service[S]) patch(ctx context.Context, cur *Snapshot[S]) (*Snapshot[S], error) {
	cs, err := s.src.Changes(ctx, cur.Seq, maxPatch+1)
	if err != nil {
		return nil, fmt.Errorf("matching: patch: %w", err)
	}
	if len(cs) == 0 {
		return cur, nil
	}
	if len(cs) > maxPatch {
		return nil, ErrRebuild
	}
	last := map[atigip.Kind]map[int64]bool{}
	for _, c := range cs {
		if last[c.Kind] == nil {
			last[c.Kind] = map[int64]bool{}
		}
		last[c.Kind][c.ID] = true
	}
	var ch Changes
	facts, cloned := cur.Facts, false
	for kind, ids := range last {
		for id := range ids {
			e, err := s.src.Entities(kind).Get(ctx, id)
			gone := atigip.ErrorCode(err) == atigip.ENOTFOUND
			if err != nil && !gone {
				return nil, fmt.Errorf("matching: patch: %w", err)
			}
			switch kind {
			case atigip.KindPost:
				ch.Posts, ch.DeletedPosts = collect(ch.Posts, ch.DeletedPosts, e, id, gone)
			case atigip.KindOffer:
				ch.Offers, ch.DeletedOffers = collect(ch.Offers, ch.DeletedOffers, e, id, gone)
			case atigip.KindOrganisation:
				ch.Organisations, ch.DeletedOrganisations = collect(ch.Organisations, ch.DeletedOrganisations, e, id, gone)
			case atigip.KindMeasure:
				ch.Measures, ch.DeletedMeasures = collect(ch.Measures, ch.DeletedMeasures, e, id, gone)
			case atigip.KindApplication:
				ch.Applications, ch.DeletedApplications = collect(ch.Applications, ch.DeletedApplications, e, id, gone)
			case atigip.KindPerson:
				ch.People, ch.DeletedPeople = collect(ch.People, ch.DeletedPeople, e, id, gone)
				if !gone && s.o.Scope != nil {
					if !cloned {
						facts, cloned = maps.Clone(cur.Facts), true
					}
					facts[id] = s.o.Scope(e.(*atigip.Person))
				}
			}
		}
	}
	eng, err := cur.Engine.Patch(ch)
	if err != nil {
		return nil, err
	}
	return &Snapshot[S]{Engine: eng, Facts: facts, Seq: cs[len(cs)-1].Seq, BuiltAt: cur.BuiltAt}, nil
}

// collect adds a changed record, or the id of a deleted one.
func collect[T atigip.Entity](changed []T, deleted []int64, e atigip.Entity, id int64, gone bool) ([]T, []int64) {
	if gone {
		return changed, append(deleted, id)
	}
	return append(changed, e.(T)), deleted
}

// Job states.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// JobStatus is the state of a global assignment job.
type JobStatus struct {
	ID       string
	Owner    string // who started it: the only one who may read it
	State    string // JobRunning, JobDone, JobFailed
	Done     int
	Total    int
	Progress float64 // 0..1
	Error    string  // a French sentence, when failed
	Started  time.Time
	// Seq and BuiltAt are those of the snapshot the job runs on.
	Seq     int64
	BuiltAt time.Time
	// Result and Baseline (greedy, for comparison) when done.
	Result   *Result
	Baseline *Stats
}

type job struct {
	mu     sync.Mutex
	status JobStatus
	cancel context.CancelFunc
}

const (
	// maxJobs is how many jobs are kept, running or finished: the oldest
	// goes (and stops, if it still runs) when a new one comes.
	maxJobs = 20
	// maxRunningJobs bounds the jobs running at once: each takes the
	// machine's cores for seconds at national size.
	maxRunningJobs = 2
	// jobTimeout bounds one job.
	jobTimeout = 10 * time.Minute
)

// StartJob starts a global assignment job over req on snap for owner and
// returns its first status. req.Only is the caller's business (the
// perimeter); a conflict when maxRunningJobs are running already.
func (s *Service[S]) StartJob(snap *Snapshot[S], req AssignRequest, owner string) (JobStatus, error) {
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	running := 0
	for _, j := range s.jobs {
		j.mu.Lock()
		if j.status.State == JobRunning {
			running++
		}
		j.mu.Unlock()
	}
	if running >= maxRunningJobs {
		return JobStatus{}, atigip.Errorf(atigip.ECONFLICT, "Deux propositions d'affectation sont déjà en cours : réessayez plus tard.")
	}
	s.nextJob++
	ctx, cancel := context.WithTimeout(s.ctx, jobTimeout)
	j := &job{cancel: cancel, status: JobStatus{ID: fmt.Sprintf("a%d-%d", time.Now().Unix(), s.nextJob), Owner: owner,
		State: JobRunning, Started: time.Now().UTC(), Seq: snap.Seq, BuiltAt: snap.BuiltAt}}
	assign := s.assign
	if !s.spawn(func() { s.runJob(ctx, assign, snap.Engine, j, req) }) {
		cancel()
		return JobStatus{}, ErrClosed
	}
	s.jobs[j.status.ID] = j
	s.order = append(s.order, j.status.ID)
	if len(s.order) > maxJobs {
		// Nobody can read it any more: a job still running stops.
		s.jobs[s.order[0]].cancel()
		delete(s.jobs, s.order[0])
		s.order = s.order[1:]
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status, nil
}

func (s *Service[S]) runJob(ctx context.Context, assign func(*Engine, context.Context, AssignRequest, Progress) (*Result, *Stats, error),
	e *Engine, j *job, req AssignRequest) {
	defer j.cancel()
	progress := func(done, total int) {
		j.mu.Lock()
		j.status.Done, j.status.Total = done, total
		if total > 0 {
			j.status.Progress = float64(done) / float64(total)
		}
		j.mu.Unlock()
	}
	res, base, err := assign(e, ctx, req, progress)
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		j.status.State, j.status.Error = JobFailed, atigip.ErrorMessage(err)
		switch {
		case s.ctx.Err() != nil:
			j.status.Error = "Proposition d'affectation interrompue : le service redémarre, relancez-la."
			return
		case errors.Is(err, context.Canceled):
			return // pushed out of the table: nobody reads it
		}
		s.log.Error("matching: assignment job", "job", j.status.ID, "err", err.Error())
		return
	}
	j.status.State, j.status.Progress, j.status.Result = JobDone, 1, res
	j.status.Baseline = base
}

// Job returns the status of job id when owner started it.
func (s *Service[S]) Job(id, owner string) (JobStatus, bool) {
	s.jobsMu.Lock()
	j, ok := s.jobs[id]
	s.jobsMu.Unlock()
	if !ok {
		return JobStatus{}, false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.status.Owner != owner {
		return JobStatus{}, false
	}
	return j.status, true
}
