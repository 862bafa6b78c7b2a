package httpapi

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// Audit log group commit. Every read of personal data must be recorded
// before it is answered (an unrecorded access is not allowed), so a
// request still waits for its entries to be durable; but concurrent
// requests share one write: while one batch is written the next ones
// queue, and the next write takes them all. At 128 clients this replaces
// 128 transactions (and, for a matching list, one per person shown) by a
// few multi-row writes, with nothing lost on a crash: no answer leaves
// before its entries are committed.
const (
	auditMaxBatch = 2000             // entries per write
	auditTimeout  = 10 * time.Second // bound of one write
)

type auditReq struct {
	entries []atigip.AuditEntry
	done    chan error
}

// auditLog batches audit entries into as few store writes as the load
// allows. It holds no goroutine while idle: the request that finds no
// write in progress starts the writer, which ends once the queue is empty.
type auditLog struct {
	store atigip.Store

	mu       sync.Mutex
	pending  []*auditReq
	flushing bool
}

// record writes es, sharing the write with concurrent requests, and
// returns once they are committed.
func (l *auditLog) record(ctx context.Context, es ...atigip.AuditEntry) error {
	if len(es) == 0 {
		return nil
	}
	r := &auditReq{entries: es, done: make(chan error, 1)}
	l.mu.Lock()
	l.pending = append(l.pending, r)
	start := !l.flushing
	l.flushing = true
	l.mu.Unlock()
	if start {
		go l.flush()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		// The entries are still written; the answer is not sent.
		return ctx.Err()
	}
}

// flush writes the queue, batch after batch, until it is empty.
func (l *auditLog) flush() {
	for {
		l.mu.Lock()
		if len(l.pending) == 0 {
			l.flushing = false
			l.mu.Unlock()
			return
		}
		n, size := 0, 0
		for n < len(l.pending) && (n == 0 || size+len(l.pending[n].entries) <= auditMaxBatch) {
			size += len(l.pending[n].entries)
			n++
		}
		batch := l.pending[:n:n]
		l.pending = l.pending[n:]
		l.mu.Unlock()

		entries := make([]atigip.AuditEntry, 0, size)
		for _, r := range batch {
			entries = append(entries, r.entries...)
		}
		err := l.write(entries)
		for _, r := range batch {
			r.done <- err
		}
	}
}

func (l *auditLog) write(es []atigip.AuditEntry) error {
	ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
	defer cancel()
	if b, ok := l.store.(atigip.AuditBatcher); ok {
		return b.AuditMany(ctx, es)
	}
	return l.store.InTx(ctx, func(tx atigip.Tx) error {
		for _, a := range es {
			if err := tx.Audit(ctx, a); err != nil {
				return fmt.Errorf("httpapi: audit batch: %w", err)
			}
		}
		return nil
	})
}
