package tiles

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/atigip/atigip360/internal/atigip"
)

func TestCheckTile(t *testing.T) {
	e := mustBuild(t, fixture(), Options{MaxZoom: 18})
	cases := []struct {
		name    string
		aud     atigip.Audience
		tileset string
		z, x, y int
		code    string
	}{
		{"ok z0", atigip.AudiencePublic, "public", 0, 0, 0, ""},
		{"ok max", atigip.AudiencePublic, "public", 18, 1 << 17, 1<<18 - 1, ""},
		{"negative z", atigip.AudiencePublic, "public", -1, 0, 0, atigip.EINVALID},
		{"z over max", atigip.AudiencePublic, "public", 19, 0, 0, atigip.EINVALID},
		{"x out", atigip.AudiencePublic, "public", 3, 8, 0, atigip.EINVALID},
		{"y out", atigip.AudiencePublic, "public", 3, 0, 8, atigip.EINVALID},
		{"negative y", atigip.AudiencePublic, "public", 3, 0, -1, atigip.EINVALID},
		{"unknown tileset", atigip.AudiencePublic, "secret", 0, 0, 0, atigip.ENOTFOUND},
		{"justice for public", atigip.AudiencePublic, "justice", 0, 0, 0, atigip.EFORBIDDEN},
		{"justice for justice", atigip.AudienceJustice, "justice", 0, 0, 0, ""},
		{"public for justice", atigip.AudienceJustice, "public", 0, 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.Tile(context.Background(), c.aud, c.tileset, c.z, c.x, c.y)
			if got := atigip.ErrorCode(err); got != c.code {
				t.Fatalf("code %q, want %q (%v)", got, c.code, err)
			}
			if err != nil && atigip.ErrorMessage(err) == "Erreur interne du serveur." {
				t.Fatalf("no French message: %v", err)
			}
		})
	}
}

func TestEmptyTile(t *testing.T) {
	e := mustBuild(t, fixture(), Options{})
	// Middle of the Pacific: no boundary, no post.
	tl, err := e.Tile(context.Background(), atigip.AudiencePublic, "public", 4, 0, 8)
	if err != nil {
		t.Fatal(err)
	}
	if !tl.Empty || tl.Data != nil || tl.ETag == "" {
		t.Fatalf("want empty tile with an etag, got empty=%v len=%d etag=%q", tl.Empty, len(tl.Data), tl.ETag)
	}
	// France at z0 is not empty.
	if tl, _ := e.Tile(context.Background(), atigip.AudiencePublic, "public", 0, 0, 0); tl.Empty {
		t.Fatal("z0 tile empty")
	}
}

// TestYAxisAndPlacement checks every visible post against orb's own tile
// math (maptile.At), an implementation independent of ours: the post is
// drawn in that tile and nowhere else among its neighbours.
func TestYAxisAndPlacement(t *testing.T) {
	d := fixture()
	e := mustBuild(t, d, Options{ClusterBelow: -1})
	for _, p := range d.Posts {
		if !PostVisible(p, orgOf(d, p.OrganisationID), atigip.AudiencePublic) {
			continue
		}
		for z := 0; z <= 16; z += 4 {
			want := maptile.At(orb.Point{p.Location.Lon, p.Location.Lat}, maptile.Zoom(z))
			for dx := -1; dx <= 1; dx++ {
				for dy := -1; dy <= 1; dy++ {
					x, y := int(want.X)+dx, int(want.Y)+dy
					if x < 0 || y < 0 || x >= 1<<z || y >= 1<<z {
						continue
					}
					ls, _ := decode(t, e, atigip.AudiencePublic, "public", z, x, y)
					found := false
					if l := layer(ls, LayerPosts); l != nil {
						for _, f := range l.Features {
							if fid(f.ID) == uint64(p.ID) {
								found = true
								// Back to WGS84: within one tile unit of the truth.
								pt := f.Geometry.(orb.Point)
								n := float64(uint64(1) << z)
								lon := (float64(x)+(pt[0]+0.5)/4096)/n*360 - 180
								_, lat := unmercator(0, (float64(y)+(pt[1]+0.5)/4096)/n)
								if math.Abs(lon-p.Location.Lon) > 360/n/4096 || math.Abs(lat-p.Location.Lat) > 360/n/4096 {
									t.Errorf("post %d z%d at %.5f,%.5f want %.5f,%.5f", p.ID, z, lon, lat, p.Location.Lon, p.Location.Lat)
								}
							}
						}
					}
					if found != (dx == 0 && dy == 0) {
						t.Errorf("post %d z%d: found=%v in %d/%d, orb says %d/%d", p.ID, z, found, x, y, want.X, want.Y)
					}
				}
			}
		}
	}
	// North is up: Lille's row is above Marseille's.
	lille := maptile.At(orb.Point{3.0573, 50.6292}, 8)
	marseille := maptile.At(orb.Point{5.3698, 43.2965}, 8)
	if lille.Y >= marseille.Y {
		t.Fatalf("y axis: Lille row %d, Marseille row %d", lille.Y, marseille.Y)
	}
}

// TestTileEdge puts posts exactly on tile edges and corners: each is drawn
// in exactly one tile per zoom.
func TestTileEdge(t *testing.T) {
	d := fixture()
	// x = 0.5+1/64 and y = 11/32 are edges at every zoom ≥ 6.
	lon, _ := unmercator(0.5+1.0/64, 0)
	_, lat := unmercator(0, 11.0/32)
	edge := *d.Posts[0]
	edge.ID, edge.Location = 99, atigip.Point{Lon: lon, Lat: lat}
	d.Posts = append(d.Posts, &edge)
	for _, cb := range []int{-1, 13} {
		e := mustBuild(t, d, Options{ClusterBelow: cb})
		for z := 6; z <= 16; z++ {
			n := 1 << z
			cx, cy := n/2+n/64, n*11/32
			count := 0
			for x := cx - 1; x <= cx; x++ {
				for y := cy - 1; y <= cy; y++ {
					ls, _ := decode(t, e, atigip.AudiencePublic, "public", z, x, y)
					if l := layer(ls, LayerPosts); l != nil {
						for _, f := range l.Features {
							if fid(f.ID) == 99 {
								count++
							}
						}
					}
				}
			}
			if count != 1 {
				t.Errorf("cluster below %d, z%d: edge post drawn %d times", cb, z, count)
			}
		}
	}
}

// TestAudience checks which posts and which fields each tileset carries.
func TestAudience(t *testing.T) {
	e := mustBuild(t, fixture(), Options{ClusterBelow: -1})
	z := 10
	tl := maptile.At(orb.Point{4.8357, 45.7640}, maptile.Zoom(z))
	ids := func(ts string, a atigip.Audience) map[uint64]map[string]any {
		out := map[uint64]map[string]any{}
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				ls, _ := decode(t, e, a, ts, z, int(tl.X)+dx, int(tl.Y)+dy)
				if l := layer(ls, LayerPosts); l != nil {
					for _, f := range l.Features {
						out[fid(f.ID)] = f.Properties
					}
				}
			}
		}
		return out
	}
	pub := ids("public", atigip.AudiencePublic)
	jus := ids("justice", atigip.AudienceJustice)
	for _, c := range []struct {
		id        uint64
		pub, just bool
	}{{10, true, true}, {11, true, true}, {12, false, true}, {13, false, false}, {14, false, false}} {
		if _, ok := pub[c.id]; ok != c.pub {
			t.Errorf("post %d in public: %v, want %v", c.id, ok, c.pub)
		}
		if _, ok := jus[c.id]; ok != c.just {
			t.Errorf("post %d in justice: %v, want %v", c.id, ok, c.just)
		}
	}
	if pub[10]["places_left"] != nil || pub[10]["contact_email"] != nil || pub[10]["contact_name"] != nil {
		t.Errorf("public post carries justice fields: %v", pub[10])
	}
	if jus[10]["places_left"] != float64(2) || jus[10]["contact_email"] != "tuteur@mairie.example.fr" {
		t.Errorf("justice post lacks places left or contact: %v", jus[10])
	}
	for _, p := range pub {
		for k := range p {
			if !fieldAllowed[atigip.AudiencePublic][LayerPosts][k] {
				t.Errorf("public field %q not on the whitelist", k)
			}
		}
	}
}

// TestClusterCounts: each visible post is in exactly one feature per zoom.
func TestClusterCounts(t *testing.T) {
	d := fixture()
	// A dense grid around Lyon plus the fixture.
	for i := 0; i < 400; i++ {
		p := *d.Posts[0]
		p.ID = int64(1000 + i)
		p.Location = atigip.Point{Lon: 4.7 + float64(i%20)*0.013, Lat: 45.6 + float64(i/20)*0.011}
		d.Posts = append(d.Posts, &p)
	}
	e := mustBuild(t, d, Options{})
	for _, ts := range []string{"public", "justice"} {
		a := Tilesets[ts]
		want := 0
		for _, p := range d.Posts {
			if PostVisible(p, orgOf(d, p.OrganisationID), a) {
				want++
			}
		}
		for z := 0; z <= 14; z++ {
			got := 0
			clusters := 0
			lv := e.snap.Load().posts[audIndex(a)].at(z)
			// Walk only the tiles holding items, found from the level itself.
			seen := map[[2]uint32]bool{}
			for _, it := range lv {
				tx, ty := tileOf(it.x, it.y, z)
				if seen[[2]uint32{tx, ty}] {
					continue
				}
				seen[[2]uint32{tx, ty}] = true
				ls, _ := decode(t, e, a, ts, z, int(tx), int(ty))
				for _, f := range layer(ls, LayerPosts).Features {
					got += int(f.Properties["point_count"].(float64))
					if f.Properties["cluster"] == true {
						clusters++
					}
				}
			}
			if got != want {
				t.Errorf("%s z%d: Σ point_count = %d, want %d", ts, z, got, want)
			}
			if z < 8 && clusters == 0 {
				t.Errorf("%s z%d: no cluster", ts, z)
			}
			if z >= 13 && clusters != 0 {
				t.Errorf("%s z%d: %d clusters above ClusterBelow", ts, z, clusters)
			}
		}
	}
}

func orgOf(d Data, id int64) *atigip.Organisation {
	for _, o := range d.Organisations {
		if o.ID == id {
			return o
		}
	}
	return nil
}

// TestPolygonValidity decodes floor-space and boundary polygons at many
// zooms: closed rings, no repeated point, exterior positive and holes
// negative by the MVT surveyor's formula.
func TestPolygonValidity(t *testing.T) {
	e := mustBuild(t, fixture(), Options{})
	check := func(z, x, y int) int {
		ls, _ := decode(t, e, atigip.AudiencePublic, "public", z, x, y)
		n := 0
		for _, l := range ls {
			if l.Name != LayerFloorSpaces && l.Name != LayerBoundaries {
				continue
			}
			for _, f := range l.Features {
				var polys orb.MultiPolygon
				switch g := f.Geometry.(type) {
				case orb.Polygon:
					polys = orb.MultiPolygon{g}
				case orb.MultiPolygon:
					polys = g
				default:
					t.Fatalf("%s: %T", l.Name, f.Geometry)
				}
				for _, p := range polys {
					for i, r := range p {
						n++
						if len(r) < 4 || r[0] != r[len(r)-1] {
							t.Fatalf("z%d %s: ring %d not closed or too short: %v", z, l.Name, i, r)
						}
						for j := 1; j < len(r); j++ {
							if r[j] == r[j-1] {
								t.Fatalf("z%d %s: repeated point", z, l.Name)
							}
						}
						if a := ringArea(r); (i == 0 && a <= 0) || (i > 0 && a >= 0) {
							t.Fatalf("z%d %s: ring %d area %v has the wrong winding", z, l.Name, i, a)
						}
					}
				}
			}
		}
		return n
	}
	total := 0
	for z := 0; z <= 18; z += 2 {
		tl := maptile.At(orb.Point{4.9, 45.67}, maptile.Zoom(z))
		total += check(z, int(tl.X), int(tl.Y))
	}
	if total == 0 {
		t.Fatal("no polygon checked")
	}
	// The floor space is drawn at z16 with its attributes.
	tl := maptile.At(orb.Point{4.9, 45.67}, 16)
	ls, _ := decode(t, e, atigip.AudiencePublic, "public", 16, int(tl.X), int(tl.Y))
	fl := layer(ls, LayerFloorSpaces)
	if fl == nil || len(fl.Features) != 1 || fl.Features[0].Properties["name"] != "Atelier A" {
		t.Fatalf("floor space missing at z16: %v", fl)
	}
}

func TestSnapRing(t *testing.T) {
	cases := []struct {
		name string
		in   orb.Ring
		want int // points after cleaning, 0 for dropped
	}{
		{"square", orb.Ring{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}, 5},
		{"duplicates", orb.Ring{{0, 0}, {0.2, 0}, {10, 0}, {10, 0.4}, {10, 10}, {0, 10}, {0, 0}}, 5},
		{"collapsed", orb.Ring{{0, 0}, {0.3, 0}, {0.3, 0.3}, {0, 0.3}, {0, 0}}, 0},
		{"flat", orb.Ring{{0, 0}, {5, 0}, {10, 0}, {0, 0}}, 0},
		{"spike", orb.Ring{{0, 0}, {10, 0}, {20, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := snapRing(append(orb.Ring{}, c.in...))
			if len(got) != c.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}

func TestAbbreviate(t *testing.T) {
	for n, want := range map[int]string{7: "7", 999: "999", 1000: "1k", 1250: "1,3k", 9960: "10k", 12400: "12k"} {
		if got := abbreviate(n); got != want {
			t.Errorf("abbreviate(%d) = %q, want %q", n, got, want)
		}
	}
}

func ExampleEngine_Tile() {
	e, _ := Build(fixture(), Options{})
	t, _ := e.Tile(context.Background(), atigip.AudiencePublic, "public", 0, 0, 0)
	fmt.Println(t.Empty, len(t.ETag) > 2)
	// Output: false true
}

// TestEncodedLayers checks that the tiles whose boundaries or prisons
// layer was encoded in advance are byte for byte the tiles encoded in one
// go, for both audiences, at every such tile of the low zooms, and that
// the encoded boundaries cover France (metropolitan and overseas) at every
// such zoom.
func TestEncodedLayers(t *testing.T) {
	e := mustBuild(t, demoData(t, 0.02), Options{})
	snap := e.snap.Load()
	perZoom := map[int]int{}
	keys := map[cacheKey]bool{}
	for k := range e.lowBounds.tiles {
		perZoom[int(k.z)]++
		keys[k] = true
	}
	for aud := range audiences {
		if len(snap.lowPrisons[aud]) == 0 {
			t.Fatal("no encoded prisons layer")
		}
		for k := range snap.lowPrisons[aud] {
			keys[k] = true
		}
	}
	for k := range keys {
		for aud := range audiences {
			got, err := e.renderTile(snap, snap.posts[aud], aud, int(k.z), k.x, k.y, true)
			if err != nil {
				t.Fatal(err)
			}
			want, err := e.renderTile(snap, snap.posts[aud], aud, int(k.z), k.x, k.y, false)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%d/%d/%d aud %d: %d bytes with the encoded layer, %d encoded in one go", k.z, k.x, k.y, aud, len(got), len(want))
			}
		}
	}
	for z := 0; z <= encodedZoom; z++ {
		if perZoom[z] == 0 {
			t.Errorf("z%d: no encoded boundaries tile", z)
		}
	}
	// Paris, Cayenne and Saint-Denis de La Réunion at the last encoded zoom.
	for _, p := range [][2]float64{{2.35, 48.85}, {-52.33, 4.92}, {55.45, -20.88}} {
		mx, my := mercator(p[0], p[1])
		x, y := tileOf(mx, my, encodedZoom)
		if e.lowBounds.tiles[cacheKey{z: encodedZoom, x: x, y: y}] == nil {
			t.Errorf("no encoded boundaries at %v", p)
		}
	}
	t.Logf("encoded boundaries tiles per zoom: %v", perZoom)
}

func TestCacheStats(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name                string
		cacheBytes          int64
		hits, misses, limit int64
		entries             int
	}{
		{"default", 0, 2, 1, 64<<20 - 8<<20, 1}, // an eighth holds the filtered pyramids
		{"disabled", -1, 0, 0, -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustBuild(t, fixture(), Options{CacheBytes: tc.cacheBytes})
			for i := 0; i < 3; i++ {
				if _, err := e.Tile(ctx, atigip.AudiencePublic, "public", 5, 16, 11); err != nil {
					t.Fatal(err)
				}
			}
			st := e.CacheStats()
			if int64(st.Hits) != tc.hits || int64(st.Misses) != tc.misses || st.Entries != tc.entries || st.Limit != tc.limit {
				t.Fatalf("stats %+v, want %d hits, %d misses, %d entries, limit %d", st, tc.hits, tc.misses, tc.entries, tc.limit)
			}
			if tc.entries > 0 && st.Bytes <= 0 {
				t.Fatalf("stats %+v: no bytes counted", st)
			}
		})
	}
}
