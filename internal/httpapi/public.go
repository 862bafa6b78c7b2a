package httpapi

import (
	"encoding/json"
	"slices"

	"github.com/atigip/atigip360/internal/atigip"
)

// One public view. What the public (anonymous, person, business, host
// outside its own organisation) reads of posts and prisons through the
// API is what the public map and public search show of them:
//   - posts: those atigip.Post.Listed lists for the public audience
//     (registered, open or full, public, at a valid place, of an active
//     organisation), with the fields of the public tiles: nothing of the
//     places or their occupation, of the street address, of the status or
//     of the risk flags (the medical check says it);
//   - prisons: the establishment's service contact, never the named
//     referent (Prison.Contact is for the justice audience).

// seesAllPosts reports whether p reads posts beyond the public view: the
// justice audience, and a host for its own organisation's posts.
func seesAllPosts(p atigip.Principal, orgID int64) bool {
	return p.Role.Audience() == atigip.AudienceJustice ||
		(p.Role == atigip.RoleHost && p.OrganisationID != 0 && p.OrganisationID == orgID)
}

// listedStatuses are the statuses atigip.Post.Listed admits, as a store
// filter.
var listedStatuses = []string{string(atigip.PostRegistered), string(atigip.PostOpen), string(atigip.PostFull)}

// publicPostFilter narrows f to the posts the public may be listed; empty
// when the statuses asked for are none of them.
func publicPostFilter(f *atigip.ListFilter) (empty bool) {
	f.PublicOnly = true
	if len(f.Status) == 0 {
		f.Status = slices.Clone(listedStatuses)
		return false
	}
	f.Status = slices.DeleteFunc(f.Status, func(s string) bool { return !slices.Contains(listedStatuses, s) })
	return len(f.Status) == 0
}

// postListed is atigip.Post.Listed for the public audience, with the
// organisation read through lk.
func postListed(lk *lookup, e atigip.Entity) (bool, error) {
	po := e.(*atigip.Post)
	org, err := lk.organisation(po.OrganisationID)
	if err != nil {
		return false, err
	}
	return po.Listed(org, atigip.AudiencePublic), nil
}

// publicPost is a post as the public reads it.
type publicPost struct{ *atigip.Post }

// publicAddress is the part of an address the public map shows.
type publicAddress struct {
	Postcode    string `json:"postcode,omitempty"`
	City        string `json:"city,omitempty"`
	Commune     string `json:"commune,omitempty"`
	Departement string `json:"departement,omitempty"`
	Region      string `json:"region,omitempty"`
}

// MarshalJSON writes the public fields only.
func (p publicPost) MarshalJSON() ([]byte, error) {
	a := p.Address
	return json.Marshal(struct {
		atigip.Meta
		OrganisationID   int64           `json:"organisation_id"`
		Title            string          `json:"title"`
		Description      string          `json:"description,omitempty"`
		ROMECodes        []string        `json:"rome_codes"`
		Skills           []string        `json:"skills,omitempty"`
		Schedule         atigip.Schedule `json:"schedule"`
		MinorsAccepted   bool            `json:"minors_accepted"`
		WheelchairAccess bool            `json:"wheelchair_access"`
		PublicTransport  bool            `json:"public_transport"`
		MedicalCheck     bool            `json:"medical_check"`
		Address          publicAddress   `json:"address"`
		Location         atigip.Point    `json:"location"`
	}{p.Meta, p.OrganisationID, p.Title, p.Description, p.ROMECodes, p.Skills, p.Schedule, p.MinorsAccepted,
		p.WheelchairAccess, p.PublicTransport, p.MedicalCheck,
		publicAddress{a.Postcode, a.City, a.Commune, a.Departement, a.Region}, p.Location})
}

// redactPost gives the public view of a post to whoever does not see all.
func redactPost(p atigip.Principal, e atigip.Entity) atigip.Entity {
	po := e.(*atigip.Post)
	if seesAllPosts(p, po.OrganisationID) {
		return po
	}
	return publicPost{po}
}

// redactPrison keeps the named referent to the justice audience.
func redactPrison(p atigip.Principal, e atigip.Entity) atigip.Entity {
	pr := e.(*atigip.Prison)
	if p.Role.Audience() == atigip.AudienceJustice || pr.Contact == nil {
		return pr
	}
	cp := *pr
	cp.Contact = nil
	return &cp
}
