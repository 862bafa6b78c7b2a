package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
)

// ProposalQueue queues the FFS12 proposal of m (on post, starting
// m.StartDate) inside tx, the transaction of the transition; internal/flows
// provides it (flows.QueueProposal).
type ProposalQueue func(ctx context.Context, tx atigip.Tx, m *atigip.Measure, post *atigip.Post, at time.Time) error

// Service runs the rules in store transactions.
type Service struct {
	Store atigip.Store
	// Rules is the configuration of the rulebook (matching.Check): nil means
	// matching.DefaultConfig, as the matching engine of the server.
	Rules *matching.Config
	// Propose queues FFS12 proposals; required for to_place → proposed.
	Propose ProposalQueue
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) actor(p atigip.Principal) Actor { return Actor{Principal: p, At: s.now()} }

func stale(version int64) error {
	return atigip.Errorf(atigip.ECONFLICT, "La fiche a été modifiée entre-temps (version %d) : rechargez-la avant de recommencer.", version)
}

func audit(ctx context.Context, tx atigip.Tx, a Actor, action string, k atigip.Kind, id int64) error {
	return tx.Audit(ctx, atigip.AuditEntry{At: a.At.UTC(), Subject: a.Subject, Role: a.Role, Action: action, Kind: k, EntityID: id})
}

// Transition applies t to measure id, read at version (0: the current
// one, for machine clients that do not know versions), in one transaction
// with its effects and an audit entry.
func (s *Service) Transition(ctx context.Context, p atigip.Principal, id, version int64, t Transition) (*atigip.Measure, error) {
	var out *atigip.Measure
	err := s.Store.InTx(ctx, func(tx atigip.Tx) error {
		m, err := s.TransitionTx(ctx, tx, p, id, version, t)
		out = m
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: transition: %w", err)
	}
	return out, nil
}

// TransitionTx is Transition inside the caller's transaction (flows apply
// the judge's answers this way, with the message record).
func (s *Service) TransitionTx(ctx context.Context, tx atigip.Tx, p atigip.Principal, id, version int64, t Transition) (*atigip.Measure, error) {
	a := s.actor(p)
	m, err := atigip.Of[*atigip.Measure](tx).Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if version != 0 && version != m.Version {
		return nil, stale(m.Version)
	}
	posts := atigip.Of[*atigip.Post](tx)
	var post *atigip.Post
	postID := m.PostID
	if t.To == atigip.MeasureProposed {
		postID = t.PostID
	}
	if postID > 0 {
		if post, err = posts.Get(ctx, postID); err != nil {
			if atigip.ErrorCode(err) == atigip.ENOTFOUND {
				return nil, invalid("post_id", "Le poste n° %d n'existe pas.", postID)
			}
			return nil, err
		}
		a.PostOrganisationID = post.OrganisationID
	}
	// The doors that commit a person to a post: the proposal to the judge
	// and the judge's assignment (by the route or by FFE13). Both evaluate
	// the rulebook on the pair as it stands now, so a post closed or a
	// partner archived between the proposal and the decision is refused.
	if post != nil && ((t.To == atigip.MeasureProposed && m.State == atigip.MeasureToPlace) ||
		(t.To == atigip.MeasureAssigned && m.State == atigip.MeasureProposed)) {
		if err := s.lawfulPlacement(ctx, tx, a, m, post, t); err != nil {
			return nil, err
		}
	}
	eff, err := ApplyMeasure(m, a, t)
	if err != nil {
		return nil, err
	}
	if err := tx.Entities(atigip.KindMeasure).Update(ctx, m); err != nil {
		return nil, err
	}
	switch {
	case eff.TakePlace != 0 && post != nil:
		if post.PlacesLeft() == 0 {
			return nil, atigip.Errorf(atigip.ECONFLICT, "Le poste « %s » est complet : l'affectation est impossible.", post.Title)
		}
		post.PlacesTaken++
		if post.PlacesLeft() == 0 && post.Status == atigip.PostOpen {
			post.Status = atigip.PostFull
		}
		if err := posts.Update(ctx, post); err != nil {
			return nil, err
		}
	case eff.ReleasePlace != 0 && post != nil && post.PlacesTaken > 0:
		post.PlacesTaken--
		if post.Status == atigip.PostFull {
			post.Status = atigip.PostOpen
		}
		if err := posts.Update(ctx, post); err != nil {
			return nil, err
		}
	}
	if eff.Propose {
		if s.Propose == nil {
			return nil, &atigip.Error{Code: atigip.EUNAVAILABLE, Message: "L'envoi des propositions à APPI n'est pas configuré.",
				Err: errors.New("workflow: Service.Propose is nil")}
		}
		if err := s.Propose(ctx, tx, m, post, a.At); err != nil {
			return nil, err
		}
	}
	for _, r := range t.Override { // each knowing override, audited by name
		if err := audit(ctx, tx, a, "override:"+string(r), atigip.KindMeasure, m.ID); err != nil {
			return nil, err
		}
	}
	return m, audit(ctx, tx, a, "transition:"+string(t.To), atigip.KindMeasure, m.ID)
}

// measureWithPost loads a measure and sets the actor's post organisation.
func measureWithPost(ctx context.Context, tx atigip.Tx, a *Actor, id int64) (*atigip.Measure, *atigip.Post, error) {
	m, err := atigip.Of[*atigip.Measure](tx).Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	var post *atigip.Post
	if m.PostID > 0 {
		post, err = atigip.Of[*atigip.Post](tx).Get(ctx, m.PostID)
		if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
			return nil, nil, err
		}
		if post != nil {
			a.PostOrganisationID = post.OrganisationID
		}
	}
	return m, post, nil
}

// HoursReport is a tutor's report of one day.
type HoursReport struct {
	Date  atigip.Date `json:"date"`
	Hours float64     `json:"hours"`
	Note  string      `json:"note,omitempty"`
}

// ReportHours records a report of hours on measure id.
func (s *Service) ReportHours(ctx context.Context, p atigip.Principal, id int64, r HoursReport) (*atigip.MeasureLog, error) {
	l, err := s.addLogTx(ctx, p, id, "report_hours", func(tx atigip.Tx, m *atigip.Measure, a Actor) (*atigip.MeasureLog, error) {
		d, err := dayOf(ctx, tx, m, r.Date)
		if err != nil {
			return nil, err
		}
		return ReportHours(m, a, r.Date, r.Hours, r.Note, d)
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: report hours: %w", err)
	}
	return l, nil
}

// dayOf reads what the daily and weekly caps need for a report on day: the person's
// minority on that day and the hours already reported (not rejected) on
// every measure of the person.
func dayOf(ctx context.Context, tx atigip.Tx, m *atigip.Measure, day atigip.Date) (Day, error) {
	var d Day
	person, err := atigip.Of[*atigip.Person](tx).Get(ctx, m.PersonID)
	if err != nil {
		return d, fmt.Errorf("workflow: person of the measure: %w", err)
	}
	d.Minor, _ = matching.MinorAt(person, m.Minor, day)
	measures, err := atigip.Of[*atigip.Measure](tx).All(ctx, atigip.ListFilter{Parent: m.PersonID}) // indexed
	if err != nil {
		return d, err
	}
	monday := WeekOf(day)
	sunday := monday.AddDays(6)
	for _, x := range measures {
		err := atigip.Of[*atigip.MeasureLog](tx).Scan(ctx, atigip.ListFilter{Parent: x.ID}, func(l *atigip.MeasureLog) error {
			if l.LogType != atigip.LogHours || l.Status == atigip.LogRejected {
				return nil
			}
			if l.Date.Equal(day.Time) {
				d.Reported += l.Hours
			}
			if !l.Date.Before(monday.Time) && !l.Date.After(sunday.Time) {
				d.WeekReported += l.Hours
			}
			return nil
		})
		if err != nil {
			return d, err
		}
	}
	return d, nil
}

// addLog appends to measure id the log that build makes from it, with its
// audit entry, in one transaction.
func (s *Service) addLog(ctx context.Context, p atigip.Principal, id int64, action string,
	build func(m *atigip.Measure, a Actor) (*atigip.MeasureLog, error)) (*atigip.MeasureLog, error) {
	return s.addLogTx(ctx, p, id, action, func(_ atigip.Tx, m *atigip.Measure, a Actor) (*atigip.MeasureLog, error) { return build(m, a) })
}

// addLogTx is addLog with the transaction given to build.
func (s *Service) addLogTx(ctx context.Context, p atigip.Principal, id int64, action string,
	build func(tx atigip.Tx, m *atigip.Measure, a Actor) (*atigip.MeasureLog, error)) (*atigip.MeasureLog, error) {
	var out *atigip.MeasureLog
	err := s.Store.InTx(ctx, func(tx atigip.Tx) error {
		a := s.actor(p)
		m, _, err := measureWithPost(ctx, tx, &a, id)
		if err != nil {
			return err
		}
		l, err := build(tx, m, a)
		if err != nil {
			return err
		}
		if err := tx.Entities(atigip.KindMeasureLog).Create(ctx, l); err != nil {
			return err
		}
		out = l
		return audit(ctx, tx, a, action, atigip.KindMeasure, m.ID)
	})
	return out, err
}

// HoursCheck is the CPIP's answer to a report.
type HoursCheck struct {
	Accept bool   `json:"accept"`
	Note   string `json:"note,omitempty"`
}

// CheckHours confirms or rejects report logID of measure id, adding
// confirmed hours to the measure in the same transaction.
func (s *Service) CheckHours(ctx context.Context, p atigip.Principal, id, logID int64, r HoursCheck) (*atigip.MeasureLog, error) {
	var out *atigip.MeasureLog
	err := s.Store.InTx(ctx, func(tx atigip.Tx) error {
		a := s.actor(p)
		m, err := atigip.Of[*atigip.Measure](tx).Get(ctx, id)
		if err != nil {
			return err
		}
		l, err := atigip.Of[*atigip.MeasureLog](tx).Get(ctx, logID)
		if err != nil {
			return err
		}
		if err := CheckHours(m, l, a, r.Accept, r.Note); err != nil {
			return err
		}
		if err := tx.Entities(atigip.KindMeasureLog).Update(ctx, l); err != nil {
			return err
		}
		if r.Accept {
			if err := tx.Entities(atigip.KindMeasure).Update(ctx, m); err != nil {
				return err
			}
		}
		out = l
		return audit(ctx, tx, a, "check_hours", atigip.KindMeasure, m.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: check hours: %w", err)
	}
	return out, nil
}

// IncidentReport is an incident as reported.
type IncidentReport struct {
	Date     atigip.Date         `json:"date"`
	Incident atigip.IncidentKind `json:"incident"`
	Note     string              `json:"note"`
}

// RecordIncident records an incident on measure id.
func (s *Service) RecordIncident(ctx context.Context, p atigip.Principal, id int64, r IncidentReport) (*atigip.MeasureLog, error) {
	l, err := s.addLog(ctx, p, id, "record_incident", func(m *atigip.Measure, a Actor) (*atigip.MeasureLog, error) {
		return RecordIncident(m, a, r.Date, r.Incident, r.Note)
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: record incident: %w", err)
	}
	return l, nil
}

// MeasureHistory is a measure's transitions, hour reports, incidents and
// deadline.
type MeasureHistory struct {
	MeasureID int64                 `json:"measure_id"`
	Version   int64                 `json:"version"`
	State     atigip.MeasureState   `json:"state"`
	Events    []atigip.MeasureEvent `json:"events"`
	Logs      []*atigip.MeasureLog  `json:"logs"`
	Deadline  DeadlineInfo          `json:"deadline"`
	// Next lists the states the reader may move the measure to.
	Next []atigip.MeasureState `json:"next"`
}

// History returns the history of measure id, as seen by p.
func (s *Service) History(ctx context.Context, p atigip.Principal, id int64) (*MeasureHistory, error) {
	a := s.actor(p)
	m, post, err := measureWithPost(ctx, s.Store, &a, id)
	if err != nil {
		return nil, fmt.Errorf("workflow: history: %w", err)
	}
	logs, err := atigip.Of[*atigip.MeasureLog](s.Store).All(ctx, atigip.ListFilter{Parent: id})
	if err != nil {
		return nil, fmt.Errorf("workflow: history: %w", err)
	}
	if logs == nil {
		logs = []*atigip.MeasureLog{}
	}
	var perWeek float64
	if post != nil {
		perWeek = post.Schedule.HoursPerWeek()
	}
	h := &MeasureHistory{MeasureID: m.ID, Version: m.Version, State: m.State, Events: m.History, Logs: logs,
		Deadline: Deadline(m, perWeek, atigip.DateOf(a.At)), Next: Allowed(m, a)}
	if h.Events == nil {
		h.Events = []atigip.MeasureEvent{}
	}
	if h.Next == nil {
		h.Next = []atigip.MeasureState{}
	}
	return h, nil
}
