package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
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
	Return string
}

// Session is a signed-in browser, kept server-side; the browser holds
// only its opaque id.
type Session struct {
	ID        string
	Principal atigip.Principal
	// Provider and IDToken serve the provider's logout.
	Provider, IDToken string
}

// Sessions holds browser sessions and pending sign-ins in an
// atigip.SessionStore, with an absolute lifetime and an idle timeout.
// On a shared store (the database) every instance sees a sign-in or a
// sign-out at once and sessions survive restarts: nothing is cached
// here. The store keeps only digests of ids and states.
type Sessions struct {
	// Lifetime bounds a session from sign-in; Idle ends one left unused.
	Lifetime, Idle time.Duration
	store          atigip.SessionStore
	mu             sync.Mutex
	now            func() time.Time
}

const (
	// pendingTTL is how long a user may stay at the provider's sign-in page.
	pendingTTL = 10 * time.Minute
	// TouchEvery is how stale a session's last use may be in the store:
	// a session used continuously is written once a minute, not on every
	// request, so its idle timeout may end it up to a minute early.
	TouchEvery = time.Minute
)

// NewSessions makes sessions kept in store, or in this process's memory
// when store is nil (one instance, lost at restart). Defaults: 8 h
// lifetime, 30 min idle.
func NewSessions(store atigip.SessionStore, lifetime, idle time.Duration) *Sessions {
	if lifetime <= 0 {
		lifetime = 8 * time.Hour
	}
	if idle <= 0 {
		idle = 30 * time.Minute
	}
	if store == nil {
		store = NewMemorySessions()
	}
	return &Sessions{Lifetime: lifetime, Idle: idle, store: store, now: time.Now}
}

// SetClock replaces the clock (tests of expiry).
func (s *Sessions) SetClock(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

func (s *Sessions) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now().UTC().Truncate(time.Microsecond) // what the stores keep
}

// Digest is what the store keeps of a session id or a state: its SHA-256,
// which does not give the id back.
func Digest(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// Begin keeps a pending sign-in under its state.
func (s *Sessions) Begin(ctx context.Context, p Pending) error {
	err := s.store.CreatePending(ctx, atigip.PendingSignIn{Key: Digest(p.State), Provider: p.Provider,
		Nonce: p.Nonce, Verifier: p.Verifier, Return: p.Return, Expires: s.clock().Add(pendingTTL)})
	if err != nil {
		return fmt.Errorf("auth: begin sign-in: %w", err)
	}
	return nil
}

// Take returns and forgets the pending sign-in of state: ENOTFOUND if
// it is unknown, expired or already taken, here or on another instance.
func (s *Sessions) Take(ctx context.Context, state string) (Pending, error) {
	p, err := s.store.TakePending(ctx, Digest(state), s.clock())
	if err != nil {
		return Pending{}, fmt.Errorf("auth: take sign-in: %w", err)
	}
	return Pending{Provider: p.Provider, State: state, Nonce: p.Nonce, Verifier: p.Verifier, Return: p.Return}, nil
}

// Create opens a session for p and returns it with its id, the cookie's
// value.
func (s *Sessions) Create(ctx context.Context, p atigip.Principal, provider, idToken string) (Session, error) {
	now := s.clock()
	ss := Session{ID: RandomID(), Principal: p, Provider: provider, IDToken: idToken}
	err := s.store.CreateSession(ctx, atigip.BrowserSession{Key: Digest(ss.ID), Principal: p, Provider: provider,
		IDToken: sealIDToken(ss.ID, idToken), Created: now, Seen: now})
	if err != nil {
		return Session{}, fmt.Errorf("auth: create session: %w", err)
	}
	return ss, nil
}

// Get returns the live session of id (ENOTFOUND if none) and records its
// use when the last recorded one is older than TouchEvery.
func (s *Sessions) Get(ctx context.Context, id string) (Session, error) {
	b, err := s.live(ctx, id)
	if err != nil {
		return Session{}, err
	}
	idToken, err := openIDToken(id, b.IDToken)
	if err != nil {
		return Session{}, fmt.Errorf("auth: read session: %w", err)
	}
	return Session{ID: id, Principal: b.Principal, Provider: b.Provider, IDToken: idToken}, nil
}

// Principal is Get's principal alone, without opening the ID token: what
// every signed-in request reads.
func (s *Sessions) Principal(ctx context.Context, id string) (atigip.Principal, error) {
	b, err := s.live(ctx, id)
	return b.Principal, err
}

// live reads the live session of id and records its use when the last
// recorded one is older than TouchEvery.
func (s *Sessions) live(ctx context.Context, id string) (atigip.BrowserSession, error) {
	now := s.clock()
	key := Digest(id)
	b, err := s.store.Session(ctx, key, now.Add(-s.Lifetime), now.Add(-s.Idle))
	if err != nil {
		return b, fmt.Errorf("auth: read session: %w", err)
	}
	if now.Sub(b.Seen) >= TouchEvery {
		if err := s.store.TouchSession(ctx, key, now); err != nil {
			return b, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	return b, nil
}

// The provider's ID token is kept sealed with a key derived from the
// session id, which the store does not have: the API accepts ID tokens
// as bearer tokens, so a readable one would let a database reader act as
// the user.
func idTokenAEAD(id string) cipher.AEAD {
	key := sha256.Sum256([]byte("atigip id_token\x00" + id)) // not Digest(id), which the store keeps
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

func sealIDToken(id, idToken string) string {
	if idToken == "" {
		return ""
	}
	aead := idTokenAEAD(id)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(idToken), nil))
}

func openIDToken(id, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	aead := idTokenAEAD(id)
	if err != nil || len(b) < aead.NonceSize() {
		return "", fmt.Errorf("sealed ID token unreadable")
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("sealed ID token: %w", err)
	}
	return string(plain), nil
}

// Delete ends a session, on every instance.
func (s *Sessions) Delete(ctx context.Context, id string) error {
	if err := s.store.DeleteSession(ctx, Digest(id)); err != nil {
		return fmt.Errorf("auth: delete session: %w", err)
	}
	return nil
}

// Prune deletes the sessions past their lifetime or idle timeout and the
// expired pending sign-ins; it returns how many.
func (s *Sessions) Prune(ctx context.Context) (int64, error) {
	now := s.clock()
	n, err := s.store.PruneSessions(ctx, now.Add(-s.Lifetime), now.Add(-s.Idle), now)
	if err != nil {
		return 0, fmt.Errorf("auth: prune sessions: %w", err)
	}
	return n, nil
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
