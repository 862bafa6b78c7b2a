package httpapi

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unique"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
	"github.com/gofiber/fiber/v2"
)

// MatchingModule serves matching proposals: offers for a person,
// candidates for a post or an offer, and global assignment jobs.
//
// The snapshot and the jobs live in a matching.Service (freshness, builds
// and job lifecycle are documented there) that the module creates on first
// use; what stays here is HTTP, the perimeter (who may match whom) and
// what a job's result discloses. Start ties the service to the server's
// lifetime and warms the first snapshot; Close stops its builds and jobs.
type MatchingModule struct {
	// Config overrides the default weights and thresholds.
	Config *matching.Config
	// Text overrides the built-in TF-IDF text fit.
	Text matching.TextScorer
	// MaxAge is the least age of a snapshot before a change triggers a
	// rebuild (default 30 s; negative: rebuild on every change, for tests).
	MaxAge time.Duration
	// AfterBuild runs after each full build of the snapshot (see
	// matching.ServiceOptions).
	AfterBuild func()

	mu  sync.Mutex // guards svc
	svc *matching.Service[personScope]
}

// matchingSnapshot is the engine with, of each person, what the
// perimeter rules read.
type matchingSnapshot = matching.Snapshot[personScope]

// personScope is what perimeters (perimeter.go) and the people policy
// read of a person.
type personScope struct {
	departement string
	prisonID    int64
	minor       bool
	detained    bool
}

func scopeOf(p *atigip.Person) personScope {
	// A hundred départements: one string each, not one per person.
	return personScope{departement: unique.Make(p.HomeAddress.Departement).Value(), prisonID: p.PrisonID,
		minor: p.Minor, detained: p.Detained}
}

// visible reports whether principal p may match person id: the row rule
// of the people policy and the perimeter of perimeter.go, applied to the
// facts the snapshot keeps. False when the person is unknown.
func visible(sn *matchingSnapshot, lk *lookup, p atigip.Principal, id int64) bool {
	sc, ok := sn.Facts[id]
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

// perimeterOf is the restriction of matching.Query.Only and
// matching.AssignRequest.Only for p.
func perimeterOf(ctx context.Context, s *Server, sn *matchingSnapshot, p atigip.Principal) func(int64) bool {
	lk := newLookup(ctx, s.Store())
	return func(id int64) bool { return visible(sn, lk, p, id) }
}

// MatchingSnapshotInfo tells which state of the store answered.
type MatchingSnapshotInfo struct {
	Seq     int64     `json:"seq"`
	BuiltAt time.Time `json:"built_at"`
}

func snapshotInfo(sn *matchingSnapshot) MatchingSnapshotInfo {
	return MatchingSnapshotInfo{Seq: sn.Seq, BuiltAt: sn.BuiltAt}
}

// MatchingRanking is the response of the ranking routes.
type MatchingRanking struct {
	matching.Ranking
	Snapshot MatchingSnapshotInfo `json:"snapshot"`
	Notice   string               `json:"notice"`
}

const matchingNotice = "Propositions d'aide à la décision : aucune affectation n'est faite sans la décision d'un professionnel."

// service returns the module's matching service, created on first use
// over the server's store.
func (m *MatchingModule) service(s *Server) *matching.Service[personScope] {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.svc == nil {
		m.svc = matching.NewService(s.Store(), matching.ServiceOptions[personScope]{
			Config: m.Config, Text: m.Text, MaxAge: m.MaxAge, Scope: scopeOf, Logger: s.Logger(),
			AfterBuild: m.AfterBuild})
	}
	return m.svc
}

// Start ties the matching service to ctx, the server's lifetime, and
// builds the first snapshot in the background, so that the first request
// finds it ready instead of waiting for a national build (about ten
// seconds). It returns at once.
func (m *MatchingModule) Start(ctx context.Context, s *Server) {
	m.service(s).Start(ctx)
}

// Close cancels the snapshot build and the assignment jobs running, and
// returns once their goroutines have ended.
func (m *MatchingModule) Close() {
	m.mu.Lock()
	svc := m.svc
	m.mu.Unlock()
	if svc != nil { // nil: never used, nothing to stop
		svc.Close()
	}
}

// snapshot returns the snapshot to answer from (matching.Service.Snapshot).
func (m *MatchingModule) snapshot(ctx context.Context, s *Server) (*matchingSnapshot, error) {
	sn, err := m.service(s).Snapshot(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	return sn, nil
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
			Summary: "État et résultat d'une proposition d'affectation globale",
			Params: []Param{{Name: "job", In: "path", Type: "string", Description: "Identifiant de la tâche", Required: true},
				{Name: "page", In: "query", Type: "integer", Description: "Page du résultat (propositions et personnes non placées), 1 par défaut"},
				{Name: "per_page", In: "query", Type: "integer", Description: "Éléments par page de chaque liste (1 à 5000, 500 par défaut)"}},
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
	if err := refuseUnknownParams(c, func(k string) bool { return rankParams[k] || (kinds && k == "kinds") },
		"Paramètre inconnu pour ce rapprochement."); err != nil {
		return q, err
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
	if !visible(snap, newLookup(c.UserContext(), s.Store()), s.Principal(c), id) {
		// Out of perimeter reads as absent: existence is not disclosed.
		return nil, atigip.Errorf(atigip.ENOTFOUND, "Personne %d introuvable.", id)
	}
	rk, err := snap.Engine.OffersForPerson(id, q)
	if err != nil {
		return nil, err
	}
	if err := s.Audit(c, "match", atigip.KindPerson, id, len(rk.Proposals)); err != nil {
		return nil, err
	}
	return &MatchingRanking{Ranking: *rk, Snapshot: snapshotInfo(snap), Notice: matchingNotice}, nil
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
				if snap.Engine.Has(matching.Ref{Kind: k, ID: id}) {
					ref.Kind = k
				}
			}
			if ref.Kind == "" {
				return s.Problem(c, atigip.Errorf(atigip.ENOTFOUND, "Offre %d introuvable.", id))
			}
		}
		// The engine ranks only the people the principal may see, so that
		// neither the lists nor their counts tell of the others.
		q.Only = perimeterOf(c.UserContext(), s, snap, s.Principal(c))
		rk, err := snap.Engine.CandidatesFor(ref, q)
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
		return c.JSON(MatchingRanking{Ranking: *rk, Snapshot: snapshotInfo(snap), Notice: matchingNotice})
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
	// Result and Baseline (greedy, for comparison) when done. Result
	// carries one page of its proposals and of its unplaced people (Page).
	Result   *matching.Assignment `json:"result,omitempty"`
	Page     *MatchingResultPage  `json:"page,omitempty"`
	Baseline *matching.Stats      `json:"baseline,omitempty"`
	Notice   string               `json:"notice"`
}

// MatchingResultPage says which part of a job's result an answer holds:
// the proposals and the unplaced people from (page−1)×per_page, each list
// paged alike, out of their totals within the reader's perimeter.
type MatchingResultPage struct {
	Page           int `json:"page"`
	PerPage        int `json:"per_page"`
	ProposalsTotal int `json:"proposals_total"`
	UnplacedTotal  int `json:"unplaced_total"`
}

// resultPage selects a page of a job's result; perPage 0 is all of it
// (the DSPIP's review page, which reviews every pair of its perimeter).
type resultPage struct{ page, perPage int }

// A national assignment at ten times the country proposes 155,000 pairs:
// written whole, one status answer was hundreds of megabytes and as many
// audit entries, so the API pages it.
const (
	defaultResultPerPage = 500
	maxResultPerPage     = 5000
)

// resultPageQuery reads page and per_page, refusing any other parameter.
func resultPageQuery(c *fiber.Ctx) (resultPage, error) {
	pg := resultPage{page: 1, perPage: defaultResultPerPage}
	if err := refuseUnknownParams(c, func(k string) bool { return k == "page" || k == "per_page" },
		"Paramètre inconnu pour une affectation globale."); err != nil {
		return pg, err
	}
	page, set, err := intParam(c, "page", 1, math.MaxInt32)
	if err != nil {
		return pg, err
	}
	if set {
		pg.page = int(page)
	}
	perPage, set, err := intParam(c, "per_page", 1, maxResultPerPage)
	if err != nil {
		return pg, err
	}
	if set {
		pg.perPage = int(perPage)
	}
	return pg, nil
}

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
	req.Only = perimeterOf(context.Background(), s, snap, p)
	if len(req.People) > 0 {
		for _, id := range req.People {
			if !req.Only(id) {
				return MatchingJobStatus{}, atigip.Errorf(atigip.ENOTFOUND, "Personne %d introuvable.", id)
			}
		}
	} else if ids, err := snap.Engine.Population(req); err != nil {
		return MatchingJobStatus{}, err
	} else if len(ids) == 0 {
		return MatchingJobStatus{}, atigip.Errorf(atigip.EINVALID, "Aucune personne à placer dans votre périmètre.")
	}
	st, err := m.service(s).StartJob(snap, req, p.Subject)
	if err != nil {
		return MatchingJobStatus{}, unavailable(err)
	}
	return jobStatusOf(st), nil
}

// jobStatusOf is the API's view of a job.
func jobStatusOf(st matching.JobStatus) MatchingJobStatus {
	return MatchingJobStatus{ID: st.ID, State: st.State, Done: st.Done, Total: st.Total, Progress: st.Progress,
		Error: st.Error, Started: st.Started, Snapshot: MatchingSnapshotInfo{Seq: st.Seq, BuiltAt: st.BuiltAt},
		Baseline: st.Baseline, Notice: matchingNotice}
}

func (m *MatchingModule) assignmentStatus(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		pg, err := resultPageQuery(c)
		if err != nil {
			return s.Problem(c, err)
		}
		status, err := m.jobStatus(c, s, c.Params("job"), pg)
		if err != nil {
			return s.Problem(c, err)
		}
		return c.JSON(status)
	}
}

// jobStatus is job id as its reader may see it now: only the professional
// who started it, the result within the perimeter and audited.
func (m *MatchingModule) jobStatus(c *fiber.Ctx, s *Server, id string, pg resultPage) (MatchingJobStatus, error) {
	st, ok := m.service(s).Job(id, s.Principal(c).Subject)
	if !ok {
		return MatchingJobStatus{}, atigip.Errorf(atigip.ENOTFOUND, "Tâche d'affectation introuvable.")
	}
	status := jobStatusOf(st)
	if st.Result != nil {
		res, page, err := m.disclosed(c, s, st.Result, pg)
		if err != nil {
			return MatchingJobStatus{}, err
		}
		status.Result, status.Page = res, page
	}
	return status, nil
}

// disclosed is the part of a job's result the reader may see now: the
// perimeter is checked again at read time (a token's département or the
// person's file may have changed since the job started), the page pg of
// it, and every person the answer discloses, placed or not, gets an audit
// entry (the people of other pages are not disclosed by this answer).
func (m *MatchingModule) disclosed(c *fiber.Ctx, s *Server, res *matching.Result, pg resultPage) (*matching.Assignment, *MatchingResultPage, error) {
	snap, err := m.snapshot(c.UserContext(), s)
	if err != nil {
		return nil, nil, err
	}
	in := perimeterOf(c.UserContext(), s, snap, s.Principal(c))
	var placed, unplaced []int // indices within the perimeter
	for k := range res.Placed() {
		if in(res.PlacedPerson(k)) {
			placed = append(placed, k)
		}
	}
	for k := range res.Unplaced() {
		if in(res.UnplacedPerson(k)) {
			unplaced = append(unplaced, k)
		}
	}
	page := &MatchingResultPage{Page: 1, PerPage: max(len(placed), len(unplaced)), ProposalsTotal: len(placed), UnplacedTotal: len(unplaced)}
	if pg.perPage > 0 {
		page.Page, page.PerPage = pg.page, pg.perPage
		placed, unplaced = pg.of(placed), pg.of(unplaced)
	}
	// Only the page is explained: the job keeps its pairs compact.
	out := res.Explain(placed, unplaced)
	for _, p := range out.Proposals {
		if err := s.Audit(c, "match_assignment", atigip.KindPerson, p.PersonID, 1); err != nil {
			return nil, nil, err
		}
	}
	for _, id := range out.Unplaced {
		if err := s.Audit(c, "match_assignment", atigip.KindPerson, id, 0); err != nil {
			return nil, nil, err
		}
	}
	return out, page, nil
}

// of is the page pg of xs (empty past the end).
func (pg resultPage) of(xs []int) []int {
	from := min(len(xs), (pg.page-1)*pg.perPage)
	return xs[from:min(len(xs), from+pg.perPage)]
}
