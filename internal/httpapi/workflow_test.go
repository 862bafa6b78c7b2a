package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/flows"
	"github.com/atigip/atigip360/internal/workflow/wftest"
)

const appiKey = "cle-appi-de-test-0123456789abcdef"

func workflowEnv(t *testing.T) (*testEnv, *wftest.World) {
	t.Helper()
	s := wftest.SQLite(t)
	w := wftest.Build(t, s)
	clients, err := flows.ParseClients("appi=" + flows.HashKey(appiKey))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, s, func(o *Options) {
		o.Modules = append(o.Modules, WorkflowModule(nil), FlowsModule(clients, nil), IndicatorsModule(nil, nil))
	})
	return e, w
}

func (e *testEnv) machine(method, target, key string, body string) response {
	e.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(HeaderAPIKey, key)
	}
	return e.send(req)
}

// onlyProposal polls APPI's outbox, which must hold one FFS12 proposal.
func (e *testEnv) onlyProposal(t *testing.T) (flows.OutPage, flows.FFS12) {
	t.Helper()
	r := e.machine("GET", "/api/flows/outbox", appiKey, "")
	wantStatus(t, r, 200)
	var page flows.OutPage
	r.json(t, &page)
	if len(page.Items) != 1 {
		t.Fatalf("outbox %s", r.body)
	}
	var ffs12 flows.FFS12
	if err := json.Unmarshal(page.Items[0].Message, &ffs12); err != nil {
		t.Fatal(err)
	}
	return page, ffs12
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

func TestMeasureOverHTTP(t *testing.T) {
	e, w := workflowEnv(t)
	cpip := e.token(atigip.Principal{Subject: "cpip-lyon", Role: atigip.RoleCPIP})
	tutor := e.token(atigip.Principal{Subject: "tuteur", Role: atigip.RoleHost, OrganisationID: w.Org.ID})
	lawyer := e.token(atigip.Principal{Role: atigip.RoleLawyer})
	base := fmt.Sprintf("/api/measures/%d", w.Measure.ID)
	today := atigip.DateOf(time.Now())
	var m atigip.Measure

	r := e.do("POST", base+"/transitions", lawyer, map[string]any{"to": "proposed", "version": 1})
	wantStatus(t, r, 403)
	if p := r.problem(t); !strings.Contains(p.Detail, "Avocat") {
		t.Fatalf("detail %q", p.Detail)
	}
	r = e.do("POST", base+"/transitions", cpip, map[string]any{"to": "assigned", "version": 1})
	wantStatus(t, r, 409)
	if p := r.problem(t); !strings.Contains(p.Detail, "Transition interdite") || p.Code != atigip.ECONFLICT {
		t.Fatalf("problem %+v", p)
	}
	r = e.do("POST", base+"/transitions", cpip, map[string]any{"to": "proposed", "post_id": w.Post.ID,
		"start_date": today.AddDays(7).String(), "version": 1})
	wantStatus(t, r, 200)
	r.json(t, &m)
	if m.State != atigip.MeasureProposed || m.Version != 2 {
		t.Fatalf("measure %+v", m)
	}
	r = e.do("POST", base+"/transitions", cpip, map[string]any{"to": "closed_failed", "reason": "x", "version": 1})
	wantStatus(t, r, 409) // stale version (and CPIP may not close): the version is checked first
	r = e.do("POST", base+"/transitions", cpip, map[string]any{"to": "assigned", "version": 2})
	wantStatus(t, r, 403)
	if p := r.problem(t); !strings.Contains(p.Detail, "Rôles admis") {
		t.Fatalf("detail %q", p.Detail)
	}

	// APPI polls the proposal and answers with the judge's assignment.
	wantStatus(t, e.machine("GET", "/api/flows/outbox", "", ""), 401)
	wantStatus(t, e.machine("GET", "/api/flows/outbox", "wrong-key", ""), 401)
	caseSystemToken := e.token(atigip.Principal{Role: atigip.RoleCaseSystem})
	wantStatus(t, e.do("GET", "/api/flows/outbox", caseSystemToken, nil), 401) // a person's token is no flows credential
	page, ffs12 := e.onlyProposal(t)
	// The measure was created by hand: APPI starts its sequence at 1 here.
	ffe13 := fmt.Sprintf(`{"message_id":"J-1","type":"FFE13","sent_at":"2025-03-01T10:00:00Z","case_ref":"M0001","seq":1,"ffe13":{"proposal_id":%q,"post_id":%d}}`,
		ffs12.MessageID, w.Post.ID)
	r = e.machine("POST", "/api/flows/inbound", appiKey, ffe13)
	wantStatus(t, r, 200)
	r = e.machine("POST", "/api/flows/inbound", appiKey, ffe13)
	wantStatus(t, r, 200)
	var res flows.Result
	r.json(t, &res)
	if res.Outcome != flows.Duplicate {
		t.Fatalf("replay outcome %s", res.Outcome)
	}
	r = e.machine("POST", "/api/flows/inbound", appiKey, `{"message_id":"J-2","type":"FFE15"`)
	wantStatus(t, r, 400)
	if p := r.problem(t); !strings.Contains(p.Detail, "mal formé") || !strings.Contains(p.Detail, "conservé") {
		t.Fatalf("malformed detail %q", p.Detail)
	}
	r = e.machine("POST", "/api/flows/inbound", appiKey, `{"message_id":"J-9","type":"FFE11","case_ref":"M0001","seq":5,"ffe11":{"person":{"case_ref":"P0001","pseudonym":"TIG-0001"},"measure":{"hours_ordered":20,"sentence_date":"2025-01-01","departement":"69"}}}`)
	wantStatus(t, r, 202)
	dspip := e.token(atigip.Principal{Role: atigip.RoleDSPIP})
	r = e.do("GET", "/api/flows/messages", dspip, nil)
	wantStatus(t, r, 200)
	var inspected []atigip.FlowMessage
	r.json(t, &inspected)
	if len(inspected) != 2 {
		t.Fatalf("inspection lists %d messages, want the rejected and the held one", len(inspected))
	}
	wantStatus(t, e.machine("POST", "/api/flows/outbox/ack", appiKey, fmt.Sprintf(`{"up_to":%d}`, page.Items[0].Position)), 200)

	// Execution: the tutor starts, reports, the CPIP confirms and closes.
	r = e.do("POST", base+"/transitions", tutor, map[string]any{"to": "in_progress", "version": 3, "start_date": today.AddDays(-1).String()})
	wantStatus(t, r, 200)
	r.json(t, &m)
	for _, day := range []atigip.Date{today.AddDays(-1), today} {
		r = e.do("POST", base+"/hours", tutor, map[string]any{"date": day.String(), "hours": 10})
		wantStatus(t, r, 201)
		var l atigip.MeasureLog
		r.json(t, &l)
		wantStatus(t, e.do("POST", fmt.Sprintf("%s/hours/%d/check", base, l.ID), tutor, map[string]any{"accept": true}), 403)
		wantStatus(t, e.do("POST", fmt.Sprintf("%s/hours/%d/check", base, l.ID), cpip, map[string]any{"accept": true}), 200)
	}
	// A day holds at most the legal daily maximum (10 h for an adult),
	// however many reports it is split into: 400 naming the field.
	r = e.do("POST", base+"/hours", tutor, map[string]any{"date": today.String(), "hours": 0.25})
	wantStatus(t, r, 400)
	if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "hours" || !strings.Contains(p.Errors[0].Message, "L3121-18") {
		t.Fatalf("daily cap: %+v", p)
	}
	wantStatus(t, e.do("POST", base+"/incidents", tutor, map[string]any{"incident": "absence", "note": "Absent sans justificatif"}), 201)
	r = e.do("GET", base+"/history", cpip, nil)
	wantStatus(t, r, 200)
	var hist struct {
		Version int64                 `json:"version"`
		Events  []atigip.MeasureEvent `json:"events"`
		Logs    []atigip.MeasureLog   `json:"logs"`
		Next    []atigip.MeasureState `json:"next"`
	}
	r.json(t, &hist)
	if len(hist.Events) != 3 || len(hist.Logs) != 3 || len(hist.Next) == 0 {
		t.Fatalf("history %s", r.body)
	}
	r = e.do("POST", base+"/transitions", cpip, map[string]any{"to": "completed", "version": hist.Version})
	wantStatus(t, r, 200)
	r.json(t, &m)
	if m.State != atigip.MeasureCompleted || m.HoursDone != 20 {
		t.Fatalf("measure %+v", m)
	}
	r = e.do("POST", base+"/transitions", cpip, map[string]any{"to": "in_progress", "version": m.Version})
	wantStatus(t, r, 409)

	owner := e.token(atigip.Principal{Role: atigip.RolePerson, PersonID: w.Person.ID})
	stranger := e.token(atigip.Principal{Role: atigip.RolePerson, PersonID: w.Detainee.ID})
	wantStatus(t, e.do("GET", base+"/history", owner, nil), 200)
	wantStatus(t, e.do("GET", base+"/history", stranger, nil), 404)
	audits, err := e.store.Audits(t.Context(), atigip.AuditFilter{Kind: atigip.KindMeasure, EntityID: w.Measure.ID, Limit: 100})
	if err != nil || len(audits) < 8 {
		t.Fatalf("%d audit entries (%v)", len(audits), err)
	}

	r = e.do("GET", "/api/indicators?format=csv", dspip, nil)
	wantStatus(t, r, 200)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || !strings.Contains(string(r.body), "part_mesures_executees,total,,1") {
		t.Fatalf("CSV %s", r.body)
	}
	wantStatus(t, e.do("GET", "/api/indicators", "", nil), 401)
}

func TestHabilitationAndPrisonOverHTTP(t *testing.T) {
	e, w := workflowEnv(t)
	host := e.token(atigip.Principal{Subject: "referente", Role: atigip.RoleHost, OrganisationID: w.Org.ID})
	judge := e.token(atigip.Principal{Subject: "jap", Role: atigip.RoleMagistrate})
	dspip := e.token(atigip.Principal{Subject: "dspip-69", Role: atigip.RoleDSPIP})
	draft := seed(t, e.store, &atigip.Post{OrganisationID: w.Org.ID, Title: "Aide en cuisine", Places: 1,
		Address: wftest.Lyon, Location: atigip.Point{Lon: 4.8, Lat: 45.7}, Status: atigip.PostDraft, Visibility: atigip.VisibilityJustice})

	r := e.do("POST", "/api/procedures", host, map[string]any{"kind": "post_registration", "organisation_id": w.Org.ID, "post_id": draft.ID})
	wantStatus(t, r, 201)
	var proc atigip.Procedure
	r.json(t, &proc)
	path := fmt.Sprintf("/api/procedures/%d", proc.ID)
	r = e.do("POST", path+"/decision", dspip, map[string]any{"grant": true})
	wantStatus(t, r, 409)
	if p := r.problem(t); !strings.Contains(p.Detail, "Avis attendus") {
		t.Fatalf("detail %q", p.Detail)
	}
	wantStatus(t, e.do("POST", path+"/opinions", dspip, map[string]any{"authority": "jap", "favourable": true}), 403)
	for _, a := range []string{"prosecutor", "jap"} {
		wantStatus(t, e.do("POST", path+"/opinions", judge, map[string]any{"authority": a, "favourable": true}), 200)
	}
	wantStatus(t, e.do("POST", path+"/decision", host, map[string]any{"grant": true}), 403)
	r = e.do("POST", path+"/decision", dspip, map[string]any{"grant": true})
	wantStatus(t, r, 200)
	r.json(t, &proc)
	if proc.Status != atigip.ProcGranted || proc.DecidedBy != "dspip-69" || proc.DecidedAt == nil || len(proc.Opinions) != 2 || proc.Opinions[1].By != "jap" {
		t.Fatalf("procedure %+v", proc)
	}
	post, _ := atigip.Of[*atigip.Post](e.store).Get(t.Context(), draft.ID)
	if post.Status != atigip.PostRegistered {
		t.Fatalf("post %s after registration", post.Status)
	}

	staff := e.token(atigip.Principal{Subject: "greffe", Role: atigip.RolePrisonStaff, PrisonID: w.Prison.ID})
	detainee := e.token(atigip.Principal{Role: atigip.RolePerson, PersonID: w.Detainee.ID})
	other := seed(t, e.store, &atigip.Person{Pseudonym: "DET-0002", CaseSystem: "GENESIS", CaseRef: "G0002", Detained: true, PrisonID: w.Prison.ID})
	offer := fmt.Sprintf("/api/offers/%d", w.Offer.ID)
	wantStatus(t, e.do("POST", offer+"/applications", staff, map[string]any{"person_id": other.ID}), 409) // not cleared by the CPU
	wantStatus(t, e.do("POST", fmt.Sprintf("/api/people/%d/clearance", other.ID), staff, map[string]any{"cleared": true}), 200)
	var first, second atigip.Application
	r = e.do("POST", offer+"/applications", detainee, map[string]any{})
	wantStatus(t, r, 201)
	r.json(t, &first)
	r = e.do("POST", offer+"/applications", staff, map[string]any{"person_id": other.ID})
	wantStatus(t, r, 201)
	r.json(t, &second)
	wantStatus(t, e.do("POST", fmt.Sprintf("/api/applications/%d/rank", second.ID), staff, map[string]any{"rank": 1}), 200)
	r = e.do("GET", offer+"/waiting-list", staff, nil)
	wantStatus(t, r, 200)
	var list []atigip.Application
	r.json(t, &list)
	if len(list) != 2 || list[0].ID != second.ID || list[0].Rank != 1 || list[1].Rank != 2 {
		t.Fatalf("waiting list %s", r.body)
	}
	r = e.do("POST", fmt.Sprintf("/api/applications/%d/transitions", second.ID), staff, map[string]any{"to": "accepted", "version": 2})
	wantStatus(t, r, 200)
	r = e.do("POST", fmt.Sprintf("/api/applications/%d/transitions", first.ID), staff, map[string]any{"to": "accepted", "version": first.Version + 1})
	wantStatus(t, r, 409) // the only place is taken: first stays on the list
	r = e.do("POST", fmt.Sprintf("/api/people/%d/transfer", w.Detainee.ID), staff, map[string]any{"prison_id": w.Prison2.ID, "reason": "Rapprochement familial"})
	wantStatus(t, r, 200)
	var moved atigip.Person
	r.json(t, &moved)
	app, _ := atigip.Of[*atigip.Application](e.store).Get(t.Context(), first.ID)
	if moved.PrisonID != w.Prison2.ID || moved.Pseudonym != "DET-0001" || app.State != atigip.AppClosed ||
		!strings.Contains(app.History[len(app.History)-1].Note, "Rapprochement familial") {
		t.Fatalf("after transfer: person %+v, application %+v", moved, app)
	}
	o, _ := atigip.Of[*atigip.Offer](e.store).Get(t.Context(), w.Offer.ID)
	if o.PlacesTaken != 1 || o.Status != atigip.OfferFilled {
		t.Fatalf("offer %+v", o)
	}
}

func TestWorkflowRoutesDocumented(t *testing.T) {
	e, _ := workflowEnv(t)
	r := e.do("GET", "/openapi.json", "", nil)
	wantStatus(t, r, 200)
	for _, want := range []string{`"/api/flows/inbound"`, `"/api/measures/{id}/transitions"`, `"/api/indicators"`, `"X-API-Key"`, `"FFE11"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("OpenAPI lacks %s", want)
		}
	}
}
