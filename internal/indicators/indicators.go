package indicators

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// Report is every indicator at one date.
type Report struct {
	Date        atigip.Date `json:"date"`
	Year        int         `json:"year"` // of the detainee indicators
	Posts       Posts       `json:"posts"`
	Delay       Delay       `json:"delay"`
	Completion  Completion  `json:"completion"`
	Detainees   Detainees   `json:"detainees"`
	Businesses  int         `json:"businesses"`
	Definitions []string    `json:"definitions"`
	// delays are the delays in days by département, kept to summarise
	// them exactly by région (DelayByRegion).
	delays map[string][]float64
	// postCreated is the creation month ("2025-03") of each post offered
	// today, by département, for the series over time (PostsByMonth).
	postCreated map[string]map[string]int
}

// Posts counts TIG posts offered: registered, open or full (drafts and
// closed posts are not offered); open ones take people now.
type Posts struct {
	Offered       int                 `json:"offered"`
	Open          int                 `json:"open"`
	ByDepartement map[string]PostsDep `json:"by_departement"`
}

// PostsDep is Posts in one département.
type PostsDep struct {
	Offered int `json:"offered"`
	Open    int `json:"open"`
}

// Delay is the delay from sentence to the first day of TIG, in days, over
// measures that started.
type Delay struct {
	Stats
	ByDepartement map[string]Stats `json:"by_departement"`
	// ByMonth is keyed by the month the TIG started ("2025-03").
	ByMonth map[string]Stats `json:"by_month"`
	// ByDepartementMonth is keyed "69/2025-03".
	ByDepartementMonth map[string]Stats `json:"by_departement_month"`
}

// Stats summarises delays: count, median and 90th percentile in days.
type Stats struct {
	Count  int     `json:"count"`
	Median float64 `json:"median_days"`
	P90    float64 `json:"p90_days"`
}

// Completion is the share of ended measures that were completed.
type Completion struct {
	Ended     int     `json:"ended"`
	Completed int     `json:"completed"`
	Share     float64 `json:"share"`
}

// Detainees is the share of detainees who worked or trained in the year.
type Detainees struct {
	Detainees       int     `json:"detainees"`
	Worked          int     `json:"worked"`
	Trained         int     `json:"trained"`
	WorkedOrTrained int     `json:"worked_or_trained"`
	ShareWorked     float64 `json:"share_worked"`
	ShareTrained    float64 `json:"share_trained"`
	Share           float64 `json:"share_worked_or_trained"`
}

var definitions = []string{
	"Postes de TIG offerts : postes inscrits, ouverts ou complets (hors brouillons et postes fermés) ; ouverts : statut « Ouvert ».",
	"Délai condamnation → début du TIG : jours entre la date de condamnation et le premier jour de travail, pour les mesures dont l'exécution a commencé ; médiane (moyenne des deux valeurs centrales si le nombre est pair) et 90e centile (rang le plus proche) ; le mois est celui du début du TIG.",
	"Part des mesures exécutées : mesures « Exécutée » parmi les mesures terminées (exécutées ou clôturées sans exécution).",
	"Part des personnes détenues ayant travaillé ou suivi une formation dans l'année : personnes classées (affectées) sur un poste de travail ou une formation en détention pendant l'année, parmi les personnes détenues et celles qui ont eu une candidature dans l'année.",
	"Entreprises offrant des postes : concessionnaires distincts ayant une offre ouverte ou pourvue en détention.",
}

// Compute computes the report at today; year is that of the detainee
// indicators (0: today's year).
func Compute(ctx context.Context, s atigip.Store, today atigip.Date, year int) (*Report, error) {
	if year == 0 {
		year = today.Year()
	}
	r := &Report{Date: today, Year: year, Definitions: definitions,
		Posts: Posts{ByDepartement: map[string]PostsDep{}}, postCreated: map[string]map[string]int{}}
	err := atigip.Of[*atigip.Post](s).Scan(ctx, atigip.ListFilter{}, func(p *atigip.Post) error {
		switch p.Status {
		case atigip.PostRegistered, atigip.PostOpen, atigip.PostFull:
		default:
			return nil
		}
		d := r.Posts.ByDepartement[p.Address.Departement]
		if r.postCreated[p.Address.Departement] == nil {
			r.postCreated[p.Address.Departement] = map[string]int{}
		}
		r.postCreated[p.Address.Departement][p.CreatedAt.UTC().Format("2006-01")]++
		r.Posts.Offered++
		d.Offered++
		if p.Status == atigip.PostOpen {
			r.Posts.Open++
			d.Open++
		}
		r.Posts.ByDepartement[p.Address.Departement] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indicators: posts: %w", err)
	}

	all, byDep, byMonth, byDepMonth := []float64{}, map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	err = atigip.Of[*atigip.Measure](s).Scan(ctx, atigip.ListFilter{}, func(m *atigip.Measure) error {
		switch m.State {
		case atigip.MeasureCompleted:
			r.Completion.Ended++
			r.Completion.Completed++
		case atigip.MeasureClosedFailed:
			r.Completion.Ended++
		}
		start, ok := Started(m)
		if !ok {
			return nil
		}
		days := float64(m.SentenceDate.DaysUntil(start))
		month := start.Format("2006-01")
		all = append(all, days)
		byDep[m.Departement] = append(byDep[m.Departement], days)
		byMonth[month] = append(byMonth[month], days)
		byDepMonth[m.Departement+"/"+month] = append(byDepMonth[m.Departement+"/"+month], days)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indicators: measures: %w", err)
	}
	r.delays = byDep
	r.Delay = Delay{Stats: Summarise(all), ByDepartement: summariseAll(byDep), ByMonth: summariseAll(byMonth),
		ByDepartementMonth: summariseAll(byDepMonth)}
	r.Completion.Share = share(r.Completion.Completed, r.Completion.Ended)

	offers := map[int64]*atigip.Offer{}
	businesses := map[string]bool{}
	err = atigip.Of[*atigip.Offer](s).Scan(ctx, atigip.ListFilter{}, func(o *atigip.Offer) error {
		offers[o.ID] = o
		if o.EmployerKind == atigip.EmployerConcession && o.EmployerName != "" && o.PrisonID > 0 &&
			(o.Status == atigip.OfferOpen || o.Status == atigip.OfferFilled) {
			businesses[o.EmployerName] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indicators: offers: %w", err)
	}
	r.Businesses = len(businesses)

	detainees, worked, trained := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
	err = atigip.Of[*atigip.Person](s).Scan(ctx, atigip.ListFilter{Status: []string{"detained"}}, func(p *atigip.Person) error {
		detainees[p.ID] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indicators: people: %w", err)
	}
	err = atigip.Of[*atigip.Application](s).Scan(ctx, atigip.ListFilter{}, func(a *atigip.Application) error {
		o := offers[a.OfferID]
		for _, ev := range a.History {
			if ev.At.Year() != year {
				continue
			}
			detainees[a.PersonID] = true
			if ev.To == atigip.AppAccepted && o != nil {
				switch o.OfferKind {
				case atigip.OfferWork:
					worked[a.PersonID] = true
				case atigip.OfferTraining:
					trained[a.PersonID] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indicators: applications: %w", err)
	}
	either := len(worked)
	for id := range trained {
		if !worked[id] {
			either++
		}
	}
	n := len(detainees)
	r.Detainees = Detainees{Detainees: n, Worked: len(worked), Trained: len(trained), WorkedOrTrained: either,
		ShareWorked: share(len(worked), n), ShareTrained: share(len(trained), n), Share: share(either, n)}
	return r, nil
}

// Started returns the first day of work of m, if its execution began: the
// start date once the measure went to in progress (a planned start date
// of an assigned measure does not count).
func Started(m *atigip.Measure) (atigip.Date, bool) {
	began := m.State == atigip.MeasureInProgress || m.State == atigip.MeasureSuspended || m.State == atigip.MeasureCompleted
	var first time.Time
	for _, ev := range m.History {
		if ev.To == atigip.MeasureInProgress && ev.From == atigip.MeasureAssigned {
			began = true
			if first.IsZero() {
				first = ev.At
			}
		}
	}
	if !began || m.SentenceDate.IsZero() {
		return atigip.Date{}, false
	}
	if !m.StartDate.IsZero() {
		return m.StartDate, true
	}
	if !first.IsZero() {
		return atigip.DateOf(first), true
	}
	return atigip.Date{}, false
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(of)*10000) / 10000
}

// Summarise gives the count, median and 90th percentile of xs.
func Summarise(xs []float64) Stats {
	if len(xs) == 0 {
		return Stats{}
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	rank := int(math.Ceil(0.9 * float64(n))) // nearest rank
	return Stats{Count: n, Median: med, P90: s[rank-1]}
}

func summariseAll(m map[string][]float64) map[string]Stats {
	out := make(map[string]Stats, len(m))
	for k, xs := range m {
		out[k] = Summarise(xs)
	}
	return out
}

// WriteCSV writes r in long format: indicator, dimension, key, value.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{"indicateur", "dimension", "cle", "valeur"}}
	add := func(ind, dim, key string, v float64) {
		rows = append(rows, []string{ind, dim, key, strconv.FormatFloat(v, 'f', -1, 64)})
	}
	add("postes_offerts", "total", "", float64(r.Posts.Offered))
	add("postes_ouverts", "total", "", float64(r.Posts.Open))
	for _, d := range sortedKeys(r.Posts.ByDepartement) {
		add("postes_offerts", "departement", d, float64(r.Posts.ByDepartement[d].Offered))
		add("postes_ouverts", "departement", d, float64(r.Posts.ByDepartement[d].Open))
	}
	stats := func(dim, key string, s Stats) {
		add("delai_mesures", dim, key, float64(s.Count))
		add("delai_mediane_jours", dim, key, s.Median)
		add("delai_p90_jours", dim, key, s.P90)
	}
	stats("total", "", r.Delay.Stats)
	for _, k := range sortedKeys(r.Delay.ByDepartement) {
		stats("departement", k, r.Delay.ByDepartement[k])
	}
	for _, k := range sortedKeys(r.Delay.ByMonth) {
		stats("mois", k, r.Delay.ByMonth[k])
	}
	for _, k := range sortedKeys(r.Delay.ByDepartementMonth) {
		stats("departement_mois", k, r.Delay.ByDepartementMonth[k])
	}
	add("mesures_terminees", "total", "", float64(r.Completion.Ended))
	add("part_mesures_executees", "total", "", r.Completion.Share)
	y := strconv.Itoa(r.Year)
	add("personnes_detenues", "annee", y, float64(r.Detainees.Detainees))
	add("part_detenus_travail", "annee", y, r.Detainees.ShareWorked)
	add("part_detenus_formation", "annee", y, r.Detainees.ShareTrained)
	add("part_detenus_travail_ou_formation", "annee", y, r.Detainees.Share)
	add("entreprises_offrant_postes", "total", "", float64(r.Businesses))
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("indicators: csv: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
