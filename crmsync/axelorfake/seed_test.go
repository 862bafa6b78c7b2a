package axelorfake

import (
	"testing"
	"time"
)

// TestSeedIndependentOfClock checks that the clock only moves the dates:
// the same seed gives the same partners whatever the time.
func TestSeedIndependentOfClock(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 13, 0, 0, 0, time.UTC)
	var want []PartnerView
	for i := 0; i < 300; i++ {
		now := t0.Add(time.Duration(i) * 997 * time.Millisecond)
		s := New(Options{Now: func() time.Time { return now }})
		s.Seed(100, 1)
		got := s.Partners()
		if want == nil {
			want = got
			continue
		}
		if len(got) != len(want) {
			t.Fatalf("at %v: %d partners, want %d", now, len(got), len(want))
		}
		for j := range got {
			g, w := got[j], want[j]
			if g.Name != w.Name || g.IsContact != w.IsContact || g.RegistrationCode != w.RegistrationCode ||
				g.Email != w.Email || g.Zip != w.Zip || g.Archived != w.Archived || (g.UpdatedOn == nil) != (w.UpdatedOn == nil) {
				t.Fatalf("at %v, partner %d: %+v, want %+v", now, j, g, w)
			}
		}
	}
}
