package frfmt

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// plain replaces the no-break spaces by ordinary ones, so that the tables
// read as the French text a user sees.
func plain(s string) string { return strings.NewReplacer(thin, " ", nbsp, " ").Replace(s) }

func TestFormats(t *testing.T) {
	day := time.Date(2026, 12, 5, 15, 4, 0, 0, time.UTC)
	for _, tc := range []struct{ name, got, want string }{
		{"number zero", Number(0, 1), "0"},
		{"number small", Number(999, 1), "999"},
		{"number thousands", Number(1234.5, 1), "1 234,5"},
		{"number rounding", Number(1477.44, 1), "1 477,4"},
		{"number trailing zeros", Number(12.50, 2), "12,5"},
		{"number millions", Number(1234567, 0), "1 234 567"},
		{"number negative", Number(-1234.5, 1), "−1 234,5"},
		{"number negative zero", Number(-0.01, 1), "0"},
		{"number NaN", Number(math.NaN(), 1), "–"},
		{"int", Int(31000), "31 000"},
		{"surface", Surface(1477.4), "1 477,4 m²"},
		{"surface whole", Surface(250), "250 m²"},
		{"distance below 1 km", Distance(0.8), "0,8 km"},
		{"distance rounded", Distance(0.84), "0,8 km"},
		{"distance above 10 km", Distance(12.4), "12 km"},
		{"distance thousands", Distance(1012.6), "1 013 km"},
		{"metres", Metres(4.5), "4,5 m"},
		{"power", Power(250), "250 kVA"},
		{"date", Date(day), "05/12/2026"},
		{"zero date", Date(time.Time{}), ""},
		{"date and time in Paris (UTC+1 in winter)", DateTime(day), "05/12/2026 à 16:04"},
		{"date and time in Paris (UTC+2 in summer)", DateTime(time.Date(2026, 7, 1, 22, 30, 0, 0, time.UTC)), "02/07/2026 à 00:30"},
		{"zero date and time", DateTime(time.Time{}), ""},
		{"long date", LongDate(day), "5 décembre 2026"},
		{"long date first", LongDate(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)), "1er janvier 2027"},
		{"clock full hour", Clock("14:00"), "14 h"},
		{"clock minutes", Clock("08:30"), "8 h 30"},
		{"clock leading zero minutes", Clock("09:05"), "9 h 05"},
		{"clock malformed", Clock("8h"), "8h"},
		{"hours", Hours(7.5), "7,5 h"},
		{"hours whole", Hours(35), "35 h"},
		{"day monday", Day(1), "lundi"},
		{"day sunday", Day(7), "dimanche"},
		{"day invalid", Day(8), ""},
		{"plural none", Plural(0, "place", "places"), "0 place"},
		{"plural one", Plural(1, "place", "places"), "1 place"},
		{"plural many", Plural(1200, "place", "places"), "1 200 places"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := plain(tc.got); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestUnitsDoNotWrap checks the separators are the no-break ones.
func TestUnitsDoNotWrap(t *testing.T) {
	for _, s := range []string{Surface(1234.5), Distance(0.8), Hours(7), Clock("08:30")} {
		if strings.Contains(s, " ") {
			t.Errorf("%q holds a breaking space", s)
		}
	}
}

func Example() {
	fmt.Println(plain(Surface(1477.4)), "|", plain(Distance(0.8)), "|", Date(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)), "|", plain(Clock("08:30")))
	// Output: 1 477,4 m² | 0,8 km | 05/12/2026 | 8 h 30
}
