package httpapi

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/internal/workflow"
)

// staffPrison is the establishment a staff member works in: their own,
// or for national staff (PrisonID 0) the one asked (?etablissement=).
func staffPrison(c *fiber.Ctx, s *Server) (*atigip.Prison, error) {
	p := s.Principal(c)
	id := p.PrisonID
	if id == 0 {
		v, err := strconv.ParseInt(c.Query("etablissement"), 10, 64)
		if err != nil || v <= 0 {
			return nil, invalidParam("etablissement", "Personnel national : indiquez l'établissement (?etablissement=numéro).")
		}
		id = v
	}
	return atigip.Of[*atigip.Prison](s.store).Get(c.UserContext(), id)
}

var iproNotices = map[string]string{
	"publiee":    "L'offre est publiée.",
	"modifiee":   "L'offre est enregistrée.",
	"classement": "La décision de la CPU est enregistrée.",
	"transfert":  "Le transfert est enregistré : le profil professionnel suit la personne.",
	"entretien":  "L'entretien est prévu.",
	"affectee":   "La personne est affectée : le contrat est enregistré.",
	"refusee":    "La candidature est refusée.",
	"rang":       "La liste d'attente est mise à jour.",
	"profil":     "Le profil est enregistré.",
}

func (m IPROModule) establishmentPage(c *fiber.Ctx, s *Server) (*web.IPROEstablishment, error) {
	ctx := c.UserContext()
	pr, err := staffPrison(c, s)
	if err != nil {
		return nil, err
	}
	pg := &web.IPROEstablishment{Prison: pr, Days: dayChoices(), Notice: iproNotices[c.Query("ok")],
		Form: web.IPROOfferForm{Kind: string(atigip.OfferWork), EmployerKind: string(atigip.EmployerSEP), Places: "1",
			Start: "08:00", End: "12:00", Days: []int{1, 2, 3, 4, 5}}}
	// Offers with a PrisonID are work and training in prison: the page
	// is read from the store, never the whole list.
	base := "/ipro/etablissement?"
	if s.Principal(c).PrisonID == 0 {
		base += "etablissement=" + strconv.FormatInt(pr.ID, 10) + "&"
	}
	shown, n, pages, err := pageFrom[*atigip.Offer](c, s, atigip.ListFilter{Parent: pr.ID}, pageParam(c, "page"))
	if err != nil {
		return nil, err
	}
	pg.OffersPage = web.NewPager(n, pages, func(i int) string { return base + "page=" + strconv.Itoa(i) })
	for _, o := range shown {
		row, err := offerRow(c, s, o)
		if err != nil {
			return nil, err
		}
		pg.Waiting += row.Waiting
		pg.Offers = append(pg.Offers, row)
	}
	if pg.Floors, err = atigip.Of[*atigip.FloorSpace](s.store).All(ctx, atigip.ListFilter{Parent: pr.ID}); err != nil {
		return nil, err
	}
	pshown, pn, ppages, err := pageFrom[*atigip.Person](c, s, atigip.ListFilter{Parent: pr.ID, Status: []string{"detained"}}, pageParam(c, "page_personnes"))
	if err != nil {
		return nil, err
	}
	pg.PeoplePage = web.NewPager(pn, ppages, func(i int) string { return base + "page_personnes=" + strconv.Itoa(i) })
	ids := make([]int64, 0, len(pshown))
	for _, pe := range pshown {
		pg.People = append(pg.People, web.IPROPersonRow{ID: pe.ID, Pseudonym: pe.Pseudonym, Cleared: pe.WorkCleared, ClearedAt: pe.WorkClearedAt})
		ids = append(ids, pe.ID)
	}
	if len(ids) > 0 {
		if err := s.AuditAll(c, "ipro_establishment_people", atigip.KindPerson, ids, len(ids)); err != nil {
			return nil, err
		}
	}
	choices, _, err := m.prisons.get(c, s)
	if err != nil {
		return nil, err
	}
	pg.Prisons = slices.DeleteFunc(choices, func(d web.Domain) bool { return d.Code == strconv.FormatInt(pr.ID, 10) })
	return pg, nil
}

func offerRow(c *fiber.Ctx, s *Server, o *atigip.Offer) (web.IPROOfferRow, error) {
	n, err := waitingCount(c, s, o.ID)
	if err != nil {
		return web.IPROOfferRow{}, err
	}
	emp := atigip.EmployerKinds[o.EmployerKind]
	if o.EmployerName != "" {
		emp += " — " + o.EmployerName
	}
	return web.IPROOfferRow{Offer: o, KindLabel: atigip.OfferKinds[o.OfferKind], StatusLabel: atigip.OfferStatuses[o.Status],
		Employer: emp, PlacesLeft: o.PlacesLeft(), Waiting: n}, nil
}

func (m IPROModule) renderEstablishment(c *fiber.Ctx, s *Server, status int, pg *web.IPROEstablishment) error {
	l := s.layout(c, "Mon établissement", "espace", web.Crumb{Label: "Mon espace", URL: "/espace"})
	l.CSRF = s.csrfToken(c)
	return s.page(c, status, "ipro-etablissement", l, pg)
}

func (m IPROModule) establishment(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		pg, err := m.establishmentPage(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		return m.renderEstablishment(c, s, fiber.StatusOK, pg)
	}
}

// offerForm reads the offer form.
func offerForm(c *fiber.Ctx) web.IPROOfferForm {
	f := web.IPROOfferForm{Title: strings.TrimSpace(c.FormValue("titre")), Kind: c.FormValue("type"),
		EmployerKind: c.FormValue("employeur"), EmployerName: strings.TrimSpace(c.FormValue("employeur_nom")),
		ROME: strings.ToUpper(strings.TrimSpace(c.FormValue("rome"))), Places: strings.TrimSpace(c.FormValue("places")),
		Start: c.FormValue("debut"), End: c.FormValue("fin"), Description: strings.TrimSpace(c.FormValue("description")),
		Status: c.FormValue("statut")}
	f.Version, _ = strconv.ParseInt(c.FormValue("version"), 10, 64)
	for _, v := range c.Request().PostArgs().PeekMulti("jours") {
		if d, err := strconv.Atoi(string(v)); err == nil && d >= 1 && d <= 7 && !f.HasDay(d) {
			f.Days = append(f.Days, d)
		}
	}
	slices.Sort(f.Days)
	return f
}

// formOfOffer is an offer as the form shows it.
func formOfOffer(o *atigip.Offer) web.IPROOfferForm {
	f := web.IPROOfferForm{Title: o.Title, Kind: string(o.OfferKind), EmployerKind: string(o.EmployerKind), EmployerName: o.EmployerName,
		ROME: strings.Join(o.ROMECodes, " "), Places: strconv.Itoa(o.Places), Description: o.Description, Status: string(o.Status),
		Version: o.Version}
	for _, sl := range o.Schedule.Slots {
		if !f.HasDay(sl.Day) {
			f.Days = append(f.Days, sl.Day)
		}
		f.Start, f.End = sl.Start, sl.End
	}
	return f
}

// applyOfferForm writes the form onto o; what the form cannot say is
// reported by field, the rest by the offer's Validate.
func applyOfferForm(f web.IPROOfferForm, o *atigip.Offer, pr *atigip.Prison) map[string]string {
	errs := map[string]string{}
	o.Title, o.OfferKind, o.EmployerKind, o.EmployerName, o.Description = f.Title, atigip.OfferKind(f.Kind),
		atigip.EmployerKind(f.EmployerKind), f.EmployerName, f.Description
	if o.OfferKind != atigip.OfferWork && o.OfferKind != atigip.OfferTraining {
		errs["type"] = "Choisissez un poste de travail ou une formation."
	}
	o.ROMECodes = strings.Fields(strings.ReplaceAll(f.ROME, ",", " "))
	places, err := strconv.Atoi(f.Places)
	if err != nil {
		errs["places"] = "Nombre de places : nombre entier attendu."
	}
	o.Places = places
	if len(f.Days) == 0 {
		errs["jours"] = "Cochez au moins un jour."
	}
	o.Schedule = atigip.Schedule{}
	for _, d := range f.Days {
		o.Schedule.Slots = append(o.Schedule.Slots, atigip.Slot{Day: d, Start: f.Start, End: f.End})
	}
	o.HoursPerWeek = o.Schedule.HoursPerWeek()
	if f.Status != "" {
		o.Status = atigip.OfferStatus(f.Status)
	}
	if o.Status == "" {
		o.Status = atigip.OfferOpen
	}
	o.PrisonID, o.Address, o.Location = pr.ID, pr.Address, pr.Location
	o.Version = f.Version
	if err := o.Validate(); err != nil {
		for k, v := range fieldErrors(err) {
			if _, ok := errs[k]; !ok {
				errs[k] = v
			}
		}
	}
	return errs
}

func (m IPROModule) publish(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !csrfValid(c) {
			return s.Problem(c, errCSRF)
		}
		pg, err := m.establishmentPage(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		pg.Form = offerForm(c)
		o := &atigip.Offer{}
		if pg.Errors = applyOfferForm(pg.Form, o, pg.Prison); len(pg.Errors) > 0 {
			return m.renderEstablishment(c, s, fiber.StatusBadRequest, pg)
		}
		created, err := s.createEntity(c, policies[atigip.KindOffer], o)
		if err != nil {
			if !userFacing(err) {
				return s.Problem(c, err)
			}
			pg.Errors = fieldErrors(err)
			return m.renderEstablishment(c, s, problemOf(err).Status, pg)
		}
		return c.Redirect(fmt.Sprintf("/ipro/offres/%d?ok=publiee", created.GetMeta().ID), fiber.StatusSeeOther)
	}
}

// visibleOffer is offer id if p may manage it: staff of its
// establishment, or the business whose company it is; else not found.
func visibleOffer(c *fiber.Ctx, s *Server, id int64) (*atigip.Offer, error) {
	o, err := atigip.Of[*atigip.Offer](s.store).Get(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	p := s.Principal(c)
	switch {
	case p.Role == atigip.RolePrisonStaff && (p.PrisonID == 0 || p.PrisonID == o.PrisonID):
		return o, nil
	case p.Role == atigip.RoleBusiness && atigip.CompanyCovers(p.SIRET, o.EmployerSIRET):
		return o, nil
	}
	return nil, notFound(atigip.KindOffer)
}

func (m IPROModule) offerPage(c *fiber.Ctx, s *Server, o *atigip.Offer) (*web.IPROOfferPage, error) {
	ctx := c.UserContext()
	p := s.Principal(c)
	pr, err := atigip.Of[*atigip.Prison](s.store).Get(ctx, o.PrisonID)
	if err != nil {
		return nil, err
	}
	row, err := offerRow(c, s, o)
	if err != nil {
		return nil, err
	}
	pg := &web.IPROOfferPage{Offer: o, Row: row, Prison: pr, Days: dayChoices(), Form: formOfOffer(o), Staff: p.Role == atigip.RolePrisonStaff,
		Notice: iproNotices[c.Query("ok")], WaitingN: row.Waiting}
	pg.CanEdit = pg.Staff || o.EmployerKind == atigip.EmployerConcession
	if !pg.Staff {
		// Businesses never read applications (policy.go): counts only.
		return pg, nil
	}
	apps, err := atigip.Of[*atigip.Application](s.store).All(ctx, atigip.ListFilter{Parent: o.ID})
	if err != nil {
		return nil, err
	}
	waiting, err := m.svc(s).WaitingList(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	var ids []int64
	add := func(a *atigip.Application) (web.IPROApplicant, error) {
		pe, err := atigip.Of[*atigip.Person](s.store).Get(ctx, a.PersonID)
		if err != nil {
			return web.IPROApplicant{}, err
		}
		ids = append(ids, pe.ID)
		x := web.IPROApplicant{App: a, Pseudonym: pe.Pseudonym, StateLabel: atigip.ApplicationStates[a.State], Waiting: workflow.Waiting(a.State)}
		if len(a.History) > 0 {
			x.Filed = a.History[0].At
		}
		return x, nil
	}
	for _, a := range waiting {
		x, err := add(a)
		if err != nil {
			return nil, err
		}
		pg.Waiting = append(pg.Waiting, x)
	}
	for _, a := range apps {
		if workflow.Waiting(a.State) {
			continue
		}
		x, err := add(a)
		if err != nil {
			return nil, err
		}
		pg.Others = append(pg.Others, x)
	}
	if len(ids) > 0 {
		if err := s.AuditAll(c, "ipro_offer_applicants", atigip.KindPerson, ids, len(ids)); err != nil {
			return nil, err
		}
	}
	return pg, nil
}

func (m IPROModule) renderOffer(c *fiber.Ctx, s *Server, status int, pg *web.IPROOfferPage) error {
	crumb := web.Crumb{Label: "Mon établissement", URL: "/ipro/etablissement"}
	if !pg.Staff {
		crumb = web.Crumb{Label: "Mon entreprise", URL: "/ipro/entreprise"}
	}
	l := s.layout(c, pg.Offer.Title, "espace", web.Crumb{Label: "Mon espace", URL: "/espace"}, crumb)
	l.CSRF = s.csrfToken(c)
	return s.page(c, status, "ipro-offre", l, pg)
}

func (m IPROModule) offer(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := parseID(c)
		if err != nil {
			return s.Problem(c, notFound(atigip.KindOffer))
		}
		o, err := visibleOffer(c, s, id)
		if err != nil {
			return s.Problem(c, err)
		}
		pg, err := m.offerPage(c, s, o)
		if err != nil {
			return s.Problem(c, err)
		}
		return m.renderOffer(c, s, fiber.StatusOK, pg)
	}
}

func (m IPROModule) editOffer(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !csrfValid(c) {
			return s.Problem(c, errCSRF)
		}
		id, err := parseID(c)
		if err != nil {
			return s.Problem(c, notFound(atigip.KindOffer))
		}
		cur, err := visibleOffer(c, s, id)
		if err != nil {
			return s.Problem(c, err)
		}
		pr, err := atigip.Of[*atigip.Prison](s.store).Get(c.UserContext(), cur.PrisonID)
		if err != nil {
			return s.Problem(c, err)
		}
		f := offerForm(c)
		edited := *cur
		errs := applyOfferForm(f, &edited, pr)
		out, err := s.saveEdit(c, atigip.KindOffer, id, &edited, errs, f.Version != cur.Version)
		if err != nil {
			return s.Problem(c, err)
		}
		if out.saved {
			return c.Redirect(fmt.Sprintf("/ipro/offres/%d?ok=modifiee", id), fiber.StatusSeeOther)
		}
		pg, err := m.offerPage(c, s, cur)
		if err != nil {
			return s.Problem(c, err)
		}
		pg.Form, pg.Errors = f, out.errs
		if out.conflict {
			// « Modifié entre-temps »: the other version's values beside
			// the user's, who may send theirs again at the new version.
			theirs := formOfOffer(cur)
			pg.Theirs, pg.Form.Version = &theirs, cur.Version
			pg.Errors = map[string]string{"": "Modifié entre-temps : quelqu'un a enregistré cette offre pendant que vous la modifiiez. Vos saisies sont conservées ci-dessous ; comparez avec la version enregistrée, puis enregistrez de nouveau."}
		}
		return m.renderOffer(c, s, out.status, pg)
	}
}

// actionApp reads application id for a staff action: in the perimeter
// as the API's routes check it (404 outside), with its offer.
func actionApp(c *fiber.Ctx, s *Server) (*atigip.Application, *atigip.Offer, error) {
	id, err := parseID(c)
	if err != nil {
		return nil, nil, notFound(atigip.KindApplication)
	}
	a, err := atigip.Of[*atigip.Application](s.store).Get(c.UserContext(), id)
	if err != nil {
		return nil, nil, err
	}
	if err := s.inPerimeter(c, s.Principal(c), a, true); err != nil {
		return nil, nil, err
	}
	o, err := visibleOffer(c, s, a.OfferID)
	if err != nil {
		return nil, nil, err
	}
	return a, o, nil
}

// appRefused re-renders the offer's page with the refusal next to the
// application.
func (m IPROModule) appRefused(c *fiber.Ctx, s *Server, o *atigip.Offer, appID int64, err error) error {
	if !userFacing(err) {
		return s.Problem(c, err)
	}
	fresh, gerr := atigip.Of[*atigip.Offer](s.store).Get(c.UserContext(), o.ID)
	if gerr != nil {
		return s.Problem(c, gerr)
	}
	pg, perr := m.offerPage(c, s, fresh)
	if perr != nil {
		return s.Problem(c, perr)
	}
	pg.ActionApp, pg.ActionErr = appID, errMessage(err)
	for _, f := range atigip.ErrorFields(err) {
		pg.ActionMsgs = append(pg.ActionMsgs, f.Message)
	}
	if len(pg.ActionMsgs) > 0 {
		pg.ActionErr, _, _ = strings.Cut(pg.ActionErr, " : ")
	}
	if atigip.ErrorCode(err) == atigip.ECONFLICT && strings.Contains(pg.ActionErr, "version") {
		pg.ActionErr = "Modifié entre-temps : la candidature a changé depuis l'affichage de la page. Voici son état actuel ; recommencez si besoin."
	}
	return m.renderOffer(c, s, problemOf(err).Status, pg)
}

var appStateNotice = map[atigip.ApplicationState]string{atigip.AppInterview: "entretien", atigip.AppAccepted: "affectee", atigip.AppRefused: "refusee"}

// appAction is a staff action on an application from the offer's page:
// the CSRF token, the application in the perimeter, then act; a refusal
// re-renders the offer's page beside the application, a success goes
// back to its applications with the notice act returns.
func (m IPROModule) appAction(s *Server, act func(c *fiber.Ctx, a *atigip.Application) (notice string, err error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !csrfValid(c) {
			return s.Problem(c, errCSRF)
		}
		a, o, err := actionApp(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		notice, err := act(c, a)
		if err != nil {
			return m.appRefused(c, s, o, a.ID, err)
		}
		return c.Redirect(fmt.Sprintf("/ipro/offres/%d?ok=%s#candidatures", o.ID, notice), fiber.StatusSeeOther)
	}
}

func (m IPROModule) appState(s *Server) fiber.Handler {
	return m.appAction(s, func(c *fiber.Ctx, a *atigip.Application) (string, error) {
		version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
		t := workflow.AppTransition{To: atigip.ApplicationState(c.FormValue("etat")), Reason: strings.TrimSpace(c.FormValue("motif"))}
		if version <= 0 {
			return "", invalidParam("version", "La version lue est obligatoire pour changer l'état d'une candidature.")
		}
		_, err := m.svc(s).AppTransitionTo(c.UserContext(), s.Principal(c), a.ID, version, t)
		return appStateNotice[t.To], err
	})
}

func (m IPROModule) appRank(s *Server) fiber.Handler {
	return m.appAction(s, func(c *fiber.Ctx, a *atigip.Application) (string, error) {
		rank, err := strconv.Atoi(strings.TrimSpace(c.FormValue("rang")))
		if err != nil {
			return "", invalidParam("rank", "Le rang doit être un nombre entier.")
		}
		_, err = m.svc(s).MoveApplication(c.UserContext(), s.Principal(c), a.ID, rank)
		return "rang", err
	})
}

// actionPerson reads detainee id in the staff member's perimeter.
func actionPerson(c *fiber.Ctx, s *Server) (*atigip.Person, error) {
	id, err := parseID(c)
	if err != nil {
		return nil, notFound(atigip.KindPerson)
	}
	pe, err := atigip.Of[*atigip.Person](s.store).Get(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	if err := s.inPerimeter(c, s.Principal(c), pe, true); err != nil {
		return nil, err
	}
	return pe, nil
}

func (m IPROModule) personRefused(c *fiber.Ctx, s *Server, id int64, err error) error {
	if !userFacing(err) {
		return s.Problem(c, err)
	}
	pg, perr := m.establishmentPage(c, s)
	if perr != nil {
		return s.Problem(c, perr)
	}
	pg.ActionPerson, pg.ActionError = id, errMessage(err)
	return m.renderEstablishment(c, s, problemOf(err).Status, pg)
}

func (m IPROModule) clear(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !csrfValid(c) {
			return s.Problem(c, errCSRF)
		}
		pe, err := actionPerson(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		if _, err := m.svc(s).Clear(c.UserContext(), s.Principal(c), pe.ID, c.FormValue("classe") == "1"); err != nil {
			return m.personRefused(c, s, pe.ID, err)
		}
		return c.Redirect(fmt.Sprintf("/ipro/etablissement?ok=classement&page_personnes=%d#personne-%d", pageParam(c, "page_personnes"), pe.ID), fiber.StatusSeeOther)
	}
}

func (m IPROModule) transfer(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !csrfValid(c) {
			return s.Problem(c, errCSRF)
		}
		refuse := func(err error) error {
			if !userFacing(err) {
				return s.Problem(c, err)
			}
			pg, perr := m.establishmentPage(c, s)
			if perr != nil {
				return s.Problem(c, perr)
			}
			pg.TransferError, pg.Errors = errMessage(err), fieldErrors(err)
			return m.renderEstablishment(c, s, problemOf(err).Status, pg)
		}
		pid, err := strconv.ParseInt(c.FormValue("personne"), 10, 64)
		if err != nil || pid <= 0 {
			return refuse(invalidParam("personne", "Choisissez la personne à transférer."))
		}
		pe, err := atigip.Of[*atigip.Person](s.store).Get(c.UserContext(), pid)
		if err == nil {
			err = s.inPerimeter(c, s.Principal(c), pe, true)
		}
		if err != nil {
			return s.Problem(c, err)
		}
		to, _ := strconv.ParseInt(c.FormValue("vers"), 10, 64)
		r := workflow.TransferRequest{PrisonID: to, Reason: strings.TrimSpace(c.FormValue("motif"))}
		if _, _, err := m.svc(s).Transfer(c.UserContext(), s.Principal(c), pe.ID, r); err != nil {
			return refuse(err)
		}
		return c.Redirect("/ipro/etablissement?ok=transfert", fiber.StatusSeeOther)
	}
}

// pageFrom reads page n (1 first) of iproPerPage records matching f from
// the store, with the number of pages; a page past the end reads the last.
func pageFrom[T atigip.Entity](c *fiber.Ctx, s *Server, f atigip.ListFilter, n int) ([]T, int, int, error) {
	f.Limit, f.Offset = iproPerPage, (n-1)*iproPerPage
	items, total, err := atigip.Of[T](s.store).List(c.UserContext(), f)
	if err != nil {
		return nil, 0, 0, err
	}
	pages := max(1, (total+iproPerPage-1)/iproPerPage)
	if n > pages {
		return pageFrom[T](c, s, f, pages)
	}
	return items, n, pages, nil
}
