package httpapi

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// TestMetricsLabelsStable: after GET, PUT and DELETE on one route,
// /metrics still answers, with one series per method (issue 10: labels
// taken from Fiber's reused request buffers changed under the registry,
// which then answered 500 for ever, and showed a "POS" method).
func TestMetricsLabelsStable(t *testing.T) {
	store := newMemStore()
	env := newEnv(t, store)
	fx := newFixture(t, store)
	tok := env.token(atigip.Principal{Role: atigip.RoleReferent})
	path := fmt.Sprintf("/api/posts/%d", fx.post.ID)
	for i := 0; i < 3; i++ {
		for _, m := range []string{"GET", "PUT", "DELETE", "POST", "PATCH", "OPTIONS"} {
			env.real(m, path, tok, "{}")
		}
		res := env.real("GET", "/metrics", "", "")
		if res.status != 200 {
			t.Fatalf("round %d: /metrics %d: %s", i, res.status, res.body)
		}
		body := string(res.body)
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			if !strings.Contains(body, fmt.Sprintf(`atigip_http_requests_total{method=%q,route="/api/posts/:id"`, m)) {
				t.Errorf("no %s series:\n%s", m, body)
			}
		}
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "atigip_http_requests_total{") {
				m, _, _ := strings.Cut(strings.TrimPrefix(line, `atigip_http_requests_total{method="`), `"`)
				if !knownMethod(m) {
					t.Errorf("method label %q", m)
				}
			}
		}
	}
}

func knownMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "OTHER":
		return true
	}
	return false
}

// TestMetricsAccess: behind ATIGIP_METRICS_TOKEN the metrics need that
// token (a user's token is not it); off the API they are not there, and
// MetricsHandler serves them on a listener of its own.
func TestMetricsAccess(t *testing.T) {
	const secret = "metrics-token-of-at-least-32-characters"
	store := newMemStore()
	env := newEnv(t, store, func(o *Options) { o.MetricsToken = secret })
	user := env.token(atigip.Principal{Role: atigip.RoleDSPIP})
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"anonymous", "", 401},
		{"a user's token", "Bearer " + user, 401},
		{"another token", "Bearer " + secret + "x", 401},
		{"basic scheme", "Basic " + secret, 401},
		{"the metrics token", "Bearer " + secret, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/metrics", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res := env.send(req)
			if res.status != tc.want {
				t.Fatalf("status %d, want %d: %s", res.status, tc.want, res.body)
			}
			if tc.want == 401 && !strings.HasPrefix(res.header.Get("Content-Type"), ContentTypeProblem) {
				t.Errorf("not a problem: %v", res.header)
			}
			if tc.want == 200 && !strings.Contains(string(res.body), "atigip_http_requests_total") {
				t.Errorf("no metrics: %s", res.body)
			}
		})
	}
	// Users keep signing in on other routes.
	if res := env.do("GET", "/api/people", user, nil); res.status != 200 {
		t.Fatalf("user token elsewhere: %d", res.status)
	}

	off := newEnv(t, store, func(o *Options) { o.NoMetricsRoute = true })
	if res := off.do("GET", "/metrics", "", nil); res.status != 404 {
		t.Fatalf("metrics off the API: %d", res.status)
	}
	off.do("GET", "/healthz", "", nil)
	rec := httptest.NewRecorder()
	off.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `route="/healthz"`) {
		t.Fatalf("separate listener: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	env.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 401 {
		t.Fatalf("separate listener without the token: %d", rec.Code)
	}
}
