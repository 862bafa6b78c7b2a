package httpapi

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// slowAuditStore counts the audit writes and makes each take a while, as
// a commit does, so that concurrent requests queue behind it.
type slowAuditStore struct {
	atigip.Store
	writes atomic.Int64
	fail   atomic.Bool
}

func (s *slowAuditStore) InTx(ctx context.Context, fn func(atigip.Tx) error) error {
	s.writes.Add(1)
	time.Sleep(5 * time.Millisecond)
	if s.fail.Load() {
		return errors.New("disk full")
	}
	return s.Store.InTx(ctx, fn)
}

// TestAuditGroupCommit: concurrent requests' entries are all recorded,
// in far fewer writes than requests, and each caller returns only once its
// entries are written; a failed write fails every request of its batch.
func TestAuditGroupCommit(t *testing.T) {
	store := &slowAuditStore{Store: newMemStore()}
	l := &auditLog{store: store}
	const callers = 64
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			es := []atigip.AuditEntry{{Subject: "cpip", Role: atigip.RoleCPIP, Action: "match", Kind: atigip.KindPerson, EntityID: int64(2 * i)},
				{Subject: "cpip", Role: atigip.RoleCPIP, Action: "match", Kind: atigip.KindPerson, EntityID: int64(2*i + 1)}}
			if err := l.record(context.Background(), es...); err != nil {
				errs <- err
				return
			}
			// Written before record returned.
			got, _ := store.Audits(context.Background(), atigip.AuditFilter{EntityID: int64(2*i + 1), Limit: 10})
			if len(got) != 1 {
				errs <- errors.New("record returned before its entry was written")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all, _ := store.Audits(context.Background(), atigip.AuditFilter{Limit: 1000})
	if len(all) != 2*callers {
		t.Fatalf("%d entries recorded, want %d", len(all), 2*callers)
	}
	if w := store.writes.Load(); w >= callers/2 {
		t.Errorf("%d writes for %d concurrent callers: no group commit", w, callers)
	}
	t.Logf("%d callers, %d writes", callers, store.writes.Load())

	store.fail.Store(true)
	if err := l.record(context.Background(), atigip.AuditEntry{Subject: "cpip", Action: "read", Kind: atigip.KindPerson, EntityID: 1}); err == nil {
		t.Fatal("a failed audit write was reported written")
	}
	deadline := time.Now().Add(time.Second)
	for {
		l.mu.Lock()
		idle := !l.flushing && len(l.pending) == 0
		l.mu.Unlock()
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer did not stop once the queue was empty")
		}
		time.Sleep(time.Millisecond)
	}
}
