package httpapi

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/internal/web/frfmt"
	"github.com/atigip/atigip360/internal/workflow"
	"github.com/atigip/atigip360/matching"
)

// procedureRow is p as a line of the director's lists.
func procedureRow(p *atigip.Procedure, org string, today atigip.Date) web.ProcedureRow {
	r := web.ProcedureRow{URL: "/direction/procedures/" + strconv.FormatInt(p.ID, 10), Kind: atigip.ProcedureKinds[p.ProcKind],
		Organisation: org, Status: atigip.ProcedureStatuses[p.Status], Requested: frfmt.Date(p.RequestedAt), Deadline: frDate(p.OpinionDeadline)}
	got := make([]string, 0, len(p.Opinions))
	for _, o := range p.Opinions {
		v := "favorable"
		if !o.Favourable {
			v = "défavorable"
		}
		got = append(got, atigip.OpinionAuthorities[o.Authority]+" : "+v)
	}
	missing := workflow.Missing(p)
	for _, a := range missing {
		got = append(got, atigip.OpinionAuthorities[a]+" : attendu")
	}
	r.Opinions = strings.Join(got, " ; ")
	r.Ready = p.Status == atigip.ProcAwaiting && (len(missing) == 0 || today.After(p.OpinionDeadline.Time))
	if !p.ValidUntil.IsZero() {
		r.Expires = frDate(p.ValidUntil)
	}
	return r
}

// directionData is /direction's content: the procedures of the
// director's département, the habilitations to renew, the measures to
// place.
func (m *CaseworkModule) directionData(c *fiber.Ctx, s *Server) (*web.DirectionPage, error) {
	ctx, p := c.UserContext(), s.Principal(c)
	dep := departementOf(p)
	today := m.today()
	d := &web.DirectionPage{}
	names := map[int64]string{}
	orgName := func(id int64) string {
		if n, ok := names[id]; ok {
			return n
		}
		if o, err := atigip.Of[*atigip.Organisation](s.Store()).Get(ctx, id); err == nil {
			names[id] = o.Name
		}
		return names[id]
	}
	procs, err := atigip.Of[*atigip.Procedure](s.Store()).All(ctx, atigip.ListFilter{Departement: dep})
	if err != nil {
		return nil, err
	}
	slices.Reverse(procs) // newest first
	for _, pr := range procs {
		row := procedureRow(pr, orgName(pr.OrganisationID), today)
		if pr.Status == atigip.ProcAwaiting {
			d.Awaiting = append(d.Awaiting, row)
		} else if len(d.Decided) < 20 {
			d.Decided = append(d.Decided, row)
		}
	}
	orgs, err := atigip.Of[*atigip.Organisation](s.Store()).All(ctx, atigip.ListFilter{Departement: dep, Status: []string{string(atigip.HabHabilitated)}})
	if err != nil {
		return nil, err
	}
	limit := today.AddDays(workflow.RenewalDays)
	for _, o := range orgs {
		h := o.Habilitation
		if h.Status != atigip.HabHabilitated || h.ExpiresAt == nil || atigip.DateOf(*h.ExpiresAt).After(limit.Time) {
			continue
		}
		d.Expiring = append(d.Expiring, web.ProcedureRow{Organisation: o.Name, Status: atigip.HabilitationStatuses[h.Status],
			Expires: frfmt.Date(*h.ExpiresAt)})
	}
	_, n, err := atigip.Of[*atigip.Measure](s.Store()).List(ctx, atigip.ListFilter{Departement: dep, Status: []string{string(atigip.MeasureToPlace)}, Limit: 1})
	if err != nil {
		return nil, err
	}
	d.ToPlace = frfmt.Plural(n, "mesure à placer", "mesures à placer")
	return d, nil
}

var directionDone = map[string]string{
	"decision": "La décision a été enregistrée et portée sur la structure ou le poste.",
	"avis":     "L'avis du préfet a été enregistré.",
}

func (m *CaseworkModule) direction(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		d, err := m.directionData(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		d.Done = directionDone[c.Query("fait")]
		return s.page(c, fiber.StatusOK, "direction", s.layout(c, "Habilitations et affectations", "espace",
			web.Crumb{Label: "Mon espace", URL: "/espace"}), d)
	}
}

// procedureView is a procedure's page, read within the director's
// département (elsewhere it reads as absent).
func (m *CaseworkModule) procedureView(c *fiber.Ctx, s *Server, id int64) (*web.ProcedurePage, *atigip.Procedure, error) {
	ctx, p := c.UserContext(), s.Principal(c)
	pr, err := atigip.Of[*atigip.Procedure](s.Store()).Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if dep := departementOf(p); dep != "" && pr.Departement != dep {
		return nil, nil, notFound(atigip.KindProcedure)
	}
	today := m.today()
	d := &web.ProcedurePage{ID: pr.ID, Title: atigip.ProcedureKinds[pr.ProcKind],
		Decision: web.Form{Values: map[string]string{}, Errors: map[string]string{}}}
	org, err := atigip.Of[*atigip.Organisation](s.Store()).Get(ctx, pr.OrganisationID)
	if err != nil {
		return nil, nil, err
	}
	d.Facts = []web.Fact{{Term: "Structure d'accueil", Value: org.Name},
		{Term: "Habilitation actuelle", Value: atigip.HabilitationStatuses[org.Habilitation.Status]},
		{Term: "Statut de la procédure", Value: atigip.ProcedureStatuses[pr.Status]},
		{Term: "Demandée le", Value: frfmt.Date(pr.RequestedAt) + " (" + roleLabel(pr.RequestedRole) + ")"},
		{Term: "Avis attendus jusqu'au", Value: frDate(pr.OpinionDeadline)}}
	if org.Habilitation.ExpiresAt != nil {
		d.Facts = append(d.Facts, web.Fact{Term: "Habilitation valable jusqu'au", Value: frfmt.Date(*org.Habilitation.ExpiresAt)})
	}
	if pr.PostID != 0 {
		if post, err := atigip.Of[*atigip.Post](s.Store()).Get(ctx, pr.PostID); err == nil {
			d.Facts = append(d.Facts, web.Fact{Term: "Poste", Value: post.Title})
		}
	}
	if pr.Minors {
		d.Facts = append(d.Facts, web.Fact{Term: "Décision", Value: "Directeur territorial de la PJJ (postes pour mineurs)"})
	}
	if pr.DecidedAt != nil {
		d.Facts = append(d.Facts, web.Fact{Term: "Décidée le", Value: frfmt.Date(*pr.DecidedAt) + " par " + pr.Authority})
		if pr.Reason != "" {
			d.Facts = append(d.Facts, web.Fact{Term: "Motif", Value: pr.Reason})
		}
		if !pr.ValidUntil.IsZero() {
			d.Facts = append(d.Facts, web.Fact{Term: "Valable jusqu'au", Value: frDate(pr.ValidUntil)})
		}
	}
	for _, o := range pr.Opinions {
		v := "Favorable"
		if !o.Favourable {
			v = "Défavorable"
		}
		d.Opinions = append(d.Opinions, web.OpinionLine{Authority: atigip.OpinionAuthorities[o.Authority], Verdict: v,
			Date: frfmt.Date(o.At), Comment: o.Comment})
	}
	for _, a := range workflow.Missing(pr) {
		d.Missing = append(d.Missing, atigip.OpinionAuthorities[a])
		if a == atigip.OpinionPrefect {
			d.PrefectMissing = true
		}
	}
	if pr.Status == atigip.ProcAwaiting {
		d.CanDecide = len(d.Missing) == 0 || today.After(pr.OpinionDeadline.Time)
		if !d.CanDecide {
			d.Blocked = "Avis attendus jusqu'au " + frDate(pr.OpinionDeadline) + " : la décision se prend après ces avis ou cette date."
		}
	}
	if pr.ProcKind == atigip.ProcHabilitation {
		d.Decision.Values["valid_until"] = isoDate(atigip.Date{Time: today.AddDate(workflow.HabilitationYears, 0, 0)})
	}
	return d, pr, nil
}

func (m *CaseworkModule) renderProcedure(c *fiber.Ctx, s *Server, status int, d *web.ProcedurePage) error {
	l := s.layout(c, d.Title, "espace", web.Crumb{Label: "Mon espace", URL: "/espace"},
		web.Crumb{Label: "Habilitations et affectations", URL: "/direction"})
	l.CSRF = s.csrfToken(c)
	return s.page(c, status, "direction-procedure", l, d)
}

func (m *CaseworkModule) procedure(s *Server, w *wfRoutes) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := parseID(c)
		if err != nil {
			return s.Problem(c, notFound(atigip.KindProcedure))
		}
		d, _, err := m.procedureView(c, s, id)
		if err != nil {
			return s.Problem(c, err)
		}
		d.Done = directionDone[c.Query("fait")]
		return m.renderProcedure(c, s, fiber.StatusOK, d)
	}
}

// procForm runs a form of the procedure page through act.
func (m *CaseworkModule) procForm(s *Server, names []string, act func(c *fiber.Ctx, id int64, f *web.Form) error, done string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, ok, err := s.formTarget(c, atigip.KindProcedure)
		if !ok {
			return err
		}
		if _, _, err := m.procedureView(c, s, id); err != nil {
			return s.Problem(c, err) // outside the département: absent
		}
		f := formOf(c, names...)
		err = act(c, id, &f)
		if err == nil && len(f.Errors) == 0 {
			return c.Redirect("/direction/procedures/"+strconv.FormatInt(id, 10)+"?fait="+done, fiber.StatusSeeOther)
		}
		if err != nil && !formFailure(err) {
			return s.Problem(c, err)
		}
		d, _, verr := m.procedureView(c, s, id)
		if verr != nil {
			return s.Problem(c, verr)
		}
		status := fiber.StatusUnprocessableEntity
		if err != nil {
			fail(&f, err, nil)
			status = problemOf(err).Status
		}
		d.Decision = f
		return m.renderProcedure(c, s, status, d)
	}
}

func (m *CaseworkModule) procDecision(s *Server, w *wfRoutes) fiber.Handler {
	return m.procForm(s, []string{"decision", "reason", "valid_until"}, func(c *fiber.Ctx, id int64, f *web.Form) error {
		r := workflow.DecisionRequest{Reason: f.Values["reason"], ValidUntil: parseDay(f, "valid_until")}
		switch f.Values["decision"] {
		case "accorder":
			r.Grant = true
		case "refuser":
		default:
			f.Errors["decision"] = "Choisissez : accorder ou refuser."
		}
		if len(f.Errors) > 0 {
			return nil
		}
		_, err := w.svc.Decide(c.UserContext(), s.Principal(c), id, r)
		return err
	}, "decision")
}

func (m *CaseworkModule) prefectOpinion(s *Server, w *wfRoutes) fiber.Handler {
	return m.procForm(s, []string{"verdict", "comment", "authority"}, func(c *fiber.Ctx, id int64, f *web.Form) error {
		f.Values["authority"] = string(atigip.OpinionPrefect)
		r, ok := opinionOf(f)
		if !ok {
			return nil
		}
		_, err := w.svc.GiveOpinion(c.UserContext(), s.Principal(c), id, r)
		return err
	}, "avis")
}

// --- Global assignment, reviewed pair by pair.

func (m *CaseworkModule) renderAssignment(c *fiber.Ctx, s *Server, status int, d *web.AssignmentPage) error {
	l := s.layout(c, "Proposition d'affectation globale", "espace", web.Crumb{Label: "Mon espace", URL: "/espace"},
		web.Crumb{Label: "Habilitations et affectations", URL: "/direction"})
	l.CSRF = s.csrfToken(c)
	return s.page(c, status, "direction-affectation", l, d)
}

func (m *CaseworkModule) assignment(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		d, err := m.directionData(c, s)
		if err != nil {
			return s.Problem(c, err)
		}
		return m.renderAssignment(c, s, fiber.StatusOK, &web.AssignmentPage{Stats: []web.Fact{{Term: "Dans votre périmètre", Value: d.ToPlace}}})
	}
}

func (m *CaseworkModule) startAssignment(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !csrfValid(c) {
			return s.csrfRefused(c)
		}
		st, err := m.Matching.startJob(c, s, matching.AssignRequest{Kinds: []matching.ItemKind{matching.KindTIG}})
		if err != nil {
			if !formFailure(err) {
				return s.Problem(c, err)
			}
			return m.renderAssignment(c, s, problemOf(err).Status, &web.AssignmentPage{Message: atigip.ErrorMessage(err)})
		}
		return c.Redirect("/direction/affectation/"+st.ID, fiber.StatusSeeOther)
	}
}

// pairs are the TIG pairs of a job's result, each with the measure to
// propose (the person's measure to place) at its current version.
func (m *CaseworkModule) pairs(c *fiber.Ctx, s *Server, res *matching.Assignment) ([]web.PairRow, error) {
	ctx := c.UserContext()
	var out []web.PairRow
	for _, pr := range res.Proposals {
		if pr.Item.Kind != matching.KindTIG {
			continue
		}
		row := web.PairRow{PersonID: pr.PersonID, PostID: pr.Item.ID, Post: pr.Title, PostURL: "/postes/" + strconv.FormatInt(pr.Item.ID, 10),
			Distance: frfmt.Distance(pr.DistanceKm), Score: frfmt.Number(pr.Score*100, 0) + " / 100", Summary: pr.Summary}
		if pe, err := atigip.Of[*atigip.Person](s.Store()).Get(ctx, pr.PersonID); err == nil {
			row.Pseudonym = pe.Pseudonym
		}
		ms, err := atigip.Of[*atigip.Measure](s.Store()).All(ctx, atigip.ListFilter{Owner: pr.PersonID})
		if err != nil {
			return nil, err
		}
		for _, x := range ms {
			if x.State == atigip.MeasureToPlace {
				row.MeasureID, row.Version, row.CaseRef = x.ID, x.Version, x.CaseRef
			} else if x.State == atigip.MeasureProposed && x.PostID == pr.Item.ID && row.MeasureID == 0 {
				row.MeasureID, row.Version, row.CaseRef, row.Sent = x.ID, x.Version, x.CaseRef, true
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// jobView is a job's page: progress, or the pairs to review.
func (m *CaseworkModule) jobView(c *fiber.Ctx, s *Server, id string) (*web.AssignmentPage, error) {
	st, err := m.Matching.jobStatus(c, s, id, resultPage{}) // every pair of the perimeter is reviewed
	if err != nil {
		return nil, err
	}
	d := &web.AssignmentPage{JobID: st.ID, RefreshURL: "/direction/affectation/" + st.ID}
	switch st.State {
	case "running":
		d.Running, d.Progress = true, frfmt.Number(st.Progress*100, 0)+" %"
		return d, nil
	case "failed":
		d.Failed = st.Error
		return d, nil
	}
	res := st.Result
	d.Stats = []web.Fact{{Term: "Personnes à placer", Value: frfmt.Int(res.Stats.People)}, {Term: "Paires proposées", Value: frfmt.Int(res.Stats.Placed)},
		{Term: "Distance moyenne", Value: frfmt.Distance(res.Stats.MeanKm)}, {Term: "Méthode", Value: res.Method}}
	if st.Baseline != nil {
		d.Stats = append(d.Stats, web.Fact{Term: "Placées par la méthode gloutonne (comparaison)", Value: frfmt.Int(st.Baseline.Placed)})
	}
	if d.Pairs, err = m.pairs(c, s, res); err != nil {
		return nil, err
	}
	for _, w := range res.WhyUnplaced {
		name := strconv.FormatInt(w.PersonID, 10)
		if pe, err := atigip.Of[*atigip.Person](s.Store()).Get(c.UserContext(), w.PersonID); err == nil {
			name = pe.Pseudonym
		}
		d.Unplaced = append(d.Unplaced, web.Fact{Term: name, Value: w.Reason})
		if len(d.Unplaced) == 50 {
			break
		}
	}
	return d, nil
}

func (m *CaseworkModule) assignmentJob(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		d, err := m.jobView(c, s, c.Params("job"))
		if err != nil {
			return s.Problem(c, err)
		}
		if n, err := strconv.Atoi(c.Query("fait")); err == nil {
			d.Done = frfmt.Plural(n, "proposition transmise au juge", "propositions transmises au juge") + " (FFS12 vers APPI)."
		}
		return m.renderAssignment(c, s, fiber.StatusOK, d)
	}
}

// reviewAssignment takes the director's verdict on every pair: nothing
// leaves until each pair is accepted or rejected; then each accepted pair
// is proposed to the judge through the API's transition (the rulebook
// checked again, the measure at the version shown).
func (m *CaseworkModule) reviewAssignment(s *Server, w *wfRoutes) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !csrfValid(c) {
			return s.csrfRefused(c)
		}
		d, err := m.jobView(c, s, c.Params("job"))
		if err != nil {
			return s.Problem(c, err)
		}
		if d.Running || d.Failed != "" {
			return m.renderAssignment(c, s, fiber.StatusConflict, d)
		}
		missing := 0
		for i := range d.Pairs {
			pr := &d.Pairs[i]
			if pr.Sent || pr.MeasureID == 0 {
				continue
			}
			pr.Decision = c.FormValue("paire_" + strconv.FormatInt(pr.PersonID, 10))
			if pr.Decision != "accepter" && pr.Decision != "rejeter" {
				pr.Decision, pr.Error = "", "Acceptez ou rejetez cette paire."
				missing++
			}
		}
		if missing > 0 {
			d.Message = frfmt.Plural(missing, "paire n'est pas revue", "paires ne sont pas revues") + " : aucune proposition n'est partie."
			return m.renderAssignment(c, s, fiber.StatusUnprocessableEntity, d)
		}
		sent, failed := 0, 0
		for i := range d.Pairs {
			pr := &d.Pairs[i]
			if pr.Decision != "accepter" {
				continue
			}
			v, _ := strconv.ParseInt(c.FormValue("version_"+strconv.FormatInt(pr.PersonID, 10)), 10, 64)
			if v == 0 {
				v = pr.Version
			}
			_, err := w.transitionAt(c, pr.MeasureID, v, workflow.Transition{To: atigip.MeasureProposed, PostID: pr.PostID,
				StartDate: m.today().AddDays(14)})
			if err != nil {
				if !formFailure(err) {
					return s.Problem(c, err)
				}
				pr.Error, failed = atigip.ErrorMessage(err), failed+1
				continue
			}
			pr.Sent, sent = true, sent+1
		}
		if failed > 0 {
			d.Message = frfmt.Plural(sent, "proposition transmise", "propositions transmises") + ", " +
				frfmt.Plural(failed, "paire refusée", "paires refusées") + " par les règles (voir chaque paire)."
			return m.renderAssignment(c, s, fiber.StatusConflict, d)
		}
		return c.Redirect("/direction/affectation/"+d.JobID+"?fait="+strconv.Itoa(sent), fiber.StatusSeeOther)
	}
}
