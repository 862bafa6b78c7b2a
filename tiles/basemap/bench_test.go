package basemap

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// peakMem samples the process's resident set (VmRSS, which counts the
// mapped node store's pages) and the Go heap every 5 ms until stop.
type peakMem struct {
	mu        sync.Mutex
	rss, heap int64
	stop      chan struct{}
	done      chan struct{}
}

func startPeak() *peakMem {
	p := &peakMem{stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(p.done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			rss := vmRSS()
			p.mu.Lock()
			p.rss = max(p.rss, rss)
			p.heap = max(p.heap, int64(sample[0].Value.Uint64()))
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakMem) end() (rss, heap int64) {
	close(p.stop)
	<-p.done
	return p.rss, p.heap
}

// vmRSS is the process's resident set in bytes (0 off Linux).
func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func benchExtracts(b *testing.B) []string {
	out := []string{bundled}
	for _, in := range sharedExtracts(b) {
		if !strings.Contains(in, "saint-barthelemy") {
			out = append(out, in)
		}
	}
	return out
}

// BenchmarkImport imports each extract (the bundled one and the shared
// ones) and reports nodes/s, ways/s, peak memory (resident set and Go
// heap), archive size and the largest tile of each zoom.
func BenchmarkImport(b *testing.B) {
	for _, in := range benchExtracts(b) {
		b.Run(filepath.Base(in), func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "x.pmtiles")
			var st Stats
			var rss, heap int64
			for b.Loop() {
				pm := startPeak()
				var err error
				st, err = Import(context.Background(), in, out, Options{})
				r, h := pm.end()
				rss, heap = max(rss, r), max(heap, h)
				if err != nil {
					b.Fatal(err)
				}
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(st.Nodes)/sec, "nodes/s")
			b.ReportMetric(float64(st.Ways)/sec, "ways/s")
			// Reading alone (the three passes), what grows with a
			// national extract's node count.
			b.ReportMetric(float64(st.Nodes)/st.Read.Seconds(), "read-nodes/s")
			b.ReportMetric(float64(st.Ways)/st.Read.Seconds(), "read-ways/s")
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(st.Bytes)/1e3, "archive-kB")
			largest := 0
			var per []string
			for z, n := range st.MaxTile {
				largest = max(largest, n)
				per = append(per, fmt.Sprintf("z%d %.1f", z, float64(n)/1e3))
			}
			b.ReportMetric(float64(largest)/1e3, "max-tile-kB")
			b.Logf("%s: %d nodes, %d ways, %d relations, %d features, %d tiles, %d over 100 kB; read %v, tiling %v; largest tile (kB, uncompressed) by zoom: %s",
				filepath.Base(in), st.Nodes, st.Ways, st.Relations, st.Features, st.Tiles, st.Over100K,
				st.Read.Round(time.Millisecond), st.Tiling.Round(time.Millisecond), strings.Join(per, ", "))
		})
	}
}

// tilemakerConfig writes tilemaker's OpenMapTiles example configuration
// (the closest to our layers) without its shapefile layers (ocean, urban
// areas, ice, glaciers: data we do not have) into dir.
func tilemakerConfig(b *testing.B, dir string) (config, process string) {
	const ex = "/usr/share/doc/tilemaker/examples/"
	raw, err := os.ReadFile(ex + "config-openmaptiles.json")
	if err != nil {
		b.Skipf("tilemaker examples not found: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		b.Fatal(err)
	}
	for name, l := range c["layers"].(map[string]any) {
		if _, ok := l.(map[string]any)["source"]; ok {
			delete(c["layers"].(map[string]any), name)
		}
	}
	raw, _ = json.Marshal(c)
	config, process = filepath.Join(dir, "config.json"), filepath.Join(dir, "process.lua")
	lua, err := os.ReadFile(ex + "process-openmaptiles.lua")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(config, raw, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(process, lua, 0o644); err != nil {
		b.Fatal(err)
	}
	return config, process
}

// BenchmarkTilemaker runs tilemaker (Debian package, when installed;
// --skip-integrity, as extracts cut relations at their edge) on
// the same extracts, as PBF (XML ones converted with osmium when it is
// installed), and reports its time, peak memory and output size; it then
// imports the same PBF once with Import and logs the ratios.
func BenchmarkTilemaker(b *testing.B) {
	tm, err := exec.LookPath("tilemaker")
	if err != nil {
		b.Skip("tilemaker not installed (apt-get install tilemaker)")
	}
	dir := b.TempDir()
	config, process := tilemakerConfig(b, dir)
	for _, in := range benchExtracts(b) {
		pbf, err := filepath.Abs(in) // tilemaker runs in dir
		if err != nil {
			b.Fatal(err)
		}
		if !strings.HasSuffix(in, ".pbf") {
			osmium, err := exec.LookPath("osmium")
			if err != nil {
				b.Logf("%s: osmium not installed (apt-get install osmium-tool) to convert it to PBF for tilemaker", in)
				continue
			}
			pbf = filepath.Join(dir, strings.SplitN(filepath.Base(in), ".", 2)[0]+".osm.pbf")
			if out, err := exec.Command(osmium, "cat", "--overwrite", in, "-o", pbf).CombinedOutput(); err != nil {
				b.Fatalf("osmium: %v\n%s", err, out)
			}
		}
		b.Run(filepath.Base(pbf), func(b *testing.B) {
			out := filepath.Join(dir, "tm.mbtiles")
			var rss int64
			for b.Loop() {
				os.Remove(out)
				cmd := exec.Command(tm, "--input", pbf, "--output", out, "--config", config, "--process", process, "--threads", "2", "--skip-integrity")
				cmd.Dir = dir
				if msg, err := cmd.CombinedOutput(); err != nil {
					lines := strings.Split(strings.TrimSpace(string(msg)), "\n")
					b.Skipf("tilemaker fails on %s: %v: %s", filepath.Base(pbf), err, lines[len(lines)-1])
				}
				rss = max(rss, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss<<10)
			}
			tmSec := b.Elapsed().Seconds() / float64(b.N)
			fi, err := os.Stat(out)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
			b.ReportMetric(float64(fi.Size())/1e3, "archive-kB")

			b.StopTimer()
			ours := filepath.Join(dir, "ours.pmtiles")
			pm := startPeak()
			base := vmRSS()
			start := time.Now()
			st, err := Import(context.Background(), pbf, ours, Options{Workers: 2})
			sec := time.Since(start).Seconds()
			ourRSS, _ := pm.end()
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: tilemaker %.2f s, peak RSS %.1f MB, %.1f kB (mbtiles); atigip %.2f s (read %v: %.0f nodes/s, %.0f ways/s; tiling %v: %d features, %d tiles), peak RSS %.1f MB (%.1f MB over the test process's %.1f MB), %.1f kB (pmtiles); ratios atigip/tilemaker: time %.2f, peak RSS %.2f, size %.2f",
				filepath.Base(pbf), tmSec, float64(rss)/(1<<20), float64(fi.Size())/1e3, sec,
				st.Read.Round(time.Millisecond), float64(st.Nodes)/st.Read.Seconds(), float64(st.Ways)/st.Read.Seconds(),
				st.Tiling.Round(time.Millisecond), st.Features, st.Tiles, float64(ourRSS)/(1<<20),
				float64(ourRSS-base)/(1<<20), float64(base)/(1<<20), float64(st.Bytes)/1e3, sec/tmSec, float64(ourRSS)/float64(rss), float64(st.Bytes)/float64(fi.Size()))
			b.StartTimer()
		})
	}
}
