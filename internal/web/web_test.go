package web

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	mp, err := NewMapPage("justice", []Domain{{Code: "A", Label: "Agriculture"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := NewMapPage("public", nil, nil)
	cases := []struct {
		name, page string
		l          Layout
		d          any
		want, not  []string
	}{
		{"public map", "carte", Layout{Title: "Carte", Path: "/?a=1&b=2", SignInURL: "/dev/signin", Demo: true, Map: true}, pub,
			[]string{`"tileset":"public"`, `href="/dev/signin?retour=%2f%3fa%3d1%26b%3d2"`, "Environnement de démonstration", `lang="fr"`,
				"/static/app.css", "/mentions-legales", "/donnees-personnelles", "/accessibilite"},
			[]string{"f-places", "Se déconnecter", `href="/autour"`}},
		{"justice map", "carte", Layout{Title: "Carte", Signed: true, RoleLabel: "<script>x</script>", SignOutURL: "/dev/signout", Hearing: true}, mp,
			[]string{`"tileset":"justice"`, "f-places", "Se déconnecter", "&lt;script&gt;", `href="/autour"`},
			[]string{"<script>x</script>", "Environnement de démonstration"}},
		{"production", "carte", Layout{Title: "Carte"}, pub, nil, []string{"/dev/signin", "Se connecter"}},
		{"error", "erreur", Layout{Title: "Page non trouvée"}, ErrorPage{Status: 404, Title: "Page non trouvée", Lead: "Introuvable"},
			[]string{"Erreur 404", "Page non trouvée"}, nil},
		{"legal", "accessibilite", Layout{Title: "Déclaration d'accessibilité"}, nil, []string{"partiellement conforme", "Défenseur des droits"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Render(c.page, c.l, c.d)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("missing %q", w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(string(b), n) {
					t.Errorf("unexpected %q", n)
				}
			}
		})
	}
	if _, err := Render("nope", Layout{}, nil); err == nil {
		t.Fatal("unknown page rendered")
	}
	for _, f := range []string{"app.js", "site.js", "site.css", "maplibre-fr.js"} {
		if _, err := Static().Open(f); err != nil {
			t.Fatal(err)
		}
	}
}
