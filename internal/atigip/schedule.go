package atigip

import (
	"fmt"
	"time"
)

// Slot is a weekly time range: Day 1 is Monday … 7 is Sunday (ISO 8601);
// Start and End are "HH:MM", End after Start on the same day.
type Slot struct {
	Day   int    `json:"day"`
	Start string `json:"start"`
	End   string `json:"end"`
}

// Minutes returns the slot's start and end as minutes since midnight, and
// false if either is malformed.
func (s Slot) Minutes() (start, end int, ok bool) {
	a, errA := parseClock(s.Start)
	b, errB := parseClock(s.End)
	return a, b, errA == nil && errB == nil
}

// Hours is the slot's length in hours (0 for a malformed slot).
func (s Slot) Hours() float64 {
	a, b, ok := s.Minutes()
	if !ok || b <= a {
		return 0
	}
	return float64(b-a) / 60
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("atigip: clock %q: %w", s, err)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Schedule is a weekly timetable. Its derived figures (hours per week,
// weekends, days) are computed, never stored, so they cannot disagree.
type Schedule struct {
	Slots []Slot `json:"slots"`
}

// HoursPerWeek sums the slots.
func (s Schedule) HoursPerWeek() float64 {
	var h float64
	for _, sl := range s.Slots {
		h += sl.Hours()
	}
	return h
}

// MaxHoursPerDay is the longest day's total.
func (s Schedule) MaxHoursPerDay() float64 {
	var perDay [8]float64
	var max float64
	for _, sl := range s.Slots {
		if sl.Day >= 1 && sl.Day <= 7 {
			perDay[sl.Day] += sl.Hours()
			if perDay[sl.Day] > max {
				max = perDay[sl.Day]
			}
		}
	}
	return max
}

// Weekends reports whether any slot falls on Saturday or Sunday.
func (s Schedule) Weekends() bool {
	for _, sl := range s.Slots {
		if sl.Day >= 6 {
			return true
		}
	}
	return false
}

// NightWork reports whether any slot runs between 22:00 and 06:00, the
// legal night period that calls for a medical check.
func (s Schedule) NightWork() bool {
	for _, sl := range s.Slots {
		a, b, ok := sl.Minutes()
		if ok && (a < 6*60 || b > 22*60) {
			return true
		}
	}
	return false
}

// OverlapHours is the number of weekly hours common to s and other.
func (s Schedule) OverlapHours(other Schedule) float64 {
	var total int
	for _, x := range s.Slots {
		xa, xb, ok := x.Minutes()
		if !ok {
			continue
		}
		for _, y := range other.Slots {
			ya, yb, ok := y.Minutes()
			if !ok || x.Day != y.Day {
				continue
			}
			if lo, hi := max(xa, ya), min(xb, yb); hi > lo {
				total += hi - lo
			}
		}
	}
	return float64(total) / 60
}

func (p *Problems) checkSchedule(field string, s Schedule) {
	for i, sl := range s.Slots {
		f := fieldIndex(field+".slots", i, "")
		if sl.Day < 1 || sl.Day > 7 {
			p.Add(f+".day", "Jour invalide : 1 (lundi) à 7 (dimanche).")
		}
		a, b, ok := sl.Minutes()
		switch {
		case !ok:
			p.Add(f, "Horaire invalide : format HH:MM attendu.")
		case b <= a:
			p.Add(f, "L'heure de fin doit suivre l'heure de début.")
		}
	}
}
