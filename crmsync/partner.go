package crmsync

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// PartnerState is where one partner stands in the sync, for the pages
// Axelor embeds: whether it is linked to a CRM partner, whether a
// write-back is owed, and what both sides last agreed on.
type PartnerState struct {
	Linked     bool
	CRMID      int64
	CRMVersion int64
	// Pending: a local decision (habilitation, open posts) or geocoded
	// coordinates are still owed to the CRM.
	Pending bool
	// LocalAhead: the store's habilitation or open posts differ from the
	// last agreement, so the next run pushes them.
	LocalAhead bool
	// Agreed are the values both sides held at the last agreement.
	AgreedHabilitation string
	AgreedDate         string
	AgreedOpenPosts    int
	// LastSuccess is when the latest successful run finished (zero before).
	LastSuccess time.Time
	// LastError is the French message of the latest run's failure.
	LastError string
}

// Partner returns o's sync state; openPosts is o's number of open posts
// now.
func (s *Syncer) Partner(ctx context.Context, o *atigip.Organisation, openPosts int) (PartnerState, error) {
	st := s.Status()
	ps := PartnerState{Linked: o.CRMID > 0, CRMID: o.CRMID, CRMVersion: o.CRMVersion, LastSuccess: st.LastSuccess}
	if st.LastRun != nil {
		ps.LastError = st.LastRun.Error
	}
	if !ps.Linked {
		return ps, nil
	}
	err := s.store.InTx(ctx, func(tx atigip.Tx) error {
		c, err := readCursor(ctx, tx, s.cfg.CursorName)
		if err != nil {
			return err
		}
		ps.Pending = slices.Contains(c.Pending, o.CRMID)
		p, err := readProvenance(ctx, tx, s.cfg.CursorName, o.CRMID)
		if err != nil {
			return err
		}
		local := localOwned(o, openPosts)
		ps.LocalAhead = !local.sameHab(p.Local) || local.Posts != p.Local.Posts
		ps.AgreedHabilitation, ps.AgreedDate, ps.AgreedOpenPosts = p.Local.Hab, p.Local.Date, p.Local.Posts
		return nil
	})
	if err != nil {
		return ps, fmt.Errorf("crmsync: partner %d: %w", o.CRMID, err)
	}
	return ps, nil
}
