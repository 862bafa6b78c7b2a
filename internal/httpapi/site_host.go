package httpapi

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/internal/web/frfmt"
	"github.com/atigip/atigip360/internal/workflow"
)

// HostModule serves the host organisation's workspace (« Ma structure » :
// posts, habilitation and registration procedures, the tigistes hosted and
// the week grid of their hours, incidents), « Ma mesure » for the person
// doing a TIG (hours, deadline, post, absence notice), and the CPIP's
// confirmation of the hours a tutor reported. Every form acts through the
// API's doors (createEntity, updateEntity, wfRoutes), never beside them.
type HostModule struct {
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

var (
	hostRoles   = []atigip.Role{atigip.RoleHost}
	personRoles = []atigip.Role{atigip.RolePerson}
)

// hostedIndexes holds one workflow.HostedIndex per store, shared by the
// pages and « Mon espace » (a HostModule is a value, rebuilt at will;
// the index must outlive it to save the national scan).
var hostedIndexes sync.Map // atigip.Store → *workflow.HostedIndex

func hostedIndexOf(st atigip.Store) *workflow.HostedIndex {
	x, _ := hostedIndexes.LoadOrStore(st, &workflow.HostedIndex{Store: st})
	return x.(*workflow.HostedIndex)
}

// hostPostsPerPage is the page size of the host's posts.
const hostPostsPerPage = 20

type hostPages struct {
	s   *Server
	w   *wfRoutes
	now func() time.Time
}

// Routes implements Module.
func (m HostModule) Routes(s *Server) []Route {
	now := m.Now
	if now == nil {
		now = time.Now
	}
	h := &hostPages{s: s, w: newWFRoutes(s, m.Now), now: now}
	id := Param{Name: "id", In: "path", Type: "integer", Description: "Identifiant", Required: true}
	q := func(name, typ, desc string) Param {
		return Param{Name: name, In: "query", Type: typ, Description: desc}
	}
	get := func(path, summary string, roles []atigip.Role, hd fiber.Handler, ps ...Param) Route {
		return Route{Method: fiber.MethodGet, Path: path, Tag: "site", Produces: htmlType, Roles: roles, Summary: summary, Params: ps, Handler: hd}
	}
	post := func(path, summary string, roles []atigip.Role, hd fiber.Handler, ps ...Param) Route {
		return Route{Method: fiber.MethodPost, Path: path, Tag: "site", Produces: htmlType, Roles: roles, Summary: summary, Params: ps,
			Status: fiber.StatusSeeOther, Handler: hd}
	}
	return []Route{
		get("/structure", "Ma structure d'accueil : habilitation et procédures, postes (paginés), tigistes accueillis", hostRoles, h.home,
			q("page", "integer", "Page des postes")),
		get("/structure/postes/nouveau", "Formulaire de création d'un poste de TIG (brouillon)", hostRoles, h.newPost),
		post("/structure/postes", "Créer un poste (formulaire, jeton CSRF) ; mêmes règles que POST /api/posts", hostRoles, h.createPost),
		get("/structure/postes/:id", "Formulaire de modification d'un poste de la structure (ouvrir, fermer, horaires…)", hostRoles, h.editPost, id),
		post("/structure/postes/:id", "Modifier un poste à la version lue (formulaire) ; mêmes règles que PUT /api/posts/{id}", hostRoles, h.updatePost, id),
		post("/structure/postes/:id/inscription", "Demander l'inscription d'un poste (procédure post_registration)", hostRoles, h.register, id),
		post("/structure/habilitation", "Demander l'habilitation de la structure ou son renouvellement", hostRoles, h.habilitation),
		get("/structure/heures", "Déclaration des heures : grille de la semaine, lundi à dimanche, par tigiste", hostRoles, h.hours,
			q("semaine", "string", "Un jour de la semaine (AAAA-MM-JJ) ; la semaine en cours par défaut")),
		post("/structure/heures", "Déclarer les heures de la semaine (une déclaration par case remplie ; plafonds légaux par jour et par semaine)", hostRoles, h.reportWeek),
		post("/structure/incidents", "Signaler un incident (absence, comportement, accident) sur un tigiste accueilli", hostRoles, h.incident),
		get("/ma-mesure", "Ma mesure : heures faites et restantes, échéance, poste, horaires, contact, absences", personRoles, h.myMeasure,
			q("envoye", "integer", "1 après un signalement d'absence")),
		post("/ma-mesure/absence", "Signaler une absence avec sa raison ; mêmes règles que POST /api/measures/{id}/absences", personRoles, h.absence),
		get("/mesures/:id/heures", "Heures déclarées par le tuteur, à confirmer ou contester (CPIP, éducateur PJJ)", hoursCheckers, h.checkPage, id),
		post("/mesures/:id/heures/:log", "Confirmer ou contester une déclaration d'heures ; mêmes règles que POST /api/measures/{id}/hours/{log}/check",
			hoursCheckers, h.check, id, Param{Name: "log", In: "path", Type: "integer", Description: "Déclaration d'heures", Required: true}),
		get("/heures-a-confirmer", "Heures déclarées en attente de confirmation dans le périmètre (paginées)", hoursCheckers, h.pending,
			q("page", "integer", "Page")),
	}
}

// pageNum reads ?page= (1 by default).
func pageNum(c *fiber.Ctx) int {
	n, err := strconv.Atoi(c.Query("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// formOK checks the CSRF token of a submitted form.
func formOK(c *fiber.Ctx) error {
	if !csrfValid(c) {
		return errCSRF
	}
	return nil
}

// render renders a page of the module with its CSRF token.
func (h *hostPages) render(c *fiber.Ctx, status int, name, title, nav string, d any, crumbs ...web.Crumb) error {
	l := h.s.layout(c, title, nav, crumbs...)
	l.CSRF = h.s.csrfToken(c)
	return h.s.page(c, status, name, l, d)
}

// organisation is the host principal's organisation.
func (h *hostPages) organisation(c *fiber.Ctx) (*atigip.Organisation, error) {
	p := h.s.Principal(c)
	if p.OrganisationID == 0 {
		return nil, atigip.Errorf(atigip.EFORBIDDEN, "Votre compte n'est rattaché à aucune structure d'accueil.")
	}
	return atigip.Of[*atigip.Organisation](h.s.Store()).Get(c.UserContext(), p.OrganisationID)
}

// orgPosts are all the posts of organisation id, by id.
func orgPosts(ctx context.Context, st atigip.Store, id int64) (map[int64]*atigip.Post, error) {
	out := map[int64]*atigip.Post{}
	err := atigip.Of[*atigip.Post](st).Scan(ctx, atigip.ListFilter{Parent: id}, func(p *atigip.Post) error {
		out[p.ID] = p
		return nil
	})
	return out, err
}

var procKinds = map[atigip.ProcedureKind]string{
	atigip.ProcHabilitation: "Habilitation de la structure",
	"post_registration":     "Inscription d'un poste",
}

func (h *hostPages) home(c *fiber.Ctx) error {
	return h.renderHome(c, fiber.StatusOK, nil)
}

func (h *hostPages) renderHome(c *fiber.Ctx, status int, errs []atigip.FieldError) error {
	ctx, st := c.UserContext(), h.s.Store()
	org, err := h.organisation(c)
	if err != nil {
		return h.s.Problem(c, err)
	}
	d := web.HostPage{Org: org, HabLabel: atigip.HabilitationStatuses[org.Habilitation.Status], HabExpires: org.Habilitation.ExpiresAt,
		Errors: errs, Flash: hostFlash(c)}
	switch org.Habilitation.Status {
	case atigip.HabNone, atigip.HabRefused, atigip.HabExpired:
		d.CanRenew = true
	case atigip.HabHabilitated:
		exp := org.Habilitation.ExpiresAt
		d.CanRenew = exp != nil && !atigip.DateOf(*exp).After(atigip.DateOf(h.now()).AddDays(workflow.RenewalDays).Time)
	}
	page := pageNum(c)
	items, total, err := atigip.Of[*atigip.Post](st).List(ctx, atigip.ListFilter{Parent: org.ID, Limit: hostPostsPerPage, Offset: (page - 1) * hostPostsPerPage})
	if err != nil {
		return h.s.Problem(c, err)
	}
	procs, _, err := atigip.Of[*atigip.Procedure](st).List(ctx, atigip.ListFilter{Parent: org.ID, Limit: 100})
	if err != nil {
		return h.s.Problem(c, err)
	}
	pending := map[int64]bool{}
	titles := map[int64]string{}
	for _, p := range items {
		titles[p.ID] = p.Title
	}
	slices.SortFunc(procs, func(a, b *atigip.Procedure) int { return b.RequestedAt.Compare(a.RequestedAt) })
	for _, pr := range procs {
		if pr.Status == atigip.ProcAwaiting && pr.PostID != 0 {
			pending[pr.PostID] = true
		}
		hp := web.HostProcedure{ID: pr.ID, Kind: procKinds[pr.ProcKind], Status: atigip.ProcedureStatuses[pr.Status],
			Requested: pr.RequestedAt, Deadline: pr.OpinionDeadline, Opinions: len(pr.Opinions)}
		if hp.Kind == "" {
			hp.Kind = string(pr.ProcKind)
		}
		if pr.PostID != 0 {
			if t, ok := titles[pr.PostID]; ok {
				hp.Post = t
			} else if p, err := atigip.Of[*atigip.Post](st).Get(ctx, pr.PostID); err == nil {
				hp.Post = p.Title
			}
		}
		if pr.DecidedAt != nil {
			hp.Decision = strings.TrimSpace(pr.Authority + " — " + pr.Reason)
			hp.Decision = strings.TrimSuffix(strings.TrimPrefix(hp.Decision, "— "), " —")
		}
		if len(d.Procedures) < 20 {
			d.Procedures = append(d.Procedures, hp)
		}
	}
	for _, p := range items {
		d.Posts = append(d.Posts, web.HostPost{Post: p, StatusLabel: atigip.PostStatuses[p.Status], HoursPerWeek: p.Schedule.HoursPerWeek(),
			Draft: p.Status == atigip.PostDraft && !pending[p.ID], Pending: pending[p.ID]})
	}
	d.TotalPosts = total
	d.Pager = web.NewPager(page, (total+hostPostsPerPage-1)/hostPostsPerPage, func(n int) string { return "/structure?page=" + strconv.Itoa(n) + "#postes" })
	all, err := orgPosts(ctx, st, org.ID)
	if err != nil {
		return h.s.Problem(c, err)
	}
	hosted, err := hostedIndexOf(st).HostedOn(ctx, all)
	if err != nil {
		return h.s.Problem(c, err)
	}
	d.Hosted = len(hosted)
	return h.render(c, status, "structure", "Ma structure d'accueil", "espace", d, web.Crumb{Label: "Mon espace", URL: "/espace"})
}

// hostFlash is the confirmation shown after a Post/Redirect/Get.
func hostFlash(c *fiber.Ctx) string {
	switch {
	case c.Query("cree") != "":
		return "Le poste a été créé à l'état brouillon. Demandez son inscription pour qu'il puisse accueillir des tigistes."
	case c.Query("modifie") != "":
		return "Les modifications du poste sont enregistrées."
	case c.Query("inscription") != "":
		return "La demande d'inscription du poste est transmise : le parquet et le JAP donnent leur avis, puis le DSPIP décide."
	case c.Query("habilitation") != "":
		return "La demande d'habilitation est transmise : le parquet et le JAP donnent leur avis, puis le DSPIP décide."
	}
	return ""
}

// --- Posts ---------------------------------------------------------------

var dayLabels = [7]string{"Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"}

// postFormOf fills the form with a post's values.
func postFormOf(p *atigip.Post) web.PostForm {
	f := web.PostForm{ID: p.ID, Version: p.Version, Title: p.Title, Description: p.Description, ROME: strings.Join(p.ROMECodes, ", "),
		Places: strconv.Itoa(p.Places), Street: p.Address.Street, Postcode: p.Address.Postcode, City: p.Address.City,
		Minors: p.MinorsAccepted, Wheelchair: p.WheelchairAccess, Transport: p.PublicTransport, Medical: p.MedicalCheck,
		Visibility: string(p.Visibility), Status: string(p.Status)}
	var per [7][]string
	for _, sl := range p.Schedule.Slots {
		if sl.Day >= 1 && sl.Day <= 7 {
			per[sl.Day-1] = append(per[sl.Day-1], sl.Start+"-"+sl.End)
		}
	}
	for i := range f.Days {
		f.Days[i] = web.DayField{Name: "jour" + strconv.Itoa(i+1), Label: dayLabels[i], Value: strings.Join(per[i], ", ")}
	}
	return f
}

// statusChoices are the states a host may put a post in from cur: a draft
// leaves its state only by registration, « complet » follows the places.
func statusChoices(cur atigip.PostStatus) []web.Domain {
	var out []web.Domain
	add := func(s atigip.PostStatus) {
		out = append(out, web.Domain{Code: string(s), Label: atigip.PostStatuses[s]})
	}
	switch cur {
	case atigip.PostDraft:
		add(atigip.PostDraft)
	case atigip.PostFull:
		add(atigip.PostFull)
		add(atigip.PostClosed)
	default:
		add(atigip.PostRegistered)
		add(atigip.PostOpen)
		add(atigip.PostClosed)
	}
	return out
}

// readPostForm reads the submitted form, as typed.
func readPostForm(c *fiber.Ctx) web.PostForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	f := web.PostForm{Title: v("title"), Description: v("description"), ROME: strings.ToUpper(v("rome")), Places: v("places"),
		Minors: c.FormValue("minors") != "", Wheelchair: c.FormValue("wheelchair") != "", Transport: c.FormValue("transport") != "",
		Medical: c.FormValue("medical") != "", Visibility: v("visibility"), Status: v("status")}
	f.Version, _ = strconv.ParseInt(v("version"), 10, 64)
	for i := range f.Days {
		name := "jour" + strconv.Itoa(i+1)
		f.Days[i] = web.DayField{Name: name, Label: dayLabels[i], Value: v(name)}
	}
	return f
}

// applyPostForm writes the form onto p; the errors it finds are keyed by
// form field.
func applyPostForm(f web.PostForm, p *atigip.Post) map[string]string {
	errs := map[string]string{}
	p.Title, p.Description = f.Title, f.Description
	p.ROMECodes = nil
	for _, r := range strings.FieldsFunc(f.ROME, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		p.ROMECodes = append(p.ROMECodes, r)
	}
	if n, err := strconv.Atoi(f.Places); err != nil {
		errs["places"] = "Indiquez un nombre entier de places (1 à 1 000)."
	} else {
		p.Places = n
	}
	p.MinorsAccepted, p.WheelchairAccess, p.PublicTransport, p.MedicalCheck = f.Minors, f.Wheelchair, f.Transport, f.Medical
	p.Visibility = atigip.Visibility(f.Visibility)
	if f.Status != "" {
		p.Status = atigip.PostStatus(f.Status)
	}
	var slots []atigip.Slot
	for i, d := range f.Days {
		for _, part := range strings.Split(d.Value, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			a, b, ok := strings.Cut(strings.ReplaceAll(strings.ReplaceAll(part, "h", ":"), "–", "-"), "-")
			sl := atigip.Slot{Day: i + 1, Start: clockOf(a), End: clockOf(b)}
			if _, _, okm := sl.Minutes(); !ok || !okm || sl.Hours() <= 0 {
				errs[d.Name] = "Horaire du " + strings.ToLower(d.Label) + " invalide : écrivez par exemple « 09:00-12:00, 14:00-17:00 »."
				continue
			}
			slots = append(slots, sl)
		}
	}
	p.Schedule = atigip.Schedule{Slots: slots}
	return errs
}

// clockOf normalises « 9:00 » or « 9: » to « 09:00 ».
func clockOf(s string) string {
	s = strings.TrimSpace(s)
	h, m, _ := strings.Cut(s, ":")
	if m == "" {
		m = "00"
	}
	if len(h) == 1 {
		h = "0" + h
	}
	return h + ":" + m
}

// postField maps an API field to the form's.
func postField(api string) string {
	switch {
	case api == "title", api == "description", api == "places", api == "status", api == "visibility":
		return api
	case strings.HasPrefix(api, "rome"):
		return "rome"
	case strings.HasPrefix(api, "schedule"):
		return "schedule"
	}
	return "form"
}

func mergeErrors(dst map[string]string, err error) {
	fs := atigip.ErrorFields(err)
	if len(fs) == 0 {
		dst["form"] = atigip.ErrorMessage(err)
		return
	}
	for _, fe := range fs {
		k := postField(fe.Field)
		if _, ok := dst[k]; !ok {
			dst[k] = fe.Message
		}
	}
}

// formError tells a refusal to show on the form (4xx of the rules) from
// a failure (5xx), which goes to the error page.
func formError(err error) bool {
	switch atigip.ErrorCode(err) {
	case atigip.EINVALID, atigip.ECONFLICT, atigip.EFORBIDDEN:
		return true
	}
	return false
}

func (h *hostPages) renderPost(c *fiber.Ctx, status int, f web.PostForm, org *atigip.Organisation) error {
	title := "Nouveau poste"
	if f.ID != 0 {
		title = "Modifier le poste"
	}
	if f.Street == "" && f.City == "" && org != nil {
		f.Street, f.Postcode, f.City = org.Address.Street, org.Address.Postcode, org.Address.City
	}
	return h.render(c, status, "structure-poste", title, "espace", f,
		web.Crumb{Label: "Mon espace", URL: "/espace"}, web.Crumb{Label: "Ma structure d'accueil", URL: "/structure"})
}

func (h *hostPages) newPost(c *fiber.Ctx) error {
	org, err := h.organisation(c)
	if err != nil {
		return h.s.Problem(c, err)
	}
	f := postFormOf(&atigip.Post{Places: 1, Visibility: atigip.VisibilityPublic, Status: atigip.PostDraft})
	f.Statuses = statusChoices(atigip.PostDraft)
	return h.renderPost(c, fiber.StatusOK, f, org)
}

func (h *hostPages) createPost(c *fiber.Ctx) error {
	if err := formOK(c); err != nil {
		return h.s.Problem(c, err)
	}
	org, err := h.organisation(c)
	if err != nil {
		return h.s.Problem(c, err)
	}
	f := readPostForm(c)
	f.Statuses = statusChoices(atigip.PostDraft)
	p := &atigip.Post{OrganisationID: org.ID, Address: org.Address, Location: org.Location, Status: atigip.PostDraft}
	f.Status = ""
	f.Errors = applyPostForm(f, p)
	if len(f.Errors) == 0 {
		e, err := h.s.createEntity(c, policies[atigip.KindPost], p)
		if err == nil {
			return c.Redirect("/structure?cree="+strconv.FormatInt(e.GetMeta().ID, 10), fiber.StatusSeeOther)
		}
		if !formError(err) {
			return h.s.Problem(c, err)
		}
		mergeErrors(f.Errors, err)
	}
	return h.renderPost(c, fiber.StatusBadRequest, f, org)
}

// ownPost reads post id of the host's organisation (another's reads as
// absent, as in the API).
func (h *hostPages) ownPost(c *fiber.Ctx) (*atigip.Post, error) {
	id, err := parseID(c)
	if err != nil {
		return nil, err
	}
	p, err := atigip.Of[*atigip.Post](h.s.Store()).Get(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	if pr := h.s.Principal(c); pr.OrganisationID == 0 || p.OrganisationID != pr.OrganisationID {
		return nil, notFound(atigip.KindPost)
	}
	return p, nil
}

func (h *hostPages) editPost(c *fiber.Ctx) error {
	p, err := h.ownPost(c)
	if err != nil {
		return h.s.Problem(c, err)
	}
	f := postFormOf(p)
	f.Statuses = statusChoices(p.Status)
	return h.renderPost(c, fiber.StatusOK, f, nil)
}

func (h *hostPages) updatePost(c *fiber.Ctx) error {
	if err := formOK(c); err != nil {
		return h.s.Problem(c, err)
	}
	cur, err := h.ownPost(c)
	if err != nil {
		return h.s.Problem(c, err)
	}
	f := readPostForm(c)
	f.ID, f.Street, f.Postcode, f.City = cur.ID, cur.Address.Street, cur.Address.Postcode, cur.Address.City
	f.Statuses = statusChoices(cur.Status)
	next := *cur
	next.Meta.Version = f.Version
	f.Errors = applyPostForm(f, &next)
	if f.Version != cur.Version {
		// « Modifié entre-temps »: show the other version's values, keep
		// the user's, and let them save over it knowingly.
		other := postFormOf(cur)
		f.Conflict, f.Version = &other, cur.Version
		f.Errors["form"] = "Modifié entre-temps : quelqu'un a enregistré une autre version de ce poste pendant que vous le modifiiez. Comparez avec ses valeurs ci-dessous, puis enregistrez de nouveau pour garder les vôtres."
		return h.renderPost(c, fiber.StatusConflict, f, nil)
	}
	if len(f.Errors) == 0 {
		err := h.s.updateEntity(c, policies[atigip.KindPost], cur.ID, &next)
		if err == nil {
			return c.Redirect("/structure?modifie="+strconv.FormatInt(cur.ID, 10), fiber.StatusSeeOther)
		}
		if !formError(err) {
			return h.s.Problem(c, err)
		}
		mergeErrors(f.Errors, err)
	}
	return h.renderPost(c, fiber.StatusBadRequest, f, nil)
}

func (h *hostPages) register(c *fiber.Ctx) error {
	if err := formOK(c); err != nil {
		return h.s.Problem(c, err)
	}
	p, err := h.ownPost(c)
	if err != nil {
		return h.s.Problem(c, err)
	}
	_, err = h.w.requestProcedure(c, workflow.ProcedureRequest{Kind: "post_registration", OrganisationID: p.OrganisationID, PostID: p.ID,
		Minors: p.MinorsAccepted})
	if err != nil {
		if !formError(err) {
			return h.s.Problem(c, err)
		}
		return h.renderHome(c, fiber.StatusConflict, []atigip.FieldError{{Field: "inscription", Message: "Inscription du poste « " + p.Title + " » : " + atigip.ErrorMessage(err)}})
	}
	return c.Redirect("/structure?inscription=1#procedures", fiber.StatusSeeOther)
}

func (h *hostPages) habilitation(c *fiber.Ctx) error {
	if err := formOK(c); err != nil {
		return h.s.Problem(c, err)
	}
	org, err := h.organisation(c)
	if err != nil {
		return h.s.Problem(c, err)
	}
	_, err = h.w.requestProcedure(c, workflow.ProcedureRequest{Kind: atigip.ProcHabilitation, OrganisationID: org.ID,
		Minors: c.FormValue("minors") != ""})
	if err != nil {
		if !formError(err) {
			return h.s.Problem(c, err)
		}
		return h.renderHome(c, fiber.StatusConflict, []atigip.FieldError{{Field: "habilitation", Message: "Demande d'habilitation : " + atigip.ErrorMessage(err)}})
	}
	return c.Redirect("/structure?habilitation=1#procedures", fiber.StatusSeeOther)
}

// --- Hours ---------------------------------------------------------------

// hosted lists the tigistes of the host's organisation with their
// pseudonyms, the read audited.
func (h *hostPages) hosted(c *fiber.Ctx, org *atigip.Organisation) ([]workflow.Hosted, map[int64]*atigip.Person, error) {
	ctx, st := c.UserContext(), h.s.Store()
	posts, err := orgPosts(ctx, st, org.ID)
	if err != nil {
		return nil, nil, err
	}
	hs, err := hostedIndexOf(st).HostedOn(ctx, posts)
	if err != nil {
		return nil, nil, err
	}
	people := map[int64]*atigip.Person{}
	ids := make([]int64, 0, len(hs))
	for _, x := range hs {
		pe, err := atigip.Of[*atigip.Person](st).Get(ctx, x.Measure.PersonID)
		if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
			return nil, nil, err
		}
		people[x.Measure.PersonID] = pe
		ids = append(ids, x.Measure.ID)
	}
	if len(ids) > 0 {
		if err := h.s.AuditAll(c, "host_roster", atigip.KindMeasure, ids, len(ids)); err != nil {
			return nil, nil, err
		}
	}
	return hs, people, nil
}

// mondayOf reads ?semaine= (any day of the week; this week by default).
func (h *hostPages) mondayOf(v string) (atigip.Date, error) {
	if v == "" {
		return workflow.WeekOf(atigip.DateOf(h.now())), nil
	}
	d, err := atigip.ParseDate(v)
	if err != nil {
		return atigip.Date{}, invalidParam("semaine", "Date attendue au format AAAA-MM-JJ.")
	}
	return workflow.WeekOf(d), nil
}

func cellName(mid int64, d atigip.Date) string {
	return "h-" + strconv.FormatInt(mid, 10) + "-" + d.String()
}

// hoursPage builds the week grid; typed holds the values of a refused
// submission, errs its messages, by cell name.
func (h *hostPages) hoursPage(c *fiber.Ctx, monday atigip.Date, typed, errs map[string]string) (web.HoursPage, error) {
	org, err := h.organisation(c)
	if err != nil {
		return web.HoursPage{}, err
	}
	hs, people, err := h.hosted(c, org)
	if err != nil {
		return web.HoursPage{}, err
	}
	today := atigip.DateOf(h.now())
	rows, err := workflow.Week(c.UserContext(), h.s.Store(), hs, monday, today, func(id int64) (*atigip.Person, error) { return people[id], nil })
	if err != nil {
		return web.HoursPage{}, err
	}
	d := web.HoursPage{Monday: monday, Kinds: incidentKinds()}
	errs = maps.Clone(errs)
	week := func(m atigip.Date) string { return "/structure/heures?semaine=" + m.String() }
	d.Prev = week(monday.AddDays(-7))
	if next := monday.AddDays(7); !next.After(today.Time) {
		d.Next = week(next)
	}
	for i := range d.Days {
		day := monday.AddDays(i)
		d.Days[i] = web.DayHead{Date: day, Label: dayLabels[i][:3] + ". " + day.Format("02/01"),
			Long: strings.ToLower(dayLabels[i]) + " " + frfmt.Date(day.Time)}
	}
	for _, r := range rows {
		pseudo := "Tigiste n° " + strconv.FormatInt(r.Measure.ID, 10)
		if pe := people[r.Measure.PersonID]; pe != nil && pe.Pseudonym != "" {
			pseudo = pe.Pseudonym
		}
		hr := web.HoursRow{MeasureID: r.Measure.ID, Pseudonym: pseudo, Post: r.Post.Title, State: atigip.MeasureStates[r.Measure.State],
			Total: r.Total, Limit: r.Limit, DayLimit: r.DayLimit, Minor: r.Minor, HoursDone: r.Measure.HoursDone,
			HoursLeft: r.Measure.HoursLeft(), Ordered: float64(r.Measure.HoursOrdered)}
		for i, cell := range r.Cells {
			name := cellName(r.Measure.ID, cell.Date)
			hr.Cells[i] = web.HoursCell{Name: name, ID: name, Value: typed[name], Reported: cell.Reported, Pending: cell.Pending,
				Confirmed: cell.Confirmed, Open: cell.Open, Error: errs[name]}
		}
		d.Rows = append(d.Rows, hr)
		for _, cl := range hr.Cells {
			delete(errs, cl.Name)
		}
		d.Incident.Choices = append(d.Incident.Choices, web.Domain{Code: strconv.FormatInt(r.Measure.ID, 10), Label: pseudo + " — " + r.Post.Title})
	}
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		d.Others = append(d.Others, errs[k])
	}
	return d, nil
}

func incidentKinds() []web.Domain {
	return []web.Domain{{Code: string(atigip.IncidentAbsence), Label: "Absence"}, {Code: string(atigip.IncidentBehaviour), Label: "Comportement"},
		{Code: string(atigip.IncidentAccident), Label: "Accident"}}
}

func (h *hostPages) renderHours(c *fiber.Ctx, status int, d web.HoursPage) error {
	return h.render(c, status, "structure-heures", "Heures de la semaine du "+frfmt.Date(d.Monday.Time), "espace", d,
		web.Crumb{Label: "Mon espace", URL: "/espace"}, web.Crumb{Label: "Ma structure d'accueil", URL: "/structure"})
}

func (h *hostPages) hours(c *fiber.Ctx) error {
	monday, err := h.mondayOf(c.Query("semaine"))
	if err != nil {
		return h.s.Problem(c, err)
	}
	d, err := h.hoursPage(c, monday, nil, nil)
	if err != nil {
		return h.s.Problem(c, err)
	}
	if n, _ := strconv.Atoi(c.Query("enregistre")); n > 0 {
		d.Flash = frfmt.Plural(n, "déclaration enregistrée", "déclarations enregistrées") + ". Le CPIP (ou l'éducateur PJJ) va les confirmer."
	}
	if c.Query("incident") != "" {
		d.Flash = "L'incident est enregistré ; le CPIP (ou l'éducateur PJJ) en est informé."
	}
	return h.renderHours(c, fiber.StatusOK, d)
}

// parseHours reads « 7 », « 7,5 », « 7.5 » or « 7h30 ».
func parseHours(v string) (float64, bool) {
	v = strings.ReplaceAll(strings.TrimSpace(v), ",", ".")
	if hh, mm, ok := strings.Cut(strings.ToLower(v), "h"); ok {
		a, err := strconv.Atoi(strings.TrimSpace(hh))
		b := 0
		if mm = strings.TrimSpace(mm); mm != "" {
			var err2 error
			if b, err2 = strconv.Atoi(mm); err2 != nil || b < 0 || b >= 60 {
				return 0, false
			}
		}
		return float64(a) + float64(b)/60, err == nil
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

func (h *hostPages) reportWeek(c *fiber.Ctx) error {
	if err := formOK(c); err != nil {
		return h.s.Problem(c, err)
	}
	monday, err := h.mondayOf(c.FormValue("semaine"))
	if err != nil {
		return h.s.Problem(c, err)
	}
	typed, errs := map[string]string{}, map[string]string{}
	saved := 0
	// The cells in the grid's order: day by day, so that a day's cap
	// counts what was just stored before it.
	type cell struct {
		name string
		mid  int64
		day  atigip.Date
	}
	var cells []cell
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		name := string(k)
		rest, ok := strings.CutPrefix(name, "h-")
		if !ok || strings.TrimSpace(string(v)) == "" {
			return
		}
		typed[name] = strings.TrimSpace(string(v))
		ms, ds, ok := strings.Cut(rest, "-")
		mid, err1 := strconv.ParseInt(ms, 10, 64)
		day, err2 := atigip.ParseDate(ds)
		if !ok || err1 != nil || err2 != nil || workflow.WeekOf(day) != monday {
			errs[name] = "Case inconnue dans cette semaine."
			return
		}
		cells = append(cells, cell{name, mid, day})
	})
	slices.SortFunc(cells, func(a, b cell) int {
		if x := a.day.Compare(b.day.Time); x != 0 {
			return x
		}
		return int(a.mid - b.mid)
	})
	for _, x := range cells {
		hrs, ok := parseHours(typed[x.name])
		if !ok {
			errs[x.name] = "Nombre d'heures invalide : écrivez par exemple 7 ou 7,5."
			continue
		}
		_, err := h.w.reportHours(c, x.mid, workflow.HoursReport{Date: x.day, Hours: hrs})
		if err != nil {
			if !formError(err) && atigip.ErrorCode(err) != atigip.ENOTFOUND {
				return h.s.Problem(c, err)
			}
			if fs := atigip.ErrorFields(err); len(fs) > 0 {
				errs[x.name] = fs[0].Message
			} else {
				errs[x.name] = atigip.ErrorMessage(err)
			}
			continue
		}
		saved++
		delete(typed, x.name)
	}
	if len(errs) == 0 {
		return c.Redirect("/structure/heures?semaine="+monday.String()+"&enregistre="+strconv.Itoa(saved), fiber.StatusSeeOther)
	}
	d, err := h.hoursPage(c, monday, typed, errs)
	if err != nil {
		return h.s.Problem(c, err)
	}
	d.Saved, d.Failed = saved, len(errs)
	return h.renderHours(c, fiber.StatusBadRequest, d)
}

func (h *hostPages) incident(c *fiber.Ctx) error {
	if err := formOK(c); err != nil {
		return h.s.Problem(c, err)
	}
	monday, err := h.mondayOf(c.FormValue("semaine"))
	if err != nil {
		return h.s.Problem(c, err)
	}
	f := web.IncidentForm{Date: strings.TrimSpace(c.FormValue("date")), Kind: c.FormValue("incident"), Note: strings.TrimSpace(c.FormValue("note")),
		Errors: map[string]string{}}
	f.MeasureID, _ = strconv.ParseInt(c.FormValue("measure_id"), 10, 64)
	day, derr := atigip.ParseDate(f.Date)
	if derr != nil {
		f.Errors["date"] = "Indiquez la date de l'incident (jj/mm/aaaa)."
	}
	if f.MeasureID <= 0 {
		f.Errors["measure_id"] = "Choisissez le tigiste concerné."
	}
	if len(f.Errors) == 0 {
		_, err := h.w.recordIncident(c, f.MeasureID, workflow.IncidentReport{Date: day, Incident: atigip.IncidentKind(f.Kind), Note: f.Note})
		if err == nil {
			return c.Redirect("/structure/heures?semaine="+monday.String()+"&incident=1", fiber.StatusSeeOther)
		}
		if !formError(err) && atigip.ErrorCode(err) != atigip.ENOTFOUND {
			return h.s.Problem(c, err)
		}
		for _, fe := range atigip.ErrorFields(err) {
			k := fe.Field
			if k == "incident" || k == "note" || k == "date" {
				f.Errors[k] = fe.Message
			}
		}
		if len(f.Errors) == 0 {
			f.Errors["measure_id"] = atigip.ErrorMessage(err)
		}
	}
	d, err := h.hoursPage(c, monday, nil, nil)
	if err != nil {
		return h.s.Problem(c, err)
	}
	f.Choices = d.Incident.Choices
	d.Incident = f
	return h.renderHours(c, fiber.StatusBadRequest, d)
}

// --- « Mon espace » --------------------------------------------------------

// HomeCards implements HomeContributor: the host's structure with the
// tigistes whose week has no hours yet; the person's measure; the hours
// waiting for the CPIP's confirmation.
func (m HostModule) HomeCards(s *Server, c *fiber.Ctx, p atigip.Principal) ([]web.HomeCard, error) {
	now := m.Now
	if now == nil {
		now = time.Now
	}
	ctx, st := c.UserContext(), s.Store()
	switch p.Role {
	case atigip.RoleHost:
		card := web.HomeCard{Title: "Ma structure d'accueil", URL: "/structure",
			Desc: "Vos postes, votre habilitation, les tigistes accueillis et la déclaration de leurs heures."}
		if p.OrganisationID == 0 {
			return []web.HomeCard{card}, nil
		}
		posts, err := orgPosts(ctx, st, p.OrganisationID)
		if err != nil {
			return nil, err
		}
		hs, err := hostedIndexOf(st).HostedOn(ctx, posts)
		if err != nil {
			return nil, err
		}
		monday := workflow.WeekOf(atigip.DateOf(now()))
		toReport := 0
		for _, x := range hs {
			if x.Measure.State != atigip.MeasureInProgress {
				continue
			}
			found := false
			err := atigip.Of[*atigip.MeasureLog](st).Scan(ctx, atigip.ListFilter{Parent: x.Measure.ID}, func(l *atigip.MeasureLog) error {
				if l.LogType == atigip.LogHours && workflow.WeekOf(l.Date) == monday {
					found = true
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			if !found {
				toReport++
			}
		}
		drafts := 0
		for _, po := range posts {
			if po.Status == atigip.PostDraft {
				drafts++
			}
		}
		card.Waiting = append(card.Waiting, frfmt.Plural(len(hs), "tigiste accueilli", "tigistes accueillis"))
		if toReport > 0 {
			card.Waiting = append(card.Waiting, frfmt.Plural(toReport, "tigiste sans heures déclarées cette semaine", "tigistes sans heures déclarées cette semaine"))
		}
		if drafts > 0 {
			card.Waiting = append(card.Waiting, frfmt.Plural(drafts, "poste en brouillon", "postes en brouillon"))
		}
		return []web.HomeCard{card}, nil
	case atigip.RolePerson:
		card := web.HomeCard{Title: "Ma mesure", URL: "/ma-mesure",
			Desc: "Vos heures de travail d'intérêt général, la date limite, votre poste et que faire si vous êtes malade ou empêché."}
		if p.PersonID == 0 {
			return []web.HomeCard{card}, nil
		}
		ms, err := atigip.Of[*atigip.Measure](st).All(ctx, atigip.ListFilter{Parent: p.PersonID}) // Parent: indexed, as Owner is not for measures
		if err != nil {
			return nil, err
		}
		if cur := currentMeasure(ms); cur != nil {
			card.Waiting = append(card.Waiting, frfmt.Hours(cur.HoursLeft())+" à effectuer avant le "+frfmt.Date(cur.Deadline(atigip.DateOf(now())).Time))
		}
		return []web.HomeCard{card}, nil
	case atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP:
		card := web.HomeCard{Title: "Heures à confirmer", URL: "/heures-a-confirmer",
			Desc: "Les heures déclarées par les tuteurs des structures d'accueil, à confirmer ou contester."}
		n, err := pendingCount(ctx, st, p)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			card.Waiting = append(card.Waiting, frfmt.Plural(n, "déclaration d'heures à confirmer", "déclarations d'heures à confirmer"))
		}
		return []web.HomeCard{card}, nil
	}
	return nil, nil
}

// currentMeasure is the measure a person is doing now: the latest one
// still open, else the latest.
func currentMeasure(ms []*atigip.Measure) *atigip.Measure {
	var cur *atigip.Measure
	for _, m := range ms {
		open := m.State != atigip.MeasureCompleted && m.State != atigip.MeasureClosedFailed
		curOpen := cur != nil && cur.State != atigip.MeasureCompleted && cur.State != atigip.MeasureClosedFailed
		if cur == nil || (open && !curOpen) || (open == curOpen && m.SentenceDate.After(cur.SentenceDate.Time)) {
			cur = m
		}
	}
	return cur
}

// DemoExamples implements DemoHinter: the organisation hosting the most
// tigistes in progress, one of them (person), and the département and
// role that follow them, so that a visitor of the demonstration can try
// the host's workspace, « Ma mesure » and the confirmation of hours.
func (HostModule) DemoExamples(ctx context.Context, st atigip.Store) ([]string, error) {
	perPost := map[int64][]*atigip.Measure{}
	err := atigip.Of[*atigip.Measure](st).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.MeasureInProgress)}}, func(m *atigip.Measure) error {
		if m.PostID != 0 {
			perPost[m.PostID] = append(perPost[m.PostID], m)
		}
		return nil
	})
	if err != nil || len(perPost) == 0 {
		return nil, err
	}
	perOrg := map[int64][]*atigip.Measure{}
	for post, ms := range perPost {
		p, err := atigip.Of[*atigip.Post](st).Get(ctx, post)
		if err != nil {
			continue
		}
		perOrg[p.OrganisationID] = append(perOrg[p.OrganisationID], ms...)
	}
	var org int64
	for id, ms := range perOrg {
		if len(ms) > len(perOrg[org]) || (len(ms) == len(perOrg[org]) && id < org) {
			org = id
		}
	}
	ms := perOrg[org]
	slices.SortFunc(ms, func(a, b *atigip.Measure) int { return int(a.ID - b.ID) })
	m := ms[0]
	follower := "CPIP"
	if m.Minor {
		follower = "éducateur PJJ"
	}
	return []string{
		fmt.Sprintf("Structure d'accueil / tuteur : structure n° %d (%s en cours).", org, frfmt.Plural(len(ms), "tigiste", "tigistes")),
		fmt.Sprintf("Personne suivie : personne n° %d (« Ma mesure »).", m.PersonID),
		fmt.Sprintf("%s : département %s (confirmation des heures de la mesure n° %d).", follower, m.Departement, m.ID),
	}, nil
}
