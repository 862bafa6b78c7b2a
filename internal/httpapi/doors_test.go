package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/flows"
)

// doorWorld is a small world with two départements, two companies and two
// establishments, on a real store, for the doors of issue 10.
type doorWorld struct {
	*fixture
	env                      *testEnv
	adult13, adult69, kid    *atigip.Person
	m69                      *atigip.Measure
	otherPrison              *atigip.Prison
	foreignOffer             *atigip.Offer // another company's
	cpip69, dspip69, pjj69   string
	biz, bizNoSIRET, bizSREN string
	ref, staff               string
}

func newDoorWorld(t *testing.T, store atigip.Store) *doorWorld {
	clients, err := flows.ParseClients("appi=" + flows.HashKey(appiKey))
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, store, func(o *Options) {
		o.Modules = append(o.Modules, WorkflowModule(nil), FlowsModule(clients, nil))
	})
	w := &doorWorld{fixture: newFixture(t, store), env: env}
	person := func(i int, dep string, minor bool) *atigip.Person { return w.personIn(t, store, i, dep, minor) }
	w.adult13, w.adult69, w.kid = person(31, "13", false), person(32, "69", false), person(33, "69", true)
	m := w.fresh(atigip.KindMeasure, 34).(*atigip.Measure)
	m.PersonID, m.Departement, m.State, m.PostID, m.CaseRef = w.adult69.ID, "69", atigip.MeasureToPlace, 0, "M-69-1"
	w.m69 = seed(t, store, m)
	w.otherPrison = seed(t, store, sample[*atigip.Prison](atigip.KindPrison, 1))
	o := w.fresh(atigip.KindOffer, 35).(*atigip.Offer)
	o.EmployerKind, o.EmployerSIRET = atigip.EmployerConcession, "44306184100013"
	w.foreignOffer = seed(t, store, o)
	tok := func(p atigip.Principal) string { return env.token(p) }
	w.cpip69 = tok(atigip.Principal{Role: atigip.RoleCPIP, Departement: "69"})
	w.dspip69 = tok(atigip.Principal{Role: atigip.RoleDSPIP, Departement: "69"})
	w.pjj69 = tok(atigip.Principal{Role: atigip.RolePJJ, Departement: "69"})
	w.biz = tok(atigip.Principal{Subject: "biz", Role: atigip.RoleBusiness, SIRET: fixtureSIRET})
	w.bizNoSIRET = tok(atigip.Principal{Subject: "biz0", Role: atigip.RoleBusiness})
	w.bizSREN = tok(atigip.Principal{Subject: "biz9", Role: atigip.RoleBusiness, SIRET: fixtureSIRET[:9]})
	w.ref = tok(atigip.Principal{Role: atigip.RoleReferent})
	w.staff = tok(atigip.Principal{Role: atigip.RolePrisonStaff})
	return w
}

// door is one request and the answer it must get.
type door struct {
	name         string
	method, path string
	token        string
	body         any
	status       int
	field        string // named in the problem, if any
}

func (w *doorWorld) check(t *testing.T, doors []door) {
	t.Helper()
	for _, d := range doors {
		t.Run(d.name, func(t *testing.T) {
			seq := lastChange(t, w.env.store)
			res := w.env.do(d.method, d.path, d.token, d.body)
			if res.status != d.status {
				t.Fatalf("%s %s: status %d, want %d: %s", d.method, d.path, res.status, d.status, res.body)
			}
			if d.status >= 400 {
				p := res.problem(t)
				if d.field != "" && !hasField(p, d.field) {
					t.Fatalf("problem %+v does not name %s", p, d.field)
				}
				if got := lastChange(t, w.env.store); got != seq {
					t.Fatalf("a refused request changed the store (change %d → %d)", seq, got)
				}
			}
		})
	}
}

func lastChange(t *testing.T, s atigip.Store) int64 {
	t.Helper()
	cs, err := s.Changes(t.Context(), 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) == 0 {
		return 0
	}
	return cs[len(cs)-1].Seq
}

func (w *doorWorld) get(t *testing.T, k atigip.Kind, id int64) atigip.Entity {
	t.Helper()
	e, err := w.env.store.Entities(k).Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func at(k atigip.Kind, id int64) string { return fmt.Sprintf("/api/%s/%d", KindPath(k), id) }

// TestDoors reproduces observations 2, 3, 6 and 7 of issue 10 on both
// stores: each row was answered 2xx (or 500) before.
func TestDoors(t *testing.T) {
	for name, open := range realStores {
		t.Run(name, func(t *testing.T) { testDoors(t, open(t)) })
	}
}

func testDoors(t *testing.T, store atigip.Store) {
	w := newDoorWorld(t, store)
	newMeasure := func(person int64, dep string, minor bool) *atigip.Measure {
		m := w.creatable(t, store, atigip.KindMeasure, 40).(*atigip.Measure)
		m.PersonID, m.Departement, m.Minor, m.CaseRef = person, dep, minor, ""
		return m
	}
	m69 := func(f func(*atigip.Measure)) *atigip.Measure {
		m := w.get(t, atigip.KindMeasure, w.m69.ID).(*atigip.Measure)
		f(m)
		return m
	}
	post := func(f func(*atigip.Post)) *atigip.Post {
		p := w.get(t, atigip.KindPost, w.post.ID).(*atigip.Post)
		f(p)
		return p
	}
	offer := func(id int64, f func(*atigip.Offer)) *atigip.Offer {
		o := w.get(t, atigip.KindOffer, id).(*atigip.Offer)
		f(o)
		return o
	}
	floor := w.get(t, atigip.KindFloorSpace, w.floor.ID).(*atigip.FloorSpace)
	floor.PrisonID = 999999
	org := w.creatable(t, store, atigip.KindOrganisation, 41).(*atigip.Organisation)
	org.Name = "Mairie\u0000de Lyon"
	bizOffer := w.creatable(t, store, atigip.KindOffer, 42).(*atigip.Offer)
	bizOffer.EmployerKind, bizOffer.EmployerSIRET = atigip.EmployerConcession, "44306184100013"
	del := func(k atigip.Kind, id int64) string {
		return at(k, id) + fmt.Sprintf("?version=%d", w.get(t, k, id).GetMeta().Version)
	}

	w.check(t, []door{
		// 2. A measure's person and minor flag are the server's.
		{"CPIP 69 creates a measure on a person of the 13", "POST", "/api/measures", w.cpip69, newMeasure(w.adult13.ID, "69", false), 403, "person_id"},
		{"measure on a person who does not exist", "POST", "/api/measures", w.dspip69, newMeasure(999999, "69", false), 400, "person_id"},
		{"CPIP marks a minor's measure adult", "POST", "/api/measures", w.cpip69, newMeasure(w.kid.ID, "69", false), 403, ""},
		{"DSPIP re-points a measure to another person", "PUT", at(atigip.KindMeasure, w.m69.ID), w.dspip69,
			m69(func(m *atigip.Measure) { m.PersonID = w.kid.ID }), 409, "person_id"},
		{"CPIP moves the sentence date of an APPI measure", "PUT", at(atigip.KindMeasure, w.m69.ID), w.cpip69,
			m69(func(m *atigip.Measure) { m.SentenceDate = m.SentenceDate.AddDays(300) }), 409, "sentence_date"},
		// 3. Businesses own their offers.
		{"business edits another company's offer", "PUT", at(atigip.KindOffer, w.foreignOffer.ID), w.biz,
			offer(w.foreignOffer.ID, func(o *atigip.Offer) { o.Title = "Repris" }), 403, ""},
		{"business deletes another company's offer", "DELETE", del(atigip.KindOffer, w.foreignOffer.ID), w.biz, nil, 403, ""},
		{"business without a company creates an offer", "POST", "/api/offers", w.bizNoSIRET, bizOffer, 403, ""},
		{"business takes an offer over for its company", "PUT", at(atigip.KindOffer, w.offer.ID), w.staff,
			offer(w.offer.ID, func(o *atigip.Offer) { o.EmployerSIRET = "44306184100013" }), 409, "employer_siret"},
		// 6. References exist and lie in the perimeter; deletes keep them.
		{"post moved to organisation 999999", "PUT", at(atigip.KindPost, w.post.ID), w.ref,
			post(func(p *atigip.Post) { p.OrganisationID = 999999 }), 400, "organisation_id"},
		{"offer moved to prison 999999", "PUT", at(atigip.KindOffer, w.offer.ID), w.staff,
			offer(w.offer.ID, func(o *atigip.Offer) { o.PrisonID = 999999 }), 400, "prison_id"},
		{"floor space moved to prison 999999", "PUT", at(atigip.KindFloorSpace, w.floor.ID), w.staff, floor, 400, "prison_id"},
		{"organisation with posts deleted", "DELETE", del(atigip.KindOrganisation, w.org.ID), w.ref, nil, 409, ""},
		{"person with a measure deleted", "DELETE", del(atigip.KindPerson, w.adult69.ID), w.dspip69, nil, 409, ""},
		{"prison with offers deleted", "DELETE", del(atigip.KindPrison, w.prison.ID), w.staff, nil, 409, ""},
		{"offer with applications deleted", "DELETE", del(atigip.KindOffer, w.offer.ID), w.staff, nil, 409, ""},
		// 7. NUL bytes: 400 naming the field, both stores alike.
		{"NUL in a JSON string", "POST", "/api/organisations", w.ref, org, 400, "name"},
		{"NUL in a query parameter", "GET", "/api/posts?departement=6%009", "", nil, 400, "departement"},
		{"NUL in a query parameter's name", "GET", "/api/posts?x%00=1", "", nil, 400, ""},
		{"invalid UTF-8 in a body", "POST", "/api/organisations", w.ref, []byte(`{"name":"Mairie ` + "\xff" + `"}`), 400, ""},
	})

	t.Run("a minor's measure is marked minor whatever the client says", func(t *testing.T) {
		res := w.env.do("POST", "/api/measures", w.dspip69, newMeasure(w.kid.ID, "69", false))
		wantStatus(t, res, 201)
		var m atigip.Measure
		res.json(t, &m)
		if !m.Minor {
			t.Fatalf("stored minor=false for a minor: %s", res.body)
		}
		// So the minor is not proposed to a post that refuses minors.
		adultsOnly := w.fresh(atigip.KindPost, 44).(*atigip.Post)
		adultsOnly.MinorsAccepted, adultsOnly.Places, adultsOnly.PlacesTaken = false, 3, 0
		seed(t, store, adultsOnly)
		res = w.env.do("POST", at(atigip.KindMeasure, m.ID)+"/transitions", w.dspip69,
			map[string]any{"to": "proposed", "post_id": adultsOnly.ID, "version": m.Version})
		if res.status != 409 || !strings.Contains(res.problem(t).Detail, "mineurs") {
			t.Fatalf("a minor proposed to a post refusing minors: %d %s", res.status, res.body)
		}
	})
	t.Run("a corrected birth date moves the person's measures", func(t *testing.T) {
		pe := w.get(t, atigip.KindPerson, w.adult69.ID).(*atigip.Person)
		pe.BirthDate, pe.Minor = w.kid.BirthDate, true
		wantStatus(t, w.env.do("PUT", at(atigip.KindPerson, pe.ID), w.dspip69, pe), 200)
		if m := w.get(t, atigip.KindMeasure, w.m69.ID).(*atigip.Measure); !m.Minor {
			t.Fatal("the measure of a person now known to be a minor is still an adult's")
		}
	})
	t.Run("a business's offer carries its company", func(t *testing.T) {
		res := w.env.do("POST", "/api/offers", w.biz, bizOffer)
		wantStatus(t, res, 201)
		var o atigip.Offer
		res.json(t, &o)
		if o.EmployerSIRET != fixtureSIRET {
			t.Fatalf("employer_siret %q, want the business's %q", o.EmployerSIRET, fixtureSIRET)
		}
		o.Title = "Conditionnement (modifié)"
		wantStatus(t, w.env.do("PUT", at(atigip.KindOffer, o.ID), w.biz, o), 200)
		// A company signed in by its SIREN manages its establishments' offers.
		o.Version++
		o.Title = "Conditionnement (repris par le siège)"
		res = w.env.do("PUT", at(atigip.KindOffer, o.ID), w.bizSREN, o)
		wantStatus(t, res, 200)
		res.json(t, &o)
		if o.EmployerSIRET != fixtureSIRET {
			t.Fatalf("the SIREN account moved the offer to %q", o.EmployerSIRET)
		}
		wantStatus(t, w.env.do("DELETE", fmt.Sprintf("%s?version=%d", at(atigip.KindOffer, o.ID), o.Version), w.bizSREN, nil), 204)
	})
	t.Run("archiving an organisation closes its posts", func(t *testing.T) {
		o := w.get(t, atigip.KindOrganisation, w.org.ID).(*atigip.Organisation)
		o.Active = false
		wantStatus(t, w.env.do("PUT", at(atigip.KindOrganisation, o.ID), w.ref, o), 200)
		if p := w.get(t, atigip.KindPost, w.post.ID).(*atigip.Post); p.Status != atigip.PostClosed {
			t.Fatalf("post of an archived organisation is %s", p.Status)
		}
		np := w.creatable(t, store, atigip.KindPost, 43).(*atigip.Post)
		res := w.env.do("POST", "/api/posts", w.ref, np)
		wantStatus(t, res, 409)
		if !hasField(res.problem(t), "organisation_id") {
			t.Fatalf("archived organisation not named: %s", res.body)
		}
	})
	t.Run("an APPI message with a NUL is kept and answered 4xx", func(t *testing.T) {
		body := `{"message_id":"NUL-1","type":"FFE11","case_ref":"M0900","seq":1,"ffe11":{"person":{"case_ref":"P0900","pseudonym":"TIG-0900\u0000"},"measure":{"hours_ordered":20,"sentence_date":"2025-01-01","departement":"69"}}}`
		for range 2 { // APPI's retry gets the same answer
			res := w.env.machine("POST", "/api/flows/inbound", appiKey, body)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", res.status, res.body)
			}
		}
		ms, _, err := atigip.Of[*atigip.FlowMessage](store).List(t.Context(), atigip.ListFilter{Status: []string{string(atigip.FlowRejected)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 || !strings.Contains(ms[0].Reason, "pseudonym") {
			t.Fatalf("the message was not kept for inspection: %+v", ms)
		}
	})
}

// TestOnePublicView reproduces observation 5 of issue 10: the public API
// lists and reads exactly the posts the public map lists (Post.Listed),
// with its fields, and a prison's service contact, never the named one.
func TestOnePublicView(t *testing.T) {
	for name, open := range realStores {
		t.Run(name, func(t *testing.T) {
			store := open(t)
			w := newDoorWorld(t, store)
			archived := w.fresh(atigip.KindOrganisation, 50).(*atigip.Organisation)
			archived.Active = false
			seed(t, store, archived) // as the CRM sync may write it, without the cascade
			post := func(i int, org int64, status atigip.PostStatus) *atigip.Post {
				p := w.fresh(atigip.KindPost, i).(*atigip.Post)
				p.OrganisationID, p.Status = org, status
				return seed(t, store, p)
			}
			closed := post(51, w.org.ID, atigip.PostClosed)
			orphan := post(52, archived.ID, atigip.PostOpen)
			pr := w.get(t, atigip.KindPrison, w.prison.ID).(*atigip.Prison)
			pr.Contact = &atigip.Contact{Name: "Jeanne Martin", Email: "jeanne.martin@justice.test", Phone: "04 65 71 12 34"}
			pr.ServiceContact = &atigip.Contact{Name: "Service de l'emploi pénitentiaire", Email: "emploi@justice.test"}
			if err := store.Entities(atigip.KindPrison).Update(t.Context(), pr); err != nil {
				t.Fatal(err)
			}
			justice := w.env.token(atigip.Principal{Role: atigip.RoleMagistrate})
			business := w.biz

			var lp ListPage[map[string]any]
			res := w.env.do("GET", "/api/posts?per_page=200", "", nil)
			wantStatus(t, res, 200)
			res.json(t, &lp)
			want := map[int64]bool{}
			orgs := map[int64]*atigip.Organisation{}
			err := store.Entities(atigip.KindPost).Scan(t.Context(), atigip.ListFilter{}, func(e atigip.Entity) error {
				po := e.(*atigip.Post)
				org, ok := orgs[po.OrganisationID]
				if !ok {
					org, _ = atigip.Of[*atigip.Organisation](store).Get(t.Context(), po.OrganisationID)
					orgs[po.OrganisationID] = org
				}
				if po.Listed(org, atigip.AudiencePublic) {
					want[po.ID] = true
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if lp.Total != len(want) || len(lp.Items) != len(want) {
				t.Fatalf("public list: %d posts (total %d), the map lists %d", len(lp.Items), lp.Total, len(want))
			}
			for _, it := range lp.Items {
				if !want[int64(it["id"].(float64))] {
					t.Fatalf("public list shows post %v, which the map does not", it["id"])
				}
				for _, k := range []string{"places", "places_taken", "status", "visibility", "risky", "care_setting"} {
					if _, ok := it[k]; ok {
						t.Fatalf("public list shows %s", k)
					}
				}
				if a, _ := it["address"].(map[string]any); a["street"] != nil {
					t.Fatalf("public list shows the street: %v", a)
				}
			}
			for _, id := range []int64{closed.ID, orphan.ID} {
				wantStatus(t, w.env.do("GET", at(atigip.KindPost, id), "", nil), 404)
				wantStatus(t, w.env.do("GET", at(atigip.KindPost, id), business, nil), 404)
				wantStatus(t, w.env.do("GET", at(atigip.KindPost, id), justice, nil), 200)
			}
			for _, tok := range []string{"", business, w.env.token(atigip.Principal{Role: atigip.RolePerson, PersonID: w.person.ID})} {
				res := w.env.do("GET", at(atigip.KindPrison, pr.ID), tok, nil)
				wantStatus(t, res, 200)
				if strings.Contains(string(res.body), "jeanne") || strings.Contains(string(res.body), "12 34") ||
					!strings.Contains(string(res.body), "emploi@justice.test") {
					t.Fatalf("public prison sheet: %s", res.body)
				}
				res = w.env.do("GET", "/api/prisons", tok, nil)
				if strings.Contains(string(res.body), "jeanne") {
					t.Fatalf("public prison list: %s", res.body)
				}
			}
			if res := w.env.do("GET", at(atigip.KindPrison, pr.ID), justice, nil); !strings.Contains(string(res.body), "jeanne.martin") {
				t.Fatalf("justice prison sheet lacks the named referent: %s", res.body)
			}
		})
	}
}

// TestFlowMessagesPerimeter reproduces observation 4 of issue 10: the
// DSPIP of the 69 read the raw FFE11 bodies of every département.
func TestFlowMessagesPerimeter(t *testing.T) {
	for name, open := range realStores {
		t.Run(name, func(t *testing.T) {
			w := newDoorWorld(t, open(t))
			ffe11 := func(id, ref string, seq int, dep, pseudo string) string {
				return fmt.Sprintf(`{"message_id":%q,"type":"FFE11","case_ref":%q,"seq":%d,"ffe11":{"person":{"case_ref":"P-%s","pseudonym":%q,"birth_date":"1990-02-03","home_address":{"commune":"%s123","departement":%q}},"measure":{"hours_ordered":20,"sentence_date":"2025-01-01","departement":%q}}}`,
					id, ref, seq, ref, pseudo, dep, dep, dep)
			}
			send := func(body string, want int) {
				t.Helper()
				if res := w.env.machine("POST", "/api/flows/inbound", appiKey, body); res.status != want {
					t.Fatalf("inbound: %d, want %d: %s", res.status, want, res.body)
				}
			}
			send(ffe11("A-13", "M13", 1, "13", "TIG-1300"), 200)                     // accepted, in the 13
			send(ffe11("H-13", "M13B", 2, "13", "TIG-1301"), 202)                    // held, in the 13
			send(ffe11("R-13", "M13C", 1, "13", "x"), 409)                           // rejected (pseudonym), in the 13
			send(ffe11("H-69", "M69B", 2, "69", "TIG-6901"), 202)                    // held, in the 69
			send(`{"message_id":"R-?","type":"FFE11","case_ref":"M??","seq":1`, 400) // unreadable: no département
			national := w.env.token(atigip.Principal{Role: atigip.RoleDSPIP})
			list := func(tok string) []*atigip.FlowMessage {
				t.Helper()
				res := w.env.do("GET", "/api/flows/messages?status=rejected,held,accepted", tok, nil)
				wantStatus(t, res, 200)
				var ms []*atigip.FlowMessage
				res.json(t, &ms)
				return ms
			}
			for _, m := range list(w.dspip69) {
				if m.Departement != "69" {
					t.Fatalf("DSPIP of the 69 reads message %s of département %q: %s", m.MessageID, m.Departement, m.Body)
				}
			}
			all := list(national)
			if len(all) != 5 {
				t.Fatalf("national DSPIP reads %d messages, want 5", len(all))
			}
			for _, m := range all {
				if (m.Body == "") != (m.Status == atigip.FlowAccepted) {
					t.Fatalf("message %s (%s): body shown %v", m.MessageID, m.Status, m.Body != "")
				}
			}
			if n := len(list(w.dspip69)); n != 1 {
				t.Fatalf("DSPIP of the 69 reads %d messages, want its 1", n)
			}
		})
	}
}
