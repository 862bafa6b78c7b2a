package tiles

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/seed"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

func openDemoStore(t *testing.T, scale float64) atigip.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atigip.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Run(ctx, s, seed.Options{Scale: scale, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLiveInvalidation moves a post in the store while Follow runs: within
// one second its old and new tiles (and the cluster levels above) show
// the change, while a cached tile elsewhere is kept.
func TestLiveInvalidation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openDemoStore(t, 0.01)
	e, err := New(ctx, s, Options{Poll: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Follow(ctx) }()

	// A visible public post.
	var post *atigip.Post
	for _, r := range e.snap.Load().posts[audPublic].leaves {
		post, err = atigip.Of[*atigip.Post](s).Get(ctx, r.id)
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if post == nil {
		t.Fatal("no visible post in the demo set")
	}
	const z = 15
	tileAt := func(p atigip.Point, z int) (int, int) {
		tl := maptile.At(orb.Point{p.Lon, p.Lat}, maptile.Zoom(z))
		return int(tl.X), int(tl.Y)
	}
	has := func(p atigip.Point, z int, id int64, title string) bool {
		x, y := tileAt(p, z)
		ls, _ := decode(t, e, atigip.AudiencePublic, "public", z, x, y)
		for _, f := range features(layer(ls, LayerPosts)) {
			if fid(f.ID) == uint64(id) && (title == "" || f.Properties["title"] == title) {
				return true
			}
		}
		return false
	}
	oldLoc := post.Location
	if !has(oldLoc, z, post.ID, post.Title) {
		t.Fatal("post not in its tile before the change")
	}
	// A tile far away (another continent's ocean, cached empty) must survive.
	far := cacheKey{aud: audPublic, z: 6, x: 0, y: 0}
	if _, err := e.Tile(ctx, atigip.AudiencePublic, "public", 6, 0, 0); err != nil {
		t.Fatal(err)
	}
	farEntry := e.cache.get(far)
	// Cache every zoom's tile at the old place.
	sums := map[int]int{}
	for zz := 0; zz <= 16; zz++ {
		x, y := tileAt(oldLoc, zz)
		ls, _ := decode(t, e, atigip.AudiencePublic, "public", zz, x, y)
		for _, f := range features(layer(ls, LayerPosts)) {
			sums[zz] += int(f.Properties["point_count"].(float64))
		}
	}

	post.Location = atigip.Point{Lon: oldLoc.Lon + 0.05, Lat: oldLoc.Lat + 0.03}
	post.Title = "Poste déplacé (test)"
	start := time.Now()
	if err := atigip.Of[*atigip.Post](s).Update(ctx, post); err != nil {
		t.Fatal(err)
	}
	for !has(post.Location, z, post.ID, post.Title) {
		if time.Since(start) > time.Second {
			t.Fatalf("change not visible after %v", time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("change visible after %v", time.Since(start).Round(time.Millisecond))
	if has(oldLoc, z, post.ID, "") {
		t.Fatal("post still in its old tile")
	}
	if e.cache.get(far) != farEntry {
		t.Fatal("an unrelated tile was invalidated")
	}
	// Cluster levels: the old place lost one post at the zooms where the
	// new place is in another tile.
	for zz := 0; zz <= 16; zz++ {
		ox, oy := tileAt(oldLoc, zz)
		nx, ny := tileAt(post.Location, zz)
		if ox == nx && oy == ny {
			continue
		}
		got := 0
		ls, _ := decode(t, e, atigip.AudiencePublic, "public", zz, ox, oy)
		for _, f := range features(layer(ls, LayerPosts)) {
			got += int(f.Properties["point_count"].(float64))
		}
		if got != sums[zz]-1 {
			t.Errorf("z%d old tile: Σ point_count %d, want %d", zz, got, sums[zz]-1)
		}
	}
	// Deleting hides it.
	if err := atigip.Of[*atigip.Post](s).Delete(ctx, post.ID, post.Version); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for has(post.Location, z, post.ID, "") {
		if time.Since(start) > time.Second {
			t.Fatal("deleted post still drawn after 1 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("follow: %v", err)
	}
}

// TestLiveOrganisation changes a host organisation: its posts show the new
// name, then leave the map when it is archived (the engine keeps compact
// records, so it rebinds the posts without reloading them).
func TestLiveOrganisation(t *testing.T) {
	ctx := context.Background()
	s := openDemoStore(t, 0.01)
	e, err := New(ctx, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := e.snap.Load().posts[audPublic].leaves[0]
	org, err := atigip.Of[*atigip.Organisation](s).Get(ctx, r.orgID)
	if err != nil {
		t.Fatal(err)
	}
	const z = 15
	x, y := tileOf(r.x, r.y, z)
	orgOf := func(aud atigip.Audience, ts string) (string, bool) {
		ls, _ := decode(t, e, aud, ts, z, int(x), int(y))
		for _, f := range features(layer(ls, LayerPosts)) {
			if fid(f.ID) == uint64(r.id) {
				name, _ := f.Properties["organisation"].(string)
				return name, true
			}
		}
		return "", false
	}
	apply := func() {
		t.Helper()
		cs, err := s.Changes(ctx, e.Seq(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Apply(ctx, cs); err != nil {
			t.Fatal(err)
		}
	}
	if name, ok := orgOf(atigip.AudiencePublic, "public"); !ok || name != org.Name {
		t.Fatalf("before: organisation %q, drawn %v; want %q", name, ok, org.Name)
	}
	org.Name = "Structure renommée (test)"
	if err := atigip.Of[*atigip.Organisation](s).Update(ctx, org); err != nil {
		t.Fatal(err)
	}
	apply()
	for _, v := range []struct {
		aud atigip.Audience
		ts  string
	}{{atigip.AudiencePublic, "public"}, {atigip.AudienceJustice, "justice"}} {
		if name, ok := orgOf(v.aud, v.ts); !ok || name != org.Name {
			t.Fatalf("%s after rename: organisation %q, drawn %v", v.ts, name, ok)
		}
	}
	org.Active = false
	if err := atigip.Of[*atigip.Organisation](s).Update(ctx, org); err != nil {
		t.Fatal(err)
	}
	apply()
	if _, ok := orgOf(atigip.AudienceJustice, "justice"); ok {
		t.Fatal("post of an archived organisation still drawn")
	}
	org.Active = true
	if err := atigip.Of[*atigip.Organisation](s).Update(ctx, org); err != nil {
		t.Fatal(err)
	}
	apply()
	if _, ok := orgOf(atigip.AudiencePublic, "public"); !ok {
		t.Fatal("post of a reactivated organisation not drawn again")
	}
}

// TestNewStreamsAsBuild checks that the engine streamed from a store draws
// the same tiles as one built from the store's values.
func TestNewStreamsAsBuild(t *testing.T) {
	ctx := context.Background()
	s := openDemoStore(t, 0.01)
	streamed, err := New(ctx, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var d Data
	if d.Organisations, err = atigip.Of[*atigip.Organisation](s).All(ctx, atigip.ListFilter{}); err != nil {
		t.Fatal(err)
	}
	if d.Posts, err = atigip.Of[*atigip.Post](s).All(ctx, atigip.ListFilter{}); err != nil {
		t.Fatal(err)
	}
	if d.Prisons, err = atigip.Of[*atigip.Prison](s).All(ctx, atigip.ListFilter{}); err != nil {
		t.Fatal(err)
	}
	if d.FloorSpaces, err = atigip.Of[*atigip.FloorSpace](s).All(ctx, atigip.ListFilter{}); err != nil {
		t.Fatal(err)
	}
	built := mustBuild(t, d, Options{})
	if len(streamed.state.posts) != len(built.state.posts) || len(streamed.state.posts) == 0 {
		t.Fatalf("%d posts streamed, %d built", len(streamed.state.posts), len(built.state.posts))
	}
	n := 0
	for _, it := range built.snap.Load().posts[audJustice].leaves {
		for _, z := range []int{0, 5, 9, 14} {
			x, y := tileOf(it.x, it.y, z)
			for aud, ts := range map[atigip.Audience]string{atigip.AudiencePublic: "public", atigip.AudienceJustice: "justice"} {
				a, _ := streamed.Tile(ctx, aud, ts, z, int(x), int(y))
				b, _ := built.Tile(ctx, aud, ts, z, int(x), int(y))
				if a.ETag != b.ETag {
					t.Fatalf("%s %d/%d/%d: streamed and built engines differ", ts, z, x, y)
				}
				n++
			}
		}
	}
	t.Logf("%d tiles compared", n)
}
