package httpapi

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/flows"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/internal/web/frfmt"
	"github.com/atigip/atigip360/internal/workflow"
)

// IPROModule serves the IPRO 360 workspaces on the site: « Mon
// établissement » for prison staff (offers, floor spaces, waiting lists,
// interviews, the governor's assignment, CPU clearance, transfers), the
// detainee's kiosk (offers open to them and why, applying in two steps,
// their applications), the professional profile with its French CV, and
// the business's space (its concessionnaire offers, its floor-space
// requests). Every action goes through the API's doors: the workflow
// service for applications, clearance and transfers, createEntity and
// updateEntity for offers and profiles.
type IPROModule struct {
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// prisons and companies are set by Routes: one of each per server.
	prisons   *prisonList
	companies *companyOffers
	// KioskIdle is the kiosk's idle sign-out (0: 3 minutes).
	KioskIdle time.Duration
}

var (
	iproStaff    = []atigip.Role{atigip.RolePrisonStaff}
	iproKiosk    = []atigip.Role{atigip.RolePerson}
	iproProfile  = []atigip.Role{atigip.RolePerson, atigip.RoleCPIP, atigip.RolePrisonStaff}
	iproEditors  = []atigip.Role{atigip.RoleCPIP, atigip.RolePrisonStaff}
	iproBusiness = []atigip.Role{atigip.RoleBusiness}
	iproOffer    = []atigip.Role{atigip.RolePrisonStaff, atigip.RoleBusiness}
)

// iproPerPage is the length of the workspaces' lists.
const iproPerPage = 25

func (m IPROModule) svc(s *Server) *workflow.Service {
	return &workflow.Service{Store: s.Store(), Propose: flows.QueueProposal, Now: m.Now}
}

func (m IPROModule) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m IPROModule) idle() time.Duration {
	if m.KioskIdle > 0 {
		return m.KioskIdle
	}
	return 3 * time.Minute
}

// Routes implements Module.
func (m IPROModule) Routes(s *Server) []Route {
	m.prisons, m.companies = &prisonList{}, &companyOffers{}
	id := Param{Name: "id", In: "path", Type: "integer", Description: "Identifiant", Required: true}
	q := func(name, typ, desc string) Param {
		return Param{Name: name, In: "query", Type: typ, Description: desc}
	}
	page := q("page", "integer", "Page de la liste")
	get := func(p string, roles []atigip.Role, summary string, h fiber.Handler, ps ...Param) Route {
		return Route{Method: fiber.MethodGet, Path: p, Tag: "ipro-site", Produces: htmlType, Roles: roles, Summary: summary, Params: ps, Handler: h}
	}
	post := func(p string, roles []atigip.Role, summary string, h fiber.Handler, ps ...Param) Route {
		return Route{Method: fiber.MethodPost, Path: p, Tag: "ipro-site", Produces: htmlType, Roles: roles, Summary: summary,
			Params: ps, Status: fiber.StatusSeeOther, Handler: h}
	}
	return []Route{
		get("/ipro/etablissement", iproStaff, "Mon établissement : offres, surfaces, personnes détenues (classement, transfert), publication d'une offre",
			m.establishment(s), page, q("page_personnes", "integer", "Page des personnes détenues"),
			q("etablissement", "integer", "Établissement (personnel national)"), q("ok", "string", "Action réussie")),
		post("/ipro/etablissement/offres", iproStaff, "Publier une offre de travail ou de formation (formulaire, jeton CSRF)", m.publish(s),
			q("etablissement", "integer", "Établissement (personnel national)")),
		get("/ipro/offres/:id", iproOffer, "Une offre : fiche, modification à la version lue, candidatures à classer (liste d'attente)",
			m.offer(s), id, q("ok", "string", "Action réussie")),
		post("/ipro/offres/:id", iproOffer, "Modifier une offre à la version lue (« Modifié entre-temps » sinon)", m.editOffer(s), id),
		post("/ipro/candidatures/:id/etat", iproStaff, "Entretien, affectation par le chef d'établissement (règles du temps de travail), refus", m.appState(s), id),
		post("/ipro/candidatures/:id/rang", iproStaff, "Déplacer une candidature sur la liste d'attente", m.appRank(s), id),
		post("/ipro/personnes/:id/classement", iproStaff, "Enregistrer la décision de la CPU (classement au travail)", m.clear(s), id),
		post("/ipro/etablissement/transferts", iproStaff, "Transférer une personne détenue (le profil suit) : champs personne, vers, motif", m.transfer(s)),

		get("/ipro/kiosque", iproKiosk, "Espace de la personne détenue (borne) : offres de l'établissement, demandes, place sur la liste d'attente",
			m.kiosk(s), q("envoye", "integer", "Offre demandée à l'instant")),
		get("/ipro/kiosque/offres/:id", iproKiosk, "Borne : une offre, ce qu'elle demande, confirmation de la demande (étape 2)", m.kioskOffer(s), id),
		post("/ipro/kiosque/offres/:id", iproKiosk, "Borne : confirmer la demande (candidature)", m.kioskApply(s), id),
		{Method: fiber.MethodGet, Path: "/ipro/kiosque/fin", Tag: "ipro-site", Produces: htmlType,
			Summary: "Fin de session de la borne : efface la session (inactivité ou bouton « J'ai fini »)",
			Params:  []Param{q("inactif", "boolean", "Fin par inactivité")}, Handler: m.kioskEnd(s)},

		get("/ipro/profil/:id", iproProfile, "Profil professionnel : métiers et compétences ROME, diplômes, expérience (détention comprise), souhaits, mobilité",
			m.profile(s), id, q("rome", "string", "Recherche dans le répertoire ROME (métiers et compétences)"), q("ok", "string", "Action réussie")),
		post("/ipro/profil/:id", iproEditors, "Modifier le profil professionnel à la version lue", m.editProfile(s), id),
		{Method: fiber.MethodGet, Path: "/ipro/profil/:id/cv.pdf", Tag: "ipro-site", Produces: "application/pdf", Roles: iproProfile,
			Summary: "CV en français (PDF) tiré du profil professionnel", Params: []Param{id}, Handler: m.cv(s)},
		{Method: fiber.MethodGet, Path: "/ipro/rome", Tag: "ipro-site", Roles: iproProfile, Response: []romeSuggestion{},
			Summary: "Recherche au fil de la frappe dans le répertoire ROME (métiers et compétences)",
			Params:  []Param{q("q", "string", "Texte cherché")}, Handler: m.rome(s)},

		get("/ipro/entreprise", iproBusiness, "Espace entreprise (concessionnaire) : offres de l'entreprise par établissement, candidatures, demandes de surface",
			m.business(s), page),
		post("/ipro/entreprise/offres", iproBusiness, "Publier une offre de concessionnaire dans un établissement (formulaire, jeton CSRF)", m.businessPublish(s)),
	}
}

// HomeCards implements HomeContributor.
func (m IPROModule) HomeCards(s *Server, c *fiber.Ctx, p atigip.Principal) ([]web.HomeCard, error) {
	ctx := c.UserContext()
	switch p.Role {
	case atigip.RolePrisonStaff:
		card := web.HomeCard{Title: "Mon établissement", URL: "/ipro/etablissement",
			Desc: "Offres de travail et de formation, surfaces, candidatures à classer, classement CPU et transferts."}
		if p.PrisonID != 0 {
			offers, err := atigip.Of[*atigip.Offer](s.store).All(ctx, atigip.ListFilter{Parent: p.PrisonID, Status: []string{string(atigip.OfferOpen)}})
			if err != nil {
				return nil, err
			}
			waiting := 0
			for _, o := range offers {
				n, err := waitingCount(c, s, o.ID)
				if err != nil {
					return nil, err
				}
				waiting += n
			}
			card.Waiting = append(card.Waiting, plural(len(offers), "offre ouverte", "offres ouvertes"),
				plural(waiting, "candidature à classer", "candidatures à classer"))
		}
		return []web.HomeCard{card}, nil
	case atigip.RolePerson:
		if p.PersonID == 0 {
			return nil, nil
		}
		cards := []web.HomeCard{{Title: "Mon profil professionnel", URL: "/ipro/profil/" + strconv.FormatInt(p.PersonID, 10),
			Desc: "Vos métiers, compétences, diplômes et expériences ; votre CV à télécharger."}}
		if p.PrisonID != 0 {
			apps, err := atigip.Of[*atigip.Application](s.store).All(ctx, atigip.ListFilter{Owner: p.PersonID,
				Status: []string{string(atigip.AppSubmitted), string(atigip.AppInterview)}})
			if err != nil {
				return nil, err
			}
			cards = append([]web.HomeCard{{Title: "Travail et formation", URL: "/ipro/kiosque",
				Desc:    "Les offres de votre établissement. Demander un travail ou une formation.",
				Waiting: []string{plural(len(apps), "demande en attente", "demandes en attente")}}}, cards...)
		}
		return cards, nil
	case atigip.RoleBusiness:
		card := web.HomeCard{Title: "Mon entreprise en détention", URL: "/ipro/entreprise",
			Desc: "Les offres de votre entreprise dans les établissements, leurs candidatures, vos demandes de surface."}
		if p.SIRET != "" {
			n := 0
			err := atigip.Of[*atigip.Offer](s.store).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.OfferOpen)}}, func(o *atigip.Offer) error {
				if atigip.CompanyCovers(p.SIRET, o.EmployerSIRET) {
					n++
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			card.Waiting = []string{plural(n, "offre ouverte", "offres ouvertes")}
		}
		return []web.HomeCard{card}, nil
	}
	return nil, nil
}

func plural(n int, one, many string) string {
	if n <= 1 {
		return strconv.Itoa(n) + " " + one
	}
	return strconv.Itoa(n) + " " + many
}

// waitingCount is the number of applications on offer id's waiting list.
func waitingCount(c *fiber.Ctx, s *Server, id int64) (int, error) {
	apps, err := atigip.Of[*atigip.Application](s.store).All(c.UserContext(), atigip.ListFilter{Parent: id,
		Status: []string{string(atigip.AppSubmitted), string(atigip.AppInterview)}})
	return len(apps), err
}

// pageParam reads a page number (1 when absent or wrong).
func pageParam(c *fiber.Ctx, name string) int {
	n, err := strconv.Atoi(c.Query(name))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// pageOf cuts items to page n of iproPerPage.
func pageOf[T any](items []T, n int) ([]T, int, int) {
	pages := max(1, (len(items)+iproPerPage-1)/iproPerPage)
	n = min(max(n, 1), pages)
	lo := (n - 1) * iproPerPage
	hi := min(lo+iproPerPage, len(items))
	return items[lo:hi], n, pages
}

// formError sends a refused action back to the page: the problem's
// French message, with the fields' messages.
func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	for _, f := range atigip.ErrorFields(err) {
		if _, ok := out[f.Field]; !ok {
			out[f.Field] = f.Message
		}
	}
	if len(out) == 0 {
		out[""] = errMessage(err)
	}
	return out
}

// errMessage is the French message of a coded error.
func errMessage(err error) string { return atigip.ErrorMessage(err) }

// userFacing reports whether err is a refusal to show in the form (bad
// input, conflict, forbidden), not a failure of the service.
func userFacing(err error) bool {
	switch atigip.ErrorCode(err) {
	case atigip.EINVALID, atigip.ECONFLICT, atigip.EFORBIDDEN:
		return true
	}
	return false
}

// editOutcome is how an edit form's save went, when it did not.
type editOutcome struct {
	saved    bool              // saved: redirect to the record's page
	status   int               // the re-rendered form's status
	errs     map[string]string // the messages next to the fields
	conflict bool              // another version was saved since the form was read
}

// saveEdit saves edited (record id of kind) through the API's door unless
// errs already holds the form's own refusals. A refusal the user can act
// on comes back in the outcome; any other failure is the error. changed
// says the form was read at another version than the stored one: a
// conflict then shows the stored version beside the user's input.
func (s *Server) saveEdit(c *fiber.Ctx, kind atigip.Kind, id int64, edited atigip.Entity, errs map[string]string, changed bool) (editOutcome, error) {
	var err error
	if len(errs) == 0 {
		err = s.updateEntity(c, policies[kind], id, edited)
		if err == nil {
			return editOutcome{saved: true}, nil
		}
		if !userFacing(err) {
			return editOutcome{}, err
		}
		errs = fieldErrors(err)
	}
	out := editOutcome{status: fiber.StatusBadRequest, errs: errs}
	if err != nil {
		out.status = problemOf(err).Status
	}
	out.conflict = atigip.ErrorCode(err) == atigip.ECONFLICT && changed
	return out, nil
}

func dayChoices() []web.Domain {
	var out []web.Domain
	for d := 1; d <= 7; d++ {
		out = append(out, web.Domain{Code: strconv.Itoa(d), Label: capital(frfmt.Day(d))})
	}
	return out
}

func capital(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// prisonList keeps the establishments' names for the pages' choices for
// a minute: the list (about 190) changes a few times a year, and reading
// it whole on every page would dominate « Mon établissement ».
type prisonList struct {
	mu      sync.Mutex
	at      time.Time
	choices []web.Domain
	byID    map[int64]*atigip.Prison
}

const prisonListTTL = time.Minute

func (pl *prisonList) get(c *fiber.Ctx, s *Server) ([]web.Domain, map[int64]*atigip.Prison, error) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.byID != nil && time.Since(pl.at) < prisonListTTL {
		return slices.Clone(pl.choices), pl.byID, nil
	}
	all, err := atigip.Of[*atigip.Prison](s.store).All(c.UserContext(), atigip.ListFilter{})
	if err != nil {
		return nil, nil, err
	}
	byID := map[int64]*atigip.Prison{}
	var out []web.Domain
	for _, p := range all {
		byID[p.ID] = p
		out = append(out, web.Domain{Code: strconv.FormatInt(p.ID, 10), Label: p.Name + " (" + p.Address.Departement + ")"})
	}
	slices.SortFunc(out, func(a, b web.Domain) int { return strings.Compare(a.Label, b.Label) })
	pl.at, pl.choices, pl.byID = time.Now(), out, byID
	return slices.Clone(out), byID, nil
}

// companyOffers indexes the offers carrying a company (concessionnaires)
// by SIREN, rebuilt by one scan at most every companyTTL: the store has no
// key for an offer's company, and scanning every offer of the country on
// each visit of a business's space would cost hundreds of milliseconds.
// The offers themselves are read fresh (by id) and checked again; an
// offer given a company elsewhere than this server's pages appears within
// companyTTL.
type companyOffers struct {
	mu    sync.Mutex
	at    time.Time
	bySIR map[string][]int64
}

const companyTTL = 30 * time.Second

// ids returns the ids of the offers whose company's SIREN is siren.
func (co *companyOffers) ids(c *fiber.Ctx, s *Server, siren string) ([]int64, error) {
	co.mu.Lock()
	defer co.mu.Unlock()
	if co.bySIR == nil || time.Since(co.at) >= companyTTL {
		by := map[string][]int64{}
		err := atigip.Of[*atigip.Offer](s.store).Scan(c.UserContext(), atigip.ListFilter{}, func(o *atigip.Offer) error {
			if len(o.EmployerSIRET) >= 9 {
				by[o.EmployerSIRET[:9]] = append(by[o.EmployerSIRET[:9]], o.ID)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		co.at, co.bySIR = time.Now(), by
	}
	return slices.Clone(co.bySIR[siren]), nil
}

// add records an offer this server just gave a company.
func (co *companyOffers) add(siret string, id int64) {
	co.mu.Lock()
	defer co.mu.Unlock()
	if co.bySIR != nil && len(siret) >= 9 {
		co.bySIR[siret[:9]] = append(co.bySIR[siret[:9]], id)
	}
}
