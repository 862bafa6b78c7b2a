package search

import (
	"slices"
	"testing"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		name string
		a, b string // must give the same tokens
	}{
		{"accent", "écurie", "ecurie"},
		{"upper case and accent", "ÉCURIE", "écurie"},
		{"plural", "écuries", "écurie"},
		{"plural in -aux", "chevaux", "cheval"},
		{"feminine -ière", "jardinière", "jardinier"},
		{"feminine -ières without accent", "JARDINIERES", "jardinier"},
		{"feminine -ère", "boulangère", "boulanger"},
		{"feminine -euse", "balayeuse", "balayeur"},
		{"elision", "l'atelier", "atelier"},
		{"elision with typographic apostrophe", "d’entretien", "entretien"},
		{"ligature kept as text", "Manœuvre", "manœuvre"},
		{"stop words dropped", "le tri des déchets", "tri déchets"},
		{"folded stop word dropped", "à été", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := Tokens(tt.a), Tokens(tt.b)
			if !slices.Equal(a, b) {
				t.Errorf("Tokens(%q) = %q, Tokens(%q) = %q: want equal", tt.a, a, tt.b, b)
			}
		})
	}
}

func TestTokensDistinct(t *testing.T) {
	// Folding and stemming must not merge words that mean different things.
	for _, p := range [][2]string{{"mère", "mer"}, {"cuisine", "cuisinier"}, {"jardin", "jardinier"}} {
		if slices.Equal(Tokens(p[0]), Tokens(p[1])) {
			t.Errorf("Tokens(%q) = Tokens(%q) = %q", p[0], p[1], Tokens(p[0]))
		}
	}
}
