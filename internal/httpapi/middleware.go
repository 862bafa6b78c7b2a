package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/prometheus/client_golang/prometheus"
)

// HeaderRequestID carries the request id, echoed in responses and logs.
const HeaderRequestID = fiber.HeaderXRequestID

// middlewares run for every request, outermost first.
func (s *Server) middlewares() []any {
	return []any{
		requestid.New(requestid.Config{Header: HeaderRequestID, ContextKey: localRequestID}),
		s.observe,
		recover.New(),
		compress.New(compress.Config{Level: compress.LevelBestSpeed}),
		s.inflateBody,
		s.authenticate,
	}
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// routePattern is the declared pattern of the matched route, or
// "unmatched": metrics and logs never see the raw path, which may hold ids
// and is unbounded in cardinality.
func routePattern(c *fiber.Ctx) string {
	if p, ok := c.Locals(localRoute).(string); ok {
		return p
	}
	return "unmatched"
}

// methodLabel is the method as a constant string: Fiber's c.Method()
// points into request buffers that it reuses for the next request, so a
// label kept by the registry would change under it (a "GET" series turning
// into "PUT" collides with the real one: /metrics then answers 500 for
// ever). Unknown methods share one label, keeping cardinality bounded.
func methodLabel(m string) string {
	for _, known := range []string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch,
		fiber.MethodDelete, fiber.MethodOptions, fiber.MethodConnect, fiber.MethodTrace} {
		if m == known {
			return known
		}
	}
	return "OTHER"
}

// observe logs one line and records metrics per request. It handles errors
// itself (as Fiber's logger does) so that the logged status is the final one.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			c.Status(fiber.StatusInternalServerError)
		}
	}
	d := time.Since(start)
	status := c.Response().StatusCode()
	route := routePattern(c)
	method := methodLabel(c.Method())
	s.metrics.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	s.metrics.duration.WithLabelValues(method, route).Observe(d.Seconds())
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status < 400 && strings.HasPrefix(route, "/tiles/"):
		// A map view asks for dozens of tiles: one info line each cost
		// 10–20 % of tile throughput and gigabytes of logs. The request
		// metrics count them; the lines are kept for debugging.
		level = slog.LevelDebug
	}
	// Only the pattern, status, timing, ids and role: no URL, query string,
	// body, token or subject, which could identify a person.
	s.log.LogAttrs(c.UserContext(), level, "http request",
		slog.String("method", method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("request_id", requestID(c)),
		slog.String("role", string(s.Principal(c).Role)),
	)
	return nil
}

// authenticate resolves the principal from "Authorization: Bearer" or the
// session cookie. A bad bearer token is refused (401) so that API clients
// learn their token is wrong; a bad cookie is ignored (anonymous) so that
// an expired browser session still shows the public map.
func (s *Server) authenticate(c *fiber.Ctx) error {
	if s.opts.MetricsToken != "" && c.Path() == metricsPath {
		return c.Next() // its bearer is the metrics token, not a user's
	}
	token, fromHeader := bearer(c)
	if token == "" {
		p, ok, err := s.sessionPrincipal(c)
		if err != nil {
			return s.Problem(c, err)
		}
		if ok {
			return s.signedIn(c, p, true)
		}
		token = c.Cookies(SessionCookie)
	}
	if token == "" {
		return c.Next()
	}
	p, err := s.auth.Authenticate(c.UserContext(), token)
	if err != nil {
		if !fromHeader {
			return c.Next()
		}
		switch atigip.ErrorCode(err) {
		case atigip.EUNAVAILABLE, atigip.EFORBIDDEN:
			// Provider down (retry later), or a valid token without habilitation.
		default:
			// Any other failure means the token is not accepted.
			err = &atigip.Error{Code: atigip.EUNAUTHORIZED, Message: "Jeton d'accès invalide ou expiré.", Err: err}
		}
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="atigip360", error="invalid_token"`)
		return s.Problem(c, err)
	}
	if !p.Role.Valid() {
		return s.Problem(c, atigip.Errorf(atigip.EUNAUTHORIZED, "Jeton d'accès sans rôle reconnu."))
	}
	// A token in a cookie travels with requests another site makes the
	// browser send, as a session's id does.
	return s.signedIn(c, p, !fromHeader)
}

// signedIn runs the request as p; byCookie, it is signed in by a cookie
// the browser sends on its own, so its writes need the CSRF token.
func (s *Server) signedIn(c *fiber.Ctx, p atigip.Principal, byCookie bool) error {
	c.Locals(localPrincipal, p)
	c.Locals(localAuthed, true)
	c.SetUserContext(atigip.WithPrincipal(c.UserContext(), p))
	if byCookie {
		c.Locals(localSession, true)
		if !csrfGuard(c) {
			return s.Problem(c, errCSRF)
		}
	}
	return c.Next()
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(c *fiber.Ctx) (string, bool) {
	h := c.Get(fiber.HeaderAuthorization)
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atigip_http_requests_total",
			Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "atigip_http_request_duration_seconds",
			Help:    "HTTP request duration by method and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	var err error
	m.requests, err = registerOrReuse(reg, m.requests)
	if err != nil {
		return nil, err
	}
	m.duration, err = registerOrReuse(reg, m.duration)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// registerOrReuse registers c, or returns the collector already registered
// under the same name (several servers sharing one registry).
func registerOrReuse[C prometheus.Collector](reg *prometheus.Registry, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("httpapi: register metrics: %w", err)
	}
	return c, nil
}
