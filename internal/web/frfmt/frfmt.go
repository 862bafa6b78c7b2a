// Package frfmt formats numbers, surfaces, distances, dates and hours the
// way French readers expect them: « 1 234,5 », « 1 234,5 m² », « 0,8 km »,
// « 05/12/2026 », « 8 h 30 ». Thousands are separated by a narrow
// no-break space (U+202F), units by a no-break space (U+00A0), so that a
// figure never wraps away from its unit.
package frfmt

import (
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Paris on systems without a zone database
)

const (
	thin = "\u202f" // thousands separator (espace fine insécable)
	nbsp = "\u00a0" // between a figure and its unit
)

// Number formats v with at most decimals digits after the comma, trailing
// zeros removed: Number(1234.5, 2) is « 1 234,5 », Number(3, 1) is « 3 ».
func Number(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	var b strings.Builder
	if neg && (strings.Trim(intPart, "0") != "" || frac != "") {
		b.WriteString("−") // U+2212, the typographic minus
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(thin)
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString(",")
		b.WriteString(frac)
	}
	return b.String()
}

// Int formats an integer: Int(31000) is « 31 000 ».
func Int(n int) string { return Number(float64(n), 0) }

// Surface formats square metres: « 1 477,4 m² ».
func Surface(m2 float64) string { return Number(m2, 1) + nbsp + "m²" }

// Distance formats kilometres: one decimal below 10 km (« 0,8 km »),
// whole kilometres above (« 12 km »).
func Distance(km float64) string {
	if km < 10 {
		return Number(km, 1) + nbsp + "km"
	}
	return Number(math.Round(km), 0) + nbsp + "km"
}

// Metres formats a height or length in metres: « 4,5 m ».
func Metres(m float64) string { return Number(m, 2) + nbsp + "m" }

// Power formats kilovoltamperes: « 250 kVA ».
func Power(kva float64) string { return Number(kva, 1) + nbsp + "kVA" }

// Date formats a day as « 05/12/2026 »; the zero time gives "".
func Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("02/01/2006")
}

// paris is metropolitan France's time: the time of day a reader expects,
// whatever the server's zone (time/tzdata embeds it where the system has
// no zone database).
var paris = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Paris"); err == nil {
		return l
	}
	return time.UTC
}()

// DateTime formats an instant in Paris time as « 06/12/2026 à 05:10 »;
// the zero time gives "".
func DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(paris).Format("02/01/2006 à 15:04")
}

// LongDate formats a day as « 5 décembre 2026 » (« 1er » on the first).
func LongDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		d = "1er"
	}
	return d + " " + months[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

var months = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet",
	"août", "septembre", "octobre", "novembre", "décembre"}

// Clock formats "HH:MM" as « 8 h 30 », « 14 h »; anything else is
// returned unchanged.
func Clock(hhmm string) string {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return hhmm
	}
	s := strconv.Itoa(t.Hour()) + nbsp + "h"
	if t.Minute() != 0 {
		s += nbsp + strconv.Itoa(t.Minute()/10) + strconv.Itoa(t.Minute()%10)
	}
	return s
}

// Hours formats a duration in hours: « 1 h », « 7,5 h », « 35 h ».
func Hours(h float64) string { return Number(h, 2) + nbsp + "h" }

// Day is the French name of an ISO weekday (1 Monday … 7 Sunday).
func Day(iso int) string {
	if iso < 1 || iso > 7 {
		return ""
	}
	return days[iso-1]
}

var days = [...]string{"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"}

// Plural returns « 1 place », « 0 place », « 3 places »: in French, 0 and 1
// take the singular.
func Plural(n int, singular, plural string) string {
	if n <= 1 && n >= -1 {
		return Int(n) + nbsp + singular
	}
	return Int(n) + nbsp + plural
}
