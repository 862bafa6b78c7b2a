package httpapi

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// perimeterWorld is a small world spread over two départements and two
// establishments.
type perimeterWorld struct {
	adult69, adult13, minor69, detA, detB *atigip.Person
	m69, m13, mMinor69                    *atigip.Measure
	offerA, offerB                        *atigip.Offer
	appA, appB                            *atigip.Application
	post13                                *atigip.Post
	prisonA, prisonB                      *atigip.Prison
}

func newPerimeterWorld(t *testing.T, s atigip.Store) *perimeterWorld {
	w := &perimeterWorld{}
	lyon := atigip.Address{City: "Lyon", Commune: "69123", Departement: "69"}
	marseille := atigip.Address{City: "Marseille", Commune: "13055", Departement: "13"}
	paris := atigip.Address{City: "Paris", Commune: "75056", Departement: "75"}
	w.prisonA = seed(t, s, sample[*atigip.Prison](atigip.KindPrison, 0))
	w.prisonB = seed(t, s, sample[*atigip.Prison](atigip.KindPrison, 1))
	person := func(ref string, home atigip.Address, minor bool, prison int64) *atigip.Person {
		p := sample[*atigip.Person](atigip.KindPerson, 1) // not detained
		p.CaseRef, p.HomeAddress, p.Minor, p.BirthDate = ref, home, minor, atigip.DateOf(time.Now().AddDate(-30, 0, 0))
		if minor {
			p.BirthDate = atigip.DateOf(time.Now().AddDate(-16, 0, 0))
		}
		if prison != 0 {
			p.Detained, p.PrisonID, p.WorkCleared = true, prison, true
		}
		return seed(t, s, p)
	}
	w.adult69 = person("P-A69", lyon, false, 0)
	w.adult13 = person("P-A13", marseille, false, 0)
	w.minor69 = person("P-M69", lyon, true, 0)
	w.detA = person("G-A", paris, false, w.prisonA.ID)
	w.detB = person("G-B", paris, false, w.prisonB.ID)
	measure := func(pe *atigip.Person, dep string) *atigip.Measure {
		m := sample[*atigip.Measure](atigip.KindMeasure, 0) // to place
		m.PersonID, m.Departement, m.Minor, m.CaseRef = pe.ID, dep, pe.Minor, ""
		return seed(t, s, m)
	}
	w.m69, w.m13, w.mMinor69 = measure(w.adult69, "69"), measure(w.adult13, "13"), measure(w.minor69, "69")
	offer := func(prison int64, at atigip.Address) *atigip.Offer {
		o := sample[*atigip.Offer](atigip.KindOffer, 0) // open work offer
		o.PrisonID, o.Address = prison, at
		return seed(t, s, o)
	}
	w.offerA, w.offerB = offer(w.prisonA.ID, marseille), offer(w.prisonB.ID, paris)
	app := func(pe *atigip.Person, o *atigip.Offer) *atigip.Application {
		return seed(t, s, &atigip.Application{PersonID: pe.ID, OfferID: o.ID, State: atigip.AppSubmitted, Rank: 1})
	}
	w.appA, w.appB = app(w.detA, w.offerA), app(w.detB, w.offerB)
	org := seed(t, s, sample[*atigip.Organisation](atigip.KindOrganisation, 0))
	p := sample[*atigip.Post](atigip.KindPost, 2) // Marseille, justice only
	p.OrganisationID, p.Status = org.ID, atigip.PostOpen
	w.post13 = seed(t, s, p)
	return w
}

// TestPerimeter is the row-rules table of perimeters: which records each
// bound principal reads, alone and in lists, and where it may write.
// It holds for development tokens and OpenID Connect tokens alike.
func TestPerimeter(t *testing.T) {
	for _, signIn := range signIns {
		t.Run(signIn, func(t *testing.T) { testPerimeter(t, signIn) })
	}
}

func testPerimeter(t *testing.T, signIn string) {
	store := newMemStore()
	env := newEnvSignIn(t, signIn, store, func(o *Options) { o.Modules = []Module{WorkflowModule(nil)} })
	w := newPerimeterWorld(t, store)
	id := func(e atigip.Entity) int64 { return e.GetMeta().ID }
	ids := func(es ...atigip.Entity) []int64 {
		out := []int64{}
		for _, e := range es {
			out = append(out, id(e))
		}
		slices.Sort(out)
		return out
	}
	type principal struct {
		name string
		p    atigip.Principal
	}
	cpip69 := principal{"CPIP du 69", atigip.Principal{Role: atigip.RoleCPIP, Departement: "69"}}
	pjj69 := principal{"PJJ du 69", atigip.Principal{Role: atigip.RolePJJ, Departement: "69"}}
	dspip13 := principal{"DSPIP du 13", atigip.Principal{Role: atigip.RoleDSPIP, Departement: "13"}}
	mag69 := principal{"magistrat du 69", atigip.Principal{Role: atigip.RoleMagistrate, Departement: "69"}}
	national := principal{"DSPIP national", atigip.Principal{Role: atigip.RoleDSPIP}}
	staffA := principal{"greffe de A", atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.prisonA.ID, Departement: "69"}}
	lists := []struct {
		who  principal
		path string
		want []int64
	}{
		{cpip69, "/api/people", ids(w.adult69)},
		{cpip69, "/api/people?departement=13", ids()},
		{cpip69, "/api/measures", ids(w.m69)},
		{cpip69, "/api/applications", ids()},
		{cpip69, "/api/applications?person_id=" + strconv.FormatInt(id(w.detA), 10), ids()},
		{pjj69, "/api/people", ids(w.minor69)},
		{pjj69, "/api/measures", ids(w.mMinor69)},
		{dspip13, "/api/people", ids(w.adult13)},
		{dspip13, "/api/measures", ids(w.m13)},
		{dspip13, "/api/applications", ids(w.appA)}, // the offer is in the 13
		{dspip13, "/api/applications?offer_id=" + strconv.FormatInt(id(w.offerB), 10), ids()},
		{dspip13, "/api/applications?person_id=" + strconv.FormatInt(id(w.detA), 10), ids(w.appA)},
		{mag69, "/api/people", ids(w.adult69, w.minor69)},
		{mag69, "/api/measures", ids(w.m69, w.mMinor69)},
		{mag69, "/api/posts?departement=13", ids(w.post13)}, // posts are not personal
		{national, "/api/people", ids(w.adult69, w.adult13, w.minor69, w.detA, w.detB)},
		{national, "/api/measures", ids(w.m69, w.m13, w.mMinor69)},
		{national, "/api/applications", ids(w.appA, w.appB)},
		{staffA, "/api/people", ids(w.detA)},
		{staffA, "/api/applications", ids(w.appA)},
		{staffA, "/api/applications?offer_id=" + strconv.FormatInt(id(w.offerB), 10), ids()},
		{staffA, "/api/applications?person_id=" + strconv.FormatInt(id(w.detB), 10), ids()},
	}
	for _, tc := range lists {
		t.Run(tc.who.name+" lists "+tc.path, func(t *testing.T) {
			res := env.do("GET", tc.path, env.token(tc.who.p), nil)
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			var lp ListPage[struct {
				ID int64 `json:"id"`
			}]
			res.json(t, &lp)
			got := []int64{}
			for _, it := range lp.Items {
				got = append(got, it.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) || lp.Total != len(tc.want) {
				t.Fatalf("got %v (total %d), want %v", got, lp.Total, tc.want)
			}
		})
	}

	reads := []struct {
		who  principal
		path string
		want int
	}{
		{cpip69, fmt.Sprintf("/api/people/%d", id(w.adult69)), 200},
		{cpip69, fmt.Sprintf("/api/people/%d", id(w.adult13)), 404},
		{cpip69, fmt.Sprintf("/api/people/%d", id(w.minor69)), 404},
		{cpip69, fmt.Sprintf("/api/measures/%d", id(w.mMinor69)), 404},
		{cpip69, fmt.Sprintf("/api/measures/%d/history", id(w.m13)), 404},
		{cpip69, fmt.Sprintf("/api/measures/%d/history", id(w.m69)), 200},
		{pjj69, fmt.Sprintf("/api/measures/%d", id(w.mMinor69)), 200},
		{pjj69, fmt.Sprintf("/api/measures/%d", id(w.m69)), 404},
		{dspip13, fmt.Sprintf("/api/applications/%d", id(w.appA)), 200},
		{dspip13, fmt.Sprintf("/api/applications/%d", id(w.appB)), 404},
		{mag69, fmt.Sprintf("/api/measures/%d", id(w.m13)), 404},
		{mag69, fmt.Sprintf("/api/posts/%d", id(w.post13)), 200},
		{staffA, fmt.Sprintf("/api/applications/%d", id(w.appB)), 404},
		{staffA, fmt.Sprintf("/api/people/%d", id(w.detB)), 404},
		{staffA, fmt.Sprintf("/api/offers/%d/waiting-list", id(w.offerA)), 200},
		{national, fmt.Sprintf("/api/measures/%d", id(w.m13)), 200},
	}
	for _, tc := range reads {
		t.Run(tc.who.name+" reads "+tc.path, func(t *testing.T) {
			if res := env.do("GET", tc.path, env.token(tc.who.p), nil); res.status != tc.want {
				t.Fatalf("status %d, want %d: %s", res.status, tc.want, res.body)
			}
		})
	}

	t.Run("writes and transitions stay in the perimeter", func(t *testing.T) {
		tok := env.token(cpip69.p)
		m13, _ := store.Entities(atigip.KindMeasure).Get(t.Context(), id(w.m13))
		m13.(*atigip.Measure).Court = "Tribunal judiciaire de Marseille"
		if res := env.do("PUT", fmt.Sprintf("/api/measures/%d", id(w.m13)), tok, m13); res.status != 404 {
			t.Errorf("update outside: %d %s", res.status, res.body)
		}
		created := sample[*atigip.Measure](atigip.KindMeasure, 0)
		created.PersonID, created.Departement, created.CaseRef = id(w.adult13), "13", ""
		if res := env.do("POST", "/api/measures", tok, created); res.status != 403 {
			t.Errorf("create outside: %d %s", res.status, res.body)
		}
		m69, _ := store.Entities(atigip.KindMeasure).Get(t.Context(), id(w.m69))
		m69.(*atigip.Measure).Departement = "13"
		if res := env.do("PUT", fmt.Sprintf("/api/measures/%d", id(w.m69)), tok, m69); res.status != 403 {
			t.Errorf("move out of the perimeter: %d %s", res.status, res.body)
		}
		body := map[string]any{"to": "closed_failed", "reason": "Nouvelle condamnation", "version": 1}
		if res := env.do("POST", fmt.Sprintf("/api/measures/%d/transitions", id(w.m13)), env.token(mag69.p), body); res.status != 404 {
			t.Errorf("transition outside: %d %s", res.status, res.body)
		}
		if res := env.do("POST", fmt.Sprintf("/api/measures/%d/transitions", id(w.m69)), env.token(mag69.p), body); res.status != 200 {
			t.Errorf("transition inside: %d %s", res.status, res.body)
		}
		staff := env.token(staffA.p)
		if res := env.do("POST", fmt.Sprintf("/api/applications/%d/rank", id(w.appB)), staff, map[string]any{"rank": 1}); res.status != 404 {
			t.Errorf("rank in another establishment: %d %s", res.status, res.body)
		}
		if res := env.do("POST", fmt.Sprintf("/api/offers/%d/applications", id(w.offerB)), env.token(dspip13.p),
			map[string]any{"person_id": id(w.detB)}); res.status != 403 {
			t.Errorf("apply outside: %d %s", res.status, res.body)
		}
	})
}
