package tiles

import (
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// TestPublicTilesLeakNothing decodes every non-empty public tile of the
// demo set from z0 to z9, and every public tile holding any post (public
// or not) from z10 to z16: no field off the public list, no post that the
// public may not see.
func TestPublicTilesLeakNothing(t *testing.T) {
	d := demoData(t, 0.02)
	e := mustBuild(t, d, Options{})
	orgs := map[int64]*atigip.Organisation{}
	for _, o := range d.Organisations {
		orgs[o.ID] = o
	}
	public := map[uint64]bool{}
	hidden := 0
	for _, p := range d.Posts {
		if PostVisible(p, orgs[p.OrganisationID], atigip.AudiencePublic) {
			public[uint64(p.ID)] = true
		} else if PostVisible(p, orgs[p.OrganisationID], atigip.AudienceJustice) {
			hidden++
		}
	}
	if hidden == 0 {
		t.Fatal("the demo set has no justice-only post: the test would prove nothing")
	}
	allowed := publicFields
	// Nothing of a named contact, whatever the key it would hide under.
	personal := map[any]bool{}
	for _, pr := range d.Prisons {
		if c := pr.Contact; c != nil {
			personal[c.Name], personal[c.Email], personal[c.Phone] = true, true, true
		}
	}
	for _, o := range d.Organisations {
		for _, c := range o.Contacts {
			personal[c.Name], personal[c.Email], personal[c.Phone] = true, true, true
		}
	}
	if len(personal) < 3 {
		t.Fatal("the demo set has no named contact: the test would prove nothing")
	}
	checked := 0
	check := func(z int, x, y uint32) bool {
		ls, tl := decode(t, e, atigip.AudiencePublic, "public", z, int(x), int(y))
		if tl.Empty {
			return false
		}
		checked++
		for _, l := range ls {
			for _, f := range l.Features {
				for k, v := range f.Properties {
					if !allowed[l.Name][k] {
						t.Fatalf("%d/%d/%d %s: field %q not on the public list", z, x, y, l.Name, k)
					}
					if personal[v] {
						t.Fatalf("%d/%d/%d %s: %s = %v is a named contact's", z, x, y, l.Name, k, v)
					}
				}
				if l.Name == LayerPosts && f.Properties["cluster"] != true && !public[fid(f.ID)] {
					t.Fatalf("%d/%d/%d: post %v is not public", z, x, y, f.ID)
				}
			}
		}
		return true
	}
	level := [][2]uint32{{0, 0}}
	for z := 0; z <= 9; z++ {
		var next [][2]uint32
		for _, tl := range level {
			if check(z, tl[0], tl[1]) {
				next = append(next, [2]uint32{2 * tl[0], 2 * tl[1]}, [2]uint32{2*tl[0] + 1, 2 * tl[1]},
					[2]uint32{2 * tl[0], 2*tl[1] + 1}, [2]uint32{2*tl[0] + 1, 2*tl[1] + 1})
			}
		}
		level = next
	}
	// Deeper: the tiles of every post the justice audience sees.
	for z := 10; z <= 16; z++ {
		seen := map[[2]uint32]bool{}
		for _, it := range e.snap.Load().posts[audJustice].at(z) {
			x, y := tileOf(it.x, it.y, z)
			if !seen[[2]uint32{x, y}] {
				seen[[2]uint32{x, y}] = true
				check(z, x, y)
			}
		}
	}
	t.Logf("%d public tiles checked, %d justice-only posts kept out", checked, hidden)
}

// publicFields is what the public map may show, written out here by hand,
// independently of the encoder's whitelist (fields.go): making a field
// public there fails this test until it is deliberately added here too.
var publicFields = map[string]map[string]bool{
	LayerPosts: set("cluster", "point_count", "point_count_abbreviated", "expansion_zoom", "minors_count",
		"weekends_count", "wheelchair_count", "transport_count", "domains", "title", "tasks", "rome",
		"organisation", "organisation_kind", "city", "commune", "departement", "hours_per_week", "schedule",
		"weekends", "minors_accepted", "wheelchair_access", "public_transport", "medical_check"),
	LayerPrisons: set("name", "type", "type_label", "disp", "spip", "city", "departement", "capacity",
		"location_precision", "floor_spaces", "service", "contact_email", "contact_phone"),
	LayerFloorSpaces: set("name", "prison_id", "prison", "area_m2", "use", "use_label", "ceiling_height_m",
		"loading_dock", "power_kva", "available_from", "status", "status_label"),
	LayerBoundaries: set("kind", "code", "name"),
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// TestPostRecords checks the compact post records against the domain
// values, for every post of the demo set and both audiences: visibility
// as PostVisible decides it, attributes as the store gives them.
func TestPostRecords(t *testing.T) {
	d := demoData(t, 0.05)
	e := mustBuild(t, d, Options{})
	orgs := map[int64]*atigip.Organisation{}
	for _, o := range d.Organisations {
		orgs[o.ID] = o
	}
	for _, a := range audiences {
		t.Run(string(a), func(t *testing.T) {
			aud, shown := audIndex(a), 0
			for _, p := range d.Posts {
				org := orgs[p.OrganisationID]
				r := e.state.posts[p.ID]
				want := PostVisible(p, org, a)
				if got := r != nil && r.visible[aud]; got != want {
					t.Fatalf("post %d: visible %v, PostVisible says %v", p.ID, got, want)
				}
				if !want {
					continue
				}
				shown++
				got, exp := postProps(r, aud), storePostProps(p, org, a)
				if len(got) != len(exp) {
					t.Fatalf("post %d: %d attributes, want %d:\n%v\n%v", p.ID, len(got), len(exp), got, exp)
				}
				for k, v := range exp {
					if got[k] != v {
						t.Fatalf("post %d: %s = %#v, want %#v", p.ID, k, got[k], v)
					}
				}
			}
			if shown == 0 {
				t.Fatal("no visible post")
			}
		})
	}
}
