package httpapi

import (
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
	"github.com/atigip/atigip360/internal/web"
	"github.com/gofiber/fiber/v2"
)

// The browser sign-in: the OpenID Connect authorization-code flow with
// PKCE against the providers of Options.SignIn (ProConnect for
// professionals, FranceConnect for people), then a server session whose
// opaque id is the cookie sidCookie. Bearer tokens keep working for the
// API; a request signed in by session must carry the CSRF token of the
// site's forms on every write (csrfGuard).

const (
	// sidCookie holds the id of a server session.
	sidCookie = "atigip_sid"
	// stateCookie binds a pending sign-in to the browser that began it.
	stateCookie = "atigip_signin"
	// localSession marks a request authenticated by a server session.
	localSession = "atigip.session"
)

// signinRoutes exist when at least one provider is configured.
func (s *Server) signinRoutes() []Route {
	if len(s.opts.SignIn) == 0 {
		return nil
	}
	prov := Param{Name: "fournisseur", In: "path", Type: "string", Description: "Fournisseur d'identité (proconnect, franceconnect)", Required: true}
	retour := Param{Name: "retour", In: "query", Type: "string", Description: "Page où revenir après la connexion"}
	return []Route{
		{Method: fiber.MethodGet, Path: "/connexion", Tag: "connexion", Produces: htmlType, Params: []Param{retour},
			Summary: "Page de connexion : choix du fournisseur d'identité (ProConnect, FranceConnect)", Handler: s.signinChoice},
		{Method: fiber.MethodGet, Path: "/connexion/:fournisseur", Tag: "connexion", Produces: htmlType, Params: []Param{prov, retour},
			Summary: "Commence la connexion OpenID Connect (code d'autorisation avec PKCE) : redirige vers le fournisseur",
			Status:  fiber.StatusSeeOther, Handler: s.signinStart},
		{Method: fiber.MethodGet, Path: "/connexion/:fournisseur/retour", Tag: "connexion", Produces: htmlType,
			Params: []Param{prov, {Name: "code", In: "query", Type: "string", Description: "Code d'autorisation"},
				{Name: "state", In: "query", Type: "string", Description: "État de la connexion"}},
			Summary: "Retour du fournisseur d'identité : vérifie l'état, échange le code, ouvre la session et revient à la page d'origine",
			Status:  fiber.StatusSeeOther, Handler: s.signinCallback},
		{Method: fiber.MethodPost, Path: "/deconnexion", Tag: "connexion", Produces: htmlType,
			Summary: "Déconnexion (formulaire, jeton CSRF) : ferme la session et, s'il le permet, la session du fournisseur d'identité",
			Status:  fiber.StatusSeeOther, Handler: s.signoutSession},
	}
}

func (s *Server) codeFlow(name string) *auth.CodeFlow {
	for _, f := range s.opts.SignIn {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// signinChoice lists the providers.
func (s *Server) signinChoice(c *fiber.Ctx) error {
	back := returnPath(c.Query("retour"))
	var d web.SignIn
	for _, f := range s.opts.SignIn {
		u := "/connexion/" + f.Name
		if back != "" {
			u += "?retour=" + urlQueryEscape(back)
		}
		d.Providers = append(d.Providers, web.SignInProvider{Label: f.Label, Who: f.Who, URL: u})
	}
	if s.opts.Dev && s.opts.DevIssuer != nil {
		d.Demo = "/dev/signin"
		if back != "" {
			d.Demo += "?retour=" + urlQueryEscape(back)
		}
	}
	return s.page(c, fiber.StatusOK, "connexion", s.layout(c, "Se connecter", ""), d)
}

func (s *Server) signinStart(c *fiber.Ctx) error {
	f := s.codeFlow(c.Params("fournisseur"))
	if f == nil {
		return s.errorPage(c, problemOf(atigip.Errorf(atigip.ENOTFOUND, "Fournisseur d'identité inconnu.")))
	}
	u, p := f.Start()
	p.Return = strings.Clone(returnPath(c.Query("retour"))) // Fiber reuses the request's buffer
	if err := s.sessions.Begin(c.UserContext(), p); err != nil {
		return s.errorPage(c, problemOf(err))
	}
	c.Cookie(&fiber.Cookie{Name: stateCookie, Value: p.State, Path: "/connexion/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: !s.opts.Dev, MaxAge: 600})
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Redirect(u, fiber.StatusSeeOther)
}

func (s *Server) signinCallback(c *fiber.Ctx) error {
	refuse := func(code, msg string, err error) error {
		return s.errorPage(c, problemOf(&atigip.Error{Code: code, Message: msg, Err: err}))
	}
	f := s.codeFlow(c.Params("fournisseur"))
	if f == nil {
		return refuse(atigip.ENOTFOUND, "Fournisseur d'identité inconnu.", nil)
	}
	state := c.Query("state")
	// The state must be this browser's (cookie) and a pending sign-in of
	// this provider (server-side, used once).
	if state == "" || c.Cookies(stateCookie) != state {
		return refuse(atigip.EINVALID, "Connexion refusée : cette réponse du fournisseur d'identité ne correspond à aucune connexion commencée dans ce navigateur. Recommencez la connexion.", nil)
	}
	c.Cookie(&fiber.Cookie{Name: stateCookie, Value: "", Path: "/connexion/", HTTPOnly: true, MaxAge: -1, Expires: time.Unix(1, 0)})
	p, err := s.sessions.Take(c.UserContext(), state)
	if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
		return s.errorPage(c, problemOf(err)) // the store is away: retry later
	}
	if err != nil || p.Provider != f.Name {
		return refuse(atigip.EINVALID, "Connexion refusée : elle a expiré ou a déjà été utilisée. Recommencez la connexion.", err)
	}
	if e := c.Query("error"); e != "" {
		return refuse(atigip.EUNAUTHORIZED, "Connexion annulée ou refusée par le fournisseur d'identité.", nil)
	}
	pr, idToken, err := f.Finish(c.UserContext(), c.Query("code"), p)
	if err != nil {
		return s.errorPage(c, problemOf(err))
	}
	if err := s.openSession(c, pr, f.Name, idToken); err != nil {
		return s.errorPage(c, problemOf(err))
	}
	s.log.Info("signed in", "provider", f.Name, "role", string(pr.Role))
	back := p.Return
	if back == "" {
		back = "/"
		if pr.Role == atigip.RolePerson {
			back = "/ma-mesure" // FranceConnect: the person's single window
		}
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

// signoutSession ends the server session, then the provider's when it
// has an end_session_endpoint.
func (s *Server) signoutSession(c *fiber.Ctx) error {
	if !csrfValid(c) {
		return s.errorPage(c, problemOf(errCSRF))
	}
	back := returnPath(c.FormValue("retour"))
	if back == "" {
		back = "/"
	}
	// The provider's sign-out needs the ID token the session holds.
	var ss auth.Session
	var ok bool
	if id := c.Cookies(sidCookie); id != "" && s.sessions != nil {
		var err error
		ss, err = s.sessions.Get(c.UserContext(), id)
		if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
			return s.errorPage(c, problemOf(err))
		}
		ok = err == nil
	}
	if err := s.endSession(c); err != nil {
		return s.errorPage(c, problemOf(err))
	}
	if ok {
		if f := s.codeFlow(ss.Provider); f != nil {
			if u := f.LogoutURL(ss.IDToken, c.BaseURL()+back, ""); u != "" {
				return c.Redirect(u, fiber.StatusSeeOther)
			}
		}
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

var errCSRF = atigip.Errorf(atigip.EFORBIDDEN, "Formulaire refusé : jeton de sécurité absent ou invalide. Rechargez la page et recommencez.")

// openSession opens a server session for p and sets its cookie.
func (s *Server) openSession(c *fiber.Ctx, p atigip.Principal, provider, idToken string) error {
	ss, err := s.sessions.Create(c.UserContext(), p, provider, idToken)
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: sidCookie, Value: ss.ID, Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: !s.opts.Dev})
	return nil
}

// endSession ends the request's server session, on every instance, and
// clears the session cookies (server session and development token).
// When the store fails, the cookies stay so that the user can try again.
func (s *Server) endSession(c *fiber.Ctx) error {
	if id := c.Cookies(sidCookie); id != "" && s.sessions != nil {
		if err := s.sessions.Delete(c.UserContext(), id); err != nil {
			return err
		}
	}
	gone := time.Unix(1, 0)
	for _, name := range []string{sidCookie, SessionCookie} {
		c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
			Secure: !s.opts.Dev, MaxAge: -1, Expires: gone})
	}
	return nil
}

// sessionPrincipal is the principal of the request's server session:
// one primary-key read in the store, so that a sign-out on any instance
// holds here at once.
func (s *Server) sessionPrincipal(c *fiber.Ctx) (atigip.Principal, bool, error) {
	if s.sessions == nil {
		return atigip.Principal{}, false, nil
	}
	id := c.Cookies(sidCookie)
	if id == "" {
		return atigip.Principal{}, false, nil
	}
	p, err := s.sessions.Principal(c.UserContext(), id)
	if atigip.ErrorCode(err) == atigip.ENOTFOUND {
		return atigip.Principal{}, false, nil // ended or expired: anonymous, as a bad cookie
	}
	if err != nil {
		return atigip.Principal{}, false, err
	}
	return p, true, nil
}

// csrfGuard refuses a write signed in by session without the form's CSRF
// token (field csrf, or header X-CSRF-Token for scripts): the session
// cookie travels with requests another site makes the browser send.
func csrfGuard(c *fiber.Ctx) bool {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return true
	}
	return csrfValid(c)
}
