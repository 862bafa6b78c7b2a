package auth

import (
	"context"
	"fmt"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// CodeFlowConfig is a provider browsers sign in with (ProConnect for
// professionals, FranceConnect for people): the OIDC claim mapping plus
// what the authorization-code flow needs.
type CodeFlowConfig struct {
	OIDC OIDCConfig
	// Label is what the sign-in button says (« ProConnect »).
	Label string
	// Who says who signs in with it (« professionnels de la justice… »).
	Who          string
	ClientSecret string
	// RedirectURL is this site's callback, registered at the provider.
	RedirectURL string
	// Scopes beyond "openid" (the claims the mapping reads).
	Scopes []string
}

// CodeFlow runs the OpenID Connect authorization-code flow with PKCE for
// one provider, and maps the ID token to a principal with the same claim
// mapping (perimeters included) as bearer tokens.
type CodeFlow struct {
	Name, Label, Who string
	oidc             *OIDC
	oauth            oauth2.Config
	endSession       string
}

// NewCodeFlow runs discovery and prepares the flow.
func NewCodeFlow(ctx context.Context, cfg CodeFlowConfig) (*CodeFlow, error) {
	if cfg.RedirectURL == "" {
		return nil, fmt.Errorf("auth: oidc %s: code flow needs a redirect URL", cfg.OIDC.Name)
	}
	o, err := NewOIDC(ctx, cfg.OIDC)
	if err != nil {
		return nil, err
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := o.provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("auth: oidc %s: discovery: %w", cfg.OIDC.Name, err)
	}
	label := cfg.Label
	if label == "" {
		label = cfg.OIDC.Name
	}
	return &CodeFlow{Name: cfg.OIDC.Name, Label: label, Who: cfg.Who, oidc: o, endSession: meta.EndSession,
		oauth: oauth2.Config{ClientID: cfg.OIDC.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: o.provider.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, cfg.Scopes...)}}, nil
}

// Start is a new sign-in: where to send the browser, and the state,
// nonce and PKCE verifier to keep server-side until the callback.
func (f *CodeFlow) Start() (authURL string, pending Pending) {
	pending = Pending{Provider: f.Name, State: RandomID(), Nonce: RandomID(), Verifier: oauth2.GenerateVerifier()}
	return f.oauth.AuthCodeURL(pending.State, oidc.Nonce(pending.Nonce), oauth2.S256ChallengeOption(pending.Verifier)), pending
}

// Finish exchanges the code (with the PKCE verifier) and maps the ID
// token, whose nonce must be the pending sign-in's. It returns the raw ID
// token too, the hint of the provider's logout.
func (f *CodeFlow) Finish(ctx context.Context, code string, p Pending) (atigip.Principal, string, error) {
	if f.oidc.cfg.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, f.oidc.cfg.HTTPClient)
	}
	tok, err := f.oauth.Exchange(ctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return atigip.Principal{}, "", &atigip.Error{Code: atigip.EUNAUTHORIZED,
			Message: "Connexion refusée par le fournisseur d'identité (code expiré ou déjà utilisé).", Err: fmt.Errorf("auth: oidc %s: exchange: %w", f.Name, err)}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return atigip.Principal{}, "", &atigip.Error{Code: atigip.EUNAUTHORIZED,
			Message: "Connexion refusée : le fournisseur d'identité n'a pas donné de jeton d'identité.", Err: fmt.Errorf("auth: oidc %s: no id_token", f.Name)}
	}
	pr, err := f.oidc.SignIn(ctx, raw, p.Nonce)
	return pr, raw, err
}

// LogoutURL is the provider's end_session_endpoint for an RP-initiated
// logout, coming back to back; empty when the provider has none.
func (f *CodeFlow) LogoutURL(idToken, back, state string) string {
	if f.endSession == "" {
		return ""
	}
	return f.endSession + "?" + urlValues("id_token_hint", idToken, "post_logout_redirect_uri", back, "state", state)
}
