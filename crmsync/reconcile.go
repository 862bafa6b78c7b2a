package crmsync

import (
	"context"
	"fmt"
	"slices"

	"github.com/atigip/atigip360/crmsync/axelor"
	"github.com/atigip/atigip360/internal/atigip"
)

// reconcilePage is the page size of the id listing: ids only, so pages
// can be large (Resource#search has no maximum limit).
const reconcilePage = 5000

// maxDeletedShare guards against a CRM answer that lost most partners
// (a permission change, a wrong database): reconciliation then refuses to
// deactivate and reports it, instead of emptying the map.
const maxDeletedShare = 0.5

// reconcile finds partners deleted in the CRM (a DELETE leaves no trace an
// incremental pull could see) by comparing the CRM's partner ids with the
// organisations of the store, and deactivates the missing ones. It runs
// on full pulls and every Config.ReconcileEvery.
func (s *Syncer) reconcile(ctx context.Context, opt RunOptions, rep *Report) error {
	cur, err := s.loadCursor(ctx)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	if !rep.Full && !cur.Reconciled.IsZero() && (s.cfg.ReconcileEvery <= 0 || now.Sub(cur.Reconciled) < s.cfg.ReconcileEvery) {
		return nil
	}
	ids, err := s.crmIDs(ctx)
	if err != nil {
		return fmt.Errorf("crmsync: reconcile: %w", err)
	}
	var gone []*atigip.Organisation
	active := 0
	orgs := atigip.Of[*atigip.Organisation](s.store)
	if err := orgs.Scan(ctx, atigip.ListFilter{}, func(o *atigip.Organisation) error {
		if o.CRMID <= 0 || !o.Active {
			return nil
		}
		active++
		if _, ok := slices.BinarySearch(ids, o.CRMID); !ok {
			gone = append(gone, o)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("crmsync: reconcile: scan organisations: %w", err)
	}
	if len(gone) > 10 && float64(len(gone)) > maxDeletedShare*float64(active) {
		return atigip.Errorf(atigip.ECONFLICT, "Réconciliation refusée : %d structures sur %d ont disparu d'Axelor ; vérifier les droits du compte de synchronisation.", len(gone), active)
	}
	rep.Reconciled = true
	if opt.DryRun {
		for _, o := range gone {
			rep.Planned = append(rep.Planned, Planned{CRMID: o.CRMID, Action: "deactivate_deleted", Fields: []string{"active"}})
		}
		rep.Deleted = len(gone)
		return nil
	}
	goneIDs := map[int64]bool{}
	for _, o := range gone {
		goneIDs[o.CRMID] = true
	}
	err = s.store.InTx(ctx, func(tx atigip.Tx) error {
		txOrgs := atigip.Of[*atigip.Organisation](tx)
		for _, o := range gone {
			fresh, err := txOrgs.Get(ctx, o.ID)
			if err != nil {
				return err
			}
			fresh.Active = false
			if err := txOrgs.Update(ctx, fresh); err != nil {
				return err
			}
		}
		c, err := readCursor(ctx, tx, s.cfg.CursorName)
		if err != nil {
			return err
		}
		c.Pending = slices.DeleteFunc(c.Pending, func(id int64) bool { return goneIDs[id] })
		c.Reconciled = now
		return writeCursor(ctx, tx, s.cfg.CursorName, c)
	})
	if err != nil {
		return fmt.Errorf("crmsync: reconcile: %w", err)
	}
	rep.Deleted = len(gone)
	rep.Deactivated += len(gone)
	s.log.Info("crm reconcile done", "crm_ids", len(ids), "deleted", len(gone))
	return nil
}

// crmIDs lists the ids of every partner the pull considers (archived
// included), ascending.
func (s *Syncer) crmIDs(ctx context.Context) ([]int64, error) {
	var ids []int64
	after := int64(0)
	for {
		crit := axelor.And(axelor.Gt("id", after), axelor.Eq("isContact", false))
		pg, err := s.page(ctx, axelor.SearchRequest{Limit: reconcilePage, Criteria: &crit,
			Fields: []string{"id"}, SortBy: []string{"id"}, Archived: true})
		if err != nil {
			return nil, err
		}
		for _, r := range pg.Records {
			ids = append(ids, r.ID())
		}
		if len(pg.Records) == 0 || int64(len(pg.Records)) >= pg.Total {
			break
		}
		after = pg.Records[len(pg.Records)-1].ID()
	}
	slices.Sort(ids)
	return ids, nil
}
