package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// hub fans a coalesced signal out to subscribers: each has a channel of
// capacity one, so a burst of commits wakes a slow follower once.
type hub struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

func newHub() *hub { return &hub{subs: make(map[chan struct{}]struct{})} }

func (h *hub) subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, ch)
			h.mu.Unlock()
		})
	}
}

func (h *hub) broadcast() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- struct{}{}:
		default: // a signal is already pending
		}
	}
}

// Listener reconnection delays.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// listener holds LISTEN on a dedicated connection (a pooled one would be
// handed to other queries) and relays every notification to the hub.
type listener struct {
	cfg     *pgx.ConnConfig
	channel string
	hub     *hub

	once    sync.Once
	started bool
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	// ready closes when LISTEN first holds; late is set when a Subscribe
	// stopped waiting for it, so that the first session signals too.
	ready     chan struct{}
	readyOnce sync.Once
	late      atomic.Bool

	mu  sync.Mutex
	pid uint32 // backend of the current connection, 0 when down (tests)
}

func newListener(cfg *pgx.ConnConfig, channel string, h *hub) *listener {
	ctx, cancel := context.WithCancel(context.Background())
	return &listener{cfg: cfg.Copy(), channel: channel, hub: h, ctx: ctx, cancel: cancel,
		done: make(chan struct{}), ready: make(chan struct{})}
}

// listenWait bounds how long Subscribe waits for the first LISTEN.
const listenWait = 3 * time.Second

// await waits until LISTEN holds, or listenWait. Waiting makes Subscribe
// exact: every commit after it returns is signalled, with no spurious
// "listener ready" signal. When the database is down it gives up, and the
// listener signals once it gets through, as after any reconnection.
func (l *listener) await() {
	select {
	case <-l.ready:
	case <-time.After(listenWait):
		l.late.Store(true)
		select {
		case <-l.ready:
			// Connected meanwhile, perhaps before late was set: signal, a
			// spare wake-up costs one empty Changes call.
			l.hub.broadcast()
		default:
		}
	}
}

// start runs the listener once; later calls do nothing.
func (l *listener) start() {
	l.once.Do(func() {
		l.started = true
		go l.run()
	})
}

// stop ends the listener and waits for it; it may be called again, and
// keeps a listener never started from starting.
func (l *listener) stop() {
	l.cancel()
	l.once.Do(func() {})
	if l.started { // written inside once.Do, so read safely after it
		<-l.done
	}
}

func (l *listener) run() {
	defer close(l.done)
	backoff := minBackoff
	for l.ctx.Err() == nil {
		listened, _ := l.session() // the cause matters not: always retry
		if l.ctx.Err() != nil {
			return
		}
		if listened {
			backoff = minBackoff
		}
		// Lost or refused: retry, slower each time, until stopped.
		select {
		case <-l.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// session connects, listens and relays until the connection fails. Once
// listening again after a loss it signals: anything committed while no
// connection listened would otherwise go unnoticed until the follower's
// next poll.
func (l *listener) session() (listened bool, err error) {
	conn, err := pgx.ConnectConfig(l.ctx, l.cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		l.setPID(0)
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx) // the connection is being dropped anyway
	}()
	if _, err := conn.Exec(l.ctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
		return false, err
	}
	l.setPID(conn.PgConn().PID())
	first := false
	l.readyOnce.Do(func() {
		first = true
		close(l.ready)
	})
	if !first || l.late.Load() {
		l.hub.broadcast()
	}
	for {
		if _, err := conn.WaitForNotification(l.ctx); err != nil {
			return true, err
		}
		l.hub.broadcast()
	}
}

func (l *listener) setPID(pid uint32) {
	l.mu.Lock()
	l.pid = pid
	l.mu.Unlock()
}

func (l *listener) backendPID() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pid
}
