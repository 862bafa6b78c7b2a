package httpapi

import (
	"strconv"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/flows"
	"github.com/atigip/atigip360/internal/workflow"
	"github.com/gofiber/fiber/v2"
)

// TransitionBody asks for a measure transition at the version read.
type TransitionBody struct {
	workflow.Transition
	Version int64 `json:"version"`
}

// AppTransitionBody asks for an application transition at the version read.
type AppTransitionBody struct {
	workflow.AppTransition
	Version int64 `json:"version"`
}

// ApplyBody files an application.
type ApplyBody struct {
	PersonID int64  `json:"person_id"`
	Note     string `json:"note,omitempty"`
}

// ClearanceBody records the CPU's decision.
type ClearanceBody struct {
	Cleared bool `json:"cleared"`
}

// RankBody moves an application on its waiting list.
type RankBody struct {
	Rank int `json:"rank"`
}

// ExpiryResult is the answer of the habilitation expiry sweep.
type ExpiryResult struct {
	Expired int `json:"expired"`
}

var (
	measureMovers    = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP, atigip.RoleMagistrate, atigip.RoleHost}
	measureReporters = []atigip.Role{atigip.RoleHost, atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP}
	hoursCheckers    = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP}
	historyReaders   = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP, atigip.RoleMagistrate, atigip.RoleClerk,
		atigip.RoleHost, atigip.RolePerson}
	procRequesters = []atigip.Role{atigip.RoleHost, atigip.RoleReferent, atigip.RoleDSPIP}
	procReaders    = []atigip.Role{atigip.RoleHost, atigip.RoleReferent, atigip.RoleDSPIP, atigip.RoleMagistrate}
	opinionGivers  = []atigip.Role{atigip.RoleMagistrate, atigip.RoleDSPIP, atigip.RoleReferent}
	prisonStaff    = []atigip.Role{atigip.RolePrisonStaff}
	applicants     = []atigip.Role{atigip.RolePerson, atigip.RolePrisonStaff, atigip.RoleCPIP}
	waitingReaders = []atigip.Role{atigip.RolePrisonStaff, atigip.RoleCPIP, atigip.RoleDSPIP}
)

// WorkflowModule serves the procedures of internal/workflow: TIG measure
// transitions, hours, incidents and history; habilitation and post
// registration; prison work applications. Proposals to the judge are
// queued for APPI (FFS12) in the transaction of the transition. now is the
// clock (nil: time.Now).
func WorkflowModule(now func() time.Time) Module {
	return ModuleFunc(func(s *Server) []Route {
		w := newWFRoutes(s, now)
		id := []Param{{Name: "id", In: "path", Type: "integer", Description: "Identifiant", Required: true}}
		return []Route{
			{Method: fiber.MethodPost, Path: "/api/measures/:id/transitions", Roles: measureMovers, Tag: "workflow",
				Summary: "Changer l'état d'une mesure de TIG (proposition, affectation, refus, début, suspension, reprise, fin, clôture) à la version lue",
				Params:  id, Body: TransitionBody{}, Response: &atigip.Measure{}, Status: fiber.StatusOK, Handler: w.transition},
			{Method: fiber.MethodPost, Path: "/api/measures/:id/hours", Roles: measureReporters, Tag: "workflow",
				Summary: "Déclarer les heures d'une journée (tuteur), à confirmer par le CPIP", Params: id,
				Body: workflow.HoursReport{}, Response: &atigip.MeasureLog{}, Handler: w.hours},
			{Method: fiber.MethodPost, Path: "/api/measures/:id/hours/:log/check", Roles: hoursCheckers, Tag: "workflow",
				Summary: "Confirmer ou refuser des heures déclarées (CPIP)",
				Params:  append(id, Param{Name: "log", In: "path", Type: "integer", Description: "Déclaration d'heures", Required: true}),
				Body:    workflow.HoursCheck{}, Response: &atigip.MeasureLog{}, Status: fiber.StatusOK, Handler: w.checkHours},
			{Method: fiber.MethodPost, Path: "/api/measures/:id/incidents", Roles: measureReporters, Tag: "workflow",
				Summary: "Enregistrer un incident (absence, comportement, accident)", Params: id,
				Body: workflow.IncidentReport{}, Response: &atigip.MeasureLog{}, Handler: w.incident},
			{Method: fiber.MethodPost, Path: "/api/measures/:id/absences", Roles: []atigip.Role{atigip.RolePerson}, Tag: "workflow",
				Summary: "Signaler son absence (la personne qui effectue le TIG) : un jour, une raison ; enregistrée comme incident, vue par le CPIP et le tuteur",
				Params:  id, Body: workflow.AbsenceReport{}, Response: &atigip.MeasureLog{}, Handler: w.absence},
			{Method: fiber.MethodGet, Path: "/api/measures/:id/history", Roles: historyReaders, Tag: "workflow",
				Summary: "Historique d'une mesure : transitions, heures, incidents, échéance et transitions possibles",
				Params:  id, Response: &workflow.MeasureHistory{}, Handler: w.history},

			{Method: fiber.MethodPost, Path: "/api/procedures", Roles: procRequesters, Tag: "habilitation",
				Summary: "Demander l'habilitation d'une structure d'accueil ou l'inscription d'un poste",
				Body:    workflow.ProcedureRequest{}, Response: &atigip.Procedure{}, Handler: w.request},
			{Method: fiber.MethodGet, Path: "/api/procedures", Roles: procReaders, Tag: "habilitation",
				Summary: "Lister les procédures d'habilitation et d'inscription",
				Params: []Param{{Name: "organisation_id", Type: "integer", Description: "Structure d'accueil"},
					{Name: "status", Type: "string", Description: "awaiting_opinions, granted, refused, expired"},
					{Name: "after", Type: "integer", Description: "Identifiants strictement supérieurs"}},
				Response: ListPage[*atigip.Procedure]{}, Handler: w.procedures},
			{Method: fiber.MethodGet, Path: "/api/procedures/:id", Roles: procReaders, Tag: "habilitation",
				Summary: "Lire une procédure, ses avis et sa décision", Params: id, Response: &atigip.Procedure{}, Handler: w.procedure},
			{Method: fiber.MethodPost, Path: "/api/procedures/:id/opinions", Roles: opinionGivers, Tag: "habilitation",
				Summary: "Donner l'avis du parquet ou du JAP (magistrat), ou enregistrer celui du préfet",
				Params:  id, Body: workflow.OpinionRequest{}, Response: &atigip.Procedure{}, Status: fiber.StatusOK, Handler: w.opinion},
			{Method: fiber.MethodPost, Path: "/api/procedures/:id/decision", Roles: []atigip.Role{atigip.RoleDSPIP}, Tag: "habilitation",
				Summary: "Décider (DSPIP, ou directeur territorial de la PJJ pour les postes de mineurs)",
				Params:  id, Body: workflow.DecisionRequest{}, Response: &atigip.Procedure{}, Status: fiber.StatusOK, Handler: w.decide},
			{Method: fiber.MethodPost, Path: "/api/procedures/expire", Roles: []atigip.Role{atigip.RoleDSPIP}, Tag: "habilitation",
				Summary: "Marquer expirées les habilitations échues", Response: ExpiryResult{}, Status: fiber.StatusOK, Handler: w.expire},

			{Method: fiber.MethodPost, Path: "/api/people/:id/clearance", Roles: prisonStaff, Tag: "ipro",
				Summary: "Enregistrer le classement au travail décidé par la CPU", Params: id,
				Body: ClearanceBody{}, Response: &atigip.Person{}, Status: fiber.StatusOK, Handler: w.clearance},
			{Method: fiber.MethodPost, Path: "/api/people/:id/transfer", Roles: prisonStaff, Tag: "ipro",
				Summary: "Transférer une personne détenue : le profil suit, les candidatures ouvertes sont closes",
				Params:  id, Body: workflow.TransferRequest{}, Response: &atigip.Person{}, Status: fiber.StatusOK, Handler: w.transfer},
			{Method: fiber.MethodPost, Path: "/api/offers/:id/applications", Roles: applicants, Tag: "ipro",
				Summary: "Candidater à un poste de travail ou une formation en détention", Params: id,
				Body: ApplyBody{}, Response: &atigip.Application{}, Handler: w.apply},
			{Method: fiber.MethodGet, Path: "/api/offers/:id/waiting-list", Roles: waitingReaders, Tag: "ipro",
				Summary: "Liste d'attente d'une offre, dans l'ordre", Params: id,
				Response: []*atigip.Application{}, Handler: w.waitingList},
			{Method: fiber.MethodPost, Path: "/api/applications/:id/transitions", Roles: applicants, Tag: "ipro",
				Summary: "Entretien, affectation (contrat), refus, retrait ou clôture d'une candidature, à la version lue",
				Params:  id, Body: AppTransitionBody{}, Response: &atigip.Application{}, Status: fiber.StatusOK, Handler: w.appTransition},
			{Method: fiber.MethodPost, Path: "/api/applications/:id/rank", Roles: prisonStaff, Tag: "ipro",
				Summary: "Déplacer une candidature sur la liste d'attente", Params: id,
				Body: RankBody{}, Response: []*atigip.Application{}, Status: fiber.StatusOK, Handler: w.rank},
		}
	})
}

type wfRoutes struct {
	s   *Server
	svc *workflow.Service
}

// newWFRoutes is the workflow's doors over s: the API routes and the
// site's forms both act through them, so a page never takes another path.
func newWFRoutes(s *Server, now func() time.Time) *wfRoutes {
	return &wfRoutes{s: s, svc: &workflow.Service{Store: s.Store(), Propose: flows.QueueProposal, Now: now}}
}

func pathID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, invalidParam(name, "Identifiant entier positif attendu.")
	}
	return id, nil
}

func (w *wfRoutes) transition(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	var b TransitionBody
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	m, err := w.transitionAt(c, id, b.Version, b.Transition)
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.JSON(m)
}

// transitionAt moves measure id, read at version, by t: the perimeter,
// then the workflow's rules (the rulebook for a proposal or an
// assignment), for the API and the pages alike.
func (w *wfRoutes) transitionAt(c *fiber.Ctx, id, version int64, t workflow.Transition) (*atigip.Measure, error) {
	if err := w.perimeter(c, atigip.KindMeasure, id); err != nil {
		return nil, err
	}
	if version <= 0 {
		return nil, invalidParam("version", "La version lue est obligatoire pour changer l'état d'une mesure.")
	}
	return w.svc.Transition(c.UserContext(), w.s.Principal(c), id, version, t)
}

func (w *wfRoutes) hours(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	if err := w.perimeter(c, atigip.KindMeasure, id); err != nil {
		return w.s.Problem(c, err)
	}
	var b workflow.HoursReport
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	l, err := w.reportHours(c, id, b)
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(l)
}

// reportHours is the door of an hours report on measure id: perimeter,
// then the workflow's rules (tutor of the post, daily and weekly caps).
func (w *wfRoutes) reportHours(c *fiber.Ctx, id int64, b workflow.HoursReport) (*atigip.MeasureLog, error) {
	if err := w.perimeter(c, atigip.KindMeasure, id); err != nil {
		return nil, err
	}
	return w.svc.ReportHours(c.UserContext(), w.s.Principal(c), id, b)
}

func (w *wfRoutes) checkHours(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	if err := w.perimeter(c, atigip.KindMeasure, id); err != nil {
		return w.s.Problem(c, err)
	}
	logID, err := pathID(c, "log")
	if err != nil {
		return w.s.Problem(c, err)
	}
	var b workflow.HoursCheck
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	l, err := w.checkHoursOf(c, id, logID, b)
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.JSON(l)
}

// checkHoursOf is the door of the CPIP's answer to report logID of
// measure id: perimeter (département, adults or minors), then the rules.
func (w *wfRoutes) checkHoursOf(c *fiber.Ctx, id, logID int64, b workflow.HoursCheck) (*atigip.MeasureLog, error) {
	if err := w.perimeter(c, atigip.KindMeasure, id); err != nil {
		return nil, err
	}
	return w.svc.CheckHours(c.UserContext(), w.s.Principal(c), id, logID, b)
}

func (w *wfRoutes) incident(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	var b workflow.IncidentReport
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	l, err := w.recordIncident(c, id, b)
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(l)
}

// recordIncident is the door of an incident on measure id.
func (w *wfRoutes) recordIncident(c *fiber.Ctx, id int64, b workflow.IncidentReport) (*atigip.MeasureLog, error) {
	if err := w.perimeter(c, atigip.KindMeasure, id); err != nil {
		return nil, err
	}
	return w.svc.RecordIncident(c.UserContext(), w.s.Principal(c), id, b)
}

func (w *wfRoutes) absence(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	if err := w.measureVisible(c, id); err != nil {
		return w.s.Problem(c, err)
	}
	var b workflow.AbsenceReport
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	l, err := w.reportAbsence(c, id, b)
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(l)
}

// reportAbsence is the door of a person's absence notice on measure id:
// their own measure only (another reads as absent), then the rules.
func (w *wfRoutes) reportAbsence(c *fiber.Ctx, id int64, b workflow.AbsenceReport) (*atigip.MeasureLog, error) {
	if err := w.measureVisible(c, id); err != nil {
		return nil, err
	}
	return w.svc.ReportAbsence(c.UserContext(), w.s.Principal(c), id, b)
}

// measureVisible applies the row rules of reading a measure: a person
// reads their own, a host the measures on its posts.
func (w *wfRoutes) measureVisible(c *fiber.Ctx, id int64) error {
	p := w.s.Principal(c)
	if p.Role != atigip.RolePerson && p.Role != atigip.RoleHost {
		return nil
	}
	ctx := c.UserContext()
	m, err := atigip.Of[*atigip.Measure](w.s.Store()).Get(ctx, id)
	if err != nil {
		return err
	}
	if p.Role == atigip.RolePerson {
		if p.PersonID == 0 || m.PersonID != p.PersonID {
			return notFound(atigip.KindMeasure)
		}
		return nil
	}
	if m.PostID == 0 || p.OrganisationID == 0 {
		return notFound(atigip.KindMeasure)
	}
	post, err := atigip.Of[*atigip.Post](w.s.Store()).Get(ctx, m.PostID)
	if err != nil || post.OrganisationID != p.OrganisationID {
		return notFound(atigip.KindMeasure)
	}
	return nil
}

// perimeter checks that record id of kind k lies in the principal's
// perimeter (perimeter.go): outside, it reads as not found. A missing
// record is left for the service to report.
func (w *wfRoutes) perimeter(c *fiber.Ctx, k atigip.Kind, id int64) error {
	e, err := w.s.Store().Entities(k).Get(c.UserContext(), id)
	if atigip.ErrorCode(err) == atigip.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	return w.s.inPerimeter(c, w.s.Principal(c), e, true)
}

func (w *wfRoutes) history(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	h, err := w.historyOf(c, id)
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.JSON(h)
}

// historyOf reads measure id's history for the principal: row rules and
// perimeter, the read audited (refused reads too).
func (w *wfRoutes) historyOf(c *fiber.Ctx, id int64) (*workflow.MeasureHistory, error) {
	err := w.measureVisible(c, id)
	if err == nil {
		err = w.perimeter(c, atigip.KindMeasure, id)
	}
	if aerr := w.s.Audit(c, "read_history", atigip.KindMeasure, id, 0); aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	return w.svc.History(c.UserContext(), w.s.Principal(c), id)
}

func (w *wfRoutes) request(c *fiber.Ctx) error {
	var b workflow.ProcedureRequest
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	p, err := w.requestProcedure(c, b)
	if err != nil {
		return w.s.Problem(c, err)
	}
	c.Location("/api/procedures/" + strconv.FormatInt(p.ID, 10))
	return c.Status(fiber.StatusCreated).JSON(p)
}

// requestProcedure is the door of a habilitation or post registration
// request (the workflow checks who asks for which organisation).
func (w *wfRoutes) requestProcedure(c *fiber.Ctx, b workflow.ProcedureRequest) (*atigip.Procedure, error) {
	return w.svc.RequestProcedure(c.UserContext(), w.s.Principal(c), b)
}

func (w *wfRoutes) procedures(c *fiber.Ctx) error {
	p := w.s.Principal(c)
	f := atigip.ListFilter{Limit: MaxPerPage}
	var err error
	if v := c.Query("organisation_id"); v != "" {
		if f.Parent, err = strconv.ParseInt(v, 10, 64); err != nil || f.Parent <= 0 {
			return w.s.Problem(c, invalidParam("organisation_id", "Identifiant entier positif attendu."))
		}
	}
	if v := c.Query("after"); v != "" {
		if f.AfterID, err = strconv.ParseInt(v, 10, 64); err != nil || f.AfterID < 0 {
			return w.s.Problem(c, invalidParam("after", "Identifiant entier positif attendu."))
		}
	}
	if v := c.Query("status"); v != "" {
		if _, ok := atigip.ProcedureStatuses[atigip.ProcedureStatus(v)]; !ok {
			return w.s.Problem(c, invalidParam("status", "Statut inconnu (awaiting_opinions, granted, refused, expired)."))
		}
		f.Status = []string{v}
	}
	if p.Role == atigip.RoleHost {
		if p.OrganisationID == 0 || (f.Parent != 0 && f.Parent != p.OrganisationID) {
			return c.JSON(ListPage[*atigip.Procedure]{Items: []*atigip.Procedure{}, PerPage: MaxPerPage})
		}
		f.Parent = p.OrganisationID
	}
	items, total, err := atigip.Of[*atigip.Procedure](w.s.Store()).List(c.UserContext(), f)
	if err != nil {
		return w.s.Problem(c, err)
	}
	if items == nil {
		items = []*atigip.Procedure{}
	}
	out := ListPage[*atigip.Procedure]{Items: items, Total: total, PerPage: MaxPerPage}
	if n := len(items); n == MaxPerPage {
		out.NextAfter = items[n-1].ID
	}
	return c.JSON(out)
}

func (w *wfRoutes) procedure(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	proc, err := atigip.Of[*atigip.Procedure](w.s.Store()).Get(c.UserContext(), id)
	p := w.s.Principal(c)
	if err == nil && p.Role == atigip.RoleHost && proc.OrganisationID != p.OrganisationID {
		err = notFound(atigip.KindProcedure)
	}
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.JSON(proc)
}

func (w *wfRoutes) opinion(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	var b workflow.OpinionRequest
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	p, err := w.svc.GiveOpinion(c.UserContext(), w.s.Principal(c), id, b)
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.JSON(p)
}

func (w *wfRoutes) decide(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	var b workflow.DecisionRequest
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	p, err := w.svc.Decide(c.UserContext(), w.s.Principal(c), id, b)
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.JSON(p)
}

func (w *wfRoutes) expire(c *fiber.Ctx) error {
	now := time.Now
	if w.svc.Now != nil {
		now = w.svc.Now
	}
	n, err := w.svc.ExpireHabilitations(c.UserContext(), atigip.DateOf(now()))
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.JSON(ExpiryResult{Expired: n})
}

func (w *wfRoutes) clearance(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	if err := w.perimeter(c, atigip.KindPerson, id); err != nil {
		return w.s.Problem(c, err)
	}
	var b ClearanceBody
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	p, err := w.svc.Clear(c.UserContext(), w.s.Principal(c), id, b.Cleared)
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.JSON(p)
}

func (w *wfRoutes) transfer(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	if err := w.perimeter(c, atigip.KindPerson, id); err != nil {
		return w.s.Problem(c, err)
	}
	var b workflow.TransferRequest
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	p, _, err := w.svc.Transfer(c.UserContext(), w.s.Principal(c), id, b)
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.JSON(p)
}

func (w *wfRoutes) apply(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	var b ApplyBody
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	p := w.s.Principal(c)
	if b.PersonID == 0 && p.Role == atigip.RolePerson {
		b.PersonID = p.PersonID
	}
	// The application to be: its person or its offer in the perimeter.
	if ok, err := within(newLookup(c.UserContext(), w.s.Store()), p, &atigip.Application{PersonID: b.PersonID, OfferID: id}); err != nil {
		return w.s.Problem(c, err)
	} else if !ok {
		return w.s.Problem(c, outsidePerimeter(p))
	}
	a, err := w.svc.ApplyTo(c.UserContext(), p, id, b.PersonID, b.Note)
	if err != nil {
		return w.s.Problem(c, err)
	}
	c.Location("/api/applications/" + strconv.FormatInt(a.ID, 10))
	return c.Status(fiber.StatusCreated).JSON(a)
}

func (w *wfRoutes) waitingList(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	list, err := w.svc.WaitingList(c.UserContext(), id)
	if err != nil {
		return w.s.Problem(c, err)
	}
	// The order stays visible; the applications outside the perimeter
	// are left out.
	lk, p := newLookup(c.UserContext(), w.s.Store()), w.s.Principal(c)
	shown := list[:0]
	for _, a := range list {
		ok, err := within(lk, p, a)
		if err != nil {
			return w.s.Problem(c, err)
		}
		if ok {
			shown = append(shown, a)
		}
	}
	list = shown
	if err := w.s.Audit(c, "waiting_list", atigip.KindApplication, 0, len(list)); err != nil {
		return w.s.Problem(c, err)
	}
	return c.JSON(list)
}

func (w *wfRoutes) appTransition(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	if err := w.perimeter(c, atigip.KindApplication, id); err != nil {
		return w.s.Problem(c, err)
	}
	var b AppTransitionBody
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	if b.Version <= 0 {
		return w.s.Problem(c, invalidParam("version", "La version lue est obligatoire pour changer l'état d'une candidature."))
	}
	a, err := w.svc.AppTransitionTo(c.UserContext(), w.s.Principal(c), id, b.Version, b.AppTransition)
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.JSON(a)
}

func (w *wfRoutes) rank(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return w.s.Problem(c, err)
	}
	if err := w.perimeter(c, atigip.KindApplication, id); err != nil {
		return w.s.Problem(c, err)
	}
	var b RankBody
	if err := w.s.Decode(c, &b); err != nil {
		return w.s.Problem(c, err)
	}
	list, err := w.svc.MoveApplication(c.UserContext(), w.s.Principal(c), id, b.Rank)
	if err != nil {
		return w.s.Problem(c, err)
	}
	return c.JSON(list)
}
