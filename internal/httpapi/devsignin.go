package httpapi

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/web/signin"
	"github.com/gofiber/fiber/v2"
)

// devRoutes are the development sign-in routes; they exist only when
// Options.Dev is set and a DevIssuer is given, so in production the paths
// answer 404.
func (s *Server) devRoutes() []Route {
	if !s.opts.Dev || s.opts.DevIssuer == nil {
		return nil
	}
	const html = "text/html; charset=utf-8"
	return []Route{
		{Method: fiber.MethodGet, Path: "/dev/signin", Tag: "développement", Produces: html,
			Params:  []Param{{Name: "retour", In: "query", Type: "string", Description: "Page où revenir après la connexion"}},
			Summary: "Page de connexion de démonstration (développement uniquement)", Handler: s.signinPage},
		{Method: fiber.MethodPost, Path: "/dev/signin", Tag: "développement", Produces: html,
			Summary: "Connexion de démonstration : choisit un rôle, pose le cookie de session, revient à la page d'origine (303) s'il y en a une",
			Status:  fiber.StatusOK, Also: []int{fiber.StatusSeeOther}, Handler: s.signin},
		{Method: fiber.MethodPost, Path: "/dev/signout", Tag: "développement", Produces: html,
			Summary: "Déconnexion (efface le cookie de session)", Status: fiber.StatusSeeOther, Handler: s.signout},
	}
}

func (s *Server) renderSignin(c *fiber.Ctx, pg signin.Page) error {
	pg.Roles = signin.Roles()
	if pg.Current == nil {
		if p := s.Principal(c); p.Subject != atigip.Anonymous.Subject {
			pg.Current = &p
		}
	}
	if pg.Current != nil {
		pg.CurrentLabel = roleLabel(pg.Current.Role)
	}
	pg.Origin = c.BaseURL()
	if pg.Return == "" {
		pg.Return = returnPath(c.Query("retour", c.FormValue("retour")))
	}
	pg.TTL = humanTTL(s.opts.DevTokenTTL)
	pg.CSRF = s.csrfToken(c)
	for _, m := range s.opts.Modules {
		if h, ok := m.(DemoHinter); ok {
			ex, err := h.DemoExamples(c.UserContext(), s.Store())
			if err != nil {
				return err
			}
			pg.Examples = append(pg.Examples, ex...)
		}
	}
	var b bytes.Buffer
	if err := signin.Render(&b, pg); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(b.Bytes())
}

// DemoHinter is a module that suggests, on the development sign-in page,
// perimeters where its workspace has data to try.
type DemoHinter interface {
	DemoExamples(ctx context.Context, st atigip.Store) ([]string, error)
}

func humanTTL(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + " heures"
	}
	return strconv.Itoa(int(d/time.Minute)) + " minutes"
}

func (s *Server) signinPage(c *fiber.Ctx) error { return s.renderSignin(c, signin.Page{}) }

func (s *Server) signin(c *fiber.Ctx) error {
	role := atigip.Role(c.FormValue("role"))
	if !role.Valid() {
		c.Status(fiber.StatusBadRequest)
		return s.renderSignin(c, signin.Page{Error: "Choisissez un rôle dans la liste."})
	}
	p := atigip.Principal{Subject: "dev:" + string(role), Role: role, Name: roleLabel(role) + " (démonstration)"}
	var bad []string
	id := func(field, label string) int64 {
		v := strings.TrimSpace(c.FormValue(field))
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad = append(bad, label)
		}
		return n
	}
	p.OrganisationID = id("organisation_id", "structure d'accueil")
	p.PrisonID = id("prison_id", "établissement pénitentiaire")
	p.PersonID = id("person_id", "personne suivie")
	if d := strings.ToUpper(strings.TrimSpace(c.FormValue("departement"))); d != "" {
		if !validDepartementCode(d) {
			bad = append(bad, "département")
		}
		p.Departement = d
	}
	if len(bad) > 0 {
		c.Status(fiber.StatusBadRequest)
		return s.renderSignin(c, signin.Page{Error: "Rattachement invalide : " + strings.Join(bad, ", ") + "."})
	}
	if v := strings.TrimSpace(c.FormValue("siret")); v != "" {
		if len(v) != 14 || strings.Trim(v, "0123456789") != "" {
			bad = append(bad, "SIRET")
		}
		p.SIRET = v
	}
	if p.PersonID != 0 {
		p.Subject += ":" + strconv.FormatInt(p.PersonID, 10)
	}
	tok, err := s.opts.DevIssuer.Issue(p, s.opts.DevTokenTTL)
	if err != nil {
		return s.Problem(c, err)
	}
	// The browser gets a server session, as with ProConnect, so that its
	// forms are under the same CSRF check; the token is for curl. A former
	// token cookie goes, else it would outlive this session's sign-out.
	if err := s.endSession(c); err != nil {
		return s.Problem(c, err)
	}
	if err := s.openSession(c, p, "dev", ""); err != nil {
		return s.Problem(c, err)
	}
	if back := returnPath(c.FormValue("retour")); back != "" {
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	return s.renderSignin(c, signin.Page{Current: &p, Token: tok})
}

// signout ends the server session (the CSRF check of authenticate
// guards it, as every write signed in by cookie).
func (s *Server) signout(c *fiber.Ctx) error {
	if err := s.endSession(c); err != nil {
		return s.Problem(c, err)
	}
	if back := returnPath(c.FormValue("retour")); back != "" {
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	return c.Redirect("/dev/signin", fiber.StatusSeeOther)
}

// returnPath keeps a way back only if it is a path of this site: never
// another site ("//evil", "https://…", "/\\evil"), which would make the
// sign-in an open redirect.
func returnPath(v string) string {
	if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.HasPrefix(v, "/\\") ||
		strings.ContainsAny(v, "\r\n") || strings.HasPrefix(v, "/dev/") {
		return ""
	}
	return v
}
