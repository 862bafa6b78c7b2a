package httpapi

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
	"github.com/gofiber/fiber/v2"
)

// A capability is a Module: it declares its routes with the roles they
// admit, and the Server enforces them and documents them in /openapi.json.
func ExampleNew() {
	dev, _ := auth.NewDevTokens([]byte("exemple-exemple-exemple-exemple-32"))
	caseload := ModuleFunc(func(s *Server) []Route {
		return []Route{{
			Method: fiber.MethodGet, Path: "/api/caseload", Tag: "exemple",
			Summary: "Nombre de mesures à placer",
			Roles:   []atigip.Role{atigip.RoleCPIP, atigip.RoleDSPIP},
			Handler: func(c *fiber.Ctx) error {
				_, total, err := s.Store().Entities(atigip.KindMeasure).List(c.UserContext(),
					atigip.ListFilter{Status: []string{string(atigip.MeasureToPlace)}, Limit: 1})
				if err != nil {
					return s.Problem(c, err)
				}
				return c.JSON(map[string]any{"role": s.Principal(c).Role, "to_place": total})
			},
		}}
	})
	srv, err := New(Options{Store: newMemStore(), Auth: dev, Modules: []Module{caseload},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	get := func(role atigip.Role) {
		req := httptest.NewRequest("GET", "/api/caseload", nil)
		if role != "" {
			tok, _ := dev.Issue(atigip.Principal{Subject: "exemple", Role: role}, time.Hour)
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, _ := srv.App().Test(req)
		var body map[string]any
		_ = decodeStrict(mustRead(res.Body), &body)
		fmt.Println(res.StatusCode, body["to_place"], body["title"])
	}
	get("")
	get(atigip.RoleBusiness)
	get(atigip.RoleCPIP)
	// Output:
	// 401 <nil> Authentification requise
	// 403 <nil> Accès refusé
	// 200 0 <nil>
}
