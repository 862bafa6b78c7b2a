package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
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
	// Optional claims carrying the principal's attachments.
	OrganisationIDClaim, PrisonIDClaim, PersonIDClaim, DepartementClaim string
	// HTTPClient fetches discovery and keys (default http.DefaultClient).
	HTTPClient *http.Client
}

// OIDC verifies bearer tokens signed by one OpenID Connect provider.
type OIDC struct {
	cfg      OIDCConfig
	verifier *oidc.IDTokenVerifier
}

// NewOIDC runs discovery against cfg.Issuer and returns a verifier. The
// provider's keys are fetched lazily and refreshed on rotation by go-oidc.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if cfg.Name == "" || cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, errors.New("auth: oidc: name, issuer and client id are required")
	}
	if cfg.DefaultRole != "" && !cfg.DefaultRole.Valid() {
		return nil, fmt.Errorf("auth: oidc %s: unknown default role %q", cfg.Name, cfg.DefaultRole)
	}
	for v, r := range cfg.RoleMap {
		if !r.Valid() {
			return nil, fmt.Errorf("auth: oidc %s: claim value %q maps to unknown role %q", cfg.Name, v, r)
		}
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
	return &OIDC{cfg: cfg, verifier: v}, nil
}

// Authenticate implements atigip.Authenticator.
func (o *OIDC) Authenticate(ctx context.Context, token string) (atigip.Principal, error) {
	if o.cfg.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, o.cfg.HTTPClient)
	}
	tok, err := o.verifier.Verify(ctx, token)
	if err != nil {
		return atigip.Principal{}, &atigip.Error{Code: atigip.EUNAUTHORIZED,
			Message: "Jeton d'accès invalide ou expiré.", Err: fmt.Errorf("auth: oidc %s: %w", o.cfg.Name, err)}
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return atigip.Principal{}, &atigip.Error{Code: atigip.EUNAUTHORIZED,
			Message: "Jeton d'accès illisible.", Err: fmt.Errorf("auth: oidc %s: claims: %w", o.cfg.Name, err)}
	}
	role := o.role(claims)
	if role == "" {
		return atigip.Principal{}, atigip.Errorf(atigip.EFORBIDDEN, "Votre compte n'a pas d'habilitation pour ATIGIP 360.")
	}
	p := atigip.Principal{Subject: o.cfg.Name + ":" + tok.Subject, Role: role, Name: displayName(claims)}
	p.OrganisationID = intClaim(claims, o.cfg.OrganisationIDClaim)
	p.PrisonID = intClaim(claims, o.cfg.PrisonIDClaim)
	p.PersonID = intClaim(claims, o.cfg.PersonIDClaim)
	if o.cfg.DepartementClaim != "" {
		p.Departement, _ = claims[o.cfg.DepartementClaim].(string)
	}
	return p, nil
}

func (o *OIDC) role(claims map[string]any) atigip.Role {
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
			if r, ok := o.cfg.RoleMap[v]; ok {
				return r
			}
			if r := atigip.Role(v); len(o.cfg.RoleMap) == 0 && r.Valid() {
				return r
			}
		}
	}
	return o.cfg.DefaultRole
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

func intClaim(claims map[string]any, name string) int64 {
	if name == "" {
		return 0
	}
	switch v := claims[name].(type) {
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}
