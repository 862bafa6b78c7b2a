package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
	"github.com/gofiber/fiber/v2"
)

// MatchingModule serves matching proposals: offers for a person,
// candidates for a post or an offer, and global assignment jobs.
//
// Freshness: the engine is an immutable snapshot of the store. A request
// that finds the change feed ahead of the snapshot patches it first
// (matching.Engine.Patch over the changed records, milliseconds at
// national size), so a change that makes a pair unlawful (a post closed,
// a partner archived, a person placed, a proposal awaiting the judge) is
// reflected in that very answer. What only the scores read (ROME codes,
// skills and texts of existing records, TF-IDF statistics) follows at the
// next full build, started in the background once the build is older than
// MaxAge, or at once when the changes cannot be patched (a new record, a
// post that moved); the response carries the sequence it reflects and the
// time of its build.
//
// At most one build runs at a time. The first one is started by Warm at
// server start; a request that comes before it is ready waits for that
// build, never starts another.
type MatchingModule struct {
	// Config overrides the default weights and thresholds.
	Config *matching.Config
	// Text overrides the built-in TF-IDF text fit.
	Text matching.TextScorer
	// MaxAge is the least age of a snapshot before a change triggers a
	// rebuild (default 30 s; negative: rebuild on every change, for tests).
	MaxAge time.Duration

	once  sync.Once
	state *matchingState
}

type matchingState struct {
	mu      sync.Mutex
	snap    *matchingSnapshot
	pending *snapshotBuild // the build in flight, nil when none
	jobsMu  sync.Mutex
	jobs    map[string]*matchingJob
	order   []string
	nextJob int
}

type matchingSnapshot struct {
	engine *matching.Engine
	// people holds what the perimeter rules read of each person, not the
	// whole profile: the engine keeps what matching needs.
	people  map[int64]personScope
	seq     int64     // the last change reflected (built or patched)
	builtAt time.Time // of the last full build
}

// personScope is what perimeters (perimeter.go) and the people policy
// read of a person.
type personScope struct {
	departement string
	prisonID    int64
	minor       bool
	detained    bool
}

func scopeOf(p *atigip.Person) personScope {
	return personScope{departement: p.HomeAddress.Departement, prisonID: p.PrisonID, minor: p.Minor, detained: p.Detained}
}

// visible reports whether principal p may match person id: the row rule
// of the people policy and the perimeter of perimeter.go, applied to the
// facts the snapshot keeps. False when the person is unknown.
func (sn *matchingSnapshot) visible(lk *lookup, p atigip.Principal, id int64) bool {
	sc, ok := sn.people[id]
	if !ok {
		return false
	}
	pe := &atigip.Person{Meta: atigip.Meta{ID: id}, HomeAddress: atigip.Address{Departement: sc.departement},
		PrisonID: sc.prisonID, Minor: sc.minor, Detained: sc.detained}
	if pol := policies[atigip.KindPerson]; pol.visible != nil && !pol.visible(p, pe) {
		return false
	}
	in, err := within(lk, p, pe)
	return err == nil && in // a person's perimeter reads no other record
}

// perimeter is the restriction of matching.Query.Only and
// matching.AssignRequest.Only for p.
func (sn *matchingSnapshot) perimeter(ctx context.Context, s *Server, p atigip.Principal) func(int64) bool {
	lk := newLookup(ctx, s.Store())
	return func(id int64) bool { return sn.visible(lk, p, id) }
}

// MatchingSnapshotInfo tells which state of the store answered.
type MatchingSnapshotInfo struct {
	Seq     int64     `json:"seq"`
	BuiltAt time.Time `json:"built_at"`
}

// MatchingRanking is the response of the ranking routes.
type MatchingRanking struct {
	matching.Ranking
	Snapshot MatchingSnapshotInfo `json:"snapshot"`
	Notice   string               `json:"notice"`
}

const matchingNotice = "Propositions d'aide à la décision : aucune affectation n'est faite sans la décision d'un professionnel."

// LoadMatchingData reads everything matching needs from the store.
func LoadMatchingData(ctx context.Context, tx atigip.Tx) (matching.Data, error) {
	d := matching.Data{AllOrganisations: true}
	var err error
	if d.Organisations, err = atigip.Of[*atigip.Organisation](tx).All(ctx, atigip.ListFilter{}); err != nil {
		return d, fmt.Errorf("matching: load organisations: %w", err)
	}
	if d.Posts, err = atigip.Of[*atigip.Post](tx).All(ctx, atigip.ListFilter{}); err != nil {
		return d, fmt.Errorf("matching: load posts: %w", err)
	}
	if d.Offers, err = atigip.Of[*atigip.Offer](tx).All(ctx, atigip.ListFilter{}); err != nil {
		return d, fmt.Errorf("matching: load offers: %w", err)
	}
	if d.People, err = atigip.Of[*atigip.Person](tx).All(ctx, atigip.ListFilter{}); err != nil {
		return d, fmt.Errorf("matching: load people: %w", err)
	}
	if d.Measures, err = atigip.Of[*atigip.Measure](tx).All(ctx, atigip.ListFilter{}); err != nil {
		return d, fmt.Errorf("matching: load measures: %w", err)
	}
	// Accepted applications are the detainees' current contracts.
	if d.Applications, err = atigip.Of[*atigip.Application](tx).All(ctx, atigip.ListFilter{Status: []string{string(atigip.AppAccepted)}}); err != nil {
		return d, fmt.Errorf("matching: load contracts: %w", err)
	}
	return d, nil
}

func (m *MatchingModule) init() {
	m.once.Do(func() { m.state = &matchingState{jobs: map[string]*matchingJob{}} })
}

func (m *MatchingModule) build(ctx context.Context, store atigip.Store) (*matchingSnapshot, error) {
	// The sequence is read first: a change committed during the load is
	// then seen as newer and triggers the next rebuild.
	seq, err := store.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	d, err := LoadMatchingData(ctx, store)
	if err != nil {
		return nil, err
	}
	return m.newSnapshot(d, atigip.Date{}, seq)
}

// newSnapshot builds the engine over d (today when the date is zero) and
// keeps, of d, only what the perimeter rules read.
func (m *MatchingModule) newSnapshot(d matching.Data, today atigip.Date, seq int64) (*matchingSnapshot, error) {
	e, err := matching.New(d, matching.Options{Config: m.Config, Text: m.Text, Today: today})
	if err != nil {
		return nil, err
	}
	people := make(map[int64]personScope, len(d.People))
	deps := map[string]string{} // a hundred départements: one string each
	for _, p := range d.People {
		sc := scopeOf(p)
		if dep, ok := deps[sc.departement]; ok {
			sc.departement = dep
		} else {
			deps[sc.departement] = sc.departement
		}
		people[p.ID] = sc
	}
	return &matchingSnapshot{engine: e, people: people, seq: seq, builtAt: time.Now().UTC()}, nil
}

// snapshotBuild is one build of a snapshot; snap and err are set before
// done is closed.
type snapshotBuild struct {
	done chan struct{}
	snap *matchingSnapshot
	err  error
}

// buildTimeout bounds one build (a national build takes about ten
// seconds).
const buildTimeout = 5 * time.Minute

// startBuild returns the build in flight, starting one when none is; st.mu
// must be held. ctx bounds the build, not any one request: the build is
// shared by every request that waits for it.
func (m *MatchingModule) startBuild(ctx context.Context, store atigip.Store, log *slog.Logger) *snapshotBuild {
	st := m.state
	if st.pending != nil {
		return st.pending
	}
	b := &snapshotBuild{done: make(chan struct{})}
	st.pending = b
	go func() {
		bctx, cancel := context.WithTimeout(ctx, buildTimeout)
		defer cancel()
		snap, err := m.build(bctx, store)
		if err != nil {
			log.Error("matching: build snapshot", "err", err.Error())
		}
		st.mu.Lock()
		st.pending = nil
		if err == nil {
			st.snap = snap // builds run one at a time: each is the newest
		}
		b.snap, b.err = snap, err
		st.mu.Unlock()
		close(b.done)
	}()
	return b
}

// Warm starts building the first snapshot in the background and returns
// at once, so that the first matching request finds it ready instead of
// waiting for a national build (about ten seconds). Call it once the
// server is built, with the server's lifetime as ctx; calling it again,
// or after a snapshot exists, does nothing.
func (m *MatchingModule) Warm(ctx context.Context, s *Server) {
	m.init()
	st := m.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.snap == nil {
		m.startBuild(ctx, s.Store(), s.Logger())
	}
}

// snapshot returns the engine to answer from: the current snapshot when
// it is of today (a rebuild starts in the background when the store has
// moved and it is older than MaxAge), else the one build in flight or a
// new one, waited for.
func (m *MatchingModule) snapshot(ctx context.Context, s *Server) (*matchingSnapshot, error) {
	m.init()
	st := m.state
	seq, err := s.Store().LastSeq(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	maxAge := m.MaxAge
	if maxAge == 0 {
		maxAge = 30 * time.Second
	}
	for {
		today := atigip.DateOf(time.Now())
		st.mu.Lock()
		cur := st.snap
		if cur != nil && cur.engine.Today().Equal(today.Time) && (maxAge >= 0 || seq <= cur.seq) {
			if seq > cur.seq {
				// The change feed moved: patch what the rules read now, so
				// that a change that makes a pair unlawful is reflected in
				// this very answer; rebuild in the background when the
				// changes cannot be patched, or for the scores' sake once
				// the build is older than MaxAge.
				next, err := m.patch(ctx, s.Store(), cur)
				switch {
				case err == nil:
					st.snap, cur = next, next
					if next.engine.Incomplete() { // new records: in the next build
						m.startBuild(context.Background(), s.Store(), s.Logger())
					}
				case errors.Is(err, matching.ErrRebuild):
					m.startBuild(context.Background(), s.Store(), s.Logger())
				default:
					s.Logger().Warn("matching: patch snapshot", "err", err.Error())
					m.startBuild(context.Background(), s.Store(), s.Logger())
				}
				if time.Since(cur.builtAt) >= maxAge {
					m.startBuild(context.Background(), s.Store(), s.Logger())
				}
			}
			st.mu.Unlock()
			return cur, nil
		}
		// No snapshot yet, one of another day (ages and deadlines have
		// moved), or a test asking for every change: wait for a build.
		b := m.startBuild(context.Background(), s.Store(), s.Logger())
		st.mu.Unlock()
		select {
		case <-b.done:
		case <-ctx.Done():
			return nil, unavailable(fmt.Errorf("matching: wait for snapshot: %w", ctx.Err()))
		}
		if b.err != nil {
			return nil, unavailable(b.err)
		}
		// The loop checks the new snapshot: a build started before seq
		// was read may not hold it yet.
	}
}

func unavailable(err error) error {
	if atigip.ErrorCode(err) != atigip.EINTERNAL {
		return err
	}
	return &atigip.Error{Code: atigip.EUNAVAILABLE, Message: "Le moteur de rapprochement est momentanément indisponible.", Err: err}
}

var (
	matchersOfPeople = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP, atigip.RolePrisonStaff}
	matchersOfPosts  = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP}
	matchersOfOffers = []atigip.Role{atigip.RoleCPIP, atigip.RoleDSPIP, atigip.RolePrisonStaff}
	assigners        = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP}
)

// Routes implements Module.
func (m *MatchingModule) Routes(s *Server) []Route {
	id := Param{Name: "id", In: "path", Type: "integer", Description: "Identifiant", Required: true}
	rank := []Param{
		{Name: "limit", In: "query", Type: "integer", Description: "Nombre de propositions (1 à 100, 20 par défaut)"},
		{Name: "excluded", In: "query", Type: "boolean", Description: "Joindre les éléments exclus proches, avec la contrainte qui les exclut"},
	}
	kinds := Param{Name: "kinds", In: "query", Type: "string",
		Description: "Types d'offres, séparés par des virgules : tig_post, work, training, job_at_release"}
	return []Route{
		{Method: fiber.MethodGet, Path: "/api/matching/people/:id/offers", Roles: matchersOfPeople, Tag: "matching",
			Summary: "Postes de TIG ou offres (travail, formation, emploi à la sortie) les mieux adaptés à une personne, expliqués",
			Params:  append([]Param{id, kinds}, rank...), Response: MatchingRanking{}, Handler: m.offers(s)},
		{Method: fiber.MethodGet, Path: "/api/matching/posts/:id/candidates", Roles: matchersOfPosts, Tag: "matching",
			Summary: "Personnes les mieux adaptées à un poste de TIG, expliquées",
			Params:  append([]Param{id}, rank...), Response: MatchingRanking{}, Handler: m.candidates(s, false)},
		{Method: fiber.MethodGet, Path: "/api/matching/offers/:id/candidates", Roles: matchersOfOffers, Tag: "matching",
			Summary: "Personnes détenues les mieux adaptées à une offre, expliquées",
			Params:  append([]Param{id}, rank...), Response: MatchingRanking{}, Handler: m.candidates(s, true)},
		{Method: fiber.MethodPost, Path: "/api/matching/assignments", Roles: assigners, Tag: "matching",
			Summary: "Lancer une proposition d'affectation globale (tâche de fond avec avancement)",
			Body:    matching.AssignRequest{}, Response: MatchingJobStatus{}, Handler: m.startAssignment(s),
			Status: fiber.StatusAccepted}, // a job is started, its result fetched later
		{Method: fiber.MethodGet, Path: "/api/matching/assignments/:job", Roles: assigners, Tag: "matching",
			Summary:  "État et résultat d'une proposition d'affectation globale",
			Params:   []Param{{Name: "job", In: "path", Type: "string", Description: "Identifiant de la tâche", Required: true}},
			Response: MatchingJobStatus{}, Handler: m.assignmentStatus(s)},
	}
}

func matchingID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, atigip.Errorf(atigip.EINVALID, "Identifiant invalide : un entier positif est attendu.")
	}
	return id, nil
}

// rankParams are the query parameters of the ranking routes; kinds only
// where the route ranks offers of several kinds.
var rankParams = map[string]bool{"limit": true, "excluded": true}

func rankQuery(c *fiber.Ctx, kinds bool) (matching.Query, error) {
	var q matching.Query
	// An unknown parameter is refused, as on the lists: a misspelt filter
	// must not silently widen what is read about people.
	var unknown error
	c.Context().QueryArgs().VisitAll(func(k, _ []byte) {
		if name := string(k); unknown == nil && !rankParams[name] && !(kinds && name == "kinds") {
			unknown = invalidParam(name, "Paramètre inconnu pour ce rapprochement.")
		}
	})
	if unknown != nil {
		return q, unknown
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return q, &atigip.Error{Code: atigip.EINVALID, Message: "Paramètre invalide.",
				Fields: []atigip.FieldError{{Field: "limit", Message: "Un entier de 1 à 100 est attendu."}}}
		}
		q.Limit = n
	}
	if v := c.Query("excluded"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return q, &atigip.Error{Code: atigip.EINVALID, Message: "Paramètre invalide.",
				Fields: []atigip.FieldError{{Field: "excluded", Message: "true ou false attendu."}}}
		}
		q.Excluded = b
	}
	if v := c.Query("kinds"); v != "" {
		for _, k := range strings.Split(v, ",") {
			q.Kinds = append(q.Kinds, matching.ItemKind(strings.TrimSpace(k)))
		}
		if err := checkKinds(q.Kinds); err != nil {
			return q, err
		}
	}
	return q, nil
}

// checkKinds refuses an unknown kind (400) rather than reading it as "every
// kind": a job over every detainee is never what a typo asked for.
func checkKinds(kinds []matching.ItemKind) error {
	for _, kind := range kinds {
		if _, ok := matching.ItemKinds[kind]; !ok {
			return &atigip.Error{Code: atigip.EINVALID, Message: "Paramètre invalide.",
				Fields: []atigip.FieldError{{Field: "kinds", Message: fmt.Sprintf("Type d'offre inconnu : %q (tig_post, work, training ou job_at_release).", kind)}}}
		}
	}
	return nil
}

func (m *MatchingModule) offers(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := matchingID(c)
		if err != nil {
			return s.Problem(c, err)
		}
		q, err := rankQuery(c, true)
		if err != nil {
			return s.Problem(c, err)
		}
		rk, err := m.offersFor(c, s, id, q)
		if err != nil {
			return s.Problem(c, err)
		}
		return c.JSON(rk)
	}
}

// offersFor ranks the offers for person id within the principal's
// perimeter, the read audited: for the API and the CPIP's page alike.
func (m *MatchingModule) offersFor(c *fiber.Ctx, s *Server, id int64, q matching.Query) (*MatchingRanking, error) {
	snap, err := m.snapshot(c.UserContext(), s)
	if err != nil {
		return nil, err
	}
	if !snap.visible(newLookup(c.UserContext(), s.Store()), s.Principal(c), id) {
		// Out of perimeter reads as absent: existence is not disclosed.
		return nil, atigip.Errorf(atigip.ENOTFOUND, "Personne %d introuvable.", id)
	}
	rk, err := snap.engine.OffersForPerson(id, q)
	if err != nil {
		return nil, err
	}
	if err := s.Audit(c, "match", atigip.KindPerson, id, len(rk.Proposals)); err != nil {
		return nil, err
	}
	return &MatchingRanking{Ranking: *rk, Snapshot: snap.info(), Notice: matchingNotice}, nil
}

func (sn *matchingSnapshot) info() MatchingSnapshotInfo {
	return MatchingSnapshotInfo{Seq: sn.seq, BuiltAt: sn.builtAt}
}

func (m *MatchingModule) candidates(s *Server, offer bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := matchingID(c)
		if err != nil {
			return s.Problem(c, err)
		}
		q, err := rankQuery(c, false)
		if err != nil {
			return s.Problem(c, err)
		}
		snap, err := m.snapshot(c.UserContext(), s)
		if err != nil {
			return s.Problem(c, err)
		}
		ref := matching.Ref{Kind: matching.KindTIG, ID: id}
		if offer {
			ref.Kind = ""
			for _, k := range []matching.ItemKind{matching.KindWork, matching.KindTraining, matching.KindRelease} {
				if snap.engine.Has(matching.Ref{Kind: k, ID: id}) {
					ref.Kind = k
				}
			}
			if ref.Kind == "" {
				return s.Problem(c, atigip.Errorf(atigip.ENOTFOUND, "Offre %d introuvable.", id))
			}
		}
		// The engine ranks only the people the principal may see, so that
		// neither the lists nor their counts tell of the others.
		q.Only = snap.perimeter(c.UserContext(), s, s.Principal(c))
		rk, err := snap.engine.CandidatesFor(ref, q)
		if err != nil {
			return s.Problem(c, err)
		}
		// One audit entry per person whose data the answer reads, in one write.
		var ids []int64
		for _, list := range [][]matching.Proposal{rk.Proposals, rk.Excluded} {
			for _, pr := range list {
				ids = append(ids, pr.PersonID)
			}
		}
		if err := s.AuditAll(c, "match", atigip.KindPerson, ids, 1); err != nil {
			return s.Problem(c, err)
		}
		return c.JSON(MatchingRanking{Ranking: *rk, Snapshot: snap.info(), Notice: matchingNotice})
	}
}

// MatchingJobStatus is the state of a global assignment job.
type MatchingJobStatus struct {
	ID       string               `json:"id"`
	State    string               `json:"state"` // running, done, failed
	Done     int                  `json:"done"`
	Total    int                  `json:"total"`
	Progress float64              `json:"progress"` // 0..1
	Error    string               `json:"error,omitempty"`
	Started  time.Time            `json:"started"`
	Snapshot MatchingSnapshotInfo `json:"snapshot"`
	// Result and Baseline (greedy, for comparison) when done.
	Result   *matching.Assignment `json:"result,omitempty"`
	Baseline *matching.Stats      `json:"baseline,omitempty"`
	Notice   string               `json:"notice"`
}

type matchingJob struct {
	mu      sync.Mutex
	status  MatchingJobStatus
	subject string
}

const maxMatchingJobs = 20

func (m *MatchingModule) startAssignment(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req matching.AssignRequest
		if len(c.Body()) > 0 {
			if err := s.Decode(c, &req); err != nil {
				return s.Problem(c, err)
			}
		}
		st, err := m.startJob(c, s, req)
		if err != nil {
			return s.Problem(c, err)
		}
		c.Set(fiber.HeaderLocation, "/api/matching/assignments/"+st.ID)
		return c.Status(fiber.StatusAccepted).JSON(st) // documented by Route.Status
	}
}

// startJob starts a global assignment job over req within the
// principal's perimeter: for the API and the director's page alike.
func (m *MatchingModule) startJob(c *fiber.Ctx, s *Server, req matching.AssignRequest) (MatchingJobStatus, error) {
	if err := checkKinds(req.Kinds); err != nil {
		return MatchingJobStatus{}, err
	}
	if len(req.People) > 20000 {
		return MatchingJobStatus{}, atigip.Errorf(atigip.ETOOLARGE, "Au plus 20 000 personnes par proposition d'affectation.")
	}
	snap, err := m.snapshot(c.UserContext(), s)
	if err != nil {
		return MatchingJobStatus{}, err
	}
	p := s.Principal(c)
	// The perimeter applies to the batch too: a person outside it reads
	// as not found when named, and is left out of an implicit batch.
	req.Only = snap.perimeter(context.Background(), s, p)
	if len(req.People) > 0 {
		for _, id := range req.People {
			if !req.Only(id) {
				return MatchingJobStatus{}, atigip.Errorf(atigip.ENOTFOUND, "Personne %d introuvable.", id)
			}
		}
	} else if ids, err := snap.engine.Population(req); err != nil {
		return MatchingJobStatus{}, err
	} else if len(ids) == 0 {
		return MatchingJobStatus{}, atigip.Errorf(atigip.EINVALID, "Aucune personne à placer dans votre périmètre.")
	}
	st := m.state
	st.jobsMu.Lock()
	running := 0
	for _, j := range st.jobs {
		j.mu.Lock()
		if j.status.State == "running" {
			running++
		}
		j.mu.Unlock()
	}
	if running >= 2 {
		st.jobsMu.Unlock()
		return MatchingJobStatus{}, atigip.Errorf(atigip.ECONFLICT, "Deux propositions d'affectation sont déjà en cours : réessayez plus tard.")
	}
	st.nextJob++
	jobID := fmt.Sprintf("a%d-%d", time.Now().Unix(), st.nextJob)
	job := &matchingJob{subject: p.Subject, status: MatchingJobStatus{ID: jobID, State: "running",
		Started: time.Now().UTC(), Snapshot: snap.info(), Notice: matchingNotice}}
	st.jobs[jobID] = job
	st.order = append(st.order, jobID)
	if len(st.order) > maxMatchingJobs {
		delete(st.jobs, st.order[0])
		st.order = st.order[1:]
	}
	st.jobsMu.Unlock()
	go m.runJob(s, snap, job, req)
	job.mu.Lock()
	defer job.mu.Unlock()
	return job.status, nil
}

func (m *MatchingModule) runJob(s *Server, snap *matchingSnapshot, job *matchingJob, req matching.AssignRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	progress := func(done, total int) {
		job.mu.Lock()
		job.status.Done, job.status.Total = done, total
		if total > 0 {
			job.status.Progress = float64(done) / float64(total)
		}
		job.mu.Unlock()
	}
	res, err := snap.engine.Assign(ctx, req, progress)
	var base *matching.Assignment
	if err == nil {
		base, err = snap.engine.AssignGreedy(ctx, req, nil)
	}
	job.mu.Lock()
	defer job.mu.Unlock()
	if err != nil {
		job.status.State, job.status.Error = "failed", atigip.ErrorMessage(err)
		s.Logger().Error("matching: assignment job", "job", job.status.ID, "err", err.Error())
		return
	}
	job.status.State, job.status.Progress, job.status.Result = "done", 1, res
	job.status.Baseline = &base.Stats
}

func (m *MatchingModule) assignmentStatus(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		status, err := m.jobStatus(c, s, c.Params("job"))
		if err != nil {
			return s.Problem(c, err)
		}
		return c.JSON(status)
	}
}

// jobStatus is job id as its reader may see it now: only the professional
// who started it, the result within the perimeter and audited.
func (m *MatchingModule) jobStatus(c *fiber.Ctx, s *Server, id string) (MatchingJobStatus, error) {
	m.init()
	st := m.state
	st.jobsMu.Lock()
	job, ok := st.jobs[id]
	st.jobsMu.Unlock()
	if !ok || job.subject != s.Principal(c).Subject {
		return MatchingJobStatus{}, atigip.Errorf(atigip.ENOTFOUND, "Tâche d'affectation introuvable.")
	}
	job.mu.Lock()
	status := job.status
	job.mu.Unlock()
	if status.Result != nil {
		res, err := m.disclosed(c, s, status.Result)
		if err != nil {
			return MatchingJobStatus{}, err
		}
		status.Result = res
	}
	return status, nil
}

// disclosed is the part of a job's result the reader may see now: the
// perimeter is checked again at read time (a token's département or the
// person's file may have changed since the job started), and every person
// the answer discloses, placed or not, gets an audit entry.
func (m *MatchingModule) disclosed(c *fiber.Ctx, s *Server, res *matching.Assignment) (*matching.Assignment, error) {
	snap, err := m.snapshot(c.UserContext(), s)
	if err != nil {
		return nil, err
	}
	in := snap.perimeter(c.UserContext(), s, s.Principal(c))
	out := *res
	out.Proposals, out.Unplaced, out.WhyUnplaced = []matching.Proposal{}, []int64{}, []matching.Why{}
	for _, p := range res.Proposals {
		if in(p.PersonID) {
			out.Proposals = append(out.Proposals, p)
		}
	}
	for k, id := range res.Unplaced {
		if in(id) {
			out.Unplaced = append(out.Unplaced, id)
			if k < len(res.WhyUnplaced) {
				out.WhyUnplaced = append(out.WhyUnplaced, res.WhyUnplaced[k])
			}
		}
	}
	for _, p := range out.Proposals {
		if err := s.Audit(c, "match_assignment", atigip.KindPerson, p.PersonID, 1); err != nil {
			return nil, err
		}
	}
	for _, id := range out.Unplaced {
		if err := s.Audit(c, "match_assignment", atigip.KindPerson, id, 0); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// maxPatch is the most changes a patch reads; beyond, a build is cheaper.
const maxPatch = 5000

// patch reads the changes after cur from the feed and applies them to a
// copy of cur (matching.Engine.Patch): milliseconds where a national build
// takes seconds. matching.ErrRebuild when they cannot be patched.
func (m *MatchingModule) patch(ctx context.Context, store atigip.Store, cur *matchingSnapshot) (*matchingSnapshot, error) {
	cs, err := store.Changes(ctx, cur.seq, maxPatch+1)
	if err != nil {
		return nil, fmt.Errorf("matching: patch: %w", err)
	}
	if len(cs) == 0 {
		return cur, nil
	}
	if len(cs) > maxPatch {
		return nil, matching.ErrRebuild
	}
	last := map[atigip.Kind]map[int64]bool{}
	for _, c := range cs {
		if last[c.Kind] == nil {
			last[c.Kind] = map[int64]bool{}
		}
		last[c.Kind][c.ID] = true
	}
	var ch matching.Changes
	people, cloned := cur.people, false
	for kind, ids := range last {
		for id := range ids {
			e, err := store.Entities(kind).Get(ctx, id)
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
				if !gone {
					if !cloned {
						people, cloned = maps.Clone(cur.people), true
					}
					people[id] = scopeOf(e.(*atigip.Person))
				}
			}
		}
	}
	eng, err := cur.engine.Patch(ch)
	if err != nil {
		return nil, err
	}
	return &matchingSnapshot{engine: eng, people: people, seq: cs[len(cs)-1].Seq, builtAt: cur.builtAt}, nil
}

// collect adds a changed record, or the id of a deleted one.
func collect[T atigip.Entity](changed []T, deleted []int64, e atigip.Entity, id int64, gone bool) ([]T, []int64) {
	if gone {
		return changed, append(deleted, id)
	}
	return append(changed, e.(T)), deleted
}
