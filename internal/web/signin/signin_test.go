package signin

import (
	"bytes"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

func TestRender(t *testing.T) {
	cases := []struct {
		name    string
		page    Page
		want    []string
		wantNot []string
	}{
		{"anonymous", Page{Roles: Roles()},
			[]string{"Environnement de démonstration", `value="cpip"`, "Directeur de SPIP (DSPIP)", `action="/dev/signin"`},
			[]string{"Se déconnecter", "Bearer"}},
		{"signed in with token", Page{Roles: Roles(), Current: &atigip.Principal{Subject: "dev:cpip", Role: atigip.RoleCPIP},
			CurrentLabel: "CPIP", Token: "tok.en.<x>", Origin: "http://localhost:8080", TTL: "12 heures"},
			[]string{"Connecté en tant que <strong>CPIP</strong>", "tok.en.&lt;x&gt;", "Se déconnecter", "http://localhost:8080/api/posts"},
			[]string{"tok.en.<x>"}},
		{"error escaped", Page{Roles: Roles(), Error: "<script>"}, []string{"&lt;script&gt;"}, []string{"<script>"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, tc.page); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("missing %q", w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(b.String(), w) {
					t.Errorf("unexpected %q", w)
				}
			}
		})
	}
	if len(Roles()) != len(atigip.Roles) {
		t.Fatal("roles missing")
	}
}
