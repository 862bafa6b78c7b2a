package httpapi

import (
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/caseload"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/internal/web/frfmt"
)

// CaseworkModule serves the workspaces of the TIG professionals: « Mes
// mesures » of the CPIP and the PJJ educator (caseload, person and
// measure page, ranked posts, proposal to the judge, follow-up), the
// judge's proposals to decide and opinions to give, and the director's
// procedures and global assignment reviewed pair by pair. Every action
// goes through the API's own code (wfRoutes, MatchingModule): the same
// perimeter, rules and audit.
type CaseworkModule struct {
	// Matching ranks posts and runs global assignments: the server's
	// MatchingModule (nil: no ranking, no global assignment).
	Matching *MatchingModule
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	once  sync.Once
	index *caseload.Index
}

// load is the caseload q at today, from the module's index of the
// server's store (built at first use, then following the change feed).
func (m *CaseworkModule) load(s *Server, c *fiber.Ctx, q caseload.Query) (caseload.Page, error) {
	m.once.Do(func() { m.index = caseload.NewIndex(s.Store()) })
	return m.index.Load(c.UserContext(), q, m.today())
}

var (
	caseRoles  = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP}
	judgeRoles = []atigip.Role{atigip.RoleMagistrate, atigip.RoleClerk}
	dirRoles   = []atigip.Role{atigip.RoleDSPIP}
)

func (m *CaseworkModule) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *CaseworkModule) today() atigip.Date { return atigip.DateOf(m.now()) }

// Routes implements Module.
func (m *CaseworkModule) Routes(s *Server) []Route {
	w := newWFRoutes(s, m.Now)
	id := Param{Name: "id", In: "path", Type: "integer", Description: "Identifiant", Required: true}
	q := func(name, typ, desc string) Param {
		return Param{Name: name, In: "query", Type: typ, Description: desc}
	}
	get := func(p, summary string, roles []atigip.Role, h fiber.Handler, ps ...Param) Route {
		return Route{Method: fiber.MethodGet, Path: p, Tag: "site", Produces: htmlType, Roles: roles, Summary: summary, Handler: h, Params: ps}
	}
	post := func(p, summary string, roles []atigip.Role, h fiber.Handler, ps ...Param) Route {
		return Route{Method: fiber.MethodPost, Path: p, Tag: "site", Produces: htmlType, Roles: roles, Summary: summary,
			Status: fiber.StatusSeeOther, Handler: h, Params: ps}
	}
	job := Param{Name: "job", In: "path", Type: "string", Description: "Identifiant de la tâche", Required: true}
	done := q("fait", "string", "Action qui vient d'aboutir (message de confirmation)")
	rs := []Route{
		get("/mesures", "Mes mesures : les mesures de TIG du périmètre, par état, échéance et alertes ; triables, filtrables, paginées", caseRoles,
			m.caseload(s), q("etat", "string", "État de la mesure"), q("alerte", "string", "echeance, sans-proposition ou incident"),
			q("q", "string", "Début du pseudonyme ou du numéro APPI"), q("tri", "string", "echeance, heures, etat ou personne"),
			q("ordre", "string", "asc ou desc"), q("page", "integer", "Page (1 d'abord)")),
		get("/mesures/:id", "Fiche d'une mesure : la personne, ses contraintes, le fil de la mesure, les postes classés et expliqués", caseRoles,
			m.measure(s, w), id, done),
		post("/mesures/:id/proposer", "Proposer un poste au juge (FFS12 vers APPI), à la version lue ; refusé avec la règle enfreinte", caseRoles,
			m.propose(s, w), id),
		post("/mesures/:id/etat", "Suivi : début d'exécution, suspension, reprise, fin ou clôture de la mesure, à la version lue", caseRoles,
			m.move(s, w), id),
		post("/mesures/:id/incidents", "Enregistrer un incident (absence, comportement, accident)", caseRoles, m.incident(s, w), id),
		get("/juge", "Décisions du juge : propositions à trancher et avis d'habilitation à donner", judgeRoles, m.judge(s, w),
			q("page", "integer", "Page (1 d'abord)"), done),
		post("/juge/mesures/:id", "Affecter ou refuser (avec motif) une proposition de poste, à la version lue", []atigip.Role{atigip.RoleMagistrate},
			m.decide(s, w), id),
		post("/juge/procedures/:id/avis", "Donner l'avis du parquet ou du JAP sur une habilitation ou une inscription de poste",
			[]atigip.Role{atigip.RoleMagistrate}, m.judgeOpinion(s, w), id),
		get("/direction", "Direction : procédures d'habilitation et d'inscription, échéances et renouvellements", dirRoles, m.direction(s), done),
		get("/direction/procedures/:id", "Procédure d'habilitation ou d'inscription : avis reçus et décision", dirRoles, m.procedure(s, w), id, done),
		post("/direction/procedures/:id/decision", "Décider une habilitation ou une inscription de poste", dirRoles, m.procDecision(s, w), id),
		post("/direction/procedures/:id/avis", "Enregistrer l'avis du préfet reçu par courrier", dirRoles, m.prefectOpinion(s, w), id),
	}
	if m.Matching != nil {
		rs = append(rs,
			get("/direction/affectation", "Proposition d'affectation globale sur le périmètre", dirRoles, m.assignment(s), done),
			post("/direction/affectation", "Lancer une proposition d'affectation globale sur le périmètre", dirRoles, m.startAssignment(s)),
			get("/direction/affectation/:job", "Revue paire par paire d'une proposition d'affectation globale", dirRoles, m.assignmentJob(s), job, done),
			post("/direction/affectation/:job", "Accepter ou rejeter chaque paire, puis proposer au juge les paires acceptées", dirRoles,
				m.reviewAssignment(s, w), job),
		)
	}
	return rs
}

// HomeCards implements HomeContributor.
func (m *CaseworkModule) HomeCards(s *Server, c *fiber.Ctx, p atigip.Principal) ([]web.HomeCard, error) {
	var cards []web.HomeCard
	switch p.Role {
	case atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP:
		pg, err := m.load(s, c, caseQuery(p, caseload.Query{Open: true}))
		if err != nil {
			return nil, err
		}
		card := web.HomeCard{Title: "Mes mesures", URL: "/mesures",
			Desc: "Les mesures de TIG de votre périmètre : placement, proposition au juge, suivi."}
		card.Waiting = append(card.Waiting, frfmt.Plural(pg.Total, "mesure en cours", "mesures en cours"))
		for _, f := range []caseload.Flag{caseload.FlagNoProposal, caseload.FlagDeadline, caseload.FlagIncident} {
			if n := pg.ByFlag[f]; n > 0 {
				card.Waiting = append(card.Waiting, flagCount(f, n))
			}
		}
		cards = append(cards, card)
		if p.Role == atigip.RoleDSPIP {
			d, err := m.directionData(c, s)
			if err != nil {
				return nil, err
			}
			card := web.HomeCard{Title: "Habilitations et affectations", URL: "/direction",
				Desc: "Procédures d'habilitation et d'inscription de postes ; proposition d'affectation globale."}
			ready := 0
			for _, r := range d.Awaiting {
				if r.Ready {
					ready++
				}
			}
			card.Waiting = append(card.Waiting, frfmt.Plural(ready, "décision à prendre", "décisions à prendre"),
				frfmt.Plural(len(d.Awaiting)-ready, "procédure en attente d'avis", "procédures en attente d'avis"))
			if len(d.Expiring) > 0 {
				card.Waiting = append(card.Waiting, frfmt.Plural(len(d.Expiring), "habilitation à renouveler", "habilitations à renouveler"))
			}
			cards = append(cards, card)
		}
	case atigip.RoleMagistrate, atigip.RoleClerk:
		props, _, err := proposalsAwaiting(c, s, 0)
		if err != nil {
			return nil, err
		}
		ops, err := opinionsAwaiting(c, s, m.today())
		if err != nil {
			return nil, err
		}
		cards = append(cards, web.HomeCard{Title: "Décisions du juge", URL: "/juge",
			Desc: "Propositions de poste à trancher et avis d'habilitation à donner.",
			Waiting: []string{frfmt.Plural(props, "proposition à trancher", "propositions à trancher"),
				frfmt.Plural(len(ops), "avis à donner", "avis à donner")}})
	}
	return cards, nil
}

func flagCount(f caseload.Flag, n int) string {
	switch f {
	case caseload.FlagNoProposal:
		return frfmt.Plural(n, "mesure sans proposition", "mesures sans proposition")
	case caseload.FlagDeadline:
		return frfmt.Plural(n, "échéance proche", "échéances proches")
	}
	return frfmt.Plural(n, "mesure avec incident", "mesures avec incident")
}

// caseQuery restricts q to p's perimeter: the département, and adults for
// a CPIP, minors for a PJJ educator (perimeter.go).
func caseQuery(p atigip.Principal, q caseload.Query) caseload.Query {
	q.Departement = departementOf(p)
	switch p.Role {
	case atigip.RoleCPIP:
		f := false
		q.Minors = &f
	case atigip.RolePJJ:
		t := true
		q.Minors = &t
	}
	return q
}

// formOf reads the named fields of the posted form, trimmed.
func formOf(c *fiber.Ctx, names ...string) web.Form {
	f := web.Form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, n := range names {
		f.Values[n] = strings.TrimSpace(c.FormValue(n))
	}
	return f
}

// fail puts err's messages on the form: each field's next to it (fields
// renamed by rename, e.g. the broken rules next to the post), the rest as
// the form's message.
func fail(f *web.Form, err error, rename func(string) string) {
	fields := atigip.ErrorFields(err)
	placed := false
	for _, fe := range fields {
		name := fe.Field
		if rename != nil {
			name = rename(name)
		}
		if _, ok := f.Values[name]; ok {
			if f.Errors[name] != "" {
				f.Errors[name] += " "
			}
			f.Errors[name] += fe.Message
			placed = true
		}
	}
	if !placed || len(fields) == 0 {
		f.Message = atigip.ErrorMessage(err)
	}
}

// formFailure reports whether err is the user's to correct (shown on the
// form) rather than a page error.
func formFailure(err error) bool {
	switch atigip.ErrorCode(err) {
	case atigip.EINVALID, atigip.ECONFLICT, atigip.EFORBIDDEN:
		return true
	}
	return false
}

// csrfRefused is the answer to a form without its token.
func (s *Server) csrfRefused(c *fiber.Ctx) error {
	return s.Problem(c, atigip.Errorf(atigip.EFORBIDDEN, "Le formulaire a expiré ou ne vient pas de ce site : rechargez la page et envoyez-le de nouveau."))
}

// formTarget checks a posted form's CSRF token and reads the id of the
// record of kind it acts on from the route. When ok is false the refusal
// has been answered: the handler returns err.
func (s *Server) formTarget(c *fiber.Ctx, kind atigip.Kind) (id int64, ok bool, err error) {
	if !csrfValid(c) {
		return 0, false, s.csrfRefused(c)
	}
	id, err = parseID(c)
	if err != nil {
		return 0, false, s.Problem(c, notFound(kind))
	}
	return id, true, nil
}

func casesURL(path string, v url.Values) string {
	if e := v.Encode(); e != "" {
		return path + "?" + e
	}
	return path
}

func isoDate(d atigip.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

func frDate(d atigip.Date) string {
	if d.IsZero() {
		return ""
	}
	return frfmt.Date(d.Time)
}

// parseDay reads a yyyy-mm-dd field ("" is the zero date).
func parseDay(f *web.Form, name string) atigip.Date {
	v := f.Values[name]
	if v == "" {
		return atigip.Date{}
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		f.Errors[name] = "Date attendue au format jj/mm/aaaa."
		return atigip.Date{}
	}
	return atigip.DateOf(t)
}
