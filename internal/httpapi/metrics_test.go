package httpapi

import (
	"fmt"
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
