package httpapi

import (
	"context"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Health is the body of /healthz and /readyz.
type Health struct {
	Status string `json:"status"`
}

// builtinRoutes are the routes every server has.
func (s *Server) builtinRoutes() []Route {
	routes := []Route{
		{Method: fiber.MethodGet, Path: "/healthz", Tag: "exploitation", Summary: "Vivacité du processus",
			Response: Health{}, Handler: func(c *fiber.Ctx) error { return c.JSON(Health{Status: "ok"}) }},
		{Method: fiber.MethodGet, Path: "/readyz", Tag: "exploitation", Summary: "Disponibilité (base de données joignable)",
			Response: Health{}, Handler: s.ready},
		{Method: fiber.MethodGet, Path: "/metrics", Tag: "exploitation", Summary: "Métriques Prometheus",
			Produces: "text/plain; version=0.0.4",
			Handler:  adaptor.HTTPHandler(promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{}))},
		{Method: fiber.MethodGet, Path: "/openapi.json", Tag: "exploitation", Summary: "Description OpenAPI 3.1 de l'API",
			Handler: func(c *fiber.Ctx) error {
				c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
				return c.Send(s.openapi)
			}},
	}
	routes = append(routes, s.crudRoutes()...)
	routes = append(routes, s.devRoutes()...)
	return routes
}

func (s *Server) ready(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return s.Problem(c, &atigip.Error{Code: atigip.EUNAVAILABLE, Message: "La base de données ne répond pas.", Err: err})
	}
	for _, check := range s.opts.Ready {
		if err := check(); err != nil {
			return s.Problem(c, err)
		}
	}
	return c.JSON(Health{Status: "ready"})
}
