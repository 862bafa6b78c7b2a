package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	demoseed "github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/internal/seed/seedtest"
	"github.com/atigip/atigip360/internal/store/postgres"
	"github.com/atigip/atigip360/internal/store/postgres/pgtest"
)

// BenchmarkAuditedMatching serves GET /api/matching/posts/:id/candidates
// (one audit entry per person shown) to 128 concurrent clients over real
// connections, on SQLite and PostgreSQL, and reports the throughput
// (req/s), p50/p99 latency and the audit entries written per request.
// ATIGIP_BENCH_SCALE sizes the demo set (default 0.1).
func BenchmarkAuditedMatching(b *testing.B) {
	scale := benchScale(0.1)
	stores := map[string]func(b *testing.B) atigip.Store{
		"sqlite": func(b *testing.B) atigip.Store { return seedtest.Store(b, scale, 7) },
		"postgres": func(b *testing.B) atigip.Store {
			db, err := postgres.Open(context.Background(), pgtest.URL(b))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if _, err := demoseed.Run(context.Background(), db, demoseed.Options{Scale: scale, Seed: 7}); err != nil {
				b.Fatal(err)
			}
			return db
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db := stores[name](b)
			env := newEnv(b, db, func(o *Options) { o.Modules = []Module{&MatchingModule{}} })
			tok := env.token(atigip.Principal{Role: atigip.RoleDSPIP})
			var posts []int64
			err := atigip.Of[*atigip.Post](db).Scan(context.Background(), atigip.ListFilter{Limit: 200}, func(p *atigip.Post) error {
				posts = append(posts, p.ID)
				return nil
			})
			if err != nil || len(posts) == 0 {
				b.Fatalf("posts: %d, %v", len(posts), err)
			}
			path := func(i int) string { return fmt.Sprintf("/api/matching/posts/%d/candidates", posts[i%len(posts)]) }
			if res := env.real("GET", path(0), tok, ""); res.status != 200 { // starts the server, builds the snapshot
				b.Fatalf("warm-up: %d %s", res.status, res.body)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
			auditsBefore := countAudits(b, db)
			const clients = 128
			var (
				mu   sync.Mutex
				durs = make([]time.Duration, 0, b.N)
				next int
				wg   sync.WaitGroup
			)
			b.ResetTimer()
			start := time.Now()
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						mu.Lock()
						i := next
						next++
						mu.Unlock()
						if i >= b.N {
							return
						}
						req, _ := http.NewRequest("GET", env.url+path(i), nil)
						req.Header.Set("Authorization", "Bearer "+tok)
						t0 := time.Now()
						res, err := client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						d := time.Since(t0)
						if res.StatusCode != 200 {
							b.Errorf("status %d", res.StatusCode)
							return
						}
						mu.Lock()
						durs = append(durs, d)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(countAudits(b, db)-auditsBefore)/float64(b.N), "audits/req")
			reportPercentiles(b, durs)
		})
	}
}

// countAudits counts the audit entries of the benchmark's principal.
func countAudits(b *testing.B, db atigip.Store) int {
	as, err := db.Audits(context.Background(), atigip.AuditFilter{Subject: "test:dspip", Limit: 10_000_000})
	if err != nil {
		b.Fatal(err)
	}
	return len(as)
}
