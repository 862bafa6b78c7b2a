package atigip

import (
	"strconv"
	"strings"
)

// ValidSIRET reports whether s is 14 digits with a valid Luhn key. La Poste
// establishments (SIREN 356000000) use a digit-sum-multiple-of-5 rule instead.
func ValidSIRET(s string) bool {
	if !isDigits(s, 14) {
		return false
	}
	if strings.HasPrefix(s, "356000000") {
		sum := 0
		for _, c := range s {
			sum += int(c - '0')
		}
		return sum%5 == 0
	}
	return luhn(s)
}

func luhn(s string) bool {
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validDepartement accepts "01".."95", "2A", "2B" and the overseas "971".."976".
func validDepartement(s string) bool {
	switch {
	case s == "2A" || s == "2B":
		return true
	case isDigits(s, 2):
		return s != "00" && s != "20" && s <= "95"
	case isDigits(s, 3):
		return s >= "971" && s <= "976"
	}
	return false
}

// validINSEE accepts a commune code: 5 characters, digits except Corsica's 2A/2B.
func validINSEE(s string) bool {
	if len(s) != 5 {
		return false
	}
	if s[:2] == "2A" || s[:2] == "2B" {
		return isDigits(s[2:], 3)
	}
	return isDigits(s, 5)
}

// ValidROME reports whether s has the form of a ROME code: a domain letter
// A..N then four digits ("A1203").
func ValidROME(s string) bool {
	return len(s) == 5 && s[0] >= 'A' && s[0] <= 'N' && isDigits(s[1:], 4)
}

func (p *Problems) checkROME(field string, codes []string) {
	for i, c := range codes {
		if !ValidROME(c) {
			p.Add(fieldIndex(field, i, ""), "Code ROME invalide : %q (attendu : une lettre A à N et 4 chiffres).", c)
		}
	}
}

func fieldIndex(field string, i int, sub string) string {
	s := field + "[" + strconv.Itoa(i) + "]"
	if sub != "" {
		s += "." + sub
	}
	return s
}
