package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
	seedpkg "github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/internal/store/sqlite"
	"github.com/atigip/atigip360/internal/web"
	"github.com/atigip/atigip360/search"
	"github.com/atigip/atigip360/tiles"
)

// browserSite is the one server the browser tests share: a demo data set
// seeded once, its tiles and search index, the map and the site, with no
// basemap (offline). Tests using it run in parallel.
type browserSite struct {
	url   string
	store *sqlite.DB
	env   *testEnv
	err   error
}

var (
	sharedSiteOnce sync.Once
	sharedSite     browserSite
)

// browserEnv checks node, the npm packages and Chromium (required under
// CI=true, else the test is skipped when Chromium is missing), and returns
// node's path and Chromium's.
func browserEnv(t *testing.T) (node, chromium string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: install Node.js, then run `make web`")
	}
	for _, pkg := range []string{"playwright-core", "axe-core"} {
		if _, err := os.Stat(filepath.Join("..", "web", "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("internal/web is not installed (%s missing): run `make web`", pkg)
		}
	}
	if !web.VendorReady() {
		t.Fatal("internal/web/static/vendor is not built: run `make web`")
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		// CI installs Chromium (.ci/run) and must run the browser tests; a
		// developer's machine may not have it.
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium not found at %s (apt-get install -y chromium, or set CHROMIUM)", chromium)
		}
		t.Skipf("Chromium not found at %s: install it (apt-get install -y chromium) or set CHROMIUM to run the browser tests", chromium)
	}
	return node, chromium
}

// sharedBrowserSite starts the shared server on first use.
func sharedBrowserSite(t *testing.T) *browserSite {
	t.Helper()
	sharedSiteOnce.Do(func() {
		// Outlives the test that starts it: the process's end reclaims it.
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "atigip-browser-")
		if err != nil {
			sharedSite.err = err
			return
		}
		db, err := sqlite.Open(ctx, filepath.Join(dir, "e2e.db"))
		if err == nil {
			err = db.Migrate(ctx)
		}
		if err == nil {
			_, err = seedpkg.Run(ctx, db, seedpkg.Options{Scale: 0.05, Seed: 1})
		}
		if err != nil {
			sharedSite.err = err
			return
		}
		eng, err := tiles.New(ctx, db, tiles.Options{})
		if err != nil {
			sharedSite.err = err
			return
		}
		ix, err := search.Open("", search.Options{})
		if err == nil {
			_, err = ix.CatchUp(ctx, db)
		}
		if err != nil {
			sharedSite.err = err
			return
		}
		env := newEnv(t, db, func(o *Options) {
			o.Modules = append(o.Modules, TilesModule{Engine: eng}, MapModule{}, SiteModule{Engine: eng}, SearchModule{Index: ix})
			o.Modules = append(o.Modules, HomeModule{}, HostModule{}, IPROModule{}, &CaseworkModule{Matching: &MatchingModule{}},
				&ReferentModule{EmbedSecret: []byte(embedSecret), EmbedOrigin: referentFrameOrigin()})
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			sharedSite.err = err
			return
		}
		go env.srv.Serve(ctx, ln)
		sharedSite = browserSite{url: "http://" + ln.Addr().String(), store: db, env: env}
	})
	if sharedSite.err != nil {
		t.Fatalf("shared browser site: %v", sharedSite.err)
	}
	return &sharedSite
}

// token signs a development token for p, for any test using the site.
func (b *browserSite) token(t *testing.T, p atigip.Principal) string {
	t.Helper()
	if p.Subject == "" {
		p.Subject = "test:" + string(p.Role)
	}
	tok, err := b.env.dev.Issue(p, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// artefacts is where screenshots go: $ATIGIP_ARTEFACTS, else the test's
// artifact directory (go test -artifacts keeps it).
func artefacts(t *testing.T) string {
	if d := os.Getenv("ATIGIP_ARTEFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

// TestSiteInChromium walks every journey of the site in headless Chromium
// at desktop size and on a 375×667 phone, and keyboard only, in parallel
// over one shared server: the map offline with counts on first render,
// the job search and its results, popups on screen, post sheets (public,
// justice, print), « Postes autour de… » and its print, the floor-space
// search, an establishment and its contact request, legal and error
// pages, the sign-in leading back. axe-core must report no violation on
// any page state; screenshots are left as artefacts.
func TestSiteInChromium(t *testing.T) {
	t.Parallel()
	node, chromium := browserEnv(t)
	site := sharedBrowserSite(t)
	w := findWorld(t, site.store)
	cfg := map[string]any{
		"base": site.url,
		"tokens": map[string]string{
			"magistrate": site.token(t, atigip.Principal{Role: atigip.RoleMagistrate, Name: "Juge de démonstration"}),
			"business":   site.token(t, atigip.Principal{Role: atigip.RoleBusiness, SIRET: "12345678900011"}),
		},
		"ids": map[string]any{"post": w.public.ID, "justicePost": w.justiceOnly.ID, "prison": w.prison.ID,
			"place": w.public.Address.Postcode + " " + w.public.Address.City},
	}
	for _, journey := range []string{"desktop", "mobile", "keyboard"} {
		t.Run(journey, func(t *testing.T) {
			t.Parallel()
			cfg["out"] = artefacts(t)
			b, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rep := runJourney(t, node, chromium, "site.mjs", string(b), journey)
			t.Logf("%d checks, axe on %d page states, screenshots: %v", len(rep.Checks), len(rep.Axe), rep.Shots)
		})
	}
}

// BenchmarkMapTimeToCounts measures the first render of the map with its
// cluster counts, offline (no basemap, every request off the server
// aborted), in headless Chromium over the national set: the milliseconds
// from navigation start to the first counts drawn, each load in a fresh
// browser context (empty cache). The first load meets a cold tile cache.
// ATIGIP_BENCH_SCALE (default 1, the national set) sizes the data.
func BenchmarkMapTimeToCounts(b *testing.B) {
	node, err := exec.LookPath("node")
	if err != nil || !web.VendorReady() {
		b.Skip("node and `make web` are needed")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		b.Skipf("Chromium not found at %s", chromium)
	}
	scale := benchScale(1)
	// The data set is seeded once for the benchmark's runs (b.N = 1, then
	// the target): the national set takes minutes to seed.
	benchMapOnce.Do(func() { benchMapURL, benchMapErr = serveMap(scale) })
	if benchMapErr != nil {
		b.Fatal(benchMapErr)
	}
	b.ResetTimer()
	cmd := exec.CommandContext(b.Context(), node, filepath.Join("..", "web", "testdata", "firstrender.mjs"),
		benchMapURL, strconv.Itoa(b.N))
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	out, err := cmd.Output()
	b.StopTimer()
	var rep struct {
		MS     []float64 `json:"ms"`
		Load   []float64 `json:"load"`
		DOM    []float64 `json:"dom"`
		Counts []int     `json:"counts"`
		Error  string    `json:"error"`
	}
	if jerr := json.Unmarshal(out, &rep); err != nil || jerr != nil || len(rep.MS) != b.N {
		b.Fatalf("%v %s", err, out)
	}
	for _, c := range rep.Counts {
		if c == 0 {
			b.Fatal("a load drew no count")
		}
	}
	b.ReportMetric(rep.MS[0], "cold-ms-to-counts")
	ms := slices.Clone(rep.MS)
	slices.Sort(ms)
	b.ReportMetric(ms[len(ms)/2], "p50-ms-to-counts")
	b.ReportMetric(ms[min(len(ms)-1, len(ms)*95/100)], "p95-ms-to-counts")
	b.ReportMetric(float64(rep.Counts[0]), "counts")
	b.Logf("per load: DOM ready %v ms, style and first tiles (load) %v ms, counts %v ms", rep.DOM, rep.Load, rep.MS)
}

var (
	benchMapOnce sync.Once
	benchMapURL  string
	benchMapErr  error
)

// serveMap seeds a store at scale in a temporary directory and serves the
// map over it, offline, until the process ends.
func serveMap(scale float64) (string, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "atigip-bench-")
	if err != nil {
		return "", err
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		return "", err
	}
	if err := db.Migrate(ctx); err != nil {
		return "", err
	}
	if _, err := seedpkg.Run(ctx, db, seedpkg.Options{Scale: scale, Seed: 7}); err != nil {
		return "", err
	}
	eng, err := tiles.New(ctx, db, tiles.Options{})
	if err != nil {
		return "", err
	}
	dev, err := auth.NewDevTokens(testSecret)
	if err != nil {
		return "", err
	}
	srv, err := New(Options{Store: db, Auth: dev, Logger: slog.New(slog.DiscardHandler),
		Modules: []Module{TilesModule{Engine: eng}, MapModule{}}})
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go srv.Serve(ctx, ln)
	return "http://" + ln.Addr().String(), nil
}
