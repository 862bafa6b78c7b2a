package httpapi

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/crmsync"
	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/embedlink"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/internal/web/frfmt"
)

// ReferentModule is the TIG referent's workspace: the pages Axelor
// embeds (a partner's posts, habilitation, activity and sync state),
// opened in the site's session or by a short-lived signed link; the
// prospection (where posts are missing); and the contract's indicators
// with their charts and CSV, which the DSPIP see too.
type ReferentModule struct {
	// Syncer gives the partners' sync state; nil where the CRM sync does
	// not run.
	Syncer *crmsync.Syncer
	// EmbedSecret checks Axelor's signed links (empty: links refused).
	EmbedSecret []byte
	// EmbedOrigin is the Axelor origin allowed to frame the partner page.
	EmbedOrigin string
	// Now is the clock (nil: time.Now). MaxAge is the age past which the
	// prospection and the indicators are recomputed in the background if
	// the store has changed, and the partners' activity index reused
	// (0: 5 minutes).
	Now    func() time.Time
	MaxAge time.Duration

	once   sync.Once
	warm   *warmer
	prosp  *warmValue[*prospectionBase]
	ind    *warmValue[*indicatorsResult]
	hosted *ttlCache[hostedIndex]
}

// referentRoles follow the host organisations: the TIG referent and the
// probation directors who decide habilitations.
var referentRoles = []atigip.Role{atigip.RoleReferent, atigip.RoleDSPIP}

// partnersPerPage and prospectionPerPage size the lists' pages.
const (
	partnersPerPage    = 50
	prospectionPerPage = 50
)

func (m *ReferentModule) init(s *Server) {
	m.once.Do(func() {
		if m.Now == nil {
			m.Now = time.Now
		}
		if m.MaxAge <= 0 {
			m.MaxAge = 5 * time.Minute
		}
		m.warm = newWarmer(s.Store().LastSeq, m.Now, m.MaxAge, s.opts.Logger)
		m.ind = newWarmValue(m.warm, "indicators", func(ctx context.Context, now time.Time) (*indicatorsResult, error) {
			return computeIndicators(ctx, s.Store(), now)
		})
		m.prosp = newWarmValue(m.warm, "prospection", func(ctx context.Context, now time.Time) (*prospectionBase, error) {
			return computeProspection(ctx, s.Store(), now)
		})
		m.hosted = newTTLCache[hostedIndex](m.MaxAge)
	})
}

// Start computes the indicators and the prospection in the background,
// now that the server is ready, and keeps them fresh until ctx ends (the
// server's lifetime), so that no request waits for them: serve calls it
// once the engines have caught up.
func (m *ReferentModule) Start(ctx context.Context, s *Server) {
	m.init(s)
	m.warm.Start(ctx)
}

// Close stops the background computations and returns once they have
// ended.
func (m *ReferentModule) Close() {
	if m.warm != nil {
		m.warm.Close()
	}
}

// Routes implements Module.
func (m *ReferentModule) Routes(s *Server) []Route {
	m.init(s)
	q := func(name, typ, desc string) Param {
		return Param{Name: name, In: "query", Type: typ, Description: desc}
	}
	id := Param{Name: "id", In: "path", Type: "integer", Description: "Identifiant de la structure d'accueil", Required: true}
	page := Param{Name: "page", In: "query", Type: "integer", Description: "Numéro de page (1 par défaut)"}
	dep := q("departement", "string", "Code du département")
	linkParams := []Param{q("exp", "integer", "Lien signé : expiration (secondes Unix)"), q("sub", "string", "Lien signé : utilisateur Axelor"),
		q("sig", "string", "Lien signé : HMAC-SHA256 en hexadécimal"), q("integre", "boolean", "Affichage sans en-tête (dans Axelor)")}
	get := func(path, summary string, roles []atigip.Role, params []Param, h fiber.Handler) Route {
		return Route{Method: fiber.MethodGet, Path: path, Tag: "site", Produces: htmlType, Roles: roles, Params: params, Summary: summary, Handler: h}
	}
	return []Route{
		get("/referent/partenaires", "Structures d'accueil partenaires du référent TIG (liste paginée)", referentRoles,
			[]Param{dep, page}, m.partners(s)),
		// Open at the gate: the handler admits the referent's session or a
		// valid signed link from Axelor, and refuses anything else.
		get("/referent/partenaires/:id", "Fiche d'un partenaire intégrable dans Axelor : postes sur la carte, habilitation et historique, "+
			"tigistes et heures de l'année, état de la synchronisation CRM (session référent/DSPIP, ou lien signé exp/sub/sig)", nil,
			append([]Param{id}, linkParams...), m.partner(s, false)),
		get("/referent/axelor/:id", "La même fiche, désignée par l'identifiant du partenaire dans Axelor (lien signé sur cet identifiant)", nil,
			append([]Param{{Name: "id", In: "path", Type: "integer", Description: "Identifiant du partenaire dans Axelor", Required: true}},
				linkParams...), m.partner(s, true)),
		get("/referent/prospection", "Prospection : postes pour 10 000 habitants, communes à plus de 15 km d'un poste ouvert, "+
			"mesures en attente faute de poste proche (carte, liste paginée, CSV)", referentRoles,
			[]Param{dep, q("vue", "string", "communes (par défaut) ou departements"), q("loin", "boolean", "Communes éloignées seulement"),
				page, q("format", "string", "html (par défaut) ou csv")}, m.prospection(s)),
		get("/indicateurs", "Indicateurs du contrat face à leurs cibles : graphiques dans le temps et par région/département", indicatorReaders,
			[]Param{q("region", "string", "Code INSEE de la région (départements de la région)")}, m.indicators(s)),
		func() Route {
			r := get("/indicateurs/:graphique.csv", "Données d'un graphique des indicateurs (CSV)", indicatorReaders,
				[]Param{{Name: "graphique", In: "path", Type: "string", Required: true,
					Description: "cibles, postes-mois, delai-mois, postes-territoire ou delai-territoire"},
					q("region", "string", "Code INSEE de la région")}, m.indicatorsCSV(s))
			r.Produces = "text/csv"
			return r
		}(),
	}
}

// HomeCards implements HomeContributor: partners and prospection for
// the referent and the DSPIP, the indicators for every reader of them.
func (m *ReferentModule) HomeCards(s *Server, c *fiber.Ctx, p atigip.Principal) ([]web.HomeCard, error) {
	m.init(s)
	var cards []web.HomeCard
	if slices.Contains(referentRoles, p.Role) {
		_, pending, err := atigip.Of[*atigip.Organisation](s.Store()).List(c.UserContext(), atigip.ListFilter{Departement: p.Departement,
			Status: []string{string(atigip.HabRequested), string(atigip.HabAwaiting)}, Limit: 1})
		if err != nil {
			return nil, err
		}
		cards = append(cards, web.HomeCard{Title: "Structures partenaires", URL: "/referent/partenaires",
			Desc:    "Fiche de chaque structure d'accueil, celle qu'Axelor intègre : postes, habilitation, activité, synchronisation.",
			Waiting: []string{frfmt.Plural(pending, "habilitation en cours", "habilitations en cours")}})
		pr, err := m.prospectionFor(s, c, p)
		if err != nil {
			return nil, err
		}
		cards = append(cards, web.HomeCard{Title: "Prospection", URL: "/referent/prospection",
			Desc: "Où manquent les postes : communes éloignées, mesures en attente faute de poste proche.",
			Waiting: []string{frfmt.Plural(pr.res.FarCommunes, "commune éloignée d'un poste ouvert", "communes éloignées d'un poste ouvert"),
				frfmt.Plural(pr.waitingFar, "mesure en attente faute de poste proche", "mesures en attente faute de poste proche")}})
	}
	if slices.Contains(indicatorReaders, p.Role) {
		card := web.HomeCard{Title: "Indicateurs du contrat", URL: "/indicateurs",
			Desc: "Les indicateurs du contrat face à leurs cibles, dans le temps et par territoire, avec leurs données CSV."}
		if slices.Contains([]atigip.Role{atigip.RoleReferent, atigip.RoleDSPIP}, p.Role) {
			ir, err := m.report(s, c)
			if err != nil {
				return nil, err
			}
			card.Waiting = []string{frfmt.Plural(ir.report.Posts.Offered, "poste de TIG offert", "postes de TIG offerts") + " (cible : 31 000)"}
		}
		cards = append(cards, card)
	}
	return cards, nil
}

// frameAncestors allows the page in a frame of this site and of Axelor
// only (CSP frame-ancestors; X-Frame-Options cannot name another origin).
func (m *ReferentModule) frameAncestors(c *fiber.Ctx, embeddable bool) {
	v := "frame-ancestors 'self'"
	if embeddable && m.EmbedOrigin != "" {
		v += " " + m.EmbedOrigin
	}
	c.Set("Content-Security-Policy", v)
	if !embeddable {
		c.Set(fiber.HeaderXFrameOptions, "SAMEORIGIN")
	}
}

// linkRefusal is the French page for a missing, forged or expired link.
func (m *ReferentModule) linkRefusal(s *Server, c *fiber.Ctx, err error) error {
	e := web.ErrorPage{Status: fiber.StatusForbidden, Title: "Accès refusé",
		Lead: "Cette fiche s'ouvre depuis Axelor, par un lien à durée limitée, ou après connexion avec un compte de référent TIG ou de direction (DSPIP)."}
	switch {
	case errors.Is(err, embedlink.ErrExpired):
		e.Title, e.Detail = "Lien expiré", "Le lien d'accès a expiré : rouvrez la fiche depuis Axelor pour en obtenir un nouveau."
	case errors.Is(err, embedlink.ErrForged), errors.Is(err, embedlink.ErrTooLong):
		e.Title, e.Detail = "Lien invalide", "Le lien d'accès n'est pas valide pour cette structure : rouvrez la fiche depuis Axelor."
	}
	if s.opts.Dev && s.opts.DevIssuer != nil {
		e.SignIn = "/dev/signin?retour=" + urlQueryEscape(c.OriginalURL())
	}
	if len(s.opts.SignIn) > 0 {
		e.SignIn = "/connexion?retour=" + urlQueryEscape(c.OriginalURL())
	}
	return s.page(c, fiber.StatusForbidden, "erreur", s.layout(c, e.Title, ""), e)
}

// pageNumber reads ?page (1 when absent or invalid).
func pageNumber(c *fiber.Ctx) int {
	n, err := strconv.Atoi(c.Query("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// pageLink is the current address with page=n.
func pageLink(c *fiber.Ctx) func(int) string {
	v, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	return func(n int) string {
		v.Set("page", strconv.Itoa(n))
		return c.Path() + "?" + v.Encode()
	}
}

// cleanDep is a département code from a query, "" when not one.
func cleanDep(v string) string {
	v = strings.ToUpper(strings.TrimSpace(v))
	if v != "" && !validDepartementCode(v) {
		return ""
	}
	return v
}

// ttlCache keeps one value per key for ttl, computing it once for
// concurrent callers.
type ttlCache[T any] struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*ttlEntry[T]
}

type ttlEntry[T any] struct {
	mu  sync.Mutex
	at  time.Time
	v   T
	set bool
}

func newTTLCache[T any](ttl time.Duration) *ttlCache[T] {
	return &ttlCache[T]{ttl: ttl, m: map[string]*ttlEntry[T]{}}
}

func (c *ttlCache[T]) get(key string, now time.Time, compute func() (T, error)) (T, error) {
	c.mu.Lock()
	e := c.m[key]
	if e == nil {
		e = &ttlEntry[T]{}
		c.m[key] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.set && now.Sub(e.at) < c.ttl {
		return e.v, nil
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	e.v, e.at, e.set = v, now, true
	return v, nil
}
