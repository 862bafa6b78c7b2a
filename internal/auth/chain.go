package auth

import (
	"context"

	"github.com/atigip/atigip360/internal/atigip"
)

// Chain tries authenticators in order and returns the first principal.
// When all fail it returns the most telling error: a provider that is
// unavailable (503) or a valid token without habilitation (403) wins over
// "not my token" (401).
type Chain []atigip.Authenticator

// Authenticate implements atigip.Authenticator.
func (c Chain) Authenticate(ctx context.Context, token string) (atigip.Principal, error) {
	var best error
	rank := func(err error) int {
		switch atigip.ErrorCode(err) {
		case atigip.EFORBIDDEN:
			return 3
		case atigip.EUNAVAILABLE:
			return 2
		case atigip.EUNAUTHORIZED:
			return 1
		}
		return 0
	}
	for _, a := range c {
		p, err := a.Authenticate(ctx, token)
		if err == nil {
			return p, nil
		}
		if best == nil || rank(err) > rank(best) {
			best = err
		}
	}
	if best == nil {
		best = atigip.Errorf(atigip.EUNAUTHORIZED, "Aucun mode d'authentification n'est configuré.")
	}
	return atigip.Principal{}, best
}

// Config selects the authenticators of a deployment.
type Config struct {
	// Production refuses development tokens unless AllowDevTokens.
	Production     bool
	AllowDevTokens bool
	// DevSecret signs development tokens; empty disables them.
	DevSecret []byte
	// OIDC lists the identity providers (ProConnect, FranceConnect…).
	OIDC []OIDCConfig
}

// DevTokensEnabled reports whether cfg accepts development tokens: a
// secret is set and, in production, they were explicitly allowed.
func (cfg Config) DevTokensEnabled() bool {
	return len(cfg.DevSecret) > 0 && (!cfg.Production || cfg.AllowDevTokens)
}

// New builds the authenticator of cfg: the OIDC providers then, when
// enabled (DevTokensEnabled), development tokens; in production a dev
// secret without AllowDevTokens is ignored, so dev tokens are refused. The
// DevTokens are returned too (nil when disabled) for the sign-in page and
// the `atigip token` command. A chain without any authenticator refuses
// every token: only public routes are usable. In production, every OIDC
// provider must be able to give each of its roles its perimeter
// (OIDCConfig.CheckPerimeters).
func New(ctx context.Context, cfg Config) (Chain, *DevTokens, error) {
	var chain Chain
	for _, oc := range cfg.OIDC {
		// Production refuses a provider some of whose roles could never
		// get their perimeter, rather than refusing those users at sign-in.
		if cfg.Production {
			if err := oc.CheckPerimeters(); err != nil {
				return nil, nil, err
			}
		}
		o, err := NewOIDC(ctx, oc)
		if err != nil {
			return nil, nil, err
		}
		chain = append(chain, o)
	}
	var dev *DevTokens
	if cfg.DevTokensEnabled() {
		var err error
		if dev, err = NewDevTokens(cfg.DevSecret); err != nil {
			return nil, nil, err
		}
		chain = append(chain, dev)
	}
	return chain, dev, nil
}
