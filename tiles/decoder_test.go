package tiles

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atigip/atigip360/internal/atigip"
)

// webDir holds package.json with the npm decoder and its node_modules.
const webDir = "../internal/web"

// requireNode fails (never skips, so CI cannot pass without it) when node
// or the npm packages are missing.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: install Node.js, then run `make web`")
	}
	for _, p := range []string{"@mapbox/vector-tile", "pbf"} {
		if _, err := os.Stat(filepath.Join(webDir, "node_modules", p, "package.json")); err != nil {
			t.Fatalf("npm module %s missing from internal/web/node_modules: run `make web`", p)
		}
	}
	return node
}

type decodedFeature struct {
	ID       *float64       `json:"id"`
	Type     string         `json:"type"`
	Props    map[string]any `json:"props"`
	Coords   []float64      `json:"coords"`
	Extent   int            `json:"extent"`
	Version  int            `json:"version"`
	Polygons int            `json:"polygons"`
}

type decodedTile struct {
	Z, X, Y int
	Layers  map[string][]decodedFeature `json:"layers"`
}

// TestIndependentDecoder writes the public tiles of every zoom 0..15 that
// hold a post or a floor space of a small demo set, decodes them with npm's
// @mapbox/vector-tile under node, and checks the result against the store:
// every post once per zoom with its exact attributes and position, the
// clusters' counts summing to the visible posts, polygons well wound.
func TestIndependentDecoder(t *testing.T) {
	node := requireNode(t)
	d := demoData(t, 0.02)
	e := mustBuild(t, d, Options{})
	orgs := map[int64]*atigip.Organisation{}
	for _, o := range d.Organisations {
		orgs[o.ID] = o
	}
	visible := map[int64]*atigip.Post{}
	for _, p := range d.Posts {
		if PostVisible(p, orgs[p.OrganisationID], atigip.AudiencePublic) {
			visible[p.ID] = p
		}
	}
	if len(visible) < 100 {
		t.Fatalf("demo set too small: %d visible posts", len(visible))
	}
	const maxZ = 15
	dir := t.TempDir()
	type entry struct {
		Z    int    `json:"z"`
		X    int    `json:"x"`
		Y    int    `json:"y"`
		File string `json:"file"`
	}
	var manifest struct {
		Tiles []entry `json:"tiles"`
	}
	seen := map[[3]int]bool{}
	add := func(z int, x, y uint32) {
		k := [3]int{z, int(x), int(y)}
		if seen[k] {
			return
		}
		seen[k] = true
		tl, err := e.Tile(context.Background(), atigip.AudiencePublic, "public", z, int(x), int(y))
		if err != nil {
			t.Fatal(err)
		}
		if tl.Empty {
			t.Fatalf("tile %d/%d/%d with data is empty", z, x, y)
		}
		name := fmt.Sprintf("%d-%d-%d.mvt", z, x, y)
		if err := os.WriteFile(filepath.Join(dir, name), tl.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		manifest.Tiles = append(manifest.Tiles, entry{z, int(x), int(y), name})
	}
	snap := e.snap.Load()
	for z := 0; z <= maxZ; z++ {
		for _, it := range snap.posts[audPublic].at(z) {
			x, y := tileOf(it.x, it.y, z)
			add(z, x, y)
		}
		if z >= 12 {
			for _, f := range snap.floorLs {
				x, y := tileOf((f.bound.Min[0]+f.bound.Max[0])/2, (f.bound.Min[1]+f.bound.Max[1])/2, z)
				add(z, x, y)
			}
		}
	}
	mb, _ := json.Marshal(manifest)
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), mb, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(webDir, "testdata", "decode.mjs"), dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node decoder: %v", err)
	}
	var tiles []decodedTile
	if err := json.Unmarshal(out, &tiles); err != nil {
		t.Fatal(err)
	}
	if len(tiles) != len(manifest.Tiles) {
		t.Fatalf("decoded %d tiles of %d", len(tiles), len(manifest.Tiles))
	}

	sum := make([]int, maxZ+1)
	once := make([]map[int64]int, maxZ+1)
	floors := 0
	for i := range once {
		once[i] = map[int64]int{}
	}
	allowed := publicFields // the test's own list, not the encoder's
	for _, tl := range tiles {
		unit := 360 / math.Exp2(float64(tl.Z)) / 4096 // one tile unit in degrees of longitude
		for name, fs := range tl.Layers {
			for _, f := range fs {
				if f.Extent != 4096 || f.Version != 2 {
					t.Fatalf("%s: extent %d version %d", name, f.Extent, f.Version)
				}
				for k := range f.Props {
					if !allowed[name][k] {
						t.Fatalf("%d/%d/%d %s: field %q not on the public list", tl.Z, tl.X, tl.Y, name, k)
					}
				}
			}
		}
		for _, f := range tl.Layers[LayerFloorSpaces] {
			if f.Polygons < 1 {
				t.Fatalf("floor space decoded as %s with %d polygons", f.Type, f.Polygons)
			}
			floors++
		}
		for _, f := range tl.Layers[LayerPosts] {
			if f.Type != "Point" || f.ID == nil {
				t.Fatalf("post feature %+v", f)
			}
			n := int(f.Props["point_count"].(float64))
			sum[tl.Z] += n
			if f.Props["cluster"] == true {
				continue
			}
			id := int64(*f.ID)
			p := visible[id]
			if p == nil {
				t.Fatalf("z%d: post %d is not a visible public post", tl.Z, id)
			}
			once[tl.Z][id]++
			// Position: @mapbox/vector-tile's own projection.
			lat := p.Location.Lat
			if math.Abs(f.Coords[0]-p.Location.Lon) > 1.01*unit || math.Abs(f.Coords[1]-lat) > 1.01*unit {
				t.Fatalf("z%d post %d at %v, store says %v", tl.Z, id, f.Coords, p.Location)
			}
			// Attributes: exactly the store's, as whitelisted.
			want := storePostProps(p, orgs[p.OrganisationID], atigip.AudiencePublic)
			if len(want) != len(f.Props) {
				t.Fatalf("post %d: %d attributes, want %d: %v", id, len(f.Props), len(want), f.Props)
			}
			for k, v := range want {
				if fmt.Sprint(normalise(v)) != fmt.Sprint(normalise(f.Props[k])) {
					t.Fatalf("post %d %s = %v, store gives %v", id, k, f.Props[k], v)
				}
			}
			if f.Props["title"] != p.Title || f.Props["minors_accepted"] != p.MinorsAccepted {
				t.Fatalf("post %d: title or minors differ from the store", id)
			}
		}
	}
	for z := 0; z <= maxZ; z++ {
		if sum[z] != len(visible) {
			t.Errorf("z%d: Σ point_count = %d, want %d visible posts", z, sum[z], len(visible))
		}
		if z >= e.opts.ClusterBelow {
			if len(once[z]) != len(visible) {
				t.Errorf("z%d: %d posts drawn, want %d", z, len(once[z]), len(visible))
			}
			for id, n := range once[z] {
				if n != 1 {
					t.Errorf("z%d: post %d drawn %d times", z, id, n)
				}
			}
		}
	}
	if floors == 0 && len(d.FloorSpaces) > 0 {
		t.Error("no floor space decoded")
	}
	t.Logf("%d tiles decoded by node, %d visible posts", len(tiles), len(visible))
}

// storePostProps is what a post's tile attributes must be, written from
// the domain values independently of the engine's compact records.
func storePostProps(p *atigip.Post, org *atigip.Organisation, a atigip.Audience) map[string]any {
	all := map[string]any{
		"cluster": false, "point_count": 1, "point_count_abbreviated": "1",
		"title": p.Title, "rome": strings.Join(p.ROMECodes, ","), "domains": domainString(domainBits(p.ROMECodes)),
		"city": p.Address.City, "commune": p.Address.Commune, "departement": p.Address.Departement,
		"hours_per_week": math.Round(p.Schedule.HoursPerWeek()*10) / 10, "schedule": scheduleText(p.Schedule),
		"weekends": p.Schedule.Weekends(), "minors_accepted": p.MinorsAccepted,
		"wheelchair_access": p.WheelchairAccess, "public_transport": p.PublicTransport,
		"medical_check": p.MedicalCheck || p.Risky || p.CareSetting,
		"status":        string(p.Status), "visibility": string(p.Visibility),
		"places": p.Places, "places_left": p.PlacesLeft(),
	}
	if t := excerpt(p.Description, 280); t != "" {
		all["tasks"] = t
	}
	if p.Address.Street != "" || p.Address.City != "" {
		all["address"] = strings.TrimSpace(strings.Join(nonEmpty(p.Address.Street, p.Address.Postcode+" "+p.Address.City), ", "))
	}
	if org != nil {
		all["organisation"], all["organisation_kind"] = org.Name, atigip.OrganisationKinds[org.OrgKind]
		if len(org.Contacts) > 0 {
			c := org.Contacts[0]
			for k, v := range map[string]string{"contact_name": c.Name, "contact_role": c.Role, "contact_email": c.Email, "contact_phone": c.Phone} {
				if v != "" {
					all[k] = v
				}
			}
		}
	}
	out := map[string]any{}
	for _, k := range AllowedFields(LayerPosts, a) {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out
}

// normalise makes Go and JSON numbers comparable.
func normalise(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return v
}
