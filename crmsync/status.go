package crmsync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/atigip/atigip360/crmsync/axelor"
	"github.com/atigip/atigip360/internal/atigip"
)

// Status is what GET /api/sync/status shows referents.
type Status struct {
	Running bool `json:"running"`
	// LastRun is the latest finished run, nil before the first one.
	LastRun *RunStatus `json:"last_run,omitempty"`
	// LastSuccess is when the latest successful run finished.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// SyncedUpTo is the CRM time (its own updatedOn) up to which every
	// change is applied.
	SyncedUpTo time.Time `json:"synced_up_to,omitzero"`
	// PulledAt is when the last complete pull ended (our clock).
	PulledAt time.Time `json:"pulled_at,omitzero"`
	// LagSeconds is now - PulledAt (0 before the first complete pull):
	// measured on our clock only, so a skewed CRM clock does not distort it.
	LagSeconds float64 `json:"lag_seconds"`
	// PendingPushes are write-backs still owed to the CRM; PendingIDs lists
	// the first of their CRM ids.
	PendingPushes int     `json:"pending_pushes"`
	PendingIDs    []int64 `json:"pending_crm_ids,omitempty"`
	// NextRunAt is when serve runs the next sync (sooner after a failure).
	NextRunAt time.Time `json:"next_run_at,omitzero"`
	// CRM is the state of the connection: "ok", "circuit_open".
	CRM string `json:"crm"`
}

// RunStatus is one finished run.
type RunStatus struct {
	Report
	FinishedAt time.Time `json:"finished_at"`
	OK         bool      `json:"ok"`
	// Error is the French message of the failure, without personal data.
	Error string `json:"error,omitempty"`
}

// Status returns the current state; lag is computed at call time.
func (s *Syncer) Status() Status {
	s.stMu.Lock()
	st := s.status
	st.PendingIDs = slices.Clone(st.PendingIDs)
	if st.LastRun != nil {
		lr := *st.LastRun
		st.LastRun = &lr
	}
	s.stMu.Unlock()
	if !st.PulledAt.IsZero() {
		st.LagSeconds = s.now().Sub(st.PulledAt).Seconds()
	}
	st.CRM = "ok"
	if s.client.Stats().BreakerState != axelor.BreakerClosed {
		st.CRM = "circuit_open"
	}
	return st
}

func (s *Syncer) setRunning(on bool) {
	s.stMu.Lock()
	s.status.Running = on
	s.stMu.Unlock()
}

// finish records a run in the status and the metrics, and reads the
// cursor back so that lag and pending counts reflect what is committed.
// A run that otherwise succeeded but leaves write-backs owed fails with
// an *IncompleteError.
func (s *Syncer) finish(rep *Report, opt RunOptions, err error) error {
	end := s.now().UTC()
	cur, cerr := s.loadCursor(context.Background())
	if cerr == nil && !opt.DryRun {
		rep.Pending = len(cur.Pending)
		rep.PendingIDs = cur.Pending[:min(len(cur.Pending), maxPendingIDs)]
	}
	if err == nil && !opt.DryRun && !opt.NoPush && (rep.Pending > 0 || rep.PushFailed > 0) {
		err = &IncompleteError{Pending: rep.Pending, Failed: rep.PushFailed, IDs: rep.PendingIDs[:min(len(rep.PendingIDs), 10)]}
	}
	rs := &RunStatus{Report: *rep, FinishedAt: end, OK: err == nil}
	if err != nil {
		rs.Error = frenchError(err)
	}
	s.stMu.Lock()
	s.status.Running = false
	s.status.LastRun = rs
	if err == nil {
		s.status.LastSuccess = end
	}
	if cerr == nil {
		s.status.SyncedUpTo = cur.Bound
		s.status.PulledAt = cur.PulledAt
		s.status.PendingPushes = len(cur.Pending)
		s.status.PendingIDs = cur.Pending[:min(len(cur.Pending), maxPendingIDs)]
	}
	s.stMu.Unlock()
	s.metrics.run(*rep, err)
	return err
}

// maxPendingIDs bounds the CRM ids listed in a report and the status.
const maxPendingIDs = 100

// IncompleteError is a run that left write-backs owed to the CRM: they
// stay queued and the next run tries them again.
type IncompleteError struct {
	Pending int     // CRM ids still queued
	Failed  int     // write-backs that failed in this run
	IDs     []int64 // the first pending CRM ids
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("crmsync: synchronisation incomplète : %d écriture(s) vers Axelor en attente, dont %d en échec dans ce passage (partenaires CRM %v)",
		e.Pending, e.Failed, e.IDs)
}

func frenchError(err error) string {
	var ae *axelor.Error
	var ie *IncompleteError
	switch {
	case errors.Is(err, context.Canceled):
		return "Synchronisation interrompue ; elle reprendra où elle s'est arrêtée."
	case errors.As(err, &ie):
		return fmt.Sprintf("Synchronisation CRM incomplète : %d écriture(s) vers le CRM en attente (%d en échec) ; elles seront retentées.", ie.Pending, ie.Failed)
	case errors.As(err, &ae):
		return "Synchronisation CRM en échec : " + ae.UserMessage() + "."
	}
	return "Synchronisation CRM en échec : " + atigip.ErrorMessage(err)
}

// Loop runs a sync every Config.Interval and whenever trigger receives,
// until ctx ends. A failed or incomplete run is retried sooner, after
// Config.RetryBackoff doubled at each consecutive failure (with jitter)
// and capped by the interval; an interrupted pull resumes from the cursor.
func (s *Syncer) Loop(ctx context.Context, trigger <-chan struct{}) error {
	failures := 0
	for {
		wait := s.cfg.Interval
		if _, err := s.Run(ctx, RunOptions{}); err != nil && ctx.Err() == nil {
			failures++
			wait = retryWait(s.cfg.RetryBackoff, s.cfg.Interval, failures)
			s.log.Warn("crm sync failed, retrying sooner", "error", err, "retry_in", wait.String(), "failures", failures)
		} else {
			failures = 0
		}
		s.stMu.Lock()
		s.status.NextRunAt = s.now().UTC().Add(wait)
		s.stMu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		case <-trigger:
			t.Stop()
		}
	}
}

// retryWait is base·2^(failures-1), capped by limit, with ±20 % jitter so
// that instances restarted together do not retry together.
func retryWait(base, limit time.Duration, failures int) time.Duration {
	d := base
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	j := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return max(min(d+j, limit), time.Millisecond)
}
