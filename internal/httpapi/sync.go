package httpapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/crmsync"
	"github.com/atigip/atigip360/internal/atigip"
)

// SyncModule shows the CRM sync to referents and lets them start a run.
type SyncModule struct {
	Syncer *crmsync.Syncer
	// Trigger asks the serve loop for a run now; a full channel means a
	// run is already asked for, which is as good.
	Trigger chan<- struct{}
}

var syncRoles = []atigip.Role{atigip.RoleReferent, atigip.RoleDSPIP}

// Routes implements Module.
func (m SyncModule) Routes(s *Server) []Route {
	return []Route{
		{
			Method: fiber.MethodGet, Path: "/api/sync/status", Roles: syncRoles, Tag: "sync",
			Summary: "State of the Axelor CRM sync: last run, lag, counts, errors, conflicts",
			Handler: func(c *fiber.Ctx) error { return c.JSON(m.Syncer.Status()) },
		},
		{
			Method: fiber.MethodPost, Path: "/api/sync/run", Roles: syncRoles, Tag: "sync",
			Summary: "Ask for a CRM sync now (202: queued behind a running one if any)", Status: fiber.StatusAccepted,
			Handler: func(c *fiber.Ctx) error {
				select {
				case m.Trigger <- struct{}{}:
				default:
				}
				return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"queued": true})
			},
		},
	}
}
