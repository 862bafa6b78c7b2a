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

// ValidSIREN reports whether s is 9 digits with a valid Luhn key.
func ValidSIREN(s string) bool { return isDigits(s, 9) && luhn(s) }

// CompanyCovers reports whether company (a SIRET, or a SIREN standing for
// every establishment of the company) covers the establishment siret.
func CompanyCovers(company, siret string) bool {
	if company == "" || siret == "" {
		return false
	}
	if len(company) == 9 {
		return strings.HasPrefix(siret, company)
	}
	return company == siret
}

// luhn reports whether the digits of s pass the Luhn test: the last one is
// the key of the others.
func luhn(s string) bool {
	return len(s) > 0 && LuhnKey(s[:len(s)-1]) == s[len(s)-1]
}

// LuhnKey returns the check digit ('0'..'9') that, appended to digits, makes
// them pass the Luhn test (the key of a SIREN or of a SIRET). digits must
// hold only ASCII digits.
func LuhnKey(digits string) byte {
	sum := 0
	double := true // the key will be the rightmost digit, so the last one here is doubled
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// NewSIRET builds the SIRET of establishment nic (4 digits) of the company
// whose SIREN begins with siren8 (8 digits): siren8, its Luhn key, nic, then
// the key that makes the 14 digits Luhn-valid, so that both the SIREN and
// the SIRET check. Generators of fictitious organisations use it; the
// result passes ValidSIRET except for La Poste's SIREN (356000000), which
// another rule checks.
func NewSIRET(siren8, nic string) string {
	b := make([]byte, 0, 14)
	b = append(b, siren8...)
	b = append(b, LuhnKey(siren8))
	b = append(b, nic...)
	return string(append(b, LuhnKey(string(b))))
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

// ValidDepartement reports whether s is a département code (below).
func ValidDepartement(s string) bool { return validDepartement(s) }

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
