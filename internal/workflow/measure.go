package workflow

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
)

// Actor is who acts, and when. PostOrganisationID is the organisation of
// the measure's post, which tells whether a host (tutor) is the measure's
// own; callers fill it from the store.
type Actor struct {
	atigip.Principal
	At                 time.Time
	PostOrganisationID int64
}

// today is the actor's civil date.
func (a Actor) today() atigip.Date { return atigip.DateOf(a.At) }

// Transition is a request to move a measure to another state.
type Transition struct {
	To atigip.MeasureState `json:"to"`
	// PostID is the proposed post (to proposed).
	PostID int64 `json:"post_id,omitempty"`
	// StartDate is the planned first day (to proposed, to assigned) or the
	// actual one (to in_progress; default the date of effect).
	StartDate atigip.Date `json:"start_date"`
	// Date is the date of effect of a suspension or of its end (default:
	// today).
	Date atigip.Date `json:"date"`
	// Reason is required for a refusal, a suspension and a closure, and
	// for an override.
	Reason string `json:"reason,omitempty"`
	// Override lists the placement rules the professional knowingly sets
	// aside at a proposal (to proposed): only those matching.Overridable
	// allows, with a reason; recorded in the history and audited.
	Override []matching.Rule `json:"override,omitempty"`
}

// Effect says what else the caller must change in the same transaction.
type Effect struct {
	TakePlace    int64 // post on which a place is taken (entering assigned)
	ReleasePlace int64 // post on which a place is given back
	Propose      bool  // queue an FFS12 proposal to the judge
}

var (
	followers  = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP}
	judges     = []atigip.Role{atigip.RoleMagistrate, atigip.RoleDSPIP, atigip.RoleCaseSystem}
	closers    = []atigip.Role{atigip.RoleMagistrate, atigip.RoleDSPIP, atigip.RoleCaseSystem}
	suspenders = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP, atigip.RoleMagistrate}
	starters   = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP, atigip.RoleHost}
)

// rule is one allowed transition.
type rule struct {
	from   []atigip.MeasureState
	to     atigip.MeasureState
	roles  []atigip.Role
	reason bool // a reason is required
}

// rules is the state machine. Refusal by the judge (proposed → to_place)
// is the only way back; a measure may be closed without completion from
// any open state (revocation by the JAP, death, new conviction…).
var rules = []rule{
	{from: []atigip.MeasureState{atigip.MeasureToPlace}, to: atigip.MeasureProposed, roles: followers},
	{from: []atigip.MeasureState{atigip.MeasureProposed}, to: atigip.MeasureAssigned, roles: judges},
	{from: []atigip.MeasureState{atigip.MeasureProposed}, to: atigip.MeasureToPlace, roles: judges, reason: true},
	{from: []atigip.MeasureState{atigip.MeasureAssigned}, to: atigip.MeasureInProgress, roles: starters},
	{from: []atigip.MeasureState{atigip.MeasureInProgress}, to: atigip.MeasureSuspended, roles: suspenders, reason: true},
	{from: []atigip.MeasureState{atigip.MeasureSuspended}, to: atigip.MeasureInProgress, roles: suspenders},
	{from: []atigip.MeasureState{atigip.MeasureInProgress}, to: atigip.MeasureCompleted, roles: followers},
	{from: []atigip.MeasureState{atigip.MeasureToPlace, atigip.MeasureProposed, atigip.MeasureAssigned,
		atigip.MeasureInProgress, atigip.MeasureSuspended}, to: atigip.MeasureClosedFailed, roles: closers, reason: true},
}

func findRule(from, to atigip.MeasureState) (rule, bool) {
	for _, r := range rules {
		if r.to == to && slices.Contains(r.from, from) {
			return r, true
		}
	}
	return rule{}, false
}

// roleNames is a French list of role labels.
func roleNames(roles []atigip.Role) string {
	names := make([]string, 0, len(roles))
	for _, r := range roles {
		names = append(names, roleLabel(r))
	}
	return strings.Join(names, ", ")
}

func roleLabel(r atigip.Role) string {
	for _, x := range atigip.Roles {
		if x.Role == r {
			return x.Label
		}
	}
	return string(r)
}

func stateLabel(s atigip.MeasureState) string {
	if l, ok := atigip.MeasureStates[s]; ok {
		return l
	}
	return string(s)
}

func invalid(field, format string, args ...any) error {
	return &atigip.Error{Code: atigip.EINVALID, Message: "Données de la transition incomplètes ou incorrectes.",
		Fields: []atigip.FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

// follows checks that a CPIP follows an adult and a PJJ educator a minor.
func follows(m *atigip.Measure, r atigip.Role) error {
	switch {
	case r == atigip.RoleCPIP && m.Minor:
		return atigip.Errorf(atigip.EFORBIDDEN, "Cette mesure concerne un mineur : elle est suivie par la PJJ, pas par un CPIP.")
	case r == atigip.RolePJJ && !m.Minor:
		return atigip.Errorf(atigip.EFORBIDDEN, "Cette mesure concerne un majeur : elle est suivie par le SPIP, pas par la PJJ.")
	}
	return nil
}

// Allowed lists the states p may move m to now (for screens).
func Allowed(m *atigip.Measure, a Actor) []atigip.MeasureState {
	var out []atigip.MeasureState
	for _, r := range rules {
		if slices.Contains(r.from, m.State) && slices.Contains(r.roles, a.Role) && admitted(m, a, r) == nil {
			out = append(out, r.to)
		}
	}
	return out
}

// admitted applies the row-level rules once the role is listed.
func admitted(m *atigip.Measure, a Actor, r rule) error {
	if err := follows(m, a.Role); err != nil {
		return err
	}
	if a.Role == atigip.RoleHost && (a.OrganisationID == 0 || a.OrganisationID != a.PostOrganisationID) {
		return atigip.Errorf(atigip.EFORBIDDEN, "Seul le tuteur de la structure d'accueil du poste peut déclarer le début d'exécution.")
	}
	return nil
}

// ApplyMeasure checks t and applies it to m: state, post, dates,
// suspensions and a history entry stamped with a. It changes nothing when
// it fails. The caller stores m (with the version it read) and carries out
// the effect in the same transaction.
func ApplyMeasure(m *atigip.Measure, a Actor, t Transition) (Effect, error) {
	var eff Effect
	if _, ok := atigip.MeasureStates[t.To]; !ok {
		return eff, invalid("to", "État cible inconnu : %q.", t.To)
	}
	if t.To == m.State {
		return eff, atigip.Errorf(atigip.ECONFLICT, "La mesure est déjà à l'état « %s ».", stateLabel(m.State))
	}
	r, ok := findRule(m.State, t.To)
	if !ok {
		return eff, atigip.Errorf(atigip.ECONFLICT, "Transition interdite : une mesure à l'état « %s » ne peut pas passer à l'état « %s ».",
			stateLabel(m.State), stateLabel(t.To))
	}
	if !slices.Contains(r.roles, a.Role) {
		return eff, atigip.Errorf(atigip.EFORBIDDEN, "Votre rôle (%s) ne permet pas de passer une mesure de « %s » à « %s ». Rôles admis : %s.",
			roleLabel(a.Role), stateLabel(m.State), stateLabel(t.To), roleNames(r.roles))
	}
	if err := admitted(m, a, r); err != nil {
		return eff, err
	}
	reason := strings.TrimSpace(t.Reason)
	if r.reason && reason == "" {
		return eff, invalid("reason", "Le motif est obligatoire pour passer à l'état « %s ».", stateLabel(t.To))
	}
	if len(reason) > 2000 {
		return eff, invalid("reason", "Le motif dépasse 2 000 caractères.")
	}
	today := a.today()
	date := t.Date
	if date.IsZero() {
		date = today
	}
	if date.After(today.Time) {
		return eff, invalid("date", "La date d'effet ne peut pas être dans le futur.")
	}

	next := *m // changes are made on a copy, then committed at once
	next.Suspensions = slices.Clone(m.Suspensions)
	note := reason
	switch t.To {
	case atigip.MeasureProposed:
		if t.PostID <= 0 {
			return eff, invalid("post_id", "Le poste proposé est obligatoire.")
		}
		if t.StartDate.IsZero() {
			return eff, invalid("start_date", "La date de début envisagée est obligatoire.")
		}
		if t.StartDate.Before(today.Time) {
			return eff, invalid("start_date", "La date de début envisagée ne peut pas être passée.")
		}
		next.PostID, next.StartDate = t.PostID, t.StartDate
		eff.Propose = true
		if note == "" {
			note = "Proposition de poste transmise au juge (FFS12)"
		}
	case atigip.MeasureAssigned:
		if t.PostID != 0 && t.PostID != m.PostID {
			return eff, invalid("post_id", "Le poste affecté (%d) n'est pas le poste proposé (%d).", t.PostID, m.PostID)
		}
		if !t.StartDate.IsZero() {
			next.StartDate = t.StartDate
		}
		eff.TakePlace = m.PostID
		if note == "" {
			note = "Affectation ordonnée par le juge"
		}
	case atigip.MeasureToPlace: // refusal by the judge
		next.PostID, next.StartDate = 0, atigip.Date{}
	case atigip.MeasureInProgress:
		if m.State == atigip.MeasureAssigned {
			start := t.StartDate
			if start.IsZero() {
				start = date
			}
			if start.After(today.Time) {
				return eff, invalid("start_date", "Le premier jour de travail ne peut pas être dans le futur.")
			}
			if start.Before(m.SentenceDate.Time) {
				return eff, invalid("start_date", "Le premier jour de travail précède la condamnation.")
			}
			next.StartDate = start
			if note == "" {
				note = "Début d'exécution du TIG"
			}
		} else { // end of a suspension
			i := openSuspension(next.Suspensions)
			if i < 0 {
				return eff, atigip.Errorf(atigip.ECONFLICT, "La mesure est suspendue sans période de suspension ouverte : corrigez la fiche.")
			}
			if date.Before(next.Suspensions[i].From.Time) {
				return eff, invalid("date", "La reprise précède le début de la suspension (%s).", next.Suspensions[i].From)
			}
			next.Suspensions[i].To = date
			if note == "" {
				note = "Reprise de l'exécution"
			}
		}
	case atigip.MeasureSuspended:
		if date.Before(m.StartDate.Time) {
			return eff, invalid("date", "La suspension ne peut pas commencer avant le début d'exécution.")
		}
		next.Suspensions = append(next.Suspensions, atigip.Suspension{From: date, Reason: reason})
	case atigip.MeasureCompleted:
		if left := m.HoursLeft(); left > 0 {
			return eff, atigip.Errorf(atigip.ECONFLICT, "Il reste %s h à effectuer et à confirmer : la mesure ne peut pas être déclarée exécutée.", hours(left))
		}
		eff.ReleasePlace = m.PostID
		if note == "" {
			note = fmt.Sprintf("Heures effectuées : %s h sur %d h", hours(m.HoursDone), m.HoursOrdered)
		}
	case atigip.MeasureClosedFailed:
		if i := openSuspension(next.Suspensions); i >= 0 {
			next.Suspensions[i].To = date
		}
		if m.State == atigip.MeasureAssigned || m.State == atigip.MeasureInProgress || m.State == atigip.MeasureSuspended {
			eff.ReleasePlace = m.PostID
		}
	}
	if len(t.Override) > 0 && t.To != atigip.MeasureProposed {
		return eff, invalid("override", "Une règle de placement ne peut être écartée qu'à la proposition au juge.")
	}
	ev := atigip.MeasureEvent{At: a.At.UTC(), By: a.Subject, Role: a.Role, From: m.State, To: t.To, Note: note, PostID: next.PostID}
	for _, r := range t.Override {
		ev.Overrides = append(ev.Overrides, string(r))
	}
	next.History = append(slices.Clone(m.History), ev)
	next.State = t.To
	*m = next
	return eff, nil
}

func openSuspension(ss []atigip.Suspension) int {
	for i := len(ss) - 1; i >= 0; i-- {
		if ss[i].To.IsZero() {
			return i
		}
	}
	return -1
}

// hours formats a number of hours the French way ("7,5").
func hours(h float64) string {
	s := fmt.Sprintf("%.2f", h)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return strings.ReplaceAll(s, ".", ",")
}

var (
	reporters = []atigip.Role{atigip.RoleHost, atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP}
	checkers  = []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP}
)

// canReport checks a report of hours or of an incident by a.
func canReport(m *atigip.Measure, a Actor, what string) error {
	if !slices.Contains(reporters, a.Role) {
		return atigip.Errorf(atigip.EFORBIDDEN, "Votre rôle (%s) ne permet pas de déclarer %s. Rôles admis : %s.",
			roleLabel(a.Role), what, roleNames(reporters))
	}
	if a.Role == atigip.RoleHost && (a.OrganisationID == 0 || a.OrganisationID != a.PostOrganisationID) {
		return atigip.Errorf(atigip.EFORBIDDEN, "Seul le tuteur de la structure d'accueil du poste peut déclarer %s pour cette mesure.", what)
	}
	return follows(m, a.Role)
}

// Day is what the daily and weekly caps of a report read: whether the
// person is a minor on that day (from the birth date, matching.MinorAt),
// the hours already reported for that day and not rejected, and those of
// its week (Monday to Sunday), that day included.
type Day struct {
	Minor        bool
	Reported     float64
	WeekReported float64
}

// WeekOf is the Monday that starts day's week (ISO 8601).
func WeekOf(day atigip.Date) atigip.Date {
	wd := int(day.Weekday()+6) % 7 // Monday 0 … Sunday 6
	return day.AddDays(-wd)
}

// ReportHours records hours done on one day, reported by the tutor (or by
// the follower), to be confirmed by the CPIP. Hours count only once
// confirmed. A day's reports together stay within the legal daily maximum
// of work: 10 h for an adult (code du travail L3121-18), 8 h for a minor
// (L3162-1), which TIG follows (code pénal art. 131-23).
func ReportHours(m *atigip.Measure, a Actor, day atigip.Date, h float64, note string, d Day) (*atigip.MeasureLog, error) {
	if err := canReport(m, a, "des heures"); err != nil {
		return nil, err
	}
	if m.State != atigip.MeasureInProgress {
		return nil, atigip.Errorf(atigip.ECONFLICT, "Des heures ne peuvent être déclarées que pour une mesure en cours d'exécution (état actuel : « %s »).", stateLabel(m.State))
	}
	if day.IsZero() {
		return nil, invalid("date", "Le jour travaillé est obligatoire.")
	}
	if day.After(a.today().Time) || day.Before(m.StartDate.Time) {
		return nil, invalid("date", "Le jour travaillé doit être compris entre le début d'exécution (%s) et aujourd'hui.", m.StartDate)
	}
	if math.IsNaN(h) || h <= 0 || h > 12 {
		return nil, invalid("hours", "Les heures d'une journée doivent être comprises entre 0 et 12.")
	}
	if limit := matching.MaxHoursPerDay(d.Minor); d.Reported+h > limit {
		who, art := "un majeur", "L3121-18"
		if d.Minor {
			who, art = "un mineur", "L3162-1"
		}
		if d.Reported > 0 {
			return nil, invalid("hours", "%s h déjà déclarées le %s : avec %s h de plus, la journée dépasserait la durée maximale de %s h pour %s (code du travail, art. %s).",
				hours(d.Reported), day, hours(h), hours(limit), who, art)
		}
		return nil, invalid("hours", "%s h sur une journée dépassent la durée maximale de %s h pour %s (code du travail, art. %s).", hours(h), hours(limit), who, art)
	}
	if limit := matching.MaxHoursPerWeek(d.Minor); d.WeekReported+h > limit {
		who, art := "un majeur", "L3121-20"
		if d.Minor {
			who, art = "un mineur", "L3162-1"
		}
		return nil, invalid("hours", "%s h déjà déclarées la semaine du %s : avec %s h de plus, la semaine dépasserait la durée maximale de %s h pour %s (code du travail, art. %s).",
			hours(d.WeekReported), WeekOf(day).Format("02/01/2006"), hours(h), hours(limit), who, art)
	}
	if h > m.HoursLeft() {
		return nil, invalid("hours", "%s h déclarées, mais il ne reste que %s h à effectuer.", hours(h), hours(m.HoursLeft()))
	}
	l := &atigip.MeasureLog{MeasureID: m.ID, LogType: atigip.LogHours, Date: day, Hours: h, Note: strings.TrimSpace(note),
		Status: atigip.LogReported, ReportedBy: a.Subject, ReportedRole: a.Role, ReportedAt: a.At.UTC(), Departement: m.Departement}
	return l, l.Validate()
}

// CheckHours confirms (accept) or rejects reported hours; confirmed hours
// are added to the measure's hours done.
func CheckHours(m *atigip.Measure, l *atigip.MeasureLog, a Actor, accept bool, note string) error {
	if !slices.Contains(checkers, a.Role) {
		return atigip.Errorf(atigip.EFORBIDDEN, "Votre rôle (%s) ne permet pas de confirmer des heures : c'est le rôle du CPIP (ou de l'éducateur PJJ).", roleLabel(a.Role))
	}
	if err := follows(m, a.Role); err != nil {
		return err
	}
	if l.MeasureID != m.ID || l.LogType != atigip.LogHours {
		return atigip.Errorf(atigip.ENOTFOUND, "Déclaration d'heures introuvable pour cette mesure.")
	}
	if l.Status != atigip.LogReported {
		return atigip.Errorf(atigip.ECONFLICT, "Ces heures ont déjà été traitées (%s).", atigip.MeasureLogStatuses[l.Status])
	}
	if accept && l.Hours > m.HoursLeft() {
		return atigip.Errorf(atigip.ECONFLICT, "Confirmer %s h dépasserait les heures prononcées : il reste %s h.", hours(l.Hours), hours(m.HoursLeft()))
	}
	if !accept && strings.TrimSpace(note) == "" {
		return invalid("note", "Le motif du refus des heures est obligatoire.")
	}
	at := a.At.UTC()
	l.Status, l.CheckedBy, l.CheckedAt = atigip.LogRejected, a.Subject, &at
	if accept {
		l.Status = atigip.LogConfirmed
		m.HoursDone += l.Hours
	}
	if n := strings.TrimSpace(note); n != "" {
		l.Note = strings.TrimSpace(l.Note + "\n" + n)
	}
	return nil
}

// RecordIncident records an absence, a behaviour problem or an accident.
func RecordIncident(m *atigip.Measure, a Actor, day atigip.Date, kind atigip.IncidentKind, note string) (*atigip.MeasureLog, error) {
	if err := canReport(m, a, "un incident"); err != nil {
		return nil, err
	}
	switch m.State {
	case atigip.MeasureAssigned, atigip.MeasureInProgress, atigip.MeasureSuspended:
	default:
		return nil, atigip.Errorf(atigip.ECONFLICT, "Un incident ne peut être enregistré que pour une mesure affectée ou en cours (état actuel : « %s »).", stateLabel(m.State))
	}
	if _, ok := atigip.IncidentKinds[kind]; !ok {
		return nil, invalid("incident", "Type d'incident inconnu : %q (absence, behaviour ou accident).", kind)
	}
	if day.IsZero() {
		day = a.today()
	}
	if day.After(a.today().Time) {
		return nil, invalid("date", "La date de l'incident ne peut pas être dans le futur.")
	}
	if strings.TrimSpace(note) == "" {
		return nil, invalid("note", "Décrivez l'incident.")
	}
	l := &atigip.MeasureLog{MeasureID: m.ID, LogType: atigip.LogIncident, Date: day, Incident: kind, Note: strings.TrimSpace(note),
		Status: atigip.LogRecorded, ReportedBy: a.Subject, ReportedRole: a.Role, ReportedAt: a.At.UTC(), Departement: m.Departement}
	return l, l.Validate()
}

// NearDeadlineDays is how close to its deadline a measure is flagged when
// its schedule no longer allows the hours left.
const NearDeadlineDays = 60

// DeadlineInfo is where a measure stands against its 18-month deadline.
type DeadlineInfo struct {
	Deadline  atigip.Date `json:"deadline"`
	DaysLeft  int         `json:"days_left"`
	HoursLeft float64     `json:"hours_left"`
	// HoursPossible is what the post's weekly schedule allows until the
	// deadline (0 without a post or while suspended).
	HoursPossible float64 `json:"hours_possible"`
	// Near flags a measure with less than NearDeadlineDays left and more
	// hours left than its schedule allows: the CPIP must act (more hours,
	// another post, or ask the JAP).
	Near bool `json:"near_deadline"`
}

// Deadline computes m's deadline (18 months after the sentence, pushed back
// by suspensions) and flag at today, for a post offering hoursPerWeek.
func Deadline(m *atigip.Measure, hoursPerWeek float64, today atigip.Date) DeadlineInfo {
	d := DeadlineInfo{Deadline: m.Deadline(today), HoursLeft: m.HoursLeft()}
	if d.Deadline.IsZero() {
		return d
	}
	d.DaysLeft = today.DaysUntil(d.Deadline)
	open := m.State != atigip.MeasureCompleted && m.State != atigip.MeasureClosedFailed
	if open && m.State != atigip.MeasureSuspended && d.DaysLeft > 0 {
		d.HoursPossible = math.Round(hoursPerWeek*float64(d.DaysLeft)/7*100) / 100
	}
	d.Near = open && d.DaysLeft < NearDeadlineDays && d.HoursLeft > d.HoursPossible
	return d
}
