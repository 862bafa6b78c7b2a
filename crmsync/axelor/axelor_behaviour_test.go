package axelor_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/atigip/atigip360/crmsync/axelor"
	"github.com/atigip/atigip360/crmsync/axelorfake"
)

// Issue 18 item 1: AxelorCallbackLogic answers a successful XHR login
// with 200 "{}" and no Content-Type; the session login must accept it, and
// text/plain from a proxy as well.
func TestSessionLoginAcceptsAxelorAnswer(t *testing.T) {
	ctx := context.Background()
	t.Run("no content type", func(t *testing.T) {
		_, _, c := setup(t, axelorfake.Options{}, 5, nil)
		if err := c.Login(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 5}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("text/plain from a proxy", func(t *testing.T) {
		fake := axelorfake.New(axelorfake.Options{})
		fake.Seed(5, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/callback" {
				w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
			}
			fake.ServeHTTP(w, r)
		}))
		defer srv.Close()
		c, _ := axelor.New(testOptions(srv.URL))
		if err := c.Login(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("bad password is refused", func(t *testing.T) {
		_, _, c := setup(t, axelorfake.Options{}, 5, func(o *axelor.Options) { o.Auth = axelor.SessionAuth("admin", "x") })
		if err := c.Login(ctx); !errors.Is(err, axelor.ErrAuth) {
			t.Fatalf("got %v", err)
		}
	})
}

// Issue 18 item 1: the session is closed by GET /logout (AxelorLogoutLogic
// destroys it and redirects); the next call logs in again.
func TestLogoutClosesTheSession(t *testing.T) {
	ctx := context.Background()
	fake, _, c := setup(t, axelorfake.Options{}, 5, nil)
	if _, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 5}); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if st := fake.Stats(); st.Logouts != 1 || st.Sessions != 0 {
		t.Fatalf("fake %+v", st)
	}
	if _, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 5}); err != nil {
		t.Fatal(err)
	}
	if c.Stats().Logins != 2 || c.Stats().Logouts != 1 {
		t.Fatalf("client %+v", c.Stats())
	}
}

// Issue 18 item 2: Resource#fetch answers nested maps; Record reads a
// dotted name in either form.
func TestRecordReadsNestedFetchAnswers(t *testing.T) {
	ctx := context.Background()
	fake, _, c := setup(t, axelorfake.Options{}, 40, nil)
	p := firstCompany(t, fake)
	fields := []string{"mainAddress.zip", "mainAddress.city.name", "partnerCategory.code", "emailAddress.address"}
	fetched, err := c.Fetch(ctx, axelor.ModelPartner, p.ID, fields, nil)
	if err != nil {
		t.Fatal(err)
	}
	crit := axelor.Eq("id", p.ID)
	page, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 1, Criteria: &crit, Fields: fields})
	if err != nil || len(page.Records) != 1 {
		t.Fatal(err)
	}
	row := page.Records[0]
	if _, flat := fetched["mainAddress.zip"]; flat {
		t.Fatal("the fake answered a fetch with flat keys")
	}
	for _, f := range fields {
		if fetched.String(f) != row.String(f) {
			t.Errorf("%s: fetch %q, search %q", f, fetched.String(f), row.String(f))
		}
	}
	if fetched.String("mainAddress.zip") != p.Zip || fetched.String("mainAddress.city.name") != p.City {
		t.Fatalf("fetch %v", fetched)
	}
	if r := (axelor.Record{"mainAddress": nil}); r.Has("mainAddress.zip") != true || r.String("mainAddress.zip") != "" {
		t.Fatal("a null reference must read as a null path")
	}
}

// Issue 18 item 4: a transient {"status":-1} in an HTTP 200 is retried at
// the request level, reads and writes alike; a persistent one is reported.
func TestStatusFailureRetried(t *testing.T) {
	ctx := context.Background()
	fake, _, c := setup(t, axelorfake.Options{}, 20, nil)
	fake.InjectNext(axelorfake.FaultStatusFailure, axelorfake.FaultStatusFailure)
	if _, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 5}); err != nil {
		t.Fatal(err)
	}
	p := firstCompany(t, fake)
	fake.InjectNext(axelorfake.FaultStatusFailure)
	if _, err := c.Update(ctx, axelor.ModelPartner, p.ID, p.Version, map[string]any{"webSite": "https://exemple.fr"}); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().AppRetries; got != 3 {
		t.Fatalf("app retries %d", got)
	}
	fake.InjectNext(axelorfake.FaultStatusFailure, axelorfake.FaultStatusFailure, axelorfake.FaultStatusFailure,
		axelorfake.FaultStatusFailure, axelorfake.FaultStatusFailure)
	_, err := c.Search(ctx, axelor.ModelPartner, axelor.SearchRequest{Limit: 5})
	if !errors.Is(err, axelor.ErrRemote) {
		t.Fatalf("got %v", err)
	}
}

// Issue 18 item 4: a CSRF refusal (AxelorCsrfAuthorizer, 403) on a write
// gets a new session and token, then the write goes through.
func TestCSRFRefusalRecovered(t *testing.T) {
	ctx := context.Background()
	fake, _, c := setup(t, axelorfake.Options{StrictCSRF: true}, 20, nil)
	p := firstCompany(t, fake)
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	fake.InjectNext(axelorfake.FaultCSRF)
	if _, err := c.Update(ctx, axelor.ModelPartner, p.ID, p.Version, map[string]any{"webSite": "https://exemple.fr"}); err != nil {
		t.Fatal(err)
	}
	if c.Stats().Logins != 2 {
		t.Fatalf("logins %d", c.Stats().Logins)
	}
}
