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
	allowed := fieldAllowed[atigip.AudiencePublic]
	checked := 0
	check := func(z int, x, y uint32) bool {
		ls, tl := decode(t, e, atigip.AudiencePublic, "public", z, int(x), int(y))
		if tl.Empty {
			return false
		}
		checked++
		for _, l := range ls {
			for _, f := range l.Features {
				for k := range f.Properties {
					if !allowed[l.Name][k] {
						t.Fatalf("%d/%d/%d %s: field %q not on the public list", z, x, y, l.Name, k)
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
