package main

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
	"github.com/atigip/atigip360/internal/auth/oidctest"
	"github.com/atigip/atigip360/internal/store/postgres/pgtest"
)

// TestSessionsAcrossInstances runs instances on one PostgreSQL schema, as
// behind a load balancer without sticky sessions: a browser signed in on
// A is signed in on B, its writes on B are under the CSRF check, a
// sign-out on B ends the session on A at once, a restart keeps a
// session, and the database holds only the digest of the cookie's id.
func TestSessionsAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("three servers on PostgreSQL")
	}
	dbURL := pgtest.URL(t)
	env := map[string]string{"ATIGIP_DATABASE_URL": dbURL, "ATIGIP_SEED_SCALE": "0.005", "ATIGIP_LOG_LEVEL": "error"}
	a, stopA := startStoppable(t, env)
	b := startServer(t, env)

	jar, _ := cookiejar.New(nil) // cookies do not depend on the port: one browser for every instance
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(c *http.Client, method, u string, form url.Values, cookies ...*http.Cookie) int {
		t.Helper()
		req, _ := http.NewRequest(method, u, strings.NewReader(form.Encode()))
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	cookie := func(base, name string) string {
		u, _ := url.Parse(base)
		for _, ck := range jar.Cookies(u) {
			if ck.Name == name {
				return ck.Value
			}
		}
		return ""
	}
	signIn := func(base string) string {
		t.Helper()
		send(browser, "GET", base+"/dev/signin", nil) // sets the CSRF cookie
		if st := send(browser, "POST", base+"/dev/signin", url.Values{"role": {"cpip"}, "departement": {"69"},
			"csrf": {cookie(base, "atigip_csrf")}}); st != 200 {
			t.Fatalf("sign-in on %s: %d", base, st)
		}
		sid := cookie(base, "atigip_sid")
		if sid == "" {
			t.Fatal("the development sign-in set no session cookie")
		}
		return sid
	}
	people := func(base string, cookies ...*http.Cookie) int {
		t.Helper()
		c := browser
		if len(cookies) > 0 {
			c = &http.Client{Timeout: 10 * time.Second} // that cookie only
		}
		return send(c, "GET", base+"/api/people?limit=1", nil, cookies...)
	}

	if st := people(b); st != 401 {
		t.Fatalf("anonymous on B: %d", st)
	}
	sid := signIn(a)
	if st := people(b); st != 200 {
		t.Fatalf("session of A on B: %d, want 200", st)
	}

	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var plain, hashed int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE digest = $1 OR principal::text LIKE '%' || $1 || '%' OR id_token = $1),
		count(*) FILTER (WHERE digest = $2) FROM browser_sessions`, sid, auth.Digest(sid)).Scan(&plain, &hashed); err != nil {
		t.Fatal(err)
	}
	if plain != 0 || hashed != 1 {
		t.Fatalf("rows holding the cookie's id: %d, its digest: %d; want 0 and 1", plain, hashed)
	}

	if st := send(browser, "POST", b+"/dev/signout", url.Values{}); st != 403 {
		t.Fatalf("sign-out on B without the CSRF token: %d, want 403", st)
	}
	if st := send(browser, "POST", b+"/dev/signout", url.Values{"csrf": {cookie(b, "atigip_csrf")}}); st != 303 {
		t.Fatalf("sign-out on B: %d", st)
	}
	if st := people(a, &http.Cookie{Name: "atigip_sid", Value: sid}); st != 401 {
		t.Fatalf("session signed out on B, on A: %d, want 401", st)
	}

	sid = signIn(a)
	stopA()
	c := startServer(t, env)
	if st := people(c, &http.Cookie{Name: "atigip_sid", Value: sid}); st != 200 {
		t.Fatalf("session of A after its restart: %d, want 200", st)
	}
}

// TestSignInAcrossInstances: the OpenID Connect sign-in begun on one
// instance comes back, through the load balancer, to another (the
// public address is A's), which finds the pending sign-in in the store;
// the session then works on both.
func TestSignInAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("two servers on PostgreSQL")
	}
	idp := oidctest.Start(t)
	addr := freeAddr(t)
	vars := codeFlowVars(idp, addr)
	vars["ATIGIP_DATABASE_URL"], vars["ATIGIP_SEED_SCALE"], vars["ATIGIP_LOG_LEVEL"] = pgtest.URL(t), "0.005", "error"
	varsA := maps.Clone(vars)
	varsA["ATIGIP_ADDR"] = addr
	a := startServer(t, varsA)
	b := startServer(t, vars)
	idp.SignInAs(&atigip.Principal{Role: atigip.RoleMagistrate, Departement: "35", Name: "Juge Martin"})
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	res, err := browser.Get(b + "/connexion/proconnect?retour=/mentions-legales")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Host != addr || res.Request.URL.Path != "/mentions-legales" ||
		!strings.Contains(string(body), "Se déconnecter") {
		t.Fatalf("sign-in begun on B, back on A: %d at %s", res.StatusCode, res.Request.URL)
	}
	for _, base := range []string{a, b} {
		res, err := browser.Get(base + "/accessibilite")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), "Se déconnecter") {
			t.Fatalf("session on %s: %d, signed in: %v", base, res.StatusCode, strings.Contains(string(body), "Se déconnecter"))
		}
	}
}
