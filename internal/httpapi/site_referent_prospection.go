package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/prospection"
	"github.com/atigip/atigip360/internal/refdata"
	"github.com/atigip/atigip360/internal/web"
)

// prospectionBase is one national computation: the coverage of every
// commune, which does not depend on whose measures wait, with the waiting
// measures of every département; prospectionFor recounts those of a
// principal's département over it, in microseconds.
type prospectionBase struct {
	res prospection.Result // with every waiting measure
	at  time.Time
	// byDep lists the communes of each département (indices into
	// res.Communes, in its order: the far ones first, so they are a
	// prefix); depRow gives a département's index in res.Departements.
	byDep  map[string][]int32
	depRow map[string]int
	// waiting holds, by the measure's département, the row of the home
	// commune of each measure waiting; people the persons of those
	// measures, for the audit.
	waiting map[string][]int32
	people  map[string][]int64

	auditMu sync.Mutex
	audited map[string]bool // scopes whose reading is in the audit log
}

// prospectionResult is the prospection as principal of one scope (a
// département, or national) sees it: the base's coverage with the
// waiting measures of the scope.
type prospectionResult struct {
	*prospectionBase
	national   bool
	counts     map[int32]int // waiting by commune row, when not national
	deps       []prospection.DepRow
	waitingFar int
}

// scoped recounts the waiting measures of dep ("" all) over b.
func (b *prospectionBase) scoped(dep string) prospectionResult {
	if dep == "" {
		return prospectionResult{prospectionBase: b, national: true, deps: b.res.Departements, waitingFar: b.res.WaitingFar}
	}
	pr := prospectionResult{prospectionBase: b, counts: map[int32]int{}, deps: slices.Clone(b.res.Departements)}
	for i := range pr.deps {
		pr.deps[i].Waiting, pr.deps[i].WaitingFar = 0, 0
	}
	for _, i := range b.waiting[dep] {
		pr.counts[i]++
		r := &b.res.Communes[i]
		d := &pr.deps[b.depRow[r.Departement]]
		d.Waiting++
		if r.Far {
			d.WaitingFar++
			pr.waitingFar++
		}
	}
	return pr
}

// waitingAt is the waiting measures of the scope whose person lives in
// commune row i.
func (pr prospectionResult) waitingAt(i int32) int {
	if pr.national {
		return pr.res.Communes[i].Waiting
	}
	return pr.counts[i]
}

// communes lists the rows of dep (all when empty), far ones only if far.
func (pr prospectionResult) communes(dep string, far bool) []int32 {
	if dep == "" {
		n := len(pr.res.Communes)
		if far {
			n = pr.res.FarCommunes
		}
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(i)
		}
		return out
	}
	rows := pr.byDep[dep]
	n := 0
	for n < len(rows) && (!far || pr.res.Communes[rows[n]].Far) {
		n++ // the far ones come first
	}
	return rows[:n]
}

// prospectionFor returns the prospection for p: posts everywhere, waiting
// measures of p's département (all when national), from the last national
// computation (see warmValue).
func (m *ReferentModule) prospectionFor(s *Server, c *fiber.Ctx, p atigip.Principal) (prospectionResult, error) {
	b, err := m.prosp.get(c.UserContext())
	if err != nil {
		return prospectionResult{}, err
	}
	// Home communes of people were read, only to be counted: the reading
	// is recorded under the first principal each computation serves in
	// each scope, as when the request computed it.
	b.auditMu.Lock()
	defer b.auditMu.Unlock()
	if !b.audited[p.Departement] {
		var people []int64
		if p.Departement == "" {
			for _, ids := range b.people {
				people = append(people, ids...)
			}
		} else {
			people = b.people[p.Departement]
		}
		if len(people) > 0 {
			if err := s.AuditAll(c, "referent.prospection", atigip.KindPerson, people, len(people)); err != nil {
				return prospectionResult{}, err
			}
		}
		b.audited[p.Departement] = true
	}
	return b.scoped(p.Departement), nil
}

// computeProspection reads the store and computes the national
// prospection.
func computeProspection(ctx context.Context, st atigip.Store, now time.Time) (*prospectionBase, error) {
	in, waiting, err := prospectionInput(ctx, st)
	if err != nil {
		return nil, err
	}
	b := &prospectionBase{res: prospection.Compute(in), at: now, byDep: map[string][]int32{}, depRow: map[string]int{},
		waiting: map[string][]int32{}, people: map[string][]int64{}, audited: map[string]bool{}}
	row := make(map[string]int32, len(b.res.Communes))
	for i, r := range b.res.Communes {
		b.byDep[r.Departement] = append(b.byDep[r.Departement], int32(i))
		row[r.INSEE] = int32(i)
	}
	for i, d := range b.res.Departements {
		b.depRow[d.Code] = i
	}
	for _, w := range waiting {
		b.people[w.dep] = append(b.people[w.dep], w.person)
		if i, ok := row[w.commune]; ok {
			b.waiting[w.dep] = append(b.waiting[w.dep], i)
		}
	}
	return b, nil
}

// waitingMeasure is a measure waiting to be placed: its département, its
// person and the person's home commune (INSEE, "" when unknown).
type waitingMeasure struct {
	dep, commune string
	person       int64
}

// prospectionInput reads the posts offered and the measures waiting to
// be placed, with the home commune of their person. The national input
// has every waiting measure; each one's own département is kept so that a
// principal's scope is recounted without reading the store again.
func prospectionInput(ctx context.Context, st atigip.Store) (prospection.Input, []waitingMeasure, error) {
	in := prospection.Input{Communes: prospection.Communes()}
	err := atigip.Of[*atigip.Post](st).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.PostRegistered),
		string(atigip.PostOpen), string(atigip.PostFull)}}, func(p *atigip.Post) error {
		in.Posts = append(in.Posts, prospection.Post{Commune: prospection.CommuneOf(p.Address.Commune), Departement: p.Address.Departement,
			Lon: p.Location.Lon, Lat: p.Location.Lat, Open: p.Status == atigip.PostOpen})
		return nil
	})
	if err != nil {
		return in, nil, fmt.Errorf("httpapi: prospection posts: %w", err)
	}
	var waiting []waitingMeasure
	err = atigip.Of[*atigip.Measure](st).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.MeasureToPlace)}},
		func(ms *atigip.Measure) error {
			waiting = append(waiting, waitingMeasure{dep: ms.Departement, person: ms.PersonID})
			return nil
		})
	if err != nil {
		return in, nil, fmt.Errorf("httpapi: prospection measures: %w", err)
	}
	home := make(map[int64]string, len(waiting))
	for i := 0; i < len(waiting); i += 500 {
		ids := make([]int64, 0, 500)
		for _, w := range waiting[i:min(i+500, len(waiting))] {
			ids = append(ids, w.person)
		}
		err = atigip.Of[*atigip.Person](st).Scan(ctx, atigip.ListFilter{IDs: ids}, func(p *atigip.Person) error {
			if p.HomeAddress.Commune != "" {
				home[p.ID] = prospection.CommuneOf(p.HomeAddress.Commune)
			}
			return nil
		})
		if err != nil {
			return in, nil, fmt.Errorf("httpapi: prospection people: %w", err)
		}
	}
	for i := range waiting {
		waiting[i].commune = home[waiting[i].person]
		if waiting[i].commune != "" {
			in.Waiting = append(in.Waiting, waiting[i].commune)
		}
	}
	return in, waiting, nil
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
		var communes []int32
		if view == "communes" {
			communes = pr.communes(dep, far)
		}
		var deps []prospection.DepRow
		for _, d := range pr.deps {
			if (dep == "" || d.Code == dep) && (!far || d.FarCommunes > 0) {
				deps = append(deps, d)
				pg.FarCommunes += d.FarCommunes
				pg.WaitingFar += d.WaitingFar
			}
		}
		if format == "csv" {
			return sendProspectionCSV(c, view, pr, communes, deps)
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
			for _, i := range communes[min(len(communes), (n-1)*prospectionPerPage):min(len(communes), n*prospectionPerPage)] {
				r := &pr.res.Communes[i]
				pg.Communes = append(pg.Communes, web.ProspectionCommune{INSEE: r.INSEE, Name: r.Name, Departement: r.Departement,
					Population: r.Population, Posts: r.Posts, Open: r.Open, Per10k: r.Per10k, NearestKm: r.NearestKm, Far: r.Far,
					Waiting: pr.waitingAt(i), Lon: r.Lon, Lat: r.Lat})
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

func sendProspectionCSV(c *fiber.Ctx, view string, pr prospectionResult, communes []int32, deps []prospection.DepRow) error {
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
		for _, ix := range communes {
			r := &pr.res.Communes[ix]
			near := ""
			if r.NearestKm >= 0 {
				near = f(r.NearestKm)
			}
			_ = w.Write([]string{r.INSEE, r.Name, r.Departement, i(r.Population), i(r.Posts), i(r.Open), f(r.Per10k), near,
				strconv.FormatBool(r.Far), i(pr.waitingAt(ix)), f(r.Lon), f(r.Lat)})
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
