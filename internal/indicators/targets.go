package indicators

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// Target is one of the contract's indicators with its baseline (at the
// contract's signature) and its goal.
type Target struct {
	Key, Label, Unit string
	Baseline, Goal   float64
	Current          float64
	// LowerIsBetter: the delay is to go down, the others up.
	LowerIsBetter bool
	// Progress is the share of the way from the baseline to the goal
	// already covered, between 0 and 1 (0 when at or behind the baseline).
	Progress float64
}

// DaysPerMonth converts delays in days to months (365.25 / 12).
const DaysPerMonth = 30.4375

// Targets are the contract's five indicators against their goals: TIG
// posts offered 19,000 → 31,000; delay from sentence to start (median)
// 14 → 6 months; detainees who worked 15.8 % → 19 %; detainees trained
// 15.35 % → 19.86 %; businesses offering posts in prison 300 → 345.
func Targets(r *Report) []Target {
	ts := []Target{
		{Key: "postes_tig", Label: "Postes de TIG offerts", Unit: "postes", Baseline: 19000, Goal: 31000, Current: float64(r.Posts.Offered)},
		{Key: "delai_mois", Label: "Délai condamnation → début du TIG (médiane)", Unit: "mois", Baseline: 14, Goal: 6,
			Current: math.Round(r.Delay.Median/DaysPerMonth*10) / 10, LowerIsBetter: true},
		{Key: "detenus_travail", Label: "Personnes détenues ayant travaillé", Unit: "%", Baseline: 15.8, Goal: 19,
			Current: math.Round(r.Detainees.ShareWorked*10000) / 100},
		{Key: "detenus_formation", Label: "Personnes détenues formées", Unit: "%", Baseline: 15.35, Goal: 19.86,
			Current: math.Round(r.Detainees.ShareTrained*10000) / 100},
		{Key: "entreprises", Label: "Entreprises offrant des postes en détention", Unit: "entreprises", Baseline: 300, Goal: 345,
			Current: float64(r.Businesses)},
	}
	for i := range ts {
		t := &ts[i]
		if t.Goal != t.Baseline {
			t.Progress = math.Max(0, math.Min(1, (t.Current-t.Baseline)/(t.Goal-t.Baseline)))
		}
	}
	return ts
}

// Point is one value of a series: a month, a région or a département.
type Point struct {
	Key   string  // "2025-03", région or département code
	Value float64 // posts, or median delay in months
	Count int     // measures behind a delay; posts otherwise
}

// PostsByMonth is the number of posts offered today that already existed
// at the end of each of the last months months (up to r.Date's month),
// over the départements deps (all when empty). Posts closed since are
// not in the store's present state, so earlier months undercount them.
func PostsByMonth(r *Report, months int, deps []string) []Point {
	created := map[string]int{}
	for dep, byMonth := range r.postCreated {
		if len(deps) > 0 && !slices.Contains(deps, dep) {
			continue
		}
		for m, n := range byMonth {
			created[m] += n
		}
	}
	keys := lastMonths(r, months)
	total := 0
	for m, n := range created {
		if m <= keys[0] {
			total += n
		}
	}
	out := make([]Point, len(keys))
	for i, k := range keys {
		if i > 0 {
			total += created[k]
		}
		out[i] = Point{Key: k, Value: float64(total), Count: total}
	}
	return out
}

// DelayByMonth is the median delay in months of the TIGs started in
// each of the last months months.
func DelayByMonth(r *Report, months int) []Point {
	keys := lastMonths(r, months)
	out := make([]Point, len(keys))
	for i, k := range keys {
		s := r.Delay.ByMonth[k]
		out[i] = Point{Key: k, Value: math.Round(s.Median/DaysPerMonth*10) / 10, Count: s.Count}
	}
	return out
}

func lastMonths(r *Report, n int) []string {
	n = max(n, 1)
	out := make([]string, n)
	t := r.Date.Time
	first := t.AddDate(0, -(n - 1), 1-t.Day())
	for i := range n {
		out[i] = first.AddDate(0, i, 0).Format("2006-01")
	}
	return out
}

// PostsBy is the number of posts offered by group (région, département),
// grouping each département with group (nil: by département).
func PostsBy(r *Report, group func(dep string) string) []Point {
	n := map[string]int{}
	for dep, p := range r.Posts.ByDepartement {
		k := dep
		if group != nil {
			k = group(dep)
		}
		if k != "" {
			n[k] += p.Offered
		}
	}
	out := make([]Point, 0, len(n))
	for _, k := range sortedKeys(n) {
		out = append(out, Point{Key: k, Value: float64(n[k]), Count: n[k]})
	}
	return out
}

// DelayBy is the median delay in months by group (région, département),
// computed exactly over the delays of the group's départements.
func DelayBy(r *Report, group func(dep string) string) []Point {
	xs := map[string][]float64{}
	for dep, ds := range r.delays {
		k := dep
		if group != nil {
			k = group(dep)
		}
		if k != "" {
			xs[k] = append(xs[k], ds...)
		}
	}
	out := make([]Point, 0, len(xs))
	for _, k := range sortedKeys(xs) {
		s := Summarise(xs[k])
		out = append(out, Point{Key: k, Value: math.Round(s.Median/DaysPerMonth*10) / 10, Count: s.Count})
	}
	return out
}

// WriteSeriesCSV writes a series with the given column names (key,
// value, count), numbers in plain decimal form.
func WriteSeriesCSV(w io.Writer, columns [3]string, label func(key string) string, ps []Point) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{columns[0], "libelle", columns[1], columns[2]}}
	for _, p := range ps {
		l := p.Key
		if label != nil {
			l = label(p.Key)
		}
		rows = append(rows, []string{p.Key, l, strconv.FormatFloat(p.Value, 'f', -1, 64), strconv.Itoa(p.Count)})
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("indicators: series csv: %w", err)
	}
	return nil
}

// WriteTargetsCSV writes the targets: indicator, baseline, goal, current.
func WriteTargetsCSV(w io.Writer, ts []Target) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{"indicateur", "libelle", "unite", "reference", "cible", "valeur", "progression"}}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, t := range ts {
		rows = append(rows, []string{t.Key, t.Label, t.Unit, f(t.Baseline), f(t.Goal), f(t.Current), f(math.Round(t.Progress*1000) / 1000)})
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("indicators: targets csv: %w", err)
	}
	return nil
}
