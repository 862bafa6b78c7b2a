package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/auth"
	"github.com/atigip/atigip360/internal/auth/oidctest"
	"github.com/atigip/atigip360/internal/store/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

var testSecret = []byte("test-secret-test-secret-test-secret!")

// syncBuffer collects log output written from request goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testEnv struct {
	t     testing.TB
	srv   *Server
	store atigip.Store
	dev   *auth.DevTokens
	logs  *syncBuffer
	url   string // of the real listener, once started
	// mint signs the tokens of token(); nil: development tokens.
	mint func(atigip.Principal) string
}

// signIns are the ways a test server authenticates, for tests that must
// hold for both: development tokens, and ID tokens of an OpenID Connect
// provider running in process, verified by auth.OIDC as in production.
var signIns = []string{"dev", "oidc"}

// newEnvSignIn is newEnv authenticating as signIn says.
func newEnvSignIn(t testing.TB, signIn string, store atigip.Store, mutate ...func(*Options)) *testEnv {
	t.Helper()
	if signIn == "dev" {
		return newEnv(t, store, mutate...)
	}
	idp := oidctest.Start(t)
	o := idp.Authenticator(t)
	env := newEnv(t, store, append(mutate, func(opts *Options) { opts.Auth = o })...)
	env.mint = func(p atigip.Principal) string { return idp.Token(t, p) }
	return env
}

func newEnv(t testing.TB, store atigip.Store, mutate ...func(*Options)) *testEnv {
	t.Helper()
	dev, err := auth.NewDevTokens(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	opts := Options{Store: store, Auth: dev, DevIssuer: dev, Dev: true, MaxBody: 64 << 10,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Registry: prometheus.NewRegistry()}
	for _, m := range mutate {
		m(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, srv: srv, store: store, dev: dev, logs: logs}
}

func (e *testEnv) token(p atigip.Principal) string {
	e.t.Helper()
	if p.Subject == "" {
		p.Subject = "test:" + string(p.Role)
	}
	if e.mint != nil {
		return e.mint(p)
	}
	tok, err := e.dev.Issue(p, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) problem(t testing.TB) ProblemDetails {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, ContentTypeProblem) {
		t.Fatalf("content type %q, want problem+json; body %s", ct, r.body)
	}
	var p ProblemDetails
	r.json(t, &p)
	return p
}

// do sends a request; token "" means anonymous; body may be a string,
// []byte or any value encoded as JSON.
func (e *testEnv) do(method, target, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, target, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

func (e *testEnv) send(req *http.Request) response {
	e.t.Helper()
	res, err := e.srv.App().Test(req, 10_000)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.read(res)
}

// read consumes and closes the body of res.
func (e *testEnv) read(res *http.Response) response {
	e.t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// seed creates e in the store directly and returns it.
func seed[T atigip.Entity](t testing.TB, s atigip.Store, e T) T {
	t.Helper()
	if err := s.Entities(e.Kind()).Create(t.Context(), e); err != nil {
		t.Fatalf("seed %s: %v", e.Kind(), err)
	}
	return e
}

func sample[T atigip.Entity](k atigip.Kind, i int) T { return storetest.Sample(k, i).(T) }

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// real sends the request over a real TCP connection to a served copy of
// the server (started on first use, stopped at the end of the test).
func (e *testEnv) real(method, target, token, body string) response {
	e.t.Helper()
	e.listen()
	res, err := e.sendReal(method, target, token, body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// listen serves the server on a local port, once.
func (e *testEnv) listen() {
	if e.url != "" {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	e.t.Cleanup(func() { cancel(); <-done })
	e.url = "http://" + ln.Addr().String()
}

// sendReal is real's request, its transport error returned.
func (e *testEnv) sendReal(method, target, token, body string) (response, error) {
	req, err := http.NewRequest(method, e.url+target, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	return e.read(res), nil
}

// refused sends a request whose body the server refuses by its announced
// length: the server answers 413 and closes the connection while the
// client may still be writing, which the client then sees as a broken
// pipe instead of the answer. The request changes nothing, so it is sent
// again on such an error (three times at most).
func (e *testEnv) refused(method, target, token, body string) response {
	e.t.Helper()
	e.listen()
	var err error
	for range 3 {
		var res response
		if res, err = e.sendReal(method, target, token, body); err == nil {
			return res
		}
		if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
			break
		}
	}
	e.t.Fatal(err)
	return response{}
}

func getenv(k string) string { return os.Getenv(k) }

func mustRead(r io.Reader) []byte {
	b, err := io.ReadAll(r)
	if err != nil {
		panic(err)
	}
	return b
}
