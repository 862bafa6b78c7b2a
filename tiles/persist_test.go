package tiles

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/statefile"
)

// quietOptions are the options of an engine with a saved state at path.
func quietOptions(path string) Options {
	return Options{StatePath: path, Logger: slog.New(slog.DiscardHandler)}
}

// catchUp applies the feed after the engine's position, as Follow does.
func catchUp(t *testing.T, e *Engine, s atigip.Store) {
	t.Helper()
	ctx := context.Background()
	for {
		cs, err := s.Changes(ctx, e.Seq(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			return
		}
		if _, err := e.Apply(ctx, cs); err != nil {
			t.Fatal(err)
		}
	}
}

// stateValues is st with records as values, to compare two states
// whatever their pointers and string sharing.
func stateValues(st *state) map[string]any {
	orgs := map[int64]orgRec{}
	for id, o := range st.orgs {
		orgs[id] = *o
	}
	posts := map[int64]string{}
	for id, r := range st.posts {
		c := *r
		var org orgRec
		if c.org != nil {
			org = *c.org
		}
		c.org = nil
		posts[id] = fmt.Sprintf("%+v %+v", c, org)
	}
	places := map[string]string{}
	for id, p := range st.prisons {
		b, _ := json.Marshal(p)
		places[fmt.Sprint("prison ", id)] = string(b)
	}
	for id, f := range st.floors {
		b, _ := json.Marshal(f)
		places[fmt.Sprint("floor ", id)] = string(b)
	}
	return map[string]any{"orgs": orgs, "posts": posts, "places": places}
}

// mutate changes posts, an organisation and a floor space in the store:
// what a restarted engine must catch up with.
func mutate(t *testing.T, s atigip.Store, e *Engine) {
	t.Helper()
	ctx := context.Background()
	posts := atigip.Of[*atigip.Post](s)
	var ids []int64
	for id := range e.state.posts {
		ids = append(ids, id)
		if len(ids) == 3 {
			break
		}
	}
	p, err := posts.Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	p.Title = "Entretien des espaces verts (renommé après la sauvegarde)"
	p.Location.Lon += 0.05
	if err := posts.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	other := *p
	other.ID, other.Version, other.Title = 0, 0, "Poste créé après la sauvegarde"
	if err := posts.Entities.Create(ctx, &other); err != nil {
		t.Fatal(err)
	}
	gone, err := posts.Get(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := posts.Entities.Delete(ctx, gone.ID, gone.Version); err != nil {
		t.Fatal(err)
	}
	q, err := posts.Get(ctx, ids[2])
	if err != nil {
		t.Fatal(err)
	}
	orgs := atigip.Of[*atigip.Organisation](s)
	o, err := orgs.Get(ctx, q.OrganisationID)
	if err != nil {
		t.Fatal(err)
	}
	o.Name, o.Active = "Structure renommée et fermée", false
	if err := orgs.Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	fs, err := atigip.Of[*atigip.FloorSpace](s).All(ctx, atigip.ListFilter{Limit: 1})
	if err != nil || len(fs) == 0 {
		t.Fatalf("floor spaces: %v", err)
	}
	f := fs[0]
	if f.Status == atigip.FloorAvailable {
		f.Status = atigip.FloorOccupied
	} else {
		f.Status = atigip.FloorAvailable
	}
	if err := atigip.Of[*atigip.FloorSpace](s).Update(ctx, f); err != nil {
		t.Fatal(err)
	}
}

// TestResumedStateEqualsRebuilt: an engine restarted from its saved state,
// then caught up with the changes committed since, holds the same records
// and draws the same tiles as an engine loaded from the whole store.
func TestResumedStateEqualsRebuilt(t *testing.T) {
	ctx := context.Background()
	s := openDemoStore(t, 0.02)
	path := filepath.Join(t.TempDir(), "tiles.state")
	first, err := New(ctx, s, quietOptions(path))
	if err != nil {
		t.Fatal(err)
	}
	if first.Resumed() {
		t.Fatal("resumed without a saved state")
	}
	if err := first.SaveState(ctx); err != nil {
		t.Fatal(err)
	}
	saved := first.Seq()
	mutate(t, s, first)

	resumed, err := New(ctx, s, quietOptions(path))
	if err != nil {
		t.Fatal(err)
	}
	if !resumed.Resumed() || resumed.Seq() != saved {
		t.Fatalf("resumed %v at seq %d, want true at %d", resumed.Resumed(), resumed.Seq(), saved)
	}
	catchUp(t, resumed, s)
	rebuilt, err := New(ctx, s, quietOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Seq() != rebuilt.Seq() {
		t.Fatalf("seq %d after catch-up, rebuilt at %d", resumed.Seq(), rebuilt.Seq())
	}
	if got, want := stateValues(resumed.state), stateValues(rebuilt.state); !reflect.DeepEqual(got, want) {
		t.Fatal("resumed and caught-up state differs from the rebuilt one")
	}
	// And the drawings: every tile around every post, at every zoom level
	// of the pyramid, for both audiences.
	n := 0
	for _, r := range rebuilt.state.posts {
		for z := 0; z <= 15; z += 3 {
			x, y := tileOf(r.x, r.y, z)
			for _, a := range audiences {
				t1, err1 := resumed.Tile(ctx, a, string(a), z, int(x), int(y))
				t2, err2 := rebuilt.Tile(ctx, a, string(a), z, int(x), int(y))
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				if !bytes.Equal(t1.Data, t2.Data) {
					t.Fatalf("tile %s %d/%d/%d differs", a, z, x, y)
				}
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no tile compared")
	}
}

// TestSavedStateNotTrusted: a saved state is left for the store when the
// feed was pruned past it (older than the retention), when it comes from
// another store, or when it is damaged.
func TestSavedStateNotTrusted(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		spoil func(t *testing.T, s atigip.Store, e *Engine, path string) atigip.Store
	}{
		{"feed pruned past it", func(t *testing.T, s atigip.Store, e *Engine, path string) atigip.Store {
			mutate(t, s, e)
			if _, err := s.(atigip.FeedPruner).PruneChanges(ctx, time.Now().Add(time.Hour), time.Now()); err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"another store", func(t *testing.T, s atigip.Store, e *Engine, path string) atigip.Store {
			// Same seed, same entities, same feed positions: only the
			// change found at the saved position tells them apart.
			return openDemoStore(t, 0.02)
		}},
		{"damaged file", func(t *testing.T, s atigip.Store, e *Engine, path string) atigip.Store {
			mutate(t, s, e)
			if err := os.WriteFile(path, []byte("not a state"), 0o600); err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openDemoStore(t, 0.02)
			path := filepath.Join(t.TempDir(), "tiles.state")
			e, err := New(ctx, s, quietOptions(path))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.SaveState(ctx); err != nil {
				t.Fatal(err)
			}
			s = tt.spoil(t, s, e, path)
			again, err := New(ctx, s, quietOptions(path))
			if err != nil {
				t.Fatal(err)
			}
			if again.Resumed() {
				t.Fatal("resumed from a state that cannot be caught up")
			}
			rebuilt, err := New(ctx, s, quietOptions(""))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stateValues(again.state), stateValues(rebuilt.state)) {
				t.Fatal("the engine that did not resume differs from a rebuilt one")
			}
		})
	}
}

// TestOutlineCache: the boundary outlines read back from the cache are
// the ones built from the embedded IGN files, and a cache of other
// outlines (or another format) is rebuilt.
func TestOutlineCache(t *testing.T) {
	const extent = 4096
	built, err := newBoundarySet(extent)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiles.state.outlines")
	if _, err := cachedBoundarySet(extent, path); err != nil { // writes the cache
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no cache written: %v", err)
	}
	read, err := cachedBoundarySet(extent, path)
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b *boundarySet) bool {
		eq := func(x, y []*outline) bool {
			if len(x) != len(y) {
				return false
			}
			for i := range x {
				if x[i].id != y[i].id || x[i].bound != y[i].bound || !reflect.DeepEqual(x[i].props, y[i].props) ||
					len(x[i].levels) != len(y[i].levels) {
					return false
				}
				for z := range x[i].levels {
					lx, ly := x[i].levels[z], y[i].levels[z]
					if lx.zoom != ly.zoom || len(lx.pieces) != len(ly.pieces) {
						return false
					}
					for k, p := range lx.pieces {
						q, ok := ly.pieces[k]
						if !ok || !slices.Equal(p.xy, q.xy) || !slices.Equal(p.rings, q.rings) {
							return false
						}
					}
					// Shared levels stay shared (one sliced copy in memory).
					if z > 0 && (lx == x[i].levels[len(x[i].levels)-1]) != (ly == y[i].levels[len(y[i].levels)-1]) {
						return false
					}
				}
			}
			return true
		}
		return a.extent == b.extent && a.bound == b.bound && eq(a.regions, b.regions) && eq(a.departements, b.departements)
	}
	if !same(built, read) {
		t.Fatal("outlines read from the cache differ from the built ones")
	}
	// A cache from other outlines is not trusted.
	var s savedOutlines
	if err := statefile.Load(path, &s); err != nil {
		t.Fatal(err)
	}
	s.Source[0] ^= 1
	s.Regions = s.Regions[:1]
	if err := statefile.Save(path, &s); err != nil {
		t.Fatal(err)
	}
	again, err := cachedBoundarySet(extent, path)
	if err != nil {
		t.Fatal(err)
	}
	if !same(built, again) {
		t.Fatal("a cache of other outlines was used")
	}
}
