package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
	"github.com/atigip/atigip360/internal/auth/oidctest"
)

// testCodeFlows is the browser sign-in against idp, for a site at base.
func testCodeFlows(t testing.TB, idp *oidctest.Provider, base string) []*auth.CodeFlow {
	t.Helper()
	f, err := auth.NewCodeFlow(t.Context(), auth.CodeFlowConfig{OIDC: idp.Config(), Label: "ProConnect",
		ClientSecret: oidctest.ClientSecret, RedirectURL: base + "/connexion/oidctest/retour"})
	if err != nil {
		t.Fatal(err)
	}
	return []*auth.CodeFlow{f}
}

// signinSite is a site served on a real listener with the browser sign-in
// against an in-process provider.
func signinSite(t *testing.T, dev bool) (base string, idp *oidctest.Provider) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base = "http://" + ln.Addr().String()
	idp = oidctest.Start(t)
	env := newEnv(t, newMemStore(), func(o *Options) {
		o.Auth = idp.Authenticator(t)
		o.SignIn = testCodeFlows(t, idp, base)
		o.Modules = []Module{SiteModule{}}
		o.Dev = dev
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return base, idp
}

type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar}}
}

// get navigates like a browser (redirects followed) and returns the last
// response's status, URL and body.
func (b *browser) get(u string) (int, *url.URL, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.send(req)
}

func (b *browser) send(req *http.Request) (int, *url.URL, string) {
	b.t.Helper()
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Request.URL, string(body)
}

func (b *browser) post(u string, form url.Values) (int, *url.URL, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(req)
}

// callback begins a sign-in at start and stops where the provider sends
// the browser back: the callback URL, not yet followed.
func (b *browser) callback(start string) *url.URL {
	b.t.Helper()
	var at *url.URL
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/retour") {
			at = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}
	defer func() { b.c.CheckRedirect = nil }()
	b.get(start)
	if at == nil {
		b.t.Fatal("the provider did not send the browser back")
	}
	return at
}

func withQuery(u *url.URL, k, v string) string {
	c := *u
	q := c.Query()
	q.Set(k, v)
	c.RawQuery = q.Encode()
	return c.String()
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

var cpip69 = atigip.Principal{Subject: "agent-69", Role: atigip.RoleCPIP, Departement: "69", Name: "Camille Martin"}

// TestSignInCodeFlow walks the sign-in with PKCE through real HTTP
// redirects, its refusals, CSRF on writes by session, and the sign-out.
func TestSignInCodeFlow(t *testing.T) {
	base, idp := signinSite(t, true)
	idp.SignInAs(&cpip69)

	t.Run("full sign-in leads back, signed in by session", func(t *testing.T) {
		b := newBrowser(t)
		st, u, body := b.get(base + "/connexion?retour=/mentions-legales")
		if st != 200 || !strings.Contains(body, `href="/connexion/oidctest?retour=/mentions-legales"`) || !strings.Contains(body, "ProConnect") {
			t.Fatalf("choice page: %d %s", st, body)
		}
		st, u, body = b.get(base + "/connexion/oidctest?retour=/mentions-legales")
		if st != 200 || u.Path != "/mentions-legales" || !strings.Contains(body, "Se déconnecter") || !strings.Contains(body, roleLabel(atigip.RoleCPIP)) {
			t.Fatalf("after sign-in: %d at %s", st, u)
		}
		// The page's requests are authenticated by the session: a page
		// reserved to signed-in users opens.
		if st, _, _ := b.get(base + "/api/people"); st != 200 {
			t.Fatalf("API by session: %d", st)
		}
	})

	t.Run("wrong state refused", func(t *testing.T) {
		b := newBrowser(t)
		st, _, body := b.get(withQuery(b.callback(base+"/connexion/oidctest"), "state", "forged"))
		if st != 400 || !strings.Contains(body, "ne correspond à aucune connexion") {
			t.Fatalf("forged state: %d %s", st, body)
		}
		// Without the browser's state cookie (another browser) too.
		if st, _, _ := newBrowser(t).get(newBrowser(t).callback(base + "/connexion/oidctest").String()); st != 400 {
			t.Fatalf("state from another browser: %d", st)
		}
	})

	t.Run("replayed code refused", func(t *testing.T) {
		b := newBrowser(t)
		first := b.callback(base + "/connexion/oidctest?retour=/accessibilite")
		if st, u, _ := b.get(first.String()); st != 200 || u.Path != "/accessibilite" {
			t.Fatalf("first use: %d %s", st, u)
		}
		// The same callback again: its state was used.
		if st, _, body := b.get(first.String()); st != 400 || !strings.Contains(body, "Recommencez la connexion") {
			t.Fatalf("replayed callback: %d", st)
		}
		// The old code under a fresh state: the provider refuses it.
		fresh := withQuery(b.callback(base+"/connexion/oidctest"), "code", first.Query().Get("code"))
		if st, _, body := b.get(fresh); st != 401 || !strings.Contains(body, "déjà utilisé") {
			t.Fatalf("replayed code: %d %s", st, body)
		}
	})

	t.Run("token refused by the claim mapping gives a French page", func(t *testing.T) {
		idp.SignInClaims(map[string]any{oidctest.RoleClaim: "case_system", "sub": "x"})
		defer idp.SignInAs(&cpip69)
		st, _, body := newBrowser(t).get(base + "/connexion/oidctest")
		if st != 403 || !strings.Contains(body, "Accès refusé") || !strings.Contains(body, "<html") {
			t.Fatalf("refused token: %d %s", st, body)
		}
	})

	t.Run("cancelled at the provider", func(t *testing.T) {
		idp.SignInAs(nil)
		defer idp.SignInAs(&cpip69)
		if st, _, body := newBrowser(t).get(base + "/connexion/oidctest"); st != 401 || !strings.Contains(body, "Connexion annulée") {
			t.Fatalf("access_denied: %d", st)
		}
	})

	t.Run("CSRF and sign-out", func(t *testing.T) {
		b := newBrowser(t)
		_, _, body := b.get(base + "/connexion/oidctest?retour=/accessibilite")
		m := csrfField.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no CSRF token in the sign-out form")
		}
		// A form without the token is refused, and the session stays.
		if st, _, body := b.post(base+"/deconnexion", url.Values{"retour": {"/accessibilite"}}); st != 403 || !strings.Contains(body, "jeton de sécurité") {
			t.Fatalf("sign-out without token: %d", st)
		}
		if st, _, body := b.post(base+"/deconnexion", url.Values{"csrf": {"x" + m[1][1:]}}); st != 403 || !strings.Contains(body, "jeton de sécurité") {
			t.Fatalf("sign-out with a wrong token: %d", st)
		}
		// Any write by session needs it: an API write too.
		req, _ := http.NewRequest(http.MethodPost, base+"/api/posts", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		if st, _, body := b.send(req); st != 403 || !strings.Contains(body, "jeton de sécurité") {
			t.Fatalf("API write by session without token: %d %s", st, body)
		}
		req, _ = http.NewRequest(http.MethodPost, base+"/api/posts", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", m[1])
		if _, _, body := b.send(req); strings.Contains(body, "jeton de sécurité") {
			t.Fatalf("API write with the header token refused for CSRF")
		}
		if _, _, body := b.get(base + "/accessibilite"); !strings.Contains(body, "Se déconnecter") {
			t.Fatal("session lost after refused forms")
		}
		n := len(idp.Logouts())
		st, u, body := b.post(base+"/deconnexion", url.Values{"retour": {"/accessibilite"}, "csrf": {m[1]}})
		if st != 200 || u.Path != "/accessibilite" || strings.Contains(body, "Se déconnecter") || !strings.Contains(body, "Se connecter") {
			t.Fatalf("after sign-out: %d at %s", st, u)
		}
		lo := idp.Logouts()
		if len(lo) != n+1 || lo[n].Get("id_token_hint") == "" || lo[n].Get("post_logout_redirect_uri") != base+"/accessibilite" {
			t.Fatalf("RP-initiated logout: %v", lo)
		}
		if st, _, _ := b.get(base + "/api/people"); st != 401 {
			t.Fatalf("API after sign-out: %d", st)
		}
	})
}

// TestSignInCookies checks the flags of the sign-in's cookies in
// production: HttpOnly, Secure, SameSite=Lax, an opaque session id.
func TestSignInCookies(t *testing.T) {
	base, idp := signinSite(t, false)
	idp.SignInAs(&cpip69)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/connexion/oidctest")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	state := cookieNamed(res, stateCookie)
	if state == nil || !state.HttpOnly || !state.Secure || state.SameSite != http.SameSiteLaxMode {
		t.Fatalf("state cookie: %+v", state)
	}
	res, err = c.Get(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, res.Header.Get("Location"), nil)
	req.AddCookie(&http.Cookie{Name: stateCookie, Value: state.Value})
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	sid := cookieNamed(res, sidCookie)
	if res.StatusCode != http.StatusSeeOther || sid == nil {
		t.Fatalf("callback: %d", res.StatusCode)
	}
	if !sid.HttpOnly || !sid.Secure || sid.SameSite != http.SameSiteLaxMode || sid.Path != "/" || len(sid.Value) != 43 ||
		strings.Contains(sid.Value, ".") {
		t.Fatalf("session cookie: %+v", sid)
	}
}

func cookieNamed(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name && c.Value != "" {
			return c
		}
	}
	return nil
}

// TestSignInNonce: an ID token minted for another sign-in (wrong nonce)
// is refused, even though it is validly signed.
func TestSignInNonce(t *testing.T) {
	idp := oidctest.Start(t)
	o := idp.Authenticator(t)
	claims := oidctest.Claims(cpip69)
	claims["nonce"] = "n1"
	tok := idp.Sign(t, claims)
	if _, err := o.SignIn(t.Context(), tok, "n2"); atigip.ErrorCode(err) != atigip.EUNAUTHORIZED {
		t.Fatalf("wrong nonce: %v", err)
	}
	if _, err := o.SignIn(t.Context(), tok, ""); err == nil {
		t.Fatal("empty nonce accepted")
	}
	p, err := o.SignIn(t.Context(), tok, "n1")
	if err != nil || p.Departement != "69" {
		t.Fatalf("right nonce: %+v %v", p, errors.Unwrap(err))
	}
}

// TestSignInInChromium walks « Se connecter » then « Se déconnecter » in
// headless Chromium through the code flow, axe-core on each page state.
func TestSignInInChromium(t *testing.T) {
	node, chromium := browserEnv(t)
	base, idp := signinSite(t, true)
	idp.SignInAs(&cpip69)
	b, _ := json.Marshal(map[string]string{"base": base, "idp": idp.URL, "out": artefacts(t)})
	rep := runJourney(t, node, chromium, "signin.mjs", string(b))
	t.Logf("%d checks, screenshots: %v", len(rep.Checks), rep.Shots)
}

// journeyReport is what a journey script of internal/web/testdata prints.
type journeyReport struct {
	Failed bool   `json:"failed"`
	Error  string `json:"error"`
	Checks map[string]struct {
		OK     bool            `json:"ok"`
		Detail json.RawMessage `json:"detail"`
	} `json:"checks"`
	Shots []string           `json:"shots"`
	Axe   map[string]float64 `json:"axe"`
}

// runJourney runs a journey script with node and Chromium, the site
// described by SITE, and fails the test with each failed check.
func runJourney(t *testing.T, node, chromium, script, site string, args ...string) journeyReport {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), node, append([]string{filepath.Join("..", "web", "testdata", script)}, args...)...)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "SITE="+site)
	out, err := cmd.Output()
	var rep journeyReport
	_ = json.Unmarshal(out, &rep)
	if err != nil || rep.Failed || len(rep.Checks) == 0 {
		for name, c := range rep.Checks {
			if !c.OK {
				t.Errorf("%s: %s", name, c.Detail)
			}
		}
		t.Fatalf("%v %s\n%s", err, rep.Error, out)
	}
	return rep
}
