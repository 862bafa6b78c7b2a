package httpapi

import (
	"bytes"
	"strconv"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/indicators"
	"github.com/gofiber/fiber/v2"
)

// indicatorReaders see the contract's indicators: aggregates, no personal
// data, but small counts by département are kept to professionals.
var indicatorReaders = []atigip.Role{atigip.RoleReferent, atigip.RoleDSPIP, atigip.RoleCPIP, atigip.RolePJJ,
	atigip.RoleMagistrate, atigip.RoleClerk, atigip.RolePrisonStaff}

// IndicatorsModule serves GET /api/indicators (JSON, or CSV with
// ?format=csv). The report of the current year is figures' (the one its
// pages show, kept warm) when figures is not nil; another year, or any
// without figures, is computed from the store at each call. now is the
// clock (nil: time.Now).
func IndicatorsModule(now func() time.Time, figures *ReferentModule) Module {
	if now == nil {
		now = time.Now
	}
	return ModuleFunc(func(s *Server) []Route {
		return []Route{{Method: fiber.MethodGet, Path: "/api/indicators", Roles: indicatorReaders, Tag: "indicators",
			Summary: "Indicateurs du contrat : postes de TIG offerts, délai condamnation → début du TIG (médiane, 90e centile, par département et par mois), " +
				"part des mesures exécutées, part des personnes détenues ayant travaillé ou été formées, entreprises offrant des postes",
			Params: []Param{{Name: "format", Type: "string", Description: "json (par défaut) ou csv"},
				{Name: "year", Type: "integer", Description: "Année des indicateurs de détention (par défaut : l'année en cours)"}},
			Response: indicators.Report{},
			Handler: func(c *fiber.Ctx) error {
				year := 0
				if v := c.Query("year"); v != "" {
					n, err := strconv.Atoi(v)
					if err != nil || n < 2000 || n > 2100 {
						return s.Problem(c, invalidParam("year", "Année attendue entre 2000 et 2100."))
					}
					year = n
				}
				format := c.Query("format", "json")
				if format != "json" && format != "csv" {
					return s.Problem(c, invalidParam("format", "Format json ou csv attendu."))
				}
				var r *indicators.Report
				// The warm report is this year's: another year is computed.
				if figures != nil && (year == 0 || year == atigip.DateOf(now()).Year()) {
					ir, err := figures.report(s, c)
					if err != nil {
						return s.Problem(c, err)
					}
					if year == 0 || year == ir.report.Year {
						r = ir.report
					}
				}
				if r == nil {
					var err error
					if r, err = indicators.Compute(c.UserContext(), s.Store(), atigip.DateOf(now()), year); err != nil {
						return s.Problem(c, &atigip.Error{Code: atigip.EUNAVAILABLE, Message: "Calcul des indicateurs impossible pour le moment.", Err: err})
					}
				}
				if format == "csv" {
					var b bytes.Buffer
					if err := indicators.WriteCSV(&b, r); err != nil {
						return s.Problem(c, err)
					}
					c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
					c.Set(fiber.HeaderContentDisposition, `attachment; filename="indicateurs.csv"`)
					return c.Send(b.Bytes())
				}
				return c.JSON(r)
			}}}
	})
}
