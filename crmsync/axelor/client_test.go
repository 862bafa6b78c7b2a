package axelor_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atigip/atigip360/crmsync/axelor"
	"github.com/atigip/atigip360/crmsync/axelorfake"
)

// testOptions keep retries fast: the fake's Retry-After of 1 s is capped
// at 20 ms here, which is the documented behaviour of RetryAfterMax.
func testOptions(url string) axelor.Options {
	return axelor.Options{
		BaseURL: url, Auth: axelor.SessionAuth("admin", "admin"),
		Timeout: 300 * time.Millisecond, RetryMax: 8,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond, RetryAfterMax: 20 * time.Millisecond,
		BreakerThreshold: 20, BreakerCooldown: 50 * time.Millisecond,
	}
}

func setup(t *testing.T, fo axelorfake.Options, n int, mod func(*axelor.Options)) (*axelorfake.Server, *httptest.Server, *axelor.Client) {
	t.Helper()
	fake := axelorfake.New(fo)
	fake.Seed(n, 42)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	o := testOptions(srv.URL)
	if mod != nil {
		mod(&o)
	}
	c, err := axelor.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return fake, srv, c
}

func firstCompany(t *testing.T, fake *axelorfake.Server) axelorfake.PartnerView {
	t.Helper()
	for _, p := range fake.Partners() {
		if !p.IsContact && !p.Archived && p.AddressID != 0 {
			return p
		}
	}
	t.Fatal("no company in the fake")
	return axelorfake.PartnerView{}
}

// Trap: top-level criteria are OR-ed unless an operator is sent.
func TestSearchCriteriaAreAnded(t *testing.T) {
	fake, _, c := setup(t, axelorfake.Options{}, 300, nil)
	ctx := context.Background()
	crit := axelor.And(axelor.Eq("isContact", false), axelor.Eq("partnerCategory.code", "ASSOC"))
	page, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 1000, Criteria: &crit,
		Fields: []string{"isContact", "partnerCategory.code"}})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, p := range fake.Partners() {
		if !p.IsContact && p.CategoryCode == "ASSOC" && !p.Archived {
			want++
		}
	}
	if int(page.Total) != want || len(page.Records) != want || want == 0 {
		t.Fatalf("total %d rows %d, want %d", page.Total, len(page.Records), want)
	}
	for _, r := range page.Records {
		if r.Bool("isContact") || r.String("partnerCategory.code") != "ASSOC" {
			t.Fatalf("row outside the AND: %v", r)
		}
	}
	// A leaf root is wrapped in an explicit "and" as well.
	leaf := axelor.Eq("partnerCategory.code", "ASSOC")
	page2, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 1000, Criteria: &leaf, Fields: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	if page2.Total < page.Total {
		t.Fatalf("leaf search %d < and search %d", page2.Total, page.Total)
	}
}

func rawSearch(t *testing.T, srv *httptest.Server, body string) map[string]any {
	t.Helper()
	jar := login(t, srv)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ws/rest/"+axelor.ModelPartner+"/search", strings.NewReader(body))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	for _, ck := range jar {
		req.AddCookie(ck)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func login(t *testing.T, srv *httptest.Server) []*http.Cookie {
	t.Helper()
	resp, err := http.DefaultClient.Do(axelorfake.NewLoginRequest(srv.URL, "admin", "admin"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login %d", resp.StatusCode)
	}
	return resp.Cookies()
}

func TestFakeOrsByDefault(t *testing.T) {
	fake, srv, _ := setup(t, axelorfake.Options{}, 300, nil)
	or := rawSearch(t, srv, `{"limit":1000,"fields":["id"],"data":{"criteria":[{"fieldName":"isContact","operator":"=","value":false},{"fieldName":"partnerCategory.code","operator":"=","value":"ASSOC"}]}}`)
	and := rawSearch(t, srv, `{"limit":1000,"fields":["id"],"data":{"operator":"and","criteria":[{"fieldName":"isContact","operator":"=","value":false},{"fieldName":"partnerCategory.code","operator":"=","value":"ASSOC"}]}}`)
	if or["total"].(float64) <= and["total"].(float64) {
		t.Fatalf("OR total %v should exceed AND total %v", or["total"], and["total"])
	}
	if fake.Len() != 300 {
		t.Fatal(fake.Len())
	}
}

// Trap: errors come inside HTTP 200 with status -1.
func TestStatusCheckedOnEvery200(t *testing.T) {
	_, _, c := setup(t, axelorfake.Options{}, 20, nil)
	ctx := context.Background()
	crit := axelor.Eq("noSuchField", "x")
	_, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 10, Criteria: &crit})
	if !errors.Is(err, axelor.ErrRemote) {
		t.Fatalf("unknown field: got %v, want ErrRemote", err)
	}
	var e *axelor.Error
	if !errors.As(err, &e) || e.HTTPStatus != 200 || e.Status != -1 || !strings.Contains(e.Message, "noSuchField") {
		t.Fatalf("error details: %+v", e)
	}
	_, err = c.Search(ctx, "com.example.NoSuchModel", axelor.SearchRequest{Limit: 10})
	if !errors.Is(err, axelor.ErrRemote) {
		t.Fatalf("unknown model: got %v", err)
	}
}

// Trap: a value of the wrong type makes the query fail while executing;
// the server swallows it and answers status 0 without total.
func TestSwallowedQueryError(t *testing.T) {
	_, _, c := setup(t, axelorfake.Options{}, 20, nil)
	for _, crit := range []axelor.Criterion{
		axelor.Eq("partnerTypeSelect", "abc"),
		axelor.Like("partnerTypeSelect", "1"),
		axelor.Ge("updatedOn", "hier"),
	} {
		t.Run(crit.Field+" "+crit.Op, func(t *testing.T) {
			_, err := c.Search(context.Background(), axelor.ModelPartner, axelor.SearchRequest{Limit: 10, Criteria: &crit})
			if !errors.Is(err, axelor.ErrSwallowedQuery) {
				t.Fatalf("got %v, want ErrSwallowedQuery", err)
			}
		})
	}
	// a genuine empty result keeps its total of 0 and is not an error
	crit := axelor.Eq("name", "aucune structure ne porte ce nom")
	p, err := c.Search(context.Background(), axelor.ModelPartner, axelor.SearchRequest{Limit: 10, Criteria: &crit})
	if err != nil || p.Total != 0 || len(p.Records) != 0 {
		t.Fatalf("empty search: %v %+v", err, p)
	}
}

func TestSearchRefusesLimitZero(t *testing.T) {
	_, _, c := setup(t, axelorfake.Options{}, 5, nil)
	_, err := c.Search(context.Background(), axelor.ModelPartner, axelor.SearchRequest{})
	if !errors.Is(err, axelor.ErrInvalid) {
		t.Fatalf("got %v", err)
	}
	bad := axelor.In("id")
	_, err = c.Search(context.Background(), axelor.ModelPartner, axelor.SearchRequest{Limit: 5, Criteria: &bad})
	if !errors.Is(err, axelor.ErrInvalid) {
		t.Fatalf("empty in: got %v", err)
	}
}

// Trap: archived rows are hidden only when data is sent; the client
// always sends data and includes them only on request.
func TestArchived(t *testing.T) {
	fake, _, c := setup(t, axelorfake.Options{}, 400, nil)
	archived := 0
	for _, p := range fake.Partners() {
		if p.Archived {
			archived++
		}
	}
	if archived == 0 {
		t.Fatal("seed has no archived partner")
	}
	ctx := context.Background()
	without, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	with, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 1, Archived: true})
	if err != nil {
		t.Fatal(err)
	}
	if int(without.Total) != fake.Len()-archived || int(with.Total) != fake.Len() {
		t.Fatalf("without %d with %d; partners %d archived %d", without.Total, with.Total, fake.Len(), archived)
	}
}

// Trap: a new record has updatedOn = null; "updatedOn >= t" misses it.
func TestChangedSinceSeesNewRecords(t *testing.T) {
	fake, _, c := setup(t, axelorfake.Options{}, 50, nil)
	since := time.Now().Add(-time.Second)
	id, err := fake.Create(map[string]any{"name": "Association Nouvelle", "partnerCategory": map[string]any{"id": 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	naive := axelor.Ge("updatedOn", axelor.FormatTime(since))
	p, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 100, Criteria: &naive, Fields: []string{"updatedOn"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Records {
		if r.ID() == id {
			t.Fatal("the fake should hide a new record from updatedOn >= t")
		}
	}
	crit := axelor.ChangedSince(since)
	p, err = c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 100, Criteria: &crit, Fields: []string{"updatedOn", "createdOn"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 1 || p.Records[0].ID() != id {
		t.Fatalf("ChangedSince found %d records", len(p.Records))
	}
	_, ok, err := p.Records[0].Time("updatedOn")
	if ok || err != nil {
		t.Fatalf("updatedOn of a new record: ok=%v err=%v", ok, err)
	}
	if _, ok, err := p.Records[0].Time("createdOn"); !ok || err != nil {
		t.Fatalf("createdOn: %v %v", ok, err)
	}
}

// Trap: timestamps without seconds ("…T10:15Z").
func TestMinuteOnlyTimestamps(t *testing.T) {
	at := time.Date(2026, 3, 4, 10, 15, 0, 0, time.UTC)
	fake := axelorfake.New(axelorfake.Options{Now: func() time.Time { return at }})
	id, err := fake.Create(map[string]any{"name": "Mairie de Lyon"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, _ := axelor.New(testOptions(srv.URL))
	rec, err := c.Read(context.Background(), axelor.ModelPartner, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.String("createdOn") != "2026-03-04T10:15Z" {
		t.Fatalf("fake sent %q", rec.String("createdOn"))
	}
	got, ok, err := rec.Time("createdOn")
	if err != nil || !ok || !got.Equal(at) {
		t.Fatalf("parsed %v %v %v", got, ok, err)
	}
	if _, err := time.Parse(time.RFC3339, "2026-03-04T10:15Z"); err == nil {
		t.Fatal("RFC3339 is expected to reject the minute-only form")
	}
}

func TestParseTimeForms(t *testing.T) {
	for _, s := range []string{"2026-03-04T10:15:30.123456Z", "2026-03-04T10:15:30.120Z", "2026-03-04T10:15:30Z", "2026-03-04T10:15Z", "2026-03-04T11:15+01:00"} {
		t.Run(s, func(t *testing.T) {
			got, err := axelor.ParseTime(s)
			if err != nil {
				t.Fatal(err)
			}
			if got.Truncate(time.Minute) != time.Date(2026, 3, 4, 10, 15, 0, 0, time.UTC) {
				t.Fatalf("got %v", got)
			}
		})
	}
	if _, err := axelor.ParseTime("04/03/2026"); !errors.Is(err, axelor.ErrProtocol) {
		t.Fatalf("bad form: %v", err)
	}
}

// Trap: decimals are strings at scale 18.
func TestDecimalsAsStrings(t *testing.T) {
	fake, _, c := setup(t, axelorfake.Options{}, 30, nil)
	p := firstCompany(t, fake)
	ctx := context.Background()
	a, err := c.Read(ctx, axelor.ModelAddress, p.AddressID)
	if err != nil {
		t.Fatal(err)
	}
	ver, _ := a.Version()
	rec, err := c.Update(ctx, axelor.ModelAddress, p.AddressID, ver, map[string]any{
		"latit": axelor.FormatDecimal(45.7597, 7), "longit": axelor.FormatDecimal(4.8422, 7)})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := rec["latit"].(string); s != "45.759700000000000000" {
		t.Fatalf("latit sent back as %#v", rec["latit"])
	}
	lat, ok, err := rec.Decimal("latit")
	if err != nil || !ok || lat != 45.7597 {
		t.Fatalf("Decimal: %v %v %v", lat, ok, err)
	}
	nullRec := axelor.Record{"latit": nil}
	if _, ok, _ := nullRec.Decimal("latit"); ok {
		t.Fatal("null decimal reported present")
	}
}

// Trap: an update without version is a reference and does nothing, yet
// answers status 0. The client always sends the version, and detects an
// update that had no effect.
func TestUpdateSendsVersionAndDetectsNoEffect(t *testing.T) {
	fake, srv, c := setup(t, axelorfake.Options{}, 30, nil)
	p := firstCompany(t, fake)
	ctx := context.Background()
	rec, err := c.Update(ctx, axelor.ModelPartner, p.ID, p.Version, map[string]any{"fixedPhone": "04 78 11 11 11"})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := fake.Partner(p.ID)
	if after.FixedPhone != "04 78 11 11 11" || after.Version != p.Version+1 {
		t.Fatalf("write not applied: %+v", after)
	}
	if v, _ := rec.Version(); v != after.Version {
		t.Fatalf("answer version %d", v)
	}
	// A proxy that drops "version" turns the update into a no-op.
	strip := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && !strings.HasSuffix(r.URL.Path, "/search") && strings.HasPrefix(r.URL.Path, "/ws/") {
			b, _ := io.ReadAll(r.Body)
			var m map[string]map[string]any
			_ = json.Unmarshal(b, &m)
			delete(m["data"], "version")
			b, _ = json.Marshal(m)
			r.Body = io.NopCloser(strings.NewReader(string(b)))
			r.ContentLength = int64(len(b))
		}
		srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer strip.Close()
	c2, _ := axelor.New(testOptions(strip.URL))
	_, err = c2.Update(ctx, axelor.ModelPartner, p.ID, after.Version, map[string]any{"fixedPhone": "04 78 22 22 22"})
	if !errors.Is(err, axelor.ErrNoEffect) {
		t.Fatalf("got %v, want ErrNoEffect", err)
	}
	if now, _ := fake.Partner(p.ID); now.FixedPhone != "04 78 11 11 11" {
		t.Fatal("the version-less update changed the record")
	}
}

func TestUpdateConflict(t *testing.T) {
	fake, _, c := setup(t, axelorfake.Options{}, 30, nil)
	p := firstCompany(t, fake)
	if err := fake.Modify(p.ID, map[string]any{"description": "édité par un référent"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Update(context.Background(), axelor.ModelPartner, p.ID, p.Version, map[string]any{"fixedPhone": "01 00 00 00 00"})
	var e *axelor.Error
	if !errors.As(err, &e) || e.Code != axelor.CodeConflict || e.EntityID != p.ID {
		t.Fatalf("got %v", err)
	}
	// same values with a stale version succeed without a bump: a replayed
	// write is harmless
	cur, _ := fake.Partner(p.ID)
	if _, err := c.Update(context.Background(), axelor.ModelPartner, p.ID, p.Version, map[string]any{"fixedPhone": cur.FixedPhone}); err != nil {
		t.Fatalf("idempotent replay: %v", err)
	}
	if again, _ := fake.Partner(p.ID); again.Version != cur.Version {
		t.Fatal("version bumped without change")
	}
}

// Trap: mainAddress is rewritten from partnerAddressList on save.
func TestMainAddressRewritten(t *testing.T) {
	fake, _, c := setup(t, axelorfake.Options{}, 30, nil)
	p := firstCompany(t, fake)
	other := fake.Partners()[len(fake.Partners())-1]
	ctx := context.Background()
	_, err := c.Update(ctx, axelor.ModelPartner, p.ID, p.Version, map[string]any{"mainAddress": map[string]any{"id": other.AddressID}})
	if !errors.Is(err, axelor.ErrNoEffect) {
		t.Fatalf("mainAddress alone: got %v, want ErrNoEffect", err)
	}
	cityID := fake.CityID("69003")
	if cityID == 0 {
		t.Skip("no 69003 in communes")
	}
	rec, err := c.Update(ctx, axelor.ModelPartner, p.ID, p.Version, map[string]any{"partnerAddressList": []any{
		map[string]any{"isDefaultAddr": true, "isInvoicingAddr": true, "isDeliveryAddr": true,
			"address": map[string]any{"addressL4": "12 rue de la République", "addressL6": "69003 LYON", "zip": "69003", "city": map[string]any{"id": cityID}}}}})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := fake.Partner(p.ID)
	if after.Street != "12 rue de la République" || rec.Ref("mainAddress").ID() != after.AddressID {
		t.Fatalf("address list write: %+v", after)
	}
}

func TestReadFetchMissing(t *testing.T) {
	_, _, c := setup(t, axelorfake.Options{}, 5, nil)
	ctx := context.Background()
	if _, err := c.Read(ctx, axelor.ModelPartner, 999999); !errors.Is(err, axelor.ErrNotFound) {
		t.Fatalf("read: %v", err)
	}
	if _, err := c.Fetch(ctx, axelor.ModelPartner, 999999, []string{"name"}, nil); !errors.Is(err, axelor.ErrNotFound) {
		t.Fatalf("fetch: %v", err)
	}
	rec, err := c.Fetch(ctx, axelor.ModelPartner, 1, []string{"name", "mainAddress"}, map[string][]string{"mainAddress": {"zip", "city"}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Ref("mainAddress").String("zip") == "" {
		t.Fatalf("related fields missing: %v", rec)
	}
}

func TestAuthModes(t *testing.T) {
	fo := axelorfake.Options{APIKeys: []string{"k-123"}, BasicDirect: true}
	tests := []struct {
		name string
		auth axelor.Auth
		err  error
	}{
		{"session", axelor.SessionAuth("admin", "admin"), nil},
		{"bad password", axelor.SessionAuth("admin", "nope"), axelor.ErrAuth},
		{"api key", axelor.APIKeyAuth("k-123"), nil},
		{"bad api key", axelor.APIKeyAuth("k-999"), axelor.ErrAuth},
		{"basic", axelor.BasicAuth("admin", "admin"), nil},
		{"bad basic", axelor.BasicAuth("admin", "x"), axelor.ErrAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, c := setup(t, fo, 5, func(o *axelor.Options) { o.Auth = tt.auth })
			_, err := c.Search(context.Background(), axelor.ModelPartner, axelor.SearchRequest{Limit: 5})
			if (tt.err == nil && err != nil) || (tt.err != nil && !errors.Is(err, tt.err)) {
				t.Fatalf("got %v, want %v", err, tt.err)
			}
		})
	}
}

// Session loss: 401, a redirect to the login page, a 200 HTML page.
func TestRelogin(t *testing.T) {
	ctx := context.Background()
	t.Run("expired sessions", func(t *testing.T) {
		fake, _, c := setup(t, axelorfake.Options{StrictCSRF: true}, 10, nil)
		if _, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 5}); err != nil {
			t.Fatal(err)
		}
		fake.ExpireSessions()
		p := firstCompany(t, fake)
		if _, err := c.Update(ctx, axelor.ModelPartner, p.ID, p.Version, map[string]any{"webSite": "https://exemple.fr"}); err != nil {
			t.Fatal(err)
		}
		if c.Stats().Logins != 2 {
			t.Fatalf("logins %d", c.Stats().Logins)
		}
	})
	t.Run("login page in a 200", func(t *testing.T) {
		fake, _, c := setup(t, axelorfake.Options{}, 10, nil)
		fake.InjectNext(axelorfake.FaultLoginPage)
		if _, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 5}); err != nil {
			t.Fatal(err)
		}
		if c.Stats().Logins != 2 {
			t.Fatalf("logins %d", c.Stats().Logins)
		}
	})
	t.Run("redirect", func(t *testing.T) {
		fake := axelorfake.New(axelorfake.Options{})
		fake.Seed(5, 1)
		var redirected atomic.Bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// a front proxy that strips Accept makes the server redirect
			if strings.HasPrefix(r.URL.Path, "/ws/") && !redirected.Load() {
				redirected.Store(true)
				http.Redirect(w, r, "/index.html", http.StatusFound)
				return
			}
			fake.ServeHTTP(w, r)
		}))
		defer srv.Close()
		c, _ := axelor.New(testOptions(srv.URL))
		if _, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 5}); err != nil {
			t.Fatal(err)
		}
		if c.Stats().Logins != 2 {
			t.Fatalf("logins %d", c.Stats().Logins)
		}
	})
	t.Run("session never comes back", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/callback" {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, "{}")
				return
			}
			w.WriteHeader(http.StatusUnauthorized)
		}))
		defer srv.Close()
		c, _ := axelor.New(testOptions(srv.URL))
		_, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 5})
		if !errors.Is(err, axelor.ErrSessionLost) {
			t.Fatalf("got %v", err)
		}
	})
}

// XHR detection is plain string equality: the client must send exactly
// "Accept: application/json" or the JSON login is not read.
func TestLoginHeadersExact(t *testing.T) {
	fake := axelorfake.New(axelorfake.Options{})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/callback", strings.NewReader(`{"username":"admin","password":"admin"}`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "error") {
		t.Fatalf("non-XHR JSON login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	c, _ := axelor.New(testOptions(srv.URL))
	if err := c.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Every transport fault is retried until the call succeeds.
func TestRetriesEveryFault(t *testing.T) {
	for _, f := range []axelorfake.Fault{axelorfake.Fault500, axelorfake.Fault502, axelorfake.Fault503,
		axelorfake.Fault429, axelorfake.Fault429Date, axelorfake.FaultSlow, axelorfake.FaultResetBefore,
		axelorfake.FaultResetAfter, axelorfake.FaultMaintenance, axelorfake.FaultSessionExpiry} {
		t.Run(f.String(), func(t *testing.T) {
			fake, _, c := setup(t, axelorfake.Options{}, 20, nil)
			fake.SetFaults(axelorfake.FaultPlan{SlowDelay: 600 * time.Millisecond})
			ctx := context.Background()
			if err := c.Login(ctx); err != nil {
				t.Fatal(err)
			}
			fake.InjectNext(f, f)
			page, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 100, Archived: true})
			if err != nil {
				t.Fatal(err)
			}
			if int(page.Total) != 20 {
				t.Fatalf("total %d", page.Total)
			}
			// a write through the same fault is applied exactly once
			p := firstCompany(t, fake)
			fake.InjectNext(f)
			if _, err := c.Update(ctx, axelor.ModelPartner, p.ID, p.Version, map[string]any{"fixedPhone": "05 00 00 00 01"}); err != nil {
				t.Fatal(err)
			}
			after, _ := fake.Partner(p.ID)
			if after.Version != p.Version+1 || after.FixedPhone != "05 00 00 00 01" {
				t.Fatalf("write: version %d→%d phone %q", p.Version, after.Version, after.FixedPhone)
			}
		})
	}
}

func TestGivesUpAfterRetries(t *testing.T) {
	fake, _, c := setup(t, axelorfake.Options{}, 5, func(o *axelor.Options) { o.RetryMax = 2 })
	if err := c.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	fake.InjectNext(axelorfake.Fault502, axelorfake.Fault502, axelorfake.Fault502)
	_, err := c.Search(context.Background(), axelor.ModelPartner, axelor.SearchRequest{Limit: 5})
	var e *axelor.Error
	if !errors.As(err, &e) || e.Code != axelor.CodeUnavailable || e.HTTPStatus != 502 {
		t.Fatalf("got %v", err)
	}
}

// A dead CRM is not hammered: the breaker opens and calls fail fast.
func TestCircuitBreaker(t *testing.T) {
	fake, _, c := setup(t, axelorfake.Options{}, 5, func(o *axelor.Options) {
		o.BreakerThreshold = 3
		o.BreakerCooldown = 200 * time.Millisecond
		o.RetryMax = 20
	})
	ctx := context.Background()
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	fake.SetMaintenance(true)
	before := fake.Stats().Requests
	_, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 5})
	if !errors.Is(err, axelor.ErrCircuitOpen) {
		t.Fatalf("got %v", err)
	}
	hits := fake.Stats().Requests - before
	if hits != 3 {
		t.Fatalf("the dead server got %d requests, want 3", hits)
	}
	_, err = c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 5})
	if !errors.Is(err, axelor.ErrCircuitOpen) || fake.Stats().Requests-before != 3 {
		t.Fatalf("open breaker let a call through: %v", err)
	}
	fake.SetMaintenance(false)
	time.Sleep(250 * time.Millisecond)
	if _, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 5}); err != nil {
		t.Fatalf("after cooldown: %v", err)
	}
	if st := c.Stats(); st.BreakerState != axelor.BreakerClosed || st.BreakerOpens != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestConcurrentEditFault(t *testing.T) {
	fake, _, c := setup(t, axelorfake.Options{}, 10, nil)
	p := firstCompany(t, fake)
	if err := c.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	fake.InjectNext(axelorfake.FaultConcurrentEdit)
	_, err := c.Update(context.Background(), axelor.ModelPartner, p.ID, p.Version, map[string]any{"webSite": "https://a.fr"})
	if !errors.Is(err, axelor.ErrConflict) {
		t.Fatalf("got %v", err)
	}
	if len(fake.ConcurrentEdits()) != 1 {
		t.Fatal("no edit recorded")
	}
}
