package refdata

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Saint-Étienne", "saint etienne"},
		{"ST ETIENNE", "st etienne"},
		{"  L'Haÿ-les-Roses ", "l hay les roses"},
		{"Œuvre d’Æsope", "oeuvre d aesope"},
		{"Straße", "strasse"},
		{"Châlons-en-Champagne", "chalons en champagne"},
		{"Lyon 3e   Arrondissement", "lyon 3e arrondissement"},
		{"--", ""},
		{"", ""},
		{"Ça, c'est «Noël» !", "ca c est noel"},
		{"ÉPINAL", "epinal"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNameKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ST ETIENNE", "saint etienne"},
		{"Ste-Foy-lès-Lyon", "sainte foy les lyon"},
		{"Le Mans", "mans"},
		{"Mans", "mans"},
		{"L'Abergement-Clémenciat", "abergement clemenciat"},
		{"Les Sables-d'Olonne", "sables d olonne"},
		{"Le", "le"}, // a lone article is a name, not an article
		{"PARIS CEDEX 07", "paris"},
		{"LYON 03", "lyon"},
		{"Saint-Étienne Cedex 2", "saint etienne"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := nameKey(tt.in); got != tt.want {
				t.Errorf("nameKey(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
