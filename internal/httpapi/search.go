package httpapi

import (
	"math"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/search"
)

// SearchModule serves the full-text search of posts, offers, organisations
// and floor spaces, and the commune and job autocomplete. Every role may
// search; the index answers with what the role's audience may see.
type SearchModule struct {
	Index *search.Index
}

// searchResponse is the body of GET /api/search.
type searchResponse struct {
	search.Result
	TookMs float64 `json:"took_ms"`
}

type suggestResponse struct {
	Suggestions []search.Suggestion `json:"suggestions"`
}

// Routes implements Module.
func (m SearchModule) Routes(s *Server) []Route {
	q := func(name, typ, desc string) Param {
		return Param{Name: name, In: "query", Type: typ, Description: desc}
	}
	return []Route{
		{Method: fiber.MethodGet, Path: "/api/search", Tag: "search",
			Summary: "Rechercher des postes de TIG, offres, structures d'accueil et surfaces d'implantation (texte français, filtres, facettes)",
			Params: []Param{
				q("q", "string", "Texte libre ; expressions entre guillemets ; vide ou * : tout ce que gardent les filtres (emoji ou mots vides seuls : 400)"),
				q("type", "string", "post, offer, organisation, floor_space (plusieurs séparés par des virgules) ou all ; par défaut selon le rôle : postes de TIG et structures d'accueil pour la justice, offres et surfaces pour les entreprises, tout pour le public"),
				q("near", "string", "Point « longitude,latitude » pour le rayon et le tri par distance"),
				q("radius_km", "number", "Rayon autour de near, en km (au plus 1000)"),
				q("departement", "string", "Code du département (35, 2A, 974)"),
				q("region", "string", "Code INSEE de la région"),
				q("commune", "string", "Code INSEE de la commune"),
				q("rome", "string", "Codes ROME (A1203) ou domaines (A), séparés par des virgules"),
				q("minors", "boolean", "Postes ouverts aux mineurs"),
				q("weekends", "boolean", "Horaires le week-end"),
				q("wheelchair", "boolean", "Accessible en fauteuil roulant"),
				q("available", "boolean", "Places disponibles (professionnels de la justice)"),
				q("status", "string", "Statuts, séparés par des virgules"),
				q("sort", "string", "relevance (défaut), distance ou date"),
				q("page", "integer", "Page, à partir de 1"),
				q("per_page", "integer", "Résultats par page (1 à 100, 20 par défaut)"),
				q("facets", "boolean", "Compter les facettes (par défaut : sur la première page seulement)"),
				q("explain", "boolean", "Explication du score (professionnels)"),
			},
			Response: searchResponse{}, Handler: m.search(s)},
		{Method: fiber.MethodGet, Path: "/api/search/suggest", Tag: "search",
			Summary: "Compléter un nom de commune ou un intitulé de métier (ROME)",
			Params: []Param{
				{Name: "q", In: "query", Type: "string", Description: "Début de saisie", Required: true},
				q("kind", "string", "commune ou job (les deux si absent)"),
				q("limit", "integer", "Nombre de suggestions (1 à 50, 10 par défaut)"),
			},
			Response: suggestResponse{}, Handler: m.suggest(s)},
	}
}

func (m SearchModule) search(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		req, err := parseSearchRequest(c)
		if err != nil {
			return s.Problem(c, err)
		}
		req.Role = s.Principal(c).Role
		res, err := m.Index.Search(c.UserContext(), req)
		if err != nil {
			return s.Problem(c, err)
		}
		return c.JSON(searchResponse{Result: *res, TookMs: float64(res.Took.Microseconds()) / 1000})
	}
}

func (m SearchModule) suggest(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var p atigip.Problems
		limit := searchInt(c, "limit", &p)
		if err := p.Err("Suggestion"); err != nil {
			return s.Problem(c, err)
		}
		out, err := search.Suggest(c.Query("q"), c.Query("kind"), limit)
		if err != nil {
			return s.Problem(c, err)
		}
		if out == nil {
			out = []search.Suggestion{}
		}
		return c.JSON(suggestResponse{Suggestions: out})
	}
}

// parseSearchRequest reads the query string; the core validates values.
func parseSearchRequest(c *fiber.Ctx) (search.Request, error) {
	var p atigip.Problems
	r := search.Request{
		Query:       c.Query("q"),
		Departement: strings.TrimSpace(c.Query("departement")),
		Region:      strings.TrimSpace(c.Query("region")),
		Commune:     strings.TrimSpace(c.Query("commune")),
		ROME:        searchList(c.Query("rome")),
		Status:      searchList(c.Query("status")),
		Sort:        c.Query("sort"),
		Minors:      searchBool(c, "minors", &p),
		Weekends:    searchBool(c, "weekends", &p),
		Wheelchair:  searchBool(c, "wheelchair", &p),
		Available:   searchBool(c, "available", &p),
		Facets:      searchBool(c, "facets", &p),
		Page:        searchInt(c, "page", &p),
		PerPage:     searchInt(c, "per_page", &p),
	}
	for _, t := range searchList(c.Query("type")) {
		r.Types = append(r.Types, search.Type(t))
	}
	if v := c.Query("near"); v != "" {
		lon, lat, ok := strings.Cut(v, ",")
		x, errX := strconv.ParseFloat(strings.TrimSpace(lon), 64)
		y, errY := strconv.ParseFloat(strings.TrimSpace(lat), 64)
		if !ok || errX != nil || errY != nil {
			p.Add("near", "Point invalide : « longitude,latitude » attendu, par exemple -1.68,48.11.")
		} else {
			r.Near = &atigip.Point{Lon: x, Lat: y}
		}
	}
	if v := c.Query("radius_km"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) {
			p.Add("radius_km", "Rayon invalide : un nombre de kilomètres est attendu.")
		} else {
			r.RadiusKm = f
		}
	}
	if e := searchBool(c, "explain", &p); e != nil {
		r.Explain = *e
	}
	return r, p.Err("Recherche")
}

func searchList(v string) []string {
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func searchBool(c *fiber.Ctx, name string, p *atigip.Problems) *bool {
	v := strings.ToLower(strings.TrimSpace(c.Query(name)))
	var b bool
	switch v {
	case "":
		return nil
	case "true", "1", "oui", "yes":
		b = true
	case "false", "0", "non", "no":
		b = false
	default:
		p.Add(name, "Valeur invalide : %q (attendu : true ou false).", v)
		return nil
	}
	return &b
}

func searchInt(c *fiber.Ctx, name string, p *atigip.Problems) int {
	v := strings.TrimSpace(c.Query(name))
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.Add(name, "Nombre entier attendu, et non %q.", v)
		return 0
	}
	return n
}
