package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/flows"
	"github.com/atigip/atigip360/internal/store/sqlite"
	"github.com/atigip/atigip360/internal/workflow"
	"github.com/atigip/atigip360/matching"
)

// caseDep is a département of the shared browser site with TIG measures
// to place for adults, a host organisation to habilitate, and the
// measures and organisation the journeys there act on.
type caseDep struct {
	Dep     string
	ToPlace []*atigip.Measure
	Org     *atigip.Organisation
}

// caseDeps lists, most measures to place first, the départements where the
// workspaces' journeys can run: measures to place for adults whose person
// has a lawful post and a near miss (ToPlace holds only those, at least
// two), and a host organisation to habilitate. Each test and journey
// takes its own département so that they run in parallel without
// meeting; the list is computed once, before any of them changes the
// store.
func caseDeps(t testing.TB, db *sqlite.DB) []caseDep {
	t.Helper()
	caseDepsOnce.Do(func() { caseDepsList, caseDepsErr = findCaseDeps(t.Context(), db) })
	if caseDepsErr != nil {
		t.Fatal(caseDepsErr)
	}
	return caseDepsList
}

var (
	caseDepsOnce sync.Once
	caseDepsList []caseDep
	caseDepsErr  error
)

func findCaseDeps(ctx context.Context, db *sqlite.DB) ([]caseDep, error) {
	data, err := matching.Load(ctx, db)
	if err != nil {
		return nil, err
	}
	eng, err := matching.New(data, matching.Options{})
	if err != nil {
		return nil, err
	}
	by := map[string]*caseDep{}
	err = atigip.Of[*atigip.Measure](db).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.MeasureToPlace)}}, func(m *atigip.Measure) error {
		if m.Minor || m.Departement == "" {
			return nil
		}
		rk, err := eng.OffersForPerson(m.PersonID, matching.Query{Kinds: []matching.ItemKind{matching.KindTIG}, Excluded: true})
		if err != nil || len(rk.Proposals) == 0 || len(rk.Excluded) == 0 {
			return nil
		}
		if by[m.Departement] == nil {
			by[m.Departement] = &caseDep{Dep: m.Departement}
		}
		by[m.Departement].ToPlace = append(by[m.Departement].ToPlace, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = atigip.Of[*atigip.Organisation](db).Scan(ctx, atigip.ListFilter{}, func(o *atigip.Organisation) error {
		d := by[o.Address.Departement]
		if d != nil && d.Org == nil && o.Active && (o.Habilitation.Status == atigip.HabNone || o.Habilitation.Status == atigip.HabExpired ||
			o.Habilitation.Status == atigip.HabRefused) {
			d.Org = o
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []caseDep
	for _, d := range by {
		if d.Org != nil && len(d.ToPlace) >= 2 {
			out = append(out, *d)
		}
	}
	slices.SortFunc(out, func(a, b caseDep) int {
		return cmp.Or(cmp.Compare(len(b.ToPlace), len(a.ToPlace)), strings.Compare(a.Dep, b.Dep))
	})
	if len(out) < 5 {
		return nil, fmt.Errorf("the shared site has %d départements fit for the workspaces' journeys, want 5", len(out))
	}
	return out, nil
}

// requestHabilitation opens a habilitation procedure for o, as its DSPIP
// would through the API.
func requestHabilitation(t testing.TB, db *sqlite.DB, o *atigip.Organisation) *atigip.Procedure {
	t.Helper()
	svc := &workflow.Service{Store: db, Propose: flows.QueueProposal}
	pr, err := svc.RequestProcedure(t.Context(), atigip.Principal{Subject: "test:dspip", Role: atigip.RoleDSPIP, Departement: o.Address.Departement},
		workflow.ProcedureRequest{Kind: atigip.ProcHabilitation, OrganisationID: o.ID})
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// caseClient is a signed-in browser without JavaScript: session and CSRF
// cookies, forms posted, redirects not followed.
type caseClient struct {
	t    *testing.T
	base string
	tok  string
	csrf string
}

func newCaseClient(t *testing.T, site *browserSite, p atigip.Principal) *caseClient {
	return &caseClient{t: t, base: site.url, tok: site.token(t, p), csrf: strings.Repeat("c", 43)}
}

func (c *caseClient) do(method, path string, form url.Values) (int, string, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		if form.Get("csrf") == "-" {
			form.Del("csrf")
		} else {
			form.Set("csrf", c.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: c.tok})
	req.AddCookie(&http.Cookie{Name: csrfCookie, Value: c.csrf})
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: time.Minute}
	res, err := cl.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), html.UnescapeString(string(b))
}

func (c *caseClient) get(path string, want int) string {
	c.t.Helper()
	st, _, b := c.do(http.MethodGet, path, nil)
	if st != want {
		c.t.Fatalf("GET %s: %d, want %d\n%s", path, st, want, tail(b))
	}
	return b
}

func (c *caseClient) post(path string, form url.Values, want int) (string, string) {
	c.t.Helper()
	st, loc, b := c.do(http.MethodPost, path, form)
	if st != want {
		c.t.Fatalf("POST %s %v: %d, want %d\n%s", path, form, st, want, tail(b))
	}
	return loc, b
}

func tail(s string) string {
	for _, mark := range []string{"fr-alert--error", "fr-error-text", "fr-message--error", "<main"} {
		if i := strings.Index(s, mark); i >= 0 {
			s = s[i:]
			break
		}
	}
	return s[:min(len(s), 3000)]
}

var (
	rankedRE   = regexp.MustCompile(`name="post_id" value="(\d+)"`)
	excludedRE = regexp.MustCompile(`\(n° (\d+),`)
)

// lawfulAndNot reads, on a measure page, a ranked (lawful) post and an
// excluded one.
func lawfulAndNot(t *testing.T, page string) (lawful, unlawful string) {
	t.Helper()
	if m := rankedRE.FindStringSubmatch(page); m != nil {
		lawful = m[1]
	}
	if m := excludedRE.FindStringSubmatch(page); m != nil {
		unlawful = m[1]
	}
	return lawful, unlawful
}

func measureOf(t *testing.T, db *sqlite.DB, id int64) *atigip.Measure {
	t.Helper()
	m, err := atigip.Of[*atigip.Measure](db).Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCaseworkDoors walks every form of the workspaces without a browser,
// a test per rule per door: the CSRF token, the perimeter, the rulebook
// (its French sentence next to the field), the stale version (« Modifié
// entre-temps », the typed values kept), a missing reason; then the
// lawful path to its effect in the store (FFS12 queued, place taken,
// habilitation granted).
func TestCaseworkDoors(t *testing.T) {
	t.Parallel()
	site := sharedBrowserSite(t)
	deps := caseDeps(t, site.store)
	d, other := deps[0], deps[len(deps)-1]
	ctx := t.Context()
	cpip := newCaseClient(t, site, atigip.Principal{Role: atigip.RoleCPIP, Departement: d.Dep})
	pjj := newCaseClient(t, site, atigip.Principal{Role: atigip.RolePJJ, Departement: d.Dep})
	judge := newCaseClient(t, site, atigip.Principal{Role: atigip.RoleMagistrate, Departement: d.Dep})
	clerk := newCaseClient(t, site, atigip.Principal{Role: atigip.RoleClerk, Departement: d.Dep})
	dspip := newCaseClient(t, site, atigip.Principal{Role: atigip.RoleDSPIP, Departement: d.Dep})

	// The caseload: the perimeter's measures, filtered, sorted, paged.
	list := cpip.get("/mesures?etat=to_place&tri=heures&ordre=desc", http.StatusOK)
	ms := d.ToPlace[0]
	if !strings.Contains(list, "/mesures/"+strconv.FormatInt(ms.ID, 10)) || !strings.Contains(list, "Sans proposition") {
		t.Fatalf("the caseload misses measure %d or its flag:\n%s", ms.ID, tail(list))
	}
	if strings.Contains(pjj.get("/mesures", http.StatusOK), ms.CaseRef) {
		t.Error("a PJJ educator sees an adult's measure")
	}
	home := cpip.get("/espace", http.StatusOK)
	if !strings.Contains(home, "Mes mesures") || !strings.Contains(home, "sans proposition") {
		t.Errorf("« Mon espace » has no caseload card:\n%s", tail(home))
	}

	// The measure page: read audited, ranked posts and near misses.
	path := "/mesures/" + strconv.FormatInt(ms.ID, 10)
	page := cpip.get(path, http.StatusOK)
	audits, err := site.store.Audits(ctx, atigip.AuditFilter{Kind: atigip.KindPerson, EntityID: ms.PersonID})
	if err != nil || !slices.ContainsFunc(audits, func(a atigip.AuditEntry) bool { return a.Action == "read" && a.Role == atigip.RoleCPIP }) {
		t.Errorf("the person's read is not audited: %v %v", audits, err)
	}
	lawful, unlawful := lawfulAndNot(t, page)
	if lawful == "" || unlawful == "" {
		t.Fatalf("no ranked post (%q) or near miss (%q) on the page:\n%s", lawful, unlawful, tail(page))
	}
	v := strconv.FormatInt(ms.Version, 10)
	propose := path + "/proposer"
	t.Run("csrf", func(t *testing.T) {
		cpip.t = t
		cpip.post(propose, url.Values{"csrf": {"-"}, "post_id": {lawful}, "version": {v}}, http.StatusForbidden)
	})
	cpip.t = t
	t.Run("perimeter", func(t *testing.T) {
		far := newCaseClient(t, site, atigip.Principal{Role: atigip.RoleCPIP, Departement: other.Dep})
		far.post(propose, url.Values{"post_id": {lawful}, "version": {v}}, http.StatusNotFound)
		far.get(path, http.StatusNotFound)
	})
	t.Run("rulebook", func(t *testing.T) {
		cpip.t = t
		_, b := cpip.post(propose, url.Values{"post_id": {unlawful}, "version": {v}, "start_date": {"2031-01-02"}}, http.StatusConflict)
		if !strings.Contains(b, `id="p-post-err"`) || !strings.Contains(b, `value="`+unlawful+`"`) || !strings.Contains(b, "2031-01-02") {
			t.Fatalf("the refusal is not next to the post field with the typed values kept:\n%s", tail(b))
		}
	})
	t.Run("stale", func(t *testing.T) {
		cpip.t = t
		_, b := cpip.post(propose, url.Values{"post_id": {lawful}, "version": {strconv.FormatInt(ms.Version-1+100, 10)}}, http.StatusConflict)
		if !strings.Contains(b, "Modifié entre-temps") || !strings.Contains(b, `value="`+lawful+`"`) {
			t.Fatalf("no « Modifié entre-temps » with the typed values:\n%s", tail(b))
		}
	})
	t.Run("bad input", func(t *testing.T) {
		cpip.t = t
		_, b := cpip.post(propose, url.Values{"post_id": {"abc"}, "version": {v}}, http.StatusUnprocessableEntity)
		if !strings.Contains(b, "Indiquez le numéro du poste") || !strings.Contains(b, `value="abc"`) {
			t.Fatalf("no French message next to the field:\n%s", tail(b))
		}
	})
	cpip.t = t
	start := time.Now().AddDate(0, 0, 14).Format(time.DateOnly)
	loc, _ := cpip.post(propose, url.Values{"post_id": {lawful}, "version": {v}, "start_date": {start}}, http.StatusSeeOther)
	if loc != path+"?fait=propose" {
		t.Fatalf("redirect to %q", loc)
	}
	got := measureOf(t, site.store, ms.ID)
	if got.State != atigip.MeasureProposed || strconv.FormatInt(got.PostID, 10) != lawful {
		t.Fatalf("measure after the proposal: %s on %d", got.State, got.PostID)
	}
	out, err := atigip.Of[*atigip.FlowMessage](site.store).All(ctx, atigip.ListFilter{Parent: ms.ID})
	if err != nil || !slices.ContainsFunc(out, func(f *atigip.FlowMessage) bool { return f.Type == atigip.FFS12 && f.Direction == atigip.FlowOut }) {
		t.Fatalf("no FFS12 queued for APPI: %v %v", out, err)
	}
	if !strings.Contains(cpip.get(path+"?fait=propose", http.StatusOK), "FFS12") {
		t.Error("the timeline does not show the FFS12")
	}

	// The judge: a refusal needs a reason; the clerk sees, does not decide.
	if b := clerk.get("/juge", http.StatusOK); !strings.Contains(b, got.CaseRef) || strings.Contains(b, "/juge/mesures/") {
		t.Errorf("the clerk's page: the proposal missing or a decision form shown:\n%s", tail(b))
	}
	clerk.post("/juge/mesures/"+strconv.FormatInt(ms.ID, 10), url.Values{"decision": {"affecter"}}, http.StatusForbidden)
	jv := strconv.FormatInt(got.Version, 10)
	decide := "/juge/mesures/" + strconv.FormatInt(ms.ID, 10)
	t.Run("judge refusal needs a reason", func(t *testing.T) {
		judge.t = t
		_, b := judge.post(decide, url.Values{"decision": {"refuser"}, "version": {jv}}, http.StatusBadRequest)
		if !strings.Contains(b, "Le motif est obligatoire") {
			t.Fatalf("no reason asked:\n%s", tail(b))
		}
	})
	t.Run("judge csrf and perimeter", func(t *testing.T) {
		judge.t = t
		judge.post(decide, url.Values{"csrf": {"-"}, "decision": {"affecter"}, "version": {jv}}, http.StatusForbidden)
		far := newCaseClient(t, site, atigip.Principal{Role: atigip.RoleMagistrate, Departement: other.Dep})
		far.post(decide, url.Values{"decision": {"affecter"}, "version": {jv}}, http.StatusNotFound)
		if strings.Contains(far.get("/juge", http.StatusOK), got.CaseRef) {
			t.Error("a judge of another département sees the proposal")
		}
	})
	judge.t = t
	judge.post(decide, url.Values{"decision": {"affecter"}, "version": {jv}}, http.StatusSeeOther)
	if got := measureOf(t, site.store, ms.ID); got.State != atigip.MeasureAssigned {
		t.Fatalf("after the judge: %s", got.State)
	}

	// Follow-up: an incident needs a description; start, then suspend.
	t.Run("incident needs a note", func(t *testing.T) {
		cpip.t = t
		_, b := cpip.post(path+"/incidents", url.Values{"incident": {"absence"}}, http.StatusBadRequest)
		if !strings.Contains(b, "Décrivez l'incident") {
			t.Fatalf("no message:\n%s", tail(b))
		}
	})
	cpip.t = t
	cpip.post(path+"/incidents", url.Values{"incident": {"absence"}, "note": {"Absent sans justificatif"}}, http.StatusSeeOther)
	m2 := measureOf(t, site.store, ms.ID)
	cpip.post(path+"/etat", url.Values{"to": {"in_progress"}, "version": {strconv.FormatInt(m2.Version, 10)}}, http.StatusSeeOther)
	m2 = measureOf(t, site.store, ms.ID)
	_, b := cpip.post(path+"/etat", url.Values{"to": {"suspended"}, "version": {strconv.FormatInt(m2.Version, 10)}}, http.StatusBadRequest)
	if !strings.Contains(b, `id="s-reason-err"`) {
		t.Fatalf("a suspension without a reason is not refused next to the field:\n%s", tail(b))
	}
	cpip.post(path+"/etat", url.Values{"to": {"suspended"}, "reason": {"Hospitalisation"}, "version": {strconv.FormatInt(m2.Version, 10)}}, http.StatusSeeOther)
	if got := measureOf(t, site.store, ms.ID); got.State != atigip.MeasureSuspended {
		t.Fatalf("after the suspension: %s", got.State)
	}

	// Habilitation: no decision before the opinions; the judge gives them.
	pr := requestHabilitation(t, site.store, d.Org)
	procPath := "/direction/procedures/" + strconv.FormatInt(pr.ID, 10)
	_, b = dspip.post(procPath+"/decision", url.Values{"decision": {"accorder"}}, http.StatusConflict)
	if !strings.Contains(b, "Avis attendus") {
		t.Fatalf("a decision before the opinions:\n%s", tail(b))
	}
	farDir := newCaseClient(t, site, atigip.Principal{Role: atigip.RoleDSPIP, Departement: other.Dep})
	farDir.get(procPath, http.StatusNotFound)
	farDir.post(procPath+"/decision", url.Values{"decision": {"accorder"}}, http.StatusNotFound)
	dspip.post(procPath+"/decision", url.Values{"csrf": {"-"}, "decision": {"accorder"}}, http.StatusForbidden)
	dspip.post("/direction/affectation", url.Values{"csrf": {"-"}}, http.StatusForbidden)
	opinion := "/juge/procedures/" + strconv.FormatInt(pr.ID, 10) + "/avis"
	_, b = judge.post(opinion, url.Values{"authority": {"jap"}, "verdict": {"defavorable"}}, http.StatusUnprocessableEntity)
	if !strings.Contains(b, "Motivez un avis défavorable") {
		t.Fatalf("no reason asked for an unfavourable opinion:\n%s", tail(b))
	}
	judge.post(opinion, url.Values{"authority": {"jap"}, "verdict": {"favorable"}}, http.StatusSeeOther)
	judge.post(opinion, url.Values{"authority": {"prosecutor"}, "verdict": {"favorable"}}, http.StatusSeeOther)
	_, b = dspip.post(procPath+"/decision", url.Values{"decision": {"refuser"}}, http.StatusBadRequest)
	if !strings.Contains(b, "Le motif du refus est obligatoire") {
		t.Fatalf("a refusal without a reason:\n%s", tail(b))
	}
	dspip.post(procPath+"/decision", url.Values{"decision": {"accorder"}}, http.StatusSeeOther)
	org, err := atigip.Of[*atigip.Organisation](site.store).Get(ctx, d.Org.ID)
	if err != nil || org.Habilitation.Status != atigip.HabHabilitated {
		t.Fatalf("organisation after the decision: %v %v", org.Habilitation, err)
	}
}

// TestCaseworkInChromium walks the workspaces' journeys in headless
// Chromium at desktop size, on a 375×667 phone and on a 768×1024 tablet,
// in parallel, each in its own département of the shared site: the CPIP
// refused an unlawful post (typed with the keyboard) then proposing a
// lawful one, the judge assigning and giving the habilitation opinions,
// the DSPIP deciding the habilitation after them, the global assignment
// reviewed pair by pair. axe-core must report no violation on any page
// state; screenshots (cases-<journey>-<state>.png) are left as artefacts.
func TestCaseworkInChromium(t *testing.T) {
	t.Parallel()
	node, chromium := browserEnv(t)
	site := sharedBrowserSite(t)
	deps := caseDeps(t, site.store)
	journeys := map[string]any{}
	names := []string{"desktop", "mobile", "tablet"}
	for i, name := range names {
		d := deps[1+i]
		pr := requestHabilitation(t, site.store, d.Org)
		journeys[name] = map[string]any{
			"tokens": map[string]string{
				"cpip":  site.token(t, atigip.Principal{Subject: "test:cpip:" + name, Role: atigip.RoleCPIP, Departement: d.Dep}),
				"judge": site.token(t, atigip.Principal{Subject: "test:jap:" + name, Role: atigip.RoleMagistrate, Departement: d.Dep}),
				"dspip": site.token(t, atigip.Principal{Subject: "test:dspip:" + name, Role: atigip.RoleDSPIP, Departement: d.Dep}),
			},
			"ids": map[string]any{"measure": d.ToPlace[0].ID, "procedure": pr.ID},
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(map[string]any{"base": site.url, "out": artefacts(t), "journeys": journeys})
			if err != nil {
				t.Fatal(err)
			}
			rep := runJourney(t, node, chromium, "cases.mjs", string(b), name)
			t.Logf("%d checks, axe on %d page states, screenshots: %v", len(rep.Checks), len(rep.Axe), rep.Shots)
		})
	}
}
