package crmsync_test

import (
	"context"
	"testing"
	"time"

	"github.com/atigip/atigip360/crmsync"
	"github.com/atigip/atigip360/internal/atigip"
)

// TestPartnerState follows one partner: in agreement after a run, ahead
// once habilitated here, in agreement again once pushed; an organisation
// without a CRM partner is not linked.
func TestPartnerState(t *testing.T) {
	e := newEnv(t, 20, 9)
	ctx := context.Background()
	s := e.syncer()
	_, err := s.Run(ctx, crmsync.RunOptions{})
	must(t, err)
	var o *atigip.Organisation
	for _, x := range orgsByCRM(t, e.store) {
		o = x
		break
	}
	st, err := s.Partner(ctx, o, 0)
	must(t, err)
	if !st.Linked || st.CRMID != o.CRMID || st.LocalAhead || st.Pending || st.LastSuccess.IsZero() {
		t.Fatalf("after a run: %+v", st)
	}
	decided := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	o.Habilitation = atigip.Habilitation{Status: atigip.HabHabilitated, DecidedAt: &decided, Authority: "DSPIP"}
	must(t, atigip.Of[*atigip.Organisation](e.store).Update(ctx, o))
	st, err = s.Partner(ctx, o, 2)
	must(t, err)
	if !st.LocalAhead {
		t.Fatalf("habilitated here, not pushed: %+v", st)
	}
	_, err = s.Run(ctx, crmsync.RunOptions{})
	must(t, err)
	o, err = atigip.Of[*atigip.Organisation](e.store).Get(ctx, o.ID)
	must(t, err)
	st, err = s.Partner(ctx, o, 0)
	must(t, err)
	if st.LocalAhead || st.AgreedHabilitation != "habilitated" || st.AgreedDate != "2026-03-01" {
		t.Fatalf("after the push: %+v", st)
	}
	st, err = s.Partner(ctx, &atigip.Organisation{Name: "Hors CRM"}, 0)
	must(t, err)
	if st.Linked {
		t.Fatalf("an organisation without CRM id is linked: %+v", st)
	}
}
