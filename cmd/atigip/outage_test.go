package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atigip/atigip360/internal/store/postgres/pgtest"
)

// cutProxy forwards TCP connections to PostgreSQL and can cut them all and
// refuse new ones for a while: what a network cut or a database restart
// does to the instances behind it.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	down   bool
}

func startProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); p.cut(false) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *cutProxy) serve(c net.Conn) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	if down {
		c.Close()
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); s.Close(); c.Close() }()
	_, _ = io.Copy(c, s)
	c.Close()
	s.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	p.mu.Unlock()
}

// cut closes every forwarded connection; with down, new ones are refused
// until cut(false).
func (p *cutProxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	for c := range p.conns {
		c.Close()
	}
}

// proxiedSchema gives a throwaway schema reached through a cutProxy: the
// database URL, the proxy, and the application name its connections
// carry (prefix + schema) so the test can find its own backends.
func proxiedSchema(t *testing.T, prefix string) (dbURL string, p *cutProxy, app string) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	p = startProxy(t, u.Host)
	app = prefix + u.Query().Get("search_path")
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	return u.String(), p, app
}

// TestInstancesRideOutDatabase runs two instances on one PostgreSQL
// schema under write load, terminates every backend of theirs
// (pg_terminate_backend, as a restart or failover does), then cuts the
// network to the database for two seconds. Both instances must stay up,
// answer writes 201 or 503 problem+json with Retry-After, report not
// ready during the cut and ready after it, and in the end every
// acknowledged write reads back on both and each instance's live engines
// (search) see the other's writes.
func TestInstancesRideOutDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("two servers on PostgreSQL")
	}
	dbURL, proxy, app := proxiedSchema(t, "atigip_outage_")
	const secret = "outage-test-secret-0123456789abcdef0123"
	env := map[string]string{
		"ATIGIP_DATABASE_URL": dbURL,
		"ATIGIP_TOKEN_SECRET": secret,
		"ATIGIP_SEED_SCALE":   "0.005",
		"ATIGIP_LOG_LEVEL":    "error",
	}
	bases := []string{startServer(t, env)}
	bases = append(bases, startServer(t, env)) // the store is seeded: this one only follows
	var out, errOut bytes.Buffer
	vars := map[string]string{"ATIGIP_TOKEN_SECRET": secret, "ATIGIP_DATA_DIR": t.TempDir()}
	if err := run(context.Background(), []string{"token", "--role", "referent"}, mapEnv(vars), &out, &errOut); err != nil {
		t.Fatalf("token: %v %s", err, errOut.String())
	}
	tok := strings.TrimSpace(out.String())
	client := &http.Client{Timeout: 10 * time.Second}

	ready := func(base string) int {
		resp, err := client.Get(base + "/readyz")
		if err != nil {
			t.Fatalf("%s/readyz: %v (instance gone?)", base, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitReady := func(what string, want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for _, b := range bases {
			for ready(b) != want {
				if time.Now().After(deadline) {
					t.Fatalf("%s: %s/readyz never answered %d", what, b, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	waitReady("start", 200)

	create := func(base, name string) (int64, int, http.Header, []byte) {
		body := fmt.Sprintf(`{"name":%q,"kind":"association","address":{"departement":"69","commune":"69123"},`+
			`"location":{"lon":4.83,"lat":45.76},"habilitation":{"status":"none"},"active":true}`, name)
		req, _ := http.NewRequest(http.MethodPost, base+"/api/organisations", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("POST %s: %v (instance gone?)", base, err)
			return 0, 0, nil, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var o struct {
			ID int64 `json:"id"`
		}
		_ = json.Unmarshal(b, &o)
		return o.ID, resp.StatusCode, resp.Header, b
	}

	// Write load on both instances.
	type ack struct {
		base string
		id   int64
		name string
	}
	var (
		mu       sync.Mutex
		acked    []ack
		statuses = map[int]int{}
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				base := bases[(w+i)%2]
				name := fmt.Sprintf("Association de charge %d-%d", w, i)
				id, code, hdr, body := create(base, name)
				mu.Lock()
				statuses[code]++
				mu.Unlock()
				switch code {
				case http.StatusCreated:
					mu.Lock()
					acked = append(acked, ack{base, id, name})
					mu.Unlock()
				case http.StatusServiceUnavailable:
					if !strings.HasPrefix(hdr.Get("Content-Type"), "application/problem+json") || hdr.Get("Retry-After") == "" {
						t.Errorf("503 without problem+json and Retry-After: %v %s", hdr, body)
					}
					time.Sleep(50 * time.Millisecond)
				case 0:
					return
				default:
					t.Errorf("write answered %d: %s", code, body)
				}
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	time.Sleep(300 * time.Millisecond)

	// 1. Every backend of both instances is terminated, three times.
	admin, err := pgx.Connect(context.Background(), pgtest.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	for range 3 {
		var n int
		if err := admin.QueryRow(context.Background(),
			`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("no backend of the instances to terminate")
		}
		time.Sleep(300 * time.Millisecond)
	}

	// 2. The database is unreachable for two seconds.
	proxy.cut(true)
	waitReady("during the cut", http.StatusServiceUnavailable)
	_, code, hdr, body := create(bases[0], "Écrite pendant la coupure")
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" ||
		!strings.HasPrefix(hdr.Get("Content-Type"), "application/problem+json") {
		t.Errorf("write during the cut = %d %v %s, want 503 problem+json with Retry-After", code, hdr, body)
	}
	time.Sleep(2 * time.Second)
	mu.Lock()
	before := statuses[http.StatusCreated]
	mu.Unlock()
	proxy.cut(false)
	// Writes succeed again while the engines catch up.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := statuses[http.StatusCreated]
		mu.Unlock()
		if n >= before+20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes did not succeed again within 10 s of the database coming back (%d more)", n-before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	waitReady("after the cut", 200)

	mu.Lock()
	t.Logf("write statuses: %v; %d acknowledged", statuses, len(acked))
	mu.Unlock()
	if statuses[http.StatusCreated] == 0 {
		t.Fatal("no write succeeded")
	}
	// Every acknowledged write reads back, on both instances.
	get := func(path string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for _, a := range acked {
		for _, b := range bases { // both read the same database: this checks the writes, not the engines
			code, body := get(fmt.Sprintf("%s/api/organisations/%d", b, a.id))
			if code != 200 || !bytes.Contains(body, []byte(a.name)) {
				t.Fatalf("acknowledged write %d (%s) on %s: %d %s", a.id, a.name, b, code, body)
			}
		}
	}
	// Each instance's search follows the other's writes again.
	for i, b := range bases {
		word := []string{"Zorglubienne", "Quetzalcoatlienne"}[i]
		if _, code, _, body := create(b, "Association "+word); code != http.StatusCreated {
			t.Fatalf("write after recovery on %s: %d %s", b, code, body)
		}
		other := bases[1-i]
		deadline := time.Now().Add(5 * time.Second)
		for {
			code, body := get(other + "/api/search?q=" + word)
			if code == 200 && bytes.Contains(body, []byte(word)) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's write not found by %s's search within 5 s: %d %s", b, other, code, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestServeWaitsForDatabase: an instance started while PostgreSQL does
// not answer waits for it instead of exiting.
func TestServeWaitsForDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("a server on PostgreSQL")
	}
	dbURL, proxy, _ := proxiedSchema(t, "atigip_wait_")
	proxy.cut(true)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		proxy.cut(false)
	}()
	base := startServer(t, map[string]string{
		"ATIGIP_DATABASE_URL": dbURL,
		"ATIGIP_SEED_SCALE":   "0.005",
		"ATIGIP_LOG_LEVEL":    "error",
	})
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
