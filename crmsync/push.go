package crmsync

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/atigip/atigip360/crmsync/axelor"
	"github.com/atigip/atigip360/internal/atigip"
)

// push writes back the owned fields of every pending partner.
func (s *Syncer) push(ctx context.Context, opt RunOptions, rep *Report) error {
	var cur cursor
	err := s.store.InTx(ctx, func(tx atigip.Tx) error {
		var err error
		if cur, err = readCursor(ctx, tx, s.cfg.CursorName); err != nil {
			return err
		}
		if err := s.localChanges(ctx, &cur); err != nil {
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
	pending := cur.Pending
	if opt.DryRun {
		// the dry pull did not store its queue: recompute it from the report
		for _, p := range rep.Planned {
			pending = append(pending, p.CRMID)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	openPosts := map[int64]int{}
	if err := atigip.Of[*atigip.Post](s.store).Scan(ctx, atigip.ListFilter{Status: []string{string(atigip.PostOpen)}},
		func(p *atigip.Post) error { openPosts[p.OrganisationID]++; return nil }); err != nil {
		return fmt.Errorf("crmsync: count open posts: %w", err)
	}
	s.metrics.pending.Set(float64(len(pending)))
	s.log.Info("crm push start", "pending", len(pending))

	type result struct {
		crmID     int64
		pushed    int
		conflicts int
		planned   []Planned
		err       error
	}
	jobs := make(chan int64)
	results := make(chan result)
	var wg sync.WaitGroup
	for w := 0; w < s.cfg.PushWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				r := result{crmID: id}
				r.pushed, r.conflicts, r.planned, r.err = s.pushOne(ctx, id, openPosts, opt.DryRun)
				results <- r
			}
		}()
	}
	go func() {
		defer close(jobs)
		seen := map[int64]bool{}
		for _, id := range pending {
			if seen[id] {
				continue
			}
			seen[id] = true
			select {
			case jobs <- id:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

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
			left := c.Pending[:0]
			for _, id := range c.Pending {
				if !done[id] {
					left = append(left, id)
				}
			}
			c.Pending = left
			return writeCursor(ctx, tx, s.cfg.CursorName, c)
		})
	}
	for r := range results {
		n++
		rep.Conflicts += r.conflicts
		rep.Planned = append(rep.Planned, r.planned...)
		s.metrics.pushes.WithLabelValues("conflict").Add(float64(r.conflicts))
		switch {
		case r.err == nil:
			rep.Pushed += r.pushed
			done[r.crmID] = true
			if r.pushed > 0 {
				s.metrics.pushes.WithLabelValues("ok").Add(float64(r.pushed))
			}
		case errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded):
			if firstErr == nil {
				firstErr = r.err
			}
		default:
			rep.PushFailed++
			s.metrics.pushes.WithLabelValues("failed").Inc()
			rep.addError(fmt.Sprintf("écriture vers le partenaire CRM %d impossible : %s", r.crmID, userMessage(r.err)))
			if firstErr == nil && errors.Is(r.err, axelor.ErrCircuitOpen) {
				firstErr = r.err
			}
		}
		if opt.Progress != nil {
			opt.Progress(Progress{Phase: "push", Done: n, Total: total})
		}
		if n%50 == 0 {
			if err := save(); err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}
	if err := save(); err != nil && firstErr == nil {
		firstErr = err
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

func userMessage(err error) string {
	var e *axelor.Error
	if errors.As(err, &e) {
		return e.UserMessage()
	}
	return atigip.ErrorMessage(err)
}

// pushOne brings the CRM partner crmID up to date with our fields. On a
// version conflict it re-reads the partner and re-applies only our keys
// onto the fresh values, so the referent's edit is kept.
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
	attrsDone, coordsDone := false, false
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
			desired := desiredAttrs(o, openPosts[o.ID])
			switch {
			case p.RawAttrs != "" && p.Attrs == nil:
				// never overwrite a referent's JSON we cannot read
				return pushed, conflicts, planned, &axelor.Error{Code: axelor.CodeValidation,
					Op: fmt.Sprintf("push partner %d", crmID), Message: "partnerAttrs illisible"}
			case !attrsDiffer(p.Attrs, desired):
				attrsDone = true
			case dry:
				planned = append(planned, Planned{CRMID: crmID, Action: "push_attrs", Fields: ownedAttrs})
				attrsDone = true
			default:
				_, err := s.client.Update(ctx, axelor.ModelPartner, crmID, p.Version,
					map[string]any{"partnerAttrs": mergeAttrs(p.Attrs, desired)})
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
			}
		}
		if attrsDone && coordsDone {
			if pushed > 0 && !dry {
				// our writes bumped versions: bring the store to the CRM's
				// current state so it does not lag until the next pull
				err = s.refresh(ctx, crmID)
			}
			return pushed, conflicts, planned, err
		}
	}
	return pushed, conflicts, planned, &axelor.Error{Code: axelor.CodeConflict,
		Op: fmt.Sprintf("push partner %d", crmID), Message: "conflits répétés"}
}

// refresh re-reads partner crmID and applies it to its organisation.
func (s *Syncer) refresh(ctx context.Context, crmID int64) error {
	rec, err := s.client.Fetch(ctx, axelor.ModelPartner, crmID, partnerFields, nil)
	if err != nil {
		return err
	}
	p, err := ParsePartner(rec)
	if err != nil {
		return err
	}
	mp := s.mapper.compute(p)
	for attempt := 0; attempt < 3; attempt++ {
		err = s.store.InTx(ctx, func(tx atigip.Tx) error {
			orgs := atigip.Of[*atigip.Organisation](tx)
			found, _, err := orgs.List(ctx, atigip.ListFilter{Ref: "crm:" + strconv.FormatInt(crmID, 10), Limit: 1})
			if err != nil || len(found) == 0 {
				return err
			}
			if len(mp.apply(p, found[0])) == 0 {
				return nil
			}
			return orgs.Update(ctx, found[0])
		})
		if atigip.ErrorCode(err) != atigip.ECONFLICT {
			break
		}
	}
	return err
}
