package httpapi

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"io/fs"
	"mime"
	"path"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/tiles"
)

// SiteModule serves the website's pages around the map: a sheet per post
// and per establishment, « Postes disponibles autour de… » for hearings,
// the floor-space search for businesses with its contact request, the
// legal pages, and the design system's files. Pages are server-rendered
// and work without JavaScript.
type SiteModule struct {
	// Engine answers « Postes autour de… » (the posts the map shows);
	// nil leaves that page out.
	Engine *tiles.Engine
}

// hearingRoles prepare or hold hearings and see places left: the roles
// of the « Postes autour de… » page.
var hearingRoles = []atigip.Role{atigip.RoleMagistrate, atigip.RoleClerk, atigip.RoleLawyer,
	atigip.RoleReferent, atigip.RoleCPIP, atigip.RolePJJ, atigip.RoleDSPIP}

const htmlType = "text/html; charset=utf-8"

// Routes implements Module.
func (m SiteModule) Routes(s *Server) []Route {
	id := Param{Name: "id", In: "path", Type: "integer", Description: "Identifiant", Required: true}
	q := func(name, typ, desc string) Param {
		return Param{Name: name, In: "query", Type: typ, Description: desc}
	}
	page := func(p, summary string, h fiber.Handler) Route {
		return Route{Method: fiber.MethodGet, Path: p, Tag: "site", Produces: htmlType, Summary: summary, Handler: h}
	}
	rs := []Route{
		func() Route {
			r := page("/postes/:id", "Fiche d'un poste de TIG (ce que le rôle peut voir ; 404 sinon)", m.post(s))
			r.Params = []Param{id}
			return r
		}(),
		func() Route {
			r := page("/etablissements/:id", "Fiche d'un établissement pénitentiaire : surfaces d'implantation, offres, contact", m.prison(s))
			r.Params = []Param{id, q("envoye", "integer", "Numéro de la demande de contact qui vient d'être envoyée")}
			return r
		}(),
		{Method: fiber.MethodPost, Path: "/etablissements/:id/contact", Tag: "site", Produces: htmlType, Params: []Param{id},
			Roles:   []atigip.Role{atigip.RoleBusiness},
			Summary: "Demande de contact d'une entreprise à un établissement (formulaire, jeton CSRF) ; redirige vers la fiche",
			Status:  fiber.StatusSeeOther, Handler: m.contact(s)},
		func() Route {
			r := page("/surfaces", "Recherche des surfaces d'implantation (entreprises) : liste et carte", m.floors(s))
			r.Params = []Param{q("surface_min", "number", "Superficie minimale en m²"), q("surface_max", "number", "Superficie maximale en m²"),
				q("hauteur_min", "number", "Hauteur sous plafond minimale en m"), q("puissance_min", "number", "Puissance minimale en kVA"),
				q("quai", "boolean", "Avec quai de chargement"), q("usage", "string", "production, storage ou office"),
				q("region", "string", "Code INSEE de la région"), q("departement", "string", "Code du département"),
				q("disponible", "string", "Disponible au plus tard le (AAAA-MM-JJ)")}
			return r
		}(),
		page("/mentions-legales", "Mentions légales", m.legal(s, "mentions-legales", "Mentions légales")),
		page("/donnees-personnelles", "Données personnelles et cookies", m.legal(s, "donnees-personnelles", "Données personnelles et cookies")),
		page("/accessibilite", "Déclaration d'accessibilité", m.legal(s, "accessibilite", "Déclaration d'accessibilité")),
		{Method: fiber.MethodGet, Path: "/static/dsfr/*", Tag: "site", Produces: "application/octet-stream",
			Params:  []Param{{Name: "*", In: "path", Type: "string", Description: "Fichier du système de design de l'État", Required: true}},
			Summary: "Système de design de l'État (DSFR), servi localement (installé par make web)", Handler: m.dsfr(s)},
	}
	if m.Engine != nil {
		r := page("/autour", "Postes disponibles autour d'une commune ou d'une adresse, imprimable (audiences)", m.around(s))
		r.Roles = hearingRoles
		r.Params = []Param{q("lieu", "string", "Commune, code postal ou adresse"), q("rayon", "integer", "Rayon en km (5, 10, 20, 30 ou 50)"),
			q("domaine", "string", "Grand domaine ROME (A..N)"), q("places", "boolean", "Avec places restantes"),
			q("mineurs", "boolean", "Mineurs acceptés"), q("weekends", "boolean", "Le week-end"),
			q("fauteuil", "boolean", "Accessible en fauteuil"), q("transports", "boolean", "Desservi par les transports en commun")}
		rs = append(rs, r)
	}
	return rs
}

// layout is the frame of a page for the request's principal.
func (s *Server) layout(c *fiber.Ctx, title, nav string, crumbs ...web.Crumb) web.Layout {
	p := s.Principal(c)
	authed, _ := c.Locals(localAuthed).(bool)
	l := web.Layout{Title: title, Path: c.OriginalURL(), Nav: nav, Crumbs: crumbs, Demo: s.opts.Dev,
		Hearing: slices.Contains(hearingRoles, p.Role), Map: nav == "carte"}
	if authed {
		l.Signed, l.RoleLabel = true, roleLabel(p.Role)
	}
	if s.opts.Dev && s.opts.DevIssuer != nil {
		l.SignInURL = "/dev/signin"
		if authed {
			l.SignOutURL = "/dev/signout"
		}
	}
	if len(s.opts.SignIn) > 0 {
		l.SignInURL = "/connexion"
	}
	if bySession, _ := c.Locals(localSession).(bool); bySession {
		// Signed in by a cookie: the sign-out form is under the CSRF check.
		l.CSRF = s.csrfToken(c)
		if len(s.opts.SignIn) > 0 {
			l.SignOutURL = "/deconnexion"
		}
	}
	return l
}

// page renders a page with its layout.
func (s *Server) page(c *fiber.Ctx, status int, name string, l web.Layout, d any) error {
	b, err := web.Render(name, l, d)
	if err != nil {
		return s.Problem(c, err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(b)
}

// wantsHTML reports whether the client prefers a web page to JSON: a
// browser navigating (Accept: text/html…), not an API client or fetch().
func wantsHTML(c *fiber.Ctx) bool {
	return c.Accepts(fiber.MIMEApplicationJSON, ContentTypeProblem, fiber.MIMETextHTML) == fiber.MIMETextHTML
}

// errorPage is problem p as a French page, for browsers.
func (s *Server) errorPage(c *fiber.Ctx, p ProblemDetails) error {
	e := web.ErrorPage{Status: p.Status, Title: p.Title, Detail: p.Detail}
	switch p.Status {
	case fiber.StatusNotFound:
		e.Title, e.Lead = "Page non trouvée", "La page que vous cherchez est introuvable : l'adresse est peut-être erronée, ou la page n'existe plus. Excusez-nous pour la gêne occasionnée."
	case fiber.StatusUnauthorized:
		e.Title, e.Lead = "Connexion requise", "Cette page est réservée aux utilisateurs connectés."
		if s.opts.Dev && s.opts.DevIssuer != nil {
			e.SignIn = "/dev/signin?retour=" + urlQueryEscape(c.OriginalURL())
		}
		if len(s.opts.SignIn) > 0 {
			e.SignIn = "/connexion?retour=" + urlQueryEscape(c.OriginalURL())
		}
	case fiber.StatusForbidden:
		e.Title, e.Lead = "Accès refusé", "Votre rôle ne permet pas d'accéder à cette page. Si vous pensez qu'il s'agit d'une erreur, contactez votre administrateur."
	case fiber.StatusInternalServerError:
		e.Title, e.Lead, e.Detail = "Erreur inattendue", "Désolé, le service rencontre un problème, nous travaillons pour le résoudre le plus rapidement possible. Essayez de rafraîchir la page ou réessayez plus tard.", ""
	case fiber.StatusServiceUnavailable:
		e.Lead = "Le service est momentanément indisponible. Réessayez dans quelques minutes."
	default:
		e.Lead = "La demande n'a pas pu être traitée."
	}
	b, err := web.Render("erreur", s.layout(c, e.Title, ""), e)
	if err != nil {
		c.Status(fiber.StatusInternalServerError)
		return c.SendString("Erreur interne du serveur.")
	}
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(b)
}

func urlQueryEscape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "?", "%3F", "#", "%23", " ", "%20", "+", "%2B").Replace(s)
}

// csrfCookie holds the double-submit token of the site's forms: a form is
// accepted only if its csrf field equals the cookie, which a page of
// another site can neither read nor set.
const csrfCookie = "atigip_csrf"

// csrfToken returns the request's CSRF token, setting the cookie if none.
func (s *Server) csrfToken(c *fiber.Ctx) string {
	if v := c.Cookies(csrfCookie); len(v) == 43 {
		return v
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: tok, Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteStrictMode, Secure: !s.opts.Dev})
	return tok
}

// csrfValid checks a submitted form (field csrf, or header X-CSRF-Token
// for scripts) against the cookie.
func csrfValid(c *fiber.Ctx) bool {
	ck, f := c.Cookies(csrfCookie), c.Get("X-CSRF-Token")
	if f == "" {
		f = c.FormValue("csrf")
	}
	return len(ck) == 43 && subtle.ConstantTimeCompare([]byte(ck), []byte(f)) == 1
}

// legal serves a page of fixed text (mentions légales, données
// personnelles, accessibilité).
func (m SiteModule) legal(s *Server, name, title string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		return s.page(c, fiber.StatusOK, name, s.layout(c, title, ""), nil)
	}
}

// dsfr serves the design system's files from static/vendor/dsfr.
func (m SiteModule) dsfr(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		name := c.Params("*")
		if !fs.ValidPath(name) || strings.Contains(name, "..") {
			return s.Problem(c, atigip.Errorf(atigip.ENOTFOUND, "Fichier introuvable."))
		}
		b, err := fs.ReadFile(web.Static(), "vendor/dsfr/"+name)
		if err != nil {
			return s.Problem(c, atigip.Errorf(atigip.ENOTFOUND, "Fichier introuvable : le système de design de l'État n'est pas installé (lancez make web)."))
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		c.Set(fiber.HeaderContentType, ct)
		c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
		return c.Send(b)
	}
}
