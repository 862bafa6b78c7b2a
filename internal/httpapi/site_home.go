package httpapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/web"
)

// HomeContributor is a module with a workspace: it tells « Mon espace »
// what waits for principal p there. A module whose workspace is not p's
// returns nil. Modules implement it next to their pages, so that each
// workspace owns its entry and the home page owns none.
type HomeContributor interface {
	HomeCards(s *Server, c *fiber.Ctx, p atigip.Principal) ([]web.HomeCard, error)
}

// workspaceRoles are the signed-in people: every role but the anonymous
// public and the machine clients.
var workspaceRoles = func() []atigip.Role {
	var out []atigip.Role
	for _, r := range atigip.Roles {
		if r.Role != atigip.RolePublic && r.Role != atigip.RoleCaseSystem {
			out = append(out, r.Role)
		}
	}
	return out
}()

// HomeModule serves « Mon espace », the signed-in home page: one card per
// workspace the principal's role has, each with what waits there.
type HomeModule struct{}

// Routes implements Module.
func (HomeModule) Routes(s *Server) []Route {
	return []Route{{Method: fiber.MethodGet, Path: "/espace", Tag: "site", Produces: htmlType, Roles: workspaceRoles,
		Summary: "Mon espace : ce qui attend l'utilisateur connecté dans chacun de ses espaces de travail",
		Handler: func(c *fiber.Ctx) error {
			p := s.Principal(c)
			var cards []web.HomeCard
			for _, m := range s.opts.Modules {
				hc, ok := m.(HomeContributor)
				if !ok {
					continue
				}
				got, err := hc.HomeCards(s, c, p)
				if err != nil {
					return s.Problem(c, err)
				}
				cards = append(cards, got...)
			}
			return s.page(c, fiber.StatusOK, "espace", s.layout(c, "Mon espace", "espace"), web.Home{Role: roleLabel(p.Role), Cards: cards})
		}}}
}
