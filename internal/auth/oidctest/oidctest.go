// Package oidctest runs an OpenID Connect provider in process for tests:
// discovery and keys served by go-oidc's own test server
// (github.com/coreos/go-oidc/v3/oidc/oidctest) on an httptest server, and
// ID tokens signed with its RSA key, carrying a principal under the claims
// that Config names. Tests authenticate through the real auth.OIDC
// verifier (discovery, JWKS, signature, issuer, audience, expiry), exactly
// as `atigip serve` does in production.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	gooidctest "github.com/coreos/go-oidc/v3/oidc/oidctest"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
)

// Claim names of the tokens this provider signs.
const (
	ClientID          = "atigip360-test"
	RoleClaim         = "atigip_role"
	DepartementClaim  = "atigip_departement"
	PrisonClaim       = "atigip_prison_id"
	OrganisationClaim = "atigip_organisation_id"
	PersonClaim       = "atigip_person_id"
	SIRETClaim        = "siret" // as ProConnect names it
	keyID             = "oidctest-1"
)

// Provider is a running OpenID Connect provider.
type Provider struct {
	// URL is the issuer.
	URL string
	key *rsa.PrivateKey
	// The authorization-code flow (codeflow.go).
	mu      sync.Mutex
	user    map[string]any
	codes   map[string]grant
	logouts []url.Values
}

// One key for every provider of a test binary: generating RSA keys is
// the slow part, and each provider still has its own issuer URL.
var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyErr  error
)

// Start runs a provider until the test ends.
func Start(tb testing.TB) *Provider {
	tb.Helper()
	keyOnce.Do(func() { key, keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	if keyErr != nil {
		tb.Fatalf("oidctest: %v", keyErr)
	}
	s := &gooidctest.Server{PublicKeys: []gooidctest.PublicKey{{PublicKey: key.Public(), KeyID: keyID, Algorithm: oidc.RS256}}}
	p := &Provider{key: key, codes: map[string]grant{}}
	srv := httptest.NewServer(p.handler(s))
	tb.Cleanup(srv.Close)
	s.SetIssuer(srv.URL)
	p.URL = srv.URL
	return p
}

// Config is the auth configuration accepting this provider's tokens: role
// names in RoleClaim and every perimeter attachment in its own claim. As
// with development tokens, a professional or prison staff member without
// a département or establishment is national (NationalRoles lists them);
// clear NationalRoles to test the stricter production setting.
func (p *Provider) Config() auth.OIDCConfig {
	return auth.OIDCConfig{
		Name: "oidctest", Issuer: p.URL, ClientID: ClientID, RoleClaim: RoleClaim,
		DepartementClaim: DepartementClaim, PrisonIDClaim: PrisonClaim, OrganisationIDClaim: OrganisationClaim,
		PersonIDClaim: PersonClaim, SIRETClaim: SIRETClaim,
		NationalRoles: []atigip.Role{atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP,
			atigip.RoleMagistrate, atigip.RoleClerk, atigip.RolePrisonStaff},
	}
}

// Authenticator is auth.NewOIDC over Config.
func (p *Provider) Authenticator(tb testing.TB) *auth.OIDC {
	tb.Helper()
	o, err := auth.NewOIDC(tb.Context(), p.Config())
	if err != nil {
		tb.Fatalf("oidctest: %v", err)
	}
	return o
}

// Token is a signed ID token, valid for an hour, carrying pr: its role,
// name and attachments under Config's claims (zero fields are left out).
// Its subject is pr.Subject, or one derived from the role when empty.
func (p *Provider) Token(tb testing.TB, pr atigip.Principal) string {
	tb.Helper()
	return p.Sign(tb, Claims(pr))
}

// Claims are the claims carrying pr under Config's names.
func Claims(pr atigip.Principal) map[string]any {
	sub := pr.Subject
	if sub == "" {
		sub = "user-" + string(pr.Role)
	}
	c := map[string]any{RoleClaim: string(pr.Role), "sub": sub}
	if pr.Name != "" {
		c["name"] = pr.Name
	}
	if pr.Departement != "" {
		c[DepartementClaim] = pr.Departement
	}
	if pr.SIRET != "" {
		c[SIRETClaim] = pr.SIRET
	}
	for name, id := range map[string]int64{PrisonClaim: pr.PrisonID, OrganisationClaim: pr.OrganisationID, PersonClaim: pr.PersonID} {
		if id != 0 {
			c[name] = strconv.FormatInt(id, 10) // identity providers often carry ids as strings
		}
	}
	return c
}

// Sign signs an ID token with the given claims on top of valid iss, aud,
// sub, iat and exp; a nil value removes a claim.
func (p *Provider) Sign(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	tok, err := p.sign(claims)
	if err != nil {
		tb.Fatalf("oidctest: %v", err)
	}
	return tok
}

func (p *Provider) sign(claims map[string]any) (string, error) {
	now := time.Now()
	c := map[string]any{"iss": p.URL, "aud": ClientID, "sub": "user", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return gooidctest.SignIDToken(p.key, keyID, oidc.RS256, string(b)), nil
}
