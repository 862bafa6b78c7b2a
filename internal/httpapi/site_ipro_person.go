package httpapi

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/ipro"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/internal/web/frfmt"
	"github.com/atigip/atigip360/internal/workflow"
)

// kioskPerson is the signed-in detainee's own record.
func kioskPerson(c *fiber.Ctx, s *Server) (*atigip.Person, error) {
	p := s.Principal(c)
	if p.PersonID == 0 {
		return nil, atigip.Errorf(atigip.EFORBIDDEN, "Votre compte n'est rattaché à aucun profil.")
	}
	pe, err := atigip.Of[*atigip.Person](s.store).Get(c.UserContext(), p.PersonID)
	if err != nil {
		return nil, err
	}
	if err := s.Audit(c, "ipro_kiosk", atigip.KindPerson, pe.ID, 1); err != nil {
		return nil, err
	}
	return pe, nil
}

// contractsOfPerson are the offers of pe's accepted applications but
// except, as the governor's assignment counts them.
func contractsOfPerson(c *fiber.Ctx, s *Server, personID, except int64) ([]*atigip.Offer, error) {
	apps, err := atigip.Of[*atigip.Application](s.store).All(c.UserContext(), atigip.ListFilter{Owner: personID, Status: []string{string(atigip.AppAccepted)}})
	if err != nil {
		return nil, err
	}
	var out []*atigip.Offer
	for _, a := range apps {
		if a.OfferID == except {
			continue
		}
		o, err := atigip.Of[*atigip.Offer](s.store).Get(c.UserContext(), a.OfferID)
		if atigip.ErrorCode(err) == atigip.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (m IPROModule) kioskOfferOf(pe *atigip.Person, o *atigip.Offer, held []*atigip.Offer, applied bool) web.IPROKioskOffer {
	// The person's contracts but this offer, as the assignment counts them.
	contracts := slices.DeleteFunc(slices.Clone(held), func(x *atigip.Offer) bool { return x.ID == o.ID })
	k := web.IPROKioskOffer{Offer: o, KindLabel: atigip.OfferKinds[o.OfferKind], Hours: frfmt.Hours(o.HoursPerWeek),
		PlacesLeft: o.PlacesLeft(), Verdict: ipro.Judge(pe, o, contracts, atigip.DateOf(m.now()), nil),
		Requires: ipro.Requirements(o), Applied: applied}
	for _, d := range days(o.Schedule) {
		k.Days = append(k.Days, d.Day+" : "+d.Hours)
	}
	return k
}

func (m IPROModule) kioskLayout(c *fiber.Ctx, s *Server, title string) web.Layout {
	l := s.layout(c, title, "espace")
	l.CSRF = s.csrfToken(c)
	return l
}

func (m IPROModule) kiosk(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		pe, err := kioskPerson(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		pg := web.IPROKiosk{Pseudonym: pe.Pseudonym, Cleared: pe.WorkCleared, IdleSeconds: int(m.idle().Seconds()), IdleLabel: idleLabel(m.idle()),
			ProfileURL: "/ipro/profil/" + strconv.FormatInt(pe.ID, 10)}
		if pr, err := atigip.Of[*atigip.Prison](s.store).Get(ctx, pe.PrisonID); err == nil {
			pg.Prison = pr.Name
		}
		apps, err := atigip.Of[*atigip.Application](s.store).All(ctx, atigip.ListFilter{Owner: pe.ID})
		if err != nil {
			return s.Problem(c, err)
		}
		pending := map[int64]bool{}
		slices.SortStableFunc(apps, func(a, b *atigip.Application) int { return int(b.ID - a.ID) })
		for _, a := range apps {
			o, err := atigip.Of[*atigip.Offer](s.store).Get(ctx, a.OfferID)
			if err != nil {
				continue
			}
			w := workflow.Waiting(a.State)
			if w {
				pending[o.ID] = true
			}
			x := web.IPROMyApp{Title: o.Title, StateLabel: atigip.ApplicationStates[a.State], Rank: a.Rank, Waiting: w, Accepted: a.State == atigip.AppAccepted}
			if len(a.History) > 0 {
				x.Filed = a.History[0].At
			}
			pg.Apps = append(pg.Apps, x)
			if n, _ := strconv.ParseInt(c.Query("envoye"), 10, 64); n == o.ID && w {
				pg.Notice = "Votre demande pour « " + o.Title + " » est envoyée. Vous êtes " + ordinal(a.Rank) + " sur la liste d'attente."
			}
		}
		if pe.Detained && pe.PrisonID != 0 {
			offers, err := atigip.Of[*atigip.Offer](s.store).All(ctx, atigip.ListFilter{Parent: pe.PrisonID, Status: []string{string(atigip.OfferOpen)}})
			if err != nil {
				return s.Problem(c, err)
			}
			held, err := contractsOfPerson(c, s, pe.ID, 0)
			if err != nil {
				return s.Problem(c, err)
			}
			for _, o := range offers {
				k := m.kioskOfferOf(pe, o, held, pending[o.ID])
				switch o.OfferKind {
				case atigip.OfferWork:
					pg.Work = append(pg.Work, k)
				case atigip.OfferTraining:
					pg.Training = append(pg.Training, k)
				}
			}
		}
		return s.page(c, fiber.StatusOK, "ipro-kiosque", m.kioskLayout(c, s, "Travail et formation"), pg)
	}
}

// ordinal is « 1er », « 2e »…
func ordinal(n int) string {
	if n == 1 {
		return "1er"
	}
	return strconv.Itoa(n) + "e"
}

// kioskTarget is the offer of the kiosk's step 2, open to the person's
// reading: an offer in prison (work or training).
func (m IPROModule) kioskTarget(c *fiber.Ctx, s *Server) (*atigip.Person, *atigip.Offer, error) {
	id, err := parseID(c)
	if err != nil {
		return nil, nil, notFound(atigip.KindOffer)
	}
	pe, err := kioskPerson(c, s)
	if err != nil {
		return nil, nil, err
	}
	o, err := atigip.Of[*atigip.Offer](s.store).Get(c.UserContext(), id)
	if err != nil {
		return nil, nil, err
	}
	if o.OfferKind != atigip.OfferWork && o.OfferKind != atigip.OfferTraining {
		return nil, nil, notFound(atigip.KindOffer)
	}
	return pe, o, nil
}

func (m IPROModule) renderConfirm(c *fiber.Ctx, s *Server, status int, pe *atigip.Person, o *atigip.Offer, msg string) error {
	apps, err := atigip.Of[*atigip.Application](s.store).All(c.UserContext(), atigip.ListFilter{Owner: pe.ID, Parent: o.ID})
	if err != nil {
		return s.Problem(c, err)
	}
	applied := slices.ContainsFunc(apps, func(a *atigip.Application) bool { return a.OfferID == o.ID && workflow.Waiting(a.State) })
	held, err := contractsOfPerson(c, s, pe.ID, 0)
	if err != nil {
		return s.Problem(c, err)
	}
	k := m.kioskOfferOf(pe, o, held, applied)
	l := m.kioskLayout(c, s, o.Title)
	l.Crumbs = []web.Crumb{{Label: "Travail et formation", URL: "/ipro/kiosque"}}
	return s.page(c, status, "ipro-kiosque-offre", l, web.IPROKioskConfirm{Offer: k, Error: msg, IdleSeconds: int(m.idle().Seconds()), IdleLabel: idleLabel(m.idle())})
}

func (m IPROModule) kioskOffer(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		pe, o, err := m.kioskTarget(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		return m.renderConfirm(c, s, fiber.StatusOK, pe, o, "")
	}
}

func (m IPROModule) kioskApply(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !csrfValid(c) {
			return s.Problem(c, errCSRF)
		}
		pe, o, err := m.kioskTarget(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		p := s.Principal(c)
		// The API's door (POST /api/offers/:id/applications): the
		// application to be in the perimeter, then the workflow's rules.
		if ok, err := within(newLookup(c.UserContext(), s.store), p, &atigip.Application{PersonID: pe.ID, OfferID: o.ID}); err != nil {
			return s.Problem(c, err)
		} else if !ok {
			return s.Problem(c, outsidePerimeter(p))
		}
		if _, err := m.svc(s).ApplyTo(c.UserContext(), p, o.ID, pe.ID, ""); err != nil {
			if !userFacing(err) {
				return s.Problem(c, err)
			}
			return m.renderConfirm(c, s, problemOf(err).Status, pe, o, errMessage(err))
		}
		return c.Redirect(fmt.Sprintf("/ipro/kiosque?envoye=%d#demandes", o.ID), fiber.StatusSeeOther)
	}
}

// kioskEnd ends the kiosk's session: the session cookie (development
// token) and the server session are dropped, and the page says so. The
// pages are never stored (no-store): nothing of the person stays on the
// shared terminal.
func (m IPROModule) kioskEnd(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.endSession(c); err != nil {
			return s.errorPage(c, problemOf(err))
		}
		c.Set("Clear-Site-Data", `"cache", "storage"`)
		l := s.layout(c, "Session terminée", "")
		l.Signed, l.SignOutURL, l.CSRF = false, "", ""
		return s.page(c, fiber.StatusOK, "ipro-fin", l, web.IPROSignedOut{Idle: c.Query("inactif") != ""})
	}
}

// profilePerson is person id if p may read their profile: as the API
// reads people (policy and perimeter), audited.
func profilePerson(c *fiber.Ctx, s *Server) (*atigip.Person, error) {
	id, err := parseID(c)
	if err != nil {
		return nil, notFound(atigip.KindPerson)
	}
	pe, err := atigip.Of[*atigip.Person](s.store).Get(c.UserContext(), id)
	p := s.Principal(c)
	if err == nil && !policies[atigip.KindPerson].visible(p, pe) {
		err = notFound(atigip.KindPerson)
	}
	if err == nil {
		err = s.inPerimeter(c, p, pe, true)
	}
	if aerr := s.Audit(c, "ipro_profile", atigip.KindPerson, id, 0); aerr != nil {
		return nil, aerr
	}
	return pe, err
}

func formOfPerson(pe *atigip.Person) web.IPROProfileForm {
	return web.IPROProfileForm{ROME: slices.Clone(pe.ROMECodes), Skills: slices.Clone(pe.Skills), Diplomas: strings.Join(pe.Diplomas, "\n"),
		Experience: pe.Experience, Wishes: pe.Wishes, Radius: frfmt.Number(pe.Mobility.RadiusKm, 0), Transport: string(pe.Mobility.Transport),
		Version: pe.Version}
}

func (m IPROModule) experience(c *fiber.Ctx, s *Server, pe *atigip.Person) ([]ipro.Experience, error) {
	ctx := c.UserContext()
	apps, err := atigip.Of[*atigip.Application](s.store).All(ctx, atigip.ListFilter{Owner: pe.ID})
	if err != nil {
		return nil, err
	}
	offers, prisons := map[int64]*atigip.Offer{}, map[int64]string{}
	for _, a := range apps {
		if _, ok := offers[a.OfferID]; ok {
			continue
		}
		o, err := atigip.Of[*atigip.Offer](s.store).Get(ctx, a.OfferID)
		if err != nil {
			continue
		}
		offers[o.ID] = o
		if _, ok := prisons[o.PrisonID]; !ok {
			if pr, err := atigip.Of[*atigip.Prison](s.store).Get(ctx, o.PrisonID); err == nil {
				prisons[o.PrisonID] = pr.Name
			}
		}
	}
	return ipro.DetentionExperience(apps, offers, prisons), nil
}

func mobilityLine(pe *atigip.Person) string {
	parts := []string{}
	if pe.Mobility.RadiusKm > 0 {
		parts = append(parts, "jusqu'à "+frfmt.Distance(pe.Mobility.RadiusKm))
	}
	if t, ok := atigip.Transports[pe.Mobility.Transport]; ok {
		parts = append(parts, strings.ToLower(t))
	}
	if len(parts) == 0 {
		return "Mobilité : non renseignée."
	}
	return "Mobilité : " + strings.Join(parts, ", ") + "."
}

func (m IPROModule) profilePage(c *fiber.Ctx, s *Server, pe *atigip.Person) (*web.IPROProfile, error) {
	p := s.Principal(c)
	pg := &web.IPROProfile{Person: pe, Form: formOfPerson(pe), Notice: iproNotices[c.Query("ok")], Diplomas: pe.Diplomas, Mobility: mobilityLine(pe)}
	pg.CanEdit = slices.Contains(iproEditors, p.Role) && policies[atigip.KindPerson].writable(p, pe, pe) == nil
	switch {
	case pe.Detained:
		pg.Situation = "Personne détenue"
		if pr, err := atigip.Of[*atigip.Prison](s.store).Get(c.UserContext(), pe.PrisonID); err == nil {
			pg.Prison = pr.Name
		}
	default:
		pg.Situation = "Personne suivie en milieu ouvert (ou libérée)"
	}
	for code, label := range atigip.Transports {
		pg.Transports = append(pg.Transports, web.Domain{Code: string(code), Label: label})
	}
	slices.SortFunc(pg.Transports, func(a, b web.Domain) int { return strings.Compare(a.Label, b.Label) })
	var err error
	if pg.Experience, err = m.experience(c, s, pe); err != nil {
		return nil, err
	}
	pg.Q = strings.TrimSpace(c.Query("rome"))
	m.fillCodes(pg)
	return pg, nil
}

// fillCodes lists the ticked codes of the form and, after a search, the
// ROME titles and skills found.
func (m IPROModule) fillCodes(pg *web.IPROProfile) {
	pg.Jobs, pg.Skills, pg.Found, pg.FoundSkill = nil, nil, nil, nil
	for _, code := range pg.Form.ROME {
		pg.Jobs = append(pg.Jobs, web.IPROCode{Code: code, Label: ipro.ROMELabel(code), Checked: true})
	}
	for _, code := range pg.Form.Skills {
		pg.Skills = append(pg.Skills, web.IPROCode{Code: code, Label: ipro.SkillLabel(code), Checked: true})
	}
	if pg.Q == "" {
		return
	}
	pg.Searched = true
	for _, h := range ipro.SearchROME(pg.Q, 20) {
		if h.Kind == "metier" {
			if !slices.Contains(pg.Form.ROME, h.ROME) {
				pg.Found = append(pg.Found, web.IPROCode{Code: h.ROME, Label: h.Label + " (" + h.ROME + ")"})
			}
		} else if !slices.Contains(pg.Form.Skills, h.Code) {
			pg.FoundSkill = append(pg.FoundSkill, web.IPROCode{Code: h.Code, Label: h.Label})
		}
	}
}

func (m IPROModule) renderProfile(c *fiber.Ctx, s *Server, status int, pg *web.IPROProfile) error {
	l := s.layout(c, "Profil professionnel — "+pg.Person.Pseudonym, "espace", web.Crumb{Label: "Mon espace", URL: "/espace"})
	l.CSRF = s.csrfToken(c)
	return s.page(c, status, "ipro-profil", l, pg)
}

func (m IPROModule) profile(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		pe, err := profilePerson(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		pg, err := m.profilePage(c, s, pe)
		if err != nil {
			return s.Problem(c, err)
		}
		return m.renderProfile(c, s, fiber.StatusOK, pg)
	}
}

func profileForm(c *fiber.Ctx) web.IPROProfileForm {
	f := web.IPROProfileForm{Diplomas: strings.TrimSpace(c.FormValue("diplomes")), Experience: strings.TrimSpace(c.FormValue("experience")),
		Wishes: strings.TrimSpace(c.FormValue("souhaits")), Radius: strings.TrimSpace(c.FormValue("rayon")), Transport: c.FormValue("transport")}
	f.Version, _ = strconv.ParseInt(c.FormValue("version"), 10, 64)
	args := c.Request().PostArgs()
	for _, v := range args.PeekMulti("rome") {
		if code := strings.ToUpper(strings.TrimSpace(string(v))); code != "" && !slices.Contains(f.ROME, code) {
			f.ROME = append(f.ROME, code)
		}
	}
	for _, v := range args.PeekMulti("competences") {
		if code := strings.TrimSpace(string(v)); code != "" && !slices.Contains(f.Skills, code) {
			f.Skills = append(f.Skills, code)
		}
	}
	return f
}

func (m IPROModule) editProfile(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !csrfValid(c) {
			return s.Problem(c, errCSRF)
		}
		cur, err := profilePerson(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		f := profileForm(c)
		edited := *cur
		edited.ROMECodes, edited.Skills, edited.Experience, edited.Wishes = f.ROME, f.Skills, f.Experience, f.Wishes
		edited.Diplomas = nil
		for _, d := range strings.Split(f.Diplomas, "\n") {
			if d = strings.TrimSpace(d); d != "" {
				edited.Diplomas = append(edited.Diplomas, d)
			}
		}
		edited.Mobility.Transport = atigip.Transport(f.Transport)
		errs := map[string]string{}
		if f.Radius == "" {
			edited.Mobility.RadiusKm = 0
		} else if r, perr := strconv.ParseFloat(strings.Replace(f.Radius, ",", ".", 1), 64); perr != nil {
			errs["mobility.radius_km"] = "Rayon de mobilité : nombre de kilomètres attendu."
		} else {
			edited.Mobility.RadiusKm = r
		}
		edited.Version = f.Version
		out, err := s.saveEdit(c, atigip.KindPerson, cur.ID, &edited, errs, f.Version != cur.Version)
		if err != nil {
			return s.Problem(c, err)
		}
		if out.saved {
			return c.Redirect(fmt.Sprintf("/ipro/profil/%d?ok=profil", cur.ID), fiber.StatusSeeOther)
		}
		pg, err := m.profilePage(c, s, cur)
		if err != nil {
			return s.Problem(c, err)
		}
		pg.Form, pg.Errors = f, out.errs
		if out.conflict {
			theirs := formOfPerson(cur)
			pg.Theirs, pg.Form.Version = &theirs, cur.Version
			pg.Errors = map[string]string{"": "Modifié entre-temps : quelqu'un a enregistré ce profil pendant que vous le modifiiez. Vos saisies sont conservées ; comparez avec la version enregistrée, puis enregistrez de nouveau."}
		}
		m.fillCodes(pg)
		return m.renderProfile(c, s, out.status, pg)
	}
}

func (m IPROModule) cv(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		pe, err := profilePerson(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		exp, err := m.experience(c, s, pe)
		if err != nil {
			return s.Problem(c, err)
		}
		cv := ipro.CV{Pseudonym: pe.Pseudonym, Diplomas: pe.Diplomas, Experience: exp, Declared: pe.Experience, Wishes: pe.Wishes,
			Mobility: mobilityLine(pe), Made: m.now()}
		for _, code := range pe.ROMECodes {
			cv.Jobs = append(cv.Jobs, ipro.ROMELabel(code)+" ("+code+")")
		}
		for _, code := range pe.Skills {
			cv.Skills = append(cv.Skills, ipro.SkillLabel(code))
		}
		var b bytes.Buffer
		if err := ipro.WriteCV(&b, cv); err != nil {
			return s.Problem(c, err)
		}
		c.Set(fiber.HeaderContentType, "application/pdf")
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Set(fiber.HeaderContentDisposition, `inline; filename="cv-`+pe.Pseudonym+`.pdf"`)
		return c.Send(b.Bytes())
	}
}

// romeSuggestion is one answer of the ROME search as you type.
type romeSuggestion struct {
	Kind  string `json:"kind"`
	Code  string `json:"code"`
	Label string `json:"label"`
}

func (m IPROModule) rome(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		out := []romeSuggestion{}
		for _, h := range ipro.SearchROME(c.Query("q"), 15) {
			code := h.Code
			if h.Kind == "metier" {
				code = h.ROME
			}
			out = append(out, romeSuggestion{Kind: h.Kind, Code: code, Label: h.Label})
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(out)
	}
}

func (m IPROModule) businessPage(c *fiber.Ctx, s *Server) (*web.IPROBusiness, error) {
	ctx := c.UserContext()
	p := s.Principal(c)
	choices, prisons, err := m.prisons.get(c, s)
	if err != nil {
		return nil, err
	}
	pg := &web.IPROBusiness{SIRET: p.SIRET, Days: dayChoices(), Prisons: choices, Notice: iproNotices[c.Query("ok")],
		Form: web.IPROOfferForm{Kind: string(atigip.OfferWork), EmployerKind: string(atigip.EmployerConcession), Places: "1",
			Start: "08:00", End: "12:00", Days: []int{1, 2, 3, 4, 5}}}
	var offers []*atigip.Offer
	if len(p.SIRET) >= 9 {
		ids, err := m.companies.ids(c, s, p.SIRET[:9])
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			got, err := atigip.Of[*atigip.Offer](s.store).All(ctx, atigip.ListFilter{IDs: ids})
			if err != nil {
				return nil, err
			}
			for _, o := range got {
				if atigip.CompanyCovers(p.SIRET, o.EmployerSIRET) {
					offers = append(offers, o)
				}
			}
		}
		err = atigip.Of[*atigip.ContactRequest](s.store).Scan(ctx, atigip.ListFilter{}, func(r *atigip.ContactRequest) error {
			if r.SIRET != "" && atigip.CompanyCovers(p.SIRET, r.SIRET) {
				x := web.IPRORequest{Req: r}
				if pr := prisons[r.PrisonID]; pr != nil {
					x.Prison = pr.Name
				}
				if r.FloorSpaceID != 0 {
					if f, err := atigip.Of[*atigip.FloorSpace](s.store).Get(ctx, r.FloorSpaceID); err == nil {
						x.Floor = f.Name
					}
				}
				pg.Requests = append(pg.Requests, x)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(offers, func(a, b *atigip.Offer) int { return int(b.ID - a.ID) })
	shown, n, pages := pageOf(offers, pageParam(c, "page"))
	pg.Page = web.NewPager(n, pages, func(i int) string { return "/ipro/entreprise?page=" + strconv.Itoa(i) })
	for _, o := range shown {
		row, err := offerRow(c, s, o)
		if err != nil {
			return nil, err
		}
		if pr := prisons[o.PrisonID]; pr != nil {
			row.Prison = pr.Name
		}
		pg.Waiting += row.Waiting
		pg.Offers = append(pg.Offers, row)
	}
	slices.Reverse(pg.Requests)
	return pg, nil
}

func (m IPROModule) renderBusiness(c *fiber.Ctx, s *Server, status int, pg *web.IPROBusiness) error {
	l := s.layout(c, "Mon entreprise en détention", "espace", web.Crumb{Label: "Mon espace", URL: "/espace"})
	l.CSRF = s.csrfToken(c)
	return s.page(c, status, "ipro-entreprise", l, pg)
}

func (m IPROModule) business(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		pg, err := m.businessPage(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		return m.renderBusiness(c, s, fiber.StatusOK, pg)
	}
}

// businessPublish creates a concessionnaire's offer through the API's
// door (createEntity): the company's SIRET is set by the server.
func (m IPROModule) businessPublish(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !csrfValid(c) {
			return s.Problem(c, errCSRF)
		}
		pg, err := m.businessPage(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		pg.Form, pg.PrisonID = offerForm(c), c.FormValue("etablissement")
		pg.Form.EmployerKind = string(atigip.EmployerConcession)
		pid, _ := strconv.ParseInt(pg.PrisonID, 10, 64)
		pr, err := atigip.Of[*atigip.Prison](s.store).Get(c.UserContext(), pid)
		if err != nil {
			if atigip.ErrorCode(err) != atigip.ENOTFOUND {
				return s.Problem(c, err)
			}
			pg.Errors = map[string]string{"prison_id": "Choisissez l'établissement où l'entreprise est implantée."}
			return m.renderBusiness(c, s, fiber.StatusBadRequest, pg)
		}
		o := &atigip.Offer{}
		if pg.Errors = applyOfferForm(pg.Form, o, pr); len(pg.Errors) > 0 {
			return m.renderBusiness(c, s, fiber.StatusBadRequest, pg)
		}
		created, err := s.createEntity(c, policies[atigip.KindOffer], o)
		if err != nil {
			if !userFacing(err) {
				return s.Problem(c, err)
			}
			pg.Errors = fieldErrors(err)
			return m.renderBusiness(c, s, problemOf(err).Status, pg)
		}
		m.companies.add(created.(*atigip.Offer).EmployerSIRET, created.GetMeta().ID)
		return c.Redirect(fmt.Sprintf("/ipro/offres/%d?ok=publiee", created.GetMeta().ID), fiber.StatusSeeOther)
	}
}

// idleLabel says the kiosk's idle delay in words: « 3 minutes ».
func idleLabel(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		return plural(int(d/time.Minute), "minute", "minutes")
	}
	return plural(int(d/time.Second), "seconde", "secondes")
}
