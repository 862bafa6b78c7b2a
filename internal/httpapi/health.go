package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
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
	}
	if !s.opts.NoMetricsRoute {
		metrics := adaptor.HTTPHandler(promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{}))
		routes = append(routes, Route{Method: fiber.MethodGet, Path: metricsPath, Tag: "exploitation", Summary: "Métriques Prometheus",
			Produces: "text/plain; version=0.0.4",
			Handler: func(c *fiber.Ctx) error {
				if !s.metricsAllowed(c.Get(fiber.HeaderAuthorization)) {
					c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="atigip360-metrics"`)
					return s.Problem(c, atigip.Errorf(atigip.EUNAUTHORIZED, "Jeton des métriques absent ou invalide."))
				}
				return metrics(c)
			}})
	}
	routes = append(routes, Route{Method: fiber.MethodGet, Path: "/openapi.json", Tag: "exploitation", Summary: "Description OpenAPI 3.1 de l'API",
		Handler: func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
			return c.Send(s.openapi)
		}})
	routes = append(routes, s.crudRoutes()...)
	routes = append(routes, s.devRoutes()...)
	routes = append(routes, s.signinRoutes()...)
	return routes
}

const metricsPath = "/metrics"

// MetricsHandler serves the registry's metrics, to mount on a listener of
// its own (ATIGIP_METRICS_ADDR); it asks for MetricsToken when set.
func (s *Server) MetricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.metricsAllowed(r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="atigip360-metrics"`)
			http.Error(w, "metrics token missing or invalid", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsAllowed checks the Authorization header against MetricsToken
// (in constant time: hashes of equal length are compared).
func (s *Server) metricsAllowed(authorization string) bool {
	if s.opts.MetricsToken == "" {
		return true
	}
	scheme, tok, _ := strings.Cut(authorization, " ")
	want := sha256.Sum256([]byte(s.opts.MetricsToken))
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare(want[:], got[:]) == 1
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
