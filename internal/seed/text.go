package seed

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
)

// Fictitious people for the professional contacts: common French first
// names and surnames, combined at random.
var firstNames = []string{
	"Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sandrine", "Valérie", "Christine",
	"Céline", "Stéphanie", "Julie", "Camille", "Aurélie", "Émilie", "Sophie", "Claire",
	"Laure", "Hélène", "Karima", "Fatou", "Nadia", "Anne", "Élodie", "Pauline",
	"Jean", "Philippe", "Michel", "Alain", "Patrick", "Nicolas", "Christophe", "Pierre",
	"Laurent", "Frédéric", "Stéphane", "David", "Julien", "Sébastien", "Thomas", "Olivier",
	"Mathieu", "Yannick", "Karim", "Mamadou", "Franck", "Bruno", "Éric", "Antoine",
}

var lastNames = []string{
	"Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
	"Moreau", "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David",
	"Bertrand", "Morel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine",
	"Rousseau", "Vincent", "Muller", "Lefebvre", "Faure", "André", "Mercier", "Blanc",
	"Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
	"Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu",
	"Gautier", "Masson", "Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire",
	"Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard", "Giraud", "Joly",
	"Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Martinez", "Gérard",
	"Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron",
	"Benali", "Haddad", "Diallo", "Traoré", "Nguyen", "Da Silva", "Ferreira", "Le Gall",
}

var streetNames = []string{
	"rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "place de la Mairie",
	"rue Pasteur", "rue du Général de Gaulle", "avenue de la Gare", "rue des Écoles",
	"chemin des Vignes", "rue de l'Église", "boulevard Gambetta", "rue Jules Ferry",
	"allée des Tilleuls", "rue du Moulin", "impasse des Lilas", "rue Jean Moulin",
	"avenue du 8 Mai 1945", "rue de la Liberté", "route de la Forêt", "rue des Artisans",
	"quai de la Rivière", "rue Émile Zola", "rue Voltaire", "place du Marché",
	"rue de la Paix", "avenue des Sports", "rue du Stade", "chemin du Lavoir",
	"rue Anatole France", "rue Louis Pasteur", "zone artisanale des Prés", "rue des Jardins",
}

func street(r *rand.Rand) string {
	if r.IntN(5) == 0 {
		return streetNames[r.IntN(len(streetNames))]
	}
	return fmt.Sprintf("%d %s", 1+r.IntN(180), streetNames[r.IntN(len(streetNames))])
}

func personName(r *rand.Rand) (first, last string) {
	return firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
}

// emailLocal turns a name into the local part of an address: ASCII, dots.
func emailLocal(first, last string) string {
	return slugify(first) + "." + strings.ReplaceAll(slugify(last), "-", "")
}

// contact builds a fictitious professional contact. Addresses use the .test
// top-level domain, reserved for tests (RFC 2606): they can never reach
// anybody.
func contact(r *rand.Rand, role, domain, dep string) atigip.Contact {
	first, last := personName(r)
	return atigip.Contact{
		Name:  first + " " + last,
		Role:  role,
		Email: emailLocal(first, last) + "@" + domain + ".test",
		Phone: phone(r, dep),
	}
}

// phone draws a number from the ranges ARCEP reserves for fiction (films,
// books, demos): 01 99 00, 02 61 91, 03 53 01, 04 65 71, 05 36 49, by zone.
func phone(r *rand.Rand, dep string) string {
	a, b := r.IntN(100), r.IntN(100)
	if a == 0 {
		a = 99 // "00" is the switchboards' (switchboard)
	}
	return fmt.Sprintf("%s %02d %02d", phonePrefix(dep), a, b)
}

// switchboard is a service's number in the same fictitious ranges, drawn
// from n rather than from the random source, so that the numbers drawn
// after it do not change.
func switchboard(dep string, n int) string {
	return fmt.Sprintf("%s 00 %02d", phonePrefix(dep), n%100)
}

func phonePrefix(dep string) string {
	switch zoneOf(dep) {
	case 2:
		return "02 61 91"
	case 3:
		return "03 53 01"
	case 4:
		return "04 65 71"
	case 5:
		return "05 36 49"
	}
	return "01 99 00"
}

// zoneOf maps a département to its telephone zone (01 Île-de-France, 02
// north-west, 03 north-east, 04 south-east, 05 south-west).
func zoneOf(dep string) int {
	switch dep {
	case "75", "77", "78", "91", "92", "93", "94", "95":
		return 1
	case "14", "18", "22", "27", "28", "29", "35", "36", "37", "41", "44", "45", "49", "50", "53", "56", "61", "72", "76", "85", "974", "976":
		return 2
	case "02", "08", "10", "21", "25", "39", "51", "52", "54", "55", "57", "58", "59", "60", "62", "67", "68", "70", "71", "80", "88", "89", "90":
		return 3
	case "01", "03", "04", "05", "06", "07", "13", "15", "2A", "2B", "26", "30", "34", "38", "42", "43", "48", "63", "69", "73", "74", "83", "84":
		return 4
	}
	return 5
}

// siret draws a SIRET whose SIREN and whole number are both Luhn-valid: a
// SIREN beginning with prefix then random digits, and an establishment
// number (NIC) from 0001 to 0120. La Poste's SIREN, checked by another
// rule, is avoided.
func siret(r *rand.Rand, prefix string) string {
	b := []byte(prefix)
	for len(b) < 8 {
		b = append(b, byte('0'+r.IntN(10)))
	}
	s := atigip.NewSIRET(string(b), fmt.Sprintf("%04d", 1+r.IntN(120)))
	if strings.HasPrefix(s, "356000000") {
		return siret(r, "4")
	}
	return s
}

// pickStr draws one string.
func pickStr(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// chance is true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// between draws an integer in [lo, hi].
func between(r *rand.Rand, lo, hi int) int { return lo + r.IntN(hi-lo+1) }
