package indicators_test

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/indicators"
)

func TestTargetsAndSeries(t *testing.T) {
	s := handBuilt(t)
	r, err := indicators.Compute(context.Background(), s, atigip.NewDate(2024, 12, 31), 2024)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("targets", func(t *testing.T) {
		ts := indicators.Targets(r)
		got := map[string][3]float64{}
		for _, x := range ts {
			got[x.Key] = [3]float64{x.Baseline, x.Goal, x.Current}
		}
		want := map[string][3]float64{
			"postes_tig": {19000, 31000, 4},
			// median 90 days = 2.96 months → 3.0; progress from 14 toward 6.
			"delai_mois":        {14, 6, 3},
			"detenus_travail":   {15.8, 19, 50},
			"detenus_formation": {15.35, 19.86, 25},
			"entreprises":       {300, 345, 2},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("targets %v, want %v", got, want)
		}
		for _, x := range ts {
			wantProgress := map[string]float64{"postes_tig": 0, "delai_mois": 1, "detenus_travail": 1, "detenus_formation": 1, "entreprises": 0}[x.Key]
			if x.Progress != wantProgress {
				t.Errorf("%s: progress %v, want %v", x.Key, x.Progress, wantProgress)
			}
		}
	})
	t.Run("delay by month", func(t *testing.T) {
		ps := indicators.DelayByMonth(r, 12)
		if len(ps) != 12 || ps[0].Key != "2024-01" || ps[11].Key != "2024-12" {
			t.Fatalf("months %v", ps)
		}
		// March 2024: 3 TIGs started, median 70 days = 2.3 months.
		if ps[2] != (indicators.Point{Key: "2024-03", Value: 2.3, Count: 3}) {
			t.Errorf("March %+v", ps[2])
		}
	})
	t.Run("by région", func(t *testing.T) {
		region := func(dep string) string { return map[string]string{"69": "84", "13": "93"}[dep] }
		posts := indicators.PostsBy(r, region)
		if want := []indicators.Point{{Key: "84", Value: 3, Count: 3}, {Key: "93", Value: 1, Count: 1}}; !reflect.DeepEqual(posts, want) {
			t.Errorf("posts by région %v", posts)
		}
		// 69: 60, 70, 90, 288 → median 80 days = 2.6 months.
		delay := indicators.DelayBy(r, region)
		if want := []indicators.Point{{Key: "84", Value: 2.6, Count: 4}, {Key: "93", Value: 6, Count: 1}}; !reflect.DeepEqual(delay, want) {
			t.Errorf("delay by région %v", delay)
		}
	})
	t.Run("posts by month", func(t *testing.T) {
		// The posts were created today, after the report's date (2024):
		// none existed then.
		for _, p := range indicators.PostsByMonth(r, 3, nil) {
			if p.Count != 0 {
				t.Errorf("%+v: a post counted before it was created", p)
			}
		}
		now, err := indicators.Compute(context.Background(), s, atigip.DateOf(time.Now()), 2024)
		if err != nil {
			t.Fatal(err)
		}
		ps := indicators.PostsByMonth(now, 3, []string{"13"})
		if len(ps) != 3 || ps[2].Count != 1 || ps[2].Key != time.Now().UTC().Format("2006-01") {
			t.Errorf("13 by month %v, want 1 post this month", ps)
		}
		if all := indicators.PostsByMonth(now, 1, nil); all[0].Count != 4 {
			t.Errorf("all by month %v, want 4", all)
		}
	})
	t.Run("csv", func(t *testing.T) {
		var b bytes.Buffer
		if err := indicators.WriteTargetsCSV(&b, indicators.Targets(r)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "postes_tig,Postes de TIG offerts,postes,19000,31000,4,0\n") {
			t.Errorf("targets CSV:\n%s", b.String())
		}
		b.Reset()
		if err := indicators.WriteSeriesCSV(&b, [3]string{"mois", "mediane_mois", "mesures"}, nil, indicators.DelayByMonth(r, 12)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "2024-03,2024-03,2.3,3\n") {
			t.Errorf("series CSV:\n%s", b.String())
		}
	})
}
