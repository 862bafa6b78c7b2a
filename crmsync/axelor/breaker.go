package axelor

import (
	"sync"
	"time"
)

// BreakerState is the state of the circuit breaker.
type BreakerState int

// Breaker states.
const (
	BreakerClosed   BreakerState = iota // calls pass
	BreakerOpen                         // calls fail fast until the cooldown ends
	BreakerHalfOpen                     // one probe call is let through
)

func (s BreakerState) String() string {
	return [...]string{"closed", "open", "half-open"}[s]
}

// breaker counts consecutive failed attempts (network errors, 5xx, 429)
// across all goroutines. After threshold failures it opens for cooldown,
// then lets a single probe through: success closes it, failure reopens it.
// None of the project's chosen libraries provides this, hence the few
// lines here.
type breaker struct {
	mu        sync.Mutex
	threshold int
	cooldown  time.Duration
	now       func() time.Time

	state     BreakerState
	failures  int
	openedAt  time.Time
	probing   bool
	onChange  func(BreakerState)
	openCount int
}

func newBreaker(threshold int, cooldown time.Duration) *breaker {
	return &breaker{threshold: threshold, cooldown: cooldown, now: time.Now}
}

// allow reports whether an attempt may be made now.
func (b *breaker) allow() bool {
	if b == nil || b.threshold <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerOpen:
		if b.now().Sub(b.openedAt) < b.cooldown {
			return false
		}
		b.setState(BreakerHalfOpen)
		b.probing = true
		return true
	case BreakerHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
	return true
}

// record reports the outcome of an attempt allowed by allow.
func (b *breaker) record(ok bool) {
	if b == nil || b.threshold <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if ok {
		b.failures = 0
		b.probing = false
		if b.state != BreakerClosed {
			b.setState(BreakerClosed)
		}
		return
	}
	b.failures++
	if b.state == BreakerHalfOpen || b.failures >= b.threshold {
		b.probing = false
		b.openedAt = b.now()
		if b.state != BreakerOpen {
			b.openCount++
			b.setState(BreakerOpen)
		}
	}
}

func (b *breaker) setState(s BreakerState) {
	b.state = s
	if b.onChange != nil {
		b.onChange(s)
	}
}

func (b *breaker) snapshot() (BreakerState, int) {
	if b == nil {
		return BreakerClosed, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.openCount
}

// release ends an attempt that says nothing about the server (cancelled
// by the caller), freeing the half-open probe slot.
func (b *breaker) release() {
	if b == nil || b.threshold <= 0 {
		return
	}
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}
