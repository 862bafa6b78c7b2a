package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/matching"
)

// cmdMatch runs matching tools; "eval" measures ranking and assignment
// quality on the store's (demo) data.
func cmdMatch(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "eval" {
		fmt.Fprintln(env.Stderr, "usage: atigip match eval [-sample N] [-json]")
		return fmt.Errorf("%w: match needs a subcommand (eval)", errUsage)
	}
	fs := flags(env, "match eval")
	sample := fs.Int("sample", 500, "people whose rankings are judged")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *sample < 1 {
		return fmt.Errorf("%w: -sample must be at least 1", errUsage)
	}
	store, err := env.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	start := time.Now()
	d, err := matching.Load(ctx, store)
	if err != nil {
		return err
	}
	if len(d.People) == 0 || len(d.Posts) == 0 {
		return atigip.Errorf(atigip.EINVALID, "Aucune donnée à évaluer : lancez d'abord « atigip seed ».")
	}
	env.Logger.Info("matching data loaded", "posts", len(d.Posts), "offers", len(d.Offers), "people", len(d.People),
		"duration", time.Since(start).Round(time.Millisecond).String())
	r, err := matching.Evaluate(ctx, d, matching.EvalOptions{Sample: *sample})
	if err != nil {
		return err
	}
	if *asJSON {
		// Stats only: the proposals name people and stay out of reports.
		out := struct {
			People, Items int
			Ranking       []matching.RankMetrics
			Assignment    map[string]matching.Stats
		}{r.People, r.Items, r.Ranking, map[string]matching.Stats{}}
		for _, a := range r.Assignment {
			out.Assignment[a.Method] = a.Stats
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return r.Write(env.Stdout)
}
