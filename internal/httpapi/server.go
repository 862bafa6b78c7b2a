package httpapi

import (
	"context"
	"errors"
	"fmt"
	"github.com/atigip/atigip360/internal/auth"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Param documents a query or path parameter of a route in OpenAPI.
type Param struct {
	Name        string
	In          string // "query" or "path"
	Type        string // "string", "integer", "number", "boolean"
	Description string // French or English, shown in the API documentation
	Required    bool
}

// Route is one declared endpoint. Every endpoint of the API is a Route:
// the Server enforces Roles, logs and measures it under Path, and documents
// it in /openapi.json.
type Route struct {
	Method string // fiber.MethodGet…
	Path   string // Fiber syntax, e.g. "/api/posts/:id"
	// Roles admitted; nil or empty means everyone, including anonymous
	// requests (public role).
	Roles    []atigip.Role
	Summary  string // OpenAPI summary
	Tag      string // OpenAPI tag (groups routes in the documentation)
	Params   []Param
	Body     any    // optional example request body value (its type gives the schema)
	Response any    // optional example response value (its type gives the schema)
	Produces string // content type when not application/json
	// Status is the success status the handler answers, as documented in
	// OpenAPI. Zero means the method's usual one (SuccessStatus): 201 for a
	// POST that creates, 204 for a DELETE, 200 otherwise. POST routes that
	// act on an existing resource (transitions, decisions) set 200.
	Status int
	// Also lists further success statuses (202 for a message held until
	// an earlier one arrives).
	Also    []int
	Handler fiber.Handler
}

// SuccessStatus is the documented success status of rt.
func (rt Route) SuccessStatus() int {
	switch {
	case rt.Status != 0:
		return rt.Status
	case rt.Method == fiber.MethodPost:
		return fiber.StatusCreated
	case rt.Method == fiber.MethodDelete:
		return fiber.StatusNoContent
	}
	return fiber.StatusOK
}

// Module is a capability (tiles, search, matching, sync, workflows) that
// contributes routes. Routes is called once, by New.
type Module interface {
	Routes(s *Server) []Route
}

// ModuleFunc adapts a function to Module.
type ModuleFunc func(s *Server) []Route

// Routes implements Module.
func (f ModuleFunc) Routes(s *Server) []Route { return f(s) }

// DevIssuer issues development tokens; *auth.DevTokens implements it.
type DevIssuer interface {
	Issue(p atigip.Principal, ttl time.Duration) (string, error)
}

// Options configure a Server. Store and Auth are required.
type Options struct {
	// Store is the system of record.
	Store atigip.Store
	// Auth turns bearer tokens (Authorization header or session cookie)
	// into principals; see internal/auth.
	Auth atigip.Authenticator
	// Logger receives one line per request (method, route pattern, status,
	// duration, request id). Default: slog.Default().
	Logger *slog.Logger
	// Modules add capability routes (tiles, search, matching, sync, flows).
	Modules []Module
	// Dev enables the development sign-in page (/dev/signin) when DevIssuer
	// is set, and marks cookies as not Secure (plain http on localhost).
	// In production (Dev false) those routes do not exist.
	Dev bool
	// DevIssuer signs the tokens of the development sign-in page.
	DevIssuer DevIssuer
	// DevTokenTTL is the lifetime of tokens issued by the sign-in page.
	// Default 12 h.
	DevTokenTTL time.Duration
	// MaxBody caps request bodies in bytes (413 above). Default 1 MiB.
	MaxBody int
	// Registry receives the HTTP metrics and is served at /metrics.
	// Default: a new registry.
	Registry *prometheus.Registry
	// MetricsToken, when set, must come as "Authorization: Bearer" to read
	// the metrics (401 otherwise), here and on MetricsHandler.
	MetricsToken string
	// NoMetricsRoute leaves /metrics off the API: metrics are served on
	// another listener (MetricsHandler) or not at all.
	NoMetricsRoute bool
	// ShutdownTimeout bounds graceful shutdown in Listen/Serve. Default 10 s.
	ShutdownTimeout time.Duration
	// Version is reported in the OpenAPI document. Default "dev".
	Version string
	// SignIn are the identity providers browsers sign in with (OpenID
	// Connect code flow), each giving a server session kept in Sessions,
	// as the development sign-in does. Default: in the store when it is an
	// atigip.SessionStore (else in memory), 8 h, 30 min idle.
	SignIn   []*auth.CodeFlow
	Sessions *auth.Sessions
	// Ready are the checks of /readyz besides the store's ping: the live
	// engines (tiles, search) answer nil once caught up with the feed.
	Ready []func() error
}

// Server is the HTTP API.
type Server struct {
	opts  Options
	app   *fiber.App
	store atigip.Store
	auth  atigip.Authenticator
	// sessions of the browser sign-in; nil without providers nor
	// development sign-in.
	sessions *auth.Sessions
	log      *slog.Logger
	routes   []Route
	metrics  *metrics
	openapi  []byte
	audits   *auditLog
}

// locals keys.
const (
	localPrincipal = "atigip.principal"
	localAuthed    = "atigip.authenticated"
	localRoute     = "atigip.route"
	localRequestID = "requestid"
)

// SessionCookie is the cookie holding the bearer token of browser sessions.
const SessionCookie = "atigip_session"

// New builds the server and registers every route: the built-in ones
// (health, readiness, metrics, OpenAPI, CRUD for every kind, dev sign-in
// when enabled) and those of opts.Modules.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("httpapi: new: Options.Store is required")
	}
	if opts.Auth == nil {
		return nil, errors.New("httpapi: new: Options.Auth is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.DevTokenTTL <= 0 {
		opts.DevTokenTTL = 12 * time.Hour
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, store: opts.Store, auth: opts.Auth, log: opts.Logger, metrics: m,
		audits: &auditLog{store: opts.Store}}
	if len(opts.SignIn) > 0 || (opts.Dev && opts.DevIssuer != nil) {
		s.sessions = opts.Sessions
		if s.sessions == nil {
			ss, _ := opts.Store.(atigip.SessionStore)
			s.sessions = auth.NewSessions(ss, 0, 0)
		}
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "atigip360",
		BodyLimit:             opts.MaxBody,
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		// Strict routing keeps one path per resource, as documented.
		StrictRouting: true,
	})
	s.app.Use(s.middlewares()...)

	routes := s.builtinRoutes()
	for _, mod := range opts.Modules {
		routes = append(routes, mod.Routes(s)...)
	}
	for _, rt := range routes {
		if err := s.register(rt); err != nil {
			return nil, err
		}
	}
	doc, err := s.buildOpenAPI()
	if err != nil {
		return nil, err
	}
	s.openapi = doc
	return s, nil
}

// register adds one declared route, wrapped by the role check.
func (s *Server) register(rt Route) error {
	if rt.Handler == nil || rt.Method == "" || !strings.HasPrefix(rt.Path, "/") {
		return fmt.Errorf("httpapi: route %s %q: method, path and handler are required", rt.Method, rt.Path)
	}
	for _, st := range append([]int{rt.Status}, rt.Also...) {
		if st != 0 && (st < 200 || st >= 400) {
			return fmt.Errorf("httpapi: route %s %s: success status %d is not 2xx or 3xx", rt.Method, rt.Path, st)
		}
	}
	for _, r := range rt.Roles {
		if !r.Valid() {
			return fmt.Errorf("httpapi: route %s %s: unknown role %q", rt.Method, rt.Path, r)
		}
	}
	for _, x := range s.routes {
		if x.Method == rt.Method && x.Path == rt.Path {
			return fmt.Errorf("httpapi: route %s %s declared twice", rt.Method, rt.Path)
		}
	}
	s.routes = append(s.routes, rt)
	s.app.Add(rt.Method, rt.Path, s.admit(rt), rt.Handler)
	if rt.Method == fiber.MethodGet {
		// HEAD answers as GET without the body (caches and map clients
		// probe tiles with it).
		s.app.Add(fiber.MethodHead, rt.Path, s.admit(rt), rt.Handler)
	}
	return nil
}

// admit is the one role check of the API: 401 when the route does not
// admit the public and the request has no valid credentials, 403 when the
// principal's role is not admitted.
func (s *Server) admit(rt Route) fiber.Handler {
	roles := slices.Clone(rt.Roles)
	pattern := rt.Path
	return func(c *fiber.Ctx) error {
		c.Locals(localRoute, pattern)
		if err := checkRequestText(c); err != nil {
			return s.Problem(c, err)
		}
		if len(roles) == 0 {
			return c.Next()
		}
		p := s.Principal(c)
		if slices.Contains(roles, p.Role) {
			return c.Next()
		}
		if authed, _ := c.Locals(localAuthed).(bool); !authed {
			return s.Problem(c, atigip.Errorf(atigip.EUNAUTHORIZED, "Authentification requise : connectez-vous pour accéder à cette ressource."))
		}
		return s.Problem(c, atigip.Errorf(atigip.EFORBIDDEN, "Votre rôle (%s) ne permet pas d'accéder à cette ressource.", roleLabel(p.Role)))
	}
}

func roleLabel(r atigip.Role) string {
	for _, x := range atigip.Roles {
		if x.Role == r {
			return x.Label
		}
	}
	return string(r)
}

// App returns the Fiber application (for tests: App().Test(req)).
func (s *Server) App() *fiber.App { return s.app }

// Store returns the system of record.
func (s *Server) Store() atigip.Store { return s.store }

// Logger returns the server's logger. Never log bodies or personal data.
func (s *Server) Logger() *slog.Logger { return s.log }

// Routes returns the declared routes, in registration order.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// Dev reports whether the server runs in development mode.
func (s *Server) Dev() bool { return s.opts.Dev }

// Principal returns who makes the request (atigip.Anonymous when no
// credentials were given).
func (s *Server) Principal(c *fiber.Ctx) atigip.Principal {
	if p, ok := c.Locals(localPrincipal).(atigip.Principal); ok {
		return p
	}
	return atigip.Anonymous
}

// Audit records an access to personal data (ids and counts only) with the
// request's principal. A failing audit fails the request: an unrecorded
// access to personal data is not allowed.
func (s *Server) Audit(c *fiber.Ctx, action string, kind atigip.Kind, id int64, count int) error {
	return s.AuditAll(c, action, kind, []int64{id}, count)
}

// AuditAll records one access per id (all in one write, shared with
// concurrent requests); see Audit.
func (s *Server) AuditAll(c *fiber.Ctx, action string, kind atigip.Kind, ids []int64, count int) error {
	p := s.Principal(c)
	at := time.Now().UTC()
	es := make([]atigip.AuditEntry, len(ids))
	for i, id := range ids {
		es[i] = atigip.AuditEntry{At: at, Subject: p.Subject, Role: p.Role, Action: action, Kind: kind, EntityID: id, Count: count}
	}
	if err := s.audits.record(c.UserContext(), es...); err != nil {
		return &atigip.Error{Code: atigip.EUNAVAILABLE, Message: "Journal d'accès indisponible : la consultation est refusée.",
			Err: fmt.Errorf("httpapi: audit %s %s: %w", action, kind, err)}
	}
	return nil
}

// Serve serves on ln until ctx ends, then shuts down gracefully (in-flight
// requests finish within Options.ShutdownTimeout).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if ctx.Err() != nil {
		_ = ln.Close()
		return nil
	}
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ln) }()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("httpapi: serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	serr := s.Shutdown(sctx)
	// A Shutdown that came before the listener was served found nothing to
	// stop: closing the listener ends that Listener call too.
	_ = ln.Close()
	if err := <-errc; err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("httpapi: serve: %w", err)
	}
	return serr
}

// Listen listens on addr (host:port; port 0 picks one) and serves until
// ctx ends. Use Serve with your own listener to learn the chosen port.
func (s *Server) Listen(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("httpapi: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.app.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("httpapi: shutdown: %w", err)
	}
	return nil
}
