package httpapi

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
)

// matchingWorld is a small matching world around Lyon: two TIG posts (one
// out of reach), an adult and a minor living in the Rhône (69), an adult
// living in the Ain (01) near Lyon, all three with a measure to place, and
// a detainee cleared for work with an offer of their establishment.
type matchingWorld struct {
	post, far, offer             int64
	person, minor, ain, detainee int64
	prison                       int64
}

func matchingEnv(t *testing.T) (*testEnv, matchingWorld) {
	t.Helper()
	store := newMemStore()
	w := seedMatchingWorld(t, store)
	env := newEnv(t, store, func(o *Options) { o.Modules = append(o.Modules, &MatchingModule{MaxAge: -1}) })
	return env, w
}

func seedMatchingWorld(t *testing.T, store atigip.Store) matchingWorld {
	t.Helper()
	addr := atigip.Address{City: "Lyon", Postcode: "69001", Commune: "69381", Departement: "69"}
	ain := atigip.Address{City: "Miribel", Postcode: "01700", Commune: "01249", Departement: "01"}
	org := seed(t, store, &atigip.Organisation{Name: "Mairie de Lyon", OrgKind: atigip.OrgCommune, Address: addr, Active: true,
		Habilitation: atigip.Habilitation{Status: atigip.HabHabilitated}})
	week := atigip.Schedule{Slots: []atigip.Slot{{Day: 2, Start: "09:00", End: "12:00"}, {Day: 4, Start: "09:00", End: "12:00"}}}
	post := seed(t, store, &atigip.Post{OrganisationID: org.ID, Title: "Entretien des espaces verts", ROMECodes: []string{"A1203"},
		Places: 3, Schedule: week, Address: addr, Location: atigip.Point{Lon: 4.87, Lat: 45.76}, MinorsAccepted: true,
		Status: atigip.PostOpen, Visibility: atigip.VisibilityPublic})
	far := seed(t, store, &atigip.Post{OrganisationID: org.ID, Title: "Peinture", ROMECodes: []string{"F1606"},
		Places: 1, Schedule: week, Address: addr, Location: atigip.Point{Lon: 5.03, Lat: 45.72},
		Status: atigip.PostOpen, Visibility: atigip.VisibilityPublic})
	person := func(ref string, home atigip.Address, minor bool) *atigip.Person {
		p := &atigip.Person{Pseudonym: "TIG-" + ref, CaseSystem: "APPI", CaseRef: "APPI-" + ref,
			Home: atigip.Point{Lon: 4.8357, Lat: 45.764}, HomeAddress: home, ROMECodes: []string{"A1203"},
			Mobility: atigip.Mobility{RadiusKm: 10, Transport: atigip.TransportCar}, Experience: "tonte et taille de haies",
			BirthDate: atigip.DateOf(time.Now().AddDate(-30, 0, 0))}
		if minor {
			p.Minor, p.BirthDate, p.Medical.CheckDone = true, atigip.DateOf(time.Now().AddDate(-17, 0, 0)), true
		}
		seed(t, store, p)
		seed(t, store, &atigip.Measure{PersonID: p.ID, HoursOrdered: 70, State: atigip.MeasureToPlace, Minor: minor,
			Departement: home.Departement, SentenceDate: atigip.DateOf(time.Now().AddDate(0, -1, 0))})
		return p
	}
	w := matchingWorld{post: post.ID, far: far.ID}
	w.person = person("LYON-1", addr, false).ID
	w.minor = person("LYON-2", addr, true).ID
	w.ain = person("AIN-1", ain, false).ID
	prison := seed(t, store, sample[*atigip.Prison](atigip.KindPrison, 0))
	w.prison = prison.ID
	offer := sample[*atigip.Offer](atigip.KindOffer, 0) // open work offer
	offer.PrisonID = prison.ID
	// A 20-hour week agreeing with the declared hours (rule offer_schedule).
	offer.HoursPerWeek = 20
	offer.Schedule = atigip.Schedule{}
	for d := 1; d <= 5; d++ {
		offer.Schedule.Slots = append(offer.Schedule.Slots, atigip.Slot{Day: d, Start: "09:00", End: "13:00"})
	}
	w.offer = seed(t, store, offer).ID
	det := sample[*atigip.Person](atigip.KindPerson, 1)
	det.CaseRef, det.Detained, det.PrisonID, det.WorkCleared = "G-1", true, prison.ID, true
	det.Availability = atigip.Schedule{}
	w.detainee = seed(t, store, det).ID
	return w
}

func TestMatchingRoutes(t *testing.T) {
	env, w := matchingEnv(t)
	cpip := env.token(atigip.Principal{Role: atigip.RoleCPIP, Subject: "cpip:1"})
	offers := fmt.Sprintf("/api/matching/people/%d/offers?excluded=true", w.person)

	r := env.do("GET", offers, cpip, nil)
	if r.status != 200 {
		t.Fatalf("offers: %d %s", r.status, r.body)
	}
	var rk MatchingRanking
	r.json(t, &rk)
	if len(rk.Proposals) != 1 || rk.Proposals[0].Item.ID != w.post || len(rk.Proposals[0].Terms) == 0 || rk.Notice == "" {
		t.Fatalf("ranking %+v", rk)
	}
	if len(rk.Excluded) != 1 || rk.Excluded[0].Exclusions[0].Rule != matching.RuleMobility {
		t.Fatalf("excluded %+v", rk.Excluded)
	}
	audits, err := env.store.Audits(t.Context(), atigip.AuditFilter{Kind: atigip.KindPerson, EntityID: w.person})
	if err != nil || len(audits) != 1 || audits[0].Action != "match" || audits[0].Subject != "cpip:1" {
		t.Fatalf("audit %+v %v", audits, err)
	}

	tests := []struct {
		name   string
		target string
		p      *atigip.Principal
		status int
	}{
		{"anonymous", offers, nil, 401},
		{"host", offers, &atigip.Principal{Role: atigip.RoleHost}, 403},
		{"referent reads no people", offers, &atigip.Principal{Role: atigip.RoleReferent}, 403},
		{"prison staff, person not detained", offers, &atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.prison}, 404},
		{"cpip of another département", offers, &atigip.Principal{Role: atigip.RoleCPIP, Departement: "75"}, 404},
		{"cpip of the département", offers, &atigip.Principal{Role: atigip.RoleCPIP, Departement: "69"}, 200},
		{"pjj for an adult", offers, &atigip.Principal{Role: atigip.RolePJJ}, 404},
		{"pjj for a minor", fmt.Sprintf("/api/matching/people/%d/offers", w.minor), &atigip.Principal{Role: atigip.RolePJJ, Departement: "69"}, 200},
		{"cpip for a minor", fmt.Sprintf("/api/matching/people/%d/offers", w.minor), &atigip.Principal{Role: atigip.RoleCPIP}, 404},
		{"dspip for a minor", fmt.Sprintf("/api/matching/people/%d/offers", w.minor), &atigip.Principal{Role: atigip.RoleDSPIP, Departement: "69"}, 200},
		{"prison staff of the detainee", fmt.Sprintf("/api/matching/people/%d/offers", w.detainee), &atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.prison}, 200},
		{"prison staff of another establishment", fmt.Sprintf("/api/matching/people/%d/offers", w.detainee), &atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.prison + 1}, 404},
		{"unknown person", "/api/matching/people/999/offers", &atigip.Principal{Role: atigip.RoleCPIP}, 404},
		{"bad limit", offers + "&limit=0", &atigip.Principal{Role: atigip.RoleCPIP}, 400},
		{"bad kind", offers + "&kinds=boat", &atigip.Principal{Role: atigip.RoleCPIP}, 400},
		{"unknown offer", "/api/matching/offers/9999/candidates", &atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.prison}, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := ""
			if tt.p != nil {
				tok = env.token(*tt.p)
			}
			if r := env.do("GET", tt.target, tok, nil); r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
		})
	}
}

// TestMatchingCandidatesPerimeter checks that candidate lists hold only
// the people of the caller's perimeter, and that their counts tell
// nothing of the others.
func TestMatchingCandidatesPerimeter(t *testing.T) {
	env, w := matchingEnv(t)
	post := fmt.Sprintf("/api/matching/posts/%d/candidates?excluded=true", w.post)
	offer := fmt.Sprintf("/api/matching/offers/%d/candidates", w.offer)
	tests := []struct {
		name   string
		target string
		p      atigip.Principal
		want   []int64
	}{
		{"national DSPIP", post, atigip.Principal{Role: atigip.RoleDSPIP}, []int64{w.person, w.minor, w.ain}},
		{"DSPIP of the Rhône", post, atigip.Principal{Role: atigip.RoleDSPIP, Departement: "69"}, []int64{w.person, w.minor}},
		{"DSPIP of the Ain", post, atigip.Principal{Role: atigip.RoleDSPIP, Departement: "01"}, []int64{w.ain}},
		{"national CPIP: adults", post, atigip.Principal{Role: atigip.RoleCPIP}, []int64{w.person, w.ain}},
		{"CPIP of the Rhône", post, atigip.Principal{Role: atigip.RoleCPIP, Departement: "69"}, []int64{w.person}},
		{"PJJ of the Rhône: minors", post, atigip.Principal{Role: atigip.RolePJJ, Departement: "69"}, []int64{w.minor}},
		{"PJJ of the Ain", post, atigip.Principal{Role: atigip.RolePJJ, Departement: "01"}, []int64{}},
		{"prison staff of the establishment", offer, atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.prison}, []int64{w.detainee}},
		{"prison staff elsewhere", offer, atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: w.prison + 1}, []int64{}},
		{"CPIP elsewhere", offer, atigip.Principal{Role: atigip.RoleCPIP, Departement: "13"}, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do("GET", tt.target, env.token(tt.p), nil)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var rk MatchingRanking
			r.json(t, &rk)
			got := []int64{}
			for _, list := range [][]matching.Proposal{rk.Proposals, rk.Excluded} {
				for _, pr := range list {
					got = append(got, pr.PersonID)
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Fatalf("candidates %v, want %v", got, want)
			}
			if rk.Feasible != len(rk.Proposals) || rk.Examined != len(want) {
				t.Fatalf("counts feasible %d examined %d tell of people outside the perimeter (%d shown)", rk.Feasible, rk.Examined, len(want))
			}
		})
	}
}

// runJob starts an assignment job and waits for its end.
func runJob(t *testing.T, env *testEnv, tok string, body any) (MatchingJobStatus, response) {
	t.Helper()
	r := env.do("POST", "/api/matching/assignments", tok, body)
	var st MatchingJobStatus
	if r.status != 202 {
		return st, r
	}
	r.json(t, &st)
	loc := r.header.Get("Location")
	// The start's answer never holds the result, even when the job (a
	// small one, racing the answer) is done by then: read it at least once.
	deadline := time.Now().Add(10 * time.Second)
	for first := true; first || (st.State == "running" && time.Now().Before(deadline)); first = false {
		if !first {
			time.Sleep(10 * time.Millisecond)
		}
		env.do("GET", loc, tok, nil).json(t, &st)
	}
	return st, r
}

func TestMatchingAssignmentJob(t *testing.T) {
	env, w := matchingEnv(t)
	cpip := env.token(atigip.Principal{Role: atigip.RoleCPIP, Subject: "cpip:2", Departement: "69"})
	st, r := runJob(t, env, cpip, map[string]any{})
	if r.status != 202 {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	if st.State != "done" || st.Result == nil || len(st.Result.Proposals) != 1 || st.Progress != 1 || st.Baseline == nil {
		t.Fatalf("job %+v", st)
	}
	if p := st.Result.Proposals[0]; p.PersonID != w.person || p.Item.ID != w.post {
		t.Fatalf("proposal %+v", p)
	}
	other := env.token(atigip.Principal{Role: atigip.RoleCPIP, Subject: "cpip:3"})
	if r := env.do("GET", r.header.Get("Location"), other, nil); r.status != 404 {
		t.Fatalf("another CPIP reads the job: %d", r.status)
	}
	if r := env.do("POST", "/api/matching/assignments", cpip, map[string]any{"people": []int64{999}}); r.status != 404 {
		t.Fatalf("unknown person in batch: %d %s", r.status, r.body)
	}
	if r := env.do("POST", "/api/matching/assignments", cpip, `{"bogus":1}`); r.status != 400 {
		t.Fatalf("unknown field: %d %s", r.status, r.body)
	}
}

// TestMatchingAssignmentResultPages checks that a job's result is paged:
// the pages put together are the whole result, each answer discloses (and
// audits) only its page, and bad paging parameters are refused.
func TestMatchingAssignmentResultPages(t *testing.T) {
	env, _ := matchingEnv(t)
	p := atigip.Principal{Role: atigip.RoleDSPIP, Subject: "dspip:pages"}
	tok := env.token(p)
	st, r := runJob(t, env, tok, map[string]any{})
	if r.status != 202 || st.State != "done" {
		t.Fatalf("job: %d %+v", r.status, st)
	}
	loc := r.header.Get("Location")
	var whole MatchingJobStatus
	env.do("GET", loc+"?per_page=5000", tok, nil).json(t, &whole)
	if whole.Page == nil || whole.Page.ProposalsTotal != len(whole.Result.Proposals) || whole.Page.UnplacedTotal != len(whole.Result.Unplaced) {
		t.Fatalf("whole result: page %+v, %d proposals, %d unplaced", whole.Page, len(whole.Result.Proposals), len(whole.Result.Unplaced))
	}
	n := max(whole.Page.ProposalsTotal, whole.Page.UnplacedTotal)
	if whole.Page.ProposalsTotal+whole.Page.UnplacedTotal < 3 || n < 2 {
		t.Fatalf("the national batch should hold 3 people over at least 2 pages of 1: %+v", whole.Page)
	}
	audited := func() int {
		t.Helper()
		as, err := env.store.Audits(t.Context(), atigip.AuditFilter{Subject: p.Subject})
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, a := range as {
			if a.Action == "match_assignment" {
				k++
			}
		}
		return k
	}
	var proposals []matching.Proposal
	var unplaced []int64
	for page := 1; page <= n+1; page++ {
		before := audited()
		var st MatchingJobStatus
		r := env.do("GET", fmt.Sprintf("%s?page=%d&per_page=1", loc, page), tok, nil)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", page, r.status, r.body)
		}
		r.json(t, &st)
		got := len(st.Result.Proposals) + len(st.Result.Unplaced)
		if len(st.Result.Proposals) > 1 || len(st.Result.Unplaced) > 1 || len(st.Result.WhyUnplaced) != len(st.Result.Unplaced) {
			t.Fatalf("page %d holds %d proposals, %d unplaced, %d reasons", page, len(st.Result.Proposals), len(st.Result.Unplaced), len(st.Result.WhyUnplaced))
		}
		if *st.Page != (MatchingResultPage{Page: page, PerPage: 1, ProposalsTotal: whole.Page.ProposalsTotal, UnplacedTotal: whole.Page.UnplacedTotal}) {
			t.Fatalf("page %d: %+v", page, st.Page)
		}
		if page > n && got != 0 {
			t.Fatalf("page %d past the end holds %d people", page, got)
		}
		if d := audited() - before; d != got {
			t.Fatalf("page %d discloses %d people but audits %d", page, got, d)
		}
		proposals = append(proposals, st.Result.Proposals...)
		unplaced = append(unplaced, st.Result.Unplaced...)
	}
	if !reflect.DeepEqual(proposals, whole.Result.Proposals) || !slices.Equal(unplaced, whole.Result.Unplaced) {
		t.Fatalf("pages put together differ from the whole result:\n%+v %v\n%+v %v", proposals, unplaced, whole.Result.Proposals, whole.Result.Unplaced)
	}
	var def MatchingJobStatus
	env.do("GET", loc, tok, nil).json(t, &def)
	if def.Page.Page != 1 || def.Page.PerPage != defaultResultPerPage {
		t.Fatalf("default page %+v", def.Page)
	}
	for _, q := range []string{"per_page=0", "per_page=5001", "page=0", "page=abc", "limit=3"} {
		t.Run(q, func(t *testing.T) {
			r := env.do("GET", loc+"?"+q, tok, nil)
			if r.status != 400 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("%s: %d %s %s", q, r.status, r.header.Get("Content-Type"), r.body)
			}
		})
	}
}

// TestMatchingAssignmentPerimeter checks that a batch holds only the
// people of the caller's perimeter, implicit or named.
func TestMatchingAssignmentPerimeter(t *testing.T) {
	env, w := matchingEnv(t)
	tests := []struct {
		name   string
		p      atigip.Principal
		people []int64
		status int
		want   []int64 // placed and unplaced
	}{
		{"national DSPIP", atigip.Principal{Role: atigip.RoleDSPIP}, nil, 202, []int64{w.person, w.minor, w.ain}},
		{"DSPIP of the Rhône", atigip.Principal{Role: atigip.RoleDSPIP, Departement: "69"}, nil, 202, []int64{w.person, w.minor}},
		{"national CPIP: adults", atigip.Principal{Role: atigip.RoleCPIP}, nil, 202, []int64{w.person, w.ain}},
		{"CPIP of the Ain", atigip.Principal{Role: atigip.RoleCPIP, Departement: "01"}, nil, 202, []int64{w.ain}},
		{"national PJJ: minors", atigip.Principal{Role: atigip.RolePJJ}, nil, 202, []int64{w.minor}},
		{"PJJ of the Ain: nobody", atigip.Principal{Role: atigip.RolePJJ, Departement: "01"}, nil, 400, nil},
		{"CPIP names a minor", atigip.Principal{Role: atigip.RoleCPIP}, []int64{w.person, w.minor}, 404, nil},
		{"CPIP of the Rhône names someone of the Ain", atigip.Principal{Role: atigip.RoleCPIP, Departement: "69"}, []int64{w.ain}, 404, nil},
		{"PJJ names a minor", atigip.Principal{Role: atigip.RolePJJ, Departement: "69"}, []int64{w.minor}, 202, []int64{w.minor}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Subject = fmt.Sprintf("pro:%d", i)
			body := map[string]any{}
			if tt.people != nil {
				body["people"] = tt.people
			}
			st, r := runJob(t, env, env.token(tt.p), body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status != 202 {
				return
			}
			if st.State != "done" {
				t.Fatalf("job %+v", st)
			}
			got := slices.Clone(st.Result.Unplaced)
			for _, p := range st.Result.Proposals {
				got = append(got, p.PersonID)
			}
			slices.Sort(got)
			if want := slices.Sorted(slices.Values(tt.want)); !slices.Equal(got, want) {
				t.Fatalf("batch %v, want %v", got, want)
			}
		})
	}
}

// TestMatchingOpenAPIStatuses walks every matching route to a success and
// checks each status against the OpenAPI document (the workflow routes
// are checked by TestOpenAPISuccessStatuses, whose server has no matching
// module).
func TestMatchingOpenAPIStatuses(t *testing.T) {
	env, w := matchingEnv(t)
	dspip := env.token(atigip.Principal{Role: atigip.RoleDSPIP, Subject: "dspip"})
	staff := env.token(atigip.Principal{Role: atigip.RolePrisonStaff, Subject: "greffe", PrisonID: w.prison})
	ok := func(r response) {
		t.Helper()
		if r.status >= 300 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	ok(env.do("GET", fmt.Sprintf("/api/matching/people/%d/offers", w.person), dspip, nil))
	ok(env.do("GET", fmt.Sprintf("/api/matching/posts/%d/candidates", w.post), dspip, nil))
	ok(env.do("GET", fmt.Sprintf("/api/matching/offers/%d/candidates", w.offer), staff, nil))
	st, r := runJob(t, env, dspip, map[string]any{})
	ok(r)
	if st.State != "done" {
		t.Fatalf("job %+v", st)
	}
	// A job can be done before its 202 is written, and runJob then never
	// polls: read it once more so the status route answers here.
	ok(env.do("GET", r.header.Get("Location"), dspip, nil))
	seen := checkLoggedStatuses(t, env)
	for _, rt := range env.srv.Routes() {
		if rt.Tag == "matching" && !seen[rt.Method+" "+rt.Path] {
			t.Errorf("%s %s never answered a success here", rt.Method, rt.Path)
		}
	}
}

// gatedStore counts the loads of matching data (one scan of the
// organisations each) and holds them until the gate opens, or fails the
// first one when fail is closed first.
type gatedStore struct {
	*memStore
	gate  chan struct{}
	fail  chan struct{}
	loads atomic.Int32
}

type gatedEntities struct {
	atigip.Entities
	s *gatedStore
}

func (g *gatedStore) Entities(k atigip.Kind) atigip.Entities {
	if k != atigip.KindOrganisation {
		return g.memStore.Entities(k)
	}
	return gatedEntities{g.memStore.Entities(k), g}
}

func (g gatedEntities) Scan(ctx context.Context, f atigip.ListFilter, fn func(atigip.Entity) error) error {
	fail := g.s.fail
	if g.s.loads.Add(1) > 1 {
		fail = nil
	}
	select {
	case <-g.s.gate:
	case <-fail:
		return errors.New("connexion perdue")
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Entities.Scan(ctx, f, fn)
}

// TestMatchingWarm checks that Start builds the first snapshot in the
// background, that requests arriving before it is ready wait for that
// build instead of starting others, and that later requests find it.
func TestMatchingWarm(t *testing.T) {
	store := &gatedStore{memStore: newMemStore(), gate: make(chan struct{})}
	w := seedMatchingWorld(t, store.memStore)
	m := &MatchingModule{}
	env := newEnv(t, store, func(o *Options) { o.Modules = append(o.Modules, m) })
	returned := make(chan struct{})
	go func() { m.Start(t.Context(), env.srv); close(returned) }()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		close(store.gate)
		t.Fatal("Start waits for the build")
	}
	for store.loads.Load() == 0 {
		time.Sleep(time.Millisecond) // the warm build has started and is held
	}
	tok := env.token(atigip.Principal{Role: atigip.RoleDSPIP})
	target := fmt.Sprintf("/api/matching/people/%d/offers", w.person)
	statuses := make(chan int, 3)
	for range 3 {
		go func() { statuses <- env.do("GET", target, tok, nil).status }()
	}
	time.Sleep(50 * time.Millisecond) // let them queue behind the build
	close(store.gate)
	for range 3 {
		if st := <-statuses; st != 200 {
			t.Fatalf("status %d", st)
		}
	}
	m.Start(t.Context(), env.srv) // a snapshot exists: nothing to do
	if r := env.do("GET", target, tok, nil); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	if n := store.loads.Load(); n != 1 {
		t.Fatalf("%d builds, want the warm one only", n)
	}
}

// waitingForWarm starts m with ctx over a gated store, waits for its warm
// build to reach the store, and sends a request that waits for that
// build; it returns the request and where its answer comes.
func waitingForWarm(ctx context.Context, t *testing.T, store *gatedStore, m *MatchingModule) (again func() response, waited <-chan response) {
	w := seedMatchingWorld(t, store.memStore)
	env := newEnv(t, store, func(o *Options) { o.Modules = append(o.Modules, m) })
	m.Start(ctx, env.srv)
	for store.loads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	tok := env.token(atigip.Principal{Role: atigip.RoleDSPIP})
	target := fmt.Sprintf("/api/matching/people/%d/offers", w.person)
	again = func() response { return env.do("GET", target, tok, nil) }
	ch := make(chan response, 1)
	go func() { ch <- again() }()
	time.Sleep(50 * time.Millisecond) // let it wait for the warm build
	return again, ch
}

// TestMatchingWarmFailure checks that a failed warm build is reported to
// the requests that waited for it, and that the next request builds again.
func TestMatchingWarmFailure(t *testing.T) {
	store := &gatedStore{memStore: newMemStore(), gate: make(chan struct{}), fail: make(chan struct{})}
	m := &MatchingModule{}
	defer m.Close()
	again, waited := waitingForWarm(t.Context(), t, store, m)
	close(store.fail) // the database goes away during the build
	if r := <-waited; r.status != 503 {
		t.Fatalf("status %d after a failed build, want 503: %s", r.status, r.body)
	}
	close(store.gate) // the database is back
	if r := again(); r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if n := store.loads.Load(); n != 2 {
		t.Fatalf("%d builds, want 2", n)
	}
}

// TestMatchingStopCancelsBuild checks that the end of the server's
// lifetime cancels the build in flight: Close returns although the store
// would hold the load for ever, the request that waited for it answers
// 503, and no later request starts another build.
func TestMatchingStopCancelsBuild(t *testing.T) {
	store := &gatedStore{memStore: newMemStore(), gate: make(chan struct{})}
	m := &MatchingModule{}
	ctx, stop := context.WithCancel(t.Context())
	again, waited := waitingForWarm(ctx, t, store, m)
	stop() // serve's context ends
	closed := make(chan struct{})
	go func() { m.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for a build the store holds: it was not cancelled")
	}
	if r := <-waited; r.status != 503 {
		t.Fatalf("status %d after shutdown, want 503: %s", r.status, r.body)
	}
	if r := again(); r.status != 503 {
		t.Fatalf("status %d after Close, want 503: %s", r.status, r.body)
	}
	if n := store.loads.Load(); n != 1 {
		t.Fatalf("%d builds, want the cancelled one only", n)
	}
}

// TestMatchingSnapshotKeepsNoRecords checks that a snapshot holds no
// person record once the loaded data is dropped: the perimeter rules read
// a few facts kept apart, the engine its own profile.
func TestMatchingSnapshotKeepsNoRecords(t *testing.T) {
	store := newMemStore()
	seedMatchingWorld(t, store)
	d, err := matching.Load(t.Context(), store)
	if err != nil {
		t.Fatal(err)
	}
	held := make([]weak.Pointer[atigip.Person], len(d.People))
	for i, p := range d.People {
		held[i] = weak.Make(p)
	}
	snap, err := newSnapshotService().NewSnapshot(d, atigip.Date{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	d = matching.Data{}
	runtime.GC()
	for i, w := range held {
		if w.Value() != nil {
			t.Fatalf("person record %d is still held", i)
		}
	}
	if len(snap.Facts) != len(held) {
		t.Fatalf("%d people in the snapshot, want %d", len(snap.Facts), len(held))
	}
	runtime.KeepAlive(d)
}

// newSnapshotService is a matching service that only builds snapshots
// from data given, with the module's scope of each person.
func newSnapshotService() *matching.Service[personScope] {
	return matching.NewService[personScope](nil, matching.ServiceOptions[personScope]{Scope: scopeOf})
}
