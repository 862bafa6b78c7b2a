package oidctest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
)

// The authorization-code flow of the provider, as an OpenID Connect
// provider runs it (RFC 6749 §4.1, PKCE RFC 7636, OIDC Core §3.1,
// RP-initiated logout 1.0): /auth signs in the user set by SignInAs
// without a login form and redirects back with a code; /token exchanges a
// code once, only with the PKCE verifier of its challenge and the same
// redirect URI; /logout records the call and redirects back. go-oidc's
// test server serves discovery and keys only.

// ClientSecret is the secret /token expects of ClientID.
const ClientSecret = "atigip360-test-secret"

type grant struct {
	claims              map[string]any
	challenge, redirect string
}

// SignInAs sets who signs in at /auth from now on (nil: /auth answers
// access_denied, as when the user cancels).
func (p *Provider) SignInAs(pr *atigip.Principal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = nil
	if pr != nil {
		p.user = Claims(*pr)
	}
}

// SignInClaims sets raw claims for the next sign-ins.
func (p *Provider) SignInClaims(c map[string]any) { p.mu.Lock(); p.user = c; p.mu.Unlock() }

// Logouts are the query parameters of the calls to /logout so far.
func (p *Provider) Logouts() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.logouts...)
}

func (p *Provider) handler(keys http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/keys", keys)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.URL, "authorization_endpoint": p.URL + "/auth", "token_endpoint": p.URL + "/token",
			"jwks_uri": p.URL + "/keys", "end_session_endpoint": p.URL + "/logout",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
		})
	})
	mux.HandleFunc("GET /auth", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.logouts = append(p.logouts, r.URL.Query())
		p.mu.Unlock()
		back := r.URL.Query().Get("post_logout_redirect_uri")
		if back == "" {
			w.WriteHeader(http.StatusOK)
			return
		}
		u, _ := url.Parse(back)
		q := u.Query()
		if st := r.URL.Query().Get("state"); st != "" {
			q.Set("state", st)
		}
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	return mux
}

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != ClientID || err != nil || redirect.Scheme == "" {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	p.mu.Lock()
	user := p.user
	p.mu.Unlock()
	switch {
	case q.Get("response_type") != "code":
		back.Set("error", "unsupported_response_type")
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		back.Set("error", "invalid_request") // PKCE is required, as ProConnect requires it
	case user == nil:
		back.Set("error", "access_denied")
	default:
		claims := map[string]any{}
		for k, v := range user {
			claims[k] = v
		}
		claims["nonce"] = q.Get("nonce")
		code := auth.RandomID()
		p.mu.Lock()
		p.codes[code] = grant{claims: claims, challenge: q.Get("code_challenge"), redirect: redirect.String()}
		p.mu.Unlock()
		back.Set("code", code)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	fail := func(code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != ClientID || secret != ClientSecret {
		fail("invalid_client")
		return
	}
	if r.PostFormValue("grant_type") != "authorization_code" {
		fail("unsupported_grant_type")
		return
	}
	p.mu.Lock()
	g, ok := p.codes[r.PostFormValue("code")]
	delete(p.codes, r.PostFormValue("code")) // a code is used once, even by a failed exchange
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if !ok || g.redirect != r.PostFormValue("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		fail("invalid_grant")
		return
	}
	idToken, err := p.sign(g.claims)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": auth.RandomID(), "token_type": "Bearer",
		"expires_in": 3600, "id_token": idToken})
}
