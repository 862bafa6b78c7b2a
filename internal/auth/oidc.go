package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/coreos/go-oidc/v3/oidc"
)

// OIDCConfig describes one OpenID Connect provider.
type OIDCConfig struct {
	// Name prefixes subjects ("proconnect:<sub>") so that two providers'
	// subjects never collide.
	Name string
	// Issuer is the provider's issuer URL; discovery reads
	// Issuer/.well-known/openid-configuration.
	Issuer string
	// ClientID is the expected audience of the tokens.
	ClientID string
	// RoleClaim names the claim (string or list of strings) holding the
	// user's role or groups; RoleMap maps its values to roles. Without a
	// RoleMap, values that are role names ("cpip", "dspip"…) are taken as
	// is. When the claim is absent or unmapped, DefaultRole applies; when
	// that is empty too the token is refused (403).
	RoleClaim   string
	RoleMap     map[string]atigip.Role
	DefaultRole atigip.Role
	// Claims carrying the principal's attachments, its perimeter: the
	// département of a justice professional, the establishment of prison
	// staff, the organisation of a host, the company (SIRET or SIREN) of a
	// business, the record of a person. A token whose role needs one
	// (Needs) and does not carry it is refused (403): a missing claim
	// never widens a perimeter to the whole country.
	OrganisationIDClaim, PrisonIDClaim, PersonIDClaim, DepartementClaim, SIRETClaim string
	// NationalRoles may sign in without a département (or, for prison
	// staff, without an establishment): central administration. Their
	// tokens then act nationally, so list only roles whose accounts at
	// this provider are all national.
	NationalRoles []atigip.Role
	// HTTPClient fetches discovery and keys (default http.DefaultClient).
	HTTPClient *http.Client
}

// OIDC verifies bearer tokens signed by one OpenID Connect provider.
type OIDC struct {
	cfg      OIDCConfig
	verifier *oidc.IDTokenVerifier
	provider *oidc.Provider
}

// NewOIDC runs discovery against cfg.Issuer and returns a verifier. The
// provider's keys are fetched lazily and refreshed on rotation by go-oidc.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, cfg.HTTPClient)
	}
	p, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: oidc %s: discovery: %w", cfg.Name, err)
	}
	// The verifier keeps the client context for key refreshes.
	v := p.VerifierContext(ctx, &oidc.Config{ClientID: cfg.ClientID})
	return &OIDC{cfg: cfg, verifier: v, provider: p}, nil
}

// validate checks cfg without contacting the provider.
func (cfg OIDCConfig) validate() error {
	if cfg.Name == "" || cfg.Issuer == "" || cfg.ClientID == "" {
		return errors.New("auth: oidc: name, issuer and client id are required")
	}
	if cfg.DefaultRole != "" && !cfg.DefaultRole.Valid() {
		return fmt.Errorf("auth: oidc %s: unknown default role %q", cfg.Name, cfg.DefaultRole)
	}
	if cfg.DefaultRole == atigip.RoleCaseSystem {
		return fmt.Errorf("auth: oidc %s: %s is a machine role (API key), never a default role", cfg.Name, cfg.DefaultRole)
	}
	for v, r := range cfg.RoleMap {
		if !r.Valid() {
			return fmt.Errorf("auth: oidc %s: claim value %q maps to unknown role %q", cfg.Name, v, r)
		}
		if r == atigip.RoleCaseSystem {
			return fmt.Errorf("auth: oidc %s: claim value %q maps to %s, a machine role given by API key only", cfg.Name, v, r)
		}
	}
	for _, r := range cfg.NationalRoles {
		if Needs(r) != AttachDepartement && r != atigip.RolePrisonStaff {
			return fmt.Errorf("auth: oidc %s: national role %q: only roles bound to a département or an establishment can be national", cfg.Name, r)
		}
	}
	return nil
}

// Authenticate implements atigip.Authenticator.
func (o *OIDC) Authenticate(ctx context.Context, token string) (atigip.Principal, error) {
	return o.principal(ctx, token, nil)
}

// SignIn maps the ID token of an authorization-code sign-in to a
// principal, as Authenticate does, and also requires the nonce the
// sign-in sent: an ID token minted for another sign-in is refused.
func (o *OIDC) SignIn(ctx context.Context, idToken, nonce string) (atigip.Principal, error) {
	return o.principal(ctx, idToken, func(tok *oidc.IDToken) error {
		if nonce == "" || subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(nonce)) != 1 {
			return &atigip.Error{Code: atigip.EUNAUTHORIZED, Message: "Connexion refusée : le jeton d'identité ne correspond pas à cette connexion.",
				Err: fmt.Errorf("auth: oidc %s: nonce mismatch", o.cfg.Name)}
		}
		return nil
	})
}

func (o *OIDC) principal(ctx context.Context, token string, check func(*oidc.IDToken) error) (atigip.Principal, error) {
	if o.cfg.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, o.cfg.HTTPClient)
	}
	tok, err := o.verifier.Verify(ctx, token)
	if err != nil {
		return atigip.Principal{}, &atigip.Error{Code: atigip.EUNAUTHORIZED,
			Message: "Jeton d'accès invalide ou expiré.", Err: fmt.Errorf("auth: oidc %s: %w", o.cfg.Name, err)}
	}
	if check != nil {
		if err := check(tok); err != nil {
			return atigip.Principal{}, err
		}
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return atigip.Principal{}, &atigip.Error{Code: atigip.EUNAUTHORIZED,
			Message: "Jeton d'accès illisible.", Err: fmt.Errorf("auth: oidc %s: claims: %w", o.cfg.Name, err)}
	}
	role, err := o.role(claims)
	if err != nil {
		return atigip.Principal{}, err
	}
	p := atigip.Principal{Subject: o.cfg.Name + ":" + tok.Subject, Role: role, Name: displayName(claims)}
	if err := o.attach(&p, claims); err != nil {
		return atigip.Principal{}, err
	}
	return p, nil
}

// role is the first value of the role claim that maps to a role, else the
// default role. A value naming the machine role is refused outright: no
// account of an identity provider acts as APPI.
func (o *OIDC) role(claims map[string]any) (atigip.Role, error) {
	if o.cfg.RoleClaim != "" {
		var values []string
		switch v := claims[o.cfg.RoleClaim].(type) {
		case string:
			values = []string{v}
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					values = append(values, s)
				}
			}
		}
		for _, v := range values {
			if len(o.cfg.RoleMap) == 0 && atigip.Role(v) == atigip.RoleCaseSystem {
				return "", atigip.Errorf(atigip.EFORBIDDEN,
					"Le rôle %s est réservé aux systèmes APPI et GENESIS, avec une clé d'API : un compte personnel ne peut pas le recevoir.", v)
			}
			if r, ok := o.cfg.RoleMap[v]; ok {
				return r, nil
			}
			if r := atigip.Role(v); len(o.cfg.RoleMap) == 0 && r.Valid() {
				return r, nil
			}
		}
	}
	if o.cfg.DefaultRole == "" {
		return "", atigip.Errorf(atigip.EFORBIDDEN, "Votre compte n'a pas d'habilitation pour ATIGIP 360.")
	}
	return o.cfg.DefaultRole, nil
}

// displayName follows the claims of ProConnect/FranceConnect (given_name,
// usual_name or family_name) and standard OIDC (name).
func displayName(claims map[string]any) string {
	if n, ok := claims["name"].(string); ok && n != "" {
		return n
	}
	var parts []string
	for _, k := range []string{"given_name", "usual_name", "family_name"} {
		if s, ok := claims[k].(string); ok && s != "" {
			parts = append(parts, s)
			if k == "usual_name" {
				break
			}
		}
	}
	return strings.Join(parts, " ")
}
