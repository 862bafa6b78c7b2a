package httpapi

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/caseload"
	"github.com/atigip/atigip360/internal/refdata"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/internal/web/frfmt"
	"github.com/atigip/atigip360/internal/workflow"
	"github.com/atigip/atigip360/matching"
)

// stateOrder lists the measure states in the order of their life.
var stateOrder = []atigip.MeasureState{atigip.MeasureToPlace, atigip.MeasureProposed, atigip.MeasureAssigned,
	atigip.MeasureInProgress, atigip.MeasureSuspended, atigip.MeasureCompleted, atigip.MeasureClosedFailed}

func perimeterLabel(p atigip.Principal) string {
	who := "majeurs et mineurs"
	switch p.Role {
	case atigip.RoleCPIP:
		who = "majeurs (SPIP)"
	case atigip.RolePJJ:
		who = "mineurs (PJJ)"
	}
	if dep := departementOf(p); dep != "" {
		name := dep
		if d, ok := refdata.DepartementByCode(dep); ok {
			name = d.Name + " (" + dep + ")"
		}
		return "Département " + name + ", " + who
	}
	return "National, " + who
}

func (m *CaseworkModule) caseload(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := s.Principal(c)
		q := caseload.Query{Text: c.Query("q"), Sort: c.Query("tri"), Desc: c.Query("ordre") == "desc", Open: true}
		if _, ok := caseload.Sorts[q.Sort]; !ok {
			q.Sort = caseload.SortDeadline
		}
		if v := c.Query("etat"); v != "" {
			if _, ok := atigip.MeasureStates[atigip.MeasureState(v)]; ok {
				q.States = []atigip.MeasureState{atigip.MeasureState(v)}
			}
		}
		if v := caseload.Flag(c.Query("alerte")); caseload.FlagLabels[v] != "" {
			q.Flag = v
		}
		q.Page, _ = strconv.Atoi(c.Query("page"))
		pg, err := m.load(s, c, caseQuery(p, q))
		if err != nil {
			return s.Problem(c, err)
		}
		ids := make([]int64, len(pg.Rows))
		for i, r := range pg.Rows {
			ids[i] = r.Measure.ID
		}
		if err := s.AuditAll(c, "list", atigip.KindMeasure, ids, len(ids)); err != nil {
			return s.Problem(c, err)
		}
		base := url.Values{}
		set := func(k, v string) {
			if v != "" {
				base.Set(k, v)
			}
		}
		set("q", strings.TrimSpace(q.Text))
		if len(q.States) > 0 {
			set("etat", string(q.States[0]))
		}
		set("alerte", string(q.Flag))
		link := func(change map[string]string) string {
			v := url.Values{}
			for k, x := range base {
				v[k] = x
			}
			v.Set("tri", q.Sort)
			if q.Desc {
				v.Set("ordre", "desc")
			}
			for k, x := range change {
				if x == "" {
					v.Del(k)
				} else {
					v.Set(k, x)
				}
			}
			return casesURL("/mesures", v)
		}
		d := web.Caseload{Perimeter: perimeterLabel(p), Text: q.Text, Desc: q.Desc, Total: frfmt.Plural(pg.Total, "mesure", "mesures")}
		d.States = append(d.States, web.Choice{Label: "Tous les états en cours", Selected: len(q.States) == 0})
		for _, st := range stateOrder {
			d.States = append(d.States, web.Choice{Code: string(st), Label: atigip.MeasureStates[st], Count: frfmt.Int(pg.ByState[st]),
				Selected: len(q.States) > 0 && q.States[0] == st})
		}
		d.Flags = append(d.Flags, web.Choice{Label: "Toutes", Selected: q.Flag == ""})
		for _, f := range []caseload.Flag{caseload.FlagDeadline, caseload.FlagNoProposal, caseload.FlagIncident} {
			d.Flags = append(d.Flags, web.Choice{Code: string(f), Label: caseload.FlagLabels[f], Count: frfmt.Int(pg.ByFlag[f]), Selected: q.Flag == f})
		}
		for _, k := range []string{caseload.SortDeadline, caseload.SortHours, caseload.SortState, caseload.SortPerson} {
			d.Sorts = append(d.Sorts, web.Choice{Code: k, Label: caseload.Sorts[k], Selected: q.Sort == k})
		}
		head := func(label, key string) web.SortHead {
			h := web.SortHead{Label: label, URL: link(map[string]string{"tri": key, "ordre": "", "page": ""})}
			if q.Sort == key {
				h.Sort = "ascending"
				if q.Desc {
					h.Sort = "descending"
				} else {
					h.URL = link(map[string]string{"tri": key, "ordre": "desc", "page": ""})
				}
			}
			return h
		}
		d.Heads = []web.SortHead{head("Personne", caseload.SortPerson), head("État", caseload.SortState),
			head("Échéance légale", caseload.SortDeadline), head("Heures restantes", caseload.SortHours)}
		today := m.today()
		for _, r := range pg.Rows {
			row := web.CaseRow{URL: "/mesures/" + strconv.FormatInt(r.Measure.ID, 10), Pseudonym: r.Pseudonym, CaseRef: r.Measure.CaseRef,
				State: atigip.MeasureStates[r.Measure.State], Deadline: frDate(r.Deadline.Deadline), HoursLeft: frfmt.Hours(r.Deadline.HoursLeft)}
			if !r.Deadline.Deadline.IsZero() && !caseload.Closed(r.Measure.State) {
				n := today.DaysUntil(r.Deadline.Deadline)
				row.Late = n < 0
				if n < 0 {
					row.DaysLeft = "dépassée de " + frfmt.Plural(-n, "jour", "jours")
				} else {
					row.DaysLeft = "dans " + frfmt.Plural(n, "jour", "jours")
				}
			}
			for _, f := range r.Flags {
				row.Flags = append(row.Flags, caseload.FlagLabels[f])
			}
			d.Rows = append(d.Rows, row)
		}
		d.Pager = web.NewPager(pg.Page, pg.Pages, func(i int) string {
			return link(map[string]string{"page": strconv.Itoa(i)})
		})
		return s.page(c, fiber.StatusOK, "mesures", s.layout(c, "Mes mesures", "espace", web.Crumb{Label: "Mon espace", URL: "/espace"}), d)
	}
}

// measureView gathers the measure page: the history (audited, within the
// perimeter), the person (audited), the posts ranked for them.
func (m *CaseworkModule) measureView(c *fiber.Ctx, s *Server, w *wfRoutes, id int64) (*web.MeasurePage, error) {
	ctx, p := c.UserContext(), s.Principal(c)
	h, err := w.historyOf(c, id)
	if err != nil {
		return nil, err
	}
	ms, err := atigip.Of[*atigip.Measure](s.Store()).Get(ctx, id)
	if err != nil {
		return nil, err
	}
	person, err := atigip.Of[*atigip.Person](s.Store()).Get(ctx, ms.PersonID)
	if err != nil {
		return nil, err
	}
	if err := s.Audit(c, "read", atigip.KindPerson, person.ID, 0); err != nil {
		return nil, err
	}
	today := m.today()
	d := &web.MeasurePage{ID: ms.ID, Version: ms.Version, CaseRef: ms.CaseRef, State: atigip.MeasureStates[ms.State],
		HoursURL: "/mesures/" + strconv.FormatInt(id, 10) + "/heures", Today: isoDate(today), DefaultStart: isoDate(today.AddDays(14)),
		Propose:  web.Form{Values: map[string]string{}, Errors: map[string]string{}},
		Move:     web.Form{Values: map[string]string{}, Errors: map[string]string{}},
		Incident: web.Form{Values: map[string]string{}, Errors: map[string]string{}}}
	var post *atigip.Post
	if ms.PostID != 0 {
		if post, err = atigip.Of[*atigip.Post](s.Store()).Get(ctx, ms.PostID); err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
			return nil, err
		}
	}
	dl := h.Deadline
	d.Measure = []web.Fact{{Term: "Numéro APPI", Value: ms.CaseRef}, {Term: "État", Value: d.State},
		{Term: "Heures prononcées", Value: frfmt.Hours(float64(ms.HoursOrdered))}, {Term: "Heures effectuées", Value: frfmt.Hours(ms.HoursDone)},
		{Term: "Heures restantes", Value: frfmt.Hours(dl.HoursLeft)}, {Term: "Date de la condamnation", Value: frDate(ms.SentenceDate)},
		{Term: "Échéance légale (18 mois, suspensions déduites)", Value: frDate(dl.Deadline)}}
	if !caseload.Closed(ms.State) && !dl.Deadline.IsZero() {
		d.Measure = append(d.Measure, web.Fact{Term: "Jours restants", Value: frfmt.Int(dl.DaysLeft)})
	}
	if ms.Court != "" {
		d.Measure = append(d.Measure, web.Fact{Term: "Juridiction", Value: ms.Court})
	}
	if post != nil {
		d.Measure = append(d.Measure, web.Fact{Term: "Poste", Value: post.Title},
			web.Fact{Term: "Heures possibles d'ici l'échéance", Value: frfmt.Hours(dl.HoursPossible)})
	}
	if !ms.StartDate.IsZero() {
		d.Measure = append(d.Measure, web.Fact{Term: "Début d'exécution", Value: frDate(ms.StartDate)})
	}
	if dl.Near {
		d.Flags = append(d.Flags, "Échéance proche : les heures restantes dépassent ce que l'emploi du temps permet d'ici l'échéance.")
	}
	// The person: profile, constraints, availability.
	d.Person = []web.Fact{{Term: "Pseudonyme", Value: person.Pseudonym}}
	if age := person.AgeAt(today.Time); age >= 0 {
		d.Person = append(d.Person, web.Fact{Term: "Âge", Value: frfmt.Plural(age, "an", "ans")})
	}
	d.Person = append(d.Person, web.Fact{Term: "Commune", Value: strings.TrimSpace(person.HomeAddress.Postcode + " " + person.HomeAddress.City)},
		web.Fact{Term: "Mobilité", Value: frfmt.Distance(person.Mobility.RadiusKm) + ", " + strings.ToLower(atigip.Transports[person.Mobility.Transport])})
	var jobs []string
	for _, code := range person.ROMECodes {
		if r, ok := refdata.ROMEByCode(code); ok {
			jobs = append(jobs, r.Label+" ("+code+")")
		} else {
			jobs = append(jobs, code)
		}
	}
	if len(jobs) > 0 {
		d.Person = append(d.Person, web.Fact{Term: "Métiers", Value: strings.Join(jobs, ", ")})
	}
	if len(person.Diplomas) > 0 {
		d.Person = append(d.Person, web.Fact{Term: "Diplômes", Value: strings.Join(person.Diplomas, ", ")})
	}
	if person.Experience != "" {
		d.Person = append(d.Person, web.Fact{Term: "Expérience", Value: person.Experience})
	}
	if person.Wishes != "" {
		d.Person = append(d.Person, web.Fact{Term: "Souhaits", Value: person.Wishes})
	}
	med := person.Medical
	for _, x := range []struct {
		on   bool
		text string
	}{{med.Disability, "Handicap : poste adapté nécessaire"}, {med.Pregnancy, "Grossesse : travaux pénibles exclus"},
		{med.NoNightWork, "Pas de travail de nuit"}, {med.NoRiskyWork, "Pas de travaux à risque"},
		{(med.Disability || med.Pregnancy || med.NoNightWork || med.NoRiskyWork) && !med.CheckDone, "Visite médicale préalable à faire"},
		{med.CheckDone, "Visite médicale faite" + func() string {
			if med.CheckDoneAt.IsZero() {
				return ""
			}
			return " le " + frDate(med.CheckDoneAt)
		}()}} {
		if x.on {
			d.Constraints = append(d.Constraints, x.text)
		}
	}
	if person.JobHoursPerWeek > 0 {
		d.Constraints = append(d.Constraints, "Emploi déclaré : "+frfmt.Hours(person.JobHoursPerWeek)+" par semaine (TIG et emploi dans la limite légale)")
	}
	for _, l := range days(person.Availability) {
		d.Availability = append(d.Availability, web.Fact{Term: l.Day, Value: l.Hours})
	}
	// The timeline: the flows with APPI, the transitions, hours and
	// incidents, in date order.
	type dated struct {
		at int64
		e  web.TimelineEntry
	}
	var tl []dated
	flowsOf, err := atigip.Of[*atigip.FlowMessage](s.Store()).All(ctx, atigip.ListFilter{Parent: id})
	if err != nil {
		return nil, err
	}
	for _, f := range flowsOf {
		what := string(f.Type) + " : " + atigip.FlowTypes[f.Type]
		if f.Type == "" {
			what = "Message " + string(f.Direction)
		}
		dir := "Reçu d'APPI"
		if f.Direction == atigip.FlowOut {
			dir = "Envoyé à APPI"
		}
		tl = append(tl, dated{f.At.UnixNano(), web.TimelineEntry{Date: frfmt.Date(f.At), What: what,
			Detail: dir + " – " + strings.ToLower(atigip.FlowStatuses[f.Status]), Who: "APPI"}})
	}
	for _, ev := range h.Events {
		what := atigip.MeasureStates[ev.To]
		if ev.From != "" {
			what = atigip.MeasureStates[ev.From] + " → " + what
		}
		e := web.TimelineEntry{Date: frfmt.Date(ev.At), What: what, Detail: ev.Note, Who: roleLabel(ev.Role)}
		if len(ev.Overrides) > 0 {
			e.Detail += " (règles écartées : " + strings.Join(ev.Overrides, ", ") + ")"
		}
		tl = append(tl, dated{ev.At.UnixNano(), e})
	}
	for _, l := range h.Logs {
		e := web.TimelineEntry{Date: frDate(l.Date), Who: roleLabel(l.ReportedRole), Detail: l.Note}
		if l.LogType == atigip.LogIncident {
			e.What = "Incident : " + strings.ToLower(atigip.IncidentKinds[l.Incident])
		} else {
			e.What = "Heures : " + frfmt.Hours(l.Hours) + " – " + strings.ToLower(atigip.MeasureLogStatuses[l.Status])
		}
		tl = append(tl, dated{l.ReportedAt.UnixNano(), e})
	}
	slices.SortStableFunc(tl, func(a, b dated) int { return cmp.Compare(a.at, b.at) })
	for _, x := range tl {
		d.Timeline = append(d.Timeline, x.e)
	}
	// What the reader may do next.
	for _, st := range h.Next {
		switch st {
		case atigip.MeasureProposed:
			d.CanPropose = true
		case atigip.MeasureInProgress, atigip.MeasureSuspended, atigip.MeasureCompleted, atigip.MeasureClosedFailed:
			d.Next = append(d.Next, web.Choice{Code: string(st), Label: moveLabel(ms.State, st)})
		}
	}
	switch ms.State {
	case atigip.MeasureAssigned, atigip.MeasureInProgress, atigip.MeasureSuspended:
		d.CanIncident = true
		for _, k := range []atigip.IncidentKind{atigip.IncidentAbsence, atigip.IncidentBehaviour, atigip.IncidentAccident} {
			d.IncidentKinds = append(d.IncidentKinds, web.Choice{Code: string(k), Label: atigip.IncidentKinds[k]})
		}
	}
	if len(h.Next) == 0 && !caseload.Closed(ms.State) {
		d.ReadOnlyMessage = "La prochaine étape de cette mesure ne relève pas de votre rôle (" + roleLabel(p.Role) + ")."
	}
	if d.CanPropose {
		m.rankPosts(c, s, person.ID, d)
	}
	return d, nil
}

// moveLabel names a follow-up transition.
func moveLabel(from, to atigip.MeasureState) string {
	switch to {
	case atigip.MeasureInProgress:
		if from == atigip.MeasureSuspended {
			return "Reprendre l'exécution"
		}
		return "Déclarer le début d'exécution"
	case atigip.MeasureSuspended:
		return "Suspendre la mesure"
	case atigip.MeasureCompleted:
		return "Déclarer la mesure exécutée"
	}
	return "Clôturer sans exécution"
}

// rankPosts fills the ranked posts and near misses of the person (the
// matching API's ranking, audited there).
func (m *CaseworkModule) rankPosts(c *fiber.Ctx, s *Server, personID int64, d *web.MeasurePage) {
	if m.Matching == nil {
		d.RankNote = "Le classement des postes n'est pas disponible sur ce serveur."
		return
	}
	rk, err := m.Matching.offersFor(c, s, personID, matching.Query{Kinds: []matching.ItemKind{matching.KindTIG}, Limit: 10, Excluded: true, ExcludedLimit: 8})
	if err != nil {
		d.RankNote = "Classement indisponible : " + atigip.ErrorMessage(err)
		return
	}
	d.RankNote = rk.Notice
	for _, pr := range rk.Proposals {
		d.Posts = append(d.Posts, rankedPost(pr))
	}
	for _, pr := range rk.Excluded {
		rp := rankedPost(pr)
		for _, x := range pr.Exclusions {
			rp.Broken = append(rp.Broken, x.Message)
		}
		d.Excluded = append(d.Excluded, rp)
	}
}

func rankedPost(pr matching.Proposal) web.RankedPost {
	rp := web.RankedPost{PostID: pr.Item.ID, Title: pr.Title, URL: "/postes/" + strconv.FormatInt(pr.Item.ID, 10),
		Distance: frfmt.Distance(pr.DistanceKm), Score: frfmt.Number(pr.Score*100, 0) + " / 100", Summary: pr.Summary}
	if pr.Rank > 0 {
		rp.Rank = strconv.Itoa(pr.Rank)
	}
	for _, t := range pr.Terms {
		rp.Terms = append(rp.Terms, web.ScoreTerm{Label: t.Label, Value: frfmt.Number(t.Value*100, 0) + " %", Points: frfmt.Number(t.Points*100, 1)})
	}
	return rp
}

func (m *CaseworkModule) measure(s *Server, w *wfRoutes) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := parseID(c)
		if err != nil {
			return s.Problem(c, notFound(atigip.KindMeasure))
		}
		d, err := m.measureView(c, s, w, id)
		if err != nil {
			return s.Problem(c, err)
		}
		d.Done = measureDone[c.Query("fait")]
		return m.renderMeasure(c, s, fiber.StatusOK, d)
	}
}

var measureDone = map[string]string{
	"propose":  "Proposition transmise au juge : le message FFS12 part vers APPI.",
	"etat":     "L'état de la mesure a été mis à jour.",
	"incident": "L'incident a été enregistré.",
}

func (m *CaseworkModule) renderMeasure(c *fiber.Ctx, s *Server, status int, d *web.MeasurePage) error {
	l := s.layout(c, "Mesure "+d.CaseRef, "espace", web.Crumb{Label: "Mon espace", URL: "/espace"}, web.Crumb{Label: "Mes mesures", URL: "/mesures"})
	l.CSRF = s.csrfToken(c)
	return s.page(c, status, "mesures-fiche", l, d)
}

// measureForm runs a form of the measure page: CSRF, the page's data, then
// act; a failure the user can correct re-renders the page with the form as
// typed and the message next to the field, a stale version with
// « Modifié entre-temps ».
func (m *CaseworkModule) measureForm(s *Server, w *wfRoutes, names []string, pick func(*web.MeasurePage) *web.Form,
	act func(c *fiber.Ctx, id, version int64, f *web.Form) error, rename func(string) string, done string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, ok, err := s.formTarget(c, atigip.KindMeasure)
		if !ok {
			return err
		}
		f := formOf(c, append(names, "version")...)
		version, _ := strconv.ParseInt(f.Values["version"], 10, 64)
		err = act(c, id, version, &f)
		if err == nil && len(f.Errors) == 0 {
			return c.Redirect("/mesures/"+strconv.FormatInt(id, 10)+"?fait="+done, fiber.StatusSeeOther)
		}
		if err != nil && !formFailure(err) {
			return s.Problem(c, err)
		}
		d, verr := m.measureView(c, s, w, id)
		if verr != nil {
			return s.Problem(c, verr)
		}
		if err != nil {
			fail(&f, err, rename)
			if atigip.ErrorCode(err) == atigip.ECONFLICT && version != 0 && version != d.Version {
				d.Conflict = &web.Conflict{Version: strconv.FormatInt(d.Version, 10), State: d.State}
				if n := len(d.Timeline); n > 0 {
					last := d.Timeline[n-1]
					d.Conflict.Last = last.Date + " – " + last.What
				}
				f.Message = "Modifié entre-temps : la mesure a changé depuis votre lecture. Vos saisies sont conservées ; vérifiez l'état actuel puis envoyez de nouveau."
			}
		}
		*pick(d) = f
		status := fiber.StatusUnprocessableEntity
		if err != nil {
			status = problemOf(err).Status
		}
		return m.renderMeasure(c, s, status, d)
	}
}

func (m *CaseworkModule) propose(s *Server, w *wfRoutes) fiber.Handler {
	return m.measureForm(s, w, []string{"post_id", "start_date"}, func(d *web.MeasurePage) *web.Form { return &d.Propose },
		func(c *fiber.Ctx, id, version int64, f *web.Form) error {
			postID, err := strconv.ParseInt(f.Values["post_id"], 10, 64)
			if err != nil || postID <= 0 {
				f.Errors["post_id"] = "Indiquez le numéro du poste (un entier positif)."
			}
			start := parseDay(f, "start_date")
			if len(f.Errors) > 0 {
				return nil
			}
			_, err = w.transitionAt(c, id, version, workflow.Transition{To: atigip.MeasureProposed, PostID: postID, StartDate: start})
			return err
		}, func(field string) string {
			if strings.HasPrefix(field, "rules.") {
				return "post_id"
			}
			return field
		}, "propose")
}

func (m *CaseworkModule) move(s *Server, w *wfRoutes) fiber.Handler {
	return m.measureForm(s, w, []string{"to", "reason", "date"}, func(d *web.MeasurePage) *web.Form { return &d.Move },
		func(c *fiber.Ctx, id, version int64, f *web.Form) error {
			day := parseDay(f, "date")
			if f.Values["to"] == "" {
				f.Errors["to"] = "Choisissez l'étape."
			}
			if len(f.Errors) > 0 {
				return nil
			}
			t := workflow.Transition{To: atigip.MeasureState(f.Values["to"]), Reason: f.Values["reason"], Date: day}
			if t.To == atigip.MeasureInProgress {
				t.StartDate = day
			}
			_, err := w.transitionAt(c, id, version, t)
			return err
		}, nil, "etat")
}

func (m *CaseworkModule) incident(s *Server, w *wfRoutes) fiber.Handler {
	return m.measureForm(s, w, []string{"incident", "date", "note"}, func(d *web.MeasurePage) *web.Form { return &d.Incident },
		func(c *fiber.Ctx, id, _ int64, f *web.Form) error {
			day := parseDay(f, "date")
			if len(f.Errors) > 0 {
				return nil
			}
			_, err := w.recordIncident(c, id, workflow.IncidentReport{Date: day, Incident: atigip.IncidentKind(f.Values["incident"]), Note: f.Values["note"]})
			return err
		}, nil, "incident")
}
