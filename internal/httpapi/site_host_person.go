package httpapi

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/internal/web/frfmt"
	"github.com/atigip/atigip360/internal/workflow"
)

// --- « Ma mesure » ---------------------------------------------------------

// myMeasurePage builds « Ma mesure » for the signed-in person (their own
// records only, the read audited).
func (h *hostPages) myMeasurePage(c *fiber.Ctx) (web.MyMeasure, error) {
	var d web.MyMeasure
	p := h.s.Principal(c)
	if p.PersonID == 0 {
		return d, atigip.Errorf(atigip.EFORBIDDEN, "Votre compte n'est rattaché à aucune mesure.")
	}
	ctx, st := c.UserContext(), h.s.Store()
	ms, err := atigip.Of[*atigip.Measure](st).All(ctx, atigip.ListFilter{Parent: p.PersonID}) // Parent: indexed, as Owner is not for measures
	if err != nil {
		return d, err
	}
	m := currentMeasure(ms)
	if m == nil {
		return d, nil
	}
	if err := h.s.Audit(c, "read_my_measure", atigip.KindMeasure, m.ID, 0); err != nil {
		return d, err
	}
	today := atigip.DateOf(h.now())
	d.Measure, d.State, d.HoursDone, d.HoursLeft, d.Ordered = m, atigip.MeasureStates[m.State], m.HoursDone, m.HoursLeft(), m.HoursOrdered
	if m.HoursOrdered > 0 {
		d.Percent = int(m.HoursDone * 100 / float64(m.HoursOrdered))
	}
	d.Deadline = m.Deadline(today)
	d.DaysLeft = today.DaysUntil(d.Deadline)
	d.Others = len(ms) - 1
	switch m.State {
	case atigip.MeasureAssigned, atigip.MeasureInProgress, atigip.MeasureSuspended:
		d.CanReport = true
	}
	if m.PostID != 0 {
		post, err := atigip.Of[*atigip.Post](st).Get(ctx, m.PostID)
		if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
			return d, err
		}
		if post != nil {
			d.Post = post
			d.Schedule = scheduleLines(post.Schedule)
			org, err := atigip.Of[*atigip.Organisation](st).Get(ctx, post.OrganisationID)
			if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
				return d, err
			}
			if org != nil {
				d.OrgName, d.Contacts = org.Name, org.Contacts
			}
		}
	}
	err = atigip.Of[*atigip.MeasureLog](st).Scan(ctx, atigip.ListFilter{Parent: m.ID}, func(l *atigip.MeasureLog) error {
		switch {
		case l.LogType == atigip.LogHours && l.Status == atigip.LogConfirmed:
			d.Confirmed = append(d.Confirmed, l)
		case l.LogType == atigip.LogHours && l.Status == atigip.LogReported:
			d.Waiting += l.Hours
		case l.LogType == atigip.LogIncident && l.Incident == atigip.IncidentAbsence && l.ReportedRole == atigip.RolePerson:
			d.Absences = append(d.Absences, l)
		}
		return nil
	})
	slices.SortStableFunc(d.Confirmed, func(a, b *atigip.MeasureLog) int { return b.Date.Compare(a.Date.Time) })
	slices.SortStableFunc(d.Absences, func(a, b *atigip.MeasureLog) int { return b.Date.Compare(a.Date.Time) })
	return d, err
}

// scheduleLines writes a weekly schedule the French way, a line a day.
func scheduleLines(s atigip.Schedule) []string {
	var per [8][]string
	for _, sl := range s.Slots {
		if sl.Day >= 1 && sl.Day <= 7 {
			per[sl.Day] = append(per[sl.Day], "de "+frfmt.Clock(sl.Start)+" à "+frfmt.Clock(sl.End))
		}
	}
	var out []string
	for d := 1; d <= 7; d++ {
		if len(per[d]) > 0 {
			out = append(out, dayLabels[d-1]+" : "+strings.Join(per[d], " et "))
		}
	}
	return out
}

func (h *hostPages) renderMine(c *fiber.Ctx, status int, d web.MyMeasure) error {
	return h.render(c, status, "ma-mesure", "Ma mesure", "espace", d, web.Crumb{Label: "Mon espace", URL: "/espace"})
}

func (h *hostPages) myMeasure(c *fiber.Ctx) error {
	d, err := h.myMeasurePage(c)
	if err != nil {
		return h.s.Problem(c, err)
	}
	d.Sent = c.Query("envoye") != ""
	d.Form.Date = atigip.DateOf(h.now()).String()
	return h.renderMine(c, fiber.StatusOK, d)
}

func (h *hostPages) absence(c *fiber.Ctx) error {
	if err := formOK(c); err != nil {
		return h.s.Problem(c, err)
	}
	d, err := h.myMeasurePage(c)
	if err != nil {
		return h.s.Problem(c, err)
	}
	d.Form = web.AbsenceForm{Date: strings.TrimSpace(c.FormValue("date")), Reason: strings.TrimSpace(c.FormValue("reason")), Errors: map[string]string{}}
	if d.Measure == nil {
		return h.s.Problem(c, atigip.Errorf(atigip.ECONFLICT, "Aucune mesure en cours : il n'y a pas d'absence à signaler."))
	}
	day, derr := atigip.ParseDate(d.Form.Date)
	if derr != nil {
		d.Form.Errors["date"] = "Indiquez le jour de votre absence."
	} else {
		_, err := h.w.reportAbsence(c, d.Measure.ID, workflow.AbsenceReport{Date: day, Reason: d.Form.Reason})
		if err == nil {
			return c.Redirect("/ma-mesure?envoye=1#absence", fiber.StatusSeeOther)
		}
		if !formError(err) {
			return h.s.Problem(c, err)
		}
		for _, fe := range atigip.ErrorFields(err) {
			d.Form.Errors[fe.Field] = fe.Message
		}
		if len(d.Form.Errors) == 0 {
			d.Form.Errors["form"] = atigip.ErrorMessage(err)
		}
	}
	return h.renderMine(c, fiber.StatusBadRequest, d)
}

// --- The CPIP's confirmation ----------------------------------------------

// checkPageOf builds the confirmation page of measure id, after the
// perimeter check (outside reads as absent); the read is audited.
func (h *hostPages) checkPageOf(c *fiber.Ctx, id int64) (web.CheckPage, error) {
	var d web.CheckPage
	ctx, st := c.UserContext(), h.s.Store()
	m, err := atigip.Of[*atigip.Measure](st).Get(ctx, id)
	if err == nil {
		err = h.s.inPerimeter(c, h.s.Principal(c), m, true)
	}
	if aerr := h.s.Audit(c, "read_hours", atigip.KindMeasure, id, 0); aerr != nil {
		return d, aerr
	}
	if err != nil {
		return d, err
	}
	d.MeasureID, d.State, d.HoursDone, d.HoursLeft, d.Ordered = m.ID, atigip.MeasureStates[m.State], m.HoursDone, m.HoursLeft(), m.HoursOrdered
	d.Deadline = m.Deadline(atigip.DateOf(h.now()))
	if pe, err := atigip.Of[*atigip.Person](st).Get(ctx, m.PersonID); err == nil {
		d.Pseudonym = pe.Pseudonym
	}
	if m.PostID != 0 {
		if post, err := atigip.Of[*atigip.Post](st).Get(ctx, m.PostID); err == nil {
			d.Post = post.Title
			if org, err := atigip.Of[*atigip.Organisation](st).Get(ctx, post.OrganisationID); err == nil {
				d.Org = org.Name
			}
		}
	}
	pending, done, err := workflow.PendingHours(ctx, st, id)
	if err != nil {
		return d, err
	}
	for _, l := range pending {
		d.Pending = append(d.Pending, web.CheckRow{Log: l})
	}
	d.Done = done
	return d, nil
}

func (h *hostPages) renderCheck(c *fiber.Ctx, status int, d web.CheckPage) error {
	return h.render(c, status, "structure-confirmation", "Heures à confirmer — mesure n° "+strconv.FormatInt(d.MeasureID, 10), "espace", d,
		web.Crumb{Label: "Mon espace", URL: "/espace"}, web.Crumb{Label: "Heures à confirmer", URL: "/heures-a-confirmer"})
}

func (h *hostPages) checkPage(c *fiber.Ctx) error {
	id, err := parseID(c)
	if err != nil {
		return h.s.Problem(c, err)
	}
	d, err := h.checkPageOf(c, id)
	if err != nil {
		return h.s.Problem(c, err)
	}
	switch c.Query("fait") {
	case "confirme":
		d.Flash = "Les heures sont confirmées et comptées dans la mesure."
	case "conteste":
		d.Flash = "Les heures sont contestées ; le tuteur voit le motif."
	}
	return h.renderCheck(c, fiber.StatusOK, d)
}

func (h *hostPages) check(c *fiber.Ctx) error {
	if err := formOK(c); err != nil {
		return h.s.Problem(c, err)
	}
	id, err := parseID(c)
	if err != nil {
		return h.s.Problem(c, err)
	}
	logID, err := pathID(c, "log")
	if err != nil {
		return h.s.Problem(c, err)
	}
	accept := c.FormValue("decision") == "confirmer"
	note := strings.TrimSpace(c.FormValue("note"))
	_, err = h.w.checkHoursOf(c, id, logID, workflow.HoursCheck{Accept: accept, Note: note})
	if err == nil {
		done := "conteste"
		if accept {
			done = "confirme"
		}
		return c.Redirect("/mesures/"+strconv.FormatInt(id, 10)+"/heures?fait="+done, fiber.StatusSeeOther)
	}
	if !formError(err) {
		return h.s.Problem(c, err)
	}
	d, perr := h.checkPageOf(c, id)
	if perr != nil {
		return h.s.Problem(c, perr)
	}
	msg := atigip.ErrorMessage(err)
	if fs := atigip.ErrorFields(err); len(fs) > 0 {
		msg = fs[0].Message
	}
	found := false
	for i := range d.Pending {
		if d.Pending[i].Log.ID == logID {
			d.Pending[i].Note, d.Pending[i].Error, found = note, msg, true
		}
	}
	if !found {
		d.Flash = msg
	}
	return h.renderCheck(c, fiber.StatusBadRequest, d)
}

// pendingPerPage is the page size of the hours waiting for confirmation.
const pendingPerPage = 25

// pendingReports lists the reports waiting for p's confirmation: the
// store filters the département and the status, the perimeter rule
// (within) the age the professional follows.
func pendingReports(ctx context.Context, st atigip.Store, p atigip.Principal, visit func(*atigip.MeasureLog) bool) error {
	lk := newLookup(ctx, st)
	measures := map[int64]bool{}
	f := atigip.ListFilter{Departement: departementOf(p), Status: []string{string(atigip.LogReported)}}
	errStop := atigip.Errorf(atigip.EINTERNAL, "stop")
	err := atigip.Of[*atigip.MeasureLog](st).Scan(ctx, f, func(l *atigip.MeasureLog) error {
		if l.LogType != atigip.LogHours {
			return nil
		}
		ok, seen := measures[l.MeasureID]
		if !seen {
			m, err := atigip.Of[*atigip.Measure](st).Get(ctx, l.MeasureID)
			if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
				return err
			}
			if m != nil {
				if ok, err = within(lk, p, m); err != nil {
					return err
				}
			}
			measures[l.MeasureID] = ok
		}
		if ok && !visit(l) {
			return errStop
		}
		return nil
	})
	if err == errStop {
		return nil
	}
	return err
}

// pendingCount counts the reports waiting for p (at most 1,000 counted).
func pendingCount(ctx context.Context, st atigip.Store, p atigip.Principal) (int, error) {
	n := 0
	err := pendingReports(ctx, st, p, func(*atigip.MeasureLog) bool { n++; return n < 1000 })
	return n, err
}

func (h *hostPages) pending(c *fiber.Ctx) error {
	page := pageNum(c)
	var d web.PendingPage
	err := pendingReports(c.UserContext(), h.s.Store(), h.s.Principal(c), func(l *atigip.MeasureLog) bool {
		if d.Total >= (page-1)*pendingPerPage && len(d.Rows) < pendingPerPage {
			d.Rows = append(d.Rows, web.PendingRow{MeasureID: l.MeasureID, Date: l.Date, Hours: l.Hours, Reported: l.ReportedAt})
		}
		d.Total++
		return true
	})
	if err != nil {
		return h.s.Problem(c, err)
	}
	d.Pager = web.NewPager(page, (d.Total+pendingPerPage-1)/pendingPerPage, func(n int) string { return "/heures-a-confirmer?page=" + strconv.Itoa(n) })
	return h.render(c, fiber.StatusOK, "structure-a-confirmer", "Heures à confirmer", "espace", d, web.Crumb{Label: "Mon espace", URL: "/espace"})
}
