package web

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	cases := []struct {
		name string
		page Page
		want []string
		not  []string
	}{
		{"public", Page{Tileset: "public", SignInURL: "/dev/signin"},
			[]string{`"tileset":"public"`, `href="/dev/signin"`, "Vue publique", `lang="fr"`}, []string{"f-places", "Se déconnecter"}},
		{"justice", Page{Tileset: "justice", Signed: true, RoleLabel: "Magistrat", Name: "<script>x</script>", SignOutURL: "/dev/signout"},
			[]string{`"tileset":"justice"`, "f-places", "Se déconnecter", "&lt;script&gt;"}, []string{"<script>x</script>"}},
		{"production", Page{Tileset: "public"}, []string{"Vue publique"}, []string{"/dev/signin"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Render(c.page)
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
	if _, err := Static().Open("app.js"); err != nil {
		t.Fatal(err)
	}
}
