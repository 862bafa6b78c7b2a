package auth

import (
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// TestSessions: a session ends after its idle timeout or its lifetime,
// whichever comes first; a pending sign-in is taken once, and expires.
func TestSessions(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	s := NewSessions(2*time.Hour, 30*time.Minute)
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
			ss := s.Create(p, "proconnect", "id-token")
			var ok bool
			for _, d := range tt.steps {
				now = now.Add(d)
				_, ok = s.Get(ss.ID)
			}
			if ok != tt.alive {
				t.Fatalf("alive = %v", ok)
			}
			s.Delete(ss.ID)
			if _, ok := s.Get(ss.ID); ok {
				t.Fatal("deleted session still alive")
			}
		})
	}
	s.Begin(Pending{Provider: "proconnect", State: "st"})
	if _, ok := s.Take("st"); !ok {
		t.Fatal("pending sign-in lost")
	}
	if _, ok := s.Take("st"); ok {
		t.Fatal("pending sign-in taken twice")
	}
	s.Begin(Pending{Provider: "proconnect", State: "late"})
	now = now.Add(11 * time.Minute)
	if _, ok := s.Take("late"); ok {
		t.Fatal("expired pending sign-in taken")
	}
}
