package crmsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/atigip/atigip360/crmsync/axelor"
	"github.com/atigip/atigip360/internal/atigip"
)

// pushPasses is how many times a run goes over the write-backs that
// failed: a partner that failed through a burst of faults is tried again
// before the run gives up on it and reports it pending.
const pushPasses = 3

// push writes back what is owed to every pending partner. An id leaves
// the queue only once the CRM holds our values.
func (s *Syncer) push(ctx context.Context, opt RunOptions, rep *Report, openPosts map[int64]int) error {
	var cur cursor
	err := s.store.InTx(ctx, func(tx atigip.Tx) error {
		var err error
		if cur, err = readCursor(ctx, tx, s.cfg.CursorName); err != nil {
			return err
		}
		if err := s.localChanges(ctx, tx, &cur, openPosts); err != nil {
			return err
		}
		if opt.DryRun {
			return nil
		}
		return writeCursor(ctx, tx, s.cfg.CursorName, cur)
	})
	if err != nil {
		return fmt.Errorf("crmsync: push queue: %w", err)
	}
	pending := slices.Clone(cur.Pending)
	if opt.DryRun {
		// the dry pull did not store its queue: recompute it from the report
		for _, p := range rep.Planned {
			pending = append(pending, p.CRMID)
		}
	}
	slices.Sort(pending)
	pending = slices.Compact(pending)
	if len(pending) == 0 {
		return nil
	}
	s.metrics.pending.Set(float64(len(pending)))
	s.log.Info("crm push start", "pending", len(pending))

	done := map[int64]bool{}
	var firstErr error
	var n int64
	total := int64(len(pending))
	save := func() error {
		if opt.DryRun || len(done) == 0 {
			return nil
		}
		// a fresh context: progress made before a cancellation is kept
		return s.store.InTx(context.WithoutCancel(ctx), func(tx atigip.Tx) error {
			c, err := readCursor(ctx, tx, s.cfg.CursorName)
			if err != nil {
				return err
			}
			c.Pending = slices.DeleteFunc(c.Pending, func(id int64) bool { return done[id] })
			return writeCursor(ctx, tx, s.cfg.CursorName, c)
		})
	}
	todo := pending
	failed := map[int64]error{}
	for pass := 0; pass < pushPasses && len(todo) > 0 && firstErr == nil; pass++ {
		if pass > 0 {
			// a pause before going over the failures again
			if err := axelor.Sleep(ctx, time.Duration(pass)*s.cfg.RetryWaitMax); err != nil {
				break
			}
		}
		var again []int64
		for r := range s.pushAll(ctx, todo, openPosts, opt.DryRun) {
			rep.Conflicts += r.conflicts
			rep.Planned = append(rep.Planned, r.planned...)
			s.metrics.pushes.WithLabelValues("conflict").Add(float64(r.conflicts))
			switch {
			case r.err == nil:
				n++
				rep.Pushed += r.pushed
				done[r.crmID] = true
				delete(failed, r.crmID)
				if r.pushed > 0 {
					s.metrics.pushes.WithLabelValues("ok").Add(float64(r.pushed))
				}
				if opt.Progress != nil {
					opt.Progress(Progress{Phase: "push", Done: n, Total: total})
				}
			case errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded):
				if firstErr == nil {
					firstErr = r.err
				}
			default:
				failed[r.crmID] = r.err
				again = append(again, r.crmID)
				if firstErr == nil && errors.Is(r.err, axelor.ErrCircuitOpen) {
					firstErr = r.err
				}
			}
			if len(done)%50 == 0 {
				if err := save(); err != nil && firstErr == nil {
					firstErr = err
				}
			}
		}
		slices.Sort(again)
		todo = again
	}
	if err := save(); err != nil && firstErr == nil {
		firstErr = err
	}
	for _, id := range mapKeys(failed) {
		rep.PushFailed++
		s.metrics.pushes.WithLabelValues("failed").Inc()
		rep.addError(fmt.Sprintf("écriture vers le partenaire CRM %d impossible : %s", id, userMessage(failed[id])))
	}
	s.metrics.pending.Set(float64(int(total) - len(done)))
	s.log.Info("crm push done", "pushed", rep.Pushed, "conflicts", rep.Conflicts, "failed", rep.PushFailed)
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return fmt.Errorf("crmsync: push: %w", firstErr)
	}
	return nil
}

type pushResult struct {
	crmID     int64
	pushed    int
	conflicts int
	planned   []Planned
	err       error
}

// pushAll runs pushOne over ids with Config.PushWorkers workers.
func (s *Syncer) pushAll(ctx context.Context, ids []int64, openPosts map[int64]int, dry bool) <-chan pushResult {
	jobs := make(chan int64)
	results := make(chan pushResult)
	var wg sync.WaitGroup
	for w := 0; w < s.cfg.PushWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				r := pushResult{crmID: id}
				r.pushed, r.conflicts, r.planned, r.err = s.pushOne(ctx, id, openPosts, dry)
				results <- r
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, id := range ids {
			select {
			case jobs <- id:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	return results
}

func userMessage(err error) string {
	var e *axelor.Error
	if errors.As(err, &e) {
		return e.UserMessage()
	}
	return atigip.ErrorMessage(err)
}

// pushOne brings the CRM partner crmID up to date with what it is owed:
// the fields of ours decided here since the last agreement, and
// coordinates the CRM lacks. On a version conflict it re-reads the
// partner and re-applies only what is owed onto the fresh values, so the
// referent's edit is kept.
func (s *Syncer) pushOne(ctx context.Context, crmID int64, openPosts map[int64]int, dry bool) (pushed, conflicts int, planned []Planned, err error) {
	found, _, err := atigip.Of[*atigip.Organisation](s.store).List(ctx,
		atigip.ListFilter{Ref: "crm:" + strconv.FormatInt(crmID, 10), Limit: 1})
	if err != nil {
		return 0, 0, nil, err
	}
	var o *atigip.Organisation
	if len(found) > 0 {
		o = found[0]
	} else if !dry {
		return 0, 0, nil, nil // not (or no longer) ours
	} else {
		o = &atigip.Organisation{Habilitation: atigip.Habilitation{Status: atigip.HabNone}}
	}
	base, err := readProvenance(ctx, s.store, s.cfg.CursorName, crmID)
	if err != nil {
		return 0, 0, nil, err
	}
	local := localOwned(o, openPosts[o.ID])
	attrsDone, coordsDone := false, false
	var agreed provenance
	adopt := false
	for attempt := 0; attempt <= s.cfg.ConflictRetries; attempt++ {
		rec, err := s.client.Fetch(ctx, axelor.ModelPartner, crmID, partnerFields, nil)
		if errors.Is(err, axelor.ErrNotFound) {
			return pushed, conflicts, planned, nil // deleted in the CRM meanwhile
		}
		if err != nil {
			return pushed, conflicts, planned, err
		}
		p, err := ParsePartner(rec)
		if err != nil {
			return pushed, conflicts, planned, err
		}
		if !attrsDone {
			crm := crmOwned(p.Attrs)
			var want owned
			want, adopt, agreed = merge(base, local, crm)
			switch {
			case want == crm:
				attrsDone = true
			case p.RawAttrs != "" && p.Attrs == nil:
				// never overwrite a referent's JSON we cannot read
				return pushed, conflicts, planned, &axelor.Error{Code: axelor.CodeValidation,
					Op: fmt.Sprintf("push partner %d", crmID), Message: "partnerAttrs illisible"}
			case dry:
				planned = append(planned, Planned{CRMID: crmID, Action: "push_attrs", Fields: []string{"partnerAttrs"}})
				attrsDone = true
			default:
				_, err := s.client.Update(ctx, axelor.ModelPartner, crmID, p.Version,
					map[string]any{"partnerAttrs": ownedAttrs(p.Attrs, crm, want)})
				if errors.Is(err, axelor.ErrConflict) {
					conflicts++
					continue
				}
				if err != nil {
					return pushed, conflicts, planned, err
				}
				pushed++
				attrsDone = true
				continue // re-read: the answer of a partner save says nothing of the address
			}
		}
		if !coordsDone {
			mp := s.mapper.compute(p)
			switch {
			case !mp.geocoded || p.AddressID == 0:
				coordsDone = true
			case dry:
				planned = append(planned, Planned{CRMID: crmID, Action: "push_coordinates", Fields: []string{"latit", "longit"}})
				coordsDone = true
			default:
				_, err := s.client.Update(ctx, axelor.ModelAddress, p.AddressID, p.AddressVersion, map[string]any{
					"latit": axelor.FormatDecimal(mp.location.Lat, 7), "longit": axelor.FormatDecimal(mp.location.Lon, 7)})
				if errors.Is(err, axelor.ErrConflict) {
					conflicts++
					continue
				}
				if err != nil {
					return pushed, conflicts, planned, err
				}
				pushed++
				coordsDone = true
				continue // re-read: the next fetch must show the coordinates
			}
		}
		if dry {
			return pushed, conflicts, planned, nil
		}
		// The CRM now holds what it was owed: bring the store to the CRM's
		// current state (our writes bumped versions) and record the
		// agreement, so the store does not lag until the next pull.
		return pushed, conflicts, planned, s.settle(ctx, p, local, base, agreed, adopt)
	}
	return pushed, conflicts, planned, &axelor.Error{Code: axelor.CodeConflict,
		Op: fmt.Sprintf("push partner %d", crmID), Message: "conflits répétés"}
}

// settle applies partner p, as just re-read, to its organisation and
// records the agreement reached, in one transaction. A local decision
// made meanwhile is kept and stays owed (its value differs from the
// agreement).
func (s *Syncer) settle(ctx context.Context, p Partner, local owned, base, agreed provenance, adopt bool) error {
	mp := s.mapper.compute(p)
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = s.store.InTx(ctx, func(tx atigip.Tx) error {
			orgs := atigip.Of[*atigip.Organisation](tx)
			found, _, err := orgs.List(ctx, atigip.ListFilter{Ref: "crm:" + strconv.FormatInt(p.ID, 10), Limit: 1})
			if err != nil || len(found) == 0 {
				return err
			}
			o := found[0]
			changed := len(mp.apply(p, o)) > 0
			if now := localOwned(o, local.Posts); !now.sameHab(local) {
				// decided here while we pushed: keep it, and keep it owed
				adopt = false
				agreed.Local.Hab, agreed.Local.Date = base.Local.Hab, base.Local.Date
			}
			if adopt {
				crmOwned(p.Attrs).adopt(o)
				changed = true
			}
			if changed {
				if err := orgs.Update(ctx, o); err != nil {
					return err
				}
			}
			if agreed != base {
				return writeProvenance(ctx, tx, s.cfg.CursorName, p.ID, agreed)
			}
			return nil
		})
		if atigip.ErrorCode(err) != atigip.ECONFLICT {
			break
		}
	}
	return err
}
