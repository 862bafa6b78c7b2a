package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// TestTileServingHeaders: a distinct strong ETag per encoding, public
// tiles varying only by encoding and open to other origins (justice tiles
// neither), HEAD answered like GET without a body, and no info log line
// per tile.
func TestTileServingHeaders(t *testing.T) {
	env, _, tilePath := tilesEnv(t)
	magistrate := env.token(atigip.Principal{Role: atigip.RoleMagistrate})
	get := func(method, path, token, encoding, inm string) response {
		req := httptest.NewRequest(method, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		return env.send(req)
	}

	plain := get("GET", tilePath("public"), "", "", "")
	gz := get("GET", tilePath("public"), "", "gzip", "")
	if plain.status != 200 || gz.status != 200 || gz.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("plain %d, gzip %d %q", plain.status, gz.status, gz.header.Get("Content-Encoding"))
	}
	pe, ge := plain.header.Get("ETag"), gz.header.Get("ETag")
	if pe == "" || ge == "" || pe == ge || strings.HasPrefix(pe, "W/") || strings.HasPrefix(ge, "W/") {
		t.Fatalf("ETags plain %q, gzip %q: want two distinct strong ETags", pe, ge)
	}
	if r := get("GET", tilePath("public"), "", "gzip", ge); r.status != 304 {
		t.Errorf("gzip revalidation with the gzip ETag = %d, want 304", r.status)
	}
	if r := get("GET", tilePath("public"), "", "", ge); r.status != 200 {
		t.Errorf("plain request with the gzip ETag = %d, want 200 (another representation)", r.status)
	}

	if v := plain.header.Get("Vary"); v != "Accept-Encoding" {
		t.Errorf("public tile Vary = %q, want Accept-Encoding only (shared caches keep it)", v)
	}
	if o := plain.header.Get("Access-Control-Allow-Origin"); o != "*" {
		t.Errorf("public tile Access-Control-Allow-Origin = %q, want *", o)
	}
	if r := get("GET", "/tiles/public.json", "", "", ""); r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("public TileJSON without CORS")
	}
	just := get("GET", tilePath("justice"), magistrate, "", "")
	if just.status != 200 || !strings.Contains(just.header.Get("Vary"), "Authorization") ||
		just.header.Get("Access-Control-Allow-Origin") != "" || !strings.HasPrefix(just.header.Get("Cache-Control"), "private") {
		t.Errorf("justice tile: %d Vary %q CORS %q Cache-Control %q", just.status, just.header.Get("Vary"),
			just.header.Get("Access-Control-Allow-Origin"), just.header.Get("Cache-Control"))
	}

	head := get("HEAD", tilePath("public"), "", "gzip", "")
	if head.status != 200 || len(head.body) != 0 || head.header.Get("ETag") != ge {
		t.Errorf("HEAD = %d, %d bytes, ETag %q; want 200, no body, %q", head.status, len(head.body), head.header.Get("ETag"), ge)
	}

	logs := env.logs.String()
	if strings.Contains(logs, `"route":"/tiles/:tileset/:z/:x/:y.mvt"`) {
		t.Errorf("tile requests logged at info level:\n%s", logs)
	}
	if r := get("GET", "/healthz", "", "", ""); r.status != 200 || !strings.Contains(env.logs.String(), `"route":"/healthz"`) {
		t.Errorf("other requests are still logged")
	}
}
