package matching

import "github.com/atigip/atigip360/internal/atigip"

// The legal limits the rules apply. TIG is work under the rules of the
// code du travail on night work, hygiene, safety and young workers (code
// pénal art. 131-23); a detainee's work under the code pénitentiaire.
//
// Confirmed against the texts (search of stored Légifrance pages and
// faithful copies, 2026-12-05):
//   - L3162-1 (young workers: 8 h a day, 35 h a week): full text read on
//     doctrine.fr's copy of Légifrance (version in force since 2019-01-01);
//     the derogations it allows need the labour inspector or a decree for
//     listed building-site activities, none of which a TIG post is.
//   - L3162-3 (young workers: a break of at least 30 consecutive minutes
//     after 4 h 30 of uninterrupted work): quoted by preventionbtp.fr and
//     by R3165-2, which punishes both halves.
//   - L3163-1 / L3163-2 (no night work for young workers; for ages 16–17
//     night is 22:00–06:00): L3163-2 quoted in full by atousante.com, the
//     22:00–06:00 period by a Légifrance-derived collective agreement page;
//     derogations exist only for hotels, restaurants, bakeries, shows and
//     racing (R3163-1), never for TIG.
//   - L3121-18 (10 h a day) and L3121-20 (48 h in one week): cited with
//     their numbers by service-public-derived pages (avocats-lhp.fr,
//     fo-donges.fr); the 12 h derogation of L3121-18 needs a collective
//     agreement or the labour inspector, which a TIG placement has not.
//   - TIG plus a salaried job: "la durée hebdomadaire cumulée de cette
//     activité et du travail d'intérêt général ne peut excéder de plus de
//     douze heures la durée légale de travail", read in the Nouvelle-
//     Calédonie adaptation (code pénal R. 777-6, which rewrites the
//     metropolitan article for NC); the metropolitan article's number was
//     not found in the stored pages. The legal week is 35 h (L3121-27).
//   - Prison work, 10 h a day and 48 h a week: from the agency's brief and
//     atigip.PrisonMaxHoursPerDay/Week; not found in the stored pages.
//   - TIG from 16 (code pénal art. 131-8 for adults, code de la justice
//     pénale des mineurs for 16–17): from the brief.
const (
	AdultMaxHoursPerDay  = 10 // code du travail L3121-18
	AdultMaxHoursPerWeek = 48 // code du travail L3121-20
	YoungMaxHoursPerDay  = 8  // code du travail L3162-1
	YoungMaxHoursPerWeek = 35 // code du travail L3162-1
	// YoungMaxStretchMinutes of uninterrupted work call for a break of at
	// least YoungBreakMinutes (L3162-3).
	YoungMaxStretchMinutes = 270
	YoungBreakMinutes      = 30
	// Night for young workers aged 16–17 runs from 22:00 to 06:00 (L3163-1);
	// their night work is forbidden (L3163-2).
	YoungNightStartMinute = 22 * 60
	YoungNightEndMinute   = 6 * 60
	// MinTIGAge is the least age for a TIG; AdultAge ends the young-worker
	// rules.
	MinTIGAge = 16
	AdultAge  = 18
)

// Age is a person's age in whole years at d, from the birth date: -1 when
// it is unknown. A birthday on 29 February is reached on 1 March in other
// years.
func Age(birth atigip.Date, d atigip.Date) int {
	if birth.IsZero() || d.IsZero() {
		return -1
	}
	by, bm, bd := birth.Date()
	y, m, day := d.Date()
	age := y - by
	if m < bm || (m == bm && day < bd) {
		age--
	}
	return age
}

// MinorAt tells whether a person is a minor at d and their age (-1 when
// unknown). The age comes from the birth date, never from a flag a client
// may set; without a birth date, the person is a minor if their profile or
// a measure followed by the PJJ says so (the protective reading).
func MinorAt(p *atigip.Person, measureMinor bool, d atigip.Date) (minor bool, age int) {
	age = Age(p.BirthDate, d)
	if age >= 0 {
		return age < AdultAge, age
	}
	return p.Minor || measureMinor, age
}

// MaxHoursPerDay is the legal daily maximum of work: 8 h for a young
// worker (L3162-1), 10 h for an adult (L3121-18).
func MaxHoursPerDay(minor bool) float64 {
	if minor {
		return YoungMaxHoursPerDay
	}
	return AdultMaxHoursPerDay
}

// MaxHoursPerWeek is the legal weekly maximum of work: 35 h for a young
// worker (L3162-1), 48 h for an adult (L3121-20).
func MaxHoursPerWeek(minor bool) float64 {
	if minor {
		return YoungMaxHoursPerWeek
	}
	return AdultMaxHoursPerWeek
}

// longestStretch is the longest run of work in a day's slots, in minutes,
// counting as one run slots separated by less than YoungBreakMinutes.
func longestStretch(slots []slot) int {
	best := 0
	for day := int16(1); day <= 7; day++ {
		var ds []slot
		for _, s := range slots {
			if s.day == day {
				ds = append(ds, s)
			}
		}
		for i := 1; i < len(ds); i++ { // a few slots a day: insertion sort
			for j := i; j > 0 && ds[j].a < ds[j-1].a; j-- {
				ds[j], ds[j-1] = ds[j-1], ds[j]
			}
		}
		runA, runB := int16(-1), int16(-1)
		for _, s := range ds {
			if runA < 0 || s.a-runB >= YoungBreakMinutes {
				runA, runB = s.a, s.b
			} else if s.b > runB {
				runB = s.b
			}
			best = max(best, int(runB-runA))
		}
	}
	return best
}

// dayHours sums parsed slots per weekday (index 1..7).
func dayHours(slots []slot) [8]float64 {
	var out [8]float64
	for _, s := range slots {
		out[s.day] += float64(s.b-s.a) / 60
	}
	return out
}
