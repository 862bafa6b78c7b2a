package crmsync

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
)

// owned are the values of the fields this system owns, in the form they
// take in the CRM's partnerAttrs. The zero value is "nothing of ours":
// no habilitation, no decision date, no open post.
type owned struct {
	Hab   string `json:"h,omitempty"` // habilitation status, "" for none
	Date  string `json:"d,omitempty"` // decision date, YYYY-MM-DD
	Posts int    `json:"p,omitempty"` // open posts
}

func (v owned) sameHab(o owned) bool { return v.Hab == o.Hab && v.Date == o.Date }

// localOwned reads our fields from the store.
func localOwned(o *atigip.Organisation, openPosts int) owned {
	v := owned{Posts: openPosts}
	if o.Habilitation.Status != atigip.HabNone {
		v.Hab = string(o.Habilitation.Status)
	}
	if o.Habilitation.DecidedAt != nil {
		v.Date = o.Habilitation.DecidedAt.UTC().Format(time.DateOnly)
	}
	return v
}

// crmOwned reads our fields from the CRM's partnerAttrs ("none" and
// absent keys are the zero value).
func crmOwned(attrs map[string]any) owned {
	var v owned
	if h, _ := attrs[AttrHabilitation].(string); h != string(atigip.HabNone) {
		v.Hab = h
	}
	v.Date, _ = attrs[AttrHabilitationDate].(string)
	switch n := attrs[AttrOpenPosts].(type) {
	case float64:
		v.Posts = int(n)
	case json.Number:
		i, _ := n.Int64()
		v.Posts = int(i)
	}
	return v
}

// adoptable reports whether the CRM's habilitation can be taken into the
// store: a status this system knows and a readable date.
func (v owned) adoptable() bool {
	if _, ok := atigip.HabilitationStatuses[atigip.HabilitationStatus(v.Hab)]; !ok && v.Hab != "" {
		return false
	}
	if v.Date != "" {
		if _, err := time.Parse(time.DateOnly, v.Date); err != nil {
			return false
		}
	}
	return true
}

// adopt writes the CRM's habilitation on o.
func (v owned) adopt(o *atigip.Organisation) {
	o.Habilitation.Status = atigip.HabNone
	if v.Hab != "" {
		o.Habilitation.Status = atigip.HabilitationStatus(v.Hab)
	}
	o.Habilitation.DecidedAt = nil
	if t, err := time.Parse(time.DateOnly, v.Date); err == nil && v.Date != "" {
		o.Habilitation.DecidedAt = &t
	}
}

// provenance is what the store and the CRM held for our fields at their
// last agreement (a pull that adopted or saw them, a push that wrote
// them). A local value that differs from Local is a local decision made
// after that: the only thing ever pushed. No row means both held nothing
// of ours, which is also what a new organisation starts from.
type provenance struct {
	Local owned `json:"l"`
	CRM   owned `json:"c"`
}

func provenanceName(cursorName string, crmID int64) string {
	return cursorName + ".base." + strconv.FormatInt(crmID, 10)
}

func readProvenance(ctx context.Context, tx atigip.Tx, cursorName string, crmID int64) (provenance, error) {
	var p provenance
	s, err := tx.Cursor(ctx, provenanceName(cursorName, crmID))
	if err != nil || s == "" {
		return p, err
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return p, fmt.Errorf("crmsync: provenance of partner %d: %w", crmID, err)
	}
	return p, nil
}

func writeProvenance(ctx context.Context, tx atigip.Tx, cursorName string, crmID int64, p provenance) error {
	v := ""
	if p != (provenance{}) {
		b, _ := json.Marshal(p)
		v = string(b)
	}
	return tx.SetCursor(ctx, provenanceName(cursorName, crmID), v)
}

// merge is the three-way decision for one partner, field by field, from
// the last agreement (base), the store's values (local) and the CRM's
// (crm). It returns the values to write to the CRM (want; equal to crm
// when nothing is owed), whether the CRM's habilitation must be adopted
// into the store, and the agreement that holds once both are done.
func merge(base provenance, local, crm owned) (want owned, adoptHab bool, next provenance) {
	want, next = crm, provenance{Local: base.Local, CRM: crm}
	switch {
	case !local.sameHab(base.Local):
		// a local decision after the last agreement: ours to push
		want.Hab, want.Date = local.Hab, local.Date
		next.Local.Hab, next.Local.Date = local.Hab, local.Date
		next.CRM.Hab, next.CRM.Date = local.Hab, local.Date
	case !crm.sameHab(base.CRM) || !crm.sameHab(local):
		// only the CRM moved (or the store never held it): the CRM wins
		if crm.adoptable() {
			adoptHab = !crm.sameHab(local)
			next.Local.Hab, next.Local.Date = crm.Hab, crm.Date
		}
	}
	if local.Posts != base.Local.Posts {
		want.Posts = local.Posts
		next.Local.Posts, next.CRM.Posts = local.Posts, local.Posts
	}
	return want, adoptHab, next
}

// ownedAttrs puts the values of want that differ from crm into the
// referent's attrs, keeping every other key as it is.
func ownedAttrs(attrs map[string]any, crm, want owned) string {
	out := make(map[string]any, len(attrs)+3)
	for k, v := range attrs {
		out[k] = v
	}
	if !want.sameHab(crm) {
		out[AttrHabilitation] = string(atigip.HabNone)
		if want.Hab != "" {
			out[AttrHabilitation] = want.Hab
		}
		out[AttrHabilitationDate] = nil
		if want.Date != "" {
			out[AttrHabilitationDate] = want.Date
		}
	}
	if want.Posts != crm.Posts {
		out[AttrOpenPosts] = want.Posts
	}
	b, _ := json.Marshal(out) // keys sorted: a stable string
	return string(b)
}
