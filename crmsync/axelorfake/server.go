package axelorfake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server.
type Options struct {
	// Users maps user names to passwords for /callback (default admin/admin).
	Users map[string]string
	// APIKeys are the accepted API-KEY values.
	APIKeys []string
	// BasicDirect enables auth.local.basic-auth=direct.
	BasicDirect bool
	// SessionTimeout expires sessions after this idle time (default 60 min).
	SessionTimeout time.Duration
	// StrictCSRF checks the CSRF token on every session write, as when a
	// proxy adds an Origin header.
	StrictCSRF bool
	// Location is the server time zone for zone-less date-times (default Europe/Paris).
	Location *time.Location
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	mu   sync.RWMutex
	d    *data

	sessMu   sync.Mutex
	sessions map[string]*session

	faultMu     sync.Mutex
	plan        FaultPlan
	rng         *mrand.Rand
	queue       []Fault
	maintenance atomic.Bool
	edits       []Edit

	stats statsCounters
}

type session struct {
	user       string
	csrf       string
	lastAccess time.Time
}

type statsCounters struct {
	requests, searches, writes, logins atomic.Int64
	logouts                            atomic.Int64
	faults                             [faultCount]atomic.Int64
}

// New returns an empty fake with France, the partner categories and the
// communes of Communes as cities.
func New(opts Options) *Server {
	if opts.Users == nil {
		opts.Users = map[string]string{"admin": "admin"}
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 60 * time.Minute
	}
	if opts.Location == nil {
		loc, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			loc = time.FixedZone("CET", 3600)
		}
		opts.Location = loc
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, d: newData(), sessions: map[string]*session{}, rng: mrand.New(mrand.NewPCG(1, 2))}
	s.initReference()
	return s
}

// now is the server clock (LocalDateTime.now() in AuditListener and
// AuditUpdateListener), stored by PostgreSQL at microsecond precision.
func (s *Server) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// isXHR is AuthPac4jInfo#isXHR: plain string equality on three headers.
func isXHR(r *http.Request) bool {
	return r.Header.Get("X-Requested-With") == "XMLHttpRequest" ||
		r.Header.Get("Accept") == "application/json" ||
		r.Header.Get("Content-Type") == "application/json"
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

func writeAppError(w http.ResponseWriter, e *appError) {
	data := map[string]any{"message": e.message}
	if e.title != "" {
		data["title"] = e.title
	}
	if e.entityName != "" {
		data["entityId"] = e.entityID
		data["entityName"] = e.entityName
		data["causeClass"] = "jakarta.persistence.OptimisticLockException"
	}
	writeJSON(w, map[string]any{"status": e.status, "data": data})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	if s.maintenance.Load() {
		s.stats.faults[FaultMaintenance].Add(1)
		maintenancePage(w)
		return
	}
	f := s.nextFault(r)
	if f != FaultNone {
		s.stats.faults[f].Add(1)
	}
	switch f {
	case Fault500, Fault502:
		code := map[Fault]int{Fault500: 500, Fault502: 502}[f]
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "<html><body><h1>"+strconv.Itoa(code)+"</h1></body></html>")
		return
	case Fault503:
		w.Header().Set("Retry-After", s.retryAfter())
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case Fault429:
		w.Header().Set("Retry-After", s.retryAfter())
		w.WriteHeader(http.StatusTooManyRequests)
		return
	case Fault429Date:
		w.Header().Set("Retry-After", time.Now().Add(time.Second).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
		return
	case FaultMaintenance:
		maintenancePage(w)
		return
	case FaultSlow:
		time.Sleep(s.slowDelay())
	case FaultResetBefore:
		reset(w)
		return
	case FaultResetAfter:
		rec := httptest.NewRecorder()
		s.route(rec, r, FaultNone)
		reset(w)
		return
	case FaultSessionExpiry:
		if ck, err := r.Cookie("JSESSIONID"); err == nil {
			s.sessMu.Lock()
			delete(s.sessions, ck.Value)
			s.sessMu.Unlock()
		}
	case FaultStatusFailure:
		// ResponseInterceptor#onSQLException: a PostgreSQL error outside the
		// mapped SQL states (serialization failure, deadlock, statement
		// timeout…) is reported in an HTTP 200 with status -1.
		writeAppError(w, &appError{status: -1, title: "SQL error", message: "Unexpected database error occurred on the server."})
		return
	case FaultCSRF:
		// AxelorCsrfAuthorizer → pac4j CsrfAuthorizer: a token that does not
		// match (or has expired) gets a bare 403.
		w.WriteHeader(http.StatusForbidden)
		return
	case FaultLoginPage:
		if strings.HasPrefix(r.URL.Path, "/ws/") {
			loginPage(w, http.StatusOK)
			return
		}
	}
	s.route(w, r, f)
}

func maintenancePage(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "30")
	w.Header().Set("X-Show-Error-Page", "true")
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, "<html><body><h1>Maintenance en cours</h1></body></html>")
}

func loginPage(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, "<!DOCTYPE html><html><head><title>Axelor</title></head><body><form id=\"login\"></form></body></html>")
}

// reset closes the connection with an RST, without an answer.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, f Fault) {
	path := r.URL.Path
	switch {
	case path == "/callback" && r.Method == http.MethodPost:
		s.login(w, r)
		return
	case path == "/logout":
		// AxelorLogoutLogic → pac4j DefaultLogoutLogic: the session is
		// destroyed and the answer redirects to the logout URL (the base URL).
		if ck, err := r.Cookie("JSESSIONID"); err == nil {
			s.sessMu.Lock()
			if _, ok := s.sessions[ck.Value]; ok {
				s.stats.logouts.Add(1)
			}
			delete(s.sessions, ck.Value)
			s.sessMu.Unlock()
		}
		http.Redirect(w, r, "/", http.StatusFound)
		return
	case path == "/index.html" || path == "/":
		loginPage(w, http.StatusOK)
		return
	case strings.HasPrefix(path, "/ws/rest/"):
	default:
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	if !s.authenticate(w, r) {
		return
	}
	s.rest(w, r, strings.TrimPrefix(path, "/ws/rest/"), f)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var user, pass string
	if u, p, ok := r.BasicAuth(); ok {
		user, pass = u, p // indirect basic auth
	} else if isXHR(r) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		user, pass = body["username"], body["password"]
	} else {
		_ = r.ParseForm()
		user, pass = r.FormValue("username"), r.FormValue("password")
	}
	want, ok := s.opts.Users[user]
	if !ok || user == "" || want != pass {
		if isXHR(r) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, "/index.html?username="+user+"&error=invalid", http.StatusFound)
		return
	}
	sess := &session{user: user, csrf: newToken(), lastAccess: s.now()}
	id := newToken()
	s.sessMu.Lock()
	// session renewal: the old id (if any) is dropped
	if ck, err := r.Cookie("JSESSIONID"); err == nil {
		delete(s.sessions, ck.Value)
	}
	s.sessions[id] = sess
	s.sessMu.Unlock()
	s.stats.logins.Add(1)
	http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: id, Path: "/", HttpOnly: true})
	http.SetCookie(w, &http.Cookie{Name: "CSRF-TOKEN", Value: sess.csrf, Path: "/"})
	w.Header().Set("X-CSRF-Token", sess.csrf)
	if !isXHR(r) {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	// AxelorCallbackLogic#redirectToOriginallyRequestedUrl answers an XHR
	// login with new OkAction("{}"); pac4j's JEEHttpActionAdapter writes the
	// body and sets no Content-Type. A nil header stops net/http from
	// sniffing one.
	w.Header()["Content-Type"] = nil
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "{}")
}

// authenticate accepts an API key, direct basic auth or a live session
// (with the CSRF check for browser-like writes); otherwise it answers 401
// to XHR and a redirect to the login page to the rest.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	if key := r.Header.Get("API-KEY"); key != "" {
		for _, k := range s.opts.APIKeys {
			if k == key {
				return true
			}
		}
		s.unauthenticated(w, r)
		return false
	}
	if u, p, ok := r.BasicAuth(); ok && s.opts.BasicDirect {
		if want, ok := s.opts.Users[u]; ok && want == p {
			return true
		}
		s.unauthenticated(w, r)
		return false
	}
	ck, err := r.Cookie("JSESSIONID")
	if err != nil {
		s.unauthenticated(w, r)
		return false
	}
	now := s.now()
	s.sessMu.Lock()
	sess := s.sessions[ck.Value]
	if sess != nil && now.Sub(sess.lastAccess) > s.opts.SessionTimeout {
		delete(s.sessions, ck.Value)
		sess = nil
	}
	if sess != nil {
		sess.lastAccess = now
	}
	s.sessMu.Unlock()
	if sess == nil {
		s.unauthenticated(w, r)
		return false
	}
	if r.Method != http.MethodGet && (r.Header.Get("Origin") != "" || s.opts.StrictCSRF) {
		if r.Header.Get("X-CSRF-Token") != sess.csrf {
			w.WriteHeader(http.StatusForbidden)
			return false
		}
	}
	return true
}

func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request) {
	if isXHR(r) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, "/index.html", http.StatusFound)
}

// readBody decodes the request's body; one that cannot be read or decoded
// is answered 400 here, and ok is false.
func readBody(w http.ResponseWriter, r *http.Request) (m map[string]any, ok bool) {
	if m, ok = decodeBody(r); !ok {
		http.Error(w, "Bad Request", http.StatusBadRequest)
	}
	return m, ok
}

// decodeBody decodes a JSON body with numbers kept as json.Number; an
// empty body is an empty request.
func decodeBody(r *http.Request) (map[string]any, bool) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]any{}, true
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, false
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, true
}

func intParam(v any) int {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil && i <= math.MaxInt32 {
			return int(i)
		}
	case string:
		i, _ := strconv.Atoi(x)
		return i
	}
	return 0
}

func (s *Server) rest(w http.ResponseWriter, r *http.Request, rest string, f Fault) {
	parts := strings.Split(rest, "/")
	model := parts[0]
	if _, ok := schemas[model]; !ok {
		// the interceptor's ClassNotFoundException
		writeAppError(w, failf("%s", model))
		return
	}
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		q := r.URL.Query()
		limit, offset := 40, 0
		if v := q.Get("limit"); v != "" {
			limit, _ = strconv.Atoi(v)
		}
		if v := q.Get("offset"); v != "" {
			offset, _ = strconv.Atoi(v)
		}
		s.search(w, model, map[string]any{"limit": json.Number(strconv.Itoa(limit)), "offset": json.Number(strconv.Itoa(offset))})
	case len(parts) == 1 && (r.Method == http.MethodPut || r.Method == http.MethodPost):
		body, ok := readBody(w, r)
		if !ok {
			return
		}
		s.create(w, model, body)
	case len(parts) == 2 && parts[1] == "search" && r.Method == http.MethodPost:
		body, ok := readBody(w, r)
		if !ok {
			return
		}
		s.search(w, model, body)
	case len(parts) >= 2:
		id, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			http.Error(w, "Not Found", http.StatusNotFound)
			return
		}
		switch {
		case len(parts) == 2 && r.Method == http.MethodGet:
			s.read(w, model, id)
		case len(parts) == 3 && parts[2] == "fetch" && r.Method == http.MethodPost:
			body, ok := readBody(w, r)
			if !ok {
				return
			}
			s.fetch(w, model, id, body)
		case len(parts) == 2 && r.Method == http.MethodPost:
			body, ok := readBody(w, r)
			if !ok {
				return
			}
			s.update(w, model, id, body, f)
		case len(parts) == 2 && r.Method == http.MethodDelete:
			s.delete(w, model, id)
		default:
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		}
	default:
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	}
}

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func relatedMap(v any) map[string][]string {
	m, _ := v.(map[string]any)
	out := map[string][]string{}
	for k, x := range m {
		out[k] = stringList(x)
	}
	return out
}

func (s *Server) objects(model string) []any {
	d := s.d
	var out []any
	switch model {
	case mPartner:
		out = make([]any, 0, len(d.order))
		for _, id := range d.order {
			out = append(out, d.partners[id])
		}
	default:
		n := d.nextID[model]
		for id := int64(1); id <= n; id++ {
			if o := d.object(model, id); o != nil {
				out = append(out, o)
			}
		}
	}
	return out
}

// search is Resource#search.
func (s *Server) search(w http.ResponseWriter, model string, body map[string]any) {
	s.stats.searches.Add(1)
	offset, limit := intParam(body["offset"]), intParam(body["limit"])
	fields := stringList(body["fields"])
	c := &compiler{model: model, loc: s.opts.Location}
	dataMap, present := body["data"].(map[string]any)
	p, err := c.compileData(dataMap, present)
	if err != nil {
		writeAppError(w, err.(*appError))
		return
	}
	keys, err := c.compileSort(stringList(body["sortBy"]))
	if err != nil {
		writeAppError(w, err.(*appError))
		return
	}
	if c.swallowed != nil {
		// the query failed while executing, inside Resource#search's try
		writeJSON(w, map[string]any{"status": 0, "offset": offset})
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	all := s.objects(model)
	matched := all[:0:0]
	for _, o := range all {
		if p == nil || p(s.d, o) == tTrue {
			matched = append(matched, o)
		}
	}
	sortObjects(s.d, matched, keys)
	total := len(matched)
	if offset > len(matched) {
		offset = len(matched)
	}
	page := matched[offset:]
	if limit > 0 && len(page) > limit {
		page = page[:limit]
	}
	if limit <= 0 {
		total = len(page) // every row from offset; total is the row count
	}
	rows := make([]any, 0, len(page))
	for _, o := range page {
		if len(fields) > 0 {
			rows = append(rows, s.d.selected(o, fields))
		} else {
			rows = append(rows, s.d.full(o))
		}
	}
	resp := map[string]any{"status": 0, "offset": offset, "total": total}
	if len(rows) > 0 { // @JsonInclude(NON_EMPTY)
		resp["data"] = rows
	}
	writeJSON(w, resp)
}

func (s *Server) read(w http.ResponseWriter, model string, id int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o := s.d.object(model, id)
	if o == nil {
		writeJSON(w, map[string]any{"status": 0})
		return
	}
	writeJSON(w, map[string]any{"status": 0, "data": []any{s.d.full(o)}})
}

func (s *Server) fetch(w http.ResponseWriter, model string, id int64, body map[string]any) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o := s.d.object(model, id)
	if o == nil {
		writeAppError(w, conflict(model, id))
		return
	}
	// Resource#fetch: toMap(entity, fields) then mergeRelated; without
	// fields the whole record. RestService#fetch adds $attachments.
	fields := stringList(body["fields"])
	var m map[string]any
	if len(fields) > 0 {
		m = s.d.toMap(o, fields)
	} else {
		m = s.d.full(o)
	}
	s.d.mergeRelated(o, m, relatedMap(body["related"]))
	m["$attachments"] = 0
	writeJSON(w, map[string]any{"status": 0, "data": []any{m}})
}

func (s *Server) update(w http.ResponseWriter, model string, id int64, body map[string]any, f Fault) {
	dataMap, _ := body["data"].(map[string]any)
	if dataMap == nil {
		writeAppError(w, failf("invalid request"))
		return
	}
	if f == FaultConcurrentEdit {
		s.concurrentEdit(model, id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.writes.Add(1)
	now := s.now()
	var (
		o   any
		err *appError
	)
	switch model {
	case mPartner:
		o, err = s.d.updatePartner(id, dataMap, now)
	case mAddress:
		o, err = s.d.updateAddress(id, dataMap, now)
	default:
		err = failf("The fake does not write %s", model)
	}
	if err != nil {
		writeAppError(w, err)
		return
	}
	var rec map[string]any
	if fields := stringList(body["fields"]); len(fields) > 0 {
		rec = s.d.toMap(o, fields)
	} else {
		rec = s.d.full(o)
	}
	writeJSON(w, map[string]any{"status": 0, "data": []any{rec}})
}

func (s *Server) create(w http.ResponseWriter, model string, body map[string]any) {
	recs, _ := body["records"].([]any)
	dataMap, _ := body["data"].(map[string]any)
	if dataMap == nil && len(recs) == 0 {
		writeAppError(w, failf("invalid request"))
		return
	}
	if model != mPartner {
		writeAppError(w, failf("The fake does not create %s", model))
		return
	}
	if dataMap != nil {
		recs = []any{dataMap}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.writes.Add(1)
	now := s.now()
	out := make([]any, 0, len(recs))
	for _, r := range recs {
		m, _ := r.(map[string]any)
		var (
			p   *partner
			err *appError
		)
		if id, ok := idOf(m["id"]); ok {
			p, err = s.d.updatePartner(id, m, now)
		} else {
			p, err = s.d.createPartner(m, now)
		}
		if err != nil {
			// one transaction: a real server rolls back the records saved
			// before; the fake only writes single records through here.
			writeAppError(w, err)
			return
		}
		out = append(out, s.d.full(p))
	}
	writeJSON(w, map[string]any{"status": 0, "data": out})
}

func (s *Server) delete(w http.ResponseWriter, model string, id int64) {
	if model != mPartner {
		writeAppError(w, failf("The fake does not delete %s", model))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.writes.Add(1)
	p, err := s.d.deletePartner(id)
	if err != nil {
		writeAppError(w, err)
		return
	}
	writeJSON(w, map[string]any{"status": 0, "data": []any{map[string]any{"id": p.ID, "$version": p.Version, "fullName": p.fullName()}}})
}
