package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
	"github.com/golang-jwt/jwt/v5"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestDevTokensRoundTrip(t *testing.T) {
	d, err := NewDevTokens(secret)
	if err != nil {
		t.Fatal(err)
	}
	want := atigip.Principal{Subject: "dev:cpip", Role: atigip.RoleCPIP, Name: "Camille", Departement: "69", PrisonID: 3, OrganisationID: 4, PersonID: 5}
	tok, err := d.Issue(want, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("principal = %+v, want %+v", got, want)
	}
}

func TestDevTokensRefused(t *testing.T) {
	d, _ := NewDevTokens(secret)
	other, _ := NewDevTokens([]byte("another-secret-of-thirty-two-bytes!"))
	p := atigip.Principal{Subject: "dev:x", Role: atigip.RoleDSPIP}
	good, _ := d.Issue(p, time.Hour)
	foreign, _ := other.Issue(p, time.Hour)

	past, _ := NewDevTokens(secret)
	past.now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	expired, _ := past.Issue(p, time.Hour)

	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x", "role": "dspip",
		"iss": DevIssuerName, "aud": DevAudience, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"sub": "x", "role": "dspip",
		"iss": DevIssuerName, "aud": DevAudience, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(secret)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "role": "dspip",
		"iss": DevIssuerName, "aud": DevAudience}).SignedString(secret)
	badRole, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "role": "admin",
		"iss": DevIssuerName, "aud": DevAudience, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(secret)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]

	for name, tok := range map[string]string{
		"foreign secret": foreign, "expired": expired, "alg none": none, "alg HS512": hs512,
		"no expiry": noExp, "unknown role": badRole, "tampered": tampered, "garbage": "abc", "empty": "",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := d.Authenticate(context.Background(), tok)
			if atigip.ErrorCode(err) != atigip.EUNAUTHORIZED {
				t.Fatalf("err = %v, want unauthorized", err)
			}
		})
	}
	if _, err := d.Authenticate(context.Background(), good); err != nil {
		t.Fatalf("good token refused: %v", err)
	}
}

func TestIssueRejects(t *testing.T) {
	d, _ := NewDevTokens(secret)
	for name, tc := range map[string]struct {
		p   atigip.Principal
		ttl time.Duration
	}{
		"unknown role": {atigip.Principal{Subject: "x", Role: "root"}, time.Hour},
		"no subject":   {atigip.Principal{Role: atigip.RoleCPIP}, time.Hour},
		"no ttl":       {atigip.Principal{Subject: "x", Role: atigip.RoleCPIP}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := d.Issue(tc.p, tc.ttl); err == nil {
				t.Fatal("issued")
			}
		})
	}
	if _, err := NewDevTokens([]byte("short")); err == nil {
		t.Fatal("short secret accepted")
	}
}

// fakeIssuer is a local OpenID provider (discovery + JWKS) signing with a
// generated RSA key.
type fakeIssuer struct {
	url string
	key *rsa.PrivateKey
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: "k1", Algorithm: oidc.RS256}}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.SetIssuer(srv.URL)
	return &fakeIssuer{url: srv.URL, key: key}
}

func (f *fakeIssuer) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	base := map[string]any{"iss": f.url, "aud": "atigip", "sub": "u-42",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	for k, v := range claims {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	b, _ := json.Marshal(base)
	return oidctest.SignIDToken(f.key, "k1", oidc.RS256, string(b))
}

func proConnect(iss string) OIDCConfig {
	return OIDCConfig{Name: "proconnect", Issuer: iss, ClientID: "atigip", RoleClaim: "groups",
		RoleMap:          map[string]atigip.Role{"spip-cpip": atigip.RoleCPIP, "tj-magistrat": atigip.RoleMagistrate},
		DepartementClaim: "departement", PrisonIDClaim: "prison_id"}
}

func TestOIDC(t *testing.T) {
	iss := newFakeIssuer(t)
	other := newFakeIssuer(t)
	ctx := context.Background()
	o, err := NewOIDC(ctx, proConnect(iss.url))
	if err != nil {
		t.Fatal(err)
	}
	fc, err := NewOIDC(ctx, OIDCConfig{Name: "franceconnect", Issuer: iss.url, ClientID: "atigip",
		DefaultRole: atigip.RolePerson, PersonIDClaim: "atigip_person_id"})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := NewOIDC(ctx, OIDCConfig{Name: "oidc", Issuer: iss.url, ClientID: "atigip", RoleClaim: "atigip_role",
		NationalRoles: []atigip.Role{atigip.RoleDSPIP}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		auth   *OIDC
		token  string
		code   string
		expect atigip.Principal
	}{
		{"role from groups list", o, iss.sign(t, map[string]any{"groups": []string{"autre", "spip-cpip"}, "given_name": "Camille", "usual_name": "Martin", "departement": "69"}), "",
			atigip.Principal{Subject: "proconnect:u-42", Role: atigip.RoleCPIP, Name: "Camille Martin", Departement: "69"}},
		{"role from string, claims the role does not use dropped", o, iss.sign(t, map[string]any{"groups": "tj-magistrat", "name": "J. Juge", "prison_id": "7", "departement": "13"}), "",
			atigip.Principal{Subject: "proconnect:u-42", Role: atigip.RoleMagistrate, Name: "J. Juge", Departement: "13"}},
		{"professional without a département", o, iss.sign(t, map[string]any{"groups": "spip-cpip"}), atigip.EFORBIDDEN, atigip.Principal{}},
		{"default role (FranceConnect)", fc, iss.sign(t, map[string]any{"atigip_person_id": 12}), "",
			atigip.Principal{Subject: "franceconnect:u-42", Role: atigip.RolePerson, PersonID: 12}},
		{"role names without a map", direct, iss.sign(t, map[string]any{"atigip_role": "dspip"}), "",
			atigip.Principal{Subject: "oidc:u-42", Role: atigip.RoleDSPIP}},
		{"unknown role name without a map", direct, iss.sign(t, map[string]any{"atigip_role": "root"}), atigip.EFORBIDDEN, atigip.Principal{}},
		{"map excludes raw role names", o, iss.sign(t, map[string]any{"groups": "dspip"}), atigip.EFORBIDDEN, atigip.Principal{}},
		{"no habilitation", o, iss.sign(t, map[string]any{"groups": []string{"autre"}}), atigip.EFORBIDDEN, atigip.Principal{}},
		{"wrong audience", o, iss.sign(t, map[string]any{"aud": "someone-else", "groups": "spip-cpip"}), atigip.EUNAUTHORIZED, atigip.Principal{}},
		{"expired", o, iss.sign(t, map[string]any{"exp": time.Now().Add(-time.Hour).Unix(), "groups": "spip-cpip"}), atigip.EUNAUTHORIZED, atigip.Principal{}},
		{"other issuer's key", o, other.sign(t, map[string]any{"iss": iss.url, "groups": "spip-cpip"}), atigip.EUNAUTHORIZED, atigip.Principal{}},
		{"other issuer", o, other.sign(t, map[string]any{"groups": "spip-cpip"}), atigip.EUNAUTHORIZED, atigip.Principal{}},
		{"garbage", o, "not.a.jwt", atigip.EUNAUTHORIZED, atigip.Principal{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.auth.Authenticate(ctx, tc.token)
			if got := atigip.ErrorCode(err); got != tc.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.code)
			}
			if p != tc.expect {
				t.Fatalf("principal = %+v, want %+v", p, tc.expect)
			}
		})
	}
}

func TestNewOIDCErrors(t *testing.T) {
	ctx := context.Background()
	iss := newFakeIssuer(t)
	bad := proConnect(iss.url)
	bad.RoleMap = map[string]atigip.Role{"x": "root"}
	for name, cfg := range map[string]OIDCConfig{
		"missing client":  {Name: "p", Issuer: iss.url},
		"unknown role":    bad,
		"issuer down":     proConnect("http://127.0.0.1:1"),
		"unknown default": {Name: "p", Issuer: iss.url, ClientID: "c", DefaultRole: "root"},
		"machine default": {Name: "p", Issuer: iss.url, ClientID: "c", DefaultRole: atigip.RoleCaseSystem},
		"machine in map": {Name: "p", Issuer: iss.url, ClientID: "c", RoleClaim: "groups",
			RoleMap: map[string]atigip.Role{"appi": atigip.RoleCaseSystem}},
		"national host": {Name: "p", Issuer: iss.url, ClientID: "c", NationalRoles: []atigip.Role{atigip.RoleHost}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewOIDC(ctx, cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestChainAndNew(t *testing.T) {
	ctx := context.Background()
	iss := newFakeIssuer(t)
	chain, dev, err := New(ctx, Config{DevSecret: secret, OIDC: []OIDCConfig{proConnect(iss.url)}})
	if err != nil {
		t.Fatal(err)
	}
	devTok, _ := dev.Issue(atigip.Principal{Subject: "dev:r", Role: atigip.RoleReferent}, time.Hour)
	if p, err := chain.Authenticate(ctx, devTok); err != nil || p.Role != atigip.RoleReferent {
		t.Fatalf("dev token through chain: %+v %v", p, err)
	}
	oTok := iss.sign(t, map[string]any{"groups": "spip-cpip", "departement": "69"})
	if p, err := chain.Authenticate(ctx, oTok); err != nil || p.Role != atigip.RoleCPIP {
		t.Fatalf("oidc token through chain: %+v %v", p, err)
	}
	// A valid provider token without habilitation reports 403, not the
	// dev authenticator's 401.
	if _, err := chain.Authenticate(ctx, iss.sign(t, map[string]any{"groups": "x"})); atigip.ErrorCode(err) != atigip.EFORBIDDEN {
		t.Fatalf("no habilitation: %v", err)
	}

	t.Run("production refuses dev tokens", func(t *testing.T) {
		prod, dev, err := New(ctx, Config{Production: true, DevSecret: secret})
		if err != nil || dev != nil {
			t.Fatalf("dev = %v, err = %v", dev, err)
		}
		if _, err := prod.Authenticate(ctx, devTok); atigip.ErrorCode(err) != atigip.EUNAUTHORIZED {
			t.Fatalf("dev token accepted in production: %v", err)
		}
	})
	t.Run("production with explicit dev tokens", func(t *testing.T) {
		prod, dev, err := New(ctx, Config{Production: true, AllowDevTokens: true, DevSecret: secret})
		if err != nil || dev == nil {
			t.Fatalf("dev = %v, err = %v", dev, err)
		}
		if _, err := prod.Authenticate(ctx, devTok); err != nil {
			t.Fatal(err)
		}
	})
}
