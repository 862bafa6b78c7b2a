package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
	"github.com/atigip/atigip360/internal/config"
	"github.com/atigip/atigip360/internal/flows"
	"github.com/atigip/atigip360/internal/httpapi"
	"github.com/atigip/atigip360/search"
	"github.com/atigip/atigip360/styles"
	"github.com/atigip/atigip360/tiles"
)

// cmdServe runs the server until ctx ends: the store, the live engines
// that follow its change feed (tiles, search), and the HTTP API.
func cmdServe(ctx context.Context, env *Env, args []string) error {
	if err := parse(flags(env, "serve"), args); err != nil {
		return err
	}
	cfg := env.Config
	// The profiles are served from the start, so that the load (index
	// build, engines' catch-up) can be profiled too.
	if cfg.PprofAddr != "" {
		stop, err := startPprof(ctx, env, cfg.PprofAddr)
		if err != nil {
			return err
		}
		defer stop()
	}
	// The soft memory limit holds the steady state (never under twice the
	// live heap, see memoryGovernor); the start-up load (seeding, the
	// search index build of a new data directory) runs under a looser
	// floor, applied until the engines are loaded.
	var memory *memoryGovernor
	if env.Getenv("GOMEMLIMIT") == "" && cfg.MemoryLimitMB > 0 {
		memory = newMemoryGovernor(int64(cfg.MemoryLimitMB*loadLimitFactor) << 20)
		govCtx, stopGov := context.WithCancel(ctx)
		defer stopGov()
		go memory.run(govCtx, 2*time.Second)
	}
	store, err := env.openStoreWaiting(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := seedIfEmpty(ctx, env, store); err != nil {
		return err
	}

	authn, dev, err := env.authenticator(ctx)
	if err != nil {
		return err
	}
	signIn, err := env.signInFlows(ctx)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// The tile engine and the search index load side by side (each resumes
	// from its saved state when it can, else reads the store).
	start := time.Now()
	var (
		tileEngine *tiles.Engine
		index      *search.Index
	)
	lg, lctx := errgroup.WithContext(ctx)
	lg.Go(func() error {
		var err error
		if tileEngine, err = tiles.New(lctx, store, tiles.Options{Logger: env.Logger, StatePath: cfg.TilesStatePath()}); err != nil {
			return fmt.Errorf("tiles: %w", err)
		}
		env.Logger.Info("tiles ready", "duration", time.Since(start).Round(time.Millisecond).String(), "resumed", tileEngine.Resumed())
		return nil
	})
	lg.Go(func() error {
		var err error
		if index, err = search.Open(cfg.SearchIndexPath(), search.Options{Logger: env.Logger}); err != nil {
			return fmt.Errorf("search: %w", err)
		}
		// Catching up before serving means the first searches see the
		// store; a fresh index is built here, an existing one replays
		// what it missed.
		if _, err := index.CatchUp(lctx, store); err != nil {
			return fmt.Errorf("search: catch up: %w", err)
		}
		env.Logger.Info("search ready", "duration", time.Since(start).Round(time.Millisecond).String(), "table_resumed", index.TableResumed())
		return nil
	})
	err = lg.Wait()
	if index != nil {
		defer index.Close()
	}
	if err != nil {
		return err
	}
	if memory != nil {
		// The load's garbage goes back to the system now rather than
		// staying resident until the runtime scavenges it; the steady
		// floor applies from the live heap that collection measured.
		debug.FreeOSMemory()
		memory.setFloor(int64(cfg.MemoryLimitMB) << 20)
	}
	tilesModule := httpapi.TilesModule{Engine: tileEngine}
	if cfg.PMTilesPath != "" {
		archive, err := tiles.OpenArchive(cfg.PMTilesPath)
		if err != nil {
			return fmt.Errorf("pmtiles %s: %w", cfg.PMTilesPath, err)
		}
		defer archive.Close()
		tilesModule.Archives = map[string]*tiles.Archive{"archive": archive}
	}
	bmPath, err := env.basemapArchive(ctx)
	if err != nil {
		return err
	}
	bm, err := tiles.OpenArchive(bmPath)
	if err != nil {
		return fmt.Errorf("basemap %s: %w", bmPath, err)
	}
	defer bm.Close()
	if tilesModule.Archives == nil {
		tilesModule.Archives = map[string]*tiles.Archive{}
	}
	tilesModule.Archives["basemap"] = bm
	var bmStyle []byte
	if cfg.BasemapStyle != "" {
		if bmStyle, err = os.ReadFile(cfg.BasemapStyle); err != nil {
			return fmt.Errorf("ATIGIP_BASEMAP_STYLE: %w", err)
		}
		// Checked now rather than at the first map.
		if _, err := styles.RenderWith("public", "http://localhost", styles.Options{Vector: true, Base: bmStyle}); err != nil {
			return fmt.Errorf("ATIGIP_BASEMAP_STYLE %s: %w", cfg.BasemapStyle, err)
		}
	}

	clients, err := flows.ParseClients(cfg.FlowsClients)
	if err != nil {
		return fmt.Errorf("ATIGIP_FLOWS_CLIENTS: %w", err)
	}
	matchingModule := &httpapi.MatchingModule{}
	if memory != nil {
		// The snapshot build's garbage goes back at once, as the load's
		// does above: the soft limit then follows the live heap.
		matchingModule.AfterBuild = debug.FreeOSMemory
	}
	referentModule := &httpapi.ReferentModule{EmbedSecret: []byte(cfg.EmbedSecret), EmbedOrigin: cfg.EmbedOrigin, MaxAge: cfg.FiguresMaxAge}
	modules := []httpapi.Module{
		tilesModule,
		httpapi.MapModule{Basemap: cfg.BasemapURL, VectorBasemap: true, BasemapStyle: bmStyle},
		httpapi.SiteModule{Engine: tilesModule.Engine},
		httpapi.HomeModule{},
		httpapi.HostModule{},
		httpapi.IPROModule{},
		httpapi.SearchModule{Index: index},
		matchingModule,
		httpapi.WorkflowModule(nil),
		httpapi.FlowsModule(clients, nil),
		httpapi.IndicatorsModule(nil, referentModule),
		&httpapi.CaseworkModule{Matching: matchingModule},
	}
	var background []func(context.Context) error
	// The CRM sync runs only where Axelor is configured.
	if env.Getenv("ATIGIP_AXELOR_URL") != "" {
		syncer, err := env.syncer(store)
		if err != nil {
			return err
		}
		if err := syncer.Register(reg); err != nil {
			return err
		}
		trigger := make(chan struct{}, 1)
		modules = append(modules, httpapi.SyncModule{Syncer: syncer, Trigger: trigger})
		referentModule.Syncer = syncer
		background = append(background, func(ctx context.Context) error { return syncer.Loop(ctx, trigger) })
	}
	modules = append(modules, referentModule)

	// Metrics leave the API for their own listener when one is set; in
	// production they are never public: a token, their own listener, or
	// nothing.
	noMetricsRoute := cfg.MetricsAddr != "" || (cfg.Mode == config.Production && cfg.MetricsToken == "")
	if noMetricsRoute && cfg.MetricsAddr == "" {
		env.Logger.Warn("metrics not served: set ATIGIP_METRICS_TOKEN or ATIGIP_METRICS_ADDR")
	}
	// Sessions live in the store: every instance sees a sign-in or a
	// sign-out at once, and a restart keeps them.
	sessionStore, _ := store.(atigip.SessionStore)
	sessions := auth.NewSessions(sessionStore, cfg.SessionLifetime, cfg.SessionIdle)
	srv, err := httpapi.New(httpapi.Options{
		Store:           store,
		Auth:            authn,
		Logger:          env.Logger,
		Dev:             cfg.Mode == config.Development,
		DevIssuer:       devIssuer(dev),
		SignIn:          signIn,
		Sessions:        sessions,
		MaxBody:         cfg.MaxBodyBytes,
		Registry:        reg,
		MetricsToken:    cfg.MetricsToken,
		NoMetricsRoute:  noMetricsRoute,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Version:         version,
		Modules:         modules,
		Ready:           []func() error{tileEngine.Ready, index.Ready},
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	var mln net.Listener
	if cfg.MetricsAddr != "" {
		if mln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listen %s: %w", cfg.MetricsAddr, err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	// The first matching request should not wait for a national build;
	// the end of gctx cancels the build and the assignment jobs, and serve
	// returns once their goroutines are gone.
	matchingModule.Start(gctx, srv)
	defer matchingModule.Close()
	g.Go(func() error { return ignoreCanceled(tileEngine.Follow(gctx)) })
	g.Go(func() error { return ignoreCanceled(index.Follow(gctx, store)) })
	if p, ok := store.(atigip.FeedPruner); ok {
		g.Go(func() error { return ignoreCanceled(pruneFeed(gctx, env, p, cfg.FeedRetention)) })
	}
	g.Go(func() error {
		return ignoreCanceled(pruneEvery(gctx, env, sessionPruneInterval, "sessions", sessions.Prune))
	})
	for _, run := range background {
		g.Go(func() error { return ignoreCanceled(run(gctx)) })
	}
	// Serve once the live engines have read the feed to its end, a few
	// milliseconds after their load, so that an instance is ready when it
	// says where it listens; a database away now delays that by
	// startReadyWait at most (/readyz then tells).
	waitReady(gctx, startReadyWait, tileEngine.Ready, index.Ready)
	// The prospection and the indicators (seconds each at national size)
	// are computed behind the engines' catch-up, never before /readyz, so
	// that the first referent's « Mon espace » does not wait for them; the
	// end of gctx stops their computations, and serve returns once they
	// are gone.
	referentModule.Start(gctx, srv)
	defer referentModule.Close()
	// What a restart would otherwise rebuild from the whole store is saved
	// now, every saveStateInterval and at shutdown.
	resumedAt := int64(-1) // both states were read at start: nothing new to save yet
	if tileEngine.Resumed() && index.TableResumed() {
		resumedAt = tileEngine.Seq()
	}
	g.Go(func() error {
		saveStates(gctx, env, saveStateInterval, resumedAt, tileEngine.Seq, func(ctx context.Context) error {
			return errors.Join(tileEngine.SaveState(ctx), index.SaveTable(ctx, store))
		})
		return nil
	})
	// The first stdout line tells scripts and end-to-end tests where we are
	// (port 0 picks a free port).
	fmt.Fprintf(env.Stdout, "listening on http://%s\n", displayAddr(ln.Addr()))
	g.Go(func() error { return srv.Serve(gctx, ln) })
	if mln != nil {
		g.Go(func() error { return serveMetrics(gctx, mln, srv.MetricsHandler()) })
	}
	return ignoreCanceled(g.Wait())
}

// startReadyWait bounds how long serve waits for its engines to catch up
// before serving.
const startReadyWait = 30 * time.Second

// saveStateInterval is how often serve saves the engines' states while
// the feed moves: a crash replays at most that much of the feed.
const saveStateInterval = 5 * time.Minute

// saveStates calls save at once, then every interval, and once more when
// ctx ends (graceful stop), each time only if seq moved since the last
// save (saved: the position already on disk, -1 if none). A failure
// (database away, disk full) is logged: the next start then reads the
// store, slower but right.
func saveStates(ctx context.Context, env *Env, interval time.Duration, saved int64, seq func() int64, save func(context.Context) error) {
	run := func(ctx context.Context) {
		if s := seq(); s != saved {
			start := time.Now()
			if err := save(ctx); err != nil {
				env.Logger.Warn("save engine states", "err", err)
				return
			}
			saved = s
			env.Logger.Info("engine states saved", "seq", s, "duration", time.Since(start).Round(time.Millisecond).String())
		}
	}
	run(ctx)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			run(sctx)
			cancel()
			return
		case <-t.C:
			run(ctx)
		}
	}
}

// waitReady polls checks until all pass, ctx ends or limit has passed.
func waitReady(ctx context.Context, limit time.Duration, checks ...func() error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		ready := true
		for _, c := range checks {
			if c() != nil {
				ready = false
				break
			}
		}
		if ready {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pruneFeed deletes, every so often, the changes every live follower has
// consumed and older than retention. Every instance may run it: the store
// prunes in one transaction.
func pruneFeed(ctx context.Context, env *Env, p atigip.FeedPruner, retention time.Duration) error {
	return pruneEvery(ctx, env, min(retention/4, 10*time.Minute), "change feed", func(ctx context.Context) (int64, error) {
		now := time.Now()
		return p.PruneChanges(ctx, now.Add(-retention), now.Add(-retention))
	})
}

// sessionPruneInterval is how often serve deletes ended sessions and
// expired pending sign-ins; they are refused as soon as they end anyway.
const sessionPruneInterval = 10 * time.Minute

// pruneEvery calls prune every interval until ctx ends, logging what it
// deleted. A failure (database away) waits for the next round.
func pruneEvery(ctx context.Context, env *Env, every time.Duration, what string, prune func(context.Context) (int64, error)) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
		n, err := prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			env.Logger.Warn(what+": prune", "err", err)
		case n > 0:
			env.Logger.Info(what+": pruned", "deleted", n)
		}
	}
}

// openStoreWaiting opens the store, waiting for a database that does not
// answer yet (an instance started with, or before, PostgreSQL): the
// process does not exit for it, and /healthz is not served before the
// store is open, so an orchestrator sees it starting, not crashing.
func (env *Env) openStoreWaiting(ctx context.Context) (atigip.Store, error) {
	delay := 500 * time.Millisecond
	for {
		s, err := env.OpenStore(ctx)
		if err == nil || atigip.ErrorCode(err) != atigip.EUNAVAILABLE {
			return s, err
		}
		env.Logger.Warn("database unreachable at start, retrying", "err", err, "retry_in", delay.String())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// serveMetrics serves h on ln until ctx ends.
func serveMetrics(ctx context.Context, ln net.Listener, h http.Handler) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return serveOn(ctx, "metrics", ln, mux)
}

// pprofMux serves the runtime's profiles under /debug/pprof/, on a mux
// of its own: the default mux, where net/http/pprof also registers them,
// is served nowhere.
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // heap, allocs, goroutine… by name
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// startPprof serves pprofMux on addr until ctx ends or stop is called;
// stop returns once the listener is closed.
func startPprof(ctx context.Context, env *Env, addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := serveOn(ctx, "pprof", ln, pprofMux()); err != nil {
			env.Logger.Warn("pprof listener", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}

// serveOn serves mux on ln until ctx ends (what names it in errors).
func serveOn(ctx context.Context, what string, ln net.Listener, mux http.Handler) error {
	// No write timeout: a processor profile or a trace streams for as
	// long as its ?seconds= asks.
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// displayAddr turns ":8080" or "[::]:8080" into a URL host a browser opens.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// devIssuer avoids handing httpapi a typed nil interface.
func devIssuer(d *auth.DevTokens) httpapi.DevIssuer {
	if d == nil {
		return nil
	}
	return d
}

// authenticator builds the sign-in chain: OpenID Connect when configured
// (ProConnect/FranceConnect), development tokens when enabled.
func (env *Env) authenticator(ctx context.Context) (atigip.Authenticator, *auth.DevTokens, error) {
	cfg := env.Config
	ac := auth.Config{Production: cfg.Mode == config.Production, AllowDevTokens: cfg.DevTokens}
	if cfg.DevTokens {
		secret, err := env.devSecret()
		if err != nil {
			return nil, nil, err
		}
		ac.DevSecret = secret
	}
	if cfg.OIDCIssuer != "" {
		ac.OIDC = append(ac.OIDC, proConnect(cfg))
	}
	chain, dev, err := auth.New(ctx, ac)
	if errors.Is(err, auth.ErrNoPerimeter) {
		// Name the settings that fix it: a role's perimeter comes from
		// ATIGIP_OIDC_*_CLAIM, or the role is taken out of ATIGIP_OIDC_ROLE_MAP.
		return nil, nil, fmt.Errorf("%w (set ATIGIP_OIDC_ROLE_MAP, ATIGIP_OIDC_DEPARTEMENT_CLAIM, ATIGIP_OIDC_PRISON_CLAIM, "+
			"ATIGIP_OIDC_ORGANISATION_CLAIM, ATIGIP_OIDC_SIRET_CLAIM, ATIGIP_OIDC_PERSON_CLAIM, ATIGIP_OIDC_NATIONAL_ROLES)", err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: %w", err)
	}
	return chain, dev, nil
}

// devSecret is ATIGIP_TOKEN_SECRET, or a random secret kept in the data
// directory so tokens printed by `atigip token` work with `atigip serve`.
func (env *Env) devSecret() ([]byte, error) {
	if s := env.Config.TokenSecret; s != "" {
		return []byte(s), nil
	}
	path := filepath.Join(env.Config.DataDir, "dev-token-secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= auth.MinSecretLen {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err := os.MkdirAll(env.Config.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("dev secret: %w", err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("dev secret: %w", err)
	}
	secret := hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("dev secret: %w", err)
	}
	return []byte(secret), nil
}

// proConnect is the provider of ATIGIP_OIDC_* (ProConnect for
// professionals): bearer tokens, and the browser sign-in when it has a
// client secret.
func proConnect(cfg config.Config) auth.OIDCConfig {
	oc := auth.OIDCConfig{
		Name: "proconnect", Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, RoleClaim: cfg.OIDCRoleClaim,
		DefaultRole:      atigip.Role(cfg.OIDCDefaultRole),
		DepartementClaim: cfg.OIDCDepartementClaim, PrisonIDClaim: cfg.OIDCPrisonClaim,
		OrganisationIDClaim: cfg.OIDCOrganisationClaim, SIRETClaim: cfg.OIDCSIRETClaim, PersonIDClaim: cfg.OIDCPersonClaim,
	}
	for v, r := range cfg.OIDCRoleMap {
		if oc.RoleMap == nil {
			oc.RoleMap = map[string]atigip.Role{}
		}
		oc.RoleMap[v] = atigip.Role(r)
	}
	for _, r := range cfg.OIDCNationalRoles {
		oc.NationalRoles = append(oc.NationalRoles, atigip.Role(r))
	}
	return oc
}

// signInFlows are the providers of « Se connecter »: ProConnect when it
// has a client secret, FranceConnect when configured. Each maps its ID
// tokens with the same claim mapping as bearer tokens.
func (env *Env) signInFlows(ctx context.Context) ([]*auth.CodeFlow, error) {
	cfg := env.Config
	var out []*auth.CodeFlow
	add := func(c auth.CodeFlowConfig) error {
		if cfg.Mode == config.Production {
			if err := c.OIDC.CheckPerimeters(); err != nil {
				return err
			}
		}
		c.RedirectURL = cfg.PublicURL + "/connexion/" + c.OIDC.Name + "/retour"
		f, err := auth.NewCodeFlow(ctx, c)
		if err != nil {
			return fmt.Errorf("sign-in: %w", err)
		}
		out = append(out, f)
		return nil
	}
	if cfg.OIDCClientSecret != "" {
		if err := add(auth.CodeFlowConfig{OIDC: proConnect(cfg), Label: "S'identifier avec ProConnect",
			Who:          "Professionnels : justice, administration pénitentiaire, structures d'accueil, entreprises.",
			ClientSecret: cfg.OIDCClientSecret, Scopes: []string{"email", "given_name", "usual_name", "siret"}}); err != nil {
			return nil, err
		}
	}
	if cfg.FCIssuer != "" {
		fc := auth.OIDCConfig{Name: "franceconnect", Issuer: cfg.FCIssuer, ClientID: cfg.FCClientID,
			DefaultRole: atigip.RolePerson, PersonIDClaim: cfg.FCPersonClaim}
		if err := add(auth.CodeFlowConfig{OIDC: fc, Label: "S'identifier avec FranceConnect",
			Who:          "Personnes suivies : votre mesure de travail d'intérêt général.",
			ClientSecret: cfg.FCClientSecret, Scopes: []string{"given_name", "family_name"}}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
