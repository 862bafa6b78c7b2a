package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
)

// Absence notice window: a person tells in advance (illness announced,
// a summons) or just after the fact; beyond, the CPIP records it.
const (
	AbsenceDaysAhead = 30
	AbsenceDaysBack  = 7
)

// AbsenceReport is a person's notice that they cannot come on a day.
type AbsenceReport struct {
	Date   atigip.Date `json:"date"`
	Reason string      `json:"reason"`
}

// ReportAbsence records, as an incident of kind absence, that the person
// under measure m will not (or could not) come on day, with their reason.
// Only the person themself reports this way; the tutor and the CPIP use
// RecordIncident. The CPIP sees it in the measure's history.
func ReportAbsence(m *atigip.Measure, a Actor, day atigip.Date, reason string) (*atigip.MeasureLog, error) {
	if a.Role != atigip.RolePerson {
		return nil, atigip.Errorf(atigip.EFORBIDDEN, "Seule la personne qui effectue le TIG signale ainsi son absence ; le tuteur et le CPIP enregistrent un incident.")
	}
	if a.PersonID == 0 || a.PersonID != m.PersonID {
		return nil, atigip.Errorf(atigip.EFORBIDDEN, "Vous ne pouvez signaler une absence que pour votre propre mesure.")
	}
	switch m.State {
	case atigip.MeasureAssigned, atigip.MeasureInProgress, atigip.MeasureSuspended:
	default:
		return nil, atigip.Errorf(atigip.ECONFLICT, "Une absence ne se signale que pour une mesure affectée ou en cours (état actuel : « %s »).", stateLabel(m.State))
	}
	today := a.today()
	if day.IsZero() {
		day = today
	}
	if day.Before(today.AddDays(-AbsenceDaysBack).Time) || day.After(today.AddDays(AbsenceDaysAhead).Time) {
		return nil, invalid("date", "Le jour d'absence doit être compris entre le %s et le %s.",
			today.AddDays(-AbsenceDaysBack).Format("02/01/2006"), today.AddDays(AbsenceDaysAhead).Format("02/01/2006"))
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, invalid("reason", "Indiquez la raison de votre absence (par exemple : malade, convocation, transport).")
	}
	if len(reason) > 1000 {
		return nil, invalid("reason", "La raison dépasse 1 000 caractères.")
	}
	l := &atigip.MeasureLog{MeasureID: m.ID, LogType: atigip.LogIncident, Date: day, Incident: atigip.IncidentAbsence,
		Note: "Absence signalée par la personne : " + reason, Status: atigip.LogRecorded,
		ReportedBy: a.Subject, ReportedRole: a.Role, ReportedAt: a.At.UTC(), Departement: m.Departement}
	return l, l.Validate()
}

// ReportAbsence records a person's absence notice on measure id, with its
// audit entry, in one transaction.
func (s *Service) ReportAbsence(ctx context.Context, p atigip.Principal, id int64, r AbsenceReport) (*atigip.MeasureLog, error) {
	l, err := s.addLog(ctx, p, id, "report_absence", func(m *atigip.Measure, a Actor) (*atigip.MeasureLog, error) {
		return ReportAbsence(m, a, r.Date, r.Reason)
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: report absence: %w", err)
	}
	return l, nil
}
