package httpapi

import (
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/web"
)

// cpipDesk stands for a workspace module: it has a card for CPIPs only.
type cpipDesk struct{}

func (cpipDesk) Routes(*Server) []Route { return nil }

func (cpipDesk) HomeCards(_ *Server, _ *fiber.Ctx, p atigip.Principal) ([]web.HomeCard, error) {
	if p.Role != atigip.RoleCPIP {
		return nil, nil
	}
	return []web.HomeCard{{Title: "Mes mesures", URL: "/mesures", Waiting: []string{"3 mesures sans proposition"}}}, nil
}

func TestHomeGathersWorkspaces(t *testing.T) {
	env := newEnv(t, newMemStore(), func(o *Options) { o.Modules = []Module{HomeModule{}, cpipDesk{}} })
	cases := []struct {
		name   string
		role   atigip.Role
		status int
		want   []string
		absent []string
	}{
		{"anonymous", "", 401, nil, nil},
		{"cpip sees its card and what waits", atigip.RoleCPIP, 200,
			[]string{"Mon espace", `href="/mesures"`, "3 mesures sans proposition", `aria-current="page">Mon espace`}, nil},
		{"host has no card here", atigip.RoleHost, 200, []string{"Aucun espace de travail"}, []string{"/mesures"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := ""
			if tc.role != "" {
				tok = env.token(atigip.Principal{Subject: "u", Role: tc.role, Departement: "69"})
			}
			res := env.page("/espace", tok)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(res.body), w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(string(res.body), a) {
					t.Errorf("page shows %q", a)
				}
			}
		})
	}
}
