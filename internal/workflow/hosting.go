package workflow

import (
	"context"
	"fmt"
	"slices"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
)

// hostedStates are the states in which a tigiste is at a host's post.
var hostedStates = []string{string(atigip.MeasureAssigned), string(atigip.MeasureInProgress), string(atigip.MeasureSuspended)}

// Hosted is one tigiste a host organisation hosts: the measure and its
// post. It carries no person record: a tutor needs the pseudonym, which
// the caller reads (and audits) only for the rows it shows.
type Hosted struct {
	Measure *atigip.Measure
	Post    *atigip.Post
}

// HostedOn lists the measures assigned, in progress or suspended on the
// posts given (an organisation's), in ascending measure id. A host acts
// on the measures of its posts wherever the probation service in charge
// is, so the scan is national, over the hosted states only.
func HostedOn(ctx context.Context, st atigip.Store, posts map[int64]*atigip.Post) ([]Hosted, error) {
	var out []Hosted
	if len(posts) == 0 {
		return out, nil
	}
	return scanHosted(ctx, st, atigip.ListFilter{Status: hostedStates}, posts)
}

// scanHosted lists the measures filter selects that are on one of posts.
func scanHosted(ctx context.Context, st atigip.Store, filter atigip.ListFilter, posts map[int64]*atigip.Post) ([]Hosted, error) {
	var out []Hosted
	err := atigip.Of[*atigip.Measure](st).Scan(ctx, filter, func(m *atigip.Measure) error {
		if p, ok := posts[m.PostID]; ok {
			out = append(out, Hosted{Measure: m, Post: p})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("workflow: hosted measures: %w", err)
	}
	return out, nil
}

// WeekCell is one day of one tigiste in the hours grid.
type WeekCell struct {
	Date atigip.Date
	// Reported sums the day's reports not rejected; Confirmed the part
	// the CPIP confirmed, Pending the part waiting for them.
	Reported, Confirmed, Pending float64
	// Open tells whether hours may be reported on that day now: the
	// measure is in progress, the day between its start and today.
	Open bool
}

// WeekRow is one tigiste's week.
type WeekRow struct {
	Hosted
	Cells [7]WeekCell
	// Total is the week's reported hours; Limit the legal weekly maximum
	// and DayLimit the daily one, for the person's age that week.
	Total, Limit, DayLimit float64
	Minor                  bool
}

// Week builds the hours grid of the week starting monday for the hosted
// measures, at today: what was reported day by day and where a report is
// still possible. person gives the person of a measure (nil: unknown),
// for the limits that depend on age.
func Week(ctx context.Context, st atigip.Store, hosted []Hosted, monday, today atigip.Date,
	person func(id int64) (*atigip.Person, error)) ([]WeekRow, error) {
	monday = WeekOf(monday)
	rows := make([]WeekRow, 0, len(hosted))
	for _, h := range hosted {
		r := WeekRow{Hosted: h, Minor: h.Measure.Minor}
		if pe, err := person(h.Measure.PersonID); err != nil {
			return nil, err
		} else if pe != nil {
			r.Minor, _ = matching.MinorAt(pe, h.Measure.Minor, monday)
		}
		r.Limit, r.DayLimit = matching.MaxHoursPerWeek(r.Minor), matching.MaxHoursPerDay(r.Minor)
		for i := range r.Cells {
			d := monday.AddDays(i)
			r.Cells[i] = WeekCell{Date: d, Open: h.Measure.State == atigip.MeasureInProgress &&
				!d.Before(h.Measure.StartDate.Time) && !d.After(today.Time)}
		}
		err := atigip.Of[*atigip.MeasureLog](st).Scan(ctx, atigip.ListFilter{Parent: h.Measure.ID}, func(l *atigip.MeasureLog) error {
			if l.LogType != atigip.LogHours || l.Status == atigip.LogRejected {
				return nil
			}
			i := monday.DaysUntil(l.Date)
			if i < 0 || i > 6 {
				return nil
			}
			c := &r.Cells[i]
			c.Reported += l.Hours
			if l.Status == atigip.LogConfirmed {
				c.Confirmed += l.Hours
			} else {
				c.Pending += l.Hours
			}
			r.Total += l.Hours
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("workflow: week of measure %d: %w", h.Measure.ID, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// PendingHours lists the reports of hours waiting for the CPIP's answer
// on measure id, oldest day first, and the others (confirmed, rejected,
// incidents) most recent first.
func PendingHours(ctx context.Context, st atigip.Store, id int64) (pending, done []*atigip.MeasureLog, err error) {
	err = atigip.Of[*atigip.MeasureLog](st).Scan(ctx, atigip.ListFilter{Parent: id}, func(l *atigip.MeasureLog) error {
		if l.LogType == atigip.LogHours && l.Status == atigip.LogReported {
			pending = append(pending, l)
		} else {
			done = append(done, l)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("workflow: logs of measure %d: %w", id, err)
	}
	slices.SortStableFunc(pending, func(a, b *atigip.MeasureLog) int { return a.Date.Compare(b.Date.Time) })
	slices.SortStableFunc(done, func(a, b *atigip.MeasureLog) int { return b.Date.Compare(a.Date.Time) })
	return pending, done, nil
}
