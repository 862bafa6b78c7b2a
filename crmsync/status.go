package crmsync

import (
	"context"
	"errors"
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
	// SyncedUpTo is the CRM time up to which every change is applied.
	SyncedUpTo time.Time `json:"synced_up_to,omitzero"`
	// LagSeconds is now - SyncedUpTo (0 before the first complete pull).
	LagSeconds float64 `json:"lag_seconds"`
	// PendingPushes are write-backs still owed to the CRM.
	PendingPushes int `json:"pending_pushes"`
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
	if st.LastRun != nil {
		lr := *st.LastRun
		st.LastRun = &lr
	}
	s.stMu.Unlock()
	if !st.SyncedUpTo.IsZero() {
		st.LagSeconds = s.now().Sub(st.SyncedUpTo).Seconds()
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
func (s *Syncer) finish(rep Report, err error) {
	end := s.now().UTC()
	rs := &RunStatus{Report: rep, FinishedAt: end, OK: err == nil}
	if err != nil {
		rs.Error = frenchError(err)
	}
	var cur cursor
	cerr := s.store.InTx(context.Background(), func(tx atigip.Tx) error {
		var e error
		cur, e = readCursor(context.Background(), tx, s.cfg.CursorName)
		return e
	})
	s.stMu.Lock()
	s.status.Running = false
	s.status.LastRun = rs
	if err == nil {
		s.status.LastSuccess = end
	}
	if cerr == nil {
		s.status.SyncedUpTo = cur.Done
		s.status.PendingPushes = len(cur.Pending)
	}
	s.stMu.Unlock()
	s.metrics.run(rep, err)
}

func frenchError(err error) string {
	var ae *axelor.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "Synchronisation interrompue ; elle reprendra où elle s'est arrêtée."
	case errors.As(err, &ae):
		return "Synchronisation CRM en échec : " + ae.UserMessage() + "."
	}
	return "Synchronisation CRM en échec : " + atigip.ErrorMessage(err)
}

// Loop runs a sync every Config.Interval and whenever trigger receives,
// until ctx ends. Failed runs are logged and retried at the next tick;
// an interrupted pull resumes from the cursor.
func (s *Syncer) Loop(ctx context.Context, trigger <-chan struct{}) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := s.Run(ctx, RunOptions{}); err != nil && ctx.Err() == nil {
			s.log.Warn("crm sync failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-trigger:
		}
	}
}
