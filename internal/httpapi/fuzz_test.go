package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// fuzzTarget is one store's server, over the same fixture.
type fuzzTarget struct {
	name   string
	env    *testEnv
	store  atigip.Store
	fx     *fixture
	tokens map[atigip.Role]string // made before fuzzing: env.token belongs to f
}

// send is testEnv.send for the fuzz target's t (the env's is f).
func (tg fuzzTarget) send(t *testing.T, req *http.Request) response {
	t.Helper()
	res, err := tg.env.srv.App().Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// writeRoutes are the routes that decode a JSON body: they declare one
// (POST /api/sync/run and /api/procedures/expire read none; the
// development sign-in reads an HTML form).
func writeRoutes(s *Server) []Route {
	var out []Route
	for _, rt := range s.Routes() {
		if (rt.Method == http.MethodPost || rt.Method == http.MethodPut) && rt.Body != nil && !strings.HasPrefix(rt.Path, "/dev/") {
			out = append(out, rt)
		}
	}
	return out
}

// hostileBodies are the seed corpus: every one must be refused (4xx).
var hostileBodies = []string{
	`{"name":"Mairie\u0000de Lyon","title":"a\u0000","to":"proposed\u0000","person_id":1}`,
	"{\"name\":\"Mairie \xff\xfe de Lyon\",\"title\":\"\xc3\x28\"}",
	`{"version":1e400,"person_id":99999999999999999999999999,"places":1e308,"hours":-1e400}`,
	`{"id":-9223372036854775809,"version":18446744073709551616}`,
	strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
	`{"a":` + strings.Repeat(`{"a":`, 10500) + `1` + strings.Repeat("}", 10501),
	`{"schedule":{"slots":[{"day":1e20,"start":"\u0000","end":"99:99"}]}}`,
	"\x00\x00\x00",
	`{"title":"x"}{"title":"y"}`,
	`{"version":1,"version":2,"state":{"$gt":""}}`,
}

// FuzzWriteDecoders sends bodies to every write route of the server with
// every route group, on SQLite and PostgreSQL alike, as a role the route
// admits: no input gets a 5xx, both stores answer the same status, a
// refusal is problem+json and changes nothing (an APPI message excepted:
// it is kept for inspection by design). The seed corpus (hostileBodies on
// every route: NUL, invalid UTF-8, huge numbers, deep nesting) runs in
// go test and must be refused.
func FuzzWriteDecoders(f *testing.F) {
	var targets []fuzzTarget
	for _, name := range []string{"sqlite", "postgres"} {
		store := realStores[name](f)
		env := newEnv(f, store, func(o *Options) { o.Modules = allModules(f, store) })
		tg := fuzzTarget{name, env, store, newFixture(f, store), map[atigip.Role]string{}}
		for _, r := range roleList() {
			tg.tokens[r] = env.token(tg.fx.principalFor(r))
		}
		targets = append(targets, tg)
	}
	routes := writeRoutes(targets[0].env.srv)
	for i := range routes {
		for _, b := range hostileBodies {
			f.Add(uint(i), []byte(b), true)
		}
	}
	f.Fuzz(func(t *testing.T, idx uint, body []byte, seed bool) {
		rt := routes[idx%uint(len(routes))]
		status := make([]int, len(targets))
		for i, tg := range targets {
			before := lastChange(t, tg.store)
			res := tg.send(t, fuzzRequest(tg, rt, body))
			status[i] = res.status
			switch {
			case res.status >= 500:
				t.Fatalf("%s %s on %s: %d %s", rt.Method, rt.Path, tg.name, res.status, res.body)
			case res.status < 400 && seed:
				t.Fatalf("%s %s on %s accepted a hostile body: %d %s", rt.Method, rt.Path, tg.name, res.status, res.body)
			case res.status >= 400:
				res.problem(t)
				if rt.Path != "/api/flows/inbound" && lastChange(t, tg.store) != before {
					t.Fatalf("%s %s on %s: a refused body changed the store", rt.Method, rt.Path, tg.name)
				}
			}
		}
		if len(slices.Compact(slices.Clone(status))) > 1 {
			t.Fatalf("%s %s: the stores answer differently: %v", rt.Method, rt.Path, status)
		}
	})
}

// fuzzRequest is a request to rt with body, as the first role the route
// admits (with the fixture's attachments), or as APPI with its key.
func fuzzRequest(tg fuzzTarget, rt Route, body []byte) *http.Request {
	var role atigip.Role
	if len(rt.Roles) > 0 {
		role = rt.Roles[0]
	}
	path := gatePath(tg.fx, role, rt.Path)
	req := httptest.NewRequest(rt.Method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if role != "" {
		setToken(req, tg.tokens[role])
	}
	if strings.HasPrefix(rt.Path, "/api/flows/") {
		req.Header.Set(HeaderAPIKey, appiKey)
	}
	return req
}

// TestWriteRoutesCovered keeps the fuzz honest: it reaches every write
// route, not only the CRUD ones.
func TestWriteRoutesCovered(t *testing.T) {
	env, _, _, _ := fullEnv(t, nil, nil)
	got := writeRoutes(env.srv)
	var names []string
	for _, rt := range got {
		names = append(names, rt.Method+" "+rt.Path)
	}
	for _, want := range []string{"POST /api/measures", "PUT /api/measures/:id", "POST /api/flows/inbound",
		"POST /api/matching/assignments", "POST /api/procedures/:id/decision", "POST /api/people/:id/transfer"} {
		if !slices.Contains(names, want) {
			t.Errorf("fuzz misses %s", want)
		}
	}
	if len(got) < 30 {
		t.Fatalf("only %d write routes: %v", len(got), fmt.Sprint(names))
	}
}
