package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/schollz/progressbar/v3"

	"github.com/atigip/atigip360/crmsync"
	"github.com/atigip/atigip360/internal/atigip"
)

// cmdSync runs one CRM sync with Axelor: pull partners, push our fields.
func cmdSync(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "sync")
	full := fs.Bool("full", false, "re-read every partner instead of the changes since the cursor")
	dryRun := fs.Bool("dry-run", false, "print what would change, write nothing")
	noPush := fs.Bool("no-push", false, "pull only")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parse(fs, args); err != nil {
		return err
	}
	store, err := env.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	syncer, err := env.syncer(store)
	if err != nil {
		return err
	}
	opts := crmsync.RunOptions{Full: *full, DryRun: *dryRun, NoPush: *noPush}
	if !*quiet {
		var bar *progressbar.ProgressBar
		phase := ""
		opts.Progress = func(p crmsync.Progress) {
			if p.Phase != phase || bar == nil {
				if bar != nil {
					_ = bar.Finish()
				}
				phase = p.Phase
				label := map[string]string{"pull": "Lecture du CRM", "push": "Écriture dans le CRM"}[p.Phase]
				bar = progressbar.NewOptions64(p.Total, progressbar.OptionSetWriter(env.Stderr),
					progressbar.OptionSetDescription(label), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
			}
			_ = bar.Set64(p.Done)
		}
	}
	rep, err := syncer.Run(ctx, opts)
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if encErr := enc.Encode(rep); encErr != nil {
		return encErr
	}
	return err
}

// syncer builds the CRM sync from ATIGIP_AXELOR_* and ATIGIP_SYNC_*.
func (env *Env) syncer(store atigip.Store) (*crmsync.Syncer, error) {
	cfg, err := crmsync.FromEnv(env.Getenv)
	if err != nil {
		return nil, err
	}
	client, err := cfg.NewClient()
	if err != nil {
		return nil, err
	}
	s, err := crmsync.New(cfg, store, client, crmsync.WithLogger(env.Logger))
	if err != nil {
		return nil, fmt.Errorf("crm sync: %w", err)
	}
	return s, nil
}
