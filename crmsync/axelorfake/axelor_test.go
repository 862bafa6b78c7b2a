package axelorfake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Each test here pins one behaviour of Axelor Open Platform 8.2.2 and
// names the class it was read from (github.com/axelor/axelor-open-platform,
// tag v8.2.2). They check the fake, so that the client is tested against
// Axelor's behaviour and not against its own assumptions.

func newTestServer(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s := New(opts)
	s.Seed(60, 5)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

// loginRaw posts the XHR login and returns the raw answer.
func loginRaw(t *testing.T, srv *httptest.Server) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(NewLoginRequest(srv.URL, "admin", "admin"))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// send posts body with the session cookies of login and returns status,
// headers and body.
func send(t *testing.T, srv *httptest.Server, login *http.Response, method, path, body string, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, bytes.NewBufferString(body))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range login.Cookies() {
		req.AddCookie(c)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// AxelorCallbackLogic#redirectToOriginallyRequestedUrl: an XHR login
// answers new OkAction("{}"); pac4j's JEEHttpActionAdapter writes the body
// and sets no Content-Type. The CSRF cookie and X-CSRF-Token header come
// from AxelorCsrfMatcher#addResponseCookieAndHeader.
func TestLoginAnswerHasNoContentType(t *testing.T) {
	_, srv := newTestServer(t, Options{})
	resp := loginRaw(t, srv)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != "{}" {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	if ct, set := resp.Header["Content-Type"]; set {
		t.Fatalf("login answer labelled %q", ct)
	}
	if resp.Header.Get("X-CSRF-Token") == "" {
		t.Fatal("no X-CSRF-Token header")
	}
	var jsession, csrf bool
	for _, c := range resp.Cookies() {
		jsession = jsession || (c.Name == "JSESSIONID" && c.HttpOnly)
		csrf = csrf || (c.Name == "CSRF-TOKEN" && !c.HttpOnly)
	}
	if !jsession || !csrf {
		t.Fatalf("cookies %v", resp.Cookies())
	}
}

// AxelorLogoutLogic (pac4j DefaultLogoutLogic): GET /logout destroys the
// session and redirects to the logout URL; the old cookie is then refused
// like any missing session (AxelorAjaxRequestResolver: 401 to XHR).
func TestLogoutDestroysSession(t *testing.T) {
	s, srv := newTestServer(t, Options{})
	login := loginRaw(t, srv)
	login.Body.Close()
	code, hdr, _ := send(t, srv, login, http.MethodGet, "/logout", "", nil)
	if code != http.StatusFound || hdr.Get("Location") == "" {
		t.Fatalf("logout: %d %v", code, hdr)
	}
	code, _, _ = send(t, srv, login, http.MethodPost, "/ws/rest/"+mPartner+"/search", `{"limit":1,"data":{}}`, nil)
	if code != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", code)
	}
	if st := s.Stats(); st.Logouts != 1 || st.Sessions != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Resource#fetch answers toMap(entity, fields) = _toMap(bean,
// unflatten(names), false, 0): dotted names are nested maps under compact
// references ({id, $version, name field, code}), never the flat keys of a
// search row; "related" is merged in (Resource#mergeRelated), and
// RestService#fetch adds $attachments.
func TestFetchAnswersNestedMaps(t *testing.T) {
	s, srv := newTestServer(t, Options{})
	var p PartnerView
	for _, v := range s.Partners() {
		if !v.IsContact && v.AddressID != 0 && v.Email != "" && v.CategoryCode != "" {
			p = v
			break
		}
	}
	login := loginRaw(t, srv)
	login.Body.Close()
	body := `{"fields":["name","partnerCategory.code","emailAddress.address","mainAddress.zip","mainAddress.city.name","mainAddress.latit"],
		"related":{"mainAddress":["addressL4"]}}`
	_, _, b := send(t, srv, login, http.MethodPost, "/ws/rest/"+mPartner+"/"+itoa(p.ID)+"/fetch", body, nil)
	var m struct {
		Status int              `json:"status"`
		Data   []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Status != 0 || len(m.Data) != 1 {
		t.Fatalf("%s", b)
	}
	rec := m.Data[0]
	for k := range rec {
		if strings.Contains(k, ".") {
			t.Fatalf("flat key %q in a fetch answer: %s", k, b)
		}
	}
	addr, _ := rec["mainAddress"].(map[string]any)
	city, _ := addr["city"].(map[string]any)
	cat, _ := rec["partnerCategory"].(map[string]any)
	email, _ := rec["emailAddress"].(map[string]any)
	switch {
	case addr == nil || addr["zip"] != p.Zip || addr["$version"] == nil || addr["addressL4"] != p.Street:
		t.Fatalf("mainAddress %v", addr)
	case city == nil || city["name"] != p.City || city["fullName"] == nil:
		t.Fatalf("city %v", city)
	case cat == nil || cat["code"] != p.CategoryCode || cat["name"] == nil:
		t.Fatalf("partnerCategory %v", cat)
	case email == nil || email["address"] != p.Email:
		t.Fatalf("emailAddress %v", email)
	case rec["version"] == nil || rec["$attachments"] == nil || rec["name"] != p.Name:
		t.Fatalf("root %v", rec)
	}
	if lat, ok := addr["latit"].(string); p.Lat != nil && (!ok || !strings.HasSuffix(lat, "0")) {
		t.Fatalf("latit %v: a BigDecimal is a string (ObjectMapperProvider.DecimalSerializer)", addr["latit"])
	}
}

// Query.Selector#fetch (search with fields): dotted scalars are flat keys,
// a many-to-one is {id, $version, <nameField>} only.
func TestSearchRowsAreFlat(t *testing.T) {
	_, srv := newTestServer(t, Options{})
	login := loginRaw(t, srv)
	login.Body.Close()
	_, _, b := send(t, srv, login, http.MethodPost, "/ws/rest/"+mPartner+"/search",
		`{"limit":5,"fields":["mainAddress","mainAddress.zip","partnerCategory"],"data":{"operator":"and","criteria":[{"fieldName":"isContact","operator":"=","value":false}]}}`, nil)
	var m struct {
		Data []map[string]any `json:"data"`
	}
	_ = json.Unmarshal(b, &m)
	if len(m.Data) == 0 {
		t.Fatalf("%s", b)
	}
	for _, r := range m.Data {
		if _, ok := r["mainAddress.zip"]; !ok {
			t.Fatalf("no flat key: %v", r)
		}
		if c, ok := r["partnerCategory"].(map[string]any); ok {
			if _, hasCode := c["code"]; hasCode || c["name"] == nil || c["$version"] == nil {
				t.Fatalf("selector reference %v", c)
			}
		}
	}
}

// Response / ResponseInterceptor#onSQLException: a database error is an
// HTTP 200 with status -1 and a report object in data, here the default
// "SQL error" of an unmapped SQL state (a transient failure).
func TestStatusFailureInHTTP200(t *testing.T) {
	s, srv := newTestServer(t, Options{})
	login := loginRaw(t, srv)
	login.Body.Close()
	s.InjectNext(FaultStatusFailure)
	code, hdr, b := send(t, srv, login, http.MethodPost, "/ws/rest/"+mPartner+"/search", `{"limit":1,"data":{}}`, nil)
	var m struct {
		Status int            `json:"status"`
		Data   map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &m); err != nil || code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %v %s", code, hdr, b)
	}
	if m.Status != -1 || m.Data["title"] != "SQL error" || m.Data["message"] == nil {
		t.Fatalf("%s", b)
	}
	// the next request is served normally
	_, _, b = send(t, srv, login, http.MethodPost, "/ws/rest/"+mPartner+"/search", `{"limit":1,"data":{}}`, nil)
	if !bytes.Contains(b, []byte(`"status":0`)) {
		t.Fatalf("%s", b)
	}
}

// AxelorCsrfAuthorizer: no check for native clients (no Origin header);
// with an Origin, pac4j's CsrfAuthorizer refuses an unsafe method whose
// X-CSRF-Token differs from the session's token with a bare 403.
func TestCSRF(t *testing.T) {
	s, srv := newTestServer(t, Options{})
	login := loginRaw(t, srv)
	login.Body.Close()
	tok := login.Header.Get("X-CSRF-Token")
	search := "/ws/rest/" + mPartner + "/search"
	body := `{"limit":1,"data":{}}`
	for _, tt := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"native client, no token", nil, 200},
		{"origin without token", map[string]string{"Origin": "https://erp.example.fr"}, 403},
		{"origin, wrong token", map[string]string{"Origin": "https://erp.example.fr", "X-CSRF-Token": "x"}, 403},
		{"origin, session token", map[string]string{"Origin": "https://erp.example.fr", "X-CSRF-Token": tok}, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, _ := send(t, srv, login, http.MethodPost, search, body, tt.hdr); code != tt.want {
				t.Fatalf("%d, want %d", code, tt.want)
			}
		})
	}
	t.Run("injected refusal", func(t *testing.T) {
		s.InjectNext(FaultCSRF)
		if code, _, _ := send(t, srv, login, http.MethodPost, search, body, nil); code != 403 {
			t.Fatalf("%d", code)
		}
	})
}

// AuditListener / AuditUpdateListener stamp createdOn and updatedOn with
// the server's LocalDateTime.now(), serialised in UTC by
// ObjectMapperProvider.LocalDateTimeSerializer: the CRM's clock, not the
// caller's. A record never updated has updatedOn null.
func TestTimestampsComeFromTheServerClock(t *testing.T) {
	crmNow := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
	s, srv := newTestServer(t, Options{Now: func() time.Time { return crmNow }})
	login := loginRaw(t, srv)
	login.Body.Close()
	p := s.Partners()[0]
	_, _, b := send(t, srv, login, http.MethodPost, "/ws/rest/"+mPartner+"/"+itoa(p.ID),
		`{"data":{"version":`+itoa(p.Version)+`,"fixedPhone":"01 02 03 04 05"},"fields":["updatedOn"]}`, nil)
	if !bytes.Contains(b, []byte(`"updatedOn":"2026-05-01T09:30Z"`)) {
		t.Fatalf("%s", b)
	}
	_, _, b = send(t, srv, login, http.MethodPut, "/ws/rest/"+mPartner, `{"data":{"name":"Association Z"}}`, nil)
	if !bytes.Contains(b, []byte(`"createdOn":"2026-05-01T09:30Z"`)) || !bytes.Contains(b, []byte(`"updatedOn":null`)) {
		t.Fatalf("%s", b)
	}
}

// JPA#_edit/checkVersion: a stale version with a change is an optimistic
// lock failure reported with entityId/entityName (ResponseException#toReport).
func TestVersionConflict(t *testing.T) {
	s, srv := newTestServer(t, Options{})
	login := loginRaw(t, srv)
	login.Body.Close()
	p := s.Partners()[0]
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Modify(p.ID, map[string]any{"fixedPhone": "05 00 00 00 00"}))
	_, _, b := send(t, srv, login, http.MethodPost, "/ws/rest/"+mPartner+"/"+itoa(p.ID),
		`{"data":{"version":`+itoa(p.Version)+`,"fixedPhone":"06 00 00 00 00"}}`, nil)
	if !bytes.Contains(b, []byte(`"title":"Concurrent updates error"`)) || !bytes.Contains(b, []byte(`"entityId":`+itoa(p.ID))) {
		t.Fatalf("%s", b)
	}
}

func itoa(i int64) string { b, _ := json.Marshal(i); return string(b) }

// Resource#getCriteria: a "_domain" (JPQL on self, named parameters from
// "_domainContext") is compiled first, a domain that does not compile is
// status -1 "Invalid domain: …", and it is AND-ed with the criteria
// (Criteria#createQuery). Resource#search pages by offset over it.
func TestDomain(t *testing.T) {
	s, srv := newTestServer(t, Options{})
	s.Seed(400, 6)
	login := loginRaw(t, srv)
	login.Body.Close()
	search := func(body string) map[string]any {
		_, _, b := send(t, srv, login, http.MethodPost, "/ws/rest/"+mPartner+"/search", body, nil)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s", b)
		}
		return m
	}
	want := 0
	for _, p := range s.Partners() {
		if !p.IsContact && !p.Archived && p.CategoryCode == "ASSOC" && p.ID > 10 {
			want++
		}
	}
	for _, tt := range []struct {
		name, data string
	}{
		{"literals", `"_domain":"self.isContact = false AND self.partnerCategory.code = 'ASSOC'"`},
		{"parameters", `"_domain":"self.isContact = :c AND self.partnerCategory.code IN :codes","_domainContext":{"c":false,"codes":["ASSOC"]}`},
		{"parentheses and not", `"_domain":"NOT (self.isContact = true OR self.partnerCategory.code <> 'ASSOC')"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := search(`{"limit":3,"offset":0,"fields":["id"],"data":{` + tt.data +
				`,"operator":"and","criteria":[{"fieldName":"id","operator":">","value":10}]}}`)
			if m["status"].(float64) != 0 || int(m["total"].(float64)) != want || want == 0 {
				t.Fatalf("total %v, want %d: %v", m["total"], want, m)
			}
			// offset paging over the same filter
			all := search(`{"limit":1000,"fields":["id"],"data":{` + tt.data + `,"operator":"and","criteria":[{"fieldName":"id","operator":">","value":10}]}}`)
			page2 := search(`{"limit":3,"offset":3,"fields":["id"],"data":{` + tt.data + `,"operator":"and","criteria":[{"fieldName":"id","operator":">","value":10}]}}`)
			rows, _ := all["data"].([]any)
			p2, _ := page2["data"].([]any)
			if len(rows) != want || len(p2) == 0 || p2[0].(map[string]any)["id"] != rows[3].(map[string]any)["id"] {
				t.Fatalf("offset 3: %v, all %v", p2, rows[:4])
			}
		})
	}
	t.Run("raw like is case-sensitive and unwrapped", func(t *testing.T) {
		m := search(`{"limit":5,"data":{"_domain":"self.name LIKE 'mairie'"}}`)
		if m["total"].(float64) != 0 {
			t.Fatalf("%v", m["total"])
		}
	})
	for _, bad := range []string{"self.noSuchField = 1", "self.name = ", "name = 'x'", "self.name = 'x", "self.isContact = :missing"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			m := search(`{"limit":5,"data":{"_domain":` + strconvQuote(bad) + `}}`)
			d, _ := m["data"].(map[string]any)
			if m["status"].(float64) != -1 || d["message"] != "Invalid domain: "+bad {
				t.Fatalf("%v", m)
			}
		})
	}
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }
