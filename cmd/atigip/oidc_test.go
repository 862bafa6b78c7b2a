package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth/oidctest"
)

// oidcVars configure serve in production with the provider idp.
// freeAddr is a local address nothing listens on, for a server that
// must know its address before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// codeFlowVars are oidcVars for a server that signs browsers in by the
// code flow with its public address at addr (plain http, so not in
// production, which needs https).
func codeFlowVars(idp *oidctest.Provider, addr string) map[string]string {
	vars := oidcVars(idp, true)
	delete(vars, "ATIGIP_ENV")
	vars["ATIGIP_PUBLIC_URL"] = "http://" + addr
	vars["ATIGIP_OIDC_CLIENT_SECRET"] = oidctest.ClientSecret
	return vars
}

func oidcVars(idp *oidctest.Provider, claims bool) map[string]string {
	v := map[string]string{
		"ATIGIP_ENV": "production", "ATIGIP_OIDC_ISSUER": idp.URL, "ATIGIP_OIDC_CLIENT_ID": oidctest.ClientID,
		"ATIGIP_OIDC_ROLE_CLAIM": oidctest.RoleClaim,
	}
	if claims {
		v["ATIGIP_OIDC_DEPARTEMENT_CLAIM"] = oidctest.DepartementClaim
		v["ATIGIP_OIDC_PRISON_CLAIM"] = oidctest.PrisonClaim
		v["ATIGIP_OIDC_ORGANISATION_CLAIM"] = oidctest.OrganisationClaim
		v["ATIGIP_OIDC_SIRET_CLAIM"] = oidctest.SIRETClaim
		v["ATIGIP_OIDC_PERSON_CLAIM"] = oidctest.PersonClaim
	}
	return v
}

// TestServeRefusesOIDCWithoutPerimeters: production does not start when
// a role the provider can give has no claim for its perimeter (issue 10:
// with the role claim alone, a CPIP of the 69 read the whole country).
func TestServeRefusesOIDCWithoutPerimeters(t *testing.T) {
	idp := oidctest.Start(t)
	vars := oidcVars(idp, false)
	vars["ATIGIP_DATA_DIR"] = t.TempDir()
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"serve"}, mapEnv(vars), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "cpip needs a departement claim") ||
		!strings.Contains(err.Error(), "ATIGIP_OIDC_DEPARTEMENT_CLAIM") {
		t.Fatalf("serve: %v", err)
	}
	if strings.Contains(out.String(), "listening") {
		t.Fatal("serve listened")
	}

	// Limiting the provider to roles without a perimeter lets it start.
	vars["ATIGIP_OIDC_ROLE_MAP"] = "GRP_AVOCAT=lawyer, GRP_REFERENT=referent"
	base := startServer(t, vars)
	if code, _, _ := get(t, base+"/healthz", ""); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
}

// TestServeOIDCPerimeter: `atigip serve` in production with an OpenID
// Connect provider keeps a CPIP of the 69 to the people of the 69.
func TestServeOIDCPerimeter(t *testing.T) {
	idp := oidctest.Start(t)
	vars := oidcVars(idp, true)
	vars["ATIGIP_SEED_ON_START"] = "true"
	base := startServer(t, vars)

	people := func(tok string) (int, []string) {
		code, body, _ := get(t, base+"/api/people?limit=200", tok)
		var lp struct {
			Items []struct {
				Home struct {
					Departement string `json:"departement"`
				} `json:"home_address"`
			} `json:"items"`
		}
		_ = json.Unmarshal(body, &lp)
		var deps []string
		for _, it := range lp.Items {
			deps = append(deps, it.Home.Departement)
		}
		return code, deps
	}
	code, deps := people(idp.Token(t, atigip.Principal{Role: atigip.RoleCPIP, Departement: "69"}))
	if code != 200 || len(deps) == 0 {
		t.Fatalf("CPIP of the 69: %d, %d people", code, len(deps))
	}
	for _, d := range deps {
		if d != "69" {
			t.Fatalf("CPIP of the 69 sees a person of the %s", d)
		}
	}
	if code, _ := people(idp.Token(t, atigip.Principal{Role: atigip.RoleCPIP})); code != 403 {
		t.Fatalf("CPIP without département: %d", code)
	}
	if code, _ := people(idp.Sign(t, map[string]any{oidctest.RoleClaim: "case_system"})); code != 403 {
		t.Fatalf("case_system from the provider: %d", code)
	}
}

// TestServeMetricsNotPublicInProduction: production serves no public
// /metrics; ATIGIP_METRICS_ADDR moves them to a listener of their own and
// ATIGIP_METRICS_TOKEN asks for a token.
func TestServeMetricsNotPublicInProduction(t *testing.T) {
	idp := oidctest.Start(t)
	base := startServer(t, oidcVars(idp, true))
	if code, _, _ := get(t, base+"/metrics", ""); code != 404 {
		t.Fatalf("production /metrics = %d, want 404", code)
	}

	metricsAddr := freeAddr(t)
	const secret = "metrics-token-of-at-least-32-characters"
	vars := oidcVars(idp, true)
	vars["ATIGIP_METRICS_ADDR"], vars["ATIGIP_METRICS_TOKEN"] = metricsAddr, secret
	base = startServer(t, vars)
	get(t, base+"/healthz", "")
	if code, _, _ := get(t, base+"/metrics", secret); code != 404 {
		t.Fatalf("API /metrics with a metrics listener = %d, want 404", code)
	}
	if code, _, _ := get(t, "http://"+metricsAddr+"/metrics", ""); code != 401 {
		t.Fatalf("metrics listener without token = %d", code)
	}
	code, body, _ := get(t, "http://"+metricsAddr+"/metrics", secret)
	if code != 200 || !strings.Contains(string(body), `route="/healthz"`) {
		t.Fatalf("metrics listener = %d %s", code, body)
	}
}

// TestServeBrowserSignIn: `atigip serve` with a client secret and its
// public address offers « Se connecter » with ProConnect, and a browser
// signs in by the code flow and lands back on its page, signed in.
func TestServeBrowserSignIn(t *testing.T) {
	idp := oidctest.Start(t)
	addr := freeAddr(t)
	vars := codeFlowVars(idp, addr)
	vars["ATIGIP_ADDR"] = addr
	base := startServer(t, vars)
	idp.SignInAs(&atigip.Principal{Role: atigip.RoleMagistrate, Departement: "35", Name: "Juge Martin"})
	jar, _ := cookiejar.New(nil)
	res, err := (&http.Client{Jar: jar}).Get(base + "/connexion/proconnect?retour=/mentions-legales")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Path != "/mentions-legales" || !strings.Contains(string(body), "Se déconnecter") {
		t.Fatalf("sign-in: %d at %s", res.StatusCode, res.Request.URL)
	}
}
