package axelorfake

import (
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is one kind of injected failure.
type Fault int

// Faults.
const (
	FaultNone           Fault = iota
	Fault500                  // HTML 500 from a proxy
	Fault502                  // bad gateway
	Fault503                  // 503 with Retry-After in seconds
	Fault429                  // 429 with Retry-After in seconds
	Fault429Date              // 429 with Retry-After as an HTTP date
	FaultSlow                 // answer after FaultPlan.SlowDelay
	FaultResetBefore          // connection reset before the request is processed
	FaultResetAfter           // request processed (write committed), then reset
	FaultSessionExpiry        // the caller's session expires before processing
	FaultLoginPage            // a 200 text/html login page (a proxy that followed the redirect)
	FaultMaintenance          // Axelor's maintenance page: 503, Retry-After: 30, HTML
	FaultConcurrentEdit       // another user edits the record just before an update
	FaultStatusFailure        // HTTP 200 {"status":-1}: a transient database error (ResponseInterceptor)
	FaultCSRF                 // 403 on a session write: the CSRF check refused the token (AxelorCsrfAuthorizer)
	faultCount
)

var faultNames = [...]string{"none", "500", "502", "503", "429", "429-date", "slow", "reset-before",
	"reset-after", "session-expiry", "login-page", "maintenance", "concurrent-edit", "status-1", "csrf"}

func (f Fault) String() string {
	if f >= 0 && f < faultCount {
		return faultNames[f]
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// AllFaults lists every fault kind.
func AllFaults() []Fault {
	out := make([]Fault, 0, faultCount-1)
	for f := Fault500; f < faultCount; f++ {
		out = append(out, f)
	}
	return out
}

// FaultPlan injects faults at random.
type FaultPlan struct {
	// Rate is the probability that a request gets a fault (0 disables).
	Rate float64
	// Rates, when set, replaces Rate and Kinds: each kind gets its own
	// probability per request (their sum must not exceed 1).
	Rates map[Fault]float64
	// Kinds are drawn uniformly (default AllFaults).
	Kinds []Fault
	// SlowDelay is the delay of FaultSlow (default 2 s).
	SlowDelay time.Duration
	// RetryAfter is the Retry-After value of 503/429 (default "1").
	RetryAfter string
	// Seed makes the draw reproducible.
	Seed uint64
}

// Edit is a change made by "another user" through FaultConcurrentEdit.
type Edit struct {
	Model string
	ID    int64
	Field string // "fixedPhone", "partnerAttrs.suiviReferent", "addressL3"
	Value string
}

// SetFaults installs a plan.
func (s *Server) SetFaults(p FaultPlan) {
	if len(p.Kinds) == 0 {
		p.Kinds = AllFaults()
	}
	if p.SlowDelay <= 0 {
		p.SlowDelay = 2 * time.Second
	}
	if p.RetryAfter == "" {
		p.RetryAfter = "1"
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.plan = p
	s.rng = mrand.New(mrand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
}

// InjectNext queues faults for the next /ws requests, in order, before
// the random plan applies.
func (s *Server) InjectNext(f ...Fault) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.queue = append(s.queue, f...)
}

// SetMaintenance switches maintenance mode on or off.
func (s *Server) SetMaintenance(on bool) { s.maintenance.Store(on) }

// ExpireSessions drops every session, as after session.timeout.
func (s *Server) ExpireSessions() {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	clear(s.sessions)
}

func isUpdate(r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/ws/rest/") {
		return false
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/ws/rest/"), "/")
	if len(parts) != 2 {
		return false
	}
	_, err := strconv.ParseInt(parts[1], 10, 64)
	return err == nil
}

func (s *Server) nextFault(r *http.Request) Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if len(s.queue) > 0 && strings.HasPrefix(r.URL.Path, "/ws/") {
		f := s.queue[0]
		s.queue = s.queue[1:]
		if f == FaultConcurrentEdit && !isUpdate(r) {
			return FaultNone
		}
		return f
	}
	f := s.draw()
	ws := strings.HasPrefix(r.URL.Path, "/ws/")
	switch {
	case f == FaultConcurrentEdit && !isUpdate(r):
		return FaultNone
	case (f == FaultSessionExpiry || f == FaultLoginPage || f == FaultStatusFailure) && !ws:
		// only /ws services answer with a Response envelope or need a session
		return FaultNone
	case f == FaultCSRF && (!ws || r.Method == http.MethodGet || r.Header.Get("API-KEY") != "" || r.Header.Get("Authorization") != ""):
		// CsrfAuthorizer checks unsafe methods of session clients only
		return FaultNone
	}
	return f
}

// draw picks the fault of one request from the plan. s.faultMu is held.
func (s *Server) draw() Fault {
	if len(s.plan.Rates) > 0 {
		u := s.rng.Float64()
		for f := Fault500; f < faultCount; f++ {
			p := s.plan.Rates[f]
			if u < p {
				return f
			}
			u -= p
		}
		return FaultNone
	}
	if s.plan.Rate <= 0 || s.rng.Float64() >= s.plan.Rate {
		return FaultNone
	}
	return s.plan.Kinds[s.rng.IntN(len(s.plan.Kinds))]
}

func (s *Server) retryAfter() string {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.plan.RetryAfter == "" {
		return "1"
	}
	return s.plan.RetryAfter
}

func (s *Server) slowDelay() time.Duration {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.plan.SlowDelay <= 0 {
		return 2 * time.Second
	}
	return s.plan.SlowDelay
}

// concurrentEdit is another user saving the record just before the
// caller's update, bumping its version.
func (s *Server) concurrentEdit(model string, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n := s.stats.faults[FaultConcurrentEdit].Load()
	var e Edit
	switch model {
	case mPartner:
		p := s.d.partners[id]
		if p == nil {
			return
		}
		if n%2 == 0 {
			e = Edit{mPartner, id, "fixedPhone", fmt.Sprintf("04 78 %02d %02d %02d", n%100, (n/100)%100, id%100)}
			_, err := s.d.updatePartner(id, map[string]any{"version": json.Number(strconv.FormatInt(p.Version, 10)), "fixedPhone": e.Value}, now)
			if err != nil {
				return
			}
		} else {
			attrs := map[string]any{}
			if p.PartnerAttrs != nil {
				_ = json.Unmarshal([]byte(*p.PartnerAttrs), &attrs)
			}
			e = Edit{mPartner, id, "partnerAttrs.suiviReferent", fmt.Sprintf("relance n°%d", n)}
			attrs["suiviReferent"] = e.Value
			b, _ := json.Marshal(attrs)
			if _, err := s.d.updatePartner(id, map[string]any{"version": json.Number(strconv.FormatInt(p.Version, 10)), "partnerAttrs": string(b)}, now); err != nil {
				return
			}
		}
	case mAddress:
		a := s.d.addresses[id]
		if a == nil {
			return
		}
		e = Edit{mAddress, id, "addressL3", fmt.Sprintf("Bâtiment %d", n)}
		if _, err := s.d.updateAddress(id, map[string]any{"version": json.Number(strconv.FormatInt(a.Version, 10)), "addressL3": e.Value}, now); err != nil {
			return
		}
	default:
		return
	}
	s.edits = append(s.edits, e)
}

// ConcurrentEdits returns the edits made by "another user", in order.
func (s *Server) ConcurrentEdits() []Edit {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Edit(nil), s.edits...)
}

// Stats are request counters.
type Stats struct {
	Requests, Searches, Writes, Logins int64
	// Logouts counts sessions closed by GET /logout; Sessions is the
	// number of sessions still open.
	Logouts, Sessions int64
	Faults            map[Fault]int64
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	st := Stats{Requests: s.stats.requests.Load(), Searches: s.stats.searches.Load(),
		Writes: s.stats.writes.Load(), Logins: s.stats.logins.Load(), Logouts: s.stats.logouts.Load(),
		Faults: map[Fault]int64{}}
	s.sessMu.Lock()
	st.Sessions = int64(len(s.sessions))
	s.sessMu.Unlock()
	for f := Fault500; f < faultCount; f++ {
		if n := s.stats.faults[f].Load(); n > 0 {
			st.Faults[f] = n
		}
	}
	return st
}
