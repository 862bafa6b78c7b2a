package auth

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"sync"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// Pending is a sign-in between the redirect to the provider and its
// callback, kept server-side: the callback's state must name it, and it
// is used once.
type Pending struct {
	Provider, State, Nonce, Verifier string
	// Return is the page of this site to come back to.
	Return  string
	expires time.Time
}

// Session is a signed-in browser, kept server-side; the browser holds
// only its opaque id.
type Session struct {
	ID        string
	Principal atigip.Principal
	// Provider and IDToken serve the provider's logout.
	Provider, IDToken string
	created, seen     time.Time
}

// Sessions holds browser sessions and pending sign-ins in memory, with an
// absolute lifetime and an idle timeout. One instance only: a deployment
// of several instances needs sticky sessions (or a shared store).
type Sessions struct {
	// Lifetime bounds a session from sign-in; Idle ends one left unused.
	Lifetime, Idle time.Duration
	now            func() time.Time
	mu             sync.Mutex
	sessions       map[string]*Session
	pending        map[string]Pending
}

// pendingTTL is how long a user may stay at the provider's sign-in page.
const pendingTTL = 10 * time.Minute

// NewSessions makes a session store (defaults: 8 h lifetime, 30 min idle).
func NewSessions(lifetime, idle time.Duration) *Sessions {
	if lifetime <= 0 {
		lifetime = 8 * time.Hour
	}
	if idle <= 0 {
		idle = 30 * time.Minute
	}
	return &Sessions{Lifetime: lifetime, Idle: idle, now: time.Now,
		sessions: map[string]*Session{}, pending: map[string]Pending{}}
}

// SetClock replaces the clock (tests of expiry).
func (s *Sessions) SetClock(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// Begin keeps a pending sign-in under its state.
func (s *Sessions) Begin(p Pending) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.pending { // few entries; dropping stale ones here bounds the map
		if now.After(v.expires) {
			delete(s.pending, k)
		}
	}
	p.expires = now.Add(pendingTTL)
	s.pending[p.State] = p
}

// Take returns and forgets the pending sign-in of state.
func (s *Sessions) Take(state string) (Pending, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[state]
	delete(s.pending, state)
	if !ok || s.now().After(p.expires) {
		return Pending{}, false
	}
	return p, true
}

// Create opens a session for p and returns its id.
func (s *Sessions) Create(p atigip.Principal, provider, idToken string) Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.sessions {
		if s.expired(v, now) {
			delete(s.sessions, k)
		}
	}
	ss := &Session{ID: RandomID(), Principal: p, Provider: provider, IDToken: idToken, created: now, seen: now}
	s.sessions[ss.ID] = ss
	return *ss
}

// Get returns the live session of id and marks it used.
func (s *Sessions) Get(id string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[id]
	if !ok {
		return Session{}, false
	}
	now := s.now()
	if s.expired(ss, now) {
		delete(s.sessions, id)
		return Session{}, false
	}
	ss.seen = now
	return *ss, true
}

// Delete ends a session.
func (s *Sessions) Delete(id string) {
	s.mu.Lock()
	delete(s.sessions, id)
	s.mu.Unlock()
}

func (s *Sessions) expired(ss *Session, now time.Time) bool {
	return now.Sub(ss.created) > s.Lifetime || now.Sub(ss.seen) > s.Idle
}

// RandomID is 256 random bits, URL-safe.
func RandomID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func urlValues(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v.Encode()
}
