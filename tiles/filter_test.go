package tiles

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb/encoding/mvt"

	"github.com/atigip/atigip360/internal/atigip"
)

// scanMatches is the oracle: the posts of the store a viewer of a sees
// on the map and that meet f, counted from the domain values.
func scanMatches(t *testing.T, s atigip.Store, a atigip.Audience, f Filter) int {
	t.Helper()
	ctx := context.Background()
	orgs := map[int64]*atigip.Organisation{}
	if err := atigip.Of[*atigip.Organisation](s).Scan(ctx, atigip.ListFilter{}, func(o *atigip.Organisation) error {
		orgs[o.ID] = o
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := atigip.Of[*atigip.Post](s).Scan(ctx, atigip.ListFilter{}, func(p *atigip.Post) error {
		if !PostVisible(p, orgs[p.OrganisationID], a) || !p.Location.Valid() || p.Location.IsZero() {
			return nil
		}
		domain := f.Domain == 0
		for _, c := range p.ROMECodes {
			domain = domain || (c != "" && c[0] == f.Domain)
		}
		if domain && (f.Departement == "" || p.Address.Departement == f.Departement) &&
			(!f.Minors || p.MinorsAccepted) && (!f.Weekends || p.Schedule.Weekends()) &&
			(!f.Wheelchair || p.WheelchairAccess) && (!f.Transport || p.PublicTransport) &&
			(!f.WithPlaces || p.PlacesLeft() > 0) {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFilteredCounts: for random filter combinations, at every zoom the
// point_count of the posts features of the filtered tiles add up to the
// number of posts of the store meeting the filters, and the public
// tiles carry public fields only.
func TestFilteredCounts(t *testing.T) {
	ctx := context.Background()
	s := openDemoStore(t, 0.02)
	e, err := New(ctx, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var deps []string
	for _, r := range e.state.posts {
		deps = append(deps, r.departement)
	}
	rnd := rand.New(rand.NewPCG(7, 13))
	for i := 0; i < 24; i++ {
		ts := []string{"public", "justice"}[i%2]
		a := Tilesets[ts]
		var f Filter
		if rnd.IntN(2) == 0 {
			f.Domain = byte('A' + rnd.IntN(14))
		}
		if rnd.IntN(2) == 0 {
			f.Departement = deps[rnd.IntN(len(deps))]
		}
		f.Minors, f.Weekends = rnd.IntN(3) == 0, rnd.IntN(3) == 0
		f.Wheelchair, f.Transport = rnd.IntN(3) == 0, rnd.IntN(4) == 0
		f.WithPlaces = a == atigip.AudienceJustice && rnd.IntN(2) == 0
		want := scanMatches(t, s, a, f)
		allowed := set(AllowedFields(LayerPosts, a)...)
		fid := e.filters.id(f)
		for _, z := range []int{0, 3, 5, 7, 9, 11, 12, 14} {
			// The tiles to read: those of the filtered level's items and
			// those of the matching posts.
			tilesAt := map[[2]uint32]bool{}
			p := e.snap.Load().filt.pyramid(fid, f, audIndex(a), e.opts.ClusterBelow, e.opts.ClusterRadius)
			for _, it := range p.at(z) {
				tx, ty := tileOf(it.x, it.y, z)
				tilesAt[[2]uint32{tx, ty}] = true
			}
			for _, r := range e.state.posts {
				if r.visible[audIndex(a)] && f.match(r) {
					tx, ty := tileOf(r.x, r.y, z)
					tilesAt[[2]uint32{tx, ty}] = true
				}
			}
			got := 0
			for xy := range tilesAt {
				tl, err := e.FilteredTile(ctx, a, ts, f, z, int(xy[0]), int(xy[1]))
				if err != nil {
					t.Fatal(err)
				}
				if tl.Empty {
					continue
				}
				ls, err := mvt.Unmarshal(tl.Data)
				if err != nil {
					t.Fatal(err)
				}
				for _, ft := range features(layer(ls, LayerPosts)) {
					got += int(ft.Properties["point_count"].(float64))
					for k := range ft.Properties {
						if !allowed[k] {
							t.Fatalf("%s: field %q not allowed", ts, k)
						}
					}
				}
			}
			if got != want {
				t.Errorf("%s %+v z%d: Σ point_count = %d, want %d (store scan)", ts, f, z, got, want)
			}
		}
	}
}

// TestFilteredTileInvalidation: a change of the posts drops the filtered
// tiles, and the next one counts the change.
func TestFilteredTileInvalidation(t *testing.T) {
	d := fixture()
	e := mustBuild(t, d, Options{})
	ctx := context.Background()
	f := Filter{Minors: true}
	count := func() int {
		tl, err := e.FilteredTile(ctx, atigip.AudiencePublic, "public", f, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := mvt.Unmarshal(tl.Data)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ft := range features(layer(ls, LayerPosts)) {
			n += int(ft.Properties["point_count"].(float64))
		}
		return n
	}
	before := count()
	if before != 2 { // posts 10 and 16: 11 takes no minors, 12 is justice only, 14's host is archived
		t.Fatalf("public minors at z0 = %d, want 2", before)
	}
	p := *d.Posts[1]
	p.MinorsAccepted, p.Version = true, 2
	e.mu.Lock()
	d2 := &dirtySet{posts: map[int64]*postRec{p.ID: e.state.posts[p.ID]}}
	e.state.setPost(newPostRec(&p, e.state.orgs[p.OrganisationID], interner{}))
	prev := e.snap.Load()
	next := e.draw(e.state, prev, d2)
	e.snap.Store(next)
	e.invalidate(prev, next, d2)
	e.mu.Unlock()
	if got := count(); got != 3 {
		t.Errorf("after the change: %d, want 3", got)
	}
}

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		name, ts string
		in       map[string]string
		want     Filter
		bad      []string
	}{
		{"none", "public", nil, Filter{}, nil},
		{"all public", "public", map[string]string{"domain": "A", "departement": "2A", "minors": "true", "weekends": "1",
			"wheelchair": "true", "transport": "false"}, Filter{Domain: 'A', Departement: "2A", Minors: true, Weekends: true, Wheelchair: true}, nil},
		{"places justice", "justice", map[string]string{"places": "true"}, Filter{WithPlaces: true}, nil},
		{"places public", "public", map[string]string{"places": "true"}, Filter{}, []string{"places"}},
		{"unknown", "public", map[string]string{"couleur": "rouge"}, Filter{}, []string{"couleur"}},
		{"bad values", "public", map[string]string{"domain": "Z", "departement": "99", "minors": "oui"}, Filter{},
			[]string{"departement", "domain", "minors"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFilter(tc.ts, tc.in)
			if len(tc.bad) == 0 {
				if err != nil || got != tc.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			var ae *atigip.Error
			if !errors.As(err, &ae) || ae.Code != atigip.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			var fields []string
			for _, p := range ae.Fields {
				fields = append(fields, p.Field)
			}
			if len(fields) != len(tc.bad) {
				t.Fatalf("problems %v, want fields %v", ae.Fields, tc.bad)
			}
			for i := range fields {
				if fields[i] != tc.bad[i] {
					t.Errorf("problem %d on %q, want %q", i, fields[i], tc.bad[i])
				}
			}
		})
	}
	e := mustBuild(t, fixture(), Options{})
	if _, err := e.FilteredTile(context.Background(), atigip.AudienceJustice, "public", Filter{WithPlaces: true}, 0, 0, 0); atigip.ErrorCode(err) != atigip.EINVALID {
		t.Errorf("places on the public tileset: %v, want EINVALID", err)
	}
}
