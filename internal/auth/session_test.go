package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/store/storetest"
)

// TestSessions: a session ends after its idle timeout or its lifetime,
// whichever comes first; a pending sign-in is taken once, and expires.
func TestSessions(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	s := NewSessions(nil, 2*time.Hour, 30*time.Minute)
	s.SetClock(func() time.Time { return now })
	p := atigip.Principal{Subject: "proconnect:u", Role: atigip.RoleCPIP, Departement: "69"}
	tests := []struct {
		name  string
		steps []time.Duration // time between uses
		alive bool
	}{
		{"used within the idle timeout", []time.Duration{29 * time.Minute}, true},
		{"idle too long", []time.Duration{31 * time.Minute}, false},
		{"kept alive by use until its lifetime", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute}, true},
		{"beyond its lifetime", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss, err := s.Create(ctx, p, "proconnect", "id-token")
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range tt.steps {
				now = now.Add(d)
				_, err = s.Get(ctx, ss.ID)
			}
			if (err == nil) != tt.alive {
				t.Fatalf("alive = %v", err == nil)
			}
			if err != nil && atigip.ErrorCode(err) != atigip.ENOTFOUND {
				t.Fatalf("ended session: %v, want ENOTFOUND", err)
			}
			if err := s.Delete(ctx, ss.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, ss.ID); err == nil {
				t.Fatal("deleted session still alive")
			}
		})
	}
	if err := s.Begin(ctx, Pending{Provider: "proconnect", State: "st", Return: "/x"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Take(ctx, "st"); err != nil || got.Return != "/x" || got.State != "st" {
		t.Fatalf("pending sign-in lost: %+v, %v", got, err)
	}
	if _, err := s.Take(ctx, "st"); err == nil {
		t.Fatal("pending sign-in taken twice")
	}
	if err := s.Begin(ctx, Pending{Provider: "proconnect", State: "late"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(11 * time.Minute)
	if _, err := s.Take(ctx, "late"); err == nil {
		t.Fatal("expired pending sign-in taken")
	}
}

// recorder is a session store that records what reaches it.
type recorder struct {
	*MemorySessions
	keys     []string
	idTokens []string
	touches  int
}

func (r *recorder) CreateSession(ctx context.Context, b atigip.BrowserSession) error {
	r.keys = append(r.keys, b.Key)
	r.idTokens = append(r.idTokens, b.IDToken)
	return r.MemorySessions.CreateSession(ctx, b)
}

func (r *recorder) CreatePending(ctx context.Context, p atigip.PendingSignIn) error {
	r.keys = append(r.keys, p.Key)
	return r.MemorySessions.CreatePending(ctx, p)
}

func (r *recorder) TouchSession(ctx context.Context, key string, seen time.Time) error {
	r.touches++
	return r.MemorySessions.TouchSession(ctx, key, seen)
}

// TestSessionsStoreDigests: the store never sees a session id or a state,
// only their digests, nor the provider's ID token in clear (the API takes
// it as a bearer token), and a session in use is written about once a
// minute, not on every request.
func TestSessionsStoreDigests(t *testing.T) {
	ctx := t.Context()
	rec := &recorder{MemorySessions: NewMemorySessions()}
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	s := NewSessions(rec, 0, 0)
	s.SetClock(func() time.Time { return now })
	const idToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl"
	ss, err := s.Create(ctx, atigip.Principal{Subject: "u", Role: atigip.RoleCPIP}, "proconnect", idToken)
	if err != nil {
		t.Fatal(err)
	}
	if stored := rec.idTokens[0]; stored == "" || strings.Contains(stored, "eyJ") {
		t.Fatalf("ID token stored as %q", stored)
	}
	if got, err := s.Get(ctx, ss.ID); err != nil || got.IDToken != idToken {
		t.Fatalf("ID token read back: %q, %v", got.IDToken, err)
	}
	if err := s.Begin(ctx, Pending{Provider: "proconnect", State: "the-state"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range rec.keys {
		if strings.Contains(k, ss.ID) || strings.Contains(k, "the-state") || len(k) != 64 {
			t.Fatalf("store key %q is not a digest", k)
		}
	}
	for range 120 { // two minutes of a request every second
		now = now.Add(time.Second)
		if _, err := s.Get(ctx, ss.ID); err != nil {
			t.Fatal(err)
		}
	}
	if rec.touches != 2 {
		t.Fatalf("%d writes of the last use in two minutes, want 2", rec.touches)
	}
}

// TestMemorySessions: the memory store passes the stores' session suite.
func TestMemorySessions(t *testing.T) { storetest.Sessions(t, NewMemorySessions()) }
