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
)

// judgePerPage is the page size of the proposals to decide.
const judgePerPage = 25

// proposalsAwaiting returns the number of measures proposed to the judge
// in the principal's perimeter and those of page (1 first; 0: none).
func proposalsAwaiting(c *fiber.Ctx, s *Server, page int) (int, []*atigip.Measure, error) {
	p := s.Principal(c)
	f := atigip.ListFilter{Departement: departementOf(p), Status: []string{string(atigip.MeasureProposed)}}
	if page <= 0 {
		f.Limit = 1
	} else {
		f.Limit, f.Offset = judgePerPage, (page-1)*judgePerPage
	}
	ms, total, err := atigip.Of[*atigip.Measure](s.Store()).List(c.UserContext(), f)
	if page <= 0 {
		ms = nil
	}
	return total, ms, err
}

// judgeAuthorities are the opinions a magistrate gives.
var judgeAuthorities = []atigip.OpinionAuthority{atigip.OpinionJAP, atigip.OpinionProsecutor}

// opinionsAwaiting lists the procedures of the principal's département
// still waiting for a magistrate's opinion, oldest deadline first.
func opinionsAwaiting(c *fiber.Ctx, s *Server, today atigip.Date) ([]*atigip.Procedure, error) {
	var out []*atigip.Procedure
	f := atigip.ListFilter{Departement: departementOf(s.Principal(c)), Status: []string{string(atigip.ProcAwaiting)}}
	err := atigip.Of[*atigip.Procedure](s.Store()).Scan(c.UserContext(), f, func(pr *atigip.Procedure) error {
		for _, a := range workflow.Missing(pr) {
			if slices.Contains(judgeAuthorities, a) {
				out = append(out, pr)
				break
			}
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b *atigip.Procedure) int { return a.OpinionDeadline.Compare(b.OpinionDeadline.Time) })
	return out, err
}

// judgeView is /juge's content.
func (m *CaseworkModule) judgeView(c *fiber.Ctx, s *Server, page int) (*web.JudgePage, error) {
	ctx, p := c.UserContext(), s.Principal(c)
	page = max(1, page)
	total, ms, err := proposalsAwaiting(c, s, page)
	if err != nil {
		return nil, err
	}
	d := &web.JudgePage{CanDecide: p.Role == atigip.RoleMagistrate, Total: frfmt.Plural(total, "proposition à trancher", "propositions à trancher")}
	if !d.CanDecide {
		d.Message = "La décision appartient au magistrat : le greffe voit les propositions et les avis en attente pour préparer les audiences."
	}
	today := m.today()
	ids := make([]int64, 0, len(ms))
	for _, ms := range ms {
		ids = append(ids, ms.PersonID)
		row := web.DecisionRow{ID: ms.ID, Version: ms.Version, CaseRef: ms.CaseRef, Hours: frfmt.Hours(ms.HoursLeft()),
			Deadline: frDate(ms.Deadline(today)), Form: web.Form{Values: map[string]string{}, Errors: map[string]string{}}}
		if pe, err := atigip.Of[*atigip.Person](s.Store()).Get(ctx, ms.PersonID); err == nil {
			row.Pseudonym = pe.Pseudonym
		}
		if post, err := atigip.Of[*atigip.Post](s.Store()).Get(ctx, ms.PostID); err == nil {
			row.Post, row.PostURL = post.Title, "/postes/"+strconv.FormatInt(post.ID, 10)
		}
		for i := len(ms.History) - 1; i >= 0; i-- {
			if ev := ms.History[i]; ev.To == atigip.MeasureProposed {
				row.Proposed, row.Note = frfmt.Date(ev.At), ev.Note
				if len(ev.Overrides) > 0 {
					row.Note += " – règles écartées : " + strings.Join(ev.Overrides, ", ")
				}
				break
			}
		}
		row.Start = frDate(ms.StartDate)
		d.Proposals = append(d.Proposals, row)
	}
	if err := s.AuditAll(c, "list", atigip.KindPerson, ids, len(ids)); err != nil {
		return nil, err
	}
	d.Pager = web.NewPager(page, (total+judgePerPage-1)/judgePerPage, func(i int) string { return "/juge?page=" + strconv.Itoa(i) })
	procs, err := opinionsAwaiting(c, s, today)
	if err != nil {
		return nil, err
	}
	for _, pr := range procs {
		row := web.OpinionRow{ID: pr.ID, Kind: atigip.ProcedureKinds[pr.ProcKind], Deadline: frDate(pr.OpinionDeadline),
			Requested: frfmt.Date(pr.RequestedAt), Late: today.After(pr.OpinionDeadline.Time),
			Form: web.Form{Values: map[string]string{}, Errors: map[string]string{}}}
		if o, err := atigip.Of[*atigip.Organisation](s.Store()).Get(ctx, pr.OrganisationID); err == nil {
			row.Organisation = o.Name
		}
		for _, a := range workflow.Missing(pr) {
			if slices.Contains(judgeAuthorities, a) {
				row.Authorities = append(row.Authorities, web.Choice{Code: string(a), Label: atigip.OpinionAuthorities[a]})
			}
		}
		d.Opinions = append(d.Opinions, row)
	}
	return d, nil
}

func (m *CaseworkModule) renderJudge(c *fiber.Ctx, s *Server, status int, d *web.JudgePage) error {
	l := s.layout(c, "Décisions du juge", "espace", web.Crumb{Label: "Mon espace", URL: "/espace"})
	l.CSRF = s.csrfToken(c)
	return s.page(c, status, "juge", l, d)
}

var judgeDone = map[string]string{
	"affecte": "Mesure affectée : la place est prise sur le poste.",
	"refuse":  "Proposition refusée : la mesure revient au CPIP, à placer.",
	"avis":    "Votre avis a été enregistré.",
}

func (m *CaseworkModule) judge(s *Server, w *wfRoutes) fiber.Handler {
	return func(c *fiber.Ctx) error {
		page, _ := strconv.Atoi(c.Query("page"))
		d, err := m.judgeView(c, s, page)
		if err != nil {
			return s.Problem(c, err)
		}
		d.Done = judgeDone[c.Query("fait")]
		return m.renderJudge(c, s, fiber.StatusOK, d)
	}
}

// judgeFailure re-renders /juge with form f on the row of id.
func (m *CaseworkModule) judgeFailure(c *fiber.Ctx, s *Server, id int64, f web.Form, err error, opinion bool) error {
	d, verr := m.judgeView(c, s, 1)
	if verr != nil {
		return s.Problem(c, verr)
	}
	status := fiber.StatusUnprocessableEntity
	if err != nil {
		fail(&f, err, nil)
		status = problemOf(err).Status
	}
	found := false
	if opinion {
		for i := range d.Opinions {
			if d.Opinions[i].ID == id {
				d.Opinions[i].Form, found = f, true
			}
		}
	} else {
		for i := range d.Proposals {
			if d.Proposals[i].ID == id {
				if v := f.Values["version"]; v != "" && v != strconv.FormatInt(d.Proposals[i].Version, 10) && atigip.ErrorCode(err) == atigip.ECONFLICT {
					f.Message = "Modifié entre-temps : la mesure a changé depuis votre lecture (version " +
						strconv.FormatInt(d.Proposals[i].Version, 10) + "). Votre saisie est conservée ; vérifiez puis envoyez de nouveau."
				}
				d.Proposals[i].Form, found = f, true
			}
		}
	}
	if !found {
		d.Message = strings.TrimSpace(f.Message + " " + strings.Join(mapValues(f.Errors), " "))
	}
	return m.renderJudge(c, s, status, d)
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		if v != "" {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// decide is the judge's decision on a proposal: assign or refuse with a
// reason, through the API's transition.
func (m *CaseworkModule) decide(s *Server, w *wfRoutes) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, ok, err := s.formTarget(c, atigip.KindMeasure)
		if !ok {
			return err
		}
		f := formOf(c, "decision", "reason", "version")
		version, _ := strconv.ParseInt(f.Values["version"], 10, 64)
		t := workflow.Transition{Reason: f.Values["reason"]}
		switch f.Values["decision"] {
		case "affecter":
			t.To = atigip.MeasureAssigned
		case "refuser":
			t.To = atigip.MeasureToPlace
		default:
			f.Errors["decision"] = "Choisissez : affecter ou refuser."
			return m.judgeFailure(c, s, id, f, nil, false)
		}
		if _, err := w.transitionAt(c, id, version, t); err != nil {
			if !formFailure(err) {
				return s.Problem(c, err)
			}
			return m.judgeFailure(c, s, id, f, err, false)
		}
		done := "affecte"
		if t.To == atigip.MeasureToPlace {
			done = "refuse"
		}
		return c.Redirect("/juge?fait="+done, fiber.StatusSeeOther)
	}
}

// judgeOpinion records a magistrate's opinion on a procedure.
func (m *CaseworkModule) judgeOpinion(s *Server, w *wfRoutes) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, ok, err := s.formTarget(c, atigip.KindProcedure)
		if !ok {
			return err
		}
		f := formOf(c, "authority", "verdict", "comment")
		r, ok := opinionOf(&f)
		if !ok {
			return m.judgeFailure(c, s, id, f, nil, true)
		}
		if _, err := w.svc.GiveOpinion(c.UserContext(), s.Principal(c), id, r); err != nil {
			if !formFailure(err) {
				return s.Problem(c, err)
			}
			return m.judgeFailure(c, s, id, f, err, true)
		}
		return c.Redirect("/juge?fait=avis", fiber.StatusSeeOther)
	}
}

// opinionOf reads an opinion form (authority, verdict, comment).
func opinionOf(f *web.Form) (workflow.OpinionRequest, bool) {
	r := workflow.OpinionRequest{Authority: atigip.OpinionAuthority(f.Values["authority"]), Comment: f.Values["comment"]}
	if _, ok := atigip.OpinionAuthorities[r.Authority]; !ok {
		f.Errors["authority"] = "Choisissez l'autorité dont vous donnez l'avis."
	}
	switch f.Values["verdict"] {
	case "favorable":
		r.Favourable = true
	case "defavorable":
	default:
		f.Errors["verdict"] = "Choisissez : favorable ou défavorable."
	}
	if !r.Favourable && f.Values["verdict"] == "defavorable" && r.Comment == "" {
		f.Errors["comment"] = "Motivez un avis défavorable."
	}
	return r, len(f.Errors) == 0
}
