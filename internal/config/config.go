package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Mode is development (demo data, development sign-in) or production.
type Mode string

// Modes.
const (
	Development Mode = "development"
	Production  Mode = "production"
)

// Config is everything the atigip binary can be told. Zero values are
// never used: Default fills them, FromEnv overrides them.
type Config struct {
	Mode Mode
	// Addr is the listen address of `atigip serve`.
	Addr string
	// DataDir holds the embedded database, the search index and the
	// development token secret.
	DataDir string
	// DatabaseURL selects PostgreSQL when set; otherwise SQLite in DataDir.
	DatabaseURL string
	// SeedOnStart seeds the demo data set when the store is empty.
	SeedOnStart bool
	SeedScale   float64
	SeedValue   uint64
	// DevTokens accepts signed development tokens; always on in
	// development, refused in production unless explicitly enabled.
	DevTokens   bool
	TokenSecret string
	// OIDC: ProConnect for professionals, FranceConnect for people.
	OIDCIssuer    string
	OIDCClientID  string
	OIDCRoleClaim string
	// OIDCRoleMap maps values of the role claim (groups) to roles; empty,
	// the claim holds role names. OIDCDefaultRole applies when no value maps.
	OIDCRoleMap     map[string]string
	OIDCDefaultRole string
	// Claims carrying each perimeter (auth.OIDCConfig): a role whose
	// perimeter no claim carries stops `serve` in production.
	OIDCDepartementClaim, OIDCPrisonClaim, OIDCOrganisationClaim, OIDCSIRETClaim, OIDCPersonClaim string
	// OIDCNationalRoles may sign in without a département or establishment.
	OIDCNationalRoles []string
	// OIDCClientSecret turns on the browser sign-in (« Se connecter ») with
	// that provider: the authorization-code flow with PKCE, whose callback
	// is PublicURL/connexion/proconnect/retour.
	OIDCClientSecret string
	// FranceConnect, for people, browser sign-in only (optional): its ID
	// tokens map to the person role, the person's record in PersonClaim.
	FCIssuer, FCClientID, FCClientSecret, FCPersonClaim string
	// PublicURL is the site's address as browsers reach it
	// (https://atigip360.justice.gouv.fr), for the sign-in callbacks.
	PublicURL string
	// Browser sessions end SessionLifetime after sign-in, or after
	// SessionIdle without a request.
	SessionLifetime, SessionIdle time.Duration
	// BasemapURL is an XYZ raster tile template drawn over the vector
	// basemap (ATIGIP_BASEMAP_URL), e.g. OpenStreetMap's tiles; empty (the
	// default, and the variable set to "") means none: the vector basemap
	// alone, which works offline.
	BasemapURL string
	// BasemapPMTiles is the vector basemap archive built by `atigip
	// basemap import` (ATIGIP_BASEMAP_PMTILES); empty serves the one built
	// at first start from the embedded communes and outlines.
	BasemapPMTiles string
	// BasemapStyle is a MapLibre style file drawing BasemapPMTiles when
	// that archive has another schema than ours (ATIGIP_BASEMAP_STYLE).
	BasemapStyle string
	// PMTilesPath serves a prebuilt archive instead of live public tiles.
	PMTilesPath string
	// FlowsClients are the machine clients of the APPI/GENESIS flows:
	// "appi=sha256:<hex>,genesis=sha256:<hex>" (see `atigip flows-key`).
	FlowsClients string
	// MetricsToken protects /metrics (Authorization: Bearer); MetricsAddr
	// serves them on a listener of their own instead of the API's. In
	// production, without either, metrics are not served.
	MetricsToken, MetricsAddr string
	// PprofAddr serves the runtime's profiles (net/http/pprof) on a
	// listener of its own, for an operator measuring memory or processor
	// time; empty (the default) serves none. They reveal the process's
	// internals, so they never share the API's listener.
	PprofAddr string
	// MaxBodyBytes limits request bodies.
	MaxBodyBytes int
	LogLevel     string
	// MemoryLimitMB is the Go runtime's soft memory limit for `serve`
	// once its engines are loaded (GOMEMLIMIT, when set, wins). The
	// engines keep about 110 MB live with the national set; without a
	// limit the runtime keeps the pages of later builds (matching
	// snapshot, rebuilds): 1 GB resident instead of 340 MB. While the
	// engines load, serve allows twice this, since the search index
	// build holds 250-330 MB live and a tighter limit makes the collector
	// run without pause. 0 leaves the runtime's default (no limit).
	MemoryLimitMB int
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration
	// FeedRetention is how long the change feed keeps a change that every
	// live follower has consumed; a follower silent for longer counts as
	// gone (it rebuilds from the store if it comes back).
	FeedRetention time.Duration
	// FiguresMaxAge is the age past which the prospection and the
	// indicators, computed in the background and served from the last
	// result, are recomputed if the store has changed since.
	FiguresMaxAge time.Duration
	// EmbedSecret signs the short-lived links Axelor builds to embed a
	// partner's page (at least 32 characters; empty: links are refused,
	// the session sign-in still works). EmbedOrigin is the Axelor origin
	// (https://crm.example.fr) allowed to frame those pages; empty, no
	// other site may frame them.
	EmbedSecret, EmbedOrigin string
}

// Default returns the configuration `make run` uses.
func Default() Config {
	return Config{
		Mode:            Development,
		Addr:            ":8080",
		DataDir:         "./var",
		SeedOnStart:     true,
		SeedScale:       1,
		SeedValue:       1,
		OIDCRoleClaim:   "atigip_role",
		MaxBodyBytes:    1 << 20,
		LogLevel:        "info",
		MemoryLimitMB:   280,
		ShutdownTimeout: 10 * time.Second,
		SessionLifetime: 8 * time.Hour,
		SessionIdle:     30 * time.Minute,
		FeedRetention:   24 * time.Hour,
		FiguresMaxAge:   5 * time.Minute,
	}
}

// FromEnv returns Default overridden by ATIGIP_* variables read through
// getenv, which cannot tell an empty variable from an unset one: an empty
// ATIGIP_BASEMAP_URL keeps the default basemap. Use FromLookupEnv with
// os.LookupEnv for the process's environment.
func FromEnv(getenv func(string) string) (Config, error) {
	return FromLookupEnv(func(k string) (string, bool) {
		v := getenv(k)
		return v, v != ""
	})
}

// FromLookupEnv returns Default overridden by ATIGIP_* variables read
// through lookupEnv (os.LookupEnv). Empty variables count as unset, as
// shells and Makefiles often export empty values, except
// ATIGIP_BASEMAP_URL: set and empty, it means no basemap (offline).
func FromLookupEnv(lookupEnv func(string) (string, bool)) (Config, error) {
	getenv := func(k string) string { v, _ := lookupEnv(k); return v }
	c := Default()
	var errs []string
	str := func(name string, dst *string) {
		if v, ok := lookup(getenv, name); ok {
			*dst = v
		}
	}
	boolean := func(name string, dst *bool) {
		if v, ok := lookup(getenv, name); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %q is not a boolean", name, v))
				return
			}
			*dst = b
		}
	}
	var mode string
	str("ATIGIP_ENV", &mode)
	if mode != "" {
		c.Mode = Mode(mode)
		if c.Mode == Production {
			// Production starts from safe defaults: no demo data, no
			// third-party basemap unless configured.
			c.SeedOnStart = false
		}
	}
	str("ATIGIP_ADDR", &c.Addr)
	str("ATIGIP_DATA_DIR", &c.DataDir)
	str("ATIGIP_DATABASE_URL", &c.DatabaseURL)
	boolean("ATIGIP_SEED_ON_START", &c.SeedOnStart)
	if v, ok := lookup(getenv, "ATIGIP_SEED_SCALE"); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Sprintf("ATIGIP_SEED_SCALE: %q is not a number", v))
		}
		c.SeedScale = f
	}
	boolean("ATIGIP_DEV_TOKENS", &c.DevTokens)
	str("ATIGIP_TOKEN_SECRET", &c.TokenSecret)
	str("ATIGIP_OIDC_ISSUER", &c.OIDCIssuer)
	str("ATIGIP_OIDC_CLIENT_ID", &c.OIDCClientID)
	str("ATIGIP_OIDC_ROLE_CLAIM", &c.OIDCRoleClaim)
	if v, ok := lookup(getenv, "ATIGIP_OIDC_ROLE_MAP"); ok {
		c.OIDCRoleMap = map[string]string{}
		for _, pair := range strings.Split(v, ",") {
			k, r, ok := strings.Cut(pair, "=")
			k, r = strings.TrimSpace(k), strings.TrimSpace(r)
			if !ok || k == "" || r == "" {
				errs = append(errs, fmt.Sprintf("ATIGIP_OIDC_ROLE_MAP: %q is not claim-value=role", pair))
				continue
			}
			c.OIDCRoleMap[k] = r
		}
	}
	str("ATIGIP_OIDC_DEFAULT_ROLE", &c.OIDCDefaultRole)
	str("ATIGIP_OIDC_DEPARTEMENT_CLAIM", &c.OIDCDepartementClaim)
	str("ATIGIP_OIDC_PRISON_CLAIM", &c.OIDCPrisonClaim)
	str("ATIGIP_OIDC_ORGANISATION_CLAIM", &c.OIDCOrganisationClaim)
	str("ATIGIP_OIDC_SIRET_CLAIM", &c.OIDCSIRETClaim)
	str("ATIGIP_OIDC_PERSON_CLAIM", &c.OIDCPersonClaim)
	if v, ok := lookup(getenv, "ATIGIP_OIDC_NATIONAL_ROLES"); ok {
		for _, r := range strings.Split(v, ",") {
			if r = strings.TrimSpace(r); r != "" {
				c.OIDCNationalRoles = append(c.OIDCNationalRoles, r)
			}
		}
	}
	str("ATIGIP_BASEMAP_URL", &c.BasemapURL)
	if v, ok := lookupEnv("ATIGIP_BASEMAP_URL"); ok {
		c.BasemapURL = strings.TrimSpace(v) // "" is no basemap
	}
	str("ATIGIP_PMTILES", &c.PMTilesPath)
	str("ATIGIP_BASEMAP_PMTILES", &c.BasemapPMTiles)
	str("ATIGIP_BASEMAP_STYLE", &c.BasemapStyle)
	str("ATIGIP_FLOWS_CLIENTS", &c.FlowsClients)
	str("ATIGIP_METRICS_TOKEN", &c.MetricsToken)
	str("ATIGIP_METRICS_ADDR", &c.MetricsAddr)
	str("ATIGIP_PPROF_ADDR", &c.PprofAddr)
	if v, ok := lookup(getenv, "ATIGIP_MAX_BODY_BYTES"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("ATIGIP_MAX_BODY_BYTES: %q is not an integer", v))
		}
		c.MaxBodyBytes = n
	}
	str("ATIGIP_LOG_LEVEL", &c.LogLevel)
	if v, ok := lookup(getenv, "ATIGIP_MEMORY_LIMIT_MB"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("ATIGIP_MEMORY_LIMIT_MB: %q is not an integer", v))
		}
		c.MemoryLimitMB = n
	}
	for name, dst := range map[string]*string{"ATIGIP_OIDC_CLIENT_SECRET": &c.OIDCClientSecret, "ATIGIP_PUBLIC_URL": &c.PublicURL,
		"ATIGIP_FRANCECONNECT_ISSUER": &c.FCIssuer, "ATIGIP_FRANCECONNECT_CLIENT_ID": &c.FCClientID,
		"ATIGIP_FRANCECONNECT_CLIENT_SECRET": &c.FCClientSecret, "ATIGIP_FRANCECONNECT_PERSON_CLAIM": &c.FCPersonClaim,
		"ATIGIP_EMBED_SECRET": &c.EmbedSecret, "ATIGIP_EMBED_ORIGIN": &c.EmbedOrigin} {
		str(name, dst)
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	c.EmbedOrigin = strings.TrimSuffix(c.EmbedOrigin, "/")
	for name, dst := range map[string]*time.Duration{"ATIGIP_SESSION_LIFETIME": &c.SessionLifetime, "ATIGIP_SESSION_IDLE": &c.SessionIdle} {
		if v, ok := lookup(getenv, name); ok {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Sprintf("%s: %q is not a positive duration (8h, 30m)", name, v))
			}
			*dst = d
		}
	}
	if v, ok := lookup(getenv, "ATIGIP_FEED_RETENTION"); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("ATIGIP_FEED_RETENTION: %q is not a duration (24h, 90m)", v))
		}
		c.FeedRetention = d
	}
	if v, ok := lookup(getenv, "ATIGIP_FIGURES_MAX_AGE"); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("ATIGIP_FIGURES_MAX_AGE: %q is not a duration (5m, 90s)", v))
		}
		c.FiguresMaxAge = d
	}
	if c.Mode == Development {
		c.DevTokens = true
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	return c, c.Validate()
}

// lookup treats an empty variable as unset, as shells and Makefiles often
// export empty values.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := strings.TrimSpace(getenv(name))
	return v, v != ""
}

// Validate reports the first inconsistent settings.
func (c Config) Validate() error {
	var errs []string
	if c.Mode != Development && c.Mode != Production {
		errs = append(errs, fmt.Sprintf("ATIGIP_ENV must be development or production, not %q", c.Mode))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Sprintf("ATIGIP_ADDR %q: %v", c.Addr, err))
	}
	if c.DataDir == "" {
		errs = append(errs, "ATIGIP_DATA_DIR is empty")
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, "ATIGIP_DATABASE_URL must be a postgres:// URL")
		}
	}
	if c.SeedScale <= 0 || c.SeedScale > 10 {
		errs = append(errs, "ATIGIP_SEED_SCALE must be in (0, 10]")
	}
	if c.Mode == Production && c.DevTokens && len(c.TokenSecret) < 32 {
		errs = append(errs, "ATIGIP_DEV_TOKENS in production needs ATIGIP_TOKEN_SECRET of at least 32 characters")
	}
	if (c.OIDCIssuer == "") != (c.OIDCClientID == "") {
		errs = append(errs, "ATIGIP_OIDC_ISSUER and ATIGIP_OIDC_CLIENT_ID go together")
	}
	if c.OIDCClientSecret != "" && c.OIDCIssuer == "" {
		errs = append(errs, "ATIGIP_OIDC_CLIENT_SECRET needs ATIGIP_OIDC_ISSUER and ATIGIP_OIDC_CLIENT_ID")
	}
	if fc := []string{c.FCIssuer, c.FCClientID, c.FCClientSecret}; slices.Contains(fc, "") && slices.ContainsFunc(fc, func(v string) bool { return v != "" }) {
		errs = append(errs, "ATIGIP_FRANCECONNECT_ISSUER, _CLIENT_ID and _CLIENT_SECRET go together")
	}
	if c.BrowserSignIn() {
		u, err := url.Parse(c.PublicURL)
		switch {
		case c.PublicURL == "" || err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			errs = append(errs, "the browser sign-in needs ATIGIP_PUBLIC_URL, the site's address (https://…), for its callback")
		case c.Mode == Production && u.Scheme != "https":
			errs = append(errs, "ATIGIP_PUBLIC_URL must be https in production (the session cookie is Secure)")
		}
	}
	if c.EmbedSecret != "" && len(c.EmbedSecret) < 32 {
		errs = append(errs, "ATIGIP_EMBED_SECRET must have at least 32 characters")
	}
	if c.EmbedOrigin != "" {
		u, err := url.Parse(c.EmbedOrigin)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" || u.RawQuery != "" {
			errs = append(errs, "ATIGIP_EMBED_ORIGIN must be an origin, scheme and host only (https://crm.example.fr)")
		}
	}
	if c.SessionIdle > c.SessionLifetime {
		errs = append(errs, "ATIGIP_SESSION_IDLE must not exceed ATIGIP_SESSION_LIFETIME")
	}
	if c.Mode == Production && !c.DevTokens && c.OIDCIssuer == "" {
		errs = append(errs, "production needs a sign-in: set ATIGIP_OIDC_ISSUER and ATIGIP_OIDC_CLIENT_ID")
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 32 {
		errs = append(errs, "ATIGIP_METRICS_TOKEN must have at least 32 characters")
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Sprintf("ATIGIP_METRICS_ADDR %q: %v", c.MetricsAddr, err))
		} else if c.MetricsAddr == c.Addr {
			errs = append(errs, "ATIGIP_METRICS_ADDR must differ from ATIGIP_ADDR")
		}
	}
	if c.PprofAddr != "" {
		if _, _, err := net.SplitHostPort(c.PprofAddr); err != nil {
			errs = append(errs, fmt.Sprintf("ATIGIP_PPROF_ADDR %q: %v", c.PprofAddr, err))
		} else if c.PprofAddr == c.Addr || c.PprofAddr == c.MetricsAddr {
			errs = append(errs, "ATIGIP_PPROF_ADDR must differ from ATIGIP_ADDR and ATIGIP_METRICS_ADDR")
		}
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		errs = append(errs, "ATIGIP_MAX_BODY_BYTES must be between 1 KiB and 64 MiB")
	}
	if c.FeedRetention < time.Minute {
		errs = append(errs, "ATIGIP_FEED_RETENTION must be at least 1m")
	}
	// Below ten seconds the national computations (seconds each) would
	// run back to back under write load.
	if c.FiguresMaxAge < 10*time.Second || c.FiguresMaxAge > 24*time.Hour {
		errs = append(errs, "ATIGIP_FIGURES_MAX_AGE must be between 10s and 24h")
	}
	if c.MemoryLimitMB != 0 && (c.MemoryLimitMB < 128 || c.MemoryLimitMB > 1<<20) {
		errs = append(errs, "ATIGIP_MEMORY_LIMIT_MB must be 0 (no limit) or at least 128")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("ATIGIP_LOG_LEVEL %q: debug, info, warn or error", c.LogLevel))
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	return nil
}

// SQLitePath is the embedded database file.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "atigip.db") }

// TilesStatePath is where the tile engine saves its state for restarts.
func (c Config) TilesStatePath() string { return filepath.Join(c.DataDir, "tiles.state") }

// SearchIndexPath is the bleve index folder.
func (c Config) SearchIndexPath() string { return filepath.Join(c.DataDir, "search.bleve") }

// BrowserSignIn reports whether « Se connecter » uses an identity
// provider (ProConnect with a client secret, or FranceConnect).
func (c Config) BrowserSignIn() bool { return c.OIDCClientSecret != "" || c.FCIssuer != "" }
