package axelor

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 120 * time.Second, true},
		{"0", 0, true},
		{"-5", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{"Wednesday, 04-Mar-26 10:00:45 GMT", 45 * time.Second, true}, // RFC 850
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("got %v %v, want %v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	c := &Client{opts: Options{RetryAfterMax: 10 * time.Second}}
	lo, hi := 100*time.Millisecond, 2*time.Second
	for attempt := 0; attempt < 8; attempt++ {
		base := lo << attempt
		if base > hi {
			base = hi
		}
		seen := map[time.Duration]bool{}
		for i := 0; i < 50; i++ {
			d := c.backoff(lo, hi, attempt, nil)
			if d < base/2 || d > base {
				t.Fatalf("attempt %d: %v outside [%v,%v]", attempt, d, base/2, base)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Fatalf("attempt %d: no jitter", attempt)
		}
	}
	for _, code := range []int{429, 503} {
		resp := &http.Response{StatusCode: code, Header: http.Header{"Retry-After": {"3"}}}
		if d := c.backoff(lo, hi, 0, resp); d != 3*time.Second {
			t.Fatalf("%d Retry-After: %v", code, d)
		}
		resp.Header.Set("Retry-After", "3600")
		if d := c.backoff(lo, hi, 0, resp); d != 10*time.Second {
			t.Fatalf("%d capped Retry-After: %v", code, d)
		}
	}
	// Retry-After on a 500 is not a rate limit: plain backoff
	resp := &http.Response{StatusCode: 500, Header: http.Header{"Retry-After": {"3"}}}
	if d := c.backoff(lo, hi, 0, resp); d > lo {
		t.Fatalf("500: %v", d)
	}
}

func TestBreakerStates(t *testing.T) {
	now := time.Unix(0, 0)
	b := newBreaker(2, time.Minute)
	b.now = func() time.Time { return now }
	if !b.allow() {
		t.Fatal("closed breaker refused")
	}
	b.record(false)
	b.record(true) // success resets the count
	b.record(false)
	if st, _ := b.snapshot(); st != BreakerClosed {
		t.Fatal("opened after non-consecutive failures")
	}
	b.record(false)
	if st, _ := b.snapshot(); st != BreakerOpen || b.allow() {
		t.Fatal("not open after 2 consecutive failures")
	}
	now = now.Add(time.Minute)
	if !b.allow() {
		t.Fatal("no probe after cooldown")
	}
	if b.allow() {
		t.Fatal("second probe let through while half-open")
	}
	b.record(false)
	if st, opens := b.snapshot(); st != BreakerOpen || opens != 2 {
		t.Fatalf("failed probe: %v %d", st, opens)
	}
	now = now.Add(time.Minute)
	b.allow()
	b.release() // cancelled probe frees the slot
	if !b.allow() {
		t.Fatal("slot not released")
	}
	b.record(true)
	if st, _ := b.snapshot(); st != BreakerClosed {
		t.Fatal("probe success did not close")
	}
}

func TestCriteriaJSON(t *testing.T) {
	r := SearchRequest{Limit: 10, Criteria: &Criterion{Field: "name", Op: "like", Value: "mairie"}}
	b, err := r.body()
	if err != nil {
		t.Fatal(err)
	}
	data := b["data"].(map[string]any)
	if data["operator"] != "and" || data["_archived"] != false {
		t.Fatalf("root not explicit: %v", data)
	}
	if _, err := (SearchRequest{Limit: 1, Criteria: &Criterion{Field: "x"}}).body(); err == nil {
		t.Fatal("criterion without operator accepted")
	}
}
