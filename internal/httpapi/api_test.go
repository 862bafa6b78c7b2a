package httpapi

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/gofiber/fiber/v2"
)

func TestBadInputsChangeNothing(t *testing.T) {
	store := newMemStore()
	env := newEnv(t, store)
	fx := newFixture(t, store)
	ref := env.token(atigip.Principal{Role: atigip.RoleReferent})
	cpipTok := env.token(atigip.Principal{Role: atigip.RoleCPIP})

	org := fx.fresh(atigip.KindOrganisation, 1).(*atigip.Organisation)
	org.SIRET = "73282932000075" // Luhn key wrong (…074 is right)
	measure := fx.fresh(atigip.KindMeasure, 1).(*atigip.Measure)
	measure.HoursOrdered = 10
	stale := *fx.org
	stale.Version = fx.org.Version + 5
	typed := `{"name": 12}`

	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
		field                     string // expected field error, if any
		detail                    string // expected substring of detail
	}{
		{"invalid SIRET", "POST", "/api/organisations", ref, org, 400, "siret", "invalide"},
		{"hours out of range", "POST", "/api/measures", cpipTok, measure, 400, "hours_ordered", ""},
		{"malformed JSON", "POST", "/api/organisations", ref, `{"name": "x",`, 400, "", "JSON mal formé"},
		{"syntax error", "POST", "/api/organisations", ref, `{"name" "x"}`, 400, "", "JSON mal formé"},
		{"trailing data", "POST", "/api/organisations", ref, `{"name":"x"} {}`, 400, "", "en trop"},
		{"unknown field", "POST", "/api/organisations", ref, `{"name":"x","kind":"commune","habilitation":{"status":"none"},"colour":"bleu"}`, 400, "colour", "Champ inconnu"},
		{"nested unknown field", "POST", "/api/organisations", ref, `{"name":"x","address":{"planet":"Mars"}}`, 400, "planet", ""},
		{"wrong type", "POST", "/api/organisations", ref, typed, 400, "name", "Type"},
		{"empty body", "POST", "/api/organisations", ref, "", 400, "", "vide"},
		{"oversized body", "POST", "/api/organisations", ref, `{"name":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "", "taille"},
		{"stale version", "PUT", "/api/organisations/" + strconv.FormatInt(fx.org.ID, 10), ref, &stale, 409, "", ""},
		{"missing version", "PUT", "/api/organisations/" + strconv.FormatInt(fx.org.ID, 10), ref, `{"name":"x","kind":"commune","habilitation":{"status":"none"}}`, 400, "version", ""},
		{"id mismatch", "PUT", "/api/organisations/" + strconv.FormatInt(fx.org.ID+1000, 10), ref, fx.org, 400, "id", ""},
		{"delete stale", "DELETE", "/api/organisations/" + strconv.FormatInt(fx.org.ID, 10) + "?version=99", ref, nil, 409, "", ""},
		{"delete without version", "DELETE", "/api/organisations/" + strconv.FormatInt(fx.org.ID, 10), ref, nil, 400, "version", ""},
		{"bad id", "GET", "/api/organisations/abc", ref, nil, 400, "id", ""},
		{"unknown id", "GET", "/api/organisations/999999", ref, nil, 404, "", ""},
		{"per_page over max", "GET", "/api/posts?per_page=201", "", nil, 400, "per_page", ""},
		{"unknown query parameter", "GET", "/api/posts?departemnt=69", "", nil, 400, "departemnt", ""},
		{"bad departement", "GET", "/api/posts?departement=690", "", nil, 400, "departement", ""},
		{"bad rome", "GET", "/api/posts?rome=Z9", "", nil, 400, "rome", ""},
		{"page and offset", "GET", "/api/posts?page=2&offset=3", "", nil, 400, "page", ""},
		{"negative offset", "GET", "/api/posts?offset=-1", "", nil, 400, "offset", ""},
		{"unknown route", "GET", "/api/nothing", "", nil, 404, "", ""},
		{"method not allowed", "PATCH", "/api/posts", ref, nil, 405, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := store.writes
			var res response
			if tc.status == 413 {
				// fasthttp refuses the body while reading it: app.Test
				// reports an error, a real connection gets the 413.
				res = env.refused(tc.method, tc.path, tc.token, tc.body.(string))
			} else {
				res = env.do(tc.method, tc.path, tc.token, tc.body)
			}
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			p := res.problem(t)
			if p.Status != tc.status || p.Title == "" || p.Detail == "" || p.Code == "" {
				t.Fatalf("incomplete problem %+v", p)
			}
			if tc.field != "" && !hasField(p, tc.field) {
				t.Fatalf("field %q not named in %+v", tc.field, p.Errors)
			}
			if tc.detail != "" && !strings.Contains(p.Detail+fieldMessages(p), tc.detail) {
				t.Fatalf("detail %q lacks %q", p.Detail, tc.detail)
			}
			if store.writes != before {
				t.Fatal("a bad request changed the store")
			}
		})
	}
}

func hasField(p ProblemDetails, f string) bool {
	for _, e := range p.Errors {
		if e.Field == f {
			return true
		}
	}
	return false
}

func fieldMessages(p ProblemDetails) string {
	var b strings.Builder
	for _, e := range p.Errors {
		b.WriteString(e.Message)
	}
	return b.String()
}

func TestCRUDRoundTrip(t *testing.T) {
	store := newMemStore()
	env := newEnv(t, store)
	fx := newFixture(t, store)
	tok := env.token(atigip.Principal{Role: atigip.RoleReferent})

	post := fx.creatable(t, store, atigip.KindPost, 5).(*atigip.Post)
	post.ID, post.Version = 777, 9 // ignored on create
	res := env.do("POST", "/api/posts", tok, post)
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	var created atigip.Post
	res.json(t, &created)
	if created.ID == 777 || created.Version != 1 || res.header.Get("Location") != "/api/posts/"+strconv.FormatInt(created.ID, 10) {
		t.Fatalf("created %+v, location %q", created.Meta, res.header.Get("Location"))
	}
	created.Title = "Accueil et orientation"
	res = env.do("PUT", "/api/posts/"+strconv.FormatInt(created.ID, 10), tok, created)
	var updated atigip.Post
	res.json(t, &updated)
	if res.status != 200 || updated.Version != 2 || updated.Title != "Accueil et orientation" {
		t.Fatalf("update: %d %s", res.status, res.body)
	}
	// The first writer's version is now stale.
	if res := env.do("PUT", "/api/posts/"+strconv.FormatInt(created.ID, 10), tok, created); res.status != 409 {
		t.Fatalf("stale update: %d", res.status)
	}
	res = env.do("DELETE", "/api/posts/"+strconv.FormatInt(created.ID, 10)+"?version=2", tok, nil)
	if res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	if res := env.do("GET", "/api/posts/"+strconv.FormatInt(created.ID, 10), tok, nil); res.status != 404 {
		t.Fatalf("get deleted: %d", res.status)
	}
}

func TestListFiltersAndPagination(t *testing.T) {
	store := newMemStore()
	env := newEnv(t, store)
	fx := newFixture(t, store)
	for i := 1; i <= 30; i++ {
		p := sample[*atigip.Post](atigip.KindPost, i)
		p.OrganisationID = fx.org.ID
		seed(t, store, p)
	}
	justice := env.token(atigip.Principal{Role: atigip.RoleMagistrate})
	list := func(q, tok string) ListPage[map[string]any] {
		t.Helper()
		res := env.do("GET", "/api/posts"+q, tok, nil)
		if res.status != 200 {
			t.Fatalf("%s: %d %s", q, res.status, res.body)
		}
		var lp ListPage[map[string]any]
		res.json(t, &lp)
		return lp
	}
	all := list("?per_page=200", justice)
	if all.Total != 31 || len(all.Items) != 31 {
		t.Fatalf("total %d items %d", all.Total, len(all.Items))
	}
	lyon := list("?departement=69&per_page=200", justice)
	if lyon.Total == 0 || lyon.Total >= all.Total {
		t.Fatalf("departement filter total %d of %d", lyon.Total, all.Total)
	}
	for _, it := range lyon.Items {
		if it["address"].(map[string]any)["departement"] != "69" {
			t.Fatalf("item outside 69: %v", it["address"])
		}
	}
	domain := list("?rome=a&per_page=200", justice)
	for _, it := range domain.Items {
		ok := false
		for _, c := range it["rome_codes"].([]any) {
			ok = ok || strings.HasPrefix(c.(string), "A")
		}
		if !ok {
			t.Fatalf("rome filter let through %v", it["rome_codes"])
		}
	}
	st := list("?status=open,full&per_page=200", justice)
	for _, it := range st.Items {
		if s := it["status"]; s != "open" && s != "full" {
			t.Fatalf("status filter let through %v", s)
		}
	}
	// Public audience: only the posts the public map lists, with its fields.
	pub := list("?per_page=200", "")
	if pub.Total >= all.Total || pub.Total == 0 {
		t.Fatalf("public total %d of %d", pub.Total, all.Total)
	}
	for _, it := range pub.Items {
		po, err := atigip.Of[*atigip.Post](store).Get(t.Context(), int64(it["id"].(float64)))
		if err != nil || !po.Listed(fx.org, atigip.AudiencePublic) {
			t.Fatalf("public list shows post %v (%v)", it["id"], err)
		}
		for _, k := range []string{"places", "places_taken", "status", "visibility"} {
			if _, ok := it[k]; ok {
				t.Fatalf("public list shows %s: %v", k, it)
			}
		}
	}
	// Page, offset and keyset agree.
	p2 := list("?page=2&per_page=10", justice)
	o2 := list("?offset=10&limit=10", justice)
	if p2.Items[0]["id"] != all.Items[10]["id"] || o2.Items[0]["id"] != all.Items[10]["id"] || p2.Page != 2 || p2.Total != 31 {
		t.Fatalf("page 2 starts at %v, offset at %v, want %v", p2.Items[0]["id"], o2.Items[0]["id"], all.Items[10]["id"])
	}
	first := list("?per_page=10", justice)
	next := list("?per_page=10&after="+strconv.FormatInt(first.NextAfter, 10), justice)
	if first.NextAfter == 0 || next.Items[0]["id"] != all.Items[10]["id"] {
		t.Fatalf("keyset: next_after %d, next starts at %v", first.NextAfter, next.Items[0]["id"])
	}
}

func TestRowRules(t *testing.T) {
	for _, signIn := range signIns {
		t.Run(signIn, func(t *testing.T) { testRowRules(t, signIn) })
	}
}

func testRowRules(t *testing.T, signIn string) {
	store := newMemStore()
	env := newEnvSignIn(t, signIn, store)
	fx := newFixture(t, store)
	other := seed(t, store, fx.fresh(atigip.KindOrganisation, 3).(*atigip.Organisation))
	justicePost := fx.fresh(atigip.KindPost, 4).(*atigip.Post)
	justicePost.Visibility = atigip.VisibilityJustice
	seed(t, store, justicePost)
	otherPerson := seed(t, store, fx.fresh(atigip.KindPerson, 4).(*atigip.Person))
	otherMeasure := fx.fresh(atigip.KindMeasure, 4).(*atigip.Measure)
	otherMeasure.PersonID = otherPerson.ID
	seed(t, store, otherMeasure)
	otherApp := fx.fresh(atigip.KindApplication, 4).(*atigip.Application)
	otherApp.PersonID = otherPerson.ID
	seed(t, store, otherApp)

	id := func(e atigip.Entity) string { return strconv.FormatInt(e.GetMeta().ID, 10) }
	hostTok := env.token(atigip.Principal{Role: atigip.RoleHost, OrganisationID: fx.org.ID})
	personTok := env.token(atigip.Principal{Role: atigip.RolePerson, PersonID: fx.person.ID})
	bizTok := env.token(atigip.Principal{Role: atigip.RoleBusiness, SIRET: atigip.NewSIRET("73282932", "0001")})
	magTok := env.token(atigip.Principal{Role: atigip.RoleMagistrate})
	staffTok := env.token(atigip.Principal{Role: atigip.RolePrisonStaff, PrisonID: fx.prison.ID + 100})

	t.Run("host cannot post for another organisation", func(t *testing.T) {
		p := fx.creatable(t, store, atigip.KindPost, 6).(*atigip.Post)
		p.OrganisationID = other.ID
		if res := env.do("POST", "/api/posts", hostTok, p); res.status != 403 {
			t.Fatalf("status %d", res.status)
		}
		p.OrganisationID = fx.org.ID
		if res := env.do("POST", "/api/posts", hostTok, p); res.status != 201 {
			t.Fatalf("own post: status %d %s", res.status, res.body)
		}
	})
	t.Run("justice post hidden from the public", func(t *testing.T) {
		if res := env.do("GET", "/api/posts/"+id(justicePost), bizTok, nil); res.status != 404 {
			t.Fatalf("business: %d", res.status)
		}
		if res := env.do("GET", "/api/posts/"+id(justicePost), magTok, nil); res.status != 200 {
			t.Fatalf("magistrate: %d", res.status)
		}
	})
	t.Run("contacts for justice only", func(t *testing.T) {
		for tok, want := range map[string]bool{"": false, bizTok: false, magTok: true, hostTok: true} {
			res := env.do("GET", "/api/organisations/"+id(fx.org), tok, nil)
			if got := strings.Contains(string(res.body), "tutrice@example.org"); got != want {
				t.Errorf("contacts shown = %v, want %v", got, want)
			}
			res = env.do("GET", "/api/organisations", tok, nil)
			if got := strings.Contains(string(res.body), "tutrice@example.org"); got != want && tok != hostTok {
				t.Errorf("list: contacts shown = %v, want %v", got, want)
			}
		}
	})
	t.Run("person reads own records only", func(t *testing.T) {
		for _, c := range []struct {
			path string
			want int
		}{
			{"/api/people/" + id(fx.person), 200}, {"/api/people/" + id(otherPerson), 404},
			{"/api/measures/" + id(fx.measure), 200}, {"/api/measures/" + id(otherMeasure), 404},
			{"/api/applications/" + id(fx.app), 200}, {"/api/applications/" + id(otherApp), 404},
		} {
			if res := env.do("GET", c.path, personTok, nil); res.status != c.want {
				t.Errorf("%s: %d, want %d", c.path, res.status, c.want)
			}
		}
		for _, path := range []string{"/api/people", "/api/measures", "/api/applications", "/api/measures?person_id=" + id(otherPerson), "/api/applications?person_id=" + id(otherPerson)} {
			res := env.do("GET", path, personTok, nil)
			var lp ListPage[map[string]any]
			res.json(t, &lp)
			for _, it := range lp.Items {
				pid := it["person_id"]
				if pid == nil {
					pid = it["id"]
				}
				if int64(pid.(float64)) != fx.person.ID {
					t.Errorf("%s shows another person's record %v", path, it)
				}
			}
			if strings.HasSuffix(path, "s") && lp.Total != 1 {
				t.Errorf("%s total %d, want 1", path, lp.Total)
			}
		}
		app := fx.fresh(atigip.KindApplication, 7).(*atigip.Application)
		app.PersonID = otherPerson.ID
		if res := env.do("POST", "/api/applications", personTok, app); res.status != 403 {
			t.Errorf("apply for another: %d", res.status)
		}
	})
	t.Run("prison staff of another establishment", func(t *testing.T) {
		if res := env.do("GET", "/api/people/"+id(fx.person), staffTok, nil); res.status != 404 {
			t.Errorf("read detainee of another prison: %d", res.status)
		}
		cur, _ := store.Entities(atigip.KindFloorSpace).Get(t.Context(), fx.floor.ID)
		if res := env.do("PUT", "/api/floor-spaces/"+id(fx.floor), staffTok, cur); res.status != 403 {
			t.Errorf("edit floor space of another prison: %d", res.status)
		}
	})
}

func TestAuditAndLogsFreeOfPersonalData(t *testing.T) {
	store := newMemStore()
	env := newEnv(t, store)
	fx := newFixture(t, store)
	tok := env.token(atigip.Principal{Subject: "cpip:42", Role: atigip.RoleCPIP})
	res := env.do("GET", "/api/people/"+strconv.FormatInt(fx.person.ID, 10)+"?", tok, nil)
	if res.status != 200 || !strings.Contains(string(res.body), fx.person.Pseudonym) || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("read person: %d %s", res.status, res.body)
	}
	env.do("GET", "/api/measures?person_id="+strconv.FormatInt(fx.person.ID, 10), tok, nil)

	audits, _ := store.Audits(t.Context(), atigip.AuditFilter{})
	if len(audits) != 2 {
		t.Fatalf("audits %+v", audits)
	}
	list, read := audits[0], audits[1] // newest first
	if read.Action != "read" || read.Kind != atigip.KindPerson || read.EntityID != fx.person.ID || read.Subject != "cpip:42" || read.Role != atigip.RoleCPIP {
		t.Fatalf("read audit %+v", read)
	}
	if list.Action != "list" || list.Kind != atigip.KindMeasure || list.Count != 1 {
		t.Fatalf("list audit %+v", list)
	}

	logs := env.logs.String()
	if !strings.Contains(logs, `"route":"/api/people/:id"`) || !strings.Contains(logs, `"status":200`) || !strings.Contains(logs, `"request_id"`) {
		t.Fatalf("log line lacks route/status/request id: %s", logs)
	}
	for _, secret := range []string{fx.person.Pseudonym, fx.person.CaseRef, fx.person.HomeAddress.Commune,
		// The raw path would carry the person's id; only the route pattern may appear.
		"person_id=", "/api/people/" + strconv.FormatInt(fx.person.ID, 10), tok, "cpip:42"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q: %s", secret, logs)
		}
	}
	// The structured log line is valid JSON with only the expected keys.
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		for k := range m {
			switch k {
			case "time", "level", "msg", "method", "route", "status", "duration_ms", "request_id", "role":
			default:
				t.Errorf("unexpected log key %q", k)
			}
		}
	}
}

func TestAuthentication(t *testing.T) {
	env := newEnv(t, newMemStore())
	cpip := env.token(atigip.Principal{Role: atigip.RoleCPIP})
	cases := []struct {
		name   string
		header string
		cookie string
		path   string
		want   int
	}{
		{"anonymous public route", "", "", "/api/posts", 200},
		{"anonymous sensitive route", "", "", "/api/people", 401},
		{"bad bearer on public route", "Bearer abc", "", "/api/posts", 401},
		{"bad cookie is anonymous", "", "abc", "/api/posts", 200},
		{"good cookie", "", cpip, "/api/people", 200},
		{"good bearer", "Bearer " + cpip, "", "/api/people", 200},
		{"other scheme ignored", "Basic Zm9vOmJhcg==", "", "/api/people", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tc.path, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tc.cookie})
			}
			res := env.send(req)
			if res.status != tc.want {
				t.Fatalf("status %d, want %d: %s", res.status, tc.want, res.body)
			}
			if tc.want == 401 && res.problem(t).Code != atigip.EUNAUTHORIZED {
				t.Fatal("not an unauthorized problem")
			}
		})
	}
	// A token in a cookie travels with requests another site makes the
	// browser send: its writes need the CSRF token, a header's do not.
	t.Run("cookie write without CSRF token", func(t *testing.T) {
		post := func(cookie bool) response {
			req := httptest.NewRequest("POST", "/api/organisations", strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			if cookie {
				req.AddCookie(&http.Cookie{Name: SessionCookie, Value: cpip})
			} else {
				req.Header.Set("Authorization", "Bearer "+cpip)
			}
			return env.send(req)
		}
		if res := post(true); res.status != 403 || !strings.Contains(res.problem(t).Detail, "jeton de sécurité") {
			t.Fatalf("cookie write: %d %s, want the CSRF refusal", res.status, res.body)
		}
		if res := post(false); strings.Contains(string(res.body), "jeton de sécurité") {
			t.Fatalf("bearer write refused for CSRF: %d %s", res.status, res.body)
		}
	})
}

func TestHealthMetricsRecoverCompression(t *testing.T) {
	store := newMemStore()
	boom := ModuleFunc(func(s *Server) []Route {
		return []Route{{Method: "GET", Path: "/api/boom", Summary: "panique", Handler: func(*fiber.Ctx) error { panic("boom") }}}
	})
	env := newEnv(t, store, func(o *Options) { o.Modules = []Module{boom} })
	fx := newFixture(t, store)

	if res := env.do("GET", "/healthz", "", nil); res.status != 200 || res.header.Get(HeaderRequestID) == "" {
		t.Fatalf("healthz %d, request id %q", res.status, res.header.Get(HeaderRequestID))
	}
	if res := env.do("GET", "/readyz", "", nil); res.status != 200 {
		t.Fatalf("readyz %d", res.status)
	}
	store.pingErr = errors.New("disk gone")
	if res := env.do("GET", "/readyz", "", nil); res.status != 503 || res.problem(t).Code != atigip.EUNAVAILABLE {
		t.Fatalf("readyz down %d", res.status)
	}
	store.pingErr = nil

	res := env.do("GET", "/api/boom", "", nil)
	if res.status != 500 || res.problem(t).Detail != "Erreur interne du serveur." {
		t.Fatalf("panic: %d %s", res.status, res.body)
	}

	env.do("GET", "/api/posts/"+strconv.FormatInt(fx.post.ID, 10), "", nil)
	env.do("GET", "/api/posts/999999", "", nil)
	metrics := string(env.do("GET", "/metrics", "", nil).body)
	for _, want := range []string{
		`atigip_http_requests_total{method="GET",route="/api/posts/:id",status="200"} 1`,
		`atigip_http_requests_total{method="GET",route="/api/posts/:id",status="404"} 1`,
		`atigip_http_requests_total{method="GET",route="/api/boom",status="500"} 1`,
		`atigip_http_request_duration_seconds_count{method="GET",route="/readyz"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	req := httptest.NewRequest("GET", "/openapi.json", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	r, err := env.srv.App().Test(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("not compressed: %v", r.Header)
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	if !json.Valid(b) {
		t.Fatal("compressed OpenAPI is not JSON")
	}
}

func TestDevSignin(t *testing.T) {
	env := newEnv(t, newMemStore())
	page := env.do("GET", "/dev/signin", "", nil)
	if page.status != 200 || !strings.Contains(string(page.body), "Environnement de démonstration") {
		t.Fatalf("page %d", page.status)
	}
	req := httptest.NewRequest("POST", "/dev/signin", strings.NewReader("role=cpip&departement=69"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res := env.send(req)
	// The browser gets a server session (not the token, shown for curl).
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == sidCookie {
			cookie = c
		}
		if c.Name == SessionCookie && c.Value != "" {
			t.Fatalf("the token is set as a cookie: %v", c)
		}
	}
	if res.status != 200 || cookie == nil || !cookie.HttpOnly || strings.Contains(string(res.body), cookie.Value) ||
		!strings.Contains(string(res.body), "Jeton (valable") {
		t.Fatalf("signin %d cookie %v", res.status, cookie)
	}
	req = httptest.NewRequest("GET", "/api/people", nil)
	req.AddCookie(cookie)
	if res := env.send(req); res.status != 200 {
		t.Fatalf("cookie session refused: %d", res.status)
	}
	// Its writes are under the CSRF check, signing out included.
	csrf := &http.Cookie{Name: csrfCookie, Value: strings.Repeat("c", 43)}
	signout := func(form string) response {
		req := httptest.NewRequest("POST", "/dev/signout", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		req.AddCookie(csrf)
		return env.send(req)
	}
	if res := signout(""); res.status != 403 {
		t.Fatalf("sign-out without the CSRF token: %d, want 403", res.status)
	}
	if res := signout("csrf=" + csrf.Value); res.status != 303 || !strings.Contains(strings.Join(res.header.Values("Set-Cookie"), ";"), sidCookie+"=;") {
		t.Fatalf("sign-out: %d %v", res.status, res.header)
	}
	req = httptest.NewRequest("GET", "/api/people", nil)
	req.AddCookie(cookie)
	if res := env.send(req); res.status != 401 {
		t.Fatalf("signed-out session: %d, want 401", res.status)
	}
	bad := httptest.NewRequest("POST", "/dev/signin", strings.NewReader("role=root"))
	bad.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res := env.send(bad); res.status != 400 {
		t.Fatalf("unknown role: %d", res.status)
	}
	out := env.do("POST", "/dev/signout", "", nil)
	if out.status != 303 || !strings.Contains(strings.Join(out.header.Values("Set-Cookie"), ";"), SessionCookie+"=;") {
		t.Fatalf("signout %d %v", out.status, out.header)
	}

	prod := newEnv(t, newMemStore(), func(o *Options) { o.Dev = false })
	for _, m := range []string{"GET", "POST"} {
		if res := prod.do(m, "/dev/signin", "", nil); res.status != 404 {
			t.Fatalf("production %s /dev/signin: %d", m, res.status)
		}
	}
}

func TestServeAndGracefulShutdown(t *testing.T) {
	store := newMemStore()
	started := make(chan struct{})
	slow := ModuleFunc(func(s *Server) []Route {
		return []Route{{Method: "GET", Path: "/api/slow", Summary: "lent", Handler: func(c *fiber.Ctx) error {
			close(started)
			time.Sleep(300 * time.Millisecond)
			return c.SendString("fini")
		}}}
	})
	env := newEnv(t, store, func(o *Options) { o.Modules = []Module{slow} })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.srv.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String()
	got := make(chan string, 1)
	go func() {
		res, err := http.Get(url + "/api/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		got <- string(b)
	}()
	<-started // the slow request is in flight
	cancel()
	if body := <-got; body != "fini" {
		t.Fatalf("in-flight request cut: %q", body)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

func TestNewErrors(t *testing.T) {
	dup := ModuleFunc(func(s *Server) []Route {
		return []Route{{Method: "GET", Path: "/healthz", Handler: func(*fiber.Ctx) error { return nil }}}
	})
	badRole := ModuleFunc(func(s *Server) []Route {
		return []Route{{Method: "GET", Path: "/x", Roles: []atigip.Role{"root"}, Handler: func(*fiber.Ctx) error { return nil }}}
	})
	env := newEnv(t, newMemStore())
	for name, opts := range map[string]Options{
		"no store":        {Auth: env.dev},
		"no auth":         {Store: newMemStore()},
		"duplicate route": {Store: newMemStore(), Auth: env.dev, Modules: []Module{dup}},
		"unknown role":    {Store: newMemStore(), Auth: env.dev, Modules: []Module{badRole}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(opts); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// scanCounter counts the streamed scans a store serves, per kind.
type scanCounter struct {
	*memStore
	scans map[atigip.Kind]int
}

func (s *scanCounter) Entities(k atigip.Kind) atigip.Entities {
	return countedEntities{s.memStore.Entities(k), s, k}
}

type countedEntities struct {
	atigip.Entities
	s *scanCounter
	k atigip.Kind
}

func (c countedEntities) Scan(ctx context.Context, f atigip.ListFilter, fn func(atigip.Entity) error) error {
	c.s.scans[c.k]++
	return c.Entities.Scan(ctx, f, fn)
}

// TestApplicationsByPersonUseTheIndex checks that a person's applications
// (keyed by offer) are listed through the store's owner filter, one page
// at a time, never by scanning every application.
func TestApplicationsByPersonUseTheIndex(t *testing.T) {
	store := &scanCounter{memStore: newMemStore(), scans: map[atigip.Kind]int{}}
	env := newEnv(t, store)
	fx := newFixture(t, store)
	other := seed(t, store, fx.fresh(atigip.KindPerson, 5).(*atigip.Person))
	for i := range 6 {
		a := fx.fresh(atigip.KindApplication, i).(*atigip.Application)
		if i%2 == 0 {
			a.PersonID = other.ID
		}
		seed(t, store, a)
	}
	for _, tc := range []struct {
		tok, query string
		want       int
	}{
		{env.token(atigip.Principal{Role: atigip.RoleCPIP}), "?person_id=" + strconv.FormatInt(other.ID, 10), 3},
		{env.token(atigip.Principal{Role: atigip.RolePrisonStaff}), "?per_page=2&person_id=" + strconv.FormatInt(fx.person.ID, 10), 4},
		{env.token(atigip.Principal{Role: atigip.RolePerson, PersonID: other.ID}), "", 3},
	} {
		res := env.do("GET", "/api/applications"+tc.query, tc.tok, nil)
		var lp ListPage[atigip.Application]
		res.json(t, &lp)
		if res.status != 200 || lp.Total != tc.want {
			t.Fatalf("%s: %d, total %d, want %d", tc.query, res.status, lp.Total, tc.want)
		}
		for _, a := range lp.Items {
			if a.PersonID != other.ID && a.PersonID != fx.person.ID || (tc.want == 3 && a.PersonID != other.ID) {
				t.Fatalf("%s lists person %d", tc.query, a.PersonID)
			}
		}
	}
	if n := store.scans[atigip.KindApplication]; n != 0 {
		t.Fatalf("%d scans of every application", n)
	}
}
