package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/indicators"
)

// cmdIndicators prints the indicators computed from the store: by default
// the headline one, the delay from sentence to the start of the TIG.
func cmdIndicators(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "indicators")
	format := fs.String("format", "text", "text (the delay indicator), csv or json (every indicator)")
	year := fs.Int("year", 0, "year of the detainee indicators (default: this year)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "csv" && *format != "json" {
		return fmt.Errorf("%w: --format must be text, csv or json", errUsage)
	}
	s, err := env.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := indicators.Compute(ctx, s, atigip.DateOf(time.Now()), *year)
	if err != nil {
		return err
	}
	switch *format {
	case "csv":
		return indicators.WriteCSV(env.Stdout, r)
	case "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(env.Stdout, "Délai entre la condamnation et le début du TIG (jours), au %s\n\n", r.Date)
	fmt.Fprintln(w, "\tmesures\tmédiane\t90e centile\t")
	row := func(name string, st indicators.Stats) {
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%.0f\t\n", name, st.Count, st.Median, st.P90)
	}
	row("France entière", r.Delay.Stats)
	deps := make([]string, 0, len(r.Delay.ByDepartement))
	for d := range r.Delay.ByDepartement {
		deps = append(deps, d)
	}
	sort.Strings(deps)
	for _, d := range deps {
		row("département "+d, r.Delay.ByDepartement[d])
	}
	months := make([]string, 0, len(r.Delay.ByMonth))
	for m := range r.Delay.ByMonth {
		months = append(months, m)
	}
	sort.Strings(months)
	for _, m := range months {
		row("début en "+m, r.Delay.ByMonth[m])
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nObjectif du contrat : 6 mois (182 jours) ; %.1f %% des mesures terminées ont été exécutées.\n", r.Completion.Share*100)
	return nil
}
