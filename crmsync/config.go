package crmsync

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/atigip/atigip360/crmsync/axelor"
	"github.com/atigip/atigip360/internal/atigip"
)

// Config configures the sync. DefaultConfig fills every field; FromEnv
// overrides from ATIGIP_* variables.
type Config struct {
	// AxelorURL is the CRM base URL, servlet context included.
	AxelorURL string
	// User and Password open a session; APIKey, when set, is used instead.
	User, Password, APIKey string
	// BasicAuth sends user and password on every request (basic-auth=direct).
	BasicAuth bool
	// Interval between periodic syncs of `atigip serve`.
	Interval time.Duration
	// PageSize is the number of partners per search page and transaction.
	PageSize int
	// Overlap is subtracted from the CRM-time bound of the cursor: a
	// transaction that commits after a later one (its updatedOn is older
	// than the bound) stays covered. The bound is the CRM's own updatedOn,
	// so clock skew between the CRM and us does not matter.
	Overlap time.Duration
	// PushWorkers is the number of concurrent write-backs.
	PushWorkers int
	// ConflictRetries bounds re-read/re-apply cycles of one write-back.
	ConflictRetries int
	// RequestTimeout, RetryMax, RetryWaitMin/Max, RetryAfterMax,
	// BreakerThreshold and BreakerCooldown tune the Axelor client.
	RequestTimeout             time.Duration
	RetryMax                   int
	RetryWaitMin, RetryWaitMax time.Duration
	RetryAfterMax              time.Duration
	BreakerThreshold           int
	BreakerCooldown            time.Duration
	// CategoryKinds maps PartnerCategory codes to organisation kinds;
	// DefaultKind applies to other codes and to partners without category.
	CategoryKinds map[string]atigip.OrganisationKind
	DefaultKind   atigip.OrganisationKind
	// RetryBackoff is the first wait of serve after a failed run (doubled
	// at each consecutive failure, capped by Interval).
	RetryBackoff time.Duration
	// ReconcileEvery is how often the set of partner ids is compared with
	// the store to find hard-deleted partners (also on every full sync).
	ReconcileEvery time.Duration
	// AppRetryMax is how many times a call answered {"status":-1} is repeated.
	AppRetryMax int
	// CursorName is the store cursor holding the sync position.
	CursorName string
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Interval: 15 * time.Minute, PageSize: 500, Overlap: 10 * time.Minute,
		PushWorkers: 4, ConflictRetries: 5,
		RequestTimeout: 30 * time.Second, RetryMax: 6,
		RetryWaitMin: 250 * time.Millisecond, RetryWaitMax: 15 * time.Second, RetryAfterMax: 2 * time.Minute,
		BreakerThreshold: 10, BreakerCooldown: 30 * time.Second,
		RetryBackoff: 30 * time.Second, ReconcileEvery: 24 * time.Hour, AppRetryMax: 4,
		CategoryKinds: DefaultCategoryKinds(),
		DefaultKind:   atigip.OrgCompany,
		CursorName:    "crmsync.partner",
	}
}

// DefaultCategoryKinds maps the PartnerCategory codes Axelor Open Suite
// installs (axelor-base demo data, base_partnerCategory.csv: INDIV, SMB,
// SME, KA, RESAL, WHSAL, FRANCH, ADMIN, CONC, INV, PRESS, ASSOC) and the
// codes this project recommends for the categories referents add. Other
// codes go by their category name's keywords, then DefaultKind.
func DefaultCategoryKinds() map[string]atigip.OrganisationKind {
	return map[string]atigip.OrganisationKind{
		// installed by Axelor Open Suite
		"ASSOC": atigip.OrgAssociation, "ADMIN": atigip.OrgPublicBody,
		"SMB": atigip.OrgCompany, "SME": atigip.OrgCompany, "KA": atigip.OrgCompany, "RESAL": atigip.OrgCompany,
		"WHSAL": atigip.OrgCompany, "FRANCH": atigip.OrgCompany, "CONC": atigip.OrgCompany,
		"INV": atigip.OrgCompany, "PRESS": atigip.OrgCompany,
		// recommended for categories added for TIG host organisations
		"ASSO": atigip.OrgAssociation, "COLL": atigip.OrgCommune, "MAIRIE": atigip.OrgCommune,
		"EPUB": atigip.OrgPublicBody, "SCOL": atigip.OrgPublicBody, "HOSP": atigip.OrgHospital,
		"EHPAD": atigip.OrgHospital, "ESS": atigip.OrgSocialEconomy, "SIAE": atigip.OrgSocialEconomy,
		"ENTR": atigip.OrgCompany,
	}
}

// parseCategoryKinds reads "CODE=kind,CODE=kind" over the defaults; an
// empty kind ("CODE=") removes a default code.
func parseCategoryKinds(v string, into map[string]atigip.OrganisationKind) error {
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		code, kind, ok := strings.Cut(item, "=")
		code, kind = strings.TrimSpace(code), strings.TrimSpace(kind)
		if !ok || code == "" {
			return fmt.Errorf("%q : CODE=type attendu", item)
		}
		if kind == "" {
			delete(into, code)
			continue
		}
		into[code] = atigip.OrganisationKind(kind)
	}
	return nil
}

// FromEnv returns DefaultConfig overridden by ATIGIP_AXELOR_URL,
// ATIGIP_AXELOR_USER, ATIGIP_AXELOR_PASSWORD, ATIGIP_AXELOR_API_KEY,
// ATIGIP_AXELOR_BASIC_AUTH, ATIGIP_SYNC_INTERVAL, ATIGIP_SYNC_PAGE_SIZE,
// ATIGIP_SYNC_OVERLAP, ATIGIP_SYNC_WORKERS, ATIGIP_SYNC_RETRY_BACKOFF,
// ATIGIP_SYNC_RECONCILE_EVERY, ATIGIP_SYNC_CATEGORY_KINDS ("CODE=kind,…"
// over DefaultCategoryKinds), ATIGIP_SYNC_DEFAULT_KIND,
// ATIGIP_AXELOR_TIMEOUT, ATIGIP_AXELOR_RETRY_MAX and
// ATIGIP_AXELOR_APP_RETRY_MAX, then validated. Empty variables are unset.
func FromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []string
	get := func(name string) (string, bool) {
		v := strings.TrimSpace(getenv(name))
		return v, v != ""
	}
	str := func(name string, dst *string) {
		if v, ok := get(name); ok {
			*dst = v
		}
	}
	dur := func(name string, dst *time.Duration) {
		if v, ok := get(name); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s : durée invalide %q (ex. 15m)", name, v))
				return
			}
			*dst = d
		}
	}
	num := func(name string, dst *int) {
		if v, ok := get(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s : nombre entier attendu, %q reçu", name, v))
				return
			}
			*dst = n
		}
	}
	str("ATIGIP_AXELOR_URL", &c.AxelorURL)
	str("ATIGIP_AXELOR_USER", &c.User)
	str("ATIGIP_AXELOR_PASSWORD", &c.Password)
	str("ATIGIP_AXELOR_API_KEY", &c.APIKey)
	if v, ok := get("ATIGIP_AXELOR_BASIC_AUTH"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("ATIGIP_AXELOR_BASIC_AUTH : booléen attendu, %q reçu", v))
		}
		c.BasicAuth = b
	}
	dur("ATIGIP_SYNC_INTERVAL", &c.Interval)
	num("ATIGIP_SYNC_PAGE_SIZE", &c.PageSize)
	dur("ATIGIP_SYNC_OVERLAP", &c.Overlap)
	num("ATIGIP_SYNC_WORKERS", &c.PushWorkers)
	dur("ATIGIP_SYNC_RETRY_BACKOFF", &c.RetryBackoff)
	dur("ATIGIP_SYNC_RECONCILE_EVERY", &c.ReconcileEvery)
	if v, ok := get("ATIGIP_SYNC_CATEGORY_KINDS"); ok {
		if err := parseCategoryKinds(v, c.CategoryKinds); err != nil {
			errs = append(errs, "ATIGIP_SYNC_CATEGORY_KINDS : "+err.Error())
		}
	}
	if v, ok := get("ATIGIP_SYNC_DEFAULT_KIND"); ok {
		c.DefaultKind = atigip.OrganisationKind(v)
	}
	dur("ATIGIP_AXELOR_TIMEOUT", &c.RequestTimeout)
	num("ATIGIP_AXELOR_RETRY_MAX", &c.RetryMax)
	num("ATIGIP_AXELOR_APP_RETRY_MAX", &c.AppRetryMax)
	if len(errs) > 0 {
		return c, atigip.Errorf(atigip.EINVALID, "Configuration de la synchronisation CRM invalide : %s.", strings.Join(errs, " ; "))
	}
	return c, c.Validate()
}

// Validate checks the configuration; messages are French.
func (c Config) Validate() error {
	var p atigip.Problems
	u, err := url.Parse(c.AxelorURL)
	p.Check(c.AxelorURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "",
		"axelor_url", "L'adresse d'Axelor (ATIGIP_AXELOR_URL) doit être une URL http(s) complète.")
	p.Check(c.APIKey == "" && (c.User == "" || c.Password == ""), "axelor_user",
		"Indiquer une clé d'API (ATIGIP_AXELOR_API_KEY) ou un utilisateur et un mot de passe Axelor.")
	p.Check(c.Interval < time.Minute, "interval", "L'intervalle de synchronisation doit être d'au moins une minute.")
	p.Check(c.PageSize < 1 || c.PageSize > 5000, "page_size", "La taille de page doit être comprise entre 1 et 5000.")
	p.Check(c.Overlap < 0, "overlap", "La fenêtre de recouvrement ne peut pas être négative.")
	p.Check(c.PushWorkers < 1 || c.PushWorkers > 64, "push_workers", "Le nombre d'écritures simultanées doit être compris entre 1 et 64.")
	p.Check(c.ConflictRetries < 1, "conflict_retries", "Au moins une nouvelle tentative est nécessaire en cas de conflit.")
	p.Check(c.RequestTimeout <= 0, "request_timeout", "Le délai d'attente d'Axelor doit être positif.")
	p.Check(c.RetryMax < 0, "retry_max", "Le nombre de nouvelles tentatives ne peut pas être négatif.")
	p.Check(c.AppRetryMax < 0, "app_retry_max", "Le nombre de nouvelles tentatives après une erreur Axelor ne peut pas être négatif.")
	p.Check(c.RetryBackoff <= 0 || c.RetryBackoff > c.Interval, "retry_backoff",
		"Le délai avant de retenter une synchronisation échouée doit être positif et au plus égal à l'intervalle.")
	p.Check(c.ReconcileEvery < 0, "reconcile_every", "L'intervalle de réconciliation ne peut pas être négatif.")
	if _, ok := atigip.OrganisationKinds[c.DefaultKind]; !ok {
		p.Add("default_kind", "Type de structure par défaut inconnu : %q.", c.DefaultKind)
	}
	for code, k := range c.CategoryKinds {
		if _, ok := atigip.OrganisationKinds[k]; !ok {
			p.Add("category_kinds", "Catégorie %s : type de structure inconnu %q.", code, k)
		}
	}
	p.Check(c.CursorName == "", "cursor_name", "Le nom du curseur est obligatoire.")
	return p.Err("Configuration de la synchronisation CRM")
}

// ClientOptions are the Axelor client options of this configuration.
func (c Config) ClientOptions() axelor.Options {
	o := axelor.Options{
		BaseURL: c.AxelorURL, Timeout: c.RequestTimeout, RetryMax: c.RetryMax,
		RetryWaitMin: c.RetryWaitMin, RetryWaitMax: c.RetryWaitMax, RetryAfterMax: c.RetryAfterMax,
		BreakerThreshold: c.BreakerThreshold, BreakerCooldown: c.BreakerCooldown, AppRetryMax: c.AppRetryMax,
	}
	if c.RetryMax == 0 {
		o.RetryMax = -1 // zero means "no retry" here, not "default"
	}
	if c.AppRetryMax == 0 {
		o.AppRetryMax = -1
	}
	switch {
	case c.APIKey != "":
		o.Auth = axelor.APIKeyAuth(c.APIKey)
	case c.BasicAuth:
		o.Auth = axelor.BasicAuth(c.User, c.Password)
	default:
		o.Auth = axelor.SessionAuth(c.User, c.Password)
	}
	return o
}

// NewClient builds the Axelor client of this configuration.
func (c Config) NewClient() (*axelor.Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return axelor.New(c.ClientOptions())
}
