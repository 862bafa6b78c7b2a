package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/refdata"
	"github.com/atigip/atigip360/internal/store/postgres/pgtest"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

// The benchmarks below run the server as a child process (this test
// binary, re-executed as `atigip`), so that its start, restart and
// resident memory are the server's alone.

// childEnv marks the re-executed test binary.
const childEnv = "ATIGIP_BENCH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		// ATIGIP_BENCH_CPUPROFILE profiles the server until it stops.
		if p := os.Getenv("ATIGIP_BENCH_CPUPROFILE"); p != "" {
			if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
				defer os.Exit(0)
				defer pprof.StopCPUProfile()
				main()
				return
			}
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchSecret signs the benchmark's development tokens.
const benchSecret = "bench-secret-0123456789abcdef0123456789"

// child is a server process.
type child struct {
	cmd   *exec.Cmd
	base  string
	ready time.Duration // from exec to /readyz answering 200
	cpu   time.Duration // processor time used by then
	errs  *bytes.Buffer
}

// startChild runs `atigip serve` on dataDir (SQLite, or dbURL) and waits
// until /readyz answers 200.
func startChild(b *testing.B, dataDir, dbURL string, env ...string) *child {
	b.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), childEnv+"=1", "ATIGIP_DATA_DIR="+dataDir, "ATIGIP_ADDR=127.0.0.1:0",
		"ATIGIP_LOG_LEVEL=warn", "ATIGIP_BASEMAP_URL=", "ATIGIP_SEED_ON_START=false",
		"ATIGIP_TOKEN_SECRET="+benchSecret, "ATIGIP_DEV_TOKENS=true", "ATIGIP_DATABASE_URL="+dbURL)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	c := &child{cmd: cmd, errs: &bytes.Buffer{}}
	cmd.Stderr = c.errs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
			c.base = u
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if c.base == "" {
		_ = cmd.Wait()
		b.Fatalf("serve did not start:\n%s", c.errs.String())
	}
	for {
		resp, err := http.Get(c.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > readyLimit() {
			c.stop(b)
			b.Fatal("serve never ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.ready = time.Since(start)
	c.cpu = c.cpuTime()
	return c
}

// readyLimit is how long a start may take: ATIGIP_BENCH_READY_TIMEOUT,
// 30 minutes by default (a first start at scale 10 on a loaded machine
// builds its search index for longer).
func readyLimit() time.Duration {
	if v, err := time.ParseDuration(os.Getenv("ATIGIP_BENCH_READY_TIMEOUT")); err == nil {
		return v
	}
	return 30 * time.Minute
}

// cpuTime is the processor time the server used so far (user and
// system): what a start costs whatever else the machine runs.
func (c *child) cpuTime() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name in parentheses: utime and stime are
	// the 14th and 15th of the line, in clock ticks (100 a second).
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// stop ends the server gracefully (it saves its engines' states).
func (c *child) stop(b *testing.B) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.cmd.Wait(); err != nil {
		b.Errorf("serve: %v\n%s", err, c.errs.String())
	}
}

// memMB reads the server's resident memory now and at its peak, in MB.
func (c *child) memMB() (rss, peak float64) {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak
}

// resetPeak starts a new peak of the server's resident memory (VmHWM),
// so that each phase of a run reports its own.
func (c *child) resetPeak() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", c.cmd.Process.Pid), []byte("5"), 0)
}

// seeded returns a data directory holding a store seeded at scale, and
// the seeding time (0 when an earlier run left it in ATIGIP_BENCH_DIR).
func seeded(b *testing.B, scale string) (dir string, took time.Duration) {
	b.Helper()
	root := os.Getenv("ATIGIP_BENCH_DIR")
	if root == "" {
		root = b.TempDir()
	}
	dir = filepath.Join(root, "scale-"+scale)
	if _, err := os.Stat(filepath.Join(dir, "seeded")); err == nil {
		return dir, 0
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	vars := map[string]string{"ATIGIP_DATA_DIR": dir}
	var out, errOut bytes.Buffer
	start := time.Now()
	if err := run(context.Background(), []string{"seed", "--scale", scale, "--quiet"}, mapEnv(vars), &out, &errOut); err != nil {
		b.Fatalf("seed: %v %s", err, errOut.String())
	}
	took = time.Since(start)
	if err := os.WriteFile(filepath.Join(dir, "seeded"), []byte(took.String()+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	return dir, took
}

// prepared returns a data directory seeded at scale and started once (its
// search index built, its states saved), and the duration of that first
// start (0 when an earlier run of ATIGIP_BENCH_DIR had done it).
func prepared(b *testing.B, scale string) (dir string, seedTook, firstStart time.Duration) {
	b.Helper()
	dir, seedTook = seeded(b, scale)
	marker := filepath.Join(dir, "prepared")
	if _, err := os.Stat(marker); err == nil {
		return dir, seedTook, 0
	}
	c := startChild(b, dir, "")
	firstStart = c.ready
	c.stop(b)
	if err := os.WriteFile(marker, []byte(firstStart.String()+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	return dir, seedTook, firstStart
}

// copyDir copies a data directory (store, index, states) to a fresh one.
func copyDir(b *testing.B, src string) string {
	b.Helper()
	dst := b.TempDir()
	if err := exec.Command("cp", "-a", src+"/.", dst).Run(); err != nil {
		b.Fatalf("copy %s: %v", src, err)
	}
	return dst
}

// forgetStates removes what serve saves for restarts: the next start
// rebuilds the tiles' state, their boundary outlines and the search
// filter table, as every restart did before they were saved.
func forgetStates(b *testing.B, dir string) {
	for _, p := range []string{"tiles.state", "tiles.state.outlines", "search.bleve.table"} {
		if err := os.Remove(filepath.Join(dir, p)); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
	}
}

// benchScale is the scale of BenchmarkRestart: ATIGIP_BENCH_SCALE, 1 by
// default (the national set).
func benchScale() string {
	if s := os.Getenv("ATIGIP_BENCH_SCALE"); s != "" {
		return s
	}
	return "1"
}

// BenchmarkRestart reports, with the national set on SQLite, the first
// start (search index built, tiles loaded from the store:
// first-start-s), a restart from the saved states (restart-s, target
// < 3 s), a restart without them (restart-nostate-s, what every restart
// cost before) and the resident memory once ready (rss-MB). Each start
// also reports the processor time it used (-cpu-s): on a shared machine
// wall times follow the load, processor time much less.
// ATIGIP_BENCH_RESTART_PROFILE names a file for the restart's CPU profile.
func BenchmarkRestart(b *testing.B) {
	dir, seedTook := seeded(b, benchScale())
	for range b.N {
		b.StopTimer()
		work := b.TempDir()
		copyFile(b, filepath.Join(dir, "atigip.db"), filepath.Join(work, "atigip.db"))
		b.StartTimer()
		c := startChild(b, work, "")
		b.ReportMetric(c.ready.Seconds(), "first-start-s")
		b.ReportMetric(c.cpu.Seconds(), "first-start-cpu-s")
		c.stop(b)
		c = startChild(b, work, "", "ATIGIP_BENCH_CPUPROFILE="+os.Getenv("ATIGIP_BENCH_RESTART_PROFILE"))
		b.ReportMetric(c.ready.Seconds(), "restart-s")
		b.ReportMetric(c.cpu.Seconds(), "restart-cpu-s")
		rss, _ := c.memMB()
		b.ReportMetric(rss, "rss-MB")
		c.stop(b)
		forgetStates(b, work)
		c = startChild(b, work, "")
		b.ReportMetric(c.ready.Seconds(), "restart-nostate-s")
		b.ReportMetric(c.cpu.Seconds(), "restart-nostate-cpu-s")
		c.stop(b)
	}
	if seedTook > 0 {
		b.ReportMetric(seedTook.Seconds(), "seed-s")
	}
}

func copyFile(b *testing.B, src, dst string) {
	b.Helper()
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTilesColdMemoryLimit serves the national set with the default
// soft memory limit (ATIGIP_MEMORY_LIMIT_MB=280) and without one, and
// reports for each a cold pass over 5,000 public tiles (the cache
// filling): throughput, p99, and the server's resident memory after it.
func BenchmarkTilesColdMemoryLimit(b *testing.B) {
	dir, _, _ := prepared(b, "1")
	work := copyDir(b, dir)
	paths := tilePaths(5000)
	for _, limit := range []string{"280", "0"} {
		b.Run("limit-MB="+limit, func(b *testing.B) {
			for range b.N {
				c := startChild(b, work, "", "ATIGIP_MEMORY_LIMIT_MB="+limit, "GOMEMLIMIT=")
				cl := &client{b: b, http: &http.Client{Timeout: time.Minute}, base: c.base}
				t0 := time.Now()
				ds := cl.latencies(paths)
				b.ReportMetric(float64(len(paths))/time.Since(t0).Seconds(), "tiles/s")
				b.ReportMetric(pct(ds, 0.99), "p99-ms")
				rss, peak := c.memMB()
				b.ReportMetric(rss, "rss-MB")
				b.ReportMetric(peak, "rss-peak-MB")
				c.stop(b)
			}
		})
	}
}

// client is an HTTP client of the benchmarked server.
type client struct {
	b     *testing.B
	http  *http.Client
	base  string
	token string
}

func newClient(b *testing.B, c *child, role string, conns int) *client {
	var out, errOut bytes.Buffer
	vars := map[string]string{"ATIGIP_TOKEN_SECRET": benchSecret, "ATIGIP_DATA_DIR": b.TempDir()}
	if err := run(context.Background(), []string{"token", "--role", role}, mapEnv(vars), &out, &errOut); err != nil {
		b.Fatalf("token: %v %s", err, errOut.String())
	}
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns}
	return &client{b: b, http: &http.Client{Timeout: 5 * time.Minute, Transport: tr}, base: c.base,
		token: strings.TrimSpace(out.String())}
}

// do sends a request and returns its status, body and duration.
func (cl *client) do(method, path string, body string) (int, []byte, time.Duration) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, cl.base+path, rd)
	if err != nil {
		cl.b.Fatal(err)
	}
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	t0 := time.Now()
	resp, err := cl.http.Do(req)
	if err != nil {
		cl.b.Fatalf("%s %s: %v", method, path, err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, data, time.Since(t0)
}

// latencies runs paths one after the other and returns their durations;
// any answer but 200 fails the benchmark.
func (cl *client) latencies(paths []string) []time.Duration {
	out := make([]time.Duration, 0, len(paths))
	for _, p := range paths {
		code, body, d := cl.do(http.MethodGet, p, "")
		if code != http.StatusOK && code != http.StatusNoContent {
			cl.b.Fatalf("GET %s: %d %s", p, code, body)
		}
		out = append(out, d)
	}
	return out
}

// answering keeps the paths answered 200 (matching knows only the people
// with a measure or an application to place: others are 404).
func (cl *client) answering(paths []string) []string {
	var out []string
	for _, p := range paths {
		if code, _, _ := cl.do(http.MethodGet, p, ""); code == http.StatusOK {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		cl.b.Fatalf("none of %d paths answered 200", len(paths))
	}
	return out
}

// pct is the q-quantile of ds in milliseconds.
func pct(ds []time.Duration, q float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[min(len(s)-1, int(q*float64(len(s))))].Microseconds()) / 1000
}

// tilePaths are n public tile paths across France, z0-z14, dense where
// people live (around random communes), as tiles/bench/genpaths makes.
func tilePaths(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	cs := refdata.Communes()
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		c := cs[r.IntN(len(cs))]
		z := maptile.Zoom(r.IntN(15))
		t := maptile.At(orb.Point{c.Lon + (r.Float64()-0.5)*0.02, c.Lat + (r.Float64()-0.5)*0.02}, z)
		p := fmt.Sprintf("/tiles/public/%d/%d/%d.mvt", t.Z, t.X, t.Y)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// searchPaths are n searches with text, some filtered by département.
func searchPaths(n int) []string {
	words := []string{"jardin", "espaces verts", "cuisine", "entretien", "bibliothèque", "peinture", "maraîchage",
		"restauration", "nettoyage", "logistique", "menuiserie", "accueil", "recyclage", "animation", "soudure"}
	deps := []string{"", "75", "13", "69", "59", "33", "2A", "971", "67", "44"}
	r := rand.New(rand.NewPCG(3, 4))
	out := make([]string, n)
	for i := range out {
		p := "/api/search?q=" + urlQuery(words[r.IntN(len(words))])
		if d := deps[r.IntN(len(deps))]; d != "" {
			p += "&departement=" + d
		}
		out[i] = p
	}
	return out
}

func urlQuery(s string) string { return strings.ReplaceAll(s, " ", "+") }

// sampleIDs reads every k-th id of a kind from the store, n at most.
func sampleIDs(b *testing.B, dir string, k atigip.Kind, n int) []int64 {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "atigip.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	_, total, err := s.Entities(k).List(ctx, atigip.ListFilter{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	step := max(1, total/n)
	var ids []int64
	i := 0
	err = s.Entities(k).Scan(ctx, atigip.ListFilter{}, func(e atigip.Entity) error {
		if i%step == 0 && len(ids) < n {
			ids = append(ids, e.GetMeta().ID)
		}
		i++
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return ids
}

// BenchmarkScale measures a served data set at each scale of
// ATIGIP_BENCH_SCALES (e.g. "1,10"; skipped when unset: scale 10 seeds
// 700,000 records): seeding, first start and restart, resident memory,
// tiles cold then warm (one client, 3,000 paths z0-z14), searches and
// matching rankings (p95, and the server's processor time per request:
// -cpu-ms), and the global assignment (time, and the
// server's peak resident memory). Set ATIGIP_BENCH_DIR to keep the
// seeded stores between runs.
func BenchmarkScale(b *testing.B) {
	scales := os.Getenv("ATIGIP_BENCH_SCALES")
	if scales == "" {
		b.Skip("set ATIGIP_BENCH_SCALES=1,10 (scale 10 seeds 310,000 posts and takes minutes)")
	}
	for _, scale := range strings.Split(scales, ",") {
		b.Run("scale="+scale, func(b *testing.B) {
			for range b.N {
				benchScaleOnce(b, strings.TrimSpace(scale))
			}
		})
	}
}

func benchScaleOnce(b *testing.B, scale string) {
	// A run at scale 10 lasts long and may be stopped before its end
	// (timeout, memory): each figure is also written out at once.
	report := func(v float64, unit string) {
		b.ReportMetric(v, unit)
		fmt.Fprintf(os.Stderr, "%s scale=%s %s %g\n", time.Now().UTC().Format(time.TimeOnly), scale, unit, v)
	}
	dir, seedTook, first := prepared(b, scale)
	if seedTook > 0 {
		report(seedTook.Seconds(), "seed-s")
	}
	if first > 0 {
		report(first.Seconds(), "first-start-s")
	}
	c := startChild(b, dir, "")
	defer c.stop(b)
	report(c.ready.Seconds(), "restart-s")
	rss, _ := c.memMB()
	report(rss, "rss-ready-MB")
	// Peaks by phase: the snapshot's first build, the passes of reads,
	// the global assignment.
	phasePeak := func(unit string) {
		_, peak := c.memMB()
		report(peak, unit)
		c.resetPeak()
	}
	c.resetPeak()

	// Each pass also reports the server's processor time per request,
	// which the machine's load changes much less than the latencies.
	var cpu0 time.Duration
	cpuPer := func(n int, unit string) {
		report(float64((c.cpuTime()-cpu0).Microseconds())/1000/float64(n), unit)
	}
	cpip := newClient(b, c, "cpip", 4)
	posts := sampleIDs(b, dir, atigip.KindPost, 150)
	people := sampleIDs(b, dir, atigip.KindPerson, 150)
	// The first ranking waits for the matching snapshot built at start;
	// waiting for it first keeps its build out of the passes below.
	t0 := time.Now()
	cpip.latencies([]string{fmt.Sprintf("/api/matching/posts/%d/candidates", posts[0])})
	report(time.Since(t0).Seconds(), "matching-first-s")
	// The referents' figures are warmed in the background once ready:
	// waiting for them too keeps that work out of the passes below.
	t0 = time.Now()
	ref := newClient(b, c, "referent", 1)
	for _, p := range []string{"/api/indicators", "/referent/prospection"} {
		if code, body, _ := ref.do(http.MethodGet, p, ""); code != http.StatusOK {
			b.Fatalf("%s: %d %.300s", p, code, body)
		}
	}
	report(time.Since(t0).Seconds(), "figures-first-s")
	phasePeak("rss-peak-build-MB")

	public := newClient(b, c, "public", 4)
	public.token = ""
	paths := tilePaths(3000)
	t0, cpu0 = time.Now(), c.cpuTime()
	cold := public.latencies(paths)
	report(float64(len(paths))/time.Since(t0).Seconds(), "tiles-cold/s")
	report(pct(cold, 0.99), "tile-cold-p99-ms")
	cpuPer(len(paths), "tile-cold-cpu-ms")
	t0, cpu0 = time.Now(), c.cpuTime()
	warm := public.latencies(paths)
	report(float64(len(paths))/time.Since(t0).Seconds(), "tiles-warm/s")
	report(pct(warm, 0.99), "tile-warm-p99-ms")
	cpuPer(len(paths), "tile-warm-cpu-ms")

	searches := searchPaths(300)
	cpu0 = c.cpuTime()
	report(pct(cpip.latencies(searches), 0.95), "search-p95-ms")
	cpuPer(len(searches), "search-cpu-ms")

	var mp []string
	for i := range min(len(posts), len(people)) {
		mp = append(mp, fmt.Sprintf("/api/matching/posts/%d/candidates", posts[i]),
			fmt.Sprintf("/api/matching/people/%d/offers", people[i]))
	}
	mp = cpip.answering(mp)
	cpu0 = c.cpuTime()
	report(pct(cpip.latencies(mp), 0.95), "matching-p95-ms")
	cpuPer(len(mp), "matching-cpu-ms")

	phasePeak("rss-peak-reads-MB")
	// The global assignment of everyone with a measure to place.
	code, body, _ := cpip.do(http.MethodPost, "/api/matching/assignments", "{}")
	if code != http.StatusAccepted {
		b.Fatalf("assignment: %d %s", code, body)
	}
	var job struct {
		ID, State, Error string
		Progress         float64
	}
	if err := json.Unmarshal(body, &job); err != nil {
		b.Fatal(err)
	}
	t0 = time.Now()
	limit := 20 * time.Minute
	if v, err := time.ParseDuration(os.Getenv("ATIGIP_BENCH_ASSIGN_TIMEOUT")); err == nil {
		limit = v
	}
	for job.State == "running" && time.Since(t0) < limit {
		time.Sleep(200 * time.Millisecond)
		_, body, _ = cpip.do(http.MethodGet, "/api/matching/assignments/"+job.ID, "")
		if err := json.Unmarshal(body, &job); err != nil {
			b.Fatal(err)
		}
	}
	switch job.State {
	case "done":
		report(time.Since(t0).Seconds(), "assign-s")
	case "running": // reported as unfinished, with how far it got
		b.Logf("assignment unfinished after %s (ATIGIP_BENCH_ASSIGN_TIMEOUT): %.0f %% done", limit, 100*job.Progress)
		report(job.Progress, "assign-progress-at-timeout")
	default:
		b.Fatalf("assignment %s: %s", job.State, job.Error)
	}
	rss, peak := c.memMB()
	report(rss, "rss-end-MB")
	report(peak, "rss-peak-assign-MB")
}

// BenchmarkMixedLoad serves the national set and reports the throughput
// of mixed reads (public tiles, searches, lists, matching rankings) at 8,
// 32 and 128 concurrent clients for ATIGIP_BENCH_MIXED seconds each
// (skipped when unset), on SQLite, and on PostgreSQL when
// ATIGIP_TEST_DATABASE_URL is set.
func BenchmarkMixedLoad(b *testing.B) {
	secs, _ := strconv.Atoi(os.Getenv("ATIGIP_BENCH_MIXED"))
	if secs <= 0 {
		b.Skip("set ATIGIP_BENCH_MIXED=<seconds per level> (serves the national set)")
	}
	stores := []string{"sqlite"}
	if os.Getenv("ATIGIP_TEST_DATABASE_URL") != "" {
		stores = append(stores, "postgres")
	}
	dir, _, _ := prepared(b, "1")
	posts := sampleIDs(b, dir, atigip.KindPost, 200)
	people := sampleIDs(b, dir, atigip.KindPerson, 200)
	for _, st := range stores {
		b.Run(st, func(b *testing.B) {
			work, dbURL := "", ""
			if st == "postgres" {
				work = b.TempDir()
				dbURL = withBenchParams(b, pgtest.URL(b))
				var out, errOut bytes.Buffer
				vars := map[string]string{"ATIGIP_DATA_DIR": work, "ATIGIP_DATABASE_URL": dbURL}
				if err := run(context.Background(), []string{"seed", "--quiet"}, mapEnv(vars), &out, &errOut); err != nil {
					b.Fatalf("seed: %v %s", err, errOut.String())
				}
			} else {
				work = copyDir(b, dir)
			}
			c := startChild(b, work, dbURL)
			defer c.stop(b)
			var rank []string
			for i := range min(len(posts), len(people)) {
				rank = append(rank, fmt.Sprintf("/api/matching/posts/%d/candidates", posts[i]),
					fmt.Sprintf("/api/matching/people/%d/offers", people[i]))
			}
			// One pass warms the matching snapshot and keeps the rankings
			// that exist.
			rank = newClient(b, c, "cpip", 1).answering(rank)
			var mix []string
			mix = append(mix, tilePaths(2000)...)
			mix = append(mix, searchPaths(500)...)
			for i := range 200 {
				mix = append(mix, "/api/posts?departement="+[]string{"75", "13", "69", "59", "33"}[i%5])
			}
			mix = append(mix, rank...)
			rand.New(rand.NewPCG(5, 6)).Shuffle(len(mix), func(i, j int) { mix[i], mix[j] = mix[j], mix[i] })
			for _, n := range []int{8, 32, 128} {
				cl := newClient(b, c, "cpip", n)
				// One pass warms the caches and the matching snapshot.
				cl.latencies(mix[:200])
				var done, failed atomic.Int64
				var firstFail atomic.Value
				var mu sync.Mutex
				var ds []time.Duration
				byClass := map[string][]time.Duration{}
				deadline := time.Now().Add(time.Duration(secs) * time.Second)
				var wg sync.WaitGroup
				for w := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var mine []time.Duration
						mineBy := map[string][]time.Duration{}
						for i := w; time.Now().Before(deadline); i += n {
							path := mix[i%len(mix)]
							code, body, d := cl.do(http.MethodGet, path, "")
							if code != http.StatusOK && code != http.StatusNoContent {
								failed.Add(1)
								firstFail.CompareAndSwap(nil, fmt.Sprintf("%s: %d %.200s", path, code, body))
							}
							done.Add(1)
							mine = append(mine, d)
							mineBy[mixClass(path)] = append(mineBy[mixClass(path)], d)
						}
						mu.Lock()
						ds = append(ds, mine...)
						for k, v := range mineBy {
							byClass[k] = append(byClass[k], v...)
						}
						mu.Unlock()
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(done.Load())/float64(secs), fmt.Sprintf("req/s@%d", n))
				b.ReportMetric(pct(ds, 0.99), fmt.Sprintf("p99-ms@%d", n))
				// Which kind of request makes the tail.
				for k, v := range byClass {
					b.ReportMetric(pct(v, 0.99), fmt.Sprintf("p99-%s-ms@%d", k, n))
				}
				if failed.Load() > 0 {
					b.Errorf("%d clients: %d of %d requests failed, first: %v", n, failed.Load(), done.Load(), firstFail.Load())
				}
				cl.http.CloseIdleConnections()
			}
		})
	}
}

// withBenchParams adds ATIGIP_BENCH_PG_PARAMS (a URL query such as
// "pool_max_conns=16&synchronous_commit=on") to the server's database
// URL: pgtest's URL turns synchronous_commit off, which a production
// database keeps on.
func withBenchParams(b *testing.B, dbURL string) string {
	extra, err := url.ParseQuery(os.Getenv("ATIGIP_BENCH_PG_PARAMS"))
	if err != nil {
		b.Fatalf("ATIGIP_BENCH_PG_PARAMS: %v", err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		b.Fatalf("database URL: %v", err)
	}
	q := u.Query()
	for k, v := range extra {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// mixClass names the kind of a mixed-load request: tiles, search, list
// or matching.
func mixClass(path string) string {
	for _, c := range []struct{ prefix, name string }{
		{"/tiles/", "tiles"}, {"/api/search", "search"}, {"/api/matching/", "matching"},
	} {
		if strings.HasPrefix(path, c.prefix) {
			return c.name
		}
	}
	return "list"
}
