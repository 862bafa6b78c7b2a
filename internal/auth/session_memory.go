package auth

import (
	"context"
	"sync"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// MemorySessions is an atigip.SessionStore in this process's memory, for
// stores that keep no sessions (tests): one instance only, emptied by a
// restart.
type MemorySessions struct {
	mu       sync.Mutex
	sessions map[string]atigip.BrowserSession
	pending  map[string]atigip.PendingSignIn
}

var _ atigip.SessionStore = (*MemorySessions)(nil)

// NewMemorySessions returns an empty memory session store.
func NewMemorySessions() *MemorySessions {
	return &MemorySessions{sessions: map[string]atigip.BrowserSession{}, pending: map[string]atigip.PendingSignIn{}}
}

// insert adds v under key unless the key is taken (ECONFLICT).
func insert[V any](mu *sync.Mutex, m map[string]V, key string, v V) error {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := m[key]; dup {
		return atigip.Errorf(atigip.ECONFLICT, "Session déjà ouverte.")
	}
	m[key] = v
	return nil
}

// CreateSession implements atigip.SessionStore.
func (m *MemorySessions) CreateSession(_ context.Context, s atigip.BrowserSession) error {
	return insert(&m.mu, m.sessions, s.Key, s)
}

// Session implements atigip.SessionStore.
func (m *MemorySessions) Session(_ context.Context, key string, createdAfter, seenAfter time.Time) (atigip.BrowserSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[key]
	if !ok || !s.Created.After(createdAfter) || !s.Seen.After(seenAfter) {
		return atigip.BrowserSession{}, atigip.SessionGone()
	}
	return s, nil
}

// TouchSession implements atigip.SessionStore.
func (m *MemorySessions) TouchSession(_ context.Context, key string, seen time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sessions[key]; ok && s.Seen.Before(seen) {
		s.Seen = seen
		m.sessions[key] = s
	}
	return nil
}

// DeleteSession implements atigip.SessionStore.
func (m *MemorySessions) DeleteSession(_ context.Context, key string) error {
	m.mu.Lock()
	delete(m.sessions, key)
	m.mu.Unlock()
	return nil
}

// CreatePending implements atigip.SessionStore.
func (m *MemorySessions) CreatePending(_ context.Context, p atigip.PendingSignIn) error {
	return insert(&m.mu, m.pending, p.Key, p)
}

// TakePending implements atigip.SessionStore.
func (m *MemorySessions) TakePending(_ context.Context, key string, now time.Time) (atigip.PendingSignIn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pending[key]
	delete(m.pending, key)
	if !ok || !p.Expires.After(now) {
		return atigip.PendingSignIn{}, atigip.SessionGone()
	}
	return p, nil
}

// PruneSessions implements atigip.SessionStore.
func (m *MemorySessions) PruneSessions(_ context.Context, createdBefore, seenBefore, now time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for k, s := range m.sessions {
		if s.Created.Before(createdBefore) || s.Seen.Before(seenBefore) {
			delete(m.sessions, k)
			n++
		}
	}
	for k, p := range m.pending {
		if !p.Expires.After(now) {
			delete(m.pending, k)
			n++
		}
	}
	return n, nil
}
