package main

import (
	"context"
	"fmt"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed"
)

func cmdSeed(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "seed")
	scale := fs.Float64("scale", env.Config.SeedScale, "size of the data set (1 = national: 31,000 posts, 20,000 people)")
	value := fs.Uint64("seed", env.Config.SeedValue, "random seed: the same seed and scale give the same data")
	force := fs.Bool("force", false, "add a data set even if the store is not empty")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *scale <= 0 || *scale > 10 {
		return fmt.Errorf("%w: --scale must be in (0, 10]", errUsage)
	}
	s, err := env.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	opts := seed.Options{Scale: *scale, Seed: *value, Force: *force}
	if !*quiet {
		var finish func()
		opts.Progress, finish = seedProgress(env)
		defer finish()
	}
	rep, err := seed.Run(ctx, s, opts)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintln(env.Stdout, rep.String())
	return nil
}

// seedIfEmpty fills an empty store at start-up (make run), so a fresh
// clone shows a national system at once.
func seedIfEmpty(ctx context.Context, env *Env, s atigip.Store) error {
	if !env.Config.SeedOnStart {
		return nil
	}
	done, err := seed.IsSeeded(ctx, s)
	if err != nil || done {
		return err
	}
	env.Logger.Info("seeding the demo data set", "scale", env.Config.SeedScale)
	start := time.Now()
	progress, finish := seedProgress(env)
	rep, err := seed.Run(ctx, s, seed.Options{Scale: env.Config.SeedScale, Seed: env.Config.SeedValue, Progress: progress})
	finish()
	if err != nil {
		return fmt.Errorf("seed on start: %w", err)
	}
	env.Logger.Info("demo data set ready", "entities", rep.Total(), "duration", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// seedProgress draws a seeding's advancement on stderr.
func seedProgress(env *Env) (func(seed.Progress), func()) {
	report, finish := progressBar(env.Stderr, "")
	return func(p seed.Progress) {
		label := "Génération : " + p.Label
		if p.Phase == "insert" {
			label = "Insertion : " + p.Label
		}
		report(p.Phase, label, p.Done, p.Total)
	}, finish
}
