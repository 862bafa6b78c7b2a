package httpapi

import (
	"bytes"
	"encoding/csv"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/prospection"
	"github.com/atigip/atigip360/internal/refdata"
	"github.com/atigip/atigip360/internal/web"
)

// prospectionResult is one computation, reused for the module's TTL,
// with the communes of each département (indices into res.Communes, in
// its order: the far ones first, so they are a prefix).
type prospectionResult struct {
	res   prospection.Result
	at    time.Time
	byDep map[string][]int32
}

// communes lists the rows of dep (all when empty), far ones only if far,
// without copying them.
func (pr prospectionResult) communes(dep string, far bool) []*prospection.CommuneRow {
	var out []*prospection.CommuneRow
	if dep == "" {
		n := len(pr.res.Communes)
		if far {
			n = pr.res.FarCommunes
		}
		out = make([]*prospection.CommuneRow, n)
		for i := range n {
			out[i] = &pr.res.Communes[i]
		}
		return out
	}
	for _, i := range pr.byDep[dep] {
		r := &pr.res.Communes[i]
		if far && !r.Far {
			break // the far ones come first
		}
		out = append(out, r)
	}
	return out
}

// prospectionFor computes (or reuses) the prospection for p: posts
// everywhere, waiting measures of p's département (all when national).
func (m *ReferentModule) prospectionFor(s *Server, c *fiber.Ctx, p atigip.Principal) (prospectionResult, error) {
	now := m.Now()
	return m.prosp.get(p.Departement, now, func() (prospectionResult, error) {
		in, people, err := prospectionInput(c, s.Store(), p.Departement)
		if err != nil {
			return prospectionResult{}, err
		}
		if len(people) > 0 {
			// Home communes of people are read, only to be counted.
			if err := s.AuditAll(c, "referent.prospection", atigip.KindPerson, people, len(people)); err != nil {
				return prospectionResult{}, err
			}
		}
		pr := prospectionResult{res: prospection.Compute(in), at: now, byDep: map[string][]int32{}}
		for i, r := range pr.res.Communes {
			pr.byDep[r.Departement] = append(pr.byDep[r.Departement], int32(i))
		}
		return pr, nil
	})
}

// prospectionInput reads the posts offered and the home communes of the
// people whose measure waits to be placed (in dep, or everywhere).
func prospectionInput(c *fiber.Ctx, st atigip.Store, dep string) (prospection.Input, []int64, error) {
	ctx := c.UserContext()
	in := prospection.Input{Communes: prospection.Communes()}
	err := atigip.Of[*atigip.Post](st).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.PostRegistered),
		string(atigip.PostOpen), string(atigip.PostFull)}}, func(p *atigip.Post) error {
		in.Posts = append(in.Posts, prospection.Post{Commune: prospection.CommuneOf(p.Address.Commune), Departement: p.Address.Departement,
			Lon: p.Location.Lon, Lat: p.Location.Lat, Open: p.Status == atigip.PostOpen})
		return nil
	})
	if err != nil {
		return in, nil, err
	}
	var people []int64
	err = atigip.Of[*atigip.Measure](st).Scan(ctx, atigip.ListFilter{Departement: dep, Status: []string{string(atigip.MeasureToPlace)}},
		func(ms *atigip.Measure) error { people = append(people, ms.PersonID); return nil })
	if err != nil {
		return in, nil, err
	}
	for i := 0; i < len(people); i += 500 {
		err = atigip.Of[*atigip.Person](st).Scan(ctx, atigip.ListFilter{IDs: people[i:min(i+500, len(people))]}, func(p *atigip.Person) error {
			if p.HomeAddress.Commune != "" {
				in.Waiting = append(in.Waiting, prospection.CommuneOf(p.HomeAddress.Commune))
			}
			return nil
		})
		if err != nil {
			return in, nil, err
		}
	}
	return in, people, nil
}

// prospection serves the map, the paged list and the CSV.
func (m *ReferentModule) prospection(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		m.frameAncestors(c, false)
		p := s.Principal(c)
		pr, err := m.prospectionFor(s, c, p)
		if err != nil {
			return s.Problem(c, err)
		}
		dep := cleanDep(c.Query("departement"))
		view := c.Query("vue", "communes")
		if view != "departements" {
			view = "communes"
		}
		far := c.Query("loin") == "1" || c.Query("loin") == "true"
		format := c.Query("format", "html")
		if format != "html" && format != "csv" {
			return s.Problem(c, invalidParam("format", "Format html ou csv attendu."))
		}
		pg := web.ProspectionPage{Departement: dep, Departements: departementChoices(), FarOnly: far, View: view,
			RadiusKm: pr.res.RadiusKm, ComputedAt: pr.at, WaitingScope: "France entière"}
		if p.Departement != "" {
			pg.WaitingScope = "département " + p.Departement
		}
		var communes []*prospection.CommuneRow
		if view == "communes" {
			communes = pr.communes(dep, far)
		}
		var deps []prospection.DepRow
		for _, d := range pr.res.Departements {
			if (dep == "" || d.Code == dep) && (!far || d.FarCommunes > 0) {
				deps = append(deps, d)
				pg.FarCommunes += d.FarCommunes
				pg.WaitingFar += d.WaitingFar
			}
		}
		if format == "csv" {
			return sendProspectionCSV(c, view, communes, deps)
		}
		if view == "departements" {
			pg.Total = len(deps)
			for _, d := range deps {
				info, _ := refdata.DepartementByCode(d.Code)
				pg.Deps = append(pg.Deps, web.ProspectionDep{Code: d.Code, Name: info.NameWithArticle, Population: d.Population, Posts: d.Posts,
					Open: d.Open, Per10k: d.Per10k, Communes: d.Communes, FarCommunes: d.FarCommunes, FarPopulation: d.FarPopulation,
					Waiting: d.Waiting, WaitingFar: d.WaitingFar, Lon: info.Lon, Lat: info.Lat})
			}
		} else {
			pg.Total = len(communes)
			n := pageNumber(c)
			last := max(1, (len(communes)+prospectionPerPage-1)/prospectionPerPage)
			n = min(n, last)
			pg.Pager = web.NewPager(n, last, pageLink(c))
			for _, r := range communes[min(len(communes), (n-1)*prospectionPerPage):min(len(communes), n*prospectionPerPage)] {
				pg.Communes = append(pg.Communes, web.ProspectionCommune{INSEE: r.INSEE, Name: r.Name, Departement: r.Departement,
					Population: r.Population, Posts: r.Posts, Open: r.Open, Per10k: r.Per10k, NearestKm: r.NearestKm, Far: r.Far,
					Waiting: r.Waiting, Lon: r.Lon, Lat: r.Lat})
			}
		}
		q, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
		q.Set("format", "csv")
		q.Del("page")
		pg.CSV = "/referent/prospection?" + q.Encode()
		l := s.layout(c, "Prospection", "espace", web.Crumb{Label: "Mon espace", URL: "/espace"})
		l.Map = true
		return s.page(c, fiber.StatusOK, "prospection", l, pg)
	}
}

func sendProspectionCSV(c *fiber.Ctx, view string, communes []*prospection.CommuneRow, deps []prospection.DepRow) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	i := strconv.Itoa
	if view == "departements" {
		_ = w.Write([]string{"departement", "habitants", "postes_offerts", "postes_ouverts", "postes_pour_10000_hab", "communes",
			"communes_eloignees", "habitants_eloignes", "mesures_en_attente", "mesures_en_attente_eloignees"})
		for _, d := range deps {
			_ = w.Write([]string{d.Code, i(d.Population), i(d.Posts), i(d.Open), f(d.Per10k), i(d.Communes), i(d.FarCommunes),
				i(d.FarPopulation), i(d.Waiting), i(d.WaitingFar)})
		}
	} else {
		_ = w.Write([]string{"commune_insee", "commune", "departement", "habitants", "postes_offerts", "postes_ouverts",
			"postes_pour_10000_hab", "poste_ouvert_le_plus_proche_km", "eloignee", "mesures_en_attente", "longitude", "latitude"})
		for _, r := range communes {
			near := ""
			if r.NearestKm >= 0 {
				near = f(r.NearestKm)
			}
			_ = w.Write([]string{r.INSEE, r.Name, r.Departement, i(r.Population), i(r.Posts), i(r.Open), f(r.Per10k), near,
				strconv.FormatBool(r.Far), i(r.Waiting), f(r.Lon), f(r.Lat)})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="prospection-`+view+`.csv"`)
	return c.Send(b.Bytes())
}
