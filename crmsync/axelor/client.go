package axelor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// Well-known models.
const (
	ModelPartner         = "com.axelor.apps.base.db.Partner"
	ModelAddress         = "com.axelor.apps.base.db.Address"
	ModelPartnerCategory = "com.axelor.apps.base.db.PartnerCategory"
)

// AuthMode selects how the client authenticates.
type AuthMode int

// Authentication modes.
const (
	// AuthSession logs in with POST /callback (JSON body) and keeps the
	// JSESSIONID cookie and the CSRF token.
	AuthSession AuthMode = iota
	// AuthAPIKey sends "API-KEY: <key>" on every request (AOP 7+).
	AuthAPIKey
	// AuthBasic sends "Authorization: Basic" on every request; the server
	// must have auth.local.basic-auth=direct.
	AuthBasic
)

// Auth holds credentials.
type Auth struct {
	Mode           AuthMode
	User, Password string
	APIKey         string
}

// SessionAuth, APIKeyAuth and BasicAuth build the three credential kinds.
func SessionAuth(user, password string) Auth {
	return Auth{Mode: AuthSession, User: user, Password: password}
}
func APIKeyAuth(key string) Auth { return Auth{Mode: AuthAPIKey, APIKey: key} }
func BasicAuth(user, password string) Auth {
	return Auth{Mode: AuthBasic, User: user, Password: password}
}

// Options configure a Client. Zero values take the defaults noted.
type Options struct {
	// BaseURL includes the servlet context, e.g. https://erp.example.fr/axelor-erp.
	BaseURL string
	Auth    Auth
	// Timeout bounds each attempt (default 30 s).
	Timeout time.Duration
	// RetryMax is the number of retries after the first attempt (default 6).
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff (default 250 ms, 15 s).
	RetryWaitMin, RetryWaitMax time.Duration
	// RetryAfterMax caps a server's Retry-After (default 2 min): a
	// maintenance page asking for an hour must not freeze a sync.
	RetryAfterMax time.Duration
	// BreakerThreshold is the number of consecutive failed attempts that
	// opens the circuit (default 10; negative disables the breaker).
	BreakerThreshold int
	// AppRetryMax is the number of times a call answered {"status":-1}
	// (no conflict, no validation error) is repeated (default 4; negative
	// disables).
	AppRetryMax int
	// BreakerCooldown is how long the circuit stays open (default 30 s).
	BreakerCooldown time.Duration
	// Transport replaces the pooled transport (tests).
	Transport http.RoundTripper
	// Logger receives retry and login events; nil discards them. Only
	// methods, model names and ids are logged, never record contents.
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.RetryMax == 0 {
		o.RetryMax = 6
	}
	if o.RetryMax < 0 {
		o.RetryMax = 0
	}
	if o.RetryWaitMin <= 0 {
		o.RetryWaitMin = 250 * time.Millisecond
	}
	if o.RetryWaitMax <= 0 {
		o.RetryWaitMax = 15 * time.Second
	}
	if o.RetryAfterMax <= 0 {
		o.RetryAfterMax = 2 * time.Minute
	}
	if o.BreakerThreshold == 0 {
		o.BreakerThreshold = 10
	}
	if o.AppRetryMax == 0 {
		o.AppRetryMax = 4
	}
	if o.AppRetryMax < 0 {
		o.AppRetryMax = 0
	}
	if o.BreakerCooldown <= 0 {
		o.BreakerCooldown = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Stats are cumulative counters of a client, for metrics.
type Stats struct {
	Requests     int64 // logical calls
	Attempts     int64 // HTTP attempts, retries included
	Retries      int64 // attempts after the first one of a call
	Logins       int64 // successful logins
	Conflicts    int64 // optimistic-lock failures answered
	BreakerOpens int64 // times the breaker opened
	AppRetries   int64 // calls repeated after a status -1 answer
	Logouts      int64 // sessions closed
	BreakerState BreakerState
}

// Client talks to one Axelor server. It is safe for concurrent use.
type Client struct {
	opts    Options
	base    *url.URL
	rc      *retryablehttp.Client
	jar     http.CookieJar
	breaker *breaker
	log     *slog.Logger

	loginMu  sync.Mutex
	gen      atomic.Int64 // session generation, bumped by each login
	loggedIn atomic.Bool
	csrf     atomic.Value // string

	nRequests, nAttempts, nRetries, nLogins, nConflicts atomic.Int64
	nAppRetries, nLogouts                               atomic.Int64
}

// errBreakerOpen is returned by the transport while the circuit is open.
var errBreakerOpen = errors.New("circuit breaker open")

// New builds a client; it does not contact the server.
func New(opts Options) (*Client, error) {
	opts.defaults()
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, &Error{Code: CodeInvalid, Op: "new client", Message: "URL de base invalide"}
	}
	switch opts.Auth.Mode {
	case AuthSession, AuthBasic:
		if opts.Auth.User == "" {
			return nil, &Error{Code: CodeInvalid, Op: "new client", Message: "utilisateur manquant"}
		}
	case AuthAPIKey:
		if opts.Auth.APIKey == "" {
			return nil, &Error{Code: CodeInvalid, Op: "new client", Message: "clé d'API manquante"}
		}
	default:
		return nil, &Error{Code: CodeInvalid, Op: "new client", Message: "mode d'authentification inconnu"}
	}
	jar, _ := cookiejar.New(nil)
	c := &Client{opts: opts, base: base, jar: jar, log: opts.Logger}
	c.csrf.Store("")
	if opts.BreakerThreshold > 0 {
		c.breaker = newBreaker(opts.BreakerThreshold, opts.BreakerCooldown)
	}
	next := opts.Transport
	if next == nil {
		next = cleanhttp.DefaultPooledTransport()
	}
	hc := &http.Client{
		Transport: &breakerTransport{next: next, b: c.breaker, attempts: &c.nAttempts},
		Jar:       jar,
		Timeout:   opts.Timeout,
		// A redirect means "log in first"; it is never followed so that it
		// can be recognised.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.rc = &retryablehttp.Client{
		HTTPClient:   hc,
		Logger:       nil,
		RetryWaitMin: opts.RetryWaitMin,
		RetryWaitMax: opts.RetryWaitMax,
		RetryMax:     opts.RetryMax,
		CheckRetry:   checkRetry,
		Backoff:      c.backoff,
		ErrorHandler: giveUp,
		RequestLogHook: func(_ retryablehttp.Logger, r *http.Request, i int) {
			if i > 0 {
				c.nRetries.Add(1)
				c.log.Debug("axelor retry", "method", r.Method, "path", r.URL.Path, "retry", i)
			}
		},
	}
	return c, nil
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	st, opens := c.breaker.snapshot()
	return Stats{
		Requests: c.nRequests.Load(), Attempts: c.nAttempts.Load(), Retries: c.nRetries.Load(),
		Logins: c.nLogins.Load(), Conflicts: c.nConflicts.Load(),
		BreakerOpens: int64(opens), BreakerState: st,
		AppRetries: c.nAppRetries.Load(), Logouts: c.nLogouts.Load(),
	}
}

// checkRetry retries network errors, 429 and 5xx (DefaultRetryPolicy) but
// never while the breaker is open.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if err != nil && errors.Is(err, errBreakerOpen) {
		return false, err
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// backoff is exponential with jitter, or the server's Retry-After (seconds
// or HTTP date) on 429/503, capped by RetryAfterMax.
func (c *Client) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, c.opts.RetryAfterMax)
		}
	}
	d := lo
	for i := 0; i < attempt && d < hi; i++ {
		d *= 2
	}
	if d > hi {
		d = hi
	}
	// "Equal jitter": half fixed, half random, so clients never sync up.
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// parseRetryAfter reads "120" or an HTTP date; a date in the past means now.
func parseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(h, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// giveUpError carries the last HTTP status when retries are exhausted.
type giveUpError struct {
	status   int
	attempts int
	err      error
}

func (e *giveUpError) Error() string {
	msg := fmt.Sprintf("giving up after %d attempt(s)", e.attempts)
	if e.status != 0 {
		msg += fmt.Sprintf(", last HTTP status %d", e.status)
	}
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *giveUpError) Unwrap() error { return e.err }

func giveUp(resp *http.Response, err error, n int) (*http.Response, error) {
	status := 0
	if resp != nil {
		status = resp.StatusCode
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}
	return nil, &giveUpError{status: status, attempts: n, err: err}
}

// breakerTransport consults the breaker before each attempt and reports
// its outcome: network errors, 5xx and 429 are failures.
type breakerTransport struct {
	next     http.RoundTripper
	b        *breaker
	attempts *atomic.Int64
}

func (t *breakerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.b.allow() {
		return nil, errBreakerOpen
	}
	t.attempts.Add(1)
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			t.b.release()
		} else {
			t.b.record(false)
		}
		return nil, err
	}
	t.b.record(!(resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests))
	return resp, nil
}

// answer is one HTTP exchange, body fully read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send performs one logical call through the retrying client. The body is
// read inside the retry loop so that a connection reset in the middle of
// the body is retried like any other transport fault.
func (c *Client) send(ctx context.Context, method, path string, body []byte, write bool) (*answer, error) {
	u := c.base.String() + path
	var raw any
	if body != nil {
		raw = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u, raw)
	if err != nil {
		return nil, err
	}
	// Exactly "application/json": the server compares the header with
	// plain string equality to decide that a request is XHR.
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch c.opts.Auth.Mode {
	case AuthAPIKey:
		req.Header.Set("API-KEY", c.opts.Auth.APIKey)
	case AuthBasic:
		req.SetBasicAuth(c.opts.Auth.User, c.opts.Auth.Password)
	case AuthSession:
		// pac4j checks the token on every POST/PUT/DELETE, searches included.
		if tok, _ := c.csrf.Load().(string); method != http.MethodGet && tok != "" {
			req.Header.Set("X-CSRF-Token", tok)
		}
	}
	var a answer
	req.SetResponseHandler(func(resp *http.Response) error {
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("read body: %w", err)
		}
		a = answer{status: resp.StatusCode, header: resp.Header, body: b}
		return nil
	})
	resp, err := c.rc.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if a.header == nil { // handler not called: cannot happen with a nil error, but be safe
		a = answer{status: resp.StatusCode, header: resp.Header}
	}
	return &a, nil
}

// transportError turns a failed send into a coded error.
func transportError(op string, err error) error {
	if errors.Is(err, errBreakerOpen) {
		return &Error{Code: CodeCircuitOpen, Op: op, Err: err}
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("axelor: %s: %w", op, err)
	}
	e := &Error{Code: CodeUnavailable, Op: op, Err: err}
	var g *giveUpError
	if errors.As(err, &g) {
		e.HTTPStatus = g.status
	}
	return e
}

// sessionLost reports the three signs of a missing session.
func sessionLost(a *answer) bool {
	switch {
	case a.status == http.StatusUnauthorized:
		return true
	case a.status >= 300 && a.status < 400:
		return true
	case a.status == http.StatusOK && !isJSON(a.header):
		return true
	}
	return false
}

func isJSON(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// maxRelogins bounds new logins per call: a session that keeps vanishing
// is reported, not chased forever. maxStale bounds the replays of a call
// whose session was replaced by another call's login meanwhile
// (concurrent calls share one session).
const (
	maxRelogins = 5
	maxStale    = 50
)

// envelope is com.axelor.rpc.Response.
type envelope struct {
	Status *int            `json:"status"`
	Offset *int            `json:"offset"`
	Total  *int64          `json:"total"`
	Data   json.RawMessage `json:"data"`
}

// call sends a request and returns the checked envelope: HTTP-level
// errors, lost sessions and status != 0 are all turned into coded errors.
func (c *Client) call(ctx context.Context, op, method, path string, body any, write bool) (*envelope, error) {
	c.nRequests.Add(1)
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, &Error{Code: CodeInvalid, Op: op, Err: err}
		}
	}
	remote := 0   // status -1 answers retried
	relogins := 0 // logins made for this call
	stale := 0    // replays after a login made by another call
	for {
		gen := c.gen.Load()
		if c.opts.Auth.Mode == AuthSession && !c.loggedIn.Load() {
			if err := c.relogin(ctx, gen); err != nil {
				return nil, err
			}
			gen = c.gen.Load()
		}
		a, err := c.send(ctx, method, path, raw, write)
		if err != nil {
			return nil, transportError(op, err)
		}
		if sessionLost(a) || (a.status == http.StatusForbidden && c.opts.Auth.Mode == AuthSession) {
			if c.opts.Auth.Mode != AuthSession {
				return nil, &Error{Code: CodeAuth, Op: op, HTTPStatus: a.status}
			}
			if c.gen.Load() != gen && stale < maxStale {
				// Another call logged in while this request was out (each
				// login renews the session id, AxelorCallbackLogic#
				// renewSession): replay it with the new session, without
				// counting it against this call's own losses.
				stale++
				continue
			}
			if relogins >= maxRelogins || stale >= maxStale {
				return nil, &Error{Code: CodeSessionLost, Op: op, HTTPStatus: a.status}
			}
			c.log.Info("axelor session lost, logging in again", "op", op, "http_status", a.status)
			did, err := c.login(ctx, gen)
			if err != nil {
				return nil, err
			}
			if did {
				relogins++
			} else {
				stale++ // another call's login, in flight when this request left
			}
			continue
		}
		env, err := c.decode(op, a)
		if CodeOf(err) == CodeRemote && remote < c.opts.AppRetryMax {
			// status -1 in an HTTP 200 is how every server-side exception
			// arrives (ResponseInterceptor), transient database errors
			// included: retried here, a bounded number of times, so that
			// one of them never aborts a run. Reads are idempotent and an
			// update replayed with the same version is safe (JPA#_edit
			// compares versions only when a value changes).
			remote++
			c.nAppRetries.Add(1)
			c.log.Debug("axelor status -1, retrying", "op", op, "retry", remote)
			if werr := Sleep(ctx, c.backoff(c.opts.RetryWaitMin, c.opts.RetryWaitMax, remote-1, nil)); werr != nil {
				return nil, err
			}
			continue
		}
		return env, err
	}
}

// Sleep waits d or until ctx ends, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) decode(op string, a *answer) (*envelope, error) {
	if a.status != http.StatusOK {
		return nil, &Error{Code: CodeHTTP, Op: op, HTTPStatus: a.status, Message: http.StatusText(a.status)}
	}
	var env envelope
	if err := json.Unmarshal(a.body, &env); err != nil {
		return nil, &Error{Code: CodeProtocol, Op: op, HTTPStatus: a.status, Err: err}
	}
	if env.Status == nil {
		return nil, &Error{Code: CodeProtocol, Op: op, Message: "réponse sans statut"}
	}
	if *env.Status != 0 {
		e := reportError(op, *env.Status, env.Data)
		if e.Code == CodeConflict {
			c.nConflicts.Add(1)
		}
		return nil, e
	}
	return &env, nil
}

// report is ResponseException#toReport.
type report struct {
	Title      string          `json:"title"`
	Message    string          `json:"message"`
	EntityID   json.Number     `json:"entityId"`
	EntityName string          `json:"entityName"`
	Errors     json.RawMessage `json:"errors"`
}

// reportError classifies a status != 0 answer. The optimistic-lock case is
// recognised by entityId/entityName (stable) or the English title (which
// a French server may translate).
func reportError(op string, status int, data json.RawMessage) *Error {
	var r report
	if len(data) > 0 && data[0] == '{' {
		_ = json.Unmarshal(data, &r)
	}
	e := &Error{Op: op, HTTPStatus: 200, Status: status, Title: r.Title, Message: strings.TrimSpace(r.Message)}
	if id, err := r.EntityID.Int64(); err == nil {
		e.EntityID = id
	}
	switch {
	case r.EntityName != "" || r.EntityID != "" || r.Title == "Concurrent updates error":
		e.Code = CodeConflict
	case status == -4 || r.Title == "Validation error":
		e.Code = CodeValidation
	case status == -7 || status == -5 || status == -6:
		e.Code = CodeAuth
	default:
		e.Code = CodeRemote
	}
	return e
}

// Login opens a session (AuthSession only; a no-op otherwise).
func (c *Client) Login(ctx context.Context) error {
	if c.opts.Auth.Mode != AuthSession {
		return nil
	}
	return c.relogin(ctx, c.gen.Load())
}

// relogin logs in unless another goroutine already did since generation
// seen: a burst of 401s gives one login, not one per request.
func (c *Client) relogin(ctx context.Context, seen int64) error {
	_, err := c.login(ctx, seen)
	return err
}

// login is relogin that also reports whether this call logged in (false:
// another goroutine did since generation seen).
func (c *Client) login(ctx context.Context, seen int64) (bool, error) {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	if c.gen.Load() != seen && c.loggedIn.Load() {
		return false, nil
	}
	return true, c.doLogin(ctx)
}

// doLogin posts the credentials to /callback. c.loginMu is held.
func (c *Client) doLogin(ctx context.Context) error {
	body, _ := json.Marshal(map[string]string{"username": c.opts.Auth.User, "password": c.opts.Auth.Password})
	a, err := c.send(ctx, http.MethodPost, "/callback", body, true)
	if err != nil {
		return transportError("login", err)
	}
	if a.status == http.StatusUnauthorized {
		return &Error{Code: CodeAuth, Op: "login", HTTPStatus: a.status}
	}
	if a.status != http.StatusOK {
		return &Error{Code: CodeHTTP, Op: "login", HTTPStatus: a.status}
	}
	// AxelorCallbackLogic answers an XHR login with 200 "{}" and no
	// Content-Type (pac4j writes the body, sets none; a proxy may label it
	// text/plain): the body is read whatever the label. A login page in a
	// 200 (a proxy that followed a redirect) is not JSON and fails here.
	var ok map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(a.body), &ok) != nil {
		return &Error{Code: CodeProtocol, Op: "login", Message: "réponse de connexion illisible"}
	}
	if _, mfa := ok["route"]; mfa {
		return &Error{Code: CodeAuth, Op: "login", Message: "double authentification exigée pour le compte de synchronisation"}
	}
	tok := a.header.Get("X-CSRF-Token")
	if tok == "" {
		for _, ck := range c.jar.Cookies(c.base) {
			if ck.Name == "CSRF-TOKEN" {
				tok = ck.Value
			}
		}
	}
	c.csrf.Store(tok)
	c.gen.Add(1)
	c.loggedIn.Store(true)
	c.nLogins.Add(1)
	c.log.Info("axelor login ok")
	return nil
}

// Logout closes the session (GET /logout, answered by a redirect once
// the session is destroyed: AxelorLogoutLogic). A failure is returned for
// the logs only: the session expires anyway after session.timeout.
func (c *Client) Logout(ctx context.Context) error {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	if c.opts.Auth.Mode != AuthSession || !c.loggedIn.Load() {
		return nil
	}
	c.loggedIn.Store(false)
	c.csrf.Store("")
	a, err := c.send(ctx, http.MethodGet, "/logout", nil, false)
	if err != nil {
		return transportError("logout", err)
	}
	if a.status >= 400 {
		return &Error{Code: CodeHTTP, Op: "logout", HTTPStatus: a.status}
	}
	c.nLogouts.Add(1)
	return nil
}
