package httpapi

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/atigip/atigip360/internal/atigip"
)

// gzipBomb is a JSON string of n spaces, gzip-compressed (about n/1000
// bytes).
func gzipBomb(t testing.TB, n int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write([]byte(`{"name":"`))
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for w := 0; w < n; w += len(chunk) {
		zw.Write(chunk)
	}
	zw.Write([]byte(`"}`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCompressedBodyBounded: the body limit holds after decoding (issue
// 10: a 65 KB gzip body under a 64 KiB limit inflated to 64 MiB, 400
// instead of 413 and 640 MiB allocated), for every role that can POST,
// the person role included.
func TestCompressedBodyBounded(t *testing.T) {
	store := newMemStore()
	env := newEnv(t, store) // MaxBody 64 KiB
	fx := newFixture(t, store)
	bomb := gzipBomb(t, 64<<20)
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb of %d bytes is over the limit before decoding", len(bomb))
	}
	person := env.token(atigip.Principal{Role: atigip.RolePerson, PersonID: fx.person.ID})

	send := func(body []byte, encoding string) response {
		req := httptest.NewRequest("POST", "/api/applications", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+person)
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
		}
		return env.send(req)
	}
	send(bomb, "gzip") // warm up pools
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res := send(bomb, "gzip")
	runtime.ReadMemStats(&after)
	if res.status != 413 || res.problem(t).Code != atigip.ETOOLARGE {
		t.Fatalf("gzip bomb: %d %s", res.status, res.body)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("gzip bomb of %d bytes (64 MiB inflated): %d bytes allocated", len(bomb), allocated)
	if allocated > 4<<20 {
		t.Fatalf("%d bytes allocated for a request bounded to 64 KiB", allocated)
	}

	// Each encoding is decoded, within the limit, and reaches the handler
	// as plain JSON (its answer is the handler's, not a decoding error).
	app := fx.fresh(atigip.KindApplication, 9).(*atigip.Application)
	app.PersonID = 0 // not this person's: the handler refuses it
	plain, _ := json.Marshal(app)
	want := send(plain, "").status
	var gz, zl, br bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(plain)
	w.Close()
	z := zlib.NewWriter(&zl)
	z.Write(plain)
	z.Close()
	b := brotli.NewWriter(&br)
	b.Write(plain)
	b.Close()
	var gzbr bytes.Buffer // gzip then br
	b = brotli.NewWriter(&gzbr)
	b.Write(gz.Bytes())
	b.Close()
	for _, tc := range []struct {
		name, encoding string
		body           []byte
		want           int
	}{
		{"gzip", "gzip", gz.Bytes(), want},
		{"deflate", "deflate", zl.Bytes(), want},
		{"brotli", "br", br.Bytes(), want},
		{"gzip then brotli", "gzip, br", gzbr.Bytes(), want},
		{"identity", "identity", plain, want},
		{"unknown encoding", "zstd", plain, 415},
		{"corrupt gzip", "gzip", plain, 400},
		{"deflate bomb", "deflate", zlibOf(bytes.Repeat([]byte("a"), 1<<20)), 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := send(tc.body, tc.encoding)
			if res.status != tc.want {
				t.Fatalf("status %d, want %d: %s", res.status, tc.want, res.body)
			}
			if tc.want >= 400 && !strings.HasPrefix(res.header.Get("Content-Type"), ContentTypeProblem) {
				t.Errorf("not a problem: %s", res.body)
			}
		})
	}
}

func zlibOf(b []byte) []byte {
	var buf bytes.Buffer
	z := zlib.NewWriter(&buf)
	z.Write(b)
	z.Close()
	return buf.Bytes()
}
