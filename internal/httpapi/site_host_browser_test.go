package httpapi

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/store/sqlite"
	"github.com/atigip/atigip360/matching"
)

// hostJourneyMeasures picks, in the shared seeded site, n measures in
// progress since before last week, of adults with this one measure and
// hours enough left for a week: one per journey, so that the journeys
// run in parallel without meeting. The highest ids go first, away from
// the other lanes' picks.
func hostJourneyMeasures(t *testing.T, db *sqlite.DB, n int) []*atigip.Measure {
	t.Helper()
	ctx := t.Context()
	mon := lastMonday()
	ms, err := atigip.Of[*atigip.Measure](db).All(ctx, atigip.ListFilter{Status: []string{string(atigip.MeasureInProgress)}})
	if err != nil {
		t.Fatal(err)
	}
	var out []*atigip.Measure
	for i := len(ms) - 1; i >= 0 && len(out) < n; i-- {
		m := ms[i]
		if m.Minor || m.HoursLeft() < 40 || m.PostID == 0 || m.StartDate.After(mon.Time) {
			continue
		}
		pe, err := atigip.Of[*atigip.Person](db).Get(ctx, m.PersonID)
		if err != nil {
			continue
		}
		if minor, _ := matching.MinorAt(pe, false, mon); minor {
			continue
		}
		theirs, err := atigip.Of[*atigip.Measure](db).All(ctx, atigip.ListFilter{Owner: m.PersonID})
		if err != nil || len(theirs) != 1 {
			continue
		}
		out = append(out, m)
	}
	if len(out) < n {
		t.Fatalf("only %d measures fit the host journeys", len(out))
	}
	return out
}

// TestTighostInChromium walks the host's, the CPIP's and the person's
// journeys in headless Chromium at desktop size, on a 375×667 phone and
// at tablet width, in parallel over the shared server: the tutor creates
// and edits a post, reports a week of hours and is refused beyond the
// daily limit with the rule next to the cell; the CPIP confirms the hours
// (and is refused a contest without reason); the person sees them on
// « Ma mesure » and reports an absence by keyboard. axe-core must report
// no violation on any page state; screenshots host-*.png are artefacts.
func TestTighostInChromium(t *testing.T) {
	t.Parallel()
	node, chromium := browserEnv(t)
	site := sharedBrowserSite(t)
	journeys := []string{"desktop", "mobile", "tablet"}
	ms := hostJourneyMeasures(t, site.store, len(journeys))
	for i, journey := range journeys {
		m := ms[i]
		post, err := atigip.Of[*atigip.Post](site.store).Get(t.Context(), m.PostID)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(journey, func(t *testing.T) {
			t.Parallel()
			cfg := map[string]any{
				"base": site.url,
				"out":  artefacts(t),
				"tokens": map[string]string{
					"host": site.token(t, atigip.Principal{Subject: fmt.Sprintf("tuteur-%d", post.OrganisationID), Role: atigip.RoleHost,
						OrganisationID: post.OrganisationID, Name: "Tuteur de démonstration"}),
					"cpip":   site.token(t, atigip.Principal{Subject: "cpip-" + m.Departement, Role: atigip.RoleCPIP, Departement: m.Departement}),
					"person": site.token(t, atigip.Principal{Subject: fmt.Sprintf("fc:%d", m.PersonID), Role: atigip.RolePerson, PersonID: m.PersonID}),
				},
				"ids": map[string]any{"measure": m.ID, "monday": lastMonday().String(),
					"today": atigip.DateOf(time.Now()).String(), "postTitle": "Atelier jardin partagé (" + journey + ")"},
			}
			b, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rep := runJourney(t, node, chromium, "host.mjs", string(b), journey)
			t.Logf("%d checks, axe on %d page states, screenshots: %v", len(rep.Checks), len(rep.Axe), rep.Shots)
		})
	}
}
