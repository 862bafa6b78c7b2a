package ipro

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// Experience is one line of work or training done in detention, derived
// from an application the governor accepted (the assignment).
type Experience struct {
	Title    string
	Kind     string // French label of the offer's kind
	Employer string
	Prison   string
	From     time.Time
	// To is when the assignment ended (closed, e.g. by a transfer), nil
	// while it runs.
	To      *time.Time
	ROME    []string
	Hours   float64
	OfferID int64
	Ongoing bool
	EndNote string
}

// DetentionExperience derives the experience in detention from a
// person's applications: each one accepted by the governor is a job or a
// training held from the assignment to the next event (its end), newest
// first. offers and prisons name them; a missing one is left out.
func DetentionExperience(apps []*atigip.Application, offers map[int64]*atigip.Offer, prisons map[int64]string) []Experience {
	var out []Experience
	for _, a := range apps {
		o := offers[a.OfferID]
		if o == nil {
			continue
		}
		for i, ev := range a.History {
			if ev.To != atigip.AppAccepted {
				continue
			}
			e := Experience{Title: o.Title, Kind: atigip.OfferKinds[o.OfferKind], Employer: employer(o), Prison: prisons[o.PrisonID],
				From: ev.At, ROME: o.ROMECodes, Hours: o.HoursPerWeek, OfferID: o.ID, Ongoing: true}
			if i+1 < len(a.History) {
				end := a.History[i+1]
				at := end.At
				e.To, e.Ongoing, e.EndNote = &at, false, end.Note
			}
			out = append(out, e)
			break
		}
	}
	slices.SortStableFunc(out, func(x, y Experience) int { return y.From.Compare(x.From) })
	return out
}

func employer(o *atigip.Offer) string {
	if o.EmployerName != "" {
		return o.EmployerName
	}
	return atigip.EmployerKinds[o.EmployerKind]
}

// matchingNum writes a number the French way, one decimal at most.
func matchingNum(x float64) string {
	s := strconv.FormatFloat(float64(int64(x*10+0.5))/10, 'f', -1, 64)
	return strings.Replace(s, ".", ",", 1)
}
