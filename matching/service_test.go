package matching

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/workflow/wftest"
)

// heldStore holds every load of the organisations (the first read of a
// build) until its context ends, and counts them.
type heldStore struct {
	atigip.Store
	loads   atomic.Int32
	started chan struct{} // closed at the first load
}

type heldEntities struct {
	atigip.Entities
	s *heldStore
}

func (h *heldStore) Entities(k atigip.Kind) atigip.Entities {
	if k != atigip.KindOrganisation {
		return h.Store.Entities(k)
	}
	return heldEntities{h.Store.Entities(k), h}
}

func (h heldEntities) Scan(ctx context.Context, _ atigip.ListFilter, _ func(atigip.Entity) error) error {
	if h.s.loads.Add(1) == 1 {
		close(h.s.started)
	}
	<-ctx.Done()
	return ctx.Err()
}

// stops are the two ways a service ends: Close, or the end of the context
// given to Start (serve's), then Close to wait.
var stops = []struct {
	name string
	stop func(svc *Service[int], cancel context.CancelFunc)
}{
	{"close", func(svc *Service[int], _ context.CancelFunc) { svc.Close() }},
	{"server context", func(svc *Service[int], cancel context.CancelFunc) { cancel(); svc.Close() }},
}

// closeWithin fails t when stop does not return: what it waits for was
// not cancelled.
func closeWithin(t *testing.T, svc *Service[int], cancel context.CancelFunc, stop func(*Service[int], context.CancelFunc)) {
	t.Helper()
	closed := make(chan struct{})
	go func() { stop(svc, cancel); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the service does not stop: its goroutines were not cancelled")
	}
}

// TestServiceStopCancelsBuild checks that a build in flight at shutdown
// is cancelled, its goroutine gone once Close returns, the caller waiting
// for it told so, and that no build starts afterwards.
func TestServiceStopCancelsBuild(t *testing.T) {
	for _, tc := range stops {
		t.Run(tc.name, func(t *testing.T) {
			store := &heldStore{Store: wftest.SQLite(t), started: make(chan struct{})}
			wftest.Build(t, store.Store)
			svc := NewService(store, ServiceOptions[int]{})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			svc.Start(ctx)
			<-store.started
			waited := make(chan error, 1)
			go func() { _, err := svc.Snapshot(t.Context()); waited <- err }()
			closeWithin(t, svc, cancel, tc.stop)
			if err := <-waited; !errors.Is(err, context.Canceled) && !errors.Is(err, ErrClosed) {
				t.Fatalf("the waiting caller got %v, want a cancellation", err)
			}
			if _, err := svc.Snapshot(t.Context()); !errors.Is(err, ErrClosed) {
				t.Fatalf("Snapshot after Close: %v, want ErrClosed", err)
			}
			if n := store.loads.Load(); n != 1 {
				t.Fatalf("%d builds, want the cancelled one only", n)
			}
		})
	}
}

// heldAssign replaces Engine.Assign: it tells it started, holds until its
// context ends (or release is closed: it then fails) and tells it
// returned.
type heldAssign struct {
	started, release, returned chan struct{}
}

func newHeldAssign() *heldAssign {
	return &heldAssign{started: make(chan struct{}), release: make(chan struct{}), returned: make(chan struct{})}
}

func (h *heldAssign) assign(_ *Engine, ctx context.Context, _ AssignRequest, _ Progress) (*Result, *Stats, error) {
	defer close(h.returned)
	close(h.started)
	select {
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("matching: assign: %w", ctx.Err())
	case <-h.release:
		return nil, nil, errors.New("matching: assign: released by the test")
	}
}

// TestServiceStopCancelsJob checks that a job running at shutdown is
// cancelled, its goroutine gone once Close returns, its status failed
// with a sentence saying why, and that no job starts afterwards.
func TestServiceStopCancelsJob(t *testing.T) {
	for _, tc := range stops {
		t.Run(tc.name, func(t *testing.T) {
			store := wftest.SQLite(t)
			wftest.Build(t, store)
			svc := NewService(store, ServiceOptions[int]{})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			svc.Start(ctx)
			snap, err := svc.Snapshot(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			held := newHeldAssign()
			svc.assign = held.assign
			st, err := svc.StartJob(snap, AssignRequest{}, "cpip")
			if err != nil {
				t.Fatal(err)
			}
			<-held.started
			closeWithin(t, svc, cancel, tc.stop)
			select {
			case <-held.returned:
			default:
				t.Fatal("the job's goroutine still runs after Close")
			}
			got, ok := svc.Job(st.ID, "cpip")
			if !ok || got.State != JobFailed || got.Error == "" {
				t.Fatalf("job after Close: %+v (found %v), want failed with a reason", got, ok)
			}
			if _, err := svc.StartJob(snap, AssignRequest{}, "cpip"); !errors.Is(err, ErrClosed) {
				t.Fatalf("StartJob after Close: %v, want ErrClosed", err)
			}
		})
	}
}

// waitJob polls job id until it leaves the running state.
func waitJob(t *testing.T, svc *Service[int], id, owner string) JobStatus {
	t.Helper()
	for range 10000 {
		st, ok := svc.Job(id, owner)
		if !ok {
			t.Fatalf("job %s not found", id)
		}
		if st.State != JobRunning {
			return st
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("job %s still running", id)
	return JobStatus{}
}

// TestServiceJobs checks the job table: a job runs to its result with the
// greedy baseline and the snapshot it ran on, only its owner reads it, at
// most maxRunningJobs run at once, and a job pushed out of the table by
// newer ones is cancelled, since nobody can read it any more.
func TestServiceJobs(t *testing.T) {
	store := wftest.SQLite(t)
	w := wftest.Build(t, store)
	svc := NewService(store, ServiceOptions[int]{Scope: func(p *atigip.Person) int { return int(p.PrisonID) },
		Logger: slog.New(slog.DiscardHandler)}) // the released job's failure is logged

	defer svc.Close()
	snap, err := svc.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Facts[w.Detainee.ID]; got != int(w.Prison.ID) {
		t.Fatalf("scope of the detainee %d, want their prison %d", got, w.Prison.ID)
	}
	first := newHeldAssign()
	svc.assign = first.assign
	held, err := svc.StartJob(snap, AssignRequest{}, "cpip")
	if err != nil {
		t.Fatal(err)
	}
	<-first.started
	second := newHeldAssign()
	svc.assign = second.assign
	if _, err := svc.StartJob(snap, AssignRequest{}, "cpip"); err != nil {
		t.Fatal(err)
	}
	<-second.started
	if _, err := svc.StartJob(snap, AssignRequest{}, "cpip"); atigip.ErrorCode(err) != atigip.ECONFLICT {
		t.Fatalf("a third job at once: %v, want a conflict", err)
	}
	// The second ends; the first keeps running while newer jobs fill the
	// table.
	close(second.release)
	<-second.returned
	svc.assign = (*Engine).AssignWithBaseline
	for n := range maxJobs - 2 {
		st, err := svc.StartJob(snap, AssignRequest{}, "cpip")
		if err != nil {
			t.Fatal(err)
		}
		done := waitJob(t, svc, st.ID, "cpip")
		if n == 0 {
			if done.State != JobDone || done.Result == nil || done.Baseline == nil || done.Result.Placed() != 1 ||
				done.Result.PlacedPerson(0) != w.Person.ID || done.Seq != snap.Seq || done.Progress != 1 {
				t.Fatalf("job %+v, want %d placed, with its baseline, at seq %d", done, w.Person.ID, snap.Seq)
			}
			if _, ok := svc.Job(st.ID, "someone else"); ok {
				t.Fatal("another professional reads the job")
			}
		}
	}
	select {
	case <-first.returned:
		t.Fatalf("the oldest job was stopped with %d jobs in the table", maxJobs)
	default:
	}
	if _, err := svc.StartJob(snap, AssignRequest{}, "cpip"); err != nil {
		t.Fatal(err)
	}
	<-first.returned // pushed out by the newest: cancelled
	if _, ok := svc.Job(held.ID, "cpip"); ok {
		t.Fatal("the oldest job is still in the table")
	}
}
