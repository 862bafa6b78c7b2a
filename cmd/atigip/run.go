package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/config"
	"github.com/atigip/atigip360/internal/store/postgres"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

// Env is what every subcommand gets: configuration, output and logger.
type Env struct {
	Config config.Config
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	Logger *slog.Logger
}

type command struct {
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands is the table of subcommands; each lives in its cmd_*.go file.
func commands() map[string]command {
	return map[string]command{
		"serve":      {"serve the API, the tiles and the map", cmdServe},
		"seed":       {"fill the store with the national demo data set", cmdSeed},
		"migrate":    {"create or upgrade the store's schema", cmdMigrate},
		"token":      {"print a signed development token for a role", cmdToken},
		"tiles":      {"vector tiles: export a tileset to a PMTiles archive", cmdTiles},
		"basemap":    {"vector basemap: import an OpenStreetMap extract into a PMTiles archive", cmdBasemap},
		"search":     {"search index: reindex, status, query", cmdSearch},
		"indicators": {"print the indicators (delay from sentence to TIG start; --format csv|json for all)", cmdIndicators},
		"flows-key":  {"make an API key for a machine client of the APPI flows", cmdFlowsKey},
		"sync":       {"sync partners with the Axelor CRM once", cmdSync},
		"match":      {"matching tools: eval measures ranking and assignment on the demo data", cmdMatch},
		"version":    {"print the version", cmdVersion},
	}
}

// errUsage marks errors the user can fix by reading the usage.
var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// run is the whole program: main passes the process's arguments,
// environment (os.LookupEnv: a variable set to "" is not an unset one)
// and outputs, end-to-end tests pass their own.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return fmt.Errorf("%w: a subcommand is needed", errUsage)
		}
		return nil
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return fmt.Errorf("%w: unknown subcommand %q", errUsage, args[0])
	}
	cfg, err := config.FromLookupEnv(lookupEnv)
	if err != nil {
		return err
	}
	getenv := func(k string) string { v, _ := lookupEnv(k); return v }
	env := &Env{Config: cfg, Getenv: getenv, Stdout: stdout, Stderr: stderr, Logger: newLogger(stderr, cfg.LogLevel)}
	return cmd.run(ctx, env, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: atigip <command> [flags]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nconfiguration: ATIGIP_* environment variables (see README.md)")
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(strings.ToUpper(level))) // validated by config
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// flags returns a FlagSet that reports errors as usage errors.
func flags(env *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("atigip "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// OpenStore opens PostgreSQL when ATIGIP_DATABASE_URL is set, else the
// embedded SQLite file in the data directory, and migrates it.
func (env *Env) OpenStore(ctx context.Context) (atigip.Store, error) {
	var (
		s   atigip.Store
		err error
	)
	if env.Config.DatabaseURL != "" {
		s, err = postgres.Open(ctx, env.Config.DatabaseURL)
	} else {
		if err := os.MkdirAll(env.Config.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		s, err = sqlite.Open(ctx, env.Config.SQLitePath())
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate store: %w", err)
	}
	return s, nil
}

func cmdVersion(_ context.Context, env *Env, _ []string) error {
	fmt.Fprintln(env.Stdout, "atigip", version)
	return nil
}

func cmdMigrate(ctx context.Context, env *Env, args []string) error {
	if err := parse(flags(env, "migrate"), args); err != nil {
		return err
	}
	s, err := env.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	seq, err := s.LastSeq(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "schema up to date (change feed at %d)\n", seq)
	return nil
}
