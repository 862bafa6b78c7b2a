package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/search"
)

// cmdSearch runs the search index tools: reindex, status and query.
func cmdSearch(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, "usage: atigip search reindex|status|query [flags]")
		return fmt.Errorf("%w: search needs a subcommand", errUsage)
	}
	switch args[0] {
	case "reindex":
		return searchReindex(ctx, env, args[1:])
	case "status":
		return searchStatus(ctx, env, args[1:])
	case "query":
		return searchQuery(ctx, env, args[1:])
	}
	return fmt.Errorf("%w: unknown search subcommand %q (reindex, status, query)", errUsage, args[0])
}

// openSearch opens the store and the index in the data directory.
func openSearch(ctx context.Context, env *Env) (atigip.Store, *search.Index, error) {
	s, err := env.OpenStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	ix, err := search.Open(env.Config.SearchIndexPath(), search.Options{Logger: env.Logger})
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, ix, nil
}

func searchReindex(ctx context.Context, env *Env, args []string) error {
	fl := flags(env, "search reindex")
	quiet := fl.Bool("quiet", false, "no progress bar")
	if err := parse(fl, args); err != nil {
		return err
	}
	s, ix, err := openSearch(ctx, env)
	if err != nil {
		return err
	}
	defer s.Close()
	defer ix.Close()
	var progress func(done, total int)
	if !*quiet {
		report, finish := progressBar(env.Stderr, "documents")
		defer finish()
		progress = func(done, total int) { report("index", "Indexation", done, total) }
	}
	st, err := ix.Reindex(ctx, s, progress)
	if err != nil {
		return err
	}
	size, _ := dirSize(ix.Path())
	fmt.Fprintf(env.Stdout, "Index reconstruit : %d documents en %.1f s, %.1f Mo sur disque (position du journal des changements : %d).\n",
		st.Docs, st.Duration.Seconds(), float64(size)/(1<<20), st.Seq)
	return nil
}

func searchStatus(ctx context.Context, env *Env, args []string) error {
	if err := parse(flags(env, "search status"), args); err != nil {
		return err
	}
	s, ix, err := openSearch(ctx, env)
	if err != nil {
		return err
	}
	defer s.Close()
	defer ix.Close()
	last, err := s.LastSeq(ctx)
	if err != nil {
		return err
	}
	n, err := ix.DocCount()
	if err != nil {
		return err
	}
	size, _ := dirSize(ix.Path())
	fmt.Fprintf(env.Stdout, "index %s (mapping %s)\ndocuments %d, %.1f Mo\nposition %d, journal à %d\n",
		ix.Path(), search.MappingVersion, n, float64(size)/(1<<20), ix.Seq(), last)
	if r := ix.RebuildReason(); r != "" {
		fmt.Fprintf(env.Stdout, "à reconstruire : %s (atigip search reindex)\n", r)
	}
	return nil
}

func searchQuery(ctx context.Context, env *Env, args []string) error {
	fl := flags(env, "search query")
	role := fl.String("role", string(atigip.RolePublic), "role whose audience the search is cut for")
	perPage := fl.Int("n", 10, "results")
	if err := parse(fl, args); err != nil {
		return err
	}
	if !atigip.Role(*role).Valid() {
		return fmt.Errorf("%w: unknown role %q", errUsage, *role)
	}
	s, ix, err := openSearch(ctx, env)
	if err != nil {
		return err
	}
	defer s.Close()
	defer ix.Close()
	// Apply what the store has that the index lacks, so that the answer
	// is current even if no server follows the store.
	if _, err := ix.CatchUp(ctx, s); err != nil {
		return err
	}
	res, err := ix.Search(ctx, search.Request{Query: strings.Join(fl.Args(), " "), Role: atigip.Role(*role), PerPage: *perPage, Facets: new(bool)})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}
