package httpapi

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/indicators"
	"github.com/atigip/atigip360/internal/refdata"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/internal/web/frfmt"
)

// indicatorsResult is one computed report, with the pages laid out from
// it (by région, "" national), each once.
type indicatorsResult struct {
	report *indicators.Report
	at     time.Time

	mu    sync.Mutex
	pages map[string]web.IndicatorsPage
}

// indicatorMonths is the span of the charts over time.
const indicatorMonths = 12

// computeIndicators computes the report of the day of now, and lays out
// its national page (the one « Mon espace » leads to) ahead of requests.
func computeIndicators(ctx context.Context, st atigip.Store, now time.Time) (*indicatorsResult, error) {
	r, err := indicators.Compute(ctx, st, atigip.DateOf(now), 0)
	if err != nil {
		return nil, &atigip.Error{Code: atigip.EUNAVAILABLE, Message: "Calcul des indicateurs impossible pour le moment.", Err: err}
	}
	ir := &indicatorsResult{report: r, at: now, pages: map[string]web.IndicatorsPage{}}
	ir.page(territoryOf(""))
	return ir, nil
}

// page is the indicators' page of t, laid out at the first call.
func (ir *indicatorsResult) page(t territory) web.IndicatorsPage {
	ir.mu.Lock()
	defer ir.mu.Unlock()
	pg, ok := ir.pages[t.region]
	if !ok {
		// The charts by territory sort every delay: once per report.
		pg = indicatorsPage(ir, t)
		ir.pages[t.region] = pg
	}
	return pg
}

func (m *ReferentModule) report(s *Server, c *fiber.Ctx) (*indicatorsResult, error) {
	m.init(s)
	return m.ind.get(c.UserContext())
}

// territory is the grouping of the charts by territory: régions
// nationally, the région's départements when one is chosen.
type territory struct {
	region, regionName string
	deps               []string
	group              func(dep string) string
	label              func(key string) string
	noun               string
}

func territoryOf(code string) territory {
	if r, ok := refdata.RegionByCode(code); ok {
		t := territory{region: r.Code, regionName: r.NameWithArticle, noun: "département"}
		for _, d := range refdata.Departements() {
			if d.Region == r.Code {
				t.deps = append(t.deps, d.Code)
			}
		}
		t.group = func(dep string) string {
			if d, ok := refdata.DepartementByCode(dep); ok && d.Region == r.Code {
				return dep
			}
			return ""
		}
		t.label = func(k string) string {
			d, _ := refdata.DepartementByCode(k)
			return k + " — " + d.NameWithArticle
		}
		return t
	}
	return territory{noun: "région", group: regionOf, label: func(k string) string {
		r, ok := refdata.RegionByCode(k)
		if !ok {
			return k
		}
		return r.NameWithArticle
	}}
}

// series are the charts' data, by name (the CSV's name too).
func (t territory) series(r *indicators.Report, name string) ([]indicators.Point, [3]string, func(string) string, bool) {
	switch name {
	case "postes-mois":
		return indicators.PostsByMonth(r, indicatorMonths, t.deps), [3]string{"mois", "postes_offerts", "postes"}, web.MonthLabel, true
	case "delai-mois":
		return indicators.DelayByMonth(r, indicatorMonths), [3]string{"mois", "delai_median_mois", "mesures_commencees"}, web.MonthLabel, true
	case "postes-territoire":
		return indicators.PostsBy(r, t.group), [3]string{t.noun, "postes_offerts", "postes"}, t.label, true
	case "delai-territoire":
		return indicators.DelayBy(r, t.group), [3]string{t.noun, "delai_median_mois", "mesures_commencees"}, t.label, true
	}
	return nil, [3]string{}, nil, false
}

func (m *ReferentModule) indicators(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		m.frameAncestors(c, false)
		ir, err := m.report(s, c)
		if err != nil {
			return s.Problem(c, err)
		}
		pg := ir.page(territoryOf(c.Query("region")))
		return s.page(c, fiber.StatusOK, "indicateurs", s.layout(c, "Indicateurs du contrat", "espace", web.Crumb{Label: "Mon espace", URL: "/espace"}), pg)
	}
}

// indicatorsPage lays out the report's targets and charts for t.
func indicatorsPage(ir *indicatorsResult, t territory) web.IndicatorsPage {
	r := ir.report
	suffix := ""
	if t.region != "" {
		suffix = "?region=" + t.region
	}
	pg := web.IndicatorsPage{Date: r.Date.Time, ComputedAt: ir.at, Region: t.region, RegionName: t.regionName, Year: r.Year,
		Definitions: r.Definitions, CSV: "/indicateurs/cibles.csv"}
	pg.Regions = regionChoices()
	for _, x := range indicators.Targets(r) {
		dec := 0
		if x.Unit == "%" || x.Unit == "mois" {
			dec = 2
		}
		unit := x.Unit
		if unit != "%" {
			unit = ""
		}
		f := func(v float64) string {
			s := frfmt.Number(v, dec)
			if x.Unit == "%" {
				return s + "\u00a0%"
			}
			return s + "\u00a0" + x.Unit
		}
		pg.Targets = append(pg.Targets, web.TargetView{Key: x.Key, Label: x.Label, Unit: x.Unit, Baseline: f(x.Baseline), Goal: f(x.Goal),
			Current: f(x.Current), Progress: int(x.Progress*100 + 0.5), LowerIsBetter: x.LowerIsBetter,
			Gauge: web.NewGauge("cible-"+x.Key, x.Label, unit, x.Baseline, x.Goal, x.Current, dec)})
	}
	where := "France entière"
	if t.region != "" {
		where = t.regionName
	}
	charts := []struct{ name, title, desc string }{
		{"postes-mois", "Postes de TIG offerts, fin de chaque mois (" + where + ")",
			"Postes offerts aujourd'hui selon leur mois de création, cumulés ; cible nationale : 31 000 postes."},
		{"delai-mois", "Délai médian condamnation → début du TIG, par mois de début (France entière)",
			"Médiane en mois des TIG commencés dans le mois ; cible : 6 mois."},
		{"postes-territoire", "Postes de TIG offerts par " + t.noun + " (" + where + ")", "Postes inscrits, ouverts ou complets."},
		{"delai-territoire", "Délai médian condamnation → début du TIG par " + t.noun + " (" + where + ")",
			"Médiane en mois, sur toutes les mesures commencées ; cible : 6 mois."},
	}
	for _, ch := range charts {
		ps, cols, label, _ := t.series(r, ch.name)
		bps := make([]web.BarPoint, len(ps))
		for i, p := range ps {
			bps[i] = web.BarPoint{Label: label(p.Key), Value: p.Value, Count: p.Count}
		}
		var ref *float64
		dec, unit := 0, ""
		header := [3]string{frenchColumn(cols[0]), "Postes offerts", ""}
		switch ch.name {
		case "delai-mois", "delai-territoire":
			six := 6.0
			ref, dec, unit = &six, 1, "mois"
			header = [3]string{frenchColumn(cols[0]), "Délai médian", "TIG commencés"}
		case "postes-mois":
			if t.region == "" {
				goal := 31000.0
				ref = &goal
			}
		}
		refLabel := ""
		if ref != nil {
			refLabel = "cible " + frfmt.Number(*ref, 0)
			if unit != "" {
				refLabel += "\u00a0" + unit
			}
		}
		pg.Charts = append(pg.Charts, web.NewBarChart(ch.name, ch.title, ch.desc, "/indicateurs/"+ch.name+".csv"+suffix,
			header, bps, dec, unit, ref, refLabel))
	}
	return pg
}

func frenchColumn(k string) string {
	switch k {
	case "mois":
		return "Mois"
	case "région":
		return "Région"
	}
	return "Département"
}

// indicatorsCSV serves the data behind one chart.
func (m *ReferentModule) indicatorsCSV(s *Server) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ir, err := m.report(s, c)
		if err != nil {
			return s.Problem(c, err)
		}
		name := c.Params("graphique")
		var b bytes.Buffer
		if name == "cibles" {
			err = indicators.WriteTargetsCSV(&b, indicators.Targets(ir.report))
		} else {
			ps, cols, label, ok := territoryOf(c.Query("region")).series(ir.report, name)
			if !ok {
				return s.Problem(c, atigip.Errorf(atigip.ENOTFOUND, "Graphique inconnu : cibles, postes-mois, delai-mois, postes-territoire ou delai-territoire."))
			}
			err = indicators.WriteSeriesCSV(&b, cols, label, ps)
		}
		if err != nil {
			return s.Problem(c, err)
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="indicateurs-`+name+`.csv"`)
		return c.Send(b.Bytes())
	}
}
